"""flowscope's aggregate on Apache Spark: `flowscope aggregate INPUT... -o OUT --spark MASTER` submits this.

Spark distributes, shuffles and retries; flowscope's own binary (shipped with --files) reads the
files and links the traces, so there is one implementation of the rules:

  (a) one task per input file pipes it through `flowscope spans FILE --file N`: its spans as
      lines keyed by trace id (after the format was read), its declared elements, a file line;
  (b) the span lines are shuffled by trace id, so a trace whose spans sit in many files comes
      together in one partition;
  (c) each partition of whole traces (with the declared elements as context) is piped through
      `flowscope partial`, which derives every level and prints partial aggregates as JSON rows;
      the declared elements alone make one more partition;
  (d) the rows are merged (links, latency buckets and span counts add up; an instance keeps one
      place) and written as OUT's Parquet tables, with its manifest;
  (e) the shuffled span lines are written as OUT's spans table, bucketed by the CRC-32 of the
      trace id (the shuffle's own partition function, so each bucket is in one partition and
      becomes one directory, spans/bucket=K, as flowscope writes it: src/aggregate/spans.rs).

usage: spark-submit --files FLOWSCOPE spark_job.py JOB.json
  JOB.json: {"inputs": [path, ...], "out": OUT, "partitions": N, "from": T|null, "to": T|null}
  (T an instant, as --from/--to spell it; the spans table keeps every trace, the other tables
  the window's)
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from pyspark import SparkFiles
from pyspark.sql import SparkSession
from pyspark.sql import types as T


def flowscope():
    exe = SparkFiles.get("flowscope")
    if not os.access(exe, os.X_OK):
        os.chmod(exe, 0o755)
    return exe


def spans_of(item):
    """(a): one file's lines; an unreadable file is a warning line, not a failed job."""
    index, path, data = item
    suffix = os.path.basename(path)
    with tempfile.NamedTemporaryFile(suffix="-" + suffix) as f:
        f.write(data)
        f.flush()
        run = subprocess.run(
            [flowscope(), "spans", f.name, "--file", str(index)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    lines = run.stdout.decode("utf-8", "replace").splitlines()
    problem = run.stderr.decode("utf-8", "replace").strip().replace(f.name, path)
    problem = "; ".join(l.removeprefix("flowscope: ") for l in problem.splitlines())
    if run.returncode != 0:
        lines = []
        yield ("W", json.dumps({"path": path, "error": problem or "unreadable"}))
    elif problem:
        yield ("W", json.dumps({"path": path, "warning": problem}))
    for line in lines:
        kind, key, _ = line.split("\t", 2)
        if kind == "F":
            info = json.loads(line.split("\t", 2)[2])
            yield ("F", json.dumps({"index": index, "path": path, **info}))
        elif kind == "D":
            yield ("D", line)
        else:
            yield (key, line)


SPANS_PER_BUCKET = 16384
MAX_BUCKETS = 4096


def buckets_for(spans):
    """The spans table's buckets for this many spans (as flowscope chooses them)."""
    return max(1, min(MAX_BUCKETS, -(-spans // SPANS_PER_BUCKET)))


def bucket_of(key, buckets):
    """A trace's bucket: the CRC-32 of its id, as src/aggregate/spans.rs computes it."""
    return zlib.crc32(key.encode("utf-8")) % buckets


def partial(lines, window=()):
    """(c): a partition's partial aggregate, as rows (of its traces starting in the window)."""
    text = "\n".join(lines) + "\n"
    run = subprocess.run(
        [flowscope(), "partial", *window],
        input=text.encode("utf-8"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=True,
    )
    return run.stdout.decode("utf-8").splitlines()


def progress(sc, stop):
    """Stages and tasks done / total on stderr while the job runs."""
    tracker = sc.statusTracker()
    last = None
    while not stop.is_set():
        parts = []
        for stage in sorted(tracker.getActiveStageIds()):
            info = tracker.getStageInfo(stage)
            if info:
                parts.append(
                    "stage %d: %d/%d tasks" % (stage, info.numCompletedTasks, info.numTasks)
                )
        line = "; ".join(parts)
        if line and line != last:
            print("flowscope: spark " + line, file=sys.stderr, flush=True)
            last = line
        stop.wait(0.5)


def main():
    job = json.load(open(sys.argv[1]))
    inputs, out, partitions = job["inputs"], job["out"], max(1, int(job["partitions"]))
    window = []
    for flag in ("from", "to"):
        if job.get(flag):
            window += ["--" + flag, job[flag]]
    spark = SparkSession.builder.appName("flowscope aggregate").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    stop = threading.Event()
    threading.Thread(target=progress, args=(sc, stop), daemon=True).start()
    started = time.time()

    # (a) one task per file, numbered in the load's order.
    files = sc.union(
        [
            sc.binaryFiles(path, minPartitions=1).map(lambda kv, i=i, p=path: (i, p, kv[1]))
            for i, path in enumerate(inputs)
        ]
    )
    lines = files.flatMap(spans_of).cache()
    declared = lines.filter(lambda kv: kv[0] == "D").map(lambda kv: kv[1]).collect()
    notes = lines.filter(lambda kv: kv[0] in ("F", "W")).collect()
    context = sc.broadcast(["C" + line[1:] for line in declared])
    span_total = sum(json.loads(note).get("spans", 0) for kind, note in notes if kind == "F")
    buckets = buckets_for(span_total)

    # (b) the shuffle: span lines by trace id, a trace's bucket deciding its partition.
    shuffled = lines.filter(lambda kv: kv[0] not in ("D", "F", "W")).partitionBy(
        partitions, partitionFunc=lambda key: bucket_of(key, buckets)
    )
    spans = shuffled.map(lambda kv: kv[1])

    # (c) partials: each partition of whole traces with the declared elements as context.
    def with_context(it):
        it = list(it)
        if not it:
            return []
        return partial(it + context.value, window)

    rows = spans.mapPartitions(with_context)
    if declared:
        rows = rows.union(sc.parallelize([declared], 1).flatMap(partial))
    rows = rows.map(json.loads).cache()

    # (d) the merge.
    def table(name):
        return rows.filter(lambda r: r["table"] == name)

    links = (
        table("link")
        .map(lambda r: ((r["level"], r["parent"], r["child"]), (r["calls"], r["errors"], r["duration_sum"])))
        .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2]))
        .map(lambda kv: kv[0] + kv[1])
    )
    latency = (
        table("latency")
        .map(lambda r: ((r["level"], r["parent"], r["child"], r["bucket"]), r["count"]))
        .reduceByKey(lambda a, b: a + b)
        .map(lambda kv: kv[0] + (kv[1],))
    )
    places = (
        table("place")
        .map(lambda r: (r["instance"], (r["region"], r["zone"], r["service"], r.get("package"))))
        .reduceByKey(lambda a, b: a if a[3] is not None or b[3] is None else a[:3] + (b[3],))
        .map(lambda kv: (kv[0],) + kv[1])
    )
    traces = table("trace").map(
        lambda r: (
            r["id"],
            r["stored_spans"],
            r["spans"],
            r["errors"],
            r.get("root"),
            r.get("start_micros"),
            r["duration_micros"],
        )
    )
    span_count = table("spans").map(lambda r: r["count"]).sum()

    text, long = T.StringType(), T.LongType()

    def write(name, data, fields):
        schema = T.StructType([T.StructField(n, t, True) for n, t in fields])
        spark.createDataFrame(data, schema).write.mode("overwrite").parquet(os.path.join(out, name))

    key = [("level", text), ("parent", text), ("child", text)]
    write("links", links, key + [("calls", long), ("errors", long), ("duration_sum", long)])
    write("latency", latency, key + [("bucket", long), ("count", long)])
    write(
        "places",
        places,
        [("instance", text), ("region", text), ("zone", text), ("service", text), ("package", text)],
    )
    write(
        "traces",
        traces,
        [
            ("id", text),
            ("stored_spans", long),
            ("spans", long),
            ("errors", long),
            ("root", text),
            ("start_micros", long),
            ("duration_micros", long),
        ],
    )

    # (e) the spans, a trace's found by reading one bucket.
    spark.createDataFrame(
        shuffled.map(lambda kv: (bucket_of(kv[0], buckets), kv[0], kv[1])),
        T.StructType(
            [
                T.StructField("bucket", long, False),
                T.StructField("trace", text, False),
                T.StructField("line", text, False),
            ]
        ),
    ).write.mode("overwrite").partitionBy("bucket").parquet(os.path.join(out, "spans"))
    if declared:
        write("declared", sc.parallelize([(line,) for line in declared], 1), [("line", text)])

    # Bytes the shuffles wrote, from Spark's own REST API (what scripts/bench-cluster reports).
    shuffle_bytes = None
    try:
        import urllib.request

        url = "%s/api/v1/applications/%s/stages" % (sc.uiWebUrl, sc.applicationId)
        stages = json.load(urllib.request.urlopen(url, timeout=10))
        shuffle_bytes = sum(st.get("shuffleWriteBytes", 0) for st in stages)
    except Exception:  # the UI may be off; the figure is then left out
        pass

    infos, warnings = [], []
    for kind, note in notes:
        if kind == "F":
            infos.append(json.loads(note))
        else:
            warnings.append(json.loads(note))
    infos.sort(key=lambda i: i["index"])
    for i in infos:
        del i["index"]
        i.pop("spans", None)
    manifest = {
        "format": "flowscope-aggregate",
        "version": 1,
        "spans": int(span_count),
        "inputs": infos,
        "span_buckets": buckets,
        "cluster": {
            "master": sc.master,
            "partitions": partitions,
            "seconds": round(time.time() - started, 3),
            "problems": warnings,
            "shuffle_bytes": shuffle_bytes,
        },
    }
    with open(os.path.join(out, "flowscope-aggregate.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    stop.set()
    for w in warnings:
        print("flowscope: %s: %s" % (w["path"], w.get("error") or w.get("warning")), file=sys.stderr)
    print(
        "flowscope: spark job done: %d files, %d problems, %.1f s"
        % (len(infos), len(warnings), time.time() - started),
        file=sys.stderr,
    )
    spark.stop()


if __name__ == "__main__":
    main()
