//! [`LayoutState`]: the window's positions for one graph, behind a small request → state → positions interface.
//!
//! TODO(app): the force layout (`src/layout`) is not on this branch yet; until it is, nodes are
//! placed by a deterministic grouped circle (zones on a big circle, a zone's nodes on a small
//! circle around its centre), which is instant and needs no worker.

use std::collections::BTreeMap;

use crate::derive::ServiceGraph;
use crate::model::Interner;

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
#[derive(Clone, Debug)]
pub struct LayoutState {
    positions: Vec<[f32; 2]>,
    phase: LayoutPhase,
    generation: u64,
}

impl Default for LayoutState {
    fn default() -> Self {
        Self {
            positions: Vec::new(),
            phase: LayoutPhase::Empty,
            generation: 0,
        }
    }
}

impl LayoutState {
    /// Starts laying out `graph`.
    pub fn start(graph: &ServiceGraph, interner: &Interner) -> Self {
        let positions = grouped_circle(graph, interner);
        Self {
            phase: if positions.is_empty() {
                LayoutPhase::Empty
            } else {
                LayoutPhase::Finished
            },
            positions,
            generation: 1,
        }
    }

    /// Takes in new positions, if any; returns whether they changed.
    pub fn poll(&mut self) -> bool {
        false
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
    pub fn describe(&self) -> &'static str {
        match self.phase {
            LayoutPhase::Empty => "no layout",
            LayoutPhase::Running => "layout running",
            LayoutPhase::Finished => "layout done (grouped circles)",
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
