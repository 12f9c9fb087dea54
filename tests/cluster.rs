//! `flowscope aggregate --spark` on a real standalone Spark cluster (a master and two workers on
//! 127.0.0.1, started by `.ci/run` with `scripts/spark-cluster`): the cluster's result equals the
//! in-process derivation on every shared file in one job, a worker killed while the job runs
//! changes nothing, an unreadable file is a counted problem and the job succeeds. Without
//! `FLOWSCOPE_SPARK_MASTER` these tests say so and pass, except under CI. See: #18

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::aggregate::same_traces_on_demand;
use crate::common::{COUNT_KEYS, fixture, fresh_temp, shared_traces, store_of_readable};

/// The cluster's master, when one was started for the tests.
fn master() -> Option<String> {
    if let Some(m) = std::env::var_os("FLOWSCOPE_SPARK_MASTER") {
        return Some(m.to_string_lossy().into_owned());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "FLOWSCOPE_SPARK_MASTER is not set under CI (.ci/run starts the cluster)"
    );
    eprintln!("skipping: no Spark cluster (eval \"$(scripts/spark-cluster start)\")");
    None
}

/// The flowscope the cluster runs: the release build `.ci/run` makes (`FLOWSCOPE_CLUSTER_BIN`),
/// else this test build's binary. Every task of a job runs it, so a debug build is slow.
fn flowscope_bin() -> PathBuf {
    std::env::var_os("FLOWSCOPE_CLUSTER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_flowscope")),
        PathBuf::from,
    )
}

/// Runs [`flowscope_bin`] with `args`.
fn run_flowscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    Command::new(flowscope_bin())
        .args(args)
        .output()
        .expect("the flowscope binary runs")
}

fn text(p: &Path) -> String {
    p.display().to_string()
}

/// `deps` at every level and `stats`' counts of `out` equal those of `inputs`, and traces
/// found in its spans table hold exactly their spans.
fn same_as_in_process(out: &Path, inputs: &[PathBuf]) {
    let read = flowscope::aggregate::parquet::read(out).unwrap();
    let store = store_of_readable(&flowscope::ingest::expand_paths(inputs).unwrap());
    assert!(same_traces_on_demand("the cluster's spans", &store, &read) > 0);
    for level in ["instance", "service", "zone", "region"] {
        let of_out = run_flowscope(&["deps".to_owned(), text(out), "--level".into(), level.into()]);
        let mut args = vec!["deps".to_owned(), "--level".into(), level.into()];
        args.extend(inputs.iter().map(|p| text(p)));
        let of_inputs = run_flowscope(&args);
        assert!(
            of_out.status.success(),
            "{}",
            String::from_utf8_lossy(&of_out.stderr)
        );
        assert!(of_out.stdout.len() > 10);
        assert_eq!(of_out.stdout, of_inputs.stdout, "deps at {level}");
    }
    let total = |args: Vec<String>| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&run_flowscope(&args).stdout).unwrap()["total"]
            .clone()
    };
    let got = total(vec!["stats".into(), "--json".into(), text(out)]);
    let mut args = vec!["stats".to_owned(), "--json".into()];
    args.extend(inputs.iter().map(|p| text(p)));
    let want = total(args);
    for key in COUNT_KEYS {
        assert_eq!(got[key], want[key], "{key}");
    }
}

/// Every shared file in one job: the cluster's aggregate is the in-process one. See: #18
#[test]
fn issue_18_the_cluster_derives_every_shared_file_as_in_process() {
    let (Some(master), Some(shared)) = (master(), shared_traces()) else {
        return;
    };
    let out = fresh_temp("cluster-shared");
    let run = run_flowscope(&[
        "aggregate".to_owned(),
        text(&shared),
        "-o".into(),
        text(&out),
        "--spark".into(),
        master,
        "--partitions".into(),
        "4".into(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // Spark's progress, and the files it could not use, were reported.
    assert!(stderr.contains("tasks"), "{stderr}");
    assert!(stderr.contains("spark job done"), "{stderr}");
    same_as_in_process(&out, &[shared]);
    std::fs::remove_dir_all(&out).ok();
}

/// An unreadable file and a malformed one are counted problems; the job succeeds with the rest.
/// See: #18
#[test]
fn issue_18_a_bad_file_is_a_counted_problem_and_the_job_succeeds() {
    let Some(master) = master() else {
        return;
    };
    let dir = fresh_temp("cluster-bad-input");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::copy(fixture("zipkin/smartthings-mobile-web-install.json"), &good).unwrap();
    std::fs::write(dir.join("garbage.json"), b"{ this is not json").unwrap();
    std::fs::write(dir.join("other.json"), br#"{"hello": "world"}"#).unwrap();
    let out = fresh_temp("cluster-bad-input-out");
    let run = run_flowscope(&[
        "aggregate".to_owned(),
        text(&dir),
        "-o".into(),
        text(&out),
        "--spark".into(),
        master,
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("2 problems"), "{stderr}");
    assert!(stderr.contains("garbage.json"), "{stderr}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("flowscope-aggregate.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["cluster"]["problems"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 1);
    same_as_in_process(&out, &[good]);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&out).ok();
}

/// A worker killed while the job runs: Spark runs its tasks again on the other, and the result
/// is the same. See: #18
#[test]
fn issue_18_a_worker_killed_mid_job_changes_nothing() {
    let (Some(master), Some(shared)) = (master(), shared_traces()) else {
        return;
    };
    let out = fresh_temp("cluster-killed");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/spark-cluster");
    let job = Command::new(flowscope_bin())
        .args([
            "aggregate".to_owned(),
            text(&shared),
            "-o".into(),
            text(&out),
        ])
        .args(["--spark", &master, "--partitions", "8"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once tasks run (the job's first stage reads the files), worker 2 goes.
    std::thread::sleep(Duration::from_secs(12));
    let stopped = Command::new(&script)
        .args(["stop-worker", "2"])
        .status()
        .unwrap();
    assert!(stopped.success());
    let run = job.wait_with_output().unwrap();
    let restarted = Command::new(&script)
        .args(["start-worker", "2"])
        .status()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(restarted.success());
    same_as_in_process(&out, &[shared]);
    std::fs::remove_dir_all(&out).ok();
}

/// The release-built flowscope the large cluster test runs (`.ci/run` builds it without the
/// window: `cargo build --release --no-default-features --target-dir target/cluster-bin`): a
/// debug build would spend most of an hour on a gigabyte on two cores.
fn release_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("FLOWSCOPE_CLUSTER_BIN") {
        return Some(PathBuf::from(bin));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "FLOWSCOPE_CLUSTER_BIN is not set under CI (.ci/run builds it)"
    );
    eprintln!("skipping: no release-built flowscope in FLOWSCOPE_CLUSTER_BIN");
    None
}

/// Runs the release binary; its stdout, or a panic with its stderr.
fn run_release(bin: &Path, args: &[String]) -> Vec<u8> {
    let run = Command::new(bin).args(args).output().unwrap();
    assert!(
        run.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    run.stdout
}

/// A generated gigabyte (`../shared/bench/gen_zipkin.py`, 1,024 MB) split span by span into 64 files
/// (`scripts/split-spans.py`), so nearly every trace has spans in several files: the cluster's
/// aggregate equals the in-process derivation of the files at every level and in its counts,
/// its trace table is the in-process aggregate's, and traces found in its spans table hold the
/// same spans as in the in-process aggregate's. See: #18
#[test]
fn issue_18_a_gigabyte_in_64_files_with_traces_split_across_them_is_derived_as_in_process() {
    let (Some(master), Some(shared), Some(bin)) = (master(), shared_traces(), release_binary())
    else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = fresh_temp("cluster-1gb");
    std::fs::create_dir_all(&work).unwrap();
    let whole = work.join("all.json");
    let split = work.join("split");
    let generator = shared.parent().unwrap().join("bench/gen_zipkin.py");
    let made = Command::new("python3")
        .arg(&generator)
        .args(["--mb", "1024", "--out"])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(made.success());
    let cut = Command::new("python3")
        .arg(root.join("scripts/split-spans.py"))
        .arg(&whole)
        .arg(&split)
        .arg("64")
        .status()
        .unwrap();
    assert!(cut.success());
    std::fs::remove_file(&whole).ok();
    let json = |bytes: Vec<u8>| -> serde_json::Value { serde_json::from_slice(&bytes).unwrap() };
    let stats = json(run_release(
        &bin,
        &["stats".into(), "--json".into(), text(&split)],
    ));
    let files = stats["files"].as_array().unwrap();
    assert_eq!(files.len(), 64);
    assert!(stats["total"]["bytes"].as_u64().unwrap() >= 1_000_000_000);
    // Traces split across files: the files' own trace counts add up to far more than the
    // traces there are.
    let per_file: u64 = files.iter().map(|f| f["traces"].as_u64().unwrap()).sum();
    let traces = stats["total"]["traces"].as_u64().unwrap();
    assert!(per_file > 3 * traces, "{per_file} vs {traces}");

    let (on_cluster, in_process) = (work.join("cluster"), work.join("in-process"));
    run_release(
        &bin,
        &[
            "aggregate".into(),
            text(&split),
            "-o".into(),
            text(&on_cluster),
            "--spark".into(),
            master,
            "--partitions".into(),
            "8".into(),
        ],
    );
    run_release(
        &bin,
        &[
            "aggregate".into(),
            text(&split),
            "-o".into(),
            text(&in_process),
        ],
    );
    for level in ["instance", "service", "zone", "region"] {
        let deps = |path: &Path| {
            run_release(
                &bin,
                &["deps".into(), text(path), "--level".into(), level.into()],
            )
        };
        let want = deps(&split);
        assert!(want.len() > 10);
        assert!(deps(&on_cluster) == want, "deps at {level}");
    }
    let got = json(run_release(
        &bin,
        &["stats".into(), "--json".into(), text(&on_cluster)],
    ));
    for key in COUNT_KEYS {
        assert_eq!(got["total"][key], stats["total"][key], "{key}");
    }
    let cluster = flowscope::aggregate::parquet::read(&on_cluster).unwrap();
    let local = flowscope::aggregate::parquet::read(&in_process).unwrap();
    let sorted = |mut t: Vec<flowscope::aggregate::TraceSummary>| {
        t.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        t
    };
    let ids: Vec<String> = local
        .aggregate
        .traces
        .iter()
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(
        sorted(cluster.aggregate.traces),
        sorted(local.aggregate.traces)
    );
    let (a, b) = (cluster.spans.unwrap(), local.spans.unwrap());
    let lines = |table: &flowscope::aggregate::spans::SpanTable, id: &str| {
        let (store, t) = table
            .trace_store(id, flowscope::model::Interner::default(), &[])
            .unwrap();
        crate::aggregate::trace_lines(&store, t)
    };
    for id in ids.iter().step_by(ids.len() / 12) {
        let spans = lines(&a, id);
        assert!(!spans.is_empty());
        assert_eq!(spans, lines(&b, id), "trace {id}");
    }
    std::fs::remove_dir_all(&work).ok();
}

/// A window of instants on the cluster: each partition keeps its traces that start inside, and
/// the result is `deps --from --to` of the files at every level; offsets are refused in one
/// line (no partition sees the whole run's first and last trace). See: #18
#[test]
fn issue_18_a_window_of_instants_on_the_cluster_is_deps_from_to() {
    let Some(master) = master() else {
        return;
    };
    let inputs = fixture("");
    let store =
        store_of_readable(&flowscope::ingest::expand_paths(std::slice::from_ref(&inputs)).unwrap());
    let mut starts: Vec<i64> = flowscope::derive::window::trace_starts(&store)
        .into_iter()
        .flatten()
        .collect();
    starts.sort_unstable();
    let instant = |f: usize| {
        let m = starts[starts.len() * f / 4];
        format!(
            "{}.{:06}Z",
            flowscope::model::time::format_utc_micros(m).replace(' ', "T"),
            m.rem_euclid(1_000_000)
        )
    };
    let (from, to) = (instant(1), instant(3));
    let out = fresh_temp("cluster-window");
    let job = |window: [&str; 4]| {
        let mut args = vec![
            "aggregate".to_owned(),
            text(&inputs),
            "-o".into(),
            text(&out),
            "--force".into(),
            "--spark".into(),
            master.clone(),
        ];
        args.extend(window.iter().map(|s| (*s).to_owned()));
        run_flowscope(&args)
    };
    let refused = job(["--from", "+1s", "--to", "-1s"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&refused.stderr).lines().count(), 1);
    let run = job(["--from", &from, "--to", &to]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for level in ["instance", "service", "zone", "region"] {
        let of_out = run_flowscope(&[
            "deps".to_owned(),
            text(&out),
            "--level".into(),
            level.into(),
        ]);
        let of_inputs = run_flowscope(&[
            "deps".to_owned(),
            text(&inputs),
            "--level".into(),
            level.into(),
            "--from".into(),
            from.clone(),
            "--to".into(),
            to.clone(),
        ]);
        assert!(of_inputs.status.success());
        assert!(of_out.stdout.len() > 10, "{level}");
        assert_eq!(of_out.stdout, of_inputs.stdout, "deps at {level}");
    }
    let traces = |args: Vec<String>| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&run_flowscope(&args).stdout).unwrap()["total"]
            ["traces"]
            .clone()
    };
    let kept = traces(vec!["stats".into(), "--json".into(), text(&out)]);
    let want = traces(vec![
        "stats".into(),
        "--json".into(),
        text(&inputs),
        "--from".into(),
        from.clone(),
        "--to".into(),
        to.clone(),
    ]);
    assert_eq!(kept, want);
    assert!(kept.as_u64().unwrap() < starts.len() as u64);
    std::fs::remove_dir_all(&out).ok();
}
