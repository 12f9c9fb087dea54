//! [`Inspector`]: what is known about the selected node or edge (the same lines the canvas's hover tooltip shows).

use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;

use super::actions::Action;
use crate::derive::ServiceGraph;
use crate::model::Interner;

/// Formats microseconds for people: `850 µs`, `12.3 ms`, `4.20 s`.
pub fn format_micros(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", micros as f64 / 1_000_000.0)
    }
}

/// Lines describing a node: its name, then place, package, calls in and out, errors, latency.
pub fn node_lines(graph: &ServiceGraph, interner: &Interner, node: u32) -> Vec<String> {
    let n = NodeIndex::new(node as usize);
    let Some(info) = graph.graph.node_weight(n) else {
        return Vec::new();
    };
    // A node whose instances sit in several regions or zones has none of its own.
    let name = |s: Option<crate::model::Sym>, several: &'static str| {
        s.map_or(several, |s| interner.resolve(s))
    };
    let (mut calls_in, mut calls_out, mut errors) = (0u64, 0u64, 0u64);
    let (mut p50, mut p99) = (None::<u64>, None::<u64>);
    for e in graph.graph.edges_directed(n, Direction::Incoming) {
        let w = e.weight();
        calls_in += w.calls;
        errors += w.errors;
        if let Some(l) = w.latency {
            p50 = p50.max(Some(l.p50_micros));
            p99 = p99.max(Some(l.p99_micros));
        }
    }
    for e in graph.graph.edges_directed(n, Direction::Outgoing) {
        calls_out += e.weight().calls;
        errors += e.weight().errors;
    }
    let mut lines = vec![
        interner.resolve(info.name).to_owned(),
        format!(
            "Region {} · zone {}",
            name(info.region, "(several)"),
            name(info.zone, "(several)")
        ),
    ];
    if let Some(p) = info.package {
        lines.push(format!("Package {}", interner.resolve(p)));
    }
    if info.instances > 1 {
        lines.push(format!("{} instances", info.instances));
    }
    lines.push(format!("Calls in {calls_in} · out {calls_out}"));
    lines.push(format!("Errors {errors}"));
    if let (Some(p50), Some(p99)) = (p50, p99) {
        lines.push(format!(
            "Latency p50 {} · p99 {}",
            format_micros(p50),
            format_micros(p99)
        ));
    }
    if info.done {
        lines.push("Stopped".to_owned());
    }
    lines
}

/// Lines describing an edge: caller → callee, then calls, errors and latency.
pub fn edge_lines(graph: &ServiceGraph, interner: &Interner, edge: u32) -> Vec<String> {
    let e = petgraph::stable_graph::EdgeIndex::new(edge as usize);
    let (Some((a, b)), Some(w)) = (graph.graph.edge_endpoints(e), graph.graph.edge_weight(e))
    else {
        return Vec::new();
    };
    let name = |n| {
        graph
            .graph
            .node_weight(n)
            .map_or("?", |i: &crate::derive::NodeInfo| interner.resolve(i.name))
    };
    let mut lines = vec![
        format!("{} → {}", name(a), name(b)),
        format!("Calls {}", w.calls),
        format!(
            "Errors {} ({:.1} %)",
            w.errors,
            w.errors as f64 * 100.0 / w.calls.max(1) as f64
        ),
    ];
    if let Some(l) = w.latency {
        lines.push(format!(
            "Latency p50 {} · p99 {} · mean {}",
            format_micros(l.p50_micros),
            format_micros(l.p99_micros),
            format_micros(l.mean_micros)
        ));
        lines.push(format!("{} calls timed", l.count));
    }
    lines
}

/// What the inspector shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A node, by graph index.
    Node(u32),
    /// An edge, by graph edge index.
    Edge(u32),
}

/// The inspector panel.
#[derive(Default)]
pub struct Inspector;

impl Inspector {
    /// Shows the selected node or edge, if any.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        graph: Option<&ServiceGraph>,
        interner: &Interner,
        selected: Option<Selection>,
    ) -> Option<Action> {
        ui.heading("Inspector");
        let (Some(graph), Some(selected)) = (graph, selected) else {
            ui.weak("Click a node or an edge to inspect it");
            return None;
        };
        let lines = match selected {
            Selection::Node(node) => node_lines(graph, interner, node),
            Selection::Edge(edge) => edge_lines(graph, interner, edge),
        };
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                ui.strong(line);
            } else {
                ui.label(line);
            }
        }
        ui.button("Clear selection")
            .clicked()
            .then_some(Action::SelectNode(None))
    }
}
