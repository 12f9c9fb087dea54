//! Measures layouts for `scripts/bench-layout`, one run per process (peak memory is per process).
//!
//! - `bench_layout netflix ARCH.json REGIONS PERCENT OUT` writes the Spigo architecture, expanded,
//!   as `OUT.json` (node-link, like `gen_graph.py`) and `OUT.dot` (for sfdp).
//! - `bench_layout flowscope GRAPH.json [ITERATIONS]` lays the graph out (to convergence unless
//!   ITERATIONS is given).
//! - `bench_layout steps GRAPH.json [STEPS] [REPEATS]` times only `LayoutEngine::step` on the
//!   full graph: STEPS steps (default 21) from the converged layout, REPEATS times (default 3),
//!   and prints the best and median ms per step, with no quality measured in the process. The
//!   converged start is cached in `GRAPH.start` (raw little-endian f32 pairs), so later runs (and
//!   runs under callgrind or perf) measure steps alone and always start from the same positions.
//! - `bench_layout fdg GRAPH.json ITERATIONS` runs fdg-sim (built with `--features bench-fdg`).
//! - `bench_layout quality GRAPH.json PLAIN` measures positions from `sfdp -Tplain`.
//!
//! Each prints one JSON line: timings, peak resident memory (`VmHWM`) and flowscope's quality
//! measures of the final positions.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use flowscope::cli::peak_rss_kb;
use flowscope::layout::{LayoutEngine, LayoutGraph, LayoutParams, quality};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
struct NodeJson {
    id: u32,
    name: String,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    region: String,
}

#[derive(Deserialize, Serialize)]
struct EdgeJson {
    source: u32,
    target: u32,
}

#[derive(Deserialize, Serialize)]
struct GraphJson {
    nodes: Vec<NodeJson>,
    edges: Vec<EdgeJson>,
}

/// The layout graph of a node-link file, grouped by (region, zone); node `i` is the i-th node.
fn load(path: &str) -> anyhow::Result<(GraphJson, LayoutGraph)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let g: GraphJson = serde_json::from_slice(&bytes).with_context(|| format!("parsing {path}"))?;
    let slot: FxHashMap<u32, u32> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i as u32))
        .collect();
    let mut zones: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    let mut regions: FxHashMap<&str, u32> = FxHashMap::default();
    let mut region_of_zone = Vec::new();
    let zone_of: Vec<u32> = g
        .nodes
        .iter()
        .map(|n| {
            let next = regions.len() as u32;
            let r = *regions.entry(n.region.as_str()).or_insert(next);
            let next = zones.len() as u32;
            *zones
                .entry((n.region.as_str(), n.zone.as_str()))
                .or_insert_with(|| {
                    region_of_zone.push(r);
                    next
                })
        })
        .collect();
    let edges = g
        .edges
        .iter()
        .filter_map(|e| Some((*slot.get(&e.source)?, *slot.get(&e.target)?)));
    let lg = LayoutGraph::with_zones(g.nodes.len(), edges, &zone_of, &region_of_zone);
    Ok((g, lg))
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

fn quality_json(pos: &[[f32; 2]], graph: &LayoutGraph) -> serde_json::Value {
    let q = quality::measure(pos, graph);
    serde_json::json!({
        "stress": q.stress,
        "zone_separation": q.zone_separation,
        "region_separation": q.region_separation,
        "overlaps": q.overlaps,
        "mean_edge": q.mean_edge,
        "diameter": diameter(pos),
    })
}

fn netflix(arch: &str, regions: usize, percent: u32, out: &str) -> anyhow::Result<()> {
    use flowscope::derive::ServiceGraph;
    use flowscope::ingest::Report;
    use flowscope::ingest::spigo::{ArchOptions, read_arch_with};
    use flowscope::model::{Level, TraceStore};
    use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};

    let bytes = std::fs::read(arch)?;
    let mut report = Report::default();
    let options = ArchOptions {
        scale_percent: percent,
        regions,
    };
    let batch = read_arch_with(&bytes, &options, &mut report);
    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    let sg = ServiceGraph::build(&mut store, Level::Instance);
    let interner = &store.data.interner;
    let nodes: Vec<_> = sg.graph.node_indices().collect();
    let slot: FxHashMap<_, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    let name = |s: Option<flowscope::model::Sym>| s.map_or("", |s| interner.resolve(s)).to_owned();
    let g = GraphJson {
        nodes: nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let w = sg.graph.node_weight(*n)?;
                Some(NodeJson {
                    id: i as u32,
                    name: interner.resolve(w.name).to_owned(),
                    zone: name(w.zone),
                    region: name(w.region),
                })
            })
            .collect(),
        edges: (&sg.graph)
            .edge_references()
            .filter_map(|e| {
                Some(EdgeJson {
                    source: *slot.get(&e.source())?,
                    target: *slot.get(&e.target())?,
                })
            })
            .collect(),
    };
    std::fs::write(format!("{out}.json"), serde_json::to_vec(&g)?)?;
    let mut dot = String::from("graph G {\n");
    for e in &g.edges {
        writeln!(dot, "{} -- {};", e.source, e.target)?;
    }
    dot.push_str("}\n");
    std::fs::write(format!("{out}.dot"), dot)?;
    println!(
        "{}",
        serde_json::json!({"nodes": g.nodes.len(), "edges": g.edges.len()})
    );
    Ok(())
}

fn flowscope(path: &str, iterations: Option<usize>) -> anyhow::Result<()> {
    let (_, graph) = load(path)?;
    let mut params = tuned(LayoutParams::default());
    if let Some(n) = iterations {
        params.max_iterations = n;
        params.stop_when_converged = false;
    }
    let input = graph.clone();
    let started = Instant::now();
    let mut engine = LayoutEngine::new(input, params);
    let setup_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stats = engine.run();
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let pos = engine.positions();
    // One iteration on the full graph, measured on its own: the median of 21 steps from the
    // final layout (the machine is shared; the median shrugs off a busy moment).
    let mut one = LayoutEngine::with_previous(
        graph.clone(),
        LayoutParams {
            max_iterations: 21,
            stop_when_converged: false,
            ..params
        },
        &pos.iter().copied().map(Some).collect::<Vec<_>>(),
    );
    let mut times: Vec<f64> = Vec::new();
    loop {
        let started = Instant::now();
        let more = one.step();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if !more {
            break;
        }
    }
    times.sort_by(f64::total_cmp);
    let ms_per_iteration = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{}",
        serde_json::json!({
            "tool": "flowscope",
            "nodes": graph.len(),
            "edges": graph.edge_count(),
            "iterations": stats.iterations,
            "total_steps": stats.total_steps,
            "levels": stats.levels,
            "converged": stats.converged,
            "total_ms": total_ms,
            "setup_ms": setup_ms,
            "ms_per_iteration": ms_per_iteration,
            "quality": quality_json(&pos, &graph),
            "peak_rss_kb": peak_rss_kb(),
        })
    );
    Ok(())
}

/// The converged layout of `graph`, from the cache file `cache` or computed (and cached).
fn converged_start(
    graph: &LayoutGraph,
    params: LayoutParams,
    cache: &str,
) -> anyhow::Result<Vec<[f32; 2]>> {
    if let Ok(bytes) = std::fs::read(cache)
        && bytes.len() == graph.len() * 8
    {
        let f = |b: &[u8]| b.try_into().map_or(f32::NAN, f32::from_le_bytes);
        return Ok(bytes
            .chunks_exact(8)
            .map(|c| {
                let (x, y) = c.split_at(4);
                [f(x), f(y)]
            })
            .collect());
    }
    let mut engine = LayoutEngine::new(graph.clone(), params);
    engine.run();
    let pos = engine.positions();
    let bytes: Vec<u8> = pos
        .iter()
        .flat_map(|p| p.iter().flat_map(|x| x.to_le_bytes()))
        .collect();
    std::fs::write(cache, bytes).with_context(|| format!("writing {cache}"))?;
    Ok(pos)
}

/// Times `LayoutEngine::step` alone on the full graph (see the module doc).
fn steps(path: &str, steps: usize, repeats: usize) -> anyhow::Result<()> {
    let (_, graph) = load(path)?;
    let params = tuned(LayoutParams::default());
    let start = converged_start(&graph, params, &format!("{path}.start"))?;
    let previous: Vec<Option<[f32; 2]>> = start.iter().copied().map(Some).collect();
    let mut times: Vec<f64> = Vec::new();
    let mut checksum = 0.0f64;
    for _ in 0..repeats.max(1) {
        let mut engine = LayoutEngine::with_previous(
            graph.clone(),
            LayoutParams {
                max_iterations: steps.max(1),
                stop_when_converged: false,
                separate_margin: -1.0,
                ..params
            },
            &previous,
        );
        loop {
            let started = Instant::now();
            let more = engine.step();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if !more {
                break;
            }
        }
        checksum = engine
            .positions()
            .iter()
            .map(|p| f64::from(p[0]) * 1.5 + f64::from(p[1]))
            .sum();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "tool": "flowscope steps",
            "nodes": graph.len(),
            "edges": graph.edge_count(),
            "steps": times.len(),
            "best_ms": times.first().copied().unwrap_or(0.0),
            "median_ms": times.get(times.len() / 2).copied().unwrap_or(0.0),
            "checksum": checksum,
        })
    );
    Ok(())
}

/// Overrides from `LAYOUT_PARAMS="zone_pull=0.1,theta=1.2,..."`, for tuning runs.
fn tuned(mut p: LayoutParams) -> LayoutParams {
    let Ok(spec) = std::env::var("LAYOUT_PARAMS") else {
        return p;
    };
    for kv in spec.split(',') {
        if kv.trim() == "plain" {
            p.forces = flowscope::layout::ForceParams::plain();
            p.separate_margin = -1.0;
            continue;
        }
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let Ok(v) = v.trim().parse::<f32>() else {
            continue;
        };
        match k.trim() {
            "repulsion" => p.forces.repulsion = v,
            "theta" => p.forces.theta = v,
            "zone_pull" => p.forces.zone_pull = v,
            "region_pull" => p.forces.region_pull = v,
            "gravity" => p.forces.gravity = v,
            "cross_zone_edge" => p.forces.cross_zone_edge = v,
            "cross_region_edge" => p.forces.cross_region_edge = v,
            "centre_pull" => p.forces.centre_pull = v,
            "anchor_pull" => p.anchor_pull = v,
            "settled_mobility" => p.settled_mobility = v,
            "zone_push" => p.forces.zone_push = v,
            "region_push" => p.forces.region_push = v,
            "tolerance" => p.tolerance = v,
            "cooling" => p.cooling = v,
            "decay" => p.decay = v,
            "coarse_decay" => p.coarse_decay = v,
            "coarse_max_iterations" => p.coarse_max_iterations = v as usize,
            "step" => p.step = v,
            "refine_step" => p.refine_step = v,
            "max_iterations" => p.max_iterations = v as usize,
            "multilevel" => p.multilevel = v > 0.0,
            "separate_margin" => p.separate_margin = v,
            _ => eprintln!("bench_layout: unknown parameter {k}"),
        }
    }
    p
}

#[cfg(feature = "bench-fdg")]
fn fdg(path: &str, iterations: usize) -> anyhow::Result<()> {
    use fdg_sim::{ForceGraph, ForceGraphHelper as _, Simulation, SimulationParameters};

    let (g, graph) = load(path)?;
    let mut fg: ForceGraph<(), ()> = ForceGraph::default();
    let ids: Vec<_> = g
        .nodes
        .iter()
        .map(|n| fg.add_force_node(n.name.clone(), ()))
        .collect();
    for (a, b) in graph.edges() {
        if let (Some(&x), Some(&y)) = (ids.get(a as usize), ids.get(b as usize)) {
            fg.add_edge(x, y, ());
        }
    }
    let started = Instant::now();
    let mut sim = Simulation::from_graph(fg, SimulationParameters::default());
    let setup_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    for _ in 0..iterations {
        sim.update(0.035);
    }
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let pos: Vec<[f32; 2]> = ids
        .iter()
        .map(|&i| {
            sim.get_graph()
                .node_weight(i)
                .map_or([0.0; 2], |n| [n.location.x, n.location.y])
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "tool": "fdg-sim",
            "nodes": graph.len(),
            "edges": graph.edge_count(),
            "iterations": iterations,
            "setup_ms": setup_ms,
            "total_ms": total_ms,
            "ms_per_iteration": total_ms / iterations.max(1) as f64,
            "quality": quality_json(&pos, &graph),
            "peak_rss_kb": peak_rss_kb(),
        })
    );
    Ok(())
}

#[cfg(not(feature = "bench-fdg"))]
fn fdg(_path: &str, _iterations: usize) -> anyhow::Result<()> {
    anyhow::bail!(
        "built without fdg-sim: cargo build --release --features bench-fdg --example bench_layout"
    )
}

/// Positions from `sfdp -Tplain` (`node NAME X Y W H ...`), node names being the node ids.
fn quality_of_plain(path: &str, plain: &str) -> anyhow::Result<()> {
    let (g, graph) = load(path)?;
    let slot: FxHashMap<u32, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let text = std::fs::read_to_string(plain)?;
    let mut pos = vec![[0.0f32; 2]; graph.len()];
    for line in text.lines() {
        let mut f = line.split_whitespace();
        if f.next() != Some("node") {
            continue;
        }
        let (Some(id), Some(x), Some(y)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (Ok(id), Ok(x), Ok(y)) = (
            id.trim_matches('"').parse::<u32>(),
            x.parse::<f32>(),
            y.parse::<f32>(),
        ) else {
            continue;
        };
        if let Some(p) = slot.get(&id).and_then(|&i| pos.get_mut(i)) {
            *p = [x, y];
        }
    }
    println!(
        "{}",
        serde_json::json!({ "tool": "sfdp", "quality": quality_json(&pos, &graph) })
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match (arg(0), arg(1)) {
        (Some("netflix"), Some(arch)) => netflix(
            arch,
            arg(2).and_then(|s| s.parse().ok()).unwrap_or(6),
            arg(3).and_then(|s| s.parse().ok()).unwrap_or(400),
            arg(4).unwrap_or("netflix"),
        ),
        (Some("flowscope"), Some(path)) => flowscope(path, arg(2).and_then(|s| s.parse().ok())),
        (Some("steps"), Some(path)) => steps(
            path,
            arg(2).and_then(|s| s.parse().ok()).unwrap_or(21),
            arg(3).and_then(|s| s.parse().ok()).unwrap_or(3),
        ),
        (Some("fdg"), Some(path)) => fdg(path, arg(2).and_then(|s| s.parse().ok()).unwrap_or(100)),
        (Some("quality"), Some(path)) => quality_of_plain(path, arg(2).unwrap_or("-")),
        _ => anyhow::bail!(
            "usage: bench_layout netflix ARCH REGIONS PERCENT OUT | flowscope GRAPH [N] | steps GRAPH [STEPS] [REPEATS] | fdg GRAPH N | quality GRAPH PLAIN"
        ),
    }
}
