//! [`Inspector`]: what is known about the selected node, edge, collapsed group or summed edge (the same lines the canvas's hover tooltip shows).

use petgraph::Direction;
use petgraph::stable_graph::NodeIndex;

use super::actions::Action;
use crate::derive::ServiceGraph;
use crate::model::Interner;
use crate::scene::{EdgeEnd, GroupKey, pick, place_label};

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
        // A node whose instances sit in several regions or zones has none of its own.
        format!(
            "Region {} · zone {}",
            info.region.map_or_else(
                || "(several)".to_owned(),
                |r| place_label(interner.resolve(r), None)
            ),
            info.zone.map_or_else(
                || "(several)".to_owned(),
                |z| place_label("", Some(interner.resolve(z)))
            ),
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

/// How a region or zone is named: `Region us-east-1`, `Zone zoneA of us-east-1`.
pub fn group_name(interner: &Interner, key: GroupKey) -> String {
    place_name(
        Some(interner.resolve(key.region)),
        key.zone.map(|z| interner.resolve(z)),
    )
}

/// Names a region (`zone` `None`) or a zone of one, with Spigo's `*` read as in the canvas's
/// labels: `Region global`, `Cross-zone of us-east-1`.
fn place_name(region: Option<&str>, zone: Option<&str>) -> String {
    let region = region.map_or_else(|| "?".to_owned(), |r| place_label(r, None));
    match zone {
        Some("*") => format!("Cross-zone of {region}"),
        Some(z) => format!("Zone {z} of {region}"),
        None => format!("Region {region}"),
    }
}

/// How one end of a summed edge is named.
pub fn end_name(graph: &ServiceGraph, interner: &Interner, end: EdgeEnd) -> String {
    match end {
        EdgeEnd::Node(n) => graph
            .graph
            .node_weight(NodeIndex::new(n as usize))
            .map_or_else(|| "?".to_owned(), |i| interner.resolve(i.name).to_owned()),
        EdgeEnd::Group(key) => group_name(interner, key),
        EdgeEnd::Zone(region, zone) => place_name(
            region.map(|r| interner.resolve(r)),
            Some(zone.map_or("?", |z| interner.resolve(z))),
        ),
    }
}

/// Calls and errors summed over some edges, and how many of them exist.
fn sum_edges(graph: &ServiceGraph, edges: &[u32]) -> (u64, u64, usize) {
    let (mut calls, mut errors, mut count) = (0u64, 0u64, 0usize);
    for &e in edges {
        if let Some(w) = graph
            .graph
            .edge_weight(petgraph::stable_graph::EdgeIndex::new(e as usize))
        {
            calls += w.calls;
            errors += w.errors;
            count += 1;
        }
    }
    (calls, errors, count)
}

/// Lines describing a collapsed region or zone: its name, its members, the calls into and out
/// of it and their errors.
pub fn group_lines(graph: &ServiceGraph, interner: &Interner, key: GroupKey) -> Vec<String> {
    let members = pick::members(graph, key);
    let inside = |n: NodeIndex| pick::in_group(graph, key, n);
    let (mut calls_in, mut calls_out, mut errors) = (0u64, 0u64, 0u64);
    for e in graph.graph.edge_indices() {
        let (Some((a, b)), Some(w)) = (graph.graph.edge_endpoints(e), graph.graph.edge_weight(e))
        else {
            continue;
        };
        match (inside(a), inside(b)) {
            (false, true) => calls_in += w.calls,
            (true, false) => calls_out += w.calls,
            _ => continue,
        }
        errors += w.errors;
    }
    vec![
        group_name(interner, key),
        format!("{} nodes, collapsed", members.len()),
        format!("Calls in {calls_in} · out {calls_out}"),
        format!("Errors {errors}"),
        "Double-click to expand".to_owned(),
    ]
}

/// Lines describing a summed edge: its ends, how many graph edges it adds up, calls and errors.
pub fn sum_lines(graph: &ServiceGraph, interner: &Interner, ends: [EdgeEnd; 2]) -> Vec<String> {
    let (calls, errors, count) = sum_edges(graph, &pick::summed_edges(graph, ends));
    vec![
        format!(
            "{} → {}",
            end_name(graph, interner, ends[0]),
            end_name(graph, interner, ends[1])
        ),
        format!("{count} edges summed"),
        format!("Calls {calls}"),
        format!(
            "Errors {errors} ({:.1} %)",
            errors as f64 * 100.0 / calls.max(1) as f64
        ),
    ]
}

/// What is selected, and what the inspector shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// A node, by graph index.
    Node(u32),
    /// An edge, by graph edge index.
    Edge(u32),
    /// A collapsed region or zone.
    Group(GroupKey),
    /// An edge drawn for several (into or out of a collapsed group, or between zones).
    Sum([EdgeEnd; 2]),
}

impl Selection {
    /// The lines that describe it.
    pub fn lines(self, graph: &ServiceGraph, interner: &Interner) -> Vec<String> {
        match self {
            Self::Node(node) => node_lines(graph, interner, node),
            Self::Edge(edge) => edge_lines(graph, interner, edge),
            Self::Group(key) => group_lines(graph, interner, key),
            Self::Sum(ends) => sum_lines(graph, interner, ends),
        }
    }
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
        compared: &[String],
    ) -> Option<Action> {
        ui.heading("Inspector");
        let (Some(graph), Some(selected)) = (graph, selected) else {
            ui.weak("Click a node or an edge to inspect it");
            return None;
        };
        let lines = selected.lines(graph, interner);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                ui.strong(line);
            } else {
                ui.label(line);
            }
        }
        // While comparing: before → after.
        for (i, line) in compared.iter().enumerate() {
            if i == 0 {
                ui.separator();
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
