//! `flowscope aggregate --spark` on a real standalone Spark cluster (a master and two workers on
//! 127.0.0.1, started by `.ci/run` with `scripts/spark-cluster`): the cluster's result equals the
//! in-process derivation on every shared file in one job, a worker killed while the job runs
//! changes nothing, an unreadable file is a counted problem and the job succeeds. Without
//! `FLOWSCOPE_SPARK_MASTER` these tests say so and pass, except under CI. See: #18

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::aggregate::same_traces_on_demand;
use crate::common::{fixture, fresh_temp, run_flowscope, shared_traces, store_of_readable};

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
    for key in [
        "spans",
        "traces",
        "services",
        "instances",
        "regions",
        "zones",
        "edges",
        "links",
    ] {
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
    let job = Command::new(env!("CARGO_BIN_EXE_flowscope"))
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
