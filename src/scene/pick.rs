//! What a drawn group or summed edge stands for in the graph: the members of a collapsed region
//! or zone, and the graph edges one summed edge adds up (for selecting them and listing traces).

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};

use super::GroupKey;
use crate::derive::graph::ServiceGraph;
use crate::model::Sym;

/// One end of a summed edge (an edge drawn for several graph edges).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeEnd {
    /// One node, by graph index.
    Node(u32),
    /// A collapsed region or zone: its members.
    Group(GroupKey),
    /// Every node placed in this region and zone (edges summed per zone pair when there are
    /// many).
    Zone(Option<Sym>, Option<Sym>),
}

/// Whether `end` stands for node `n` of `graph`.
pub fn holds(graph: &ServiceGraph, end: EdgeEnd, n: NodeIndex) -> bool {
    match end {
        EdgeEnd::Node(m) => n.index() == m as usize,
        EdgeEnd::Group(key) => in_group(graph, key, n),
        EdgeEnd::Zone(region, zone) => graph
            .graph
            .node_weight(n)
            .is_some_and(|i| i.region == region && i.zone == zone),
    }
}

/// Whether node `n` is placed in the region or zone `key`.
pub fn in_group(graph: &ServiceGraph, key: GroupKey, n: NodeIndex) -> bool {
    graph
        .graph
        .node_weight(n)
        .is_some_and(|i| i.region == Some(key.region) && (key.zone.is_none() || i.zone == key.zone))
}

/// The nodes of a region or zone, sorted by index.
pub fn members(graph: &ServiceGraph, key: GroupKey) -> Vec<u32> {
    let mut nodes: Vec<u32> = graph
        .graph
        .node_indices()
        .filter(|&n| in_group(graph, key, n))
        .map(|n| n.index() as u32)
        .collect();
    nodes.sort_unstable();
    nodes
}

/// The graph edges a summed edge from `ends[0]` to `ends[1]` adds up, sorted by index. Calls
/// inside one group are not between its ends and are left out, as the scene leaves them out.
pub fn summed_edges(graph: &ServiceGraph, ends: [EdgeEnd; 2]) -> Vec<u32> {
    let same_group = ends[0] == ends[1] && !matches!(ends[0], EdgeEnd::Zone(..));
    if same_group {
        return Vec::new();
    }
    let mut edges: Vec<u32> = (&graph.graph)
        .edge_references()
        .filter(|e| holds(graph, ends[0], e.source()) && holds(graph, ends[1], e.target()))
        .map(|e| e.id().index() as u32)
        .collect();
    edges.sort_unstable();
    edges
}
