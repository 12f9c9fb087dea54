//! A time window's graph from the index ([`WindowIndex`]) against a derivation of the window's
//! traces alone, at every level, on every shared file, on all of them merged, on the fixtures
//! and on a simulated Spigo run with its declared graph.

use std::sync::Arc;

use flowscope::derive::ServiceGraph;
use flowscope::derive::levels::build_levels;
use flowscope::derive::window::{Window, trace_starts, windowed};
use flowscope::derive::window_index::WindowIndex;
use flowscope::ingest;
use flowscope::model::{Interner, Level, TraceStore};

use crate::common::{fixture, shared_traces, store_of_readable};

/// A graph's node names and its edges with their figures, by name, sorted.
fn spelled(graph: &ServiceGraph, interner: &Interner) -> (Vec<String>, Vec<String>) {
    let name =
        |n: petgraph::stable_graph::NodeIndex| interner.resolve(graph.graph[n].name).to_owned();
    let mut nodes: Vec<String> = graph.graph.node_indices().map(name).collect();
    nodes.sort();
    let mut edges: Vec<String> = graph
        .graph
        .edge_indices()
        .map(|e| {
            let (a, b) = graph.graph.edge_endpoints(e).unwrap();
            format!("{} -> {} {:?}", name(a), name(b), graph.graph[e])
        })
        .collect();
    edges.sort();
    (nodes, edges)
}

/// Compares the index's graph with a fresh derivation for a few windows of `store`; returns the
/// edges compared (windows with traces only).
fn same_windows(what: &str, store: &TraceStore) -> usize {
    let mut whole = store.clone();
    let levels = build_levels(&mut whole, |_, _, _, _| ());
    let graphs: Vec<Arc<ServiceGraph>> = levels.graphs.into_iter().map(Arc::new).collect();
    let index = WindowIndex::build(&whole, &graphs, &levels.names);
    let starts = trace_starts(store);
    let mut sorted: Vec<i64> = starts.iter().flatten().copied().collect();
    sorted.sort_unstable();
    assert_eq!(index.len(), sorted.len(), "{what}: every trace with a time");
    let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else {
        return 0;
    };
    let third = (last - first) / 3;
    let at = |q: usize| sorted[(sorted.len() * q / 4).min(sorted.len() - 1)];
    let windows = [
        (first, first + third),
        (first + third, last - third),
        (first, last + 1),
        // Bounds on traces' starts: the first is inside, the last outside.
        (at(1), at(3)),
        (at(2), at(2)),
    ];
    let mut compared = 0;
    for (from, to) in windows {
        let (got, traces) = index.window(&graphs, from, to);
        let window = Window {
            from: Some(from),
            to: Some(to),
        };
        let mut alone = windowed(store, window, &starts);
        let want_traces = starts.iter().filter(|&&s| window.contains(s)).count();
        assert_eq!(traces.len(), want_traces, "{what} [{from}, {to}): traces");
        assert!(traces.windows(2).all(|w| w[0] < w[1]), "in store order");
        let fresh = build_levels(&mut alone, |_, _, _, _| ());
        for ((level, g), w) in Level::ALL.iter().zip(&got).zip(&fresh.graphs) {
            let (got_nodes, got_edges) = spelled(g, &whole.data.interner);
            let (want_nodes, want_edges) = spelled(w, &alone.data.interner);
            assert_eq!(
                got_nodes, want_nodes,
                "{what} [{from}, {to}) nodes at {level:?}"
            );
            assert_eq!(
                got_edges, want_edges,
                "{what} [{from}, {to}) edges at {level:?}"
            );
            if want_traces > 0 {
                compared += got_edges.len();
            }
        }
    }
    compared
}

#[test]
fn a_window_from_the_index_equals_its_traces_derived_alone_on_every_shared_file() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let files = ingest::expand_paths(&[dir]).unwrap();
    let mut compared = 0;
    let mut edges = 0;
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() {
            continue;
        }
        edges += same_windows(&file.display().to_string(), &store);
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} shared files were compared");
    assert!(edges > 1000, "{edges} edges compared");
}

#[test]
fn a_window_from_the_index_equals_its_traces_derived_alone_on_all_shared_files_merged() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let files = ingest::expand_paths(&[dir]).unwrap();
    let store = store_of_readable(&files);
    assert!(same_windows("all shared files", &store) > 1000);
}

#[test]
fn a_window_from_the_index_equals_its_traces_derived_alone_on_the_fixtures() {
    let files = ingest::expand_paths(&[fixture("")]).unwrap();
    let mut compared = 0;
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() {
            continue;
        }
        same_windows(&file.display().to_string(), &store);
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} fixtures were compared");
}

/// A simulated run read with its declared graph (Spigo's nodes and edges carry no trace, so
/// every window keeps them, with their own calls added to the window's).
#[test]
fn a_window_from_the_index_keeps_the_declared_graph() {
    let dir = std::env::temp_dir().join(format!("flowscope-window-index-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let options = flowscope::simulate::SimOptions {
        traces: 400,
        seed: 5,
        ..flowscope::simulate::SimOptions::default()
    };
    flowscope::simulate::simulate(&fixture("spigo/runs/netflixoss/arch.json"), &dir, &options)
        .unwrap();
    let files = ingest::expand_paths(std::slice::from_ref(&dir)).unwrap();
    let store = store_of_readable(&files);
    assert!(
        !store.data.nodes.is_empty(),
        "the run's declared graph was read"
    );
    assert!(same_windows("simulated netflixoss", &store) > 100);
    std::fs::remove_dir_all(&dir).ok();
}
