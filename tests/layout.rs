//! The layout: determinism, incremental stability, group separation on Spigo netflix, convergence,
//! NaN guard, pins, the worker and the `layout` subcommand.

use std::process::Command;

use flowscope::derive::ServiceGraph;
use flowscope::ingest::Report;
use flowscope::ingest::spigo::{ArchOptions, read_arch_with};
use flowscope::layout::{
    LayoutEngine, LayoutGraph, LayoutParams, LayoutWorker, carry_over, quality,
};
use flowscope::model::{Level, TraceStore};

use crate::common::fixture;

/// The instance graph of Spigo's netflix architecture expanded to `regions` regions at `percent` %.
fn netflix(regions: usize, percent: u32) -> LayoutGraph {
    let bytes = std::fs::read(fixture("spigo/arch/netflix_arch.json")).unwrap();
    let mut report = Report::default();
    let options = ArchOptions {
        scale_percent: percent,
        regions,
    };
    let mut store = TraceStore::default();
    store.append(read_arch_with(&bytes, &options, &mut report));
    store.index();
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    let unknown = store.data.interner.get(flowscope::model::topology::UNKNOWN);
    LayoutGraph::from_service_graph(&graph, unknown).0
}

/// A seeded microservice-like graph: `zones` zones in 2 regions, each a few services of
/// `per_zone / 5` instances calling the next service mostly within the zone.
fn synthetic(zones: u32, per_zone: u32, seed: u64) -> (LayoutGraph, Vec<u32>, Vec<u32>) {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as u32
    };
    let n = zones * per_zone;
    let zone_of: Vec<u32> = (0..n).map(|i| i / per_zone).collect();
    let region_of_zone: Vec<u32> = (0..zones).map(|z| z % 2).collect();
    let mut edges = Vec::new();
    for i in 0..n {
        let z = i / per_zone;
        let within = i % per_zone;
        if within + 5 < per_zone {
            edges.push((
                i,
                z * per_zone + within + 5 + next() % (per_zone - within - 5),
            ));
        }
        if next() % 10 == 0 {
            edges.push((i, next() % n));
        }
    }
    (
        LayoutGraph::with_zones(n as usize, edges.iter().copied(), &zone_of, &region_of_zone),
        zone_of,
        edges.iter().flat_map(|&(a, b)| [a, b]).collect(),
    )
}

fn diameter(pos: &[[f32; 2]]) -> f32 {
    let (lo, hi) = pos.iter().fold(
        ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]),
        |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        },
    );
    (hi[0] - lo[0]).hypot(hi[1] - lo[1])
}

#[test]
fn same_seed_same_positions() {
    let graph = netflix(2, 100);
    let run = |seed| {
        let params = LayoutParams {
            seed,
            max_iterations: 40,
            ..LayoutParams::default()
        };
        LayoutEngine::new(graph.clone(), params).run();
        let mut e = LayoutEngine::new(graph.clone(), params);
        e.run();
        e.positions()
    };
    let a = run(1);
    let b = run(1);
    let bits = |p: &[[f32; 2]]| -> Vec<u32> { p.iter().flatten().map(|x| x.to_bits()).collect() };
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&run(2)));
}

#[test]
fn adding_one_percent_of_nodes_barely_moves_the_others() {
    let (graph, zone_of, _) = synthetic(6, 100, 7);
    let n = graph.len();
    let mut first = LayoutEngine::new(graph.clone(), LayoutParams::default());
    first.run();
    let old = first.positions();
    // 1 % more nodes, each linked to one or two old nodes of its zone.
    let added = n / 100;
    let mut zones = zone_of.clone();
    let mut edges: Vec<(u32, u32)> = graph.edges().collect();
    for j in 0..added {
        let new = (n + j) as u32;
        let anchor = (j * 97 % n) as u32;
        zones.push(zone_of[anchor as usize]);
        edges.push((new, anchor));
        edges.push((new, (anchor + 1) % n as u32));
    }
    let regions: Vec<u32> = (0..6).map(|z| z % 2).collect();
    let grown = LayoutGraph::with_zones(n + added, edges, &zones, &regions);
    let keys_old: Vec<usize> = (0..n).collect();
    let keys_new: Vec<usize> = (0..n + added).collect();
    let previous = carry_over(&keys_old, &old, &keys_new);
    assert_eq!(previous.iter().filter(|p| p.is_some()).count(), n);
    let mut second = LayoutEngine::with_previous(grown, LayoutParams::default(), &previous);
    let stats = second.run();
    assert!(stats.finished);
    let new = second.positions();
    let d = diameter(&old);
    let moved: Vec<f32> = old
        .iter()
        .zip(&new)
        .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]) / d)
        .collect();
    let max = moved.iter().copied().fold(0.0, f32::max);
    let mean = moved.iter().sum::<f32>() / n as f32;
    eprintln!("diameter {d:.1}; old nodes moved: mean {mean:.4}, max {max:.4} of it");
    assert!(mean < 0.01, "mean move {mean} of the diameter");
    assert!(max < 0.05, "max move {max} of the diameter");
    // New nodes start beside their neighbours: each ends within a tenth of the diameter of its anchor.
    for j in 0..added {
        let anchor = j * 97 % n;
        let (p, q) = (new[n + j], new[anchor]);
        assert!((p[0] - q[0]).hypot(p[1] - q[1]) < 0.1 * d);
    }
}

#[test]
fn netflix_at_six_regions_keeps_zones_apart() {
    // Spigo's netflix at 6 regions × 400 %: 2,270 instances, 114,060 calls (83,172 pairs).
    let graph = netflix(6, 400);
    assert_eq!((graph.len(), graph.edge_count()), (2270, 83_172));
    assert_eq!(
        graph.region_count(),
        6 + 1,
        "six regions and the cross-region services"
    );
    let mut engine = LayoutEngine::new(graph.clone(), LayoutParams::default());
    let stats = engine.run();
    let pos = engine.positions();
    let q = quality::measure(&pos, &graph);
    eprintln!(
        "netflix 6×400 %: {} nodes, {} edges, {stats:?}, {q:?}",
        graph.len(),
        graph.edge_count()
    );
    // Measured at this seed: stress 0.186, zone separation 0.974, region separation 1.0 (sfdp:
    // stress 0.147, zones 0.38; the groups ignored, stress majorization reaches ~0.15 with
    // zones 0.09 — on this graph low stress and apart zones pull against each other).
    assert!(q.zone_separation >= 0.95, "{q:?}");
    assert!(q.region_separation >= 0.95, "{q:?}");
    assert!(q.stress < 0.2, "{q:?}");
    // Ungrouped (`layout --ungrouped`): sfdp's stress (0.147), zones mixed as in sfdp's drawing.
    // Measured 0.148 at this seed; seeds 1 to 6 give 0.145 to 0.153, mean 0.148, the same as
    // before a node's own leaf was always taken point by point (0.144 to 0.151, mean 0.148).
    let mut engine = LayoutEngine::new(graph.clone(), LayoutParams::ungrouped());
    engine.run();
    let p = quality::measure(&engine.positions(), &graph);
    assert!(p.stress <= 0.150, "{p:?}");
    assert!(p.zone_separation < 0.6, "{p:?}");
}

#[test]
fn convergence_stops_on_its_own() {
    let (graph, _, _) = synthetic(4, 100, 3);
    let params = LayoutParams {
        max_iterations: 5_000,
        ..LayoutParams::default()
    };
    let mut engine = LayoutEngine::new(graph, params);
    let stats = engine.run();
    assert!(stats.converged, "{stats:?}");
    assert!(stats.iterations < 5_000, "{stats:?}");
    assert!(stats.displacement < params.tolerance, "{stats:?}");
    assert!(!engine.step(), "a finished engine does not step");
}

#[test]
fn fixed_iterations_run_exactly() {
    let (graph, _, _) = synthetic(2, 50, 3);
    let params = LayoutParams {
        max_iterations: 17,
        stop_when_converged: false,
        ..LayoutParams::default()
    };
    let stats = LayoutEngine::new(graph, params).run();
    assert_eq!(stats.iterations, 17);
    assert!(stats.total_steps >= 17);
}

#[test]
fn non_finite_and_coincident_starts_end_finite() {
    let graph = LayoutGraph::new(6, [(0, 1), (1, 2), (3, 4)]);
    let previous = vec![
        Some([f32::NAN, 0.0]),
        Some([1.0, 1.0]),
        Some([1.0, 1.0]),
        Some([f32::INFINITY, 2.0]),
        Some([1.0, 1.0]),
        None,
    ];
    let mut e = LayoutEngine::with_previous(graph, LayoutParams::default(), &previous);
    e.pin(2, [f32::NAN, 1.0]); // ignored
    e.run();
    let pos = e.positions();
    assert!(pos.iter().flatten().all(|x| x.is_finite()), "{pos:?}");
    let distinct = pos
        .iter()
        .filter(|p| (p[0] - 1.0).abs() + (p[1] - 1.0).abs() > 1e-3);
    assert!(
        distinct.count() >= 4,
        "coincident nodes were pushed apart: {pos:?}"
    );
}

#[test]
#[expect(clippy::float_cmp, reason = "pinned positions are kept exactly")]
fn pinned_nodes_stay_put() {
    let (graph, _, _) = synthetic(2, 100, 5);
    let mut e = LayoutEngine::new(graph, LayoutParams::default());
    e.pin(0, [50.0, -20.0]);
    e.pin(10, [-3.0, 4.0]);
    e.step();
    assert_eq!(
        e.positions()[0],
        [50.0, -20.0],
        "pins show while coarse levels run"
    );
    e.run();
    let pos = e.positions();
    assert_eq!(pos[0], [50.0, -20.0]);
    assert_eq!(pos[10], [-3.0, 4.0]);
    e.unpin(10);
}

#[test]
fn ungrouped_graphs_lay_out_too() {
    let graph = LayoutGraph::new(400, (0..399).map(|i| (i, (i * 7 + 1) % 400)));
    let mut e = LayoutEngine::new(graph.clone(), LayoutParams::default());
    e.run();
    let q = quality::measure(&e.positions(), &graph);
    assert!((q.zone_separation - 1.0).abs() < f64::EPSILON);
    assert!(q.stress < 0.3, "{q:?}");
}

#[test]
fn nodes_of_unknown_place_are_not_pulled_into_groups() {
    // Zipkin services mostly have no region: they form the ungrouped zone, laid out like any
    // ungrouped graph (before they were, the mixed and the unknown ones were pulled apart: 0.62).
    let mut loaded = flowscope::cli::load(&[fixture("zipkin")], false).unwrap();
    let graph = ServiceGraph::build(&mut loaded.store, Level::Service);
    let unknown = loaded
        .store
        .data
        .interner
        .get(flowscope::model::topology::UNKNOWN);
    let (lg, _) = LayoutGraph::from_service_graph(&graph, unknown);
    assert!(lg.len() > 20);
    let ungrouped = (0..lg.len()).filter(|&i| !lg.grouped(i)).count();
    assert!(
        ungrouped * 2 > lg.len(),
        "{ungrouped} of {} ungrouped",
        lg.len()
    );
    let out = flowscope::cli::layout_json(&mut loaded.store, Level::Service, None, false);
    assert_eq!(out.nodes.len(), lg.len());
    assert!(out.stress < 0.2, "{}", out.stress);
}

#[test]
fn a_grid_is_drawn_as_a_grid() {
    // A 20 × 20 grid has a near-perfect drawing: low stress (a random layout: ~0.35).
    let side = 20u32;
    let edges = (0..side * side).flat_map(|i| {
        let right = (i % side + 1 < side).then_some((i, i + 1));
        let down = (i + side < side * side).then_some((i, i + side));
        right.into_iter().chain(down)
    });
    let graph = LayoutGraph::new((side * side) as usize, edges);
    let mut e = LayoutEngine::new(graph.clone(), LayoutParams::default());
    e.run();
    let s = quality::stress(&e.positions(), &graph, 64, 1);
    eprintln!("grid stress {s}");
    assert!(s < 0.05, "{s}");
}

#[test]
fn the_worker_streams_until_converged_and_stops_when_dropped() {
    let (graph, _, _) = synthetic(4, 100, 9);
    let n = graph.len();
    let updates = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&updates);
    let worker = LayoutWorker::spawn(
        LayoutEngine::new(graph.clone(), LayoutParams::default()),
        2.0,
        move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
    )
    .unwrap();
    let last = worker.join();
    assert!(
        last.stats.finished && last.stats.converged,
        "{:?}",
        last.stats
    );
    assert_eq!(last.positions.len(), n);
    assert!(last.generation >= 1);
    assert!(updates.load(std::sync::atomic::Ordering::Relaxed) >= 2);
    // Cancelled at once: the thread stops, drop does not hang.
    let params = LayoutParams {
        max_iterations: 1_000_000,
        stop_when_converged: false,
        ..LayoutParams::default()
    };
    let worker = LayoutWorker::spawn(LayoutEngine::new(graph, params), 1.0, || {}).unwrap();
    worker.cancel();
    let snap = worker.join();
    assert!(!snap.stats.finished);
    let worker = LayoutWorker::spawn(
        LayoutEngine::new(LayoutGraph::new(3, [(0, 1)]), params),
        1.0,
        || {},
    )
    .unwrap();
    assert!(worker.snapshot_since(u64::MAX).is_none());
    drop(worker);
}

#[test]
fn layout_subcommand_writes_positions_json() {
    let path = fixture("spigo/graph/lamp4.json");
    let out = std::env::temp_dir().join(format!("flowscope-layout-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_flowscope"))
        .args([
            "layout",
            path.to_str().unwrap(),
            "--level",
            "instance",
            "-o",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    let nodes = v["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    for n in nodes {
        assert!(
            n["id"].is_string() && n["x"].is_number() && n["y"].is_number(),
            "{n}"
        );
    }
    assert!(v["iterations"].as_u64().unwrap() > 0);
    assert!(v["ms"].as_f64().unwrap() >= 0.0);
    let stress = v["stress"].as_f64().unwrap();
    assert!((0.0..0.5).contains(&stress), "{stress}");
    // Instance names as written in the file.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        nodes
            .iter()
            .all(|n| text.contains(n["id"].as_str().unwrap()))
    );

    // To stdout, with a fixed number of iterations.
    let out = Command::new(env!("CARGO_BIN_EXE_flowscope"))
        .args(["layout", path.to_str().unwrap(), "--iterations", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["iterations"], 3);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["iterations", "ms", "nodes", "stress"]);
}
