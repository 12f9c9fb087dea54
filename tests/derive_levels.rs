//! The one walk that derives every level ([`build_levels`]) against each level derived on its
//! own ([`ServiceGraph::build_with_members`]), on every shared file, on all of them merged and on
//! the fixtures.

use flowscope::derive::ServiceGraph;
use flowscope::derive::levels::build_levels;
use flowscope::ingest;
use flowscope::model::{Interner, Level, Sym, TraceStore};

use crate::common::{fixture, shared_traces, store_of_readable};

/// A graph spelled out in strings, so graphs over different interners compare.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Spelled {
    nodes: Vec<String>,
    edges: Vec<(u32, u32, String)>,
    places: Vec<String>,
    index: Vec<(String, u32)>,
    members: Vec<(Vec<u32>, Vec<u32>)>,
}

pub(crate) fn spell(graph: &ServiceGraph, interner: &Interner, traces: usize) -> Spelled {
    let name = |s: Option<Sym>| s.map_or("-", |s| interner.resolve(s)).to_owned();
    let nodes = graph
        .graph
        .node_indices()
        .map(|n| {
            let i = &graph.graph[n];
            format!(
                "{} {} {} {} {} {} {} {}",
                name(Some(i.name)),
                name(i.region),
                name(i.zone),
                name(i.service),
                name(i.package),
                i.instances,
                i.done,
                i.stopped_early
            )
        })
        .collect();
    let edges = graph
        .graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = graph.graph.edge_endpoints(e)?;
            Some((
                a.index() as u32,
                b.index() as u32,
                format!("{:?}", graph.graph[e]),
            ))
        })
        .collect();
    let places = graph
        .topology
        .places()
        .map(|p| {
            format!(
                "{} {} {} {} {}",
                name(Some(p.region)),
                name(Some(p.zone)),
                name(Some(p.service)),
                name(Some(p.instance)),
                name(p.package)
            )
        })
        .collect();
    let mut index: Vec<(String, u32)> = graph
        .index
        .iter()
        .map(|(s, n)| (name(Some(*s)), n.index() as u32))
        .collect();
    index.sort();
    let members = (0..traces)
        .map(|t| {
            (
                graph.trace_members.nodes(t).to_vec(),
                graph.trace_members.edges(t).to_vec(),
            )
        })
        .collect();
    Spelled {
        nodes,
        edges,
        places,
        index,
        members,
    }
}

/// Compares the two derivations level by level; returns (nodes, edges, trace memberships) seen.
fn same_at_every_level(what: &str, store: &TraceStore) -> (usize, usize, usize) {
    let traces = store.traces().len();
    let mut once = store.clone();
    let levels = build_levels(&mut once, |_, i, entry, tree| {
        (i, entry.range.clone(), tree.spans.len())
    });
    assert_eq!(
        levels.per_trace.len(),
        traces,
        "{what}: one result per trace"
    );
    for (i, (index, range, _)) in levels.per_trace.iter().enumerate() {
        assert_eq!(*index, i, "{what}: per-trace results in store order");
        assert_eq!(*range, store.traces()[i].range, "{what}: trace {i}'s entry");
    }
    let mut seen = (0, 0, 0);
    for (level, graph) in Level::ALL.iter().zip(&levels.graphs) {
        let mut alone = store.clone();
        let reference = ServiceGraph::build_with_members(&mut alone, *level);
        assert_eq!(graph.level, *level);
        assert_eq!(graph.trace_members.len(), traces, "{what} at {level:?}");
        let got = spell(graph, &once.data.interner, traces);
        let want = spell(&reference, &alone.data.interner, traces);
        assert_eq!(got.nodes, want.nodes, "{what}: nodes at {level:?}");
        assert_eq!(got.edges, want.edges, "{what}: edges at {level:?}");
        assert_eq!(got.places, want.places, "{what}: places at {level:?}");
        assert_eq!(got.index, want.index, "{what}: index at {level:?}");
        assert_eq!(got.members, want.members, "{what}: members at {level:?}");
        seen.0 += got.nodes.len();
        seen.1 += got.edges.len();
        seen.2 += got.members.iter().filter(|m| !m.0.is_empty()).count();
    }
    seen
}

#[test]
fn one_walk_equals_each_level_alone_on_every_shared_file() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let files = ingest::expand_paths(&[dir]).unwrap();
    let mut totals = (0, 0, 0);
    let mut compared = 0;
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() && store.data.nodes.is_empty() {
            continue;
        }
        let seen = same_at_every_level(&file.display().to_string(), &store);
        totals = (totals.0 + seen.0, totals.1 + seen.1, totals.2 + seen.2);
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} shared files were compared");
    // The comparison saw real graphs, not empty ones.
    assert!(
        totals.0 > 1000 && totals.1 > 1000 && totals.2 > 1000,
        "{totals:?}"
    );
}

#[test]
fn one_walk_equals_each_level_alone_on_all_shared_files_merged() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let files = ingest::expand_paths(&[dir]).unwrap();
    let store = store_of_readable(&files);
    let (nodes, edges, members) = same_at_every_level("all shared files", &store);
    assert!(nodes > 1000 && edges > 1000 && members > 100);
}

#[test]
fn one_walk_equals_each_level_alone_on_the_fixtures() {
    let files = ingest::expand_paths(&[fixture("")]).unwrap();
    let mut compared = 0;
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        if store.spans().is_empty() && store.data.nodes.is_empty() {
            continue;
        }
        same_at_every_level(&file.display().to_string(), &store);
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} fixtures were compared");
}

/// A span reported in two pieces (one naming the remote service, one its address) links to an
/// instance that no single span names: the walk numbers such keys after the rest, and the result
/// is still each level's own derivation, with the merged instance placed.
#[test]
fn one_walk_places_instances_only_a_merged_span_names() {
    let store = store_of_readable(&[fixture("handmade/zipkin-split-span.json")]);
    same_at_every_level("split span", &store);
    let mut once = store.clone();
    let levels = build_levels(&mut once, |_, _, _, _| ());
    let interner = &once.data.interner;
    let instance = &levels.graphs[Level::ALL
        .iter()
        .position(|l| *l == Level::Instance)
        .unwrap()];
    let mut links: Vec<String> = instance
        .links()
        .iter()
        .map(|l| {
            format!(
                "{} -> {} x{}",
                interner.resolve(l.parent),
                interner.resolve(l.child),
                l.call_count
            )
        })
        .collect();
    links.sort();
    assert_eq!(
        links,
        [
            "storefront@10.77.0.1 -> kvcache x1",
            "storefront@10.77.0.1 -> kvcache@10.77.3.3 x1",
            "storefront@10.77.0.1 -> ledger x1",
            "storefront@10.77.0.1 -> ledger@10.77.2.5 x2"
        ]
    );
}

/// Where each trace goes at a level (its members in the whole load's graph) is the graph of that
/// trace derived alone: the same edges, and nodes among that graph's. Checked against a fresh
/// derivation per trace, independently of how the load's members are worked out (shared between
/// equal traces, or added one to one where no two instance keys share a node).
#[test]
fn a_traces_members_are_the_graph_of_that_trace_alone() {
    use flowscope::derive::window::one_trace;
    use petgraph::stable_graph::{EdgeIndex, NodeIndex};
    let mut files = ingest::expand_paths(&[fixture("")]).unwrap();
    if let Some(dir) = shared_traces() {
        files.extend(ingest::expand_paths(&[dir]).unwrap());
    }
    let mut compared = 0;
    for file in &files {
        let store = store_of_readable(std::slice::from_ref(file));
        // Declared elements belong to every trace's own graph, and to no trace's members.
        if store.spans().is_empty() || !store.data.nodes.is_empty() || !store.data.edges.is_empty()
        {
            continue;
        }
        let mut once = store.clone();
        let levels = build_levels(&mut once, |_, _, _, _| ());
        for (level, graph) in Level::ALL.iter().zip(&levels.graphs) {
            let name = |n: NodeIndex| once.data.interner.resolve(graph.graph[n].name).to_owned();
            for t in 0..store.traces().len().min(40) {
                let mut alone = one_trace(&store, t);
                let own = ServiceGraph::build(&mut alone, *level);
                let own_name =
                    |n: NodeIndex| alone.data.interner.resolve(own.graph[n].name).to_owned();
                let mut want: Vec<(String, String)> = own
                    .graph
                    .edge_indices()
                    .filter_map(|e| own.graph.edge_endpoints(e))
                    .map(|(a, b)| (own_name(a), own_name(b)))
                    .collect();
                let mut got: Vec<(String, String)> = graph
                    .trace_members
                    .edges(t)
                    .iter()
                    .filter_map(|&e| graph.graph.edge_endpoints(EdgeIndex::new(e as usize)))
                    .map(|(a, b)| (name(a), name(b)))
                    .collect();
                want.sort();
                got.sort();
                assert_eq!(
                    got,
                    want,
                    "{} trace {t} at {level:?}: edges",
                    file.display()
                );
                let own_nodes: Vec<String> = own.graph.node_indices().map(own_name).collect();
                let nodes: Vec<String> = graph
                    .trace_members
                    .nodes(t)
                    .iter()
                    .map(|&n| name(NodeIndex::new(n as usize)))
                    .collect();
                for n in got.iter().flat_map(|(a, b)| [a, b]).chain(&nodes) {
                    assert!(
                        own_nodes.contains(n) && nodes.contains(n),
                        "{} trace {t} at {level:?}: node {n}",
                        file.display()
                    );
                }
                compared += got.len();
            }
        }
    }
    assert!(compared > 1000, "only {compared} edges compared");
}
