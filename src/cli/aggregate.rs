//! `flowscope aggregate` (a load's derivation written as an aggregate directory) and the reading of an aggregate by `deps` and `stats` in place of trace files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{LinkJson, TimeArgs, apply_window, load, print_problems, stats_header, stats_row};
use crate::aggregate::parquet::{self, ReadAggregate};
use crate::aggregate::{Aggregate, InputRow};
use crate::ingest;
use crate::model::Level;

/// `flowscope aggregate PATH… -o OUT [--from --to]`: reads the paths (the traces starting in the
/// window), derives every level in-process and writes the aggregate to the directory OUT (replacing one already there only with `force`). Returns
/// whether anything was read.
pub fn aggregate(
    paths: &[PathBuf],
    out: &Path,
    force: bool,
    time: TimeArgs,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut loaded = load(paths, false)?;
    print_problems(&loaded);
    apply_window(&mut loaded.store, time);
    if loaded.files.is_empty() {
        return Ok(false);
    }
    let inputs = loaded
        .files
        .iter()
        .map(|f| InputRow {
            path: f.path.display().to_string(),
            format: ingest::layout_name(f.format, f.compression),
            bytes: f.bytes,
            warnings: f.report.total(),
        })
        .collect();
    let aggregate = Aggregate::of(&mut loaded.store, inputs);
    parquet::write(&aggregate, Some(&loaded.store), out, force)?;
    let at = |level| aggregate.links.iter().filter(|l| l.level == level).count();
    println!(
        "wrote {}: {} files, {} spans in {} traces; links: {} instance, {} service, {} zone, {} region; {} instances; {:.2} s",
        out.display(),
        aggregate.inputs.len(),
        aggregate.spans,
        aggregate.traces.len(),
        at(Level::Instance),
        at(Level::Service),
        at(Level::Zone),
        at(Level::Region),
        aggregate.places.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// `flowscope spans FILE --file N`: the file's spans and declared elements as lines
/// ([`crate::aggregate::lines`]) on stdout; its warnings on stderr. Returns whether it was read.
pub fn spans(path: &Path, file: u32) -> anyhow::Result<bool> {
    let read = ingest::read_path(path)?;
    if read.report.total() > 0 {
        eprintln!(
            "flowscope: warnings ({}): {}",
            read.report.counts_line(),
            path.display()
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let info = serde_json::json!({
        "format": ingest::layout_name(read.format, read.compression),
        "bytes": read.bytes,
        "warnings": read.report.total(),
        "spans": read.batch.spans.len(),
    });
    writeln!(out, "F\t\t{info}")?;
    crate::aggregate::lines::write_lines(&read.batch, file, &mut out)?;
    out.flush()?;
    Ok(true)
}

/// The partial aggregate of lines of `flowscope spans` (whole traces, and declared elements as
/// `D` lines, or as `C` lines of context): the derivation of the store they build (its traces
/// that start in the window `time`, whose bounds are instants), less what the context alone
/// adds.
pub fn partial_of(input: impl std::io::BufRead, time: TimeArgs) -> (Aggregate, u64) {
    let read = crate::aggregate::lines::store_of_lines(input);
    let mut store = read.store;
    apply_window(&mut store, time);
    let mut aggregate = Aggregate::of(&mut store, Vec::new());
    if let Some(mut context) = read.context {
        aggregate.without(&Aggregate::of(&mut context, Vec::new()));
    }
    (aggregate, read.bad.0)
}

/// `flowscope partial`: [`partial_of`] stdin, printed as rows on stdout; lines that were not
/// lines of `flowscope spans` are counted on stderr.
pub fn partial(time: TimeArgs) -> anyhow::Result<bool> {
    let (aggregate, bad) = partial_of(std::io::stdin().lock(), time);
    if bad > 0 {
        eprintln!("flowscope: warnings ({bad} lines that are not span lines skipped): stdin");
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    aggregate.write_rows(&mut out)?;
    out.flush()?;
    Ok(true)
}

/// The aggregate `paths` name, read, when they name one (`None`: they name trace files). An
/// aggregate is read alone: with other paths, or with a time window (it holds no spans to
/// window), it is an error.
pub fn opened(paths: &[PathBuf], time: TimeArgs) -> anyhow::Result<Option<ReadAggregate>> {
    let aggregates: Vec<&PathBuf> = paths.iter().filter(|p| parquet::is_aggregate(p)).collect();
    let Some(first) = aggregates.first() else {
        return Ok(None);
    };
    anyhow::ensure!(
        paths.len() == 1,
        "{}: an aggregate is read on its own, not with other paths",
        first.display()
    );
    anyhow::ensure!(
        time.from.is_none() && time.to.is_none(),
        "{}: an aggregate holds no spans to window (aggregate the window instead: flowscope aggregate --from --to)",
        first.display()
    );
    let read = parquet::read(first)?;
    for (table, n, example) in &read.skipped {
        eprintln!(
            "flowscope: warnings ({n} damaged {table} rows skipped, e.g. {example}): {}",
            first.display()
        );
    }
    Ok(Some(read))
}

/// `deps` of an aggregate: its links at `level`, sorted by parent then child.
pub fn links_json(aggregate: &Aggregate, level: Level) -> Vec<LinkJson> {
    let mut out: Vec<LinkJson> = aggregate
        .links
        .iter()
        .filter(|l| l.level == level)
        .map(|l| LinkJson {
            parent: l.parent.clone(),
            child: l.child.clone(),
            call_count: l.calls,
            error_count: l.errors,
        })
        .collect();
    out.sort();
    out
}

/// `stats` of an aggregate: one row for it (what it was made from is in its manifest), or JSON.
pub fn print_stats(path: &Path, aggregate: &Aggregate, json: bool) -> anyhow::Result<()> {
    let counts = aggregate.counts();
    let warnings: u64 = aggregate.inputs.iter().map(|i| i.warnings).sum();
    let bytes: u64 = aggregate.inputs.iter().map(|i| i.bytes).sum();
    let mut out = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({
            "aggregate": path.display().to_string(),
            "inputs": aggregate.inputs.iter().map(|i| serde_json::json!({
                "path": i.path, "format": i.format, "bytes": i.bytes, "warnings": i.warnings,
            })).collect::<Vec<_>>(),
            "total": counts,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        stats_header(&mut out)?;
        stats_row(
            &mut out,
            "aggregate",
            &counts,
            warnings,
            bytes,
            0.0,
            &format!("{} (of {} files)", path.display(), aggregate.inputs.len()),
        )?;
    }
    Ok(())
}

/// The job `aggregate --spark` submits (see its docstring for the steps).
const SPARK_JOB: &str = include_str!("../aggregate/spark_job.py");

/// How to reach Spark: `spark-submit`, and the Python that has `pyspark` (for the executors)
/// when it was found through the `PyPI` package.
struct Spark {
    submit: PathBuf,
    python: Option<PathBuf>,
}

/// `spark-submit` from `SPARK_HOME`, else from the `PyPI` `pyspark` package of `PYSPARK_PYTHON`
/// (or `python3`).
fn find_spark() -> anyhow::Result<Spark> {
    if let Some(home) = std::env::var_os("SPARK_HOME") {
        let submit = PathBuf::from(home).join("bin/spark-submit");
        anyhow::ensure!(
            submit.is_file(),
            "{}: no spark-submit there (SPARK_HOME)",
            submit.display()
        );
        return Ok(Spark {
            submit,
            python: std::env::var_os("PYSPARK_PYTHON").map(PathBuf::from),
        });
    }
    let python =
        std::env::var_os("PYSPARK_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from);
    let found = std::process::Command::new(&python)
        .args([
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ])
        .output();
    let home = match found {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => anyhow::bail!(
            "no Spark found: set SPARK_HOME, or install the pyspark package for {} (pip install pyspark; it needs Java 17)",
            python.display()
        ),
    };
    Ok(Spark {
        submit: home.join("bin/spark-submit"),
        python: Some(python),
    })
}

/// `flowscope aggregate PATH… -o OUT --spark MASTER`: the same aggregate made by a Spark job
/// (`spark://host:7077`, `local[N]`) that runs this binary on the executors; Spark's progress and
/// the job's problems go to stderr. `partitions` is the number of partitions of traces; `window`
/// the `--from`/`--to` instants, as given (each partition keeps its traces that start inside).
pub fn aggregate_on_spark(
    paths: &[PathBuf],
    out: &Path,
    force: bool,
    master: &str,
    partitions: usize,
    window: [&Option<String>; 2],
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let files: Vec<String> = ingest::expand_paths(paths)?
        .into_iter()
        .map(|p| std::path::absolute(&p).unwrap_or(p).display().to_string())
        .collect();
    if files.is_empty() {
        eprintln!("flowscope: no trace files in the paths given");
        return Ok(false);
    }
    parquet::prepare(out, force)?;
    let out_abs = std::path::absolute(out)?;
    let spark = find_spark()?;
    let exe = std::env::current_exe()?;
    let work = tempfile_dir()?;
    let job = work.join("spark_job.py");
    let spec = work.join("job.json");
    std::fs::write(&job, SPARK_JOB)?;
    std::fs::write(
        &spec,
        serde_json::to_vec(&serde_json::json!({
            "inputs": files,
            "out": out_abs.display().to_string(),
            "partitions": partitions,
            "from": window[0],
            "to": window[1],
        }))?,
    )?;
    let mut command = std::process::Command::new(&spark.submit);
    command
        .args(["--master", master, "--files"])
        .arg(&exe)
        .arg("--conf")
        .arg("spark.ui.showConsoleProgress=false")
        .arg(&job)
        .arg(&spec);
    if let Some(python) = &spark.python {
        command.env("PYSPARK_PYTHON", python);
    }
    // spark-submit forwards the Python driver's output to its stdout: it is the job's log, so it
    // goes to stderr, and stdout keeps only what this command says.
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("{}: {e}", spark.submit.display()))?;
    if let Some(log) = child.stdout.take() {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            eprintln!("{line}");
        }
    }
    let status = child.wait()?;
    std::fs::remove_dir_all(&work).ok();
    anyhow::ensure!(
        status.success(),
        "the Spark job failed ({status}); its log is above"
    );
    let read = parquet::read(out)?;
    let aggregate = read.aggregate;
    println!(
        "wrote {} on {master}: {} files, {} spans in {} traces; {} links; {} instances; {:.2} s",
        out.display(),
        aggregate.inputs.len(),
        aggregate.spans,
        aggregate.traces.len(),
        aggregate.links.len(),
        aggregate.places.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// A fresh directory for the job's files.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "flowscope-spark-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
