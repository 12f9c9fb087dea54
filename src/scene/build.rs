//! Builds a [`Scene`] from a graph at a level, its layout positions and the view state: which
//! nodes are visible, the camera, node sizes, hulls and node labels (edges in `scene::edges`,
//! legend and stamp in `scene::legend`).

use std::collections::BTreeMap;

use petgraph::stable_graph::{NodeIndex, StableGraph};
use petgraph::visit::NodeIndexable as _;
use rustc_hash::{FxHashMap, FxHashSet};

use super::edges::edges;
use super::hull::{convex_hull, hull_core, padded};
use super::labels::Occupancy;
use super::legend::{legend, stamp_text};
use super::style::Style;
use super::view::{Camera, SceneRequest};
use super::{GroupKey, HullKind, HullShape, Legend, Lod, NodeShape, Px, Scene, TextShape};
use crate::derive::filter::{Filter, NodeFacts};
use crate::derive::graph::{NodeTraffic, node_traffic};
use crate::derive::{EdgeStats, NodeInfo};
use crate::model::{Level, Resolve, Sym};

/// Above this many visible nodes the scene draws points and zone-summed edges.
const POINTS_ABOVE: usize = 20_000;
/// Below this median distance (px) between neighbours the scene draws points (zoomed out).
const POINTS_SPACING: f32 = 5.0;
/// At most this many node labels are tried.
const MAX_LABELS: usize = 4_000;
/// Label tries that may fail in a row before the canvas counts as full.
const MAX_LABEL_MISSES: usize = 400;

/// A point is on the canvas, or near enough that what is drawn at it may show.
pub(super) fn inside(size: Px, p: Px) -> bool {
    p[0] > -50.0 && p[1] > -50.0 && p[0] < size[0] + 50.0 && p[1] < size[1] + 50.0
}

/// The visible nodes placed on the canvas: what the edges are drawn between.
pub(super) struct Placed<'a> {
    /// The graph.
    pub g: &'a StableGraph<NodeInfo, EdgeStats>,
    /// The view.
    pub view: &'a super::View,
    /// The style.
    pub style: &'a Style,
    /// Visible nodes.
    pub visible: &'a [NodeIndex],
    /// Visible, by node index.
    pub shown: &'a [bool],
    /// Pixel positions by node index (NaN when not visible).
    pub px: &'a [Px],
    /// Radii by node index.
    pub radii: &'a [f32],
    /// Collapsed group by node index ([`NO_GROUP`] for none).
    pub group_of: &'a [u32],
    /// Collapsed groups.
    pub groups: &'a [Collapsed],
    /// The lit flow.
    pub lit: &'a super::Highlight,
    /// Detail level.
    pub lod: Lod,
}

impl Placed<'_> {
    /// Visible.
    pub fn is_shown(&self, n: NodeIndex) -> bool {
        self.shown.get(n.index()).copied().unwrap_or(false)
    }

    /// Pixel position of a visible node.
    pub fn px_of(&self, n: NodeIndex) -> Option<Px> {
        self.px.get(n.index()).copied().filter(|p| !p[0].is_nan())
    }

    /// Radius, px.
    pub fn radius_of(&self, n: NodeIndex) -> f32 {
        self.radii.get(n.index()).copied().unwrap_or(0.0)
    }

    /// The collapsed group a node is drawn in.
    pub fn group_at(&self, n: NodeIndex) -> Option<u32> {
        self.group_of
            .get(n.index())
            .copied()
            .filter(|&i| i != NO_GROUP)
    }
}

/// A region (by its index in the scene's region order) and a zone of it, or none.
type PlaceKey = (usize, Option<Sym>);

/// The short text a node is labelled with: the last field of a Spigo instance name.
fn short_name(name: &str, level: Level) -> &str {
    match level {
        // A full Spigo name (`arch.region.zone..www00...www.denominator`) by its instance field.
        Level::Instance => crate::model::SpigoName::parse_full(name)
            .map_or_else(|| name.rsplit('.').next().unwrap_or(name), |s| s.instance),
        _ => name,
    }
}

/// How a region or zone name reads in a label: Spigo's `*` is `global` as a region and
/// `cross-zone` as a zone.
pub fn place_label(region: &str, zone: Option<&str>) -> String {
    match zone {
        None if region == "*" => "global".to_owned(),
        None => region.to_owned(),
        Some("*") => "cross-zone".to_owned(),
        Some(z) => z.to_owned(),
    }
}

/// Builds the scene.
pub fn build(req: &SceneRequest<'_>) -> Scene {
    let SceneRequest {
        graph,
        interner,
        positions,
        view,
        stamp,
        measure,
    } = *req;
    let style = Style::new(view.theme);
    let g = &graph.graph;
    let (visible, filter_traffic) = visible_nodes(req);
    let name = |s: Option<Sym>| s.map(|s| interner.resolve(s));
    let mut shown = vec![false; g.node_bound()];
    for n in &visible {
        if let Some(s) = shown.get_mut(n.index()) {
            *s = true;
        }
    }
    let many = visible.len() > POINTS_ABOVE;

    let camera = view
        .camera
        .unwrap_or_else(|| fit(view.size, positions, &visible));
    let to_px = |p: [f32; 2]| -> Px {
        [
            (p[0] - camera.center[0]) * camera.zoom + view.size[0] / 2.0,
            (p[1] - camera.center[1]) * camera.zoom + view.size[1] / 2.0,
        ]
    };
    // Pixel positions of the visible nodes, computed once (edges look each end up).
    let mut px = vec![[f32::NAN; 2]; shown.len()];
    for n in &visible {
        if let (Some(slot), Some(&p)) = (px.get_mut(n.index()), positions.get(n.index())) {
            *slot = to_px(p);
        }
    }
    let px_of = |n: NodeIndex| px.get(n.index()).copied().filter(|p| !p[0].is_nan());

    // Nodes may not be much larger than the typical distance to their nearest neighbour on the
    // canvas, or they would cover each other; where that distance is a few pixels (zoomed out)
    // they are points.
    let spacing = if many {
        0.0
    } else {
        let mut d: Vec<f32> = Vec::new();
        let step = (visible.len() / 2_000).max(1);
        for &n in visible.iter().step_by(step) {
            let Some(p) = px_of(n) else { continue };
            let nearest = g
                .neighbors_undirected(n)
                .filter(|m| *m != n)
                .filter_map(px_of)
                .map(|q| ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt())
                .fold(f32::MAX, f32::min);
            if nearest < f32::MAX {
                d.push(nearest);
            }
        }
        // The median, without sorting the rest.
        let mid = d.len() / 2;
        if mid < d.len() {
            d.select_nth_unstable_by(mid, f32::total_cmp);
        }
        d.get(mid).copied().unwrap_or(f32::MAX)
    };
    let lod = if many || spacing < POINTS_SPACING {
        Lod::Points
    } else {
        Lod::Full
    };
    let traffic = match filter_traffic {
        Some(t) => t,
        None if lod == Lod::Full => node_traffic(graph),
        None => Vec::new(),
    };
    // Node sizes.
    let max_calls = visible
        .iter()
        .map(|n| {
            traffic
                .get(n.index())
                .map_or(0, |t| t.calls_in.max(t.calls))
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let radius_cap = (spacing * 0.45).max(2.5);
    // Radii of the visible nodes, computed once.
    let mut radii = vec![0.0f32; shown.len()];
    {
        let scale = if visible.len() > 2_000 { 0.6 } else { 1.0 };
        let log_max = ((1 + max_calls) as f32).ln().max(1.0);
        for n in &visible {
            let Some(slot) = radii.get_mut(n.index()) else {
                continue;
            };
            *slot = if lod == Lod::Points {
                1.6
            } else {
                let calls = traffic
                    .get(n.index())
                    .map_or(0, |t| t.calls_in.max(t.calls));
                let t = ((1 + calls) as f32).ln() / log_max;
                ((3.5 + 8.5 * t) * scale).min(radius_cap * (0.6 + 0.4 * t))
            };
        }
    }
    let radius_of = |n: NodeIndex| -> f32 { radii.get(n.index()).copied().unwrap_or(0.0) };
    let lit = &view.highlight;
    let any_lit = !lit.is_empty();

    // Regions in a stable order (by name), for colours and the legend.
    let regions = region_order(g, interner, &visible);
    let region_slot: FxHashMap<Sym, usize> =
        regions.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let region_index = |r: Option<Sym>| r.and_then(|r| region_slot.get(&r).copied());

    // Collapsed regions and zones: their visible members become one node at their centre. A
    // collapsed region wins over a collapsed zone inside it.
    let collapsed_of = |n: NodeIndex| -> Option<GroupKey> {
        if view.collapsed.is_empty() {
            return None;
        }
        let info = g.node_weight(n)?;
        let region = info.region?;
        let whole = GroupKey { region, zone: None };
        if view.collapsed.binary_search(&whole).is_ok() {
            return Some(whole);
        }
        let zone = GroupKey {
            region,
            zone: Some(info.zone?),
        };
        view.collapsed.binary_search(&zone).is_ok().then_some(zone)
    };
    let mut groups: Vec<Collapsed> = Vec::new();
    let mut group_of = vec![NO_GROUP; shown.len()];
    if !view.collapsed.is_empty() {
        let mut index: BTreeMap<GroupKey, u32> = BTreeMap::new();
        for &n in &visible {
            let (Some(key), Some(p)) = (collapsed_of(n), px_of(n)) else {
                continue;
            };
            let i = *index.entry(key).or_insert_with(|| {
                groups.push(Collapsed {
                    key,
                    first: n,
                    sum: [0.0; 2],
                    members: 0,
                });
                (groups.len() - 1) as u32
            });
            if let Some(c) = groups.get_mut(i as usize) {
                c.sum[0] += p[0];
                c.sum[1] += p[1];
                c.members += 1;
            }
            if let Some(slot) = group_of.get_mut(n.index()) {
                *slot = i;
            }
        }
    }
    let group_at = |n: NodeIndex| group_of.get(n.index()).copied().filter(|&i| i != NO_GROUP);

    // Hulls: only when nodes are instances or services (their places group them) and something
    // in the data names a region.
    let mut hulls = Vec::new();
    let unknown = interner.get(crate::model::topology::UNKNOWN);
    if matches!(graph.level, Level::Instance | Level::Service | Level::Zone)
        && regions.iter().any(|r| Some(*r) != unknown)
    {
        // Each node's point goes to its zone's set (or its region's, for nodes in no zone drawn);
        // a region's outline is the hull of its sets' hulls. Keyed by symbol while filling (no
        // string per node); ordered by name below.
        let mut sets: FxHashMap<PlaceKey, Vec<Px>> = FxHashMap::default();
        for &n in &visible {
            let (Some(info), Some(p)) = (g.node_weight(n), px_of(n)) else {
                continue;
            };
            if info.region.is_none() || info.region == unknown {
                continue;
            }
            let Some(ri) = region_index(info.region) else {
                continue;
            };
            if let Some(gi) = group_at(n) {
                // A collapsed zone still belongs to its region's hull (at its node).
                if let Some(c) = groups.get(gi as usize)
                    && c.key.zone.is_some()
                    && c.first == n
                {
                    sets.entry((ri, None)).or_default().push(c.center());
                }
                continue;
            }
            let zone = info.zone.filter(|_| graph.level != Level::Zone);
            sets.entry((ri, zone)).or_default().push(p);
        }
        let mut sets: Vec<(PlaceKey, Vec<Px>)> = sets
            .into_iter()
            .map(|(key, pts)| (key, hull_core(&pts)))
            .collect();
        sets.sort_by(|((ra, za), _), ((rb, zb), _)| {
            let name = |z: &Option<Sym>| z.map(|z| interner.resolve(z));
            (ra, name(za), za).cmp(&(rb, name(zb), zb))
        });
        let node_pad = if lod == Lod::Points { 6.0 } else { 14.0 };
        let mut region_core: Vec<Px> = Vec::new();
        for (i, ((ri, _), core)) in sets.iter().enumerate() {
            region_core.extend_from_slice(core);
            if sets.get(i + 1).is_some_and(|((next, _), _)| next == ri) {
                continue;
            }
            let Some(&region) = regions.get(*ri) else {
                continue;
            };
            let region_name = interner.resolve(region);
            hulls.push(HullShape {
                kind: HullKind::Region,
                points: padded(&convex_hull(&region_core), node_pad + 14.0),
                fill: style.region_fill(*ri),
                stroke: style.region(*ri).alpha(170),
                stroke_width: 1.5,
                region: *ri,
                name: place_label(region_name, None),
                group: GroupKey { region, zone: None },
            });
            region_core.clear();
        }
        if sets.iter().filter(|((_, z), _)| z.is_some()).count() > 1 {
            for ((ri, zone_sym), core) in &sets {
                let (Some(zone_sym), Some(&region)) = (zone_sym, regions.get(*ri)) else {
                    continue;
                };
                hulls.push(HullShape {
                    kind: HullKind::Zone,
                    points: padded(core, node_pad),
                    fill: style.zone_fill(*ri),
                    stroke: style.region(*ri).alpha(110),
                    stroke_width: 1.0,
                    region: *ri,
                    name: place_label("", Some(interner.resolve(*zone_sym))),
                    group: GroupKey {
                        region,
                        zone: Some(*zone_sym),
                    },
                });
            }
        }
    }

    let edges = edges(&Placed {
        g,
        view,
        style: &style,
        visible: &visible,
        shown: &shown,
        px: &px,
        radii: &radii,
        group_of: &group_of,
        groups: &groups,
        lit,
        lod,
    });
    let inside = |p: Px| inside(view.size, p);

    // Nodes.
    let mut nodes = Vec::with_capacity(visible.len());
    let mut lit_nodes = Vec::new();
    for &n in &visible {
        let (Some(info), Some(center)) = (g.node_weight(n), px_of(n)) else {
            continue;
        };
        if !inside(center) || group_at(n).is_some() {
            continue;
        }
        let highlighted = lit.nodes.contains(&info.name);
        let t = traffic.get(n.index()).copied().unwrap_or_default();
        let mut fill = style.package(name(info.package));
        if any_lit && !highlighted {
            fill = style.dim(fill);
        }
        let shape = NodeShape {
            node: n.index() as u32,
            center,
            radius: radius_of(n),
            fill: if highlighted { style.highlight } else { fill },
            outline: style.node_outline,
            ring: (t.errors > 0 && lod == Lod::Full).then_some(style.error_ring),
            cross: info.stopped_early.then_some(style.done_cross),
            highlighted,
            selected: view.selected == Some(n.index() as u32),
            pinned: view.pinned.binary_search(&(n.index() as u32)).is_ok(),
            group: None,
            members: 1,
        };
        if highlighted {
            lit_nodes.push(shape);
        } else {
            nodes.push(shape);
        }
    }
    for c in &groups {
        let center = c.center();
        if !inside(center) {
            continue;
        }
        let ri = region_index(Some(c.key.region)).unwrap_or(0);
        let highlighted = g
            .node_weight(c.first)
            .is_some_and(|i| lit.nodes.contains(&i.name));
        nodes.push(NodeShape {
            node: c.first.index() as u32,
            center,
            radius: c.radius(),
            fill: style.region(ri),
            outline: style.node_outline,
            ring: None,
            cross: None,
            highlighted,
            selected: view.selected_group == Some(c.key),
            pinned: false,
            group: Some(c.key),
            members: c.members,
        });
    }
    nodes.extend(lit_nodes);

    // Labels: hull labels first, then nodes by importance, none overlapping.
    let mut occupancy = Occupancy::new(view.size, 24.0);
    let loops = edges.iter().filter_map(|edge| {
        let r = edge.self_loop?;
        let c = [edge.from[0] + r * 0.8, edge.from[1] - r * 0.8];
        let rr = r * 0.7 + edge.width;
        Some([c[0] - rr, c[1] - rr, c[0] + rr, c[1] + rr])
    });
    // Points (a radius of a pixel or two, thousands of them) mark a bitmap; discs are kept.
    let point = |node: &&NodeShape| lod == Lod::Points && node.group.is_none();
    let discs = nodes.iter().filter(|n| !point(n)).map(|node| {
        let (c, r) = (node.center, node.radius);
        [c[0] - r, c[1] - r, c[0] + r, c[1] + r]
    });
    occupancy.take_all(&loops.chain(discs).collect::<Vec<_>>());
    if lod == Lod::Points {
        let r = nodes
            .iter()
            .filter(point)
            .map(|n| n.radius)
            .fold(0.0, f32::max);
        occupancy.take_points(nodes.iter().filter(point).map(|n| n.center), r);
    }
    let mut labels = Vec::new();
    for hull in &hulls {
        let (size, color) = match hull.kind {
            HullKind::Region => (style.hull_label_size, style.text),
            HullKind::Zone => (style.small_size, style.text_weak),
        };
        let w = measure(&hull.name, size);
        // Above the hull's top-most point, left-aligned to it.
        let Some(top) = hull.points.iter().min_by(|a, b| a[1].total_cmp(&b[1])) else {
            continue;
        };
        for dx in [0.0, -w / 2.0, -w] {
            let pos = [top[0] + dx, top[1] - size - 4.0];
            let rect = [pos[0], pos[1], pos[0] + w, pos[1] + size * 1.25];
            if occupancy.free(&rect) {
                occupancy.take(rect);
                labels.push(TextShape {
                    pos,
                    text: hull.name.clone(),
                    size,
                    color,
                });
                break;
            }
        }
    }
    // Lit, selected and group nodes first, then by size (largest first), then by index; sorted
    // by a packed key (radii are not negative, so their bits order as the numbers do).
    // Points are labelled only when lit, selected or a group.
    let label_all = lod == Lod::Full;
    let first = |n: &NodeShape| n.highlighted || n.selected || n.group.is_some();
    let mut keyed: Vec<(u8, u32, u32, usize)> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| label_all || first(n))
        .map(|(i, n)| {
            let first = first(n);
            (
                u8::from(!first),
                u32::MAX - n.radius.max(0.0).to_bits(),
                n.node,
                i,
            )
        })
        .collect();
    if keyed.len() > MAX_LABELS {
        keyed.select_nth_unstable(MAX_LABELS);
        keyed.truncate(MAX_LABELS);
    }
    keyed.sort_unstable();
    let order: Vec<&NodeShape> = keyed.iter().filter_map(|k| nodes.get(k.3)).collect();
    // Crowded canvases fill up sooner; stop trying sooner too.
    let max_misses = if visible.len() > 2_000 {
        MAX_LABEL_MISSES / 4
    } else {
        MAX_LABEL_MISSES
    };
    // Once the canvas is full, stop trying (lit and selected nodes come first, so they are tried).
    let mut misses = 0;
    for node in order.into_iter().take(MAX_LABELS) {
        if misses > max_misses {
            break;
        }
        if !label_all && !node.highlighted && !node.selected && node.group.is_none() {
            continue;
        }
        let Some(info) = g.node_weight(NodeIndex::new(node.node as usize)) else {
            continue;
        };
        let group_text;
        let text = match node.group {
            Some(key) => {
                let region = interner.resolve(key.region);
                group_text = format!(
                    "{} ({} nodes)",
                    place_label(region, key.zone.map(|z| interner.resolve(z))),
                    node.members
                );
                group_text.as_str()
            }
            None => short_name(interner.resolve(info.name), graph.level),
        };
        let size = style.label_size;
        let w = measure(text, size);
        let Some(pos) = occupancy.place_beside(node.center, node.radius, w, size * 1.25) else {
            misses += 1;
            continue;
        };
        misses = 0;
        {
            let color = if any_lit && !node.highlighted {
                style.text_weak
            } else {
                style.text
            };
            labels.push(TextShape {
                pos,
                text: text.to_owned(),
                size,
                color,
            });
        }
    }

    // Legend and stamp.
    let (legend, stamp_lines) = if view.legend {
        (
            Some(legend_of(req, &style, &visible, &regions, unknown)),
            stamp_text(&style, stamp, measure, view.size),
        )
    } else {
        (None, Vec::new())
    };

    let mut scene = Scene {
        size: view.size,
        style,
        hulls,
        edges,
        nodes,
        labels,
        legend,
        stamp: stamp_lines,
        lod,
        zoom: camera.zoom,
    };
    if let Some(compared) = view.compared.as_ref().filter(|c| c.restyle) {
        super::diff::restyle(
            &mut scene,
            graph,
            interner,
            &compared.diff,
            view.theme,
            measure,
        );
    }
    scene
}

/// The nodes that pass the view's filter and have a finite position, with the traffic per
/// node when a filter needed it.
fn visible_nodes(req: &SceneRequest<'_>) -> (Vec<NodeIndex>, Option<Vec<NodeTraffic>>) {
    let SceneRequest {
        graph,
        interner,
        positions,
        view,
        ..
    } = *req;
    let g = &graph.graph;
    // Traffic is read by a filter, and by node sizes at full detail; points need none.
    let filtered = view.filter != Filter::All;
    let filter_traffic = filtered.then(|| node_traffic(graph));
    // What happened to each node since the baseline, for the filter's change fields.
    let changes = view.compared.as_ref().filter(|_| filtered);
    let name = |s: Option<Sym>| s.map(|s| interner.resolve(s));
    let visible = g
        .node_indices()
        .filter(|&n| {
            let Some(info) = g.node_weight(n) else {
                return false;
            };
            let Some(p) = positions.get(n.index()) else {
                return false;
            };
            if !p[0].is_finite() || !p[1].is_finite() {
                return false;
            }
            let Some(traffic) = &filter_traffic else {
                return true;
            };
            let t = traffic.get(n.index()).copied().unwrap_or_default();
            let node_name = interner.resolve(info.name);
            view.filter.matches(&NodeFacts {
                change: changes.and_then(|c| c.diff.node(node_name)),
                name: node_name,
                service: name(info.service),
                region: name(info.region),
                zone: name(info.zone),
                package: name(info.package),
                calls: t.calls,
                errors: t.errors,
                p50_micros: t.p50,
                p99_micros: t.p99,
                mean_micros: (t.latency_calls > 0)
                    .then(|| (t.mean_weighted / t.latency_calls as f64) as u64),
            })
        })
        .collect();
    (visible, filter_traffic)
}

/// The camera that fits `visible` into a canvas of `size`, leaving room for hull padding and
/// labels.
fn fit(size: Px, positions: &[[f32; 2]], visible: &[NodeIndex]) -> Camera {
    let margin = 60.0;
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for n in visible {
        if let Some(p) = positions.get(n.index()) {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    }
    if visible.is_empty() {
        lo = [0.0; 2];
        hi = [1.0; 2];
    }
    let span = [(hi[0] - lo[0]).max(1e-3), (hi[1] - lo[1]).max(1e-3)];
    let zoom = ((size[0] - 2.0 * margin) / span[0]).min((size[1] - 2.0 * margin) / span[1]);
    Camera {
        center: [f32::midpoint(lo[0], hi[0]), f32::midpoint(lo[1], hi[1])],
        zoom: if zoom.is_finite() && zoom > 0.0 {
            zoom
        } else {
            1.0
        },
    }
}

/// The regions of the visible nodes in a stable order (by name), for colours and the legend.
fn region_order(
    g: &StableGraph<NodeInfo, EdgeStats>,
    interner: &dyn Resolve,
    visible: &[NodeIndex],
) -> Vec<Sym> {
    // Distinct symbols first (a handful), then those sorted by name: collecting every node's
    // region name into an ordered set sorted them all, each frame.
    let mut seen: FxHashSet<Sym> = FxHashSet::default();
    let mut last = None;
    for &n in visible {
        let region = g.node_weight(n).and_then(|i| i.region);
        if region != last {
            last = region;
            if let Some(r) = region {
                seen.insert(r);
            }
        }
    }
    let mut regions: Vec<Sym> = seen.into_iter().collect();
    regions.sort_unstable_by(|a, b| interner.resolve(*a).cmp(interner.resolve(*b)));
    regions
}

/// The legend of the visible nodes: their packages, regions, the lit flow, stopped nodes.
fn legend_of(
    req: &SceneRequest<'_>,
    style: &Style,
    visible: &[NodeIndex],
    regions: &[Sym],
    unknown: Option<Sym>,
) -> Legend {
    let (g, interner, view) = (&req.graph.graph, req.interner, req.view);
    let regions_named: Vec<(usize, String)> = regions
        .iter()
        .enumerate()
        .filter(|(_, r)| Some(**r) != unknown)
        .map(|(i, r)| (i, place_label(interner.resolve(*r), None)))
        .collect();
    let stopped = visible
        .iter()
        .any(|&n| g.node_weight(n).is_some_and(|i| i.stopped_early));
    // Distinct symbols first (a handful), then their names.
    let packages: FxHashSet<Sym> = visible
        .iter()
        .filter_map(|&n| g.node_weight(n).and_then(|i| i.package))
        .collect();
    let packages: FxHashSet<&str> = packages.into_iter().map(|p| interner.resolve(p)).collect();
    legend(
        style,
        &packages,
        &regions_named,
        &view.highlight,
        stopped,
        req.measure,
        view.size,
    )
}

/// The camera a view that fits everything is drawn with: the visible nodes fitted into the
/// canvas, right of the legend (bottom-left) when there is one, so it hides no node. Cheaper
/// than building the scene to find it: no node, edge, hull or label is made.
pub fn fitted_camera(req: &SceneRequest<'_>) -> Camera {
    let view = req.view;
    let (visible, _) = visible_nodes(req);
    let camera = fit(view.size, req.positions, &visible);
    if !view.legend {
        return camera;
    }
    let style = Style::new(view.theme);
    let regions = region_order(&req.graph.graph, req.interner, &visible);
    let unknown = req.interner.get(crate::model::topology::UNKNOWN);
    let legend = legend_of(req, &style, &visible, &regions, unknown);
    let width = view.size[0];
    let inset = (legend.rect[1][0] + 8.0).min(width * 0.4);
    // The fit left 60 px each side; now the left margin starts at the legend's right edge.
    let shrink = ((width - inset - 60.0) / (width - 120.0).max(1.0)).clamp(0.3, 1.0);
    let zoom = camera.zoom * shrink;
    Camera {
        center: [
            camera.center[0] - (inset - 60.0).max(0.0) / 2.0 / zoom,
            camera.center[1],
        ],
        zoom,
    }
}

/// No collapsed group (in the per-node group table).
pub(super) const NO_GROUP: u32 = u32::MAX;

/// A collapsed region or zone being gathered: its members' pixel positions summed.
pub(super) struct Collapsed {
    /// The region or zone.
    pub key: GroupKey,
    /// The first member seen (the group node stands for it in picking and selection).
    first: NodeIndex,
    sum: [f32; 2],
    members: u32,
}

impl Collapsed {
    /// The centre of its members, px.
    pub fn center(&self) -> Px {
        let m = self.members.max(1) as f32;
        [self.sum[0] / m, self.sum[1] / m]
    }

    /// The radius of its node, px: grows with the log of its size.
    pub fn radius(&self) -> f32 {
        (7.0 + 3.0 * (self.members.max(1) as f32).ln()).min(28.0)
    }
}
