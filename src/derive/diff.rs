//! The difference between two graphs at one level: nodes and edges matched by name, each added, removed, changed or the same, with both sets of figures.
//!
//! A node's figures are its calls and failed calls in and out and the highest p50/p99 of the
//! edges into it (what the filter language reads); an edge's are its calls, failed calls and
//! latency. An item is changed when any figure differs. [`GraphDiff::changes`] lists what
//! changed, largest first: removed and added edges by calls, then the rest by how far the error
//! rate or the latency moved, then by the change in calls.

use std::collections::BTreeMap;

use super::ServiceGraph;
use super::graph::node_traffic;
use crate::model::Interner;

/// What happened to a node or edge between before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only after.
    Added,
    /// Only before.
    Removed,
    /// In both, with a figure that differs.
    Changed,
    /// In both, the same.
    Same,
}

/// The figures of one node or edge on one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Calls (a node's in and out).
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Median latency, µs (a node's: the highest of its edges in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_micros: Option<u64>,
    /// 99th-percentile latency, µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_micros: Option<u64>,
}

impl Change {
    /// The word for it: `added`, `removed`, `changed` or `same`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
            Self::Same => "same",
        }
    }
}

impl Figures {
    /// Failed calls over calls (0 without calls).
    pub fn error_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.errors as f64 / self.calls as f64
        }
    }
}

/// One node or edge in the union of both graphs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Item {
    /// The node's name, or the edge's calling node.
    pub name: String,
    /// The edge's called node (`None` for a node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<String>,
    /// What happened to it.
    pub change: Change,
    /// Its figures before (`None`: it was not there).
    pub before: Option<Figures>,
    /// Its figures after (`None`: it is gone).
    pub after: Option<Figures>,
}

impl Item {
    fn new(
        name: String,
        child: Option<String>,
        before: Option<Figures>,
        after: Option<Figures>,
    ) -> Self {
        let change = match (&before, &after) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            (Some(b), Some(a)) if a == b => Change::Same,
            _ => Change::Changed,
        };
        Self {
            name,
            child,
            change,
            before,
            after,
        }
    }

    /// How large the change is, for ordering: calls for added and removed items; for changed
    /// ones the error-rate jump (in points), the latency ratio's distance from 1, then calls.
    pub fn size(&self) -> (u8, f64, u64) {
        let calls = |f: &Option<Figures>| f.map_or(0, |f| f.calls);
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => {
                let rate = (a.error_rate() - b.error_rate()).abs();
                let ratio = match (b.p99_micros, a.p99_micros) {
                    (Some(x), Some(y)) if x > 0 && y > 0 => {
                        let r = y as f64 / x as f64;
                        if r >= 1.0 { r - 1.0 } else { 1.0 / r - 1.0 }
                    }
                    _ => 0.0,
                };
                (1, rate.max(ratio), a.calls.abs_diff(b.calls))
            }
            _ => (2, 0.0, calls(&self.before).max(calls(&self.after))),
        }
    }
}

/// The nodes and edges of both graphs, matched by name, in name order.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct GraphDiff {
    /// Every node of either graph.
    pub nodes: Vec<Item>,
    /// Every edge of either graph.
    pub edges: Vec<Item>,
}

/// A graph's node and edge figures by name.
fn figures(
    graph: &ServiceGraph,
    interner: &Interner,
) -> (
    BTreeMap<String, Figures>,
    BTreeMap<(String, String), Figures>,
) {
    let traffic = node_traffic(graph);
    let g = &graph.graph;
    let name = |n: petgraph::stable_graph::NodeIndex| {
        g.node_weight(n)
            .map_or_else(String::new, |i| interner.resolve(i.name).to_owned())
    };
    let nodes = g
        .node_indices()
        .map(|n| {
            let t = traffic.get(n.index()).copied().unwrap_or_default();
            let f = Figures {
                calls: t.calls,
                errors: t.errors,
                p50_micros: t.p50,
                p99_micros: t.p99,
            };
            (name(n), f)
        })
        .collect();
    let edges = g
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = g.edge_endpoints(e)?;
            let w = g.edge_weight(e)?;
            let f = Figures {
                calls: w.calls,
                errors: w.errors,
                p50_micros: w.latency.map(|l| l.p50_micros),
                p99_micros: w.latency.map(|l| l.p99_micros),
            };
            Some(((name(a), name(b)), f))
        })
        .collect();
    (nodes, edges)
}

/// Merges two maps by key: every key with its value on each side.
fn union<K: Ord + Clone, V: Copy>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
) -> Vec<(K, Option<V>, Option<V>)> {
    let mut keys: Vec<&K> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.clone(), before.get(k).copied(), after.get(k).copied()))
        .collect()
}

impl GraphDiff {
    /// The difference from `before` to `after` (graphs at the same level, each with its own
    /// names).
    pub fn between(
        before: &ServiceGraph,
        before_names: &Interner,
        after: &ServiceGraph,
        after_names: &Interner,
    ) -> Self {
        let (bn, be) = figures(before, before_names);
        let (an, ae) = figures(after, after_names);
        let nodes = union(&bn, &an)
            .into_iter()
            .map(|(n, b, a)| Item::new(n, None, b, a))
            .collect();
        let edges = union(&be, &ae)
            .into_iter()
            .map(|((p, c), b, a)| Item::new(p, Some(c), b, a))
            .collect();
        Self { nodes, edges }
    }

    /// The node named `name` (the nodes are sorted by name).
    pub fn node(&self, name: &str) -> Option<&Item> {
        let at = self
            .nodes
            .binary_search_by(|i| i.name.as_str().cmp(name))
            .ok()?;
        self.nodes.get(at)
    }

    /// The edge from `parent` to `child` (the edges are sorted by their ends).
    pub fn edge(&self, parent: &str, child: &str) -> Option<&Item> {
        let at = self
            .edges
            .binary_search_by(|i| (i.name.as_str(), i.child.as_deref()).cmp(&(parent, Some(child))))
            .ok()?;
        self.edges.get(at)
    }

    /// True when nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.nodes
            .iter()
            .chain(&self.edges)
            .all(|i| i.change == Change::Same)
    }

    /// What changed, edges then nodes, each largest first (see the module).
    pub fn changes(&self) -> Vec<&Item> {
        let mut out = Vec::new();
        for items in [&self.edges, &self.nodes] {
            let mut changed: Vec<&Item> =
                items.iter().filter(|i| i.change != Change::Same).collect();
            changed.sort_by(|a, b| {
                let (x, y) = (a.size(), b.size());
                y.0.cmp(&x.0)
                    .then(y.1.total_cmp(&x.1))
                    .then(y.2.cmp(&x.2))
                    .then_with(|| (&a.name, &a.child).cmp(&(&b.name, &b.child)))
            });
            out.extend(changed);
        }
        out
    }

    /// How many items of each kind of change, nodes and edges together.
    pub fn counts(&self) -> BTreeMap<Change, usize> {
        let mut out = BTreeMap::new();
        for i in self.nodes.iter().chain(&self.edges) {
            *out.entry(i.change).or_insert(0) += 1;
        }
        out
    }
}

/// The union of two graphs at the same level, named in `names` (which holds `after`'s strings;
/// `before`'s are added): every node and edge of either, matched by name, with `after`'s
/// figures where it has them and `before`'s otherwise; what the difference is drawn on. Unlike
/// a graph of both runs' traces together, traces that share an id across the runs stay apart.
pub fn union_graph(
    before: &ServiceGraph,
    before_names: &Interner,
    after: &ServiceGraph,
    after_names: &Interner,
    names: &mut Interner,
) -> ServiceGraph {
    use petgraph::visit::{EdgeRef, IntoEdgeReferences};
    let mut out = ServiceGraph {
        level: after.level,
        ..ServiceGraph::default()
    };
    let mut edges = rustc_hash::FxHashSet::default();
    for (graph, from) in [(after, after_names), (before, before_names)] {
        let mut sym = |s: crate::model::Sym| names.intern(from.resolve(s));
        let mut node_of = rustc_hash::FxHashMap::default();
        for n in graph.graph.node_indices() {
            let Some(info) = graph.graph.node_weight(n) else {
                continue;
            };
            let name = sym(info.name);
            let at = match out.index.get(&name) {
                Some(&at) => at,
                None => {
                    let at = out.graph.add_node(super::NodeInfo {
                        name,
                        region: info.region.map(&mut sym),
                        zone: info.zone.map(&mut sym),
                        service: info.service.map(&mut sym),
                        package: info.package.map(&mut sym),
                        ..info.clone()
                    });
                    out.index.insert(name, at);
                    at
                }
            };
            node_of.insert(n, at);
        }
        for e in (&graph.graph).edge_references() {
            let (Some(&a), Some(&b)) = (node_of.get(&e.source()), node_of.get(&e.target())) else {
                continue;
            };
            if edges.insert((a, b)) {
                out.graph.add_edge(a, b, e.weight().clone());
            }
        }
    }
    out
}
