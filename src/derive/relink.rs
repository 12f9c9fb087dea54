//! [`Relinker`]: links a store's traces again, one at a time and from a shared store, exactly as [`super::levels::build_levels`] linked them, each link named by the graph edge it counts for.
//!
//! What a link counts for at the service level is a service-graph edge; at the instance, zone
//! and region levels it is a pair of instance keys (numbers in [`LinkNames`]' table), whose edge
//! at each of those levels [`Relinker::pair_edges`] gives. The window index and the latency
//! sketches of an aggregate both link this way.

use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use rustc_hash::FxHashMap;

use super::ServiceGraph;
use super::graph::{InstanceKey, Names, attr_keys};
use super::levels::LinkNames;
use super::links::{Side, link_tree_into, trace_tree};
use super::tree::TreeSpan;
use crate::model::{Level, Sym, TraceStore};

/// A link whose edge was not found (never expected; such a link counts nowhere).
pub(crate) const UNKNOWN: u32 = (1 << 31) - 1;

/// The graph edges of `graph` by their ends.
pub(crate) fn edge_map(graph: &ServiceGraph) -> FxHashMap<(NodeIndex, NodeIndex), u32> {
    (&graph.graph)
        .edge_references()
        .map(|e| ((e.source(), e.target()), e.id().index() as u32))
        .collect()
}

/// Links traces of a store again, as its graphs were linked.
pub(crate) struct Relinker<'a> {
    store: &'a TraceStore,
    names: Names<'a>,
    keys: &'a LinkNames,
    service: Option<&'a ServiceGraph>,
    service_edges: FxHashMap<(NodeIndex, NodeIndex), u32>,
}

impl<'a> Relinker<'a> {
    /// Over `store`, whose graphs at every level (in [`Level::ALL`] order) and names came from
    /// [`super::levels::build_levels`] of it.
    pub(crate) fn new(
        store: &'a TraceStore,
        graphs: &'a [Arc<ServiceGraph>],
        names: &'a LinkNames,
    ) -> Self {
        let service = Level::ALL
            .iter()
            .position(|&l| l == Level::Service)
            .and_then(|i| graphs.get(i))
            .map(AsRef::as_ref);
        Self {
            store,
            names: Names {
                data: &store.data,
                info: names.info.clone(),
                keys: attr_keys(&store.data),
            },
            keys: names,
            service,
            service_edges: service.map(edge_map).unwrap_or_default(),
        }
    }

    /// Links trace `trace` (by number): each service link to `service(edge, error, duration)`,
    /// each instance link to `instance((parent key, child key), error, duration)`, in the order
    /// [`link_tree_into`] finds them. An end not found is [`UNKNOWN`].
    pub(crate) fn link(
        &self,
        trace: u32,
        service: &mut impl FnMut(u32, bool, Option<u64>),
        instance: &mut impl FnMut((u32, u32), bool, Option<u64>),
    ) {
        let Some(entry) = self.store.traces().get(trace as usize) else {
            return;
        };
        let tree = trace_tree(self.store, entry);
        let service_name = |s: &TreeSpan, side| match side {
            Side::Local => self.names.service(&s.local),
            Side::Remote => self.names.service(&s.remote),
        };
        let edge = |p: Sym, c: Sym| -> u32 {
            let Some(g) = self.service else {
                return UNKNOWN;
            };
            match (g.index.get(&p), g.index.get(&c)) {
                (Some(&a), Some(&b)) => self.service_edges.get(&(a, b)).copied().unwrap_or(UNKNOWN),
                _ => UNKNOWN,
            }
        };
        link_tree_into(&tree, &service_name, &mut |p, c, error, d| {
            service(edge(p, c), error, d);
        });
        let instance_name = |s: &TreeSpan, side| self.names.instance_of(s, side);
        let key = |k: &InstanceKey| self.keys.keys.get_index_of(k).map_or(UNKNOWN, |i| i as u32);
        link_tree_into(
            &tree,
            &instance_name,
            &mut |p: InstanceKey, c: InstanceKey, error, d| {
                instance((key(&p), key(&c)), error, d);
            },
        );
    }

    /// By level in [`Level::ALL`] order (empty at the service level): the edge of each pair of
    /// instance keys in `pairs`, [`UNKNOWN`] where there is none.
    pub(crate) fn pair_edges(
        graphs: &[Arc<ServiceGraph>],
        names: &LinkNames,
        pairs: &[(u32, u32)],
    ) -> Vec<Vec<u32>> {
        let mapper = PairMapper::new(graphs, names);
        Level::ALL
            .iter()
            .enumerate()
            .map(|(i, &level)| match level {
                Level::Service => Vec::new(),
                _ => pairs.iter().map(|&pair| mapper.edge(i, pair)).collect(),
            })
            .collect()
    }
}

/// One level's node of each key and its edges by their ends.
type LevelPairs<'a> = (
    &'a [Option<NodeIndex>],
    FxHashMap<(NodeIndex, NodeIndex), u32>,
);

/// The edge a pair of instance keys counts for at the instance, zone and region levels.
pub(crate) struct PairMapper<'a> {
    /// By level in [`Level::ALL`] order: each key's node and the edges by their ends (`None` at
    /// the service level).
    levels: Vec<Option<LevelPairs<'a>>>,
}

impl<'a> PairMapper<'a> {
    /// For `graphs` (in [`Level::ALL`] order) and the `names` they were linked with.
    pub(crate) fn new(graphs: &[Arc<ServiceGraph>], names: &'a LinkNames) -> Self {
        let levels = Level::ALL
            .iter()
            .enumerate()
            .map(|(i, &level)| {
                let graph = graphs.get(i).filter(|_| level != Level::Service)?;
                Some((names.key_nodes.get(i)?.as_slice(), edge_map(graph)))
            })
            .collect();
        Self { levels }
    }

    /// The edge of keys `(parent, child)` at level number `level` (an index in [`Level::ALL`]),
    /// [`UNKNOWN`] where there is none.
    pub(crate) fn edge(&self, level: usize, (parent, child): (u32, u32)) -> u32 {
        let Some(Some((nodes, edges))) = self.levels.get(level) else {
            return UNKNOWN;
        };
        let node = |k: u32| nodes.get(k as usize).copied().flatten();
        match (node(parent), node(child)) {
            (Some(a), Some(b)) => edges.get(&(a, b)).copied().unwrap_or(UNKNOWN),
            _ => UNKNOWN,
        }
    }
}
