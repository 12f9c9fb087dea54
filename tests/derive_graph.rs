//! Graphs at each level: places from tags and Spigo names, packages and `done`, latency, Spigo
//! flows against their architecture.

use std::collections::BTreeSet;
use std::path::Path;

use flowscope::cli::links_json;
use flowscope::derive::ServiceGraph;
use flowscope::model::{Level, TraceStore};

use crate::common::{fixture, shared_traces, store_of};

fn pairs(store: &mut TraceStore, level: Level) -> Vec<(String, String, u64, u64)> {
    links_json(store, level)
        .into_iter()
        .map(|l| (l.parent, l.child, l.call_count, l.error_count))
        .collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn tags_place_instances_in_regions_and_zones() {
    let mut store = store_of(&[fixture("handmade/zipkin-regions.json")]);
    assert_eq!(
        pairs(&mut store, Level::Service),
        vec![
            (s("browser"), s("web"), 2, 0),
            (s("cart"), s("db"), 1, 1),
            (s("web"), s("cart"), 2, 0),
        ]
    );
    assert_eq!(
        pairs(&mut store, Level::Instance),
        vec![
            (s("browser"), s("web@10.0.0.1"), 1, 0),
            (s("browser"), s("web@10.9.0.1"), 1, 0),
            (s("cart@10.0.1.7"), s("db"), 1, 1),
            (s("web@10.0.0.1"), s("cart@10.0.1.7"), 1, 0),
            (s("web@10.9.0.1"), s("cart"), 1, 0),
        ]
    );
    assert_eq!(
        pairs(&mut store, Level::Zone),
        vec![
            (s("eu-west-1/eu-west-1a"), s("eu-west-1/eu-west-1b"), 1, 0),
            (s("eu-west-1/eu-west-1b"), s("unknown/unknown"), 1, 1),
            (s("unknown/unknown"), s("eu-west-1/eu-west-1a"), 1, 0),
            (s("unknown/unknown"), s("us-east-1/us-east-1a"), 1, 0),
            (s("us-east-1/us-east-1a"), s("unknown/unknown"), 1, 0),
        ]
    );
    let graph = ServiceGraph::build(&mut store, Level::Region);
    let mut regions: Vec<&str> = graph
        .graph
        .node_weights()
        .map(|n| store.data.interner.resolve(n.name))
        .collect();
    regions.sort_unstable();
    assert_eq!(regions, vec!["eu-west-1", "unknown", "us-east-1"]);
}

#[test]
fn edges_carry_latency() {
    let mut store = store_of(&[fixture("handmade/zipkin-regions.json")]);
    let graph = ServiceGraph::build(&mut store, Level::Service);
    let interner = &store.data.interner;
    let edge = graph
        .graph
        .edge_indices()
        .find(|&e| {
            let (a, b) = graph.graph.edge_endpoints(e).unwrap();
            interner.resolve(graph.graph[a].name) == "browser"
                && interner.resolve(graph.graph[b].name) == "web"
        })
        .unwrap();
    let latency = graph.graph[edge].latency.unwrap();
    // The two root SERVER spans: 900 µs and 700 µs.
    assert_eq!(
        (
            latency.count,
            latency.mean_micros,
            latency.p50_micros,
            latency.p99_micros
        ),
        (2, 800, 700, 900)
    );
}

#[test]
fn spigo_graph_keeps_packages_and_done_records() {
    let mut store = store_of(&[fixture("spigo/runs/netflix/graph.json")]);
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    assert_eq!(graph.graph.node_count(), 98);
    assert_eq!(graph.graph.edge_count(), 371);
    let interner = &store.data.interner;
    let done: BTreeSet<&str> = graph
        .graph
        .node_weights()
        .filter(|n| n.done)
        .filter_map(|n| n.package.map(|p| interner.resolve(p)))
        .collect();
    assert_eq!(done, BTreeSet::from(["karyon", "staash", "zuul"]));
    assert_eq!(graph.graph.node_weights().filter(|n| n.done).count(), 72);
    let zones: BTreeSet<&str> = graph
        .graph
        .node_weights()
        .filter_map(|n| n.zone.map(|z| interner.resolve(z)))
        .collect();
    assert_eq!(zones, BTreeSet::from(["*", "zoneA", "zoneB", "zoneC"]));
    // At service level, the instances of a service are one node.
    let services = ServiceGraph::build(&mut store, Level::Service);
    assert_eq!(services.graph.node_count(), 21);
}

#[test]
fn a_later_run_does_not_make_an_earlier_runs_shutdown_early() {
    let path = fixture("spigo/runs/netflix/graph.json");
    let early = |store: &mut TraceStore| {
        let graph = ServiceGraph::build(store, Level::Instance);
        graph
            .graph
            .node_weights()
            .filter(|n| n.stopped_early)
            .count()
    };
    let alone = early(&mut store_of(std::slice::from_ref(&path)));
    // The same run six hours later, as a second file in the same directory.
    let later = std::fs::read_to_string(&path)
        .unwrap()
        .replace("2026-11-21T23:04", "2026-11-22T05:04");
    let dir = std::env::temp_dir().join(format!("flowscope-later-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let later_path = dir.join("graph.json");
    std::fs::write(&later_path, later).unwrap();
    let both = early(&mut store_of(&[path, later_path]));
    std::fs::remove_dir_all(&dir).ok();
    assert!(alone < 72, "{alone} of 72 stopped early");
    assert_eq!(both, alone);
}

/// The arch file's service dependencies, `eureka` excluded.
fn arch_dependencies(path: &Path) -> BTreeSet<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    for service in v["services"].as_array().unwrap() {
        let name = service["name"].as_str().unwrap();
        for dep in service["dependencies"].as_array().into_iter().flatten() {
            let dep = dep.as_str().unwrap();
            if dep != "eureka" {
                out.insert((name.to_owned(), dep.to_owned()));
            }
        }
    }
    out
}

fn flow_service_edges(flow: &Path) -> BTreeSet<(String, String)> {
    let mut store = store_of(&[flow.to_owned()]);
    links_json(&mut store, Level::Service)
        .into_iter()
        .map(|l| (l.parent, l.child))
        .collect()
}

#[test]
fn spigo_flow_service_edges_are_arch_dependencies() {
    let lamp = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces/spigo-lamp");
    let edges = flow_service_edges(&lamp.join("flow.json"));
    let deps = arch_dependencies(&lamp.join("arch.json"));
    assert!(!edges.is_empty());
    assert!(
        edges.is_subset(&deps),
        "{:?}",
        edges.difference(&deps).collect::<Vec<_>>()
    );
    // Every lamp dependency carries traffic.
    assert_eq!(edges, deps);

    // In bigger runs, a Cassandra node that forwards a write to its ring owner reuses its
    // caller's parent span (Spigo's `AddSpan`); a lone `cs` of such a span is back-filled by
    // Zipkin's linker (FORMATS.md §1.5 step 6) to the grandparent service. So a flow may also hold
    // two-hop edges parent → data store that skip the data-access layer, and nothing else.
    let Some(traces) = shared_traces() else {
        return;
    };
    for (arch, skipped) in [("netflix", 7), ("netflixoss", 2), ("edge", 0)] {
        let run = traces.join("spigo/runs").join(arch);
        let edges = flow_service_edges(&run.join("flow.json"));
        let deps = arch_dependencies(&run.join("arch.json"));
        assert!(!edges.is_empty(), "{arch}");
        let extra: Vec<_> = edges.difference(&deps).collect();
        assert_eq!(extra.len(), skipped, "{arch}: {extra:?}");
        for (p, c) in extra {
            let two_hop = deps
                .iter()
                .any(|(a, m)| a == p && deps.contains(&(m.clone(), c.clone())));
            assert!(
                two_hop && c.starts_with("cass"),
                "{arch}: {p} → {c} is not a skipped hop"
            );
        }
    }
}

#[test]
fn flows_graphs_and_architectures_name_the_same_instances() {
    let lamp = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_traces/spigo-lamp");
    let mut store = store_of(&[
        lamp.join("arch.json"),
        lamp.join("graph.json"),
        lamp.join("flow.json"),
    ]);
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    assert_eq!(graph.graph.node_count(), 23);
    assert_eq!(graph.topology.len(), 23);
}

/// At the instance level every node of a flow is named exactly as its spans spell it, however many
/// fields the Spigo name has (Zipkin prints it whole); the hierarchy is still parsed from it, and a
/// label shows the instance field. See: #16
#[test]
fn issue_16_instance_nodes_are_named_as_the_spans_spell_them() {
    let path = fixture("spigo/flow/lamp_flow.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let spelled: std::collections::BTreeSet<String> = text
        .split("\"serviceName\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    assert!(spelled.contains("lamp.*.*..www00...www.denominator"));
    let mut store = store_of(&[path]);
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    let interner = &store.data.interner;
    let names: std::collections::BTreeSet<String> = graph
        .graph
        .node_weights()
        .map(|n| interner.resolve(n.name).to_owned())
        .collect();
    assert_eq!(names, spelled);
    let www = graph
        .graph
        .node_weights()
        .find(|n| interner.resolve(n.name) == "lamp.*.*..www00...www.denominator")
        .unwrap();
    let name = |s: Option<flowscope::model::Sym>| s.map(|s| interner.resolve(s));
    assert_eq!(
        (
            name(www.service),
            name(www.region),
            name(www.zone),
            name(www.package)
        ),
        (Some("www"), Some("*"), Some("*"), Some("denominator"))
    );
    let positions = crate::common::grouped_circle_positions(&graph, interner);
    let scene = flowscope::scene::build(&flowscope::scene::SceneRequest {
        graph: &graph,
        interner,
        positions: &positions,
        view: &flowscope::scene::View::default(),
        stamp: &flowscope::scene::Stamp::default(),
        measure: &flowscope::render::png::measure,
    });
    assert!(
        scene.labels.iter().any(|l| l.text == "www00"),
        "{:?}",
        scene.labels
    );
    assert!(!scene.labels.iter().any(|l| l.text == "denominator"));
}
