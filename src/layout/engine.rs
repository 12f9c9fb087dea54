//! [`LayoutEngine`]: iterations with an adaptive step, multilevel refinement, convergence on measured displacement, pins and incremental starts.

use std::hash::Hash;
use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::coarsen::coarsen;
use super::forces::{ForceParams, ForceScratch, Groups, edge_weights, forces};
use super::graph::LayoutGraph;
use super::quadtree::QuadTree;
use super::rng::Rng;
use super::separate::separate_groups;

/// Coarsening stops at this many nodes.
const COARSEST_NODES: usize = 64;
/// A level is never called converged before this many iterations.
const MIN_LEVEL_ITERATIONS: usize = 5;

/// How a layout runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutParams {
    /// The force model.
    pub forces: ForceParams,
    /// Seed of the initial positions and the coarsening: same seed and graph, same layout.
    pub seed: u64,
    /// Iterations on the full graph at most.
    pub max_iterations: usize,
    /// Iterations on each coarser graph at most.
    pub coarse_max_iterations: usize,
    /// Stop the full graph's iterations once converged; otherwise run exactly `max_iterations`.
    pub stop_when_converged: bool,
    /// Converged when the mean displacement of a step falls below this many `k`.
    pub tolerance: f32,
    /// Lay out successively coarser graphs first (ignored by incremental starts).
    pub multilevel: bool,
    /// Factor the step shrinks by when the energy rises (and grows by after 5 falls).
    pub cooling: f32,
    /// Factor the step shrinks by after every iteration (an annealing schedule that bounds the
    /// iterations to convergence).
    pub decay: f32,
    /// The same on the coarser graphs, whose layouts only need to be roughly right.
    pub coarse_decay: f32,
    /// Largest move of a node in one step at the start, in `k`.
    pub step: f32,
    /// Largest move after moving to a finer graph, in `k`.
    pub refine_step: f32,
    /// Largest move at the start of an incremental layout, in `k`.
    pub incremental_step: f32,
    /// How far nodes that had a position may move, relative to new nodes, in an incremental layout.
    pub settled_mobility: f32,
    /// Pull of nodes that had a position back towards it, in an incremental layout.
    pub anchor_pull: f32,
    /// At the end, move each grouped node that lies nearer another zone's or region's centroid
    /// than its own just inside its own group's Voronoi cell ([`separate_groups`]), by this share
    /// of the distance between the centroids; group hulls then do not overlap. Negative: off.
    pub separate_margin: f32,
}

impl Default for LayoutParams {
    fn default() -> Self {
        Self {
            forces: ForceParams::default(),
            seed: 0x5EED,
            max_iterations: 300,
            coarse_max_iterations: 200,
            stop_when_converged: true,
            tolerance: 0.01,
            multilevel: true,
            cooling: 0.9,
            decay: 0.85,
            coarse_decay: 0.8,
            step: 2.0,
            refine_step: 1.0,
            incremental_step: 0.3,
            settled_mobility: 0.25,
            anchor_pull: 0.5,
            separate_margin: 0.02,
        }
    }
}

impl LayoutParams {
    /// Regions and zones ignored: the plain spring–electrical model without the final group
    /// separation. Lower stress where groups are densely connected to each other, groups mixed.
    pub fn ungrouped() -> Self {
        Self {
            forces: ForceParams::plain(),
            separate_margin: -1.0,
            ..Self::default()
        }
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LayoutStats {
    /// Iterations on the full graph.
    pub iterations: usize,
    /// Iterations on all graphs, coarse ones included.
    pub total_steps: usize,
    /// Graphs in the hierarchy (1 without coarsening).
    pub levels: usize,
    /// Finished, by convergence or by the iteration cap.
    pub finished: bool,
    /// Finished because the displacement fell below the tolerance.
    pub converged: bool,
    /// Mean displacement of the last step, in `k`.
    pub displacement: f32,
    /// Energy (sum of squared forces) of the last step.
    pub energy: f64,
}

/// A force-directed layout in progress.
#[derive(Debug)]
pub struct LayoutEngine {
    params: LayoutParams,
    /// `graphs[0]` is the graph being laid out; each next one is coarser.
    graphs: Vec<LayoutGraph>,
    /// `parents[l][i]`: the node of `graphs[l + 1]` that node `i` of `graphs[l]` went into.
    parents: Vec<Vec<u32>>,
    /// `sizes[l][c]`: nodes of `graphs[l]` in node `c` of `graphs[l + 1]`.
    sizes: Vec<Vec<u32>>,
    /// The level being laid out.
    level: usize,
    /// Node of the current level holding each node of the full graph.
    to_current: Vec<u32>,
    /// Positions at the current level.
    pos: Vec<[f32; 2]>,
    /// Scratch: forces of the current step.
    force: Vec<[f32; 2]>,
    /// Scratch: how far each node moved in the current step (`-inf` when pinned).
    moved: Vec<f32>,
    /// Scratch of the force computation.
    scratch: ForceScratch,
    /// [`edge_weights`] of the graph of level `weights_level`.
    weights: Vec<f32>,
    /// The level `weights` belong to.
    weights_level: Option<usize>,
    tree: QuadTree,
    groups: Groups,
    /// Full-graph nodes held in place.
    pinned: Vec<Option<[f32; 2]>>,
    /// Full-graph mobility (empty: all 1).
    mobility: Vec<f32>,
    /// Full-graph previous positions that pull their nodes back (incremental layouts).
    anchors: Vec<Option<[f32; 2]>>,
    step: f32,
    /// Upper bound of the step, shrinking by `decay` every iteration.
    temperature: f32,
    progress: u32,
    level_iterations: usize,
    stats: LayoutStats,
    rng: Rng,
}

impl LayoutEngine {
    /// An engine at the full graph with nothing placed yet.
    fn bare(graph: LayoutGraph, params: LayoutParams) -> Self {
        let n = graph.len();
        Self {
            params,
            graphs: vec![graph],
            parents: Vec::new(),
            sizes: Vec::new(),
            level: 0,
            to_current: (0..n as u32).collect(),
            pos: Vec::new(),
            force: Vec::new(),
            moved: Vec::new(),
            scratch: ForceScratch::default(),
            weights: Vec::new(),
            weights_level: None,
            tree: QuadTree::default(),
            groups: Groups::default(),
            pinned: vec![None; n],
            mobility: Vec::new(),
            anchors: Vec::new(),
            step: params.step * params.forces.k,
            temperature: params.step * params.forces.k,
            progress: 0,
            level_iterations: 0,
            stats: LayoutStats {
                levels: 1,
                finished: n == 0,
                converged: n == 0,
                ..LayoutStats::default()
            },
            rng: Rng::new(params.seed),
        }
    }

    /// A fresh layout: group-aware seeded initial positions, multilevel when `params.multilevel`.
    pub fn new(graph: LayoutGraph, params: LayoutParams) -> Self {
        let mut engine = Self::bare(graph, params);
        if params.multilevel {
            while let Some(last) = engine.graphs.last()
                && last.len() > COARSEST_NODES
            {
                let seed = params.seed.wrapping_add(engine.graphs.len() as u64);
                let Some(c) = coarsen(last, seed) else { break };
                engine.graphs.push(c.graph);
                engine.parents.push(c.parent);
                engine.sizes.push(c.size);
            }
        }
        engine.level = engine.graphs.len() - 1;
        engine.stats.levels = engine.graphs.len();
        if let Some(g) = engine.graphs.last() {
            engine.pos = initial_positions(g, params.forces.k, &mut engine.rng);
        }
        engine.update_to_current();
        engine
    }

    /// An incremental layout on one level: nodes with a finite `previous` position start there
    /// and move only a little (`settled_mobility`); new nodes start beside their placed
    /// neighbours (else near their zone's placed nodes, else near the middle).
    pub fn with_previous(
        graph: LayoutGraph,
        params: LayoutParams,
        previous: &[Option<[f32; 2]>],
    ) -> Self {
        let k = params.forces.k;
        let n = graph.len();
        let mut pos: Vec<Option<[f32; 2]>> = (0..n)
            .map(|i| {
                previous
                    .get(i)
                    .copied()
                    .flatten()
                    .filter(|p| p[0].is_finite() && p[1].is_finite())
            })
            .collect();
        if pos.iter().all(Option::is_none) {
            return Self::new(graph, params);
        }
        let mobility: Vec<f32> = pos
            .iter()
            .map(|p| {
                if p.is_some() {
                    params.settled_mobility
                } else {
                    1.0
                }
            })
            .collect();
        // Rounds: each places the new nodes that have placed neighbours.
        let mut rng = Rng::new(params.seed);
        loop {
            let mut placed_now = Vec::new();
            for (i, p) in pos.iter().enumerate() {
                if p.is_some() {
                    continue;
                }
                let (sum, count) = graph
                    .neighbours(i)
                    .iter()
                    .filter_map(|&j| pos.get(j as usize).copied().flatten())
                    .fold(([0.0f32; 2], 0u32), |(s, c), q| {
                        ([s[0] + q[0], s[1] + q[1]], c + 1)
                    });
                if count > 0 {
                    let centre = [sum[0] / count as f32, sum[1] / count as f32];
                    placed_now.push((i, rng.in_disc(centre, 0.5 * k)));
                }
            }
            if placed_now.is_empty() {
                break;
            }
            for (i, p) in placed_now {
                if let Some(slot) = pos.get_mut(i) {
                    *slot = Some(p);
                }
            }
        }
        // Left: new nodes with no placed path; near their zone's placed nodes or the middle.
        let mut zone_sum: FxHashMap<u32, ([f32; 2], u32)> = FxHashMap::default();
        let mut all = ([0.0f32; 2], 0u32);
        for (i, p) in pos.iter().enumerate() {
            if let Some(p) = p {
                let e = zone_sum.entry(graph.zone(i)).or_insert(([0.0; 2], 0));
                e.0 = [e.0[0] + p[0], e.0[1] + p[1]];
                e.1 += 1;
                all = ([all.0[0] + p[0], all.0[1] + p[1]], all.1 + 1);
            }
        }
        let mean = |(s, c): ([f32; 2], u32)| [s[0] / c.max(1) as f32, s[1] / c.max(1) as f32];
        let positions: Vec<[f32; 2]> = pos
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                Some(p) => *p,
                None => {
                    let (centre, count) = zone_sum.get(&graph.zone(i)).copied().unwrap_or(all);
                    let r = (count as f32).sqrt() * 0.5 * k;
                    rng.in_disc(mean((centre, count)), r)
                }
            })
            .collect();
        let anchors: Vec<Option<[f32; 2]>> = mobility
            .iter()
            .zip(&positions)
            .map(|(m, p)| (*m < 1.0).then_some(*p))
            .collect();
        let mut engine = Self::bare(graph, params);
        engine.pos = positions;
        engine.mobility = mobility;
        engine.anchors = anchors;
        engine.rng = rng;
        engine.step = params.incremental_step * k;
        engine.temperature = engine.step;
        engine
    }

    /// The graph being laid out.
    pub fn graph(&self) -> &LayoutGraph {
        self.graphs.first().unwrap_or_else(|| empty_graph())
    }

    /// The parameters.
    pub fn params(&self) -> &LayoutParams {
        &self.params
    }

    /// Where the run stands.
    pub fn stats(&self) -> LayoutStats {
        self.stats
    }

    /// Whether the run has finished (converged, or the iteration cap reached).
    pub fn is_finished(&self) -> bool {
        self.stats.finished
    }

    /// Holds node `i` of the full graph at `pos` (non-finite positions are ignored).
    pub fn pin(&mut self, i: usize, pos: [f32; 2]) {
        if !(pos[0].is_finite() && pos[1].is_finite()) {
            return;
        }
        if let Some(slot) = self.pinned.get_mut(i) {
            *slot = Some(pos);
            if self.level == 0
                && let Some(p) = self.pos.get_mut(i)
            {
                *p = pos;
            }
        }
    }

    /// Lets node `i` move again.
    pub fn unpin(&mut self, i: usize) {
        if let Some(slot) = self.pinned.get_mut(i) {
            *slot = None;
        }
    }

    /// Positions of the full graph's nodes. While a coarser graph is being laid out, each node
    /// shows at its cluster's place, scaled to the full graph's size.
    pub fn positions(&self) -> Vec<[f32; 2]> {
        let mut out = Vec::new();
        self.positions_into(&mut out);
        out
    }

    /// [`Self::positions`] into a reused buffer.
    pub fn positions_into(&self, out: &mut Vec<[f32; 2]>) {
        out.clear();
        if self.level == 0 {
            out.extend_from_slice(&self.pos);
        } else {
            let scale = self.scale_from(self.level, 0);
            out.extend(self.to_current.iter().map(|&c| {
                let p = self.pos.get(c as usize).copied().unwrap_or([0.0; 2]);
                [p[0] * scale, p[1] * scale]
            }));
        }
        for (p, pin) in out.iter_mut().zip(&self.pinned) {
            if let Some(pin) = pin {
                *p = *pin;
            }
        }
    }

    /// Runs steps until finished; returns the stats.
    pub fn run(&mut self) -> LayoutStats {
        while self.step() {}
        self.stats
    }

    /// Runs steps for about `max_millis` (at least one), or until finished; returns the number run.
    pub fn step_budgeted(&mut self, max_millis: f64) -> usize {
        let started = Instant::now();
        let mut steps = 0;
        while !self.stats.finished {
            self.step();
            steps += 1;
            if started.elapsed().as_secs_f64() * 1000.0 >= max_millis {
                break;
            }
        }
        steps
    }

    /// One iteration; returns whether the run goes on.
    pub fn step(&mut self) -> bool {
        if self.stats.finished {
            return false;
        }
        let Some(graph) = self.graphs.get(self.level) else {
            self.stats.finished = true;
            return false;
        };
        let params = &self.params;
        let fp = &params.forces;
        if self.weights_level != Some(self.level) {
            self.weights = edge_weights(graph, fp);
            self.weights_level = Some(self.level);
        }
        self.tree.build(&self.pos);
        self.groups.compute(&self.pos, graph, fp);
        self.force.resize(self.pos.len(), [0.0; 2]);
        forces(
            &self.pos,
            graph,
            &self.weights,
            &self.tree,
            &self.groups,
            fp,
            &mut self.scratch,
            &mut self.force,
        );

        // Energy and the adaptive step (Hu 2005): shrink when the energy rises, grow after 5 falls.
        let energy: f64 = self
            .force
            .iter()
            .map(|f| f64::from(f[0] * f[0] + f[1] * f[1]))
            .filter(|e| e.is_finite())
            .sum();
        if self.stats.total_steps > 0 && energy < self.stats.energy {
            self.progress += 1;
            if self.progress >= 5 {
                self.progress = 0;
                self.step = (self.step / params.cooling).min(params.step * fp.k * 4.0);
            }
        } else if self.stats.total_steps > 0 {
            self.progress = 0;
            self.step *= params.cooling;
        }

        self.temperature *= if self.level == 0 {
            params.decay
        } else {
            params.coarse_decay
        };
        // Below the smallest normal float the step is 0: subnormal arithmetic is many times slower
        // (a layout stepped far past its iteration cap, as a live view or a benchmark does).
        if self.temperature < f32::MIN_POSITIVE {
            self.temperature = 0.0;
        }
        self.step = self.step.min(self.temperature);
        let finest = self.level == 0;
        let step = self.step;
        let pinned = &self.pinned;
        let mobility = &self.mobility;
        // Each node's displacement is written to `moved` (`-inf`: pinned, not counted) and summed
        // below in node order, so the mean does not depend on threads.
        self.moved.resize(self.pos.len(), 0.0);
        self.pos
            .par_iter_mut()
            .zip(self.force.par_iter())
            .zip(self.moved.par_iter_mut())
            .enumerate()
            .with_min_len(1024)
            .for_each(|(i, ((p, f), d))| {
                if finest && let Some(Some(pin)) = pinned.get(i) {
                    *p = *pin;
                    *d = f32::NEG_INFINITY;
                    return;
                }
                *d = 0.0;
                let m = if finest {
                    mobility.get(i).copied().unwrap_or(1.0)
                } else {
                    1.0
                };
                let len = (f[0] * f[0] + f[1] * f[1]).sqrt();
                if !(len > 0.0 && len.is_finite()) {
                    return;
                }
                *d = len.min(step) * m;
                let s = *d / len;
                let new = [f[0] * s + p[0], f[1] * s + p[1]];
                // NaN guard: a non-finite move is dropped.
                if new[0].is_finite() && new[1].is_finite() {
                    *p = new;
                }
            });
        let (moved, movable) = self
            .moved
            .iter()
            .filter(|d| **d != f32::NEG_INFINITY)
            .fold((0.0f64, 0usize), |(sum, count), &d| {
                (sum + f64::from(d), count + 1)
            });
        let displacement = (moved / movable.max(1) as f64) as f32 / fp.k;

        self.stats.energy = energy;
        self.stats.displacement = displacement;
        self.stats.total_steps += 1;
        self.level_iterations += 1;
        if finest {
            self.stats.iterations += 1;
        }
        let converged = self.level_iterations >= MIN_LEVEL_ITERATIONS
            && (displacement < params.tolerance || movable == 0);
        let cap = if finest {
            params.max_iterations
        } else {
            params.coarse_max_iterations
        };
        if finest {
            if (converged && params.stop_when_converged) || self.level_iterations >= cap {
                self.stats.converged = converged;
                self.finish();
            }
        } else if converged || self.level_iterations >= cap {
            self.refine();
        }
        !self.stats.finished
    }

    /// Ends the run: groups separated (unless off), finished.
    fn finish(&mut self) {
        if self.level == 0
            && self.params.separate_margin >= 0.0
            && let Some(graph) = self.graphs.first()
        {
            let pinned = &self.pinned;
            separate_groups(&mut self.pos, graph, self.params.separate_margin, |i| {
                pinned.get(i).is_some_and(Option::is_some)
            });
        }
        self.stats.finished = true;
    }

    /// Moves to the next finer graph: each node starts near its cluster's place, the layout
    /// scaled up for the larger number of nodes.
    fn refine(&mut self) {
        let Some(fine) = self.level.checked_sub(1) else {
            return;
        };
        let (Some(parent), Some(size)) = (self.parents.get(fine), self.sizes.get(fine)) else {
            return;
        };
        let k = self.params.forces.k;
        let scale = self.scale_from(self.level, fine);
        let rng = &mut self.rng;
        let pos = &self.pos;
        let new: Vec<[f32; 2]> = parent
            .iter()
            .map(|&c| {
                let p = pos.get(c as usize).copied().unwrap_or([0.0; 2]);
                let members = size.get(c as usize).copied().unwrap_or(1);
                let r = 0.5 * k * ((members.saturating_sub(1)) as f32).sqrt();
                rng.in_disc([p[0] * scale, p[1] * scale], r)
            })
            .collect();
        self.pos = new;
        self.level = fine;
        self.level_iterations = 0;
        self.progress = 0;
        self.step = self.params.refine_step * k;
        self.temperature = self.step;
        self.update_to_current();
        if fine == 0 {
            for (p, pin) in self.pos.iter_mut().zip(&self.pinned) {
                if let Some(pin) = pin {
                    *p = *pin;
                }
            }
        }
    }

    /// How much larger a layout of `graphs[to]` is than one of `graphs[from]` (area per node kept).
    fn scale_from(&self, from: usize, to: usize) -> f32 {
        let n = |l: usize| self.graphs.get(l).map_or(1, LayoutGraph::len).max(1) as f32;
        (n(to) / n(from)).sqrt()
    }

    fn update_to_current(&mut self) {
        let n = self.graphs.first().map_or(0, LayoutGraph::len);
        self.to_current = (0..n as u32).collect();
        for parent in self.parents.iter().take(self.level) {
            for c in &mut self.to_current {
                *c = parent.get(*c as usize).copied().unwrap_or(0);
            }
        }
    }

    /// Bytes held by the engine's buffers (graphs excluded).
    pub fn heap_bytes(&self) -> usize {
        (self.pos.capacity() + self.force.capacity()) * 8
            + self.moved.capacity() * 4
            + self.tree.heap_bytes()
            + self.scratch.heap_bytes()
            + (self.to_current.capacity() + self.weights.capacity()) * 4
    }
}

/// Seeded initial positions: regions around a circle, zones around their region's centre, nodes
/// in a disc around their zone's centre (a disc around the middle when there is no grouping).
fn initial_positions(graph: &LayoutGraph, k: f32, rng: &mut Rng) -> Vec<[f32; 2]> {
    let n = graph.len();
    let mut zone_size = vec![0u32; graph.zone_count()];
    for &z in graph.zones() {
        if let Some(s) = zone_size.get_mut(z as usize) {
            *s += 1;
        }
    }
    let regions = graph.region_count();
    let radius = 0.5 * k * (n as f32).sqrt();
    let region_centre = |r: u32| -> [f32; 2] {
        if regions <= 1 {
            return [0.0; 2];
        }
        let a = r as f32 / regions as f32 * std::f32::consts::TAU;
        [radius * a.cos(), radius * a.sin()]
    };
    let zone_regions = graph.zone_regions();
    let mut zones_in_region: FxHashMap<u32, u32> = FxHashMap::default();
    let zone_centre: Vec<[f32; 2]> = zone_regions
        .iter()
        .map(|&r| {
            let slot = zones_in_region.entry(r).or_insert(0);
            let index = *slot;
            *slot += 1;
            (r, index)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(r, index)| {
            let count = zones_in_region.get(&r).copied().unwrap_or(1);
            let c = region_centre(r);
            if count <= 1 {
                return c;
            }
            let a = index as f32 / count as f32 * std::f32::consts::TAU;
            let rz = radius / (regions.max(2) as f32);
            [c[0] + rz * a.cos(), c[1] + rz * a.sin()]
        })
        .collect();
    (0..n)
        .map(|i| {
            let z = graph.zone(i) as usize;
            let c = zone_centre.get(z).copied().unwrap_or([0.0; 2]);
            let size = zone_size.get(z).copied().unwrap_or(1) as f32;
            rng.in_disc(c, 0.5 * k * size.sqrt())
        })
        .collect()
}

/// Previous positions for a new graph, matched by key (e.g. node name): for each new key, its old
/// position if it had one. Lets a changed filter or level keep what stays where it was.
pub fn carry_over<K: Eq + Hash>(
    old_keys: &[K],
    old_positions: &[[f32; 2]],
    new_keys: &[K],
) -> Vec<Option<[f32; 2]>> {
    let old: FxHashMap<&K, [f32; 2]> = old_keys.iter().zip(old_positions.iter().copied()).collect();
    new_keys.iter().map(|k| old.get(k).copied()).collect()
}

fn empty_graph() -> &'static LayoutGraph {
    static EMPTY: std::sync::OnceLock<LayoutGraph> = std::sync::OnceLock::new();
    EMPTY.get_or_init(LayoutGraph::default)
}
