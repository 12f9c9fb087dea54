//! One flow (trace): finding it by id and the path it takes through the graph at a level.

use rustc_hash::FxHashSet;

use super::ServiceGraph;
use super::critical_path::critical_path;
use super::links::trace_tree;
use super::skew::corrected_starts;
use crate::model::{Level, Sym, TraceId, TraceStore};

/// The nodes and edges one flow crosses, named at the graph's level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowPath {
    /// Nodes.
    pub nodes: FxHashSet<Sym>,
    /// Edges, caller → callee.
    pub edges: FxHashSet<(Sym, Sym)>,
    /// The edges its critical path crosses (a subset of `edges`).
    pub critical_edges: FxHashSet<(Sym, Sym)>,
}

impl FlowPath {
    /// True when the path is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.edges.is_empty() && self.critical_edges.is_empty()
    }
}

/// The index (in [`TraceStore::traces`]) of the trace whose id is `text`: a hex id in any
/// padding (matched on its low 64 bits when only one trace has them), or an opaque id.
pub fn find_trace(store: &TraceStore, text: &str) -> Option<usize> {
    let traces = store.traces();
    let text = text.trim();
    match TraceId::parse_hex(text) {
        Ok(id) => traces.iter().position(|t| t.id == id).or_else(|| {
            let low = id.low()?;
            let mut hits = traces
                .iter()
                .enumerate()
                .filter(|(_, t)| t.id.low() == Some(low));
            let first = hits.next()?.0;
            hits.next().is_none().then_some(first)
        }),
        Err(_) => {
            let sym = store.data.interner.get(text)?;
            traces.iter().position(|t| t.id == TraceId::Opaque(sym))
        }
    }
}

/// The edges of a graph, named by their ends.
fn edge_names(graph: &ServiceGraph) -> FxHashSet<(Sym, Sym)> {
    let g = &graph.graph;
    g.edge_indices()
        .filter_map(|e| {
            let (a, b) = g.edge_endpoints(e)?;
            Some((g.node_weight(a)?.name, g.node_weight(b)?.name))
        })
        .collect()
}

/// The store indices of the spans on trace `trace`'s critical path (after clock-skew correction).
pub fn critical_spans(store: &TraceStore, trace: usize) -> FxHashSet<u32> {
    let Some(entry) = store.traces().get(trace) else {
        return FxHashSet::default();
    };
    let tree = trace_tree(store, entry);
    let starts = corrected_starts(&tree);
    critical_path(&tree, &starts)
        .into_iter()
        .filter_map(|n| tree.span(n).map(|s| s.index))
        .collect()
}

/// The path of trace `trace` at `level`, with the edges of its critical path.
pub fn flow_path(store: &mut TraceStore, level: Level, trace: usize) -> FlowPath {
    let graph = ServiceGraph::of_trace(store, level, trace);
    let critical = critical_spans(store, trace);
    let critical_edges = if critical.is_empty() {
        FxHashSet::default()
    } else {
        edge_names(&ServiceGraph::of_trace_spans(
            store, level, trace, &critical,
        ))
    };
    FlowPath {
        nodes: graph.graph.node_weights().map(|n| n.name).collect(),
        edges: edge_names(&graph),
        critical_edges,
    }
}
