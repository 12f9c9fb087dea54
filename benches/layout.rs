//! Criterion benchmark of one layout iteration on the full graph at 1k and 10k nodes.
//!
//! The graphs are seeded and microservice-like: 3 regions × 3 zones, services deployed per zone,
//! ~2.5 edges per node (one to the instance's deployment, the rest calls, 80 % within the zone).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flowscope::layout::{LayoutEngine, LayoutGraph, LayoutParams};

/// A seeded graph of `n` nodes in 9 zones of 3 regions.
fn synthetic(n: u32, seed: u64) -> LayoutGraph {
    let mut state = seed;
    let mut next = move |bound: u32| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % u64::from(bound.max(1))) as u32
    };
    let zones = 9;
    let zone_of: Vec<u32> = (0..n).map(|i| i % zones).collect();
    let region_of_zone: Vec<u32> = (0..zones).map(|z| z / 3).collect();
    let per_zone = n / zones;
    let mut edges = Vec::new();
    for i in 0..n {
        let z = i % zones;
        // Deployments of 10 instances: each instance hangs off its deployment's first node.
        let slot = i / zones;
        let head = (slot / 10) * 10 * zones + z;
        if head != i {
            edges.push((i, head));
        }
        let calls = 1 + u32::from(next(2) == 0);
        for _ in 0..calls {
            let target_zone = if next(10) < 8 { z } else { next(zones) };
            edges.push((i, next(per_zone) * zones + target_zone));
        }
    }
    LayoutGraph::with_zones(n as usize, edges, &zone_of, &region_of_zone)
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("layout_step");
    group.sample_size(20);
    for n in [1_000u32, 10_000] {
        let graph = synthetic(n, 42);
        let params = LayoutParams {
            max_iterations: usize::MAX,
            stop_when_converged: false,
            ..LayoutParams::default()
        };
        // Start from a converged layout, as a live layout steps.
        let mut first = LayoutEngine::new(graph.clone(), LayoutParams::default());
        first.run();
        let previous: Vec<Option<[f32; 2]>> = first.positions().into_iter().map(Some).collect();
        let mut engine = LayoutEngine::with_previous(graph, params, &previous);
        group.bench_function(format!("{n}"), |b| b.iter(|| black_box(engine.step())));
    }
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
