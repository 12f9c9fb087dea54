//! The command line: `deps` and `stats` output, errors and exit codes, run as a real process.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{fixture, shared_traces};

fn flowscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowscope"))
        .args(args)
        .output()
        .expect("run flowscope")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn deps_prints_zipkin_json_sorted() {
    let path = fixture("zipkin/smartthings-oauth-authorization.json");
    let out = flowscope(&["deps", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let links: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 12);
    // Sorted by parent then child; errorCount only where non-zero.
    let pairs: Vec<(String, String)> = links
        .iter()
        .map(|l| {
            (
                l["parent"].as_str().unwrap().to_owned(),
                l["child"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = pairs.clone();
    sorted.sort();
    assert_eq!(pairs, sorted);
    assert_eq!(links[0]["parent"], "auth");
    let with_errors: Vec<_> = links
        .iter()
        .filter(|l| l.get("errorCount").is_some())
        .collect();
    assert_eq!(with_errors.len(), 1);
    assert_eq!(with_errors[0]["errorCount"], 1);
}

#[test]
fn unreadable_inputs_give_one_line_and_exit_1() {
    let missing = flowscope(&["deps", "/nonexistent/trace.json"]);
    assert_eq!(missing.status.code(), Some(1));
    let err = text(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/trace.json"), "{err}");

    let dir = std::env::temp_dir().join(format!("flowscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_json = dir.join("notes.json");
    std::fs::write(&not_json, "hello, this is not JSON").unwrap();
    let out = flowscope(&["stats", not_json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("not JSON") && err.contains("notes.json"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(flowscope(&["deps"]).status.code(), Some(2));
    assert_eq!(
        flowscope(&["deps", "--level", "galaxy", "x.json"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(flowscope(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn stats_json_has_files_and_total() {
    let dir = fixture("zipkin");
    let out = flowscope(&["stats", "--json", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 22);
    for key in [
        "path",
        "format",
        "spans",
        "traces",
        "services",
        "instances",
        "edges",
        "warnings",
        "bytes",
        "read_ms",
    ] {
        assert!(files[0].get(key).is_some(), "missing {key}");
        assert!(
            v["total"].get(key).is_some() || key == "path" || key == "format",
            "total missing {key}"
        );
    }
    let smartthings = files
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("smartthings-mobile-web-install.json")
        })
        .unwrap();
    assert_eq!(smartthings["format"], "zipkin-v2");
    assert_eq!(smartthings["spans"], 1041);
    assert_eq!(smartthings["services"], 16);
    assert_eq!(v["total"]["warnings"]["bad_id"], 1);
}

#[test]
fn the_readme_sample_command_works() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces");
    let out = flowscope(&["stats", samples.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = flowscope(&["deps", samples.join("yelp.json").to_str().unwrap()]);
    assert!(out.status.success());
}

#[test]
fn stats_reads_every_shared_trace_file_with_plausible_counts() {
    let Some(traces) = shared_traces() else {
        return;
    };
    let out = flowscope(&["stats", "--json", traces.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    let file = |rel: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(rel))
            .unwrap_or_else(|| panic!("{rel} not read"))
    };
    // (file, format, spans, traces) — spans as traces/README.md lists them, except that v1 spans
    // holding both client and server sides count twice once converted (FORMATS.md §1.2).
    let cases = [
        (
            "zipkin/smartthings-mobile-web-install.json",
            "zipkin-v2",
            1041,
            1,
        ),
        (
            "zipkin/smartthings-oauth-authorization.json",
            "zipkin-v2",
            175,
            1,
        ),
        ("zipkin/yelp.json", "zipkin-v2", 16, 1),
        ("zipkin/messaging-kafka.json", "zipkin-v2", 28, 1),
        ("zipkin/v1-single-batch.json", "zipkin-v1", 5, 1),
        ("zipkin/v1-span-rpc.json", "zipkin-v1", 2, 1),
        ("jaeger/ui-genai-57-spans.json", "jaeger-ui", 57, 1),
        ("jaeger/hotrod-batch-1.proto.json", "jaeger-proto", 14, 1),
        ("otlp/jaeger-otel-traces-01.json", "otlp", 4, 2),
        ("otlp/jaeger-ui-otlp-lines.jsonl", "otlp", 4, 1),
        (
            "spigo/flow/migration_flow.json",
            "spigo-migration",
            2405,
            200,
        ),
        ("spigo/runs/netflix/flow.json", "zipkin-v1", 7204, 501),
    ];
    for (rel, format, spans, traces) in cases {
        let f = file(rel);
        assert_eq!(f["format"], format, "{rel}");
        assert_eq!(f["spans"], spans, "{rel}");
        assert_eq!(f["traces"], traces, "{rel}");
    }
    // Spigo graphs and architectures: instances and edge records (spigo/README.md).
    for (rel, instances, edges) in [
        ("spigo/runs/netflix/graph.json", 98, 371),
        ("spigo/runs/netflixoss/arch.json", 65, 259),
        ("spigo/runs/lamp/graph.json", 23, 73),
        ("jaeger/dependencies-large.json", 1238, 4271),
    ] {
        assert_eq!(file(rel)["instances"], instances, "{rel}");
        assert_eq!(file(rel)["edges"], edges, "{rel}");
    }
    // Warnings only where a file really is bad: a bad id, and duplicated span ids.
    let mut warned: Vec<(String, String)> = files
        .iter()
        .filter(|f| !f["warnings"].as_object().unwrap().is_empty())
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let rel = path
                .rsplit_once("traces/")
                .map_or(path, |(_, r)| r)
                .to_owned();
            (rel, f["warnings"].to_string())
        })
        .collect();
    warned.sort();
    assert_eq!(
        warned,
        vec![
            (
                "jaeger/ui-duplicate-span-ids.json".to_owned(),
                r#"{"duplicate":1}"#.to_owned()
            ),
            (
                "jaeger/ui-follows-from-warnings.json".to_owned(),
                r#"{"duplicate":1}"#.to_owned()
            ),
            (
                "jaeger/ui-from-otlp.json".to_owned(),
                r#"{"duplicate":1}"#.to_owned()
            ),
            (
                "otlp/jaeger-ui-otlp-in.json".to_owned(),
                r#"{"duplicate":1}"#.to_owned()
            ),
            (
                "zipkin/v1-error-batch.json".to_owned(),
                r#"{"bad_id":1}"#.to_owned()
            ),
        ]
    );
    // The expected/ files without links are not trace files: one line each on stderr.
    assert_eq!(v["total"]["unreadable"], 5);
    assert_eq!(
        text(&out.stderr)
            .lines()
            .filter(|l| l.contains("not a trace format"))
            .count(),
        5
    );
}

#[test]
fn render_writes_the_picture_and_checks_its_arguments() {
    let dir = std::env::temp_dir().join(format!("flowscope-cli-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("netflix.png");
    let graph = fixture("spigo/runs/netflix/graph.json");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "render".to_owned(),
            graph.to_str().unwrap().to_owned(),
            "-o".to_owned(),
            out.to_str().unwrap().to_owned(),
        ];
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        flowscope(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let done = run(&[
        "--level", "instance", "--size", "800x600", "--theme", "light",
    ]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let picture = tiny_skia::Pixmap::decode_png(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (800, 600));
    // It never overwrites without --force.
    let again = run(&["--level", "instance"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    assert!(
        run(&["--level", "instance", "--force", "--filter", "zone=zoneA"])
            .status
            .success()
    );
    // A bad filter, size or trace is a bad argument: exit 2 and one line saying where.
    let bad = run(&["--force", "--filter", "zone=zoneA and"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        text(&bad.stderr).trim(),
        "flowscope: bad filter at column 15: the expression ends too early"
    );
    assert_eq!(run(&["--force", "--size", "0x10"]).status.code(), Some(2));
    let no_trace = run(&["--force", "--trace", "abc"]);
    assert_eq!(no_trace.status.code(), Some(2));
    assert!(text(&no_trace.stderr).contains("no trace with id \"abc\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn render_lights_a_trace() {
    let dir = std::env::temp_dir().join(format!("flowscope-cli-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("lit.png");
    let file = fixture("zipkin/smartthings-oauth-authorization.json");
    // The file's trace, its id written with extra leading zeros (ids are normalised).
    let done = flowscope(&[
        "render",
        file.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--trace",
        "00008ce82b2e9ed820ba",
    ]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_files_counts_are_the_totals() {
    // `stats` gives one file's counts as the total instead of deriving the graphs again: the
    // merged store must count the same as the file's own store.
    for path in [
        fixture("zipkin/smartthings-mobile-web-install.json"),
        fixture("spigo/runs/netflix/graph.json"),
    ] {
        let mut loaded = flowscope::cli::load(std::slice::from_ref(&path), true).unwrap();
        assert_eq!(loaded.files.len(), 1);
        let file = loaded.files[0].counts;
        assert!(file.spans > 0 || file.edges > 0, "{}", path.display());
        assert_eq!(
            flowscope::cli::count(&mut loaded.store),
            file,
            "{}",
            path.display()
        );
    }
}

/// `stats` explains each warning kind it counted, one line each, under the table. See: #16
#[test]
fn issue_16_stats_explains_each_warning_kind_it_counted() {
    let dir = std::env::temp_dir().join(format!("flowscope-cli-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.json");
    std::fs::write(
        &path,
        r#"[{"traceId":"a","id":"1","name":"x","localEndpoint":{"serviceName":"s"}} {"id":"2"}]"#,
    )
    .unwrap();
    let out = flowscope(&["stats", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let legend: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "warnings:")
        .skip(1)
        .collect();
    assert_eq!(
        legend,
        [
            "  missing_trace_id (1): a span without a trace id; it was skipped",
            "  invalid_json (1): not valid JSON; what a lenient reader could still use was read, the rest skipped",
        ],
        "{stdout}"
    );
    for kind in [
        flowscope::ingest::WarningKind::BadId,
        flowscope::ingest::WarningKind::BadCompression,
    ] {
        assert!(!kind.explain().contains('\n') && kind.explain().len() < 120);
    }
}
