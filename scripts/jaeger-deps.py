#!/usr/bin/env python3
"""Jaeger's dependency links for Jaeger documents, written independently of flowscope.

A line-by-line transcription of jaegertracing/spark-dependencies' SpansToDependencyLinks
(the version with the peer-service tag) and of DependenciesSparkHelper's sum per
(parent, child). It reads the Jaeger layouts flowscope reads (UI JSON in its wrappings,
protobuf-JSON batches, storage-model JSON, Elasticsearch documents one per line), groups spans
by trace id across all the files given, and prints [{parent, child, callCount}] sorted by
parent then child, service names lower-cased as flowscope (and Zipkin) spell them.

It writes the expected files tests/ingest_jaeger.rs compares `flowscope deps` with:

    scripts/jaeger-deps.py FILE... > tests/fixtures/expected-jaeger-deps/NAME.json
"""

import base64
import json
import sys


def span_id(text):
    """Hex ids by value (padding does not matter), base64 ids decoded, others as written."""
    text = text.strip()
    if text and len(text) <= 16 and all(c in "0123456789abcdefABCDEF" for c in text):
        return int(text, 16)
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) in (8, 16):
            return int.from_bytes(raw[-8:], "big")
    except ValueError:
        pass
    return text


def trace_id(text):
    text = text.strip()
    if all(c in "0123456789abcdefABCDEF" for c in text) and len(text) <= 32:
        return int(text, 16)
    try:
        raw = base64.b64decode(text, validate=True)
        if len(raw) in (8, 16):
            return int.from_bytes(raw, "big")
    except ValueError:
        pass
    return text


def tag_value(tag):
    for key in ("value", "vStr", "v_str"):
        if key in tag:
            return str(tag[key])
    return None


def tags_of(span):
    out = {}
    for t in span.get("tags") or []:
        out[t.get("key")] = tag_value(t)
    for k, v in (span.get("tag") or {}).items():
        out[k.replace("@", ".")] = v if isinstance(v, str) else json.dumps(v)
    return out


def service_of(process):
    if not process:
        return None
    return process.get("serviceName") or process.get("service_name")


def spans_of(doc):
    """(trace id, span dict with 'service', 'tags', 'id', 'refs') for every span in a document."""
    if isinstance(doc, list):
        for d in doc:
            yield from spans_of(d)
        return
    if not isinstance(doc, dict):
        return
    if "data" in doc:
        yield from spans_of(doc["data"])
        return
    if "batch" in doc:
        process = doc["batch"].get("process")
        for s in doc["batch"].get("spans") or []:
            yield one(s, s.get("process") or process, None)
        return
    if "spans" in doc and "traceID" not in doc and "processes" not in doc:
        for s in doc["spans"]:
            yield one(s, s.get("process"), None)
        return
    if "spans" in doc:
        processes = doc.get("processes") or {}
        for s in doc["spans"]:
            yield one(s, s.get("process") or processes.get(s.get("processID")), None)
        return
    if "_source" in doc:
        yield from spans_of(doc["_source"])
        return
    if "spanID" in doc or "spanId" in doc or "span_id" in doc:
        yield one(doc, doc.get("process"), None)


def one(s, process, _):
    tid = s.get("traceID") or s.get("traceId") or s.get("trace_id")
    sid = s.get("spanID") or s.get("spanId") or s.get("span_id")
    refs = []
    for r in s.get("references") or []:
        target = r.get("spanID") or r.get("spanId") or r.get("span_id")
        if target is not None:
            refs.append(span_id(target))
    if not refs and s.get("parentSpanID"):
        refs.append(span_id(s["parentSpanID"]))
    # Jaeger writes an all-zero id for "no parent".
    refs = [r for r in refs if r != 0]
    service = service_of(process)
    return trace_id(tid), {
        "id": span_id(sid),
        "refs": refs,
        "service": service.lower() if service else None,
        "tags": tags_of(s),
    }


def kind(span):
    return (span["tags"].get("span.kind") or "").lower()


def trace_links(trace, peer_service_tag="peer.service"):
    span_map = {}
    children = {}
    for span in trace:
        for ref in span["refs"]:
            children.setdefault(ref, []).append(span)
        span_map.setdefault(span["id"], []).append(span)
    result = []
    for shared in span_map.values():
        client = server = None
        for span in shared:
            k = kind(span)
            if k in ("client", "producer"):
                client = span["service"]
            elif k in ("server", "consumer"):
                server = span["service"]
            if client is not None and server is not None:
                result.append((client, server))
                break
    for span in trace:
        if not span["refs"] or span["service"] is None:
            continue
        if len(span_map[span["id"]]) > 1 and kind(span) != "client":
            continue
        for ref in span["refs"]:
            parents = span_map.get(ref)
            if parents is None:
                continue
            if len(parents) > 1:
                server = next((p for p in parents if kind(p) == "server"), None)
                if server is not None and server["service"] is not None:
                    result.append((server["service"], span["service"]))
            else:
                parent = parents[0]
                if parent["service"] is None:
                    continue
                result.append((parent["service"], span["service"]))
        if span["id"] not in children:
            target = span["tags"].get(peer_service_tag)
            if target is not None:
                result.append((span["service"], target.strip().lower()))
    return result


def read(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(paths):
    traces = {}
    for path in paths:
        for doc in read(path):
            for tid, span in spans_of(doc):
                traces.setdefault(tid, []).append(span)
    counts = {}
    for trace in traces.values():
        for link in trace_links(trace):
            counts[link] = counts.get(link, 0) + 1
    out = [
        {"parent": p, "child": c, "callCount": n}
        for (p, c), n in sorted(counts.items())
    ]
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
