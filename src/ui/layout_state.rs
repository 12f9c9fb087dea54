//! [`LayoutState`]: the window's positions for one graph: request → state → positions, fed by the force layout's worker thread.
//!
//! The engine (`crate::layout`) runs on its own `layout` thread and publishes snapshots; each frame
//! [`LayoutState::poll`] takes the newest one (in the layout's node order) and spreads it into
//! `NodeIndex` order. Should the thread fail to start, nodes fall back to a deterministic grouped
//! circle (zones on a big circle, a zone's nodes around its centre).

use std::collections::BTreeMap;

use petgraph::stable_graph::NodeIndex;

use crate::derive::ServiceGraph;
use crate::layout::{LayoutEngine, LayoutGraph, LayoutParams, LayoutStats, LayoutWorker};
use crate::model::Interner;
use crate::model::topology::UNKNOWN;

/// Milliseconds of layout steps between two snapshots.
const BUDGET_MILLIS: f64 = 15.0;

/// Node positions by node name.
pub type NamedPositions = rustc_hash::FxHashMap<String, [f32; 2]>;

/// Where a layout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutPhase {
    /// Nothing to lay out.
    Empty,
    /// Positions are still moving.
    Running,
    /// Positions are final.
    Finished,
}

/// The positions of one graph's nodes, by `NodeIndex::index()`.
#[derive(Debug)]
pub struct LayoutState {
    positions: Vec<[f32; 2]>,
    phase: LayoutPhase,
    generation: u64,
    worker: Option<LayoutWorker>,
    /// The graph node of each layout node.
    nodes: Vec<NodeIndex>,
    /// The last snapshot taken from the worker.
    seen: u64,
    stats: Option<LayoutStats>,
    fallback: bool,
    /// Nodes the user dragged, by `NodeIndex::index()`, and where they are held.
    pinned: BTreeMap<u32, [f32; 2]>,
}

impl Default for LayoutState {
    fn default() -> Self {
        Self {
            positions: Vec::new(),
            phase: LayoutPhase::Empty,
            generation: 0,
            worker: None,
            nodes: Vec::new(),
            seen: 0,
            stats: None,
            fallback: false,
            pinned: BTreeMap::new(),
        }
    }
}

impl LayoutState {
    /// Starts laying out `graph` on the layout thread; `wake` is called with every snapshot.
    pub fn start(
        graph: &ServiceGraph,
        interner: &Interner,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        Self::start_with_previous(graph, interner, &NamedPositions::default(), wake)
    }

    /// Starts an incremental layout of `graph` (the live view): nodes named in `previous` start
    /// where they were and barely move; new nodes start beside their neighbours
    /// ([`LayoutEngine::with_previous`]). With nothing previous, a fresh layout.
    pub fn start_with_previous(
        graph: &ServiceGraph,
        interner: &Interner,
        previous: &NamedPositions,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        let (layout_graph, nodes) = LayoutGraph::from_service_graph(graph, interner.get(UNKNOWN));
        if layout_graph.is_empty() {
            return Self::default();
        }
        let before: Vec<Option<[f32; 2]>> = nodes
            .iter()
            .map(|&n| {
                let name = graph
                    .graph
                    .node_weight(n)
                    .map(|w| interner.resolve(w.name))?;
                previous.get(name).copied()
            })
            .collect();
        let engine = if before.iter().any(Option::is_some) {
            LayoutEngine::with_previous(layout_graph, LayoutParams::default(), &before)
        } else {
            LayoutEngine::new(layout_graph, LayoutParams::default())
        };
        let mut state = Self {
            nodes,
            generation: 1,
            ..Self::default()
        };
        state.spread(&engine.positions());
        state.stats = Some(engine.stats());
        match LayoutWorker::spawn(engine, BUDGET_MILLIS, wake) {
            Ok(worker) => {
                state.worker = Some(worker);
                state.phase = LayoutPhase::Running;
            }
            Err(_) => {
                state.positions = grouped_circle(graph, interner);
                state.phase = LayoutPhase::Finished;
                state.fallback = true;
            }
        }
        state
    }

    /// Copies layout-order positions into `NodeIndex` order.
    fn spread(&mut self, layout_positions: &[[f32; 2]]) {
        let bound = self.nodes.iter().map(|n| n.index() + 1).max().unwrap_or(0);
        self.positions.clear();
        self.positions.resize(bound, [f32::NAN; 2]);
        for (n, p) in self.nodes.iter().zip(layout_positions) {
            if let Some(slot) = self.positions.get_mut(n.index()) {
                *slot = *p;
            }
        }
    }

    /// Takes in the worker's newest positions, if any; returns whether they changed.
    pub fn poll(&mut self) -> bool {
        let Some(worker) = &self.worker else {
            return false;
        };
        let running = worker.is_running();
        let snapshot = worker.snapshot_since(self.seen);
        let changed = snapshot.is_some();
        if let Some(snap) = snapshot {
            self.seen = snap.generation;
            self.stats = Some(snap.stats);
            self.spread(&snap.positions);
            self.hold_pinned();
            self.generation += 1;
        }
        if !running {
            // The last snapshot was published before the thread said it stopped.
            self.worker = None;
            self.phase = LayoutPhase::Finished;
        }
        changed
    }

    /// Each node's position by its name (what an incremental layout of a newer graph starts from).
    pub fn named_positions(&self, graph: &ServiceGraph, interner: &Interner) -> NamedPositions {
        graph
            .graph
            .node_indices()
            .filter_map(|n| {
                let p = *self.positions.get(n.index())?;
                let name = interner.resolve(graph.graph.node_weight(n)?.name);
                (p[0].is_finite() && p[1].is_finite()).then(|| (name.to_owned(), p))
            })
            .collect()
    }

    /// Puts pinned nodes where they are held (a snapshot may predate the pin).
    fn hold_pinned(&mut self) {
        for (&node, &pos) in &self.pinned {
            if let Some(slot) = self.positions.get_mut(node as usize) {
                *slot = pos;
            }
        }
    }

    /// The layout's index of a graph node.
    fn layout_index(&self, node: u32) -> Option<usize> {
        self.nodes.iter().position(|n| n.index() == node as usize)
    }

    /// Holds `node` (by `NodeIndex::index()`) at `pos` (layout units); the running layout
    /// arranges the rest around it.
    pub fn pin(&mut self, node: u32, pos: [f32; 2]) {
        if !(pos[0].is_finite() && pos[1].is_finite()) || node as usize >= self.positions.len() {
            return;
        }
        self.pinned.insert(node, pos);
        if let (Some(worker), Some(i)) = (&self.worker, self.layout_index(node)) {
            worker.pin(i, pos);
        }
        self.hold_pinned();
        self.generation += 1;
    }

    /// Lets `node` move again (it stays where it is until the layout moves it).
    pub fn unpin(&mut self, node: u32) {
        if self.pinned.remove(&node).is_some()
            && let (Some(worker), Some(i)) = (&self.worker, self.layout_index(node))
        {
            worker.unpin(i);
        }
        self.generation += 1;
    }

    /// Lets every pinned node move again.
    pub fn unpin_all(&mut self) {
        let nodes: Vec<u32> = self.pinned.keys().copied().collect();
        for n in nodes {
            self.unpin(n);
        }
    }

    /// The pinned nodes with where each is held, sorted by node.
    pub fn pins(&self) -> impl Iterator<Item = (u32, [f32; 2])> + '_ {
        self.pinned.iter().map(|(&n, &p)| (n, p))
    }

    /// The pinned nodes, sorted.
    pub fn pinned(&self) -> Vec<u32> {
        self.pinned.keys().copied().collect()
    }

    /// Positions by `NodeIndex::index()`.
    pub fn positions(&self) -> &[[f32; 2]] {
        &self.positions
    }

    /// Counts up whenever the positions change.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Where the layout stands.
    pub fn phase(&self) -> LayoutPhase {
        self.phase
    }

    /// Whether positions are still moving (the window repaints only while they are).
    pub fn is_running(&self) -> bool {
        self.phase == LayoutPhase::Running
    }

    /// One short line for the status bar.
    pub fn describe(&self) -> String {
        let iterations = self.stats.map_or(0, |s| s.total_steps);
        match self.phase {
            LayoutPhase::Empty => "No layout".to_owned(),
            LayoutPhase::Running => format!("Layout running ({iterations} steps)"),
            LayoutPhase::Finished if self.fallback => {
                "Layout: grouped circles (the layout thread did not start)".to_owned()
            }
            LayoutPhase::Finished => match self.stats {
                Some(s) if s.converged => format!("Layout converged ({iterations} steps)"),
                _ => format!("Layout done ({iterations} steps)"),
            },
        }
    }
}

/// Zones on a big circle, each zone's nodes on a small circle around its centre; groups sorted
/// by (region, zone) name, nodes by name, so the result is the same every time.
fn grouped_circle(graph: &ServiceGraph, interner: &Interner) -> Vec<[f32; 2]> {
    let g = &graph.graph;
    let mut groups: BTreeMap<(&str, &str), Vec<(&str, usize)>> = BTreeMap::new();
    for n in g.node_indices() {
        let Some(info) = g.node_weight(n) else {
            continue;
        };
        let name = |s: Option<crate::model::Sym>| s.map_or("", |s| interner.resolve(s));
        groups
            .entry((name(info.region), name(info.zone)))
            .or_default()
            .push((interner.resolve(info.name), n.index()));
    }
    let bound = g.node_indices().map(|n| n.index() + 1).max().unwrap_or(0);
    let mut pos = vec![[f32::NAN; 2]; bound];
    // Spacing between neighbours on a small circle, layout units.
    let spacing = 34.0;
    let radius_of = |m: usize| {
        if m <= 1 {
            0.0
        } else {
            (m as f32 * spacing / std::f32::consts::TAU).max(spacing * 0.6)
        }
    };
    let radii: Vec<f32> = groups.values().map(|m| radius_of(m.len())).collect();
    let circumference: f32 = radii.iter().map(|r| 2.0 * r + 3.0 * spacing).sum();
    let big = if groups.len() <= 1 {
        0.0
    } else {
        (circumference / std::f32::consts::TAU).max(radii.iter().copied().fold(0.0, f32::max) * 1.5)
    };
    let mut angle = 0.0f32;
    for (members, &r) in groups.values_mut().zip(&radii) {
        members.sort_unstable();
        // Each group takes an arc proportional to its size.
        let share = (2.0 * r + 3.0 * spacing) / circumference.max(1e-3) * std::f32::consts::TAU;
        let a = angle + share / 2.0;
        angle += share;
        let centre = [a.cos() * big, a.sin() * big];
        let m = members.len() as f32;
        for (k, &(_, n)) in members.iter().enumerate() {
            let b = k as f32 / m * std::f32::consts::TAU;
            if let Some(p) = pos.get_mut(n) {
                *p = [centre[0] + b.cos() * r, centre[1] + b.sin() * r];
            }
        }
    }
    pos
}
