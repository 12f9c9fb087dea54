//! The edges of a scene: each drawn edge, the calls into and out of collapsed groups summed per
//! pair of drawn ends, or (zoomed out, or very many) the calls summed per pair of zones.

use std::collections::BTreeMap;

use petgraph::stable_graph::{EdgeReference, NodeIndex};
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};
use rustc_hash::FxHashMap;

use super::build::{Placed, inside};
use super::{EdgeEnd, EdgeShape, Lod, Px, Rgba, Style};
use crate::derive::EdgeStats;
use crate::model::Sym;

/// Above this many visible edges, edges are summed per zone pair.
const AGGREGATE_EDGES_ABOVE: usize = 60_000;
/// Above this many visible edges, edges are hairlines.
const DENSE_EDGES: usize = 5_000;

/// Cells (px) edges are summed in when the nodes name no zones.
const CELL_PX: f32 = 16.0;
/// At most this many key pairs are summed in a dense table.
const DENSE_PAIRS: usize = 1 << 18;

/// What the ends of a summed edge are: a (region, zone) pair, or a cell of the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum SumKey {
    Zone(Option<Sym>, Option<Sym>),
    Cell(i32, i32),
}

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
    let shown_edges = || {
        g.edge_references()
            .filter(|e| is_shown(e.source()) && is_shown(e.target()))
    };
    if lod == Lod::Points {
        return summed_under_lit(p, summed(p, shown_edges()));
    }
    let mut edges = Vec::new();
    let visible_edges: Vec<_> = shown_edges().collect();
    if visible_edges.len() > AGGREGATE_EDGES_ABOVE {
        return summed_under_lit(p, summed(p, visible_edges.into_iter()));
    }
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
    {
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
            if let Some(shape) = drawn(p, *e, &width_of) {
                if shape.highlighted || shape.selected {
                    lit_edges.push(shape);
                } else {
                    edges.push(shape);
                }
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
            let sum = [edge_end(a), edge_end(b)];
            let selected = view.selected_sum == Some(sum);
            let (width, color) =
                emphasis(style, width_of(calls), color, selected, false, highlighted);
            let shape = EdgeShape {
                from,
                to,
                to_radius: r,
                width,
                color,
                arrow: 4.0 + 2.0 * width_of(calls),
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

/// One graph edge drawn on its own, `width_of(calls)` wide: dimmed when a flow is lit and it is
/// not on it, emphasised when lit, critical or selected. `None` when an end is in a collapsed
/// group or not placed, when both ends are off the canvas, or when it lies under its ends' discs.
fn drawn(
    p: &Placed<'_>,
    e: EdgeReference<'_, EdgeStats>,
    width_of: &dyn Fn(u64) -> f32,
) -> Option<EdgeShape> {
    let Placed {
        g,
        view,
        style,
        visible,
        lit,
        ..
    } = *p;
    if p.group_at(e.source()).is_some() || p.group_at(e.target()).is_some() {
        return None;
    }
    let (from, to) = (p.px_of(e.source())?, p.px_of(e.target())?);
    if !inside(view.size, from) && !inside(view.size, to) {
        return None;
    }
    let (a, b) = (g.node_weight(e.source())?, g.node_weight(e.target())?);
    let w = e.weight();
    let highlighted = lit.edges.contains(&(a.name, b.name));
    let critical = highlighted && lit.critical_edges.contains(&(a.name, b.name));
    let id = e.id().index() as u32;
    let selected = view.selected_edge == Some(id);
    let r = p.radius_of(e.target());
    // An edge shorter than its ends' radii lies under their discs: nothing shows.
    let length = ((to[0] - from[0]).powi(2) + (to[1] - from[1]).powi(2)).sqrt();
    if e.source() != e.target() && !highlighted && !selected && length < p.radius_of(e.source()) + r
    {
        return None;
    }
    let rate = w.errors as f32 / w.calls.max(1) as f32;
    let mut color = style.edge_for(rate);
    if !lit.is_empty() && !highlighted {
        color = style.dim(color);
    }
    let (width, color) = emphasis(
        style,
        width_of(w.calls),
        color,
        selected,
        critical,
        highlighted,
    );
    Some(EdgeShape {
        from,
        to,
        to_radius: r,
        width,
        color,
        arrow: if visible.len() > 2_000 && !(highlighted || selected) {
            0.0
        } else {
            4.0 + 2.0 * width_of(w.calls)
        },
        self_loop: (e.source() == e.target()).then_some(r + 5.0),
        highlighted,
        critical,
        edge: Some(id),
        sum: None,
        selected,
    })
}

/// Summed edges with the lit flow's and the selected edge's own edges drawn on top of them, so
/// a trace's path and a selection stay visible zoomed out; the sums are dimmed while a flow is
/// lit. Finds the lit edges from the lit nodes, without a pass over every edge.
fn summed_under_lit(p: &Placed<'_>, mut edges: Vec<EdgeShape>) -> Vec<EdgeShape> {
    let Placed {
        g,
        view,
        style,
        visible,
        lit,
        ..
    } = *p;
    if lit.is_empty() && view.selected_edge.is_none() {
        return edges;
    }
    if !lit.is_empty() {
        for e in &mut edges {
            if !e.selected {
                e.color = style.dim(e.color);
            }
        }
    }
    let width_of = |_calls: u64| 1.0;
    let mut on_top = Vec::new();
    if !lit.edges.is_empty() {
        for &n in visible {
            if !g
                .node_weight(n)
                .is_some_and(|i| lit.nodes.contains(&i.name))
            {
                continue;
            }
            for e in g.edges(n) {
                if e.id().index() as u32 == view.selected_edge.unwrap_or(u32::MAX)
                    || !p.is_shown(e.target())
                {
                    continue;
                }
                if let Some(shape) = drawn(p, e, &width_of).filter(|s| s.highlighted) {
                    on_top.push(shape);
                }
            }
        }
    }
    if let Some(id) = view.selected_edge {
        let index = petgraph::stable_graph::EdgeIndex::new(id as usize);
        if let Some((a, b)) = g.edge_endpoints(index)
            && p.is_shown(a)
            && p.is_shown(b)
            && let Some(e) = g.edges_connecting(a, b).find(|e| e.id() == index)
            && let Some(shape) = drawn(p, e, &width_of)
        {
            on_top.push(shape);
        }
    }
    // The critical path on top of the rest of the flow, the selection on top of all.
    on_top.sort_by_key(|e| (e.selected, e.critical));
    edges.extend(on_top);
    edges
}

/// Edges summed per pair of ends, drawn between the centres of the ends' visible nodes: per pair
/// of zones when the visible nodes lie in more than one, else per pair of canvas cells (calls
/// inside one cell are not drawn). One stroke per pair, its width growing with the calls.
fn summed<'g>(
    p: &Placed<'g>,
    visible_edges: impl Iterator<Item = EdgeReference<'g, EdgeStats>>,
) -> Vec<EdgeShape> {
    let Placed {
        g,
        view,
        style,
        visible,
        ..
    } = *p;
    let zone_of = |n: NodeIndex| {
        g.node_weight(n)
            .map_or(SumKey::Zone(None, None), |i| SumKey::Zone(i.region, i.zone))
    };
    let first_zone = visible.first().map(|&n| zone_of(n));
    let zones = visible.iter().any(|&n| Some(zone_of(n)) != first_zone);
    let key_of = |n: NodeIndex, q: Px| {
        if zones {
            zone_of(n)
        } else {
            SumKey::Cell(
                (q[0] / CELL_PX).floor() as i32,
                (q[1] / CELL_PX).floor() as i32,
            )
        }
    };
    // Each visible node's end, as an index into `keys` (first seen first); the centre of each.
    let mut index: FxHashMap<SumKey, u32> = FxHashMap::default();
    let mut keys: Vec<SumKey> = Vec::new();
    let mut centre: Vec<([f32; 2], f32)> = Vec::new();
    let mut end_at = vec![u32::MAX; p.shown.len()];
    for &n in visible {
        let Some(q) = p.px_of(n) else { continue };
        let key = key_of(n, q);
        let i = *index.entry(key).or_insert_with(|| {
            keys.push(key);
            centre.push(([0.0; 2], 0.0));
            (keys.len() - 1) as u32
        });
        if let Some(c) = centre.get_mut(i as usize) {
            c.0[0] += q[0];
            c.0[1] += q[1];
            c.1 += 1.0;
        }
        if let Some(slot) = end_at.get_mut(n.index()) {
            *slot = i;
        }
    }
    let at = |n: NodeIndex| end_at.get(n.index()).copied().filter(|&i| i != u32::MAX);
    // Calls and errors per pair of ends: a dense table while the ends are few.
    let k = keys.len();
    let mut sums: Vec<((u32, u32), (u64, u64))> = if k * k <= DENSE_PAIRS {
        let mut table = vec![(0u64, 0u64); k * k];
        for e in visible_edges {
            if let (Some(a), Some(b)) = (at(e.source()), at(e.target()))
                && let Some(s) = table.get_mut(a as usize * k + b as usize)
            {
                s.0 += e.weight().calls.max(1);
                s.1 += e.weight().errors;
            }
        }
        table
            .into_iter()
            .enumerate()
            .filter(|(_, s)| s.0 > 0)
            .map(|(i, s)| (((i / k) as u32, (i % k) as u32), s))
            .collect()
    } else {
        let mut table: FxHashMap<(u32, u32), (u64, u64)> = FxHashMap::default();
        for e in visible_edges {
            if let (Some(a), Some(b)) = (at(e.source()), at(e.target())) {
                let s = table.entry((a, b)).or_default();
                s.0 += e.weight().calls.max(1);
                s.1 += e.weight().errors;
            }
        }
        table.into_iter().collect()
    };
    let key = |i: u32| keys.get(i as usize).copied();
    sums.sort_unstable_by_key(|&((a, b), _)| (key(a), key(b)));
    let max_sum = sums.iter().map(|s| s.1.0).max().unwrap_or(1).max(1);
    let log_max = ((1 + max_sum) as f32).ln().max(1.0);
    let mut edges = Vec::with_capacity(sums.len());
    for ((ia, ib), (calls, errors)) in sums {
        let (Some(ka), Some(kb), Some(ca), Some(cb)) = (
            key(ia),
            key(ib),
            centre.get(ia as usize),
            centre.get(ib as usize),
        ) else {
            continue;
        };
        let from = [ca.0[0] / ca.1, ca.0[1] / ca.1];
        let to = [cb.0[0] / cb.1, cb.0[1] / cb.1];
        let same = ia == ib;
        if (same && !zones) || (!inside(view.size, from) && !inside(view.size, to)) {
            continue;
        }
        let t = ((1 + calls) as f32).ln() / log_max;
        let sum = match (ka, kb) {
            (SumKey::Zone(ra, za), SumKey::Zone(rb, zb)) => {
                Some([EdgeEnd::Zone(ra, za), EdgeEnd::Zone(rb, zb)])
            }
            _ => None,
        };
        let selected = sum.is_some() && view.selected_sum == sum;
        edges.push(EdgeShape {
            from,
            to,
            to_radius: if zones { 10.0 } else { 2.0 },
            width: if zones { 0.8 + 5.0 * t } else { 0.5 + 2.5 * t }
                + if selected { 1.5 } else { 0.0 },
            color: if selected {
                style.selection
            } else {
                style.edge_for(errors as f32 / calls.max(1) as f32)
            },
            arrow: if same || !zones { 0.0 } else { 9.0 },
            self_loop: same.then_some(10.0),
            highlighted: false,
            critical: false,
            edge: None,
            sum,
            selected,
        });
    }
    edges
}

/// The width and colour of a drawn edge given its plain ones: the selection over the critical
/// path over the lit flow over the rest.
fn emphasis(
    style: &Style,
    width: f32,
    color: Rgba,
    selected: bool,
    critical: bool,
    highlighted: bool,
) -> (f32, Rgba) {
    let width = if critical {
        width.max(2.5) + 2.0
    } else if highlighted || selected {
        width.max(2.0) + 1.0
    } else {
        width
    };
    let color = if selected {
        style.selection
    } else if critical {
        style.critical
    } else if highlighted {
        style.highlight
    } else {
        color
    };
    (width, color)
}

/// One end of an edge into or out of a collapsed group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Node(NodeIndex),
    Group(u32),
}
