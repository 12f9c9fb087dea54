//! An aggregate ([`Aggregate`]) against the derivation it sums up: its links equal `deps` at
//! every level, its counts equal `stats`, its latency is within the sketch's error, on every
//! shared file, on all of them merged, and after a round trip through its Parquet files. See: #18

use std::path::PathBuf;

use flowscope::aggregate::Aggregate;
use flowscope::cli::{count, graph_links, links_json};
use flowscope::derive::ServiceGraph;
use flowscope::ingest;
use flowscope::model::{Interner, Level, TraceStore};

use crate::common::{fixture, shared_traces};

fn store_of_readable(paths: &[PathBuf]) -> TraceStore {
    let mut store = TraceStore::default();
    for (i, p) in paths.iter().enumerate() {
        if let Ok(read) = ingest::read_path(p) {
            let mut batch = read.batch;
            batch.set_file(flowscope::model::FileId(i as u32));
            store.append(batch);
        }
    }
    store.index();
    store
}

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
