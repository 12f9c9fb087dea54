//! Picking: what is under a point of a [`Scene`] ([`hit`]), and what a drawn group or summed edge stands for in the graph (the members of a collapsed region or zone, the graph edges one summed edge adds up).

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};

use super::{GroupKey, Px, Scene};
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

/// Slack around a node, in screen points, within which the pointer still hits it.
pub const NODE_SLACK: f32 = 3.0;

/// Slack around an edge's stroke, in screen points, within which the pointer still hits it.
pub const EDGE_SLACK: f32 = 4.0;

/// Nodes smaller than this radius (scene px) are hit as if they were this big.
const MIN_NODE_RADIUS: f32 = 3.0;

/// What a point of a scene falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A node (graph index), drawn alone.
    Node(u32),
    /// A collapsed region or zone drawn as one node (with one of its members).
    Group(GroupKey, u32),
    /// An edge (graph edge index).
    Edge(u32),
    /// An edge drawn for several, by its ends.
    Sum([EdgeEnd; 2]),
}

/// The node, collapsed group or edge under scene point `p`; `points_per_px` is how many screen
/// points one scene pixel covers now (the pan-and-zoom scale), so the slack stays constant on
/// screen.
///
/// Nodes come first, and of the nodes within reach the one whose centre is nearest wins (the
/// topmost on a tie), so every node is found at its own centre however densely points overlap
/// when zoomed out. Then edges, nearest stroke first; self-loops are not hit.
pub fn hit(scene: &Scene, p: Px, points_per_px: f32) -> Option<Hit> {
    let scale = points_per_px.max(1e-6);
    let node_slack = NODE_SLACK / scale;
    let nearest = scene
        .nodes
        .iter()
        .filter_map(|n| {
            let d = distance(p, n.center);
            (d <= n.radius.max(MIN_NODE_RADIUS) + node_slack).then_some((d, n))
        })
        .fold(None, |best: Option<(f32, _)>, (d, n)| match best {
            Some((b, _)) if b < d => best,
            _ => Some((d, n)),
        });
    if let Some((_, n)) = nearest {
        return Some(match n.group {
            Some(key) => Hit::Group(key, n.node),
            None => Hit::Node(n.node),
        });
    }
    let reach = EDGE_SLACK / scale;
    scene
        .edges
        .iter()
        .rev()
        .filter(|e| e.self_loop.is_none())
        .filter_map(|e| {
            let hit = match (e.edge, e.sum) {
                (Some(id), _) => Hit::Edge(id),
                (None, Some(ends)) => Hit::Sum(ends),
                (None, None) => return None,
            };
            let d = distance_to_segment(p, e.from, e.to);
            (d <= reach + e.width / 2.0).then_some((d, hit))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, hit)| hit)
}

/// Distance between two points.
fn distance(a: Px, b: Px) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Distance from `p` to the segment `a`–`b`.
fn distance_to_segment(p: Px, a: Px, b: Px) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let ap = [p[0] - a[0], p[1] - a[1]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if len2 > 0.0 {
        ((ap[0] * ab[0] + ap[1] * ab[1]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    distance(p, [a[0] + ab[0] * t, a[1] + ab[1] * t])
}
