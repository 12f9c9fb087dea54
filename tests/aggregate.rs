//! An aggregate ([`Aggregate`]) against the derivation it sums up: its links equal `deps` at
//! every level, its counts equal `stats`, its latency is within the sketch's error, on every
//! shared file, on all of them merged, and after a round trip through its Parquet files. See: #18

use std::path::PathBuf;

use flowscope::aggregate::Aggregate;
use flowscope::cli::{count, graph_links, links_json};
use flowscope::derive::ServiceGraph;
use flowscope::ingest;
use flowscope::model::{Interner, Level, TraceStore};

use crate::common::{
    COUNT_KEYS, fixture, fresh_temp, run_flowscope, shared_traces, store_of_readable,
};

/// Compares `aggregate`'s graphs with the store's own derivation; returns the edges compared.
pub(crate) fn same_as_derived(what: &str, store: &TraceStore, aggregate: &Aggregate) -> usize {
    let mut names = Interner::default();
    let graphs = aggregate.graphs(&mut names);
    let mut compared = 0;
    for (level, graph) in Level::ALL.iter().zip(&graphs) {
        let mut derived = store.clone();
        assert_eq!(
            graph_links(graph, &names),
            links_json(&mut derived, *level),
            "{what}: links at {level:?}"
        );
        // Latency: count and mean exact, p50 and p99 within the sketch's 1/64.
        let reference = ServiceGraph::build(&mut derived, *level);
        let interner = &derived.data.interner;
        for e in reference.graph.edge_indices() {
            let (a, b) = reference.graph.edge_endpoints(e).unwrap();
            let name = |g: &ServiceGraph, n: petgraph::stable_graph::NodeIndex, i: &Interner| {
                i.resolve(g.graph[n].name).to_owned()
            };
            let (pa, pb) = (name(&reference, a, interner), name(&reference, b, interner));
            let (ga, gb) = (
                graph.index[&names.get(&pa).unwrap()],
                graph.index[&names.get(&pb).unwrap()],
            );
            let got = graph.graph[graph.graph.find_edge(ga, gb).unwrap()].latency;
            let want = reference.graph[e].latency;
            match (got, want) {
                (Some(g), Some(w)) => {
                    assert_eq!((g.count, g.mean_micros), (w.count, w.mean_micros), "{what}");
                    for (x, y) in [(g.p50_micros, w.p50_micros), (g.p99_micros, w.p99_micros)] {
                        assert!(
                            x.abs_diff(y) <= y / 64 + 1,
                            "{what} {pa} -> {pb}: {x} vs {y}"
                        );
                    }
                }
                (None, None) => {}
                other => panic!("{what} {pa} -> {pb}: {other:?}"),
            }
            compared += 1;
        }
    }
    let want = count(&mut store.clone());
    assert_eq!(aggregate.counts(), want, "{what}: counts");
    compared
}

#[test]
fn issue_18_an_aggregate_equals_the_derivation_on_every_shared_file() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let files = ingest::expand_paths(&[dir]).unwrap();
    let (mut compared, mut edges) = (0, 0);
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() && store.data.nodes.is_empty() {
            continue;
        }
        let aggregate = Aggregate::of(&mut store.clone(), Vec::new());
        edges += same_as_derived(&file.display().to_string(), &store, &aggregate);
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} shared files were compared");
    assert!(edges > 1000, "{edges}");
}

#[test]
fn issue_18_an_aggregate_equals_the_derivation_on_all_shared_files_merged_and_the_fixtures() {
    let mut paths = ingest::expand_paths(&[fixture("")]).unwrap();
    if let Some(dir) = shared_traces() {
        paths.extend(ingest::expand_paths(&[dir]).unwrap());
    }
    let store = store_of_readable(&paths);
    let aggregate = Aggregate::of(&mut store.clone(), Vec::new());
    assert!(same_as_derived("everything merged", &store, &aggregate) > 1000);
}

/// Every span of a trace as its line says it (file and place left out), in the store's order.
pub fn trace_lines(store: &TraceStore, trace: usize) -> Vec<String> {
    let entry = &store.traces()[trace];
    store
        .trace_indices(entry)
        .map(|i| {
            let (key, json) =
                flowscope::aggregate::lines::span_line(&store.data, i as usize, 0, 0).unwrap();
            format!("{key}\t{json}")
        })
        .collect()
}

/// Up to 40 traces of `store`, spread over it, found in the aggregate's spans table on demand
/// hold exactly their spans (every field, in order), and its declared elements are the
/// store's. Returns the traces compared.
pub fn same_traces_on_demand(
    what: &str,
    store: &TraceStore,
    read: &flowscope::aggregate::parquet::ReadAggregate,
) -> usize {
    let traces = store.traces().len();
    if traces == 0 {
        return 0;
    }
    let table = read.spans.as_ref().expect("the spans are kept");
    let context = table.declared().unwrap();
    assert_eq!(
        context.len(),
        store.data.nodes.len() + store.data.edges.len(),
        "{what}: declared elements"
    );
    let names = store.data.interner.clone();
    let step = traces.div_ceil(40);
    let mut compared = 0;
    for t in (0..traces).step_by(step) {
        let id = store.traces()[t].id.display(&store.data.interner);
        let (found, index) = table
            .trace_store(&id, names.clone(), &context)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(found.traces().len(), 1, "{what}: {id}");
        assert_eq!(
            trace_lines(&found, index),
            trace_lines(store, t),
            "{what}: trace {id}"
        );
        // The graph's strings keep their symbols: the store's strings come first, in order.
        assert!(
            found
                .data
                .interner
                .iter()
                .zip(store.data.interner.iter())
                .all(|(a, b)| a == b)
                && found.data.interner.len() >= store.data.interner.len(),
            "{what}: {id}'s strings"
        );
        compared += 1;
    }
    assert!(
        table.trace_store("no-such-trace", names, &context).is_err(),
        "{what}"
    );
    compared
}

#[test]
fn issue_18_an_aggregate_read_back_from_its_parquet_files_is_the_same_on_every_shared_file() {
    let mut paths = ingest::expand_paths(&[fixture("")]).unwrap();
    if let Some(dir) = shared_traces() {
        paths.extend(ingest::expand_paths(&[dir]).unwrap());
    }
    let out = fresh_temp("agg-round-trip");
    let mut compared = 0;
    for file in &paths {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() && store.data.nodes.is_empty() {
            continue;
        }
        let aggregate = Aggregate::of(&mut store.clone(), Vec::new());
        flowscope::aggregate::parquet::write(&aggregate, Some(&store), &out, true).unwrap();
        let read = flowscope::aggregate::parquet::read(&out).unwrap();
        assert!(read.skipped.is_empty(), "{}", file.display());
        same_traces_on_demand(&file.display().to_string(), &store, &read);
        assert_eq!(
            read.aggregate.traces,
            aggregate.traces,
            "{}",
            file.display()
        );
        assert_eq!(
            read.aggregate.places,
            aggregate.places,
            "{}",
            file.display()
        );
        same_as_derived(&file.display().to_string(), &store, &read.aggregate);
        compared += 1;
    }
    assert!(compared >= 30, "{compared}");
    std::fs::remove_dir_all(&out).ok();
}

/// `flowscope aggregate` then `deps OUT` prints what `deps FILE` prints, at every level, and
/// `stats OUT` the same counts; OUT is not replaced without --force. See: #18
#[test]
fn issue_18_deps_and_stats_of_an_aggregate_are_those_of_its_inputs() {
    let inputs: Vec<String> = [
        "spigo/flow/lamp_flow.json",
        "spigo/runs/netflixoss/graph.json",
        "zipkin/smartthings-mobile-web-install.json",
    ]
    .iter()
    .map(|f| fixture(f).display().to_string())
    .collect();
    let out = fresh_temp("agg-cli");
    let out_s = out.display().to_string();
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .map(|s| (*s).to_owned())
            .chain(inputs.iter().cloned())
            .chain(tail.iter().map(|s| (*s).to_owned()))
            .collect()
    };
    let mut args = with(&["aggregate"], &["-o", &out_s]);
    let made = run_flowscope(&args);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    for level in ["instance", "service", "zone", "region"] {
        let of_out = run_flowscope(&["deps", &out_s, "--level", level]);
        let of_inputs = run_flowscope(&with(&["deps"], &["--level", level]));
        assert!(of_out.status.success());
        assert!(of_out.stdout.len() > 10, "{level}");
        assert_eq!(
            String::from_utf8_lossy(&of_out.stdout),
            String::from_utf8_lossy(&of_inputs.stdout),
            "{level}"
        );
    }
    let json = |args: &[String]| -> serde_json::Value {
        serde_json::from_slice(&run_flowscope(args).stdout).unwrap()
    };
    let want = json(&with(&["stats", "--json"], &[]))["total"].clone();
    let got = json(&["stats".to_owned(), "--json".to_owned(), out_s.clone()])["total"].clone();
    for key in COUNT_KEYS {
        assert_eq!(got[key], want[key], "{key}");
    }
    // Not replaced without --force; replaced with it.
    let again = run_flowscope(&args);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    args.push("--force".to_owned());
    assert!(run_flowscope(&args).status.success());
    // An aggregate holds no spans to window.
    assert!(
        !run_flowscope(&["deps", &out_s, "--from", "+1s"])
            .status
            .success()
    );
    // render draws its graph, and a trace lit from its spans table; an unknown trace is one
    // line, exit 1.
    let png = out.with_extension("png").display().to_string();
    let drawn = run_flowscope(&["render", &out_s, "--level", "zone", "-o", &png, "--force"]);
    assert!(
        drawn.status.success(),
        "{}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    let store = crate::common::store_of(&[fixture("zipkin/smartthings-mobile-web-install.json")]);
    let id = store.traces()[0].id.display(&store.data.interner);
    let lit_png = out.with_extension("lit.png").display().to_string();
    let unlit = run_flowscope(&["render", &out_s, "-o", &png, "--force"]);
    let lit = run_flowscope(&["render", &out_s, "--trace", &id, "-o", &lit_png, "--force"]);
    assert!(
        unlit.status.success() && lit.status.success(),
        "{}",
        String::from_utf8_lossy(&lit.stderr)
    );
    assert_ne!(
        std::fs::read(&png).unwrap(),
        std::fs::read(&lit_png).unwrap(),
        "{id} is lit"
    );
    let traced = run_flowscope(&["render", &out_s, "--trace", "abc", "-o", &png, "--force"]);
    assert_eq!(traced.status.code(), Some(1));
    let said = String::from_utf8_lossy(&traced.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("abc is not in the spans table"), "{said}");
    std::fs::remove_file(&lit_png).ok();
    std::fs::remove_file(&png).ok();
    std::fs::remove_dir_all(&out).ok();
}

/// A damaged aggregate: a row with an unknown level is skipped and counted, the rest is read; a
/// table file that is not Parquet is one line naming it, and exit code 1. See: #18
#[test]
fn issue_18_a_damaged_aggregate_is_a_counted_warning_or_one_line() {
    let out = fresh_temp("agg-damaged");
    let mut store =
        crate::common::store_of(&[fixture("zipkin/smartthings-mobile-web-install.json")]);
    let mut aggregate = Aggregate::of(&mut store, Vec::new());
    let good = aggregate.links.len();
    // A link of a level that does not exist, written through the writer's own tables.
    let mut bad = aggregate.links[0].clone();
    bad.parent = "nobody".to_owned();
    aggregate.links.push(bad);
    flowscope::aggregate::parquet::write(&aggregate, None, &out, false).unwrap();
    // Spell the last link's level wrong in the file itself: rewrite the links table by hand.
    {
        use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
        use std::sync::Arc;
        let n = aggregate.links.len();
        let levels: Vec<&str> = (0..n)
            .map(|i| {
                if i + 1 == n {
                    "galaxy"
                } else {
                    aggregate.links[i].level.as_str()
                }
            })
            .collect();
        let col = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let ints = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
        let batch = RecordBatch::try_from_iter([
            ("level", col(levels)),
            (
                "parent",
                col(aggregate.links.iter().map(|l| l.parent.as_str()).collect()),
            ),
            (
                "child",
                col(aggregate.links.iter().map(|l| l.child.as_str()).collect()),
            ),
            (
                "calls",
                ints(aggregate.links.iter().map(|l| l.calls as i64).collect()),
            ),
            (
                "errors",
                ints(aggregate.links.iter().map(|l| l.errors as i64).collect()),
            ),
            (
                "duration_sum",
                ints(
                    aggregate
                        .links
                        .iter()
                        .map(|l| l.latency.sum() as i64)
                        .collect(),
                ),
            ),
        ])
        .unwrap();
        let file = std::fs::File::create(out.join("links/part-0.parquet")).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let read = flowscope::aggregate::parquet::read(&out).unwrap();
    assert_eq!(read.aggregate.links.len(), good);
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(
        (read.skipped[0].0.as_str(), read.skipped[0].1),
        ("links", 1)
    );
    let deps = run_flowscope(&["deps".as_ref(), out.as_os_str()]);
    assert!(deps.status.success());
    assert!(String::from_utf8_lossy(&deps.stderr).contains("1 damaged links rows skipped"));
    // Not Parquet at all.
    std::fs::write(out.join("places/part-0.parquet"), b"not parquet").unwrap();
    let broken = run_flowscope(&["deps".as_ref(), out.as_os_str()]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("places/part-0.parquet"), "{stderr}");
    std::fs::remove_dir_all(&out).ok();
}

/// The cluster's steps, run here: (a) each file's spans as lines, (b) a shuffle of the lines by
/// trace id into `partitions` partitions (each partition's lines reversed, so order does not
/// help) with the declared elements apart, (c) each partition's partial aggregate (the span
/// partitions get the declared elements as context), (d) the partials' rows merged. Each
/// partial keeps the traces starting in `window`.
fn cluster_shaped(
    paths: &[PathBuf],
    partitions: usize,
    window: flowscope::cli::TimeArgs,
) -> Aggregate {
    use std::hash::{Hash, Hasher};
    let mut spans: Vec<Vec<String>> = vec![Vec::new(); partitions];
    let mut declared: Vec<String> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let Ok(read) = ingest::read_path(p) else {
            continue;
        };
        let mut out = Vec::new();
        flowscope::aggregate::lines::write_lines(&read.batch, i as u32, &mut out).unwrap();
        for line in String::from_utf8(out).unwrap().lines() {
            let mut parts = line.splitn(3, '\t');
            let (kind, key) = (parts.next().unwrap(), parts.next().unwrap());
            if kind == "D" {
                declared.push(line.to_owned());
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                key.hash(&mut h);
                spans[(h.finish() as usize) % partitions].push(line.to_owned());
            }
        }
    }
    let context: Vec<String> = declared.iter().map(|l| format!("C{}", &l[1..])).collect();
    let mut rows = Vec::new();
    for mut lines in spans.into_iter().chain([declared]) {
        lines.reverse();
        if !lines.first().is_some_and(|l| l.starts_with('D')) {
            lines.extend(context.iter().cloned());
        }
        let text = lines.join("\n");
        let (partial, bad) = flowscope::cli::aggregate::partial_of(text.as_bytes(), window);
        assert_eq!(bad, 0);
        partial.write_rows(&mut rows).unwrap();
    }
    let (merged, bad) = Aggregate::read_rows(rows.as_slice());
    assert_eq!(bad, 0);
    merged
}

/// The cluster's steps (spans as lines, a shuffle by trace id, partials, a merge) give the
/// in-process derivation: every shared file and the fixtures in one job, split across partitions
/// and with a trace's spans spread over several files. See: #18
#[test]
fn issue_18_the_cluster_steps_give_the_in_process_derivation() {
    let mut paths = ingest::expand_paths(&[fixture("")]).unwrap();
    if let Some(dir) = shared_traces() {
        paths.extend(ingest::expand_paths(&[dir]).unwrap());
    }
    let store = store_of_readable(&paths);
    let partitions = 5;
    let merged = cluster_shaped(&paths, partitions, flowscope::cli::TimeArgs::default());
    let mut want_traces: Vec<String> = store
        .traces()
        .iter()
        .map(|t| t.id.display(&store.data.interner))
        .collect();
    let mut got_traces: Vec<String> = merged.traces.iter().map(|t| t.id.clone()).collect();
    want_traces.sort();
    got_traces.sort();
    assert_eq!(got_traces, want_traces, "{partitions} partitions");
    let what = format!("{partitions} partitions");
    assert!(same_as_derived(&what, &store, &merged) > 1000);
}

/// With a window of instants, each partition keeps its traces starting inside and the merge is
/// the in-process derivation of the window's traces (`aggregate --from --to`). See: #18
#[test]
fn issue_18_the_cluster_steps_with_a_window_give_the_windowed_derivation() {
    use flowscope::derive::window::{TimeBound, trace_starts};
    let mut paths = ingest::expand_paths(&[fixture("")]).unwrap();
    if let Some(dir) = shared_traces() {
        paths.extend(ingest::expand_paths(&[dir]).unwrap());
    }
    let mut store = store_of_readable(&paths);
    let mut starts: Vec<i64> = trace_starts(&store).into_iter().flatten().collect();
    starts.sort_unstable();
    let at = |f: usize| TimeBound::At(starts[starts.len() * f / 4]);
    let window = flowscope::cli::TimeArgs {
        from: Some(at(1)),
        to: Some(at(3)),
    };
    assert!(window.is_absolute());
    flowscope::cli::apply_window(&mut store, window);
    let kept = store.traces().len();
    assert!(
        kept > 100 && kept < starts.len(),
        "{kept} of {}",
        starts.len()
    );
    let merged = cluster_shaped(&paths, 4, window);
    assert_eq!(merged.traces.len(), kept);
    assert!(same_as_derived("the middle half", &store, &merged) > 100);
}

/// A trace whose spans sit in two files comes together in its partition.
#[test]
fn issue_18_a_trace_split_across_files_is_linked_whole() {
    let dir = fresh_temp("agg-split");
    std::fs::create_dir_all(&dir).unwrap();
    let spans: Vec<serde_json::Value> = serde_json::from_slice(
        &std::fs::read(fixture("zipkin/smartthings-mobile-web-install.json")).unwrap(),
    )
    .unwrap();
    let (a, b) = spans.split_at(spans.len() / 2);
    let (fa, fb) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(&fa, serde_json::to_vec(a).unwrap()).unwrap();
    std::fs::write(&fb, serde_json::to_vec(b).unwrap()).unwrap();
    let paths = vec![fa, fb];
    let store = store_of_readable(&paths);
    let merged = cluster_shaped(&paths, 3, flowscope::cli::TimeArgs::default());
    same_as_derived("a trace in two files", &store, &merged);
    std::fs::remove_dir_all(&dir).ok();
}
