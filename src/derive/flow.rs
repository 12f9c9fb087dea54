//! One flow (trace): finding it by id and the path it takes through the graph at a level.

use rustc_hash::FxHashSet;

use super::ServiceGraph;
use crate::model::{Level, Sym, TraceId, TraceStore};

/// The nodes and edges one flow crosses, named at the graph's level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowPath {
    /// Nodes.
    pub nodes: FxHashSet<Sym>,
    /// Edges, caller → callee.
    pub edges: FxHashSet<(Sym, Sym)>,
}

impl FlowPath {
    /// True when the path is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.edges.is_empty()
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

/// The path of trace `trace` at `level`.
pub fn flow_path(store: &mut TraceStore, level: Level, trace: usize) -> FlowPath {
    let graph = ServiceGraph::of_trace(store, level, trace);
    let g = &graph.graph;
    FlowPath {
        nodes: g.node_weights().map(|n| n.name).collect(),
        edges: g
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = g.edge_endpoints(e)?;
                Some((g.node_weight(a)?.name, g.node_weight(b)?.name))
            })
            .collect(),
    }
}
