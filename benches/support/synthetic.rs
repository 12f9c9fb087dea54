//! A synthetic Spigo-style instance graph with fixed positions, shared by the scene benchmark and `bench_frame`.
//!
//! Regions × 3 zones, services with instances, calls mostly within a zone; zones sit on a circle
//! and instances on a spiral around their zone's centre, so only scenes and painters are measured.

use flowscope::derive::ServiceGraph;
use flowscope::model::{Batch, DeclaredEdge, DeclaredNode, FileId, Level, NameLevel, TraceStore};
use petgraph::visit::NodeIndexable as _;

const PACKAGES: [&str; 5] = ["elb", "zuul", "karyon", "staash", "priamCassandra"];

/// A graph of `nodes` instances (2.55 calls each, so about 2.5 edges per node once repeats
/// merge: 100,000 nodes have about 250,000 edges), its store and fixed positions.
pub fn synthetic(nodes: usize) -> (TraceStore, ServiceGraph, Vec<[f32; 2]>) {
    let regions = (nodes / 2000).clamp(1, 24);
    let mut batch = Batch::default();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut names = Vec::with_capacity(nodes);
    for i in 0..nodes {
        let region = i % regions;
        let zone = ["zoneA", "zoneB", "zoneC"][(i / regions) % 3];
        let service = (i / (regions * 3)) % 60;
        let name = batch.sym(&format!("bench.region-{region}.{zone}.svc{service}-{i:06}"));
        let package = batch.sym(PACKAGES[service % PACKAGES.len()]);
        names.push(name);
        batch.nodes.push(DeclaredNode {
            name,
            level: NameLevel::Instance,
            package: Some(package),
            ip: None,
            done: false,
            done_micros: None,
            timestamp_micros: None,
            file: FileId(0),
        });
    }
    for i in 0..nodes {
        for _ in 0..(2 + usize::from(i % 20 < 11)) {
            let j = if next() % 10 < 8 {
                (i + 3 * regions * (1 + (next() % 20) as usize)) % nodes
            } else {
                (next() as usize) % nodes
            };
            if let (Some(&a), Some(&b)) = (names.get(i), names.get(j)) {
                batch.edges.push(DeclaredEdge {
                    source: a,
                    target: b,
                    level: NameLevel::Instance,
                    calls: 1 + next() % 100,
                    errors: u64::from(next() % 50 == 0),
                    file: FileId(0),
                });
            }
        }
    }
    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    let mut positions = vec![[0.0f32; 2]; graph.graph.node_bound()];
    let groups = (regions * 3) as f32;
    for n in graph.graph.node_indices() {
        let i = n.index();
        let group = (i % (regions * 3)) as f32;
        let a = group / groups * std::f32::consts::TAU;
        let k = (i / (regions * 3)) as f32;
        let b = k * 2.399_963; // golden angle spiral inside the zone
        let r = 8.0 * k.sqrt();
        if let Some(p) = positions.get_mut(i) {
            *p = [
                a.cos() * 3000.0 + b.cos() * r,
                a.sin() * 3000.0 + b.sin() * r,
            ];
        }
    }
    (store, graph, positions)
}
