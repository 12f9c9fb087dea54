//! Comparing runs and time windows: a diff of a file with itself is empty; a Spigo run with its
//! chaos-monkey victim killed, after the kill, has lost exactly the victim's edges against the
//! same run without a victim; `deps --from --to` equals `deps` of a file holding only the traces
//! that start in the window; a bad time spelling is one line and exit code 2. See: #17

use std::path::{Path, PathBuf};
use std::process::Command;

use flowscope::cli::{TimeArgs, apply_window};
use flowscope::derive::ServiceGraph;
use flowscope::derive::diff::{Change, GraphDiff};
use flowscope::derive::window::TimeBound;
use flowscope::ingest::spigo::ArchOptions;
use flowscope::model::{Level, TraceStore};
use flowscope::simulate::{FlowFormat, SimOptions, simulate};

use crate::common::{fixture, store_of};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-diff-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn diff_of(before: &mut TraceStore, after: &mut TraceStore, level: Level) -> GraphDiff {
    let b = ServiceGraph::build(before, level);
    let a = ServiceGraph::build(after, level);
    GraphDiff::between(&b, &before.data.interner, &a, &after.data.interner)
}

#[test]
fn issue_17_a_file_diffed_with_itself_is_empty_at_every_level() {
    for file in [
        "zipkin/messaging.json",
        "zipkin/smartthings-oauth-authorization.json",
        "jaeger/ui-genai-57-spans.json",
        "spigo/runs/netflixoss/graph.json",
    ] {
        let path = fixture(file);
        for level in Level::ALL {
            let mut a = store_of(std::slice::from_ref(&path));
            let mut b = store_of(std::slice::from_ref(&path));
            let diff = diff_of(&mut a, &mut b, level);
            assert!(diff.is_empty(), "{file} at {level:?}: {:?}", diff.changes());
            assert!(!diff.edges.is_empty() || level != Level::Service, "{file}");
        }
    }
}

#[test]
fn issue_17_the_victims_edges_are_exactly_what_the_kill_removed() {
    let arch = fixture("spigo/runs/netflixoss/arch.json");
    let options = |victim| SimOptions {
        arch: ArchOptions {
            scale_percent: 100,
            regions: 1,
        },
        traces: 2_000,
        seed: 1,
        victim,
        ..SimOptions::default()
    };
    let (with, without) = (temp_dir("victim"), temp_dir("no-victim"));
    let killed = simulate(&arch, &with, &options(true)).unwrap();
    simulate(&arch, &without, &options(false)).unwrap();
    let victim = killed.victim.clone().unwrap();
    let at = killed.victim_killed_micros.unwrap();
    // After the kill, in both runs.
    let time = TimeArgs {
        from: Some(TimeBound::At(at + 1)),
        to: None,
    };
    let mut after = store_of(&[with.join("flow.json")]);
    let mut before = store_of(&[without.join("flow.json")]);
    apply_window(&mut after, time);
    apply_window(&mut before, time);
    let diff = diff_of(&mut before, &mut after, Level::Instance);
    // The victim is named by its 4-field name; the graph spells instances in full.
    let victim_name = |name: &str| {
        flowscope::model::SpigoName::parse_full(name)
            .is_some_and(|n| format!("{}.{}.{}.{}", n.arch, n.region, n.zone, n.instance) == victim)
    };
    let removed: Vec<(String, Option<String>)> = diff
        .edges
        .iter()
        .filter(|e| e.change == Change::Removed)
        .map(|e| (e.name.clone(), e.child.clone()))
        .collect();
    let victims_edges: Vec<(String, Option<String>)> = diff
        .edges
        .iter()
        .filter(|e| e.before.is_some())
        .filter(|e| victim_name(&e.name) || e.child.as_deref().is_some_and(victim_name))
        .map(|e| (e.name.clone(), e.child.clone()))
        .collect();
    assert!(victims_edges.len() >= 2, "{victim}: {victims_edges:?}");
    assert_eq!(removed, victims_edges, "{victim}");
    assert!(diff.edges.iter().all(|e| e.change != Change::Added));
    let removed_nodes: Vec<&str> = diff
        .nodes
        .iter()
        .filter(|n| n.change != Change::Same && n.change != Change::Changed)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(removed_nodes.len(), 1, "{removed_nodes:?}");
    assert!(victim_name(removed_nodes[0]), "{removed_nodes:?}");
    std::fs::remove_dir_all(&with).ok();
    std::fs::remove_dir_all(&without).ok();
}

fn flowscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowscope"))
        .args(args)
        .output()
        .unwrap()
}

/// Writes the traces of a Zipkin v2 array whose earliest span starts in `[from, to)`.
fn write_window(path: &Path, out: &Path, from: i64, to: i64) -> usize {
    let spans: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut starts = std::collections::BTreeMap::<String, i64>::new();
    for s in &spans {
        let id = s["traceId"].as_str().unwrap().to_owned();
        let t = s["timestamp"].as_i64().unwrap();
        let e = starts.entry(id).or_insert(t);
        *e = (*e).min(t);
    }
    let kept: Vec<&serde_json::Value> = spans
        .iter()
        .filter(|s| {
            let t = starts[s["traceId"].as_str().unwrap()];
            t >= from && t < to
        })
        .collect();
    std::fs::write(out, serde_json::to_vec(&kept).unwrap()).unwrap();
    kept.len()
}

/// Distinct trace ids of a Zipkin v2 array.
fn kept_traces(path: &Path) -> u64 {
    let spans: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let ids: std::collections::BTreeSet<&str> = spans
        .iter()
        .map(|s| s["traceId"].as_str().unwrap())
        .collect();
    ids.len() as u64
}

#[test]
fn issue_17_deps_of_a_window_equals_deps_of_a_file_of_that_window() {
    let dir = temp_dir("window");
    let arch = fixture("spigo/runs/lamp/arch.json");
    let options = SimOptions {
        traces: 300,
        seed: 5,
        format: FlowFormat::ZipkinV2,
        ..SimOptions::default()
    };
    simulate(&arch, &dir, &options).unwrap();
    let flow = dir.join("flow.json");
    let store = store_of(std::slice::from_ref(&flow));
    let starts = flowscope::derive::window::trace_starts(&store);
    let first = starts.iter().flatten().min().copied().unwrap();
    // +1s to +2s after the first trace's start: a third of the 3 s run.
    let (from, to) = (first + 1_000_000, first + 2_000_000);
    let only = dir.join("only.json");
    let kept = write_window(&flow, &only, from, to);
    assert!(kept > 100, "{kept}");
    for level in ["service", "instance", "zone"] {
        let windowed = flowscope(&[
            "deps",
            "--level",
            level,
            "--from",
            "+1s",
            "--to",
            "+2s",
            flow.to_str().unwrap(),
        ]);
        assert!(windowed.status.success());
        let whole = flowscope(&["deps", "--level", level, only.to_str().unwrap()]);
        assert_eq!(windowed.stdout, whole.stdout, "{level}");
        assert!(windowed.stdout.len() > 100);
    }
    // The same window spelled in RFC 3339 and from the end.
    let rfc = |micros: i64| flowscope::simulate::time::rfc3339_nanos(micros * 1000);
    let by_instant = flowscope(&[
        "deps",
        "--from",
        &rfc(from),
        "--to",
        &rfc(to),
        flow.to_str().unwrap(),
    ]);
    let whole = flowscope(&["deps", only.to_str().unwrap()]);
    assert_eq!(by_instant.stdout, whole.stdout);
    // `stats` counts the window's traces; `render` draws them.
    let counts = |args: &[&str]| {
        let out = flowscope(args);
        assert!(out.status.success());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut total = doc["total"].clone();
        for volatile in ["bytes", "read_ms", "warnings"] {
            total.as_object_mut().unwrap().remove(volatile);
        }
        total
    };
    let windowed = counts(&[
        "stats",
        "--json",
        "--from",
        "+1s",
        "--to",
        "+2s",
        flow.to_str().unwrap(),
    ]);
    assert_eq!(
        windowed,
        counts(&["stats", "--json", only.to_str().unwrap()])
    );
    assert_eq!(windowed["traces"].as_u64(), Some(kept_traces(&only)));
    let png = dir.join("window.png");
    let render = flowscope(&[
        "render",
        "--from",
        "+1s",
        "--to",
        "+2s",
        "-o",
        png.to_str().unwrap(),
        flow.to_str().unwrap(),
    ]);
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn issue_17_a_bad_time_is_one_line_and_exit_code_2() {
    let file = fixture("zipkin/messaging.json");
    for args in [
        vec!["deps", "--from", "yesterday"],
        vec!["deps", "--to", "+5"],
        vec!["diff", "--from", "2024-13-01T00:00:00Z", "--against"],
    ] {
        let mut args = args;
        args.push(file.to_str().unwrap());
        if args[0] == "diff" {
            args.insert(1, file.to_str().unwrap());
        }
        let out = flowscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("flowscope: --"), "{err}");
        assert!(err.contains("is not a time"), "{err}");
    }
}

#[test]
fn issue_17_diff_json_lists_changes_largest_first() {
    let dir = temp_dir("json");
    let arch = fixture("spigo/runs/netflixoss/arch.json");
    let options = |victim| SimOptions {
        traces: 2_000,
        seed: 1,
        victim,
        ..SimOptions::default()
    };
    let (with, without) = (dir.join("with"), dir.join("without"));
    simulate(&arch, &with, &options(true)).unwrap();
    simulate(&arch, &without, &options(false)).unwrap();
    let out = flowscope(&[
        "diff",
        without.join("flow.json").to_str().unwrap(),
        "--against",
        with.join("flow.json").to_str().unwrap(),
        "--level",
        "instance",
        "--from",
        "+10.1s",
        "--json",
        "-o",
        dir.join("diff.png").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["level"], "instance");
    let changes = doc["changes"].as_array().unwrap();
    // Removed edges first (the victim's), then changed ones; every item has both sides' shape.
    assert_eq!(changes[0]["change"], "removed");
    assert!(changes[0]["before"]["calls"].as_u64().unwrap() > 0);
    assert!(changes[0]["after"].is_null());
    let first_changed = changes
        .iter()
        .position(|c| c["change"] == "changed")
        .unwrap();
    assert!(
        changes[..first_changed]
            .iter()
            .all(|c| c["change"] == "removed")
    );
    assert_eq!(doc["counts"]["removed"], 4 + 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn issue_17_the_timeline_counts_every_span_start_and_error() {
    use flowscope::derive::timeline::Histogram;
    let path = fixture("zipkin/smartthings-oauth-authorization.json");
    let store = store_of(std::slice::from_ref(&path));
    let error = store.data.interner.get("error");
    let timed = store
        .spans()
        .iter()
        .filter(|s| s.timestamp_micros().is_some())
        .count();
    let failed = store
        .spans()
        .iter()
        .filter(|s| s.timestamp_micros().is_some())
        .filter(|s| error.is_some_and(|k| store.data.tags_of(s.tags).iter().any(|t| t.key == k)))
        .count();
    let h = Histogram::of(&store, 64).unwrap();
    assert_eq!(h.calls.len(), 64);
    let sum = |v: &[u32]| v.iter().map(|&x| x as usize).sum::<usize>();
    assert_eq!(sum(&h.calls), timed);
    assert_eq!(sum(&h.errors), failed);
    // The first and last starts fall in the first and last bins.
    assert!(h.calls[0] > 0 && h.calls[63] > 0);
    let starts = store
        .spans()
        .iter()
        .filter_map(flowscope::model::Span::timestamp_micros);
    assert_eq!(
        (h.start, h.end),
        (starts.clone().min().unwrap(), starts.max().unwrap())
    );
    // Resampled to fewer bins, nothing is lost.
    let (calls, errors) = h.resampled(7);
    assert_eq!((sum(&calls), sum(&errors)), (timed, failed));
    assert_eq!(h.time_at(0.0), h.start);
    assert_eq!(h.time_at(1.0), h.end);
}

/// A window keeps what its traces need: a Jaeger trace's references (Jaeger's rule follows every
/// one) survive the copy, and a window of the second trace alone links only what it links.
#[test]
fn issue_17_a_window_of_jaeger_traces_keeps_their_references() {
    let path = fixture("handmade/jaeger-link-rule.json");
    let mut whole = store_of(std::slice::from_ref(&path));
    let mut all = store_of(std::slice::from_ref(&path));
    apply_window(
        &mut all,
        TimeArgs {
            from: Some(TimeBound::AfterFirst(0)),
            to: Some(TimeBound::BeforeLast(-1)),
        },
    );
    assert_eq!(all.traces().len(), 2);
    assert_eq!(all.data.refs, whole.data.refs);
    for level in Level::ALL {
        assert_eq!(
            flowscope::cli::links_json(&mut all, level),
            flowscope::cli::links_json(&mut whole, level)
        );
    }
    // The second trace starts 20 ms after the first.
    let mut second = store_of(std::slice::from_ref(&path));
    apply_window(
        &mut second,
        TimeArgs {
            from: Some(TimeBound::AfterFirst(10_000)),
            to: None,
        },
    );
    assert_eq!(second.traces().len(), 1);
    assert!(second.data.refs.is_empty());
    let links = flowscope::cli::links_json(&mut second, Level::Service);
    let names: Vec<(&str, &str, u64)> = links
        .iter()
        .map(|l| (l.parent.as_str(), l.child.as_str(), l.call_count))
        .collect();
    assert_eq!(names, [("frontend", "api", 1)]);
}
