//! The edges of a scene: each drawn edge, the calls into and out of collapsed groups summed per
//! pair of drawn ends, or (zoomed out, or very many) the calls summed per pair of zones.

use std::collections::BTreeMap;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};
use rustc_hash::FxHashMap;

use super::build::{Placed, inside};
use super::{EdgeEnd, EdgeShape, Lod, Px};
use crate::model::Sym;

/// Above this many visible edges, edges are summed per zone pair.
const AGGREGATE_EDGES_ABOVE: usize = 60_000;
/// Above this many visible edges, edges are hairlines.
const DENSE_EDGES: usize = 5_000;

/// A (region, zone) pair.
type ZoneKey = (Option<Sym>, Option<Sym>);

/// The edges to draw, lit and selected ones last.
pub(super) fn edges(p: &Placed<'_>) -> Vec<EdgeShape> {
    let Placed {
        g,
        view,
        style,
        visible,
        groups,
        lit,
        lod,
        ..
    } = *p;
    let any_lit = !lit.is_empty();
    let is_shown = |n: NodeIndex| p.is_shown(n);
    let px_of = |n: NodeIndex| p.px_of(n);
    let radius_of = |n: NodeIndex| p.radius_of(n);
    let group_at = |n: NodeIndex| p.group_at(n);
    let inside = |q: Px| inside(view.size, q);
    let mut edges = Vec::new();
    let visible_edges: Vec<_> = g
        .edge_references()
        .filter(|e| is_shown(e.source()) && is_shown(e.target()))
        .collect();
    let max_edge_calls = visible_edges
        .iter()
        .map(|e| e.weight().calls)
        .max()
        .unwrap_or(1)
        .max(1);
    // Level of detail: thousands of edges are drawn as hairlines (a few px wide each, they only
    // make a solid mass), with width still growing with traffic.
    let (thin, span) = if visible_edges.len() > DENSE_EDGES {
        (0.35, 0.9)
    } else if visible.len() > 2_000 {
        (0.5, 2.6)
    } else {
        (0.9, 2.6)
    };
    let log_max_edge = ((1 + max_edge_calls) as f32).ln().max(1.0);
    let width_of = |calls: u64| -> f32 { thin + span * ((1 + calls) as f32).ln() / log_max_edge };
    if visible_edges.len() > AGGREGATE_EDGES_ABOVE || lod == Lod::Points {
        // Sum edges per (caller zone, callee zone), drawn between zone centroids.
        let zone_of = |n: NodeIndex| g.node_weight(n).map(|i| (i.region, i.zone));
        let mut centroid: FxHashMap<ZoneKey, ([f32; 2], f32)> = FxHashMap::default();
        for &n in visible {
            if let (Some(z), Some(p)) = (zone_of(n), px_of(n)) {
                let c = centroid.entry(z).or_insert(([0.0; 2], 0.0));
                c.0[0] += p[0];
                c.0[1] += p[1];
                c.1 += 1.0;
            }
        }
        let mut keys: Vec<ZoneKey> = centroid.keys().copied().collect();
        keys.sort_unstable();
        // Each visible node's zone, as an index into `keys`, looked up once per node rather than
        // twice per edge.
        let mut zone_at = vec![u32::MAX; p.shown.len()];
        for &n in visible {
            if let (Some(slot), Some(Ok(i))) = (
                zone_at.get_mut(n.index()),
                zone_of(n).map(|z| keys.binary_search(&z)),
            ) {
                *slot = i as u32;
            }
        }
        let key_at = |n: NodeIndex| zone_at.get(n.index()).copied().filter(|&i| i != u32::MAX);
        let mut sums: FxHashMap<(u32, u32), (u64, u64)> = FxHashMap::default();
        for e in &visible_edges {
            let (Some(ia), Some(ib)) = (key_at(e.source()), key_at(e.target())) else {
                continue;
            };
            let s = sums.entry((ia, ib)).or_insert((0, 0));
            s.0 += e.weight().calls;
            s.1 += e.weight().errors;
        }
        let mut sums: Vec<((u32, u32), (u64, u64))> = sums.into_iter().collect();
        sums.sort_unstable_by_key(|s| s.0);
        let max_sum = sums.iter().map(|s| s.1.0).max().unwrap_or(1).max(1);
        for ((ia, ib), (calls, errors)) in sums {
            let (ia, ib) = (ia as usize, ib as usize);
            let (Some(ka), Some(kb)) = (keys.get(ia), keys.get(ib)) else {
                continue;
            };
            let (Some(ca), Some(cb)) = (centroid.get(ka), centroid.get(kb)) else {
                continue;
            };
            let from = [ca.0[0] / ca.1, ca.0[1] / ca.1];
            let to = [cb.0[0] / cb.1, cb.0[1] / cb.1];
            let t = ((1 + calls) as f32).ln() / ((1 + max_sum) as f32).ln().max(1.0);
            let sum = [EdgeEnd::Zone(ka.0, ka.1), EdgeEnd::Zone(kb.0, kb.1)];
            let selected = view.selected_sum == Some(sum);
            edges.push(EdgeShape {
                from,
                to,
                to_radius: 10.0,
                width: 0.8 + 5.0 * t + if selected { 1.5 } else { 0.0 },
                color: if selected {
                    style.selection
                } else {
                    style.edge_for(errors as f32 / calls.max(1) as f32)
                },
                arrow: if ia == ib { 0.0 } else { 9.0 },
                self_loop: (ia == ib).then_some(10.0),
                highlighted: false,
                critical: false,
                edge: None,
                sum: Some(sum),
                selected,
            });
        }
    } else {
        let mut lit_edges = Vec::new();
        // Calls into and out of collapsed groups, summed per pair of drawn ends.
        let mut through_groups: BTreeMap<(End, End), (u64, u64, bool)> = BTreeMap::new();
        for e in &visible_edges {
            let (ga, gb) = (group_at(e.source()), group_at(e.target()));
            if ga.is_some() || gb.is_some() {
                if ga == gb {
                    continue;
                }
                let end = |g: Option<u32>, n: NodeIndex| g.map_or(End::Node(n), End::Group);
                let (Some(a), Some(b)) = (g.node_weight(e.source()), g.node_weight(e.target()))
                else {
                    continue;
                };
                let sum = through_groups
                    .entry((end(ga, e.source()), end(gb, e.target())))
                    .or_insert((0, 0, false));
                sum.0 += e.weight().calls;
                sum.1 += e.weight().errors;
                sum.2 |= lit.edges.contains(&(a.name, b.name));
                continue;
            }
            let (Some(from), Some(to)) = (px_of(e.source()), px_of(e.target())) else {
                continue;
            };
            if !inside(from) && !inside(to) {
                continue;
            }
            let (Some(a), Some(b)) = (g.node_weight(e.source()), g.node_weight(e.target())) else {
                continue;
            };
            let w = e.weight();
            let highlighted = lit.edges.contains(&(a.name, b.name));
            let critical = highlighted && lit.critical_edges.contains(&(a.name, b.name));
            let id = e.id().index() as u32;
            let selected = view.selected_edge == Some(id);
            let r = radius_of(e.target());
            // An edge shorter than its ends' radii lies under their discs: nothing shows.
            let length = ((to[0] - from[0]).powi(2) + (to[1] - from[1]).powi(2)).sqrt();
            if e.source() != e.target()
                && !highlighted
                && !selected
                && length < radius_of(e.source()) + r
            {
                continue;
            }
            let rate = w.errors as f32 / w.calls.max(1) as f32;
            let mut color = style.edge_for(rate);
            if any_lit && !highlighted {
                color = style.dim(color);
            }
            let width = width_of(w.calls);
            let shape = EdgeShape {
                from,
                to,
                to_radius: r,
                width: if critical {
                    width.max(2.5) + 2.0
                } else if highlighted || selected {
                    width.max(2.0) + 1.0
                } else {
                    width
                },
                color: if selected {
                    style.selection
                } else if critical {
                    style.critical
                } else if highlighted {
                    style.highlight
                } else {
                    color
                },
                arrow: if visible.len() > 2_000 && !(highlighted || selected) {
                    0.0
                } else {
                    4.0 + 2.0 * width
                },
                self_loop: (e.source() == e.target()).then_some(r + 5.0),
                highlighted,
                critical,
                edge: Some(id),
                sum: None,
                selected,
            };
            if highlighted || selected {
                lit_edges.push(shape);
            } else {
                edges.push(shape);
            }
        }
        let end_at = |end: End| -> Option<(Px, f32)> {
            match end {
                End::Node(n) => Some((px_of(n)?, radius_of(n))),
                End::Group(i) => groups.get(i as usize).map(|c| (c.center(), c.radius())),
            }
        };
        let edge_end = |end: End| match end {
            End::Node(n) => EdgeEnd::Node(n.index() as u32),
            End::Group(i) => groups
                .get(i as usize)
                .map_or(EdgeEnd::Node(u32::MAX), |c| EdgeEnd::Group(c.key)),
        };
        for ((a, b), (calls, errors, highlighted)) in through_groups {
            let (Some((from, _)), Some((to, r))) = (end_at(a), end_at(b)) else {
                continue;
            };
            if !inside(from) && !inside(to) {
                continue;
            }
            let mut color = style.edge_for(errors as f32 / calls.max(1) as f32);
            if any_lit && !highlighted {
                color = style.dim(color);
            }
            let width = width_of(calls);
            let sum = [edge_end(a), edge_end(b)];
            let selected = view.selected_sum == Some(sum);
            let shape = EdgeShape {
                from,
                to,
                to_radius: r,
                width: if highlighted || selected {
                    width.max(2.0) + 1.0
                } else {
                    width
                },
                color: if selected {
                    style.selection
                } else if highlighted {
                    style.highlight
                } else {
                    color
                },
                arrow: 4.0 + 2.0 * width,
                self_loop: None,
                highlighted,
                critical: false,
                edge: None,
                sum: Some(sum),
                selected,
            };
            if highlighted || selected {
                lit_edges.push(shape);
            } else {
                edges.push(shape);
            }
        }
        // The critical path on top of the rest of the flow, the selection on top of all.
        lit_edges.sort_by_key(|e| (e.selected, e.critical));
        edges.extend(lit_edges);
    }

    edges
}

/// One end of an edge into or out of a collapsed group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Node(NodeIndex),
    Group(u32),
}
