//! Builds a [`Scene`] from a graph at a level, its layout positions and the view state.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};
use rustc_hash::{FxHashMap, FxHashSet};

use super::hull::padded_hull;
use super::labels::Occupancy;
use super::style::{PACKAGE_LEGEND, Rgba, Style, Theme};
use super::{
    EdgeEnd, EdgeShape, GroupKey, HullKind, HullShape, Legend, LegendItem, Lod, NodeShape, Px,
    Scene, Swatch, TextShape,
};
use crate::derive::ServiceGraph;
use crate::derive::filter::{Filter, NodeFacts};
use crate::model::{Interner, Level, Sym};

/// Above this many visible nodes the scene draws points and zone-summed edges.
const POINTS_ABOVE: usize = 20_000;
/// Above this many visible edges, edges are summed per zone pair.
const AGGREGATE_EDGES_ABOVE: usize = 60_000;
/// Above this many visible edges, edges are hairlines.
const DENSE_EDGES: usize = 5_000;
/// At most this many node labels are tried.
const MAX_LABELS: usize = 4_000;
/// Label tries that may fail in a row before the canvas counts as full.
const MAX_LABEL_MISSES: usize = 400;

/// A lit flow: nodes and edges named at the graph's level.
pub type Highlight = crate::derive::flow::FlowPath;

/// Where the view looks: layout coordinates at the canvas centre, and pixels per layout unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Layout point shown at the centre.
    pub center: [f32; 2],
    /// Pixels per layout unit.
    pub zoom: f32,
}

/// The view state the scene depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Canvas size, px.
    pub size: Px,
    /// Theme.
    pub theme: Theme,
    /// Which nodes are shown.
    pub filter: Filter,
    /// The lit flow.
    pub highlight: Highlight,
    /// The selected node.
    pub selected: Option<u32>,
    /// The selected edge (graph edge index).
    pub selected_edge: Option<u32>,
    /// The selected collapsed region or zone.
    pub selected_group: Option<GroupKey>,
    /// The selected summed edge, by its ends.
    pub selected_sum: Option<[EdgeEnd; 2]>,
    /// Nodes held in place by the user, sorted.
    pub pinned: Vec<u32>,
    /// Regions and zones drawn as one node each, sorted.
    pub collapsed: Vec<GroupKey>,
    /// `None` fits everything visible.
    pub camera: Option<Camera>,
    /// Draw the legend and stamp.
    pub legend: bool,
}

impl Default for View {
    fn default() -> Self {
        Self {
            size: [1600.0, 1000.0],
            theme: Theme::Dark,
            filter: Filter::All,
            highlight: Highlight::default(),
            selected: None,
            selected_edge: None,
            selected_group: None,
            selected_sum: None,
            pinned: Vec::new(),
            collapsed: Vec::new(),
            camera: None,
            legend: true,
        }
    }
}

/// What the stamp says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    /// Source files.
    pub files: Vec<String>,
    /// Level.
    pub level: Level,
    /// Filter text.
    pub filter: String,
    /// First and last span start, epoch µs.
    pub time_range: Option<(i64, i64)>,
    /// The lit trace, if any.
    pub trace: Option<String>,
}

impl Stamp {
    /// How a stamp names a file: its file name (the whole path when it has none).
    pub fn file_label(path: &std::path::Path) -> String {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// Everything the builder reads.
pub struct SceneRequest<'a> {
    /// The graph.
    pub graph: &'a ServiceGraph,
    /// Its strings.
    pub interner: &'a Interner,
    /// Layout positions by `NodeIndex::index()`.
    pub positions: &'a [[f32; 2]],
    /// View state.
    pub view: &'a View,
    /// Stamp.
    pub stamp: &'a Stamp,
    /// Text width in px for a string at a font size (the painter's font metrics).
    pub measure: &'a dyn Fn(&str, f32) -> f32,
}

/// A (region, zone) pair.
type ZoneKey = (Option<Sym>, Option<Sym>);

/// The legend entry a package is listed under.
fn canonical_package(p: &str) -> &str {
    match p {
        "riak" => "priamCassandra",
        "cache" | "volume" => "store",
        "denominator" => "monolith",
        other => other,
    }
}

/// Per-node traffic, summed over its edges.
#[derive(Clone, Copy, Default)]
struct Traffic {
    calls: u64,
    errors: u64,
    calls_in: u64,
    p50: Option<u64>,
    p99: Option<u64>,
    mean_weighted: f64,
    latency_calls: u64,
}

/// Traffic per node, by `NodeIndex::index()`.
fn traffic(graph: &ServiceGraph) -> Vec<Traffic> {
    use petgraph::visit::NodeIndexable as _;
    let mut t = vec![Traffic::default(); graph.graph.node_bound()];
    for e in (&graph.graph).edge_references() {
        let w = e.weight();
        for n in [e.source(), e.target()] {
            if let Some(entry) = t.get_mut(n.index()) {
                entry.calls += w.calls;
                entry.errors += w.errors;
            }
        }
        let Some(into) = t.get_mut(e.target().index()) else {
            continue;
        };
        into.calls_in += w.calls;
        if let Some(l) = w.latency {
            into.p50 = into.p50.max(Some(l.p50_micros));
            into.p99 = into.p99.max(Some(l.p99_micros));
            into.mean_weighted += l.mean_micros as f64 * l.count as f64;
            into.latency_calls += l.count;
        }
    }
    t
}

/// The short text a node is labelled with: the last field of a Spigo instance name.
fn short_name(name: &str, level: Level) -> &str {
    match level {
        Level::Instance => name.rsplit('.').next().unwrap_or(name),
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
    let traffic = traffic(graph);
    let name = |s: Option<Sym>| s.map(|s| interner.resolve(s));

    // Visible nodes: pass the filter and have a finite position.
    let visible: Vec<NodeIndex> = g
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
            if view.filter == Filter::All {
                return true;
            }
            let t = traffic.get(n.index()).copied().unwrap_or_default();
            view.filter.matches(&NodeFacts {
                name: interner.resolve(info.name),
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
    let mut shown = vec![false; traffic.len()];
    for n in &visible {
        if let Some(s) = shown.get_mut(n.index()) {
            *s = true;
        }
    }
    let is_shown = |n: NodeIndex| shown.get(n.index()).copied().unwrap_or(false);
    let lod = if visible.len() > POINTS_ABOVE {
        Lod::Points
    } else {
        Lod::Full
    };

    // Camera: fit the visible nodes, leaving room for hull padding and labels.
    let margin = 60.0;
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for n in &visible {
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
    let camera = view.camera.unwrap_or_else(|| {
        let span = [(hi[0] - lo[0]).max(1e-3), (hi[1] - lo[1]).max(1e-3)];
        let zoom =
            ((view.size[0] - 2.0 * margin) / span[0]).min((view.size[1] - 2.0 * margin) / span[1]);
        Camera {
            center: [f32::midpoint(lo[0], hi[0]), f32::midpoint(lo[1], hi[1])],
            zoom: if zoom.is_finite() && zoom > 0.0 {
                zoom
            } else {
                1.0
            },
        }
    });
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
    // Nodes may not be much larger than the typical distance to their nearest neighbour on the
    // canvas, or they would cover each other.
    let spacing = {
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
    let regions: Vec<Sym> = {
        // Distinct symbols first (a handful), then those sorted by name: collecting every
        // node's region name into an ordered set sorted them all, each frame.
        let mut seen: FxHashSet<Sym> = FxHashSet::default();
        let mut last = None;
        for &n in &visible {
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
    };
    let region_index = |r: Option<Sym>| r.and_then(|r| regions.iter().position(|x| *x == r));

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
        let mut by_region: BTreeMap<usize, Vec<Px>> = BTreeMap::new();
        // Keyed by symbol while filling (no string per node); ordered by name below.
        let mut by_zone: rustc_hash::FxHashMap<(usize, Sym), Vec<Px>> =
            rustc_hash::FxHashMap::default();
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
                    by_region.entry(ri).or_default().push(c.center());
                }
                continue;
            }
            by_region.entry(ri).or_default().push(p);
            if graph.level != Level::Zone
                && let Some(z) = info.zone
            {
                by_zone.entry((ri, z)).or_default().push(p);
            }
        }
        let node_pad = if lod == Lod::Points { 6.0 } else { 14.0 };
        for (ri, pts) in &by_region {
            let Some(&region) = regions.get(*ri) else {
                continue;
            };
            let region_name = interner.resolve(region);
            hulls.push(HullShape {
                kind: HullKind::Region,
                points: padded_hull(pts, node_pad + 14.0),
                fill: style.region_fill(*ri),
                stroke: style.region(*ri).alpha(170),
                stroke_width: 1.5,
                region: *ri,
                name: place_label(region_name, None),
                group: GroupKey { region, zone: None },
            });
        }
        if by_zone.len() > 1 {
            let mut by_zone: Vec<((usize, Sym), Vec<Px>)> = by_zone.into_iter().collect();
            by_zone.sort_by(|((ra, za), _), ((rb, zb), _)| {
                (ra, interner.resolve(*za), za).cmp(&(rb, interner.resolve(*zb), zb))
            });
            for ((ri, zone_sym), pts) in &by_zone {
                let zone = interner.resolve(*zone_sym);
                let Some(&region) = regions.get(*ri) else {
                    continue;
                };
                hulls.push(HullShape {
                    kind: HullKind::Zone,
                    points: padded_hull(pts, node_pad),
                    fill: style.zone_fill(*ri),
                    stroke: style.region(*ri).alpha(110),
                    stroke_width: 1.0,
                    region: *ri,
                    name: place_label("", Some(zone)),
                    group: GroupKey {
                        region,
                        zone: Some(*zone_sym),
                    },
                });
            }
        }
    }

    // Edges.
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
    let inside = |p: Px| {
        p[0] > -50.0 && p[1] > -50.0 && p[0] < view.size[0] + 50.0 && p[1] < view.size[1] + 50.0
    };
    if visible_edges.len() > AGGREGATE_EDGES_ABOVE || lod == Lod::Points {
        // Sum edges per (caller zone, callee zone), drawn between zone centroids.
        let zone_of = |n: NodeIndex| g.node_weight(n).map(|i| (i.region, i.zone));
        let mut centroid: FxHashMap<ZoneKey, ([f32; 2], f32)> = FxHashMap::default();
        for &n in &visible {
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
        let mut zone_at = vec![u32::MAX; shown.len()];
        for &n in &visible {
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
    let discs = nodes.iter().map(|node| {
        let (c, r) = (node.center, node.radius);
        [c[0] - r, c[1] - r, c[0] + r, c[1] + r]
    });
    occupancy.take_all(&loops.chain(discs).collect::<Vec<_>>());
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
    let mut keyed: Vec<(u8, u32, u32, usize)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let first = n.highlighted || n.selected || n.group.is_some();
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
    let label_all = lod == Lod::Full;
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
        let regions_named: Vec<(usize, String)> = regions
            .iter()
            .enumerate()
            .filter(|(_, r)| Some(**r) != unknown)
            .map(|(i, r)| (i, place_label(interner.resolve(*r), None)))
            .collect();
        let stopped = visible
            .iter()
            .any(|&n| g.node_weight(n).is_some_and(|i| i.stopped_early));
        let packages: FxHashSet<&str> = visible
            .iter()
            .filter_map(|&n| g.node_weight(n).and_then(|i| i.package))
            .map(|p| interner.resolve(p))
            .collect();
        (
            Some(legend(
                &style,
                &packages,
                &regions_named,
                lit,
                stopped,
                measure,
                view.size,
            )),
            stamp_text(&style, stamp, measure, view.size),
        )
    } else {
        (None, Vec::new())
    };

    Scene {
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
    }
}

fn legend(
    style: &Style,
    packages: &FxHashSet<&str>,
    regions: &[(usize, String)],
    lit: &Highlight,
    stopped: bool,
    measure: &dyn Fn(&str, f32) -> f32,
    size: Px,
) -> Legend {
    let mut rows: Vec<(Swatch, String)> = Vec::new();
    let present: FxHashSet<&str> = packages.iter().map(|p| canonical_package(p)).collect();
    for (package, label) in PACKAGE_LEGEND {
        if present.contains(package) {
            rows.push((Swatch::Dot(style.package(Some(package))), label.to_owned()));
        }
    }
    if packages.is_empty() {
        rows.push((Swatch::Dot(style.package(None)), "service".to_owned()));
    }
    rows.push((
        Swatch::Line(style.edge_for(0.0), 2.0),
        "calls (width: count)".to_owned(),
    ));
    rows.push((
        Swatch::Line(style.edge_for(1.0), 2.0),
        "calls with errors".to_owned(),
    ));
    if !lit.is_empty() {
        rows.push((
            Swatch::Line(style.highlight, 3.0),
            "the selected flow".to_owned(),
        ));
    }
    if !lit.critical_edges.is_empty() {
        rows.push((
            Swatch::Line(style.critical, 4.0),
            "its critical path".to_owned(),
        ));
    }
    if stopped {
        rows.push((
            Swatch::Cross(style.done_cross),
            "stopped during the run".to_owned(),
        ));
    }
    for (i, name) in regions.iter().take(12) {
        rows.push((Swatch::Area(style.region(*i)), name.clone()));
    }
    let line = style.small_size * 1.5;
    let width = rows
        .iter()
        .map(|(_, t)| measure(t, style.small_size))
        .fold(0.0f32, f32::max)
        + 40.0;
    let height = rows.len() as f32 * line + 12.0;
    let top_left = [12.0, size[1] - height - 12.0];
    let items = rows
        .into_iter()
        .enumerate()
        .map(|(i, (swatch, text))| {
            let y = top_left[1] + 6.0 + i as f32 * line;
            LegendItem {
                swatch,
                at: [top_left[0] + 16.0, y + line / 2.0],
                text: TextShape {
                    pos: [
                        top_left[0] + 30.0,
                        y + (line - style.small_size * 1.2) / 2.0,
                    ],
                    text,
                    size: style.small_size,
                    color: style.text,
                },
            }
        })
        .collect();
    Legend {
        rect: [top_left, [top_left[0] + width, top_left[1] + height]],
        fill: style.panel,
        items,
    }
}

fn stamp_text(
    style: &Style,
    stamp: &Stamp,
    measure: &dyn Fn(&str, f32) -> f32,
    size: Px,
) -> Vec<TextShape> {
    let mut lines = Vec::new();
    let files = match stamp.files.as_slice() {
        [] => "no files".to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    };
    lines.push(files);
    let mut second = format!("level {}", stamp.level.as_str());
    if !stamp.filter.is_empty() {
        write!(second, " · filter {}", stamp.filter).ok();
    }
    if let Some(trace) = &stamp.trace {
        write!(second, " · trace {trace}").ok();
    }
    lines.push(second);
    if let Some((a, b)) = stamp.time_range {
        lines.push(format!(
            "{} – {} UTC",
            crate::model::time::format_utc_micros(a),
            crate::model::time::format_utc_micros(b)
        ));
    }
    lines.push(format!("flowscope {}", env!("CARGO_PKG_VERSION")));
    let line = style.small_size * 1.35;
    let n = lines.len() as f32;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let w = measure(&text, style.small_size);
            TextShape {
                pos: [size[0] - w - 12.0, size[1] - 12.0 - (n - i as f32) * line],
                text,
                size: style.small_size,
                color: style.text_weak,
            }
        })
        .collect()
}

/// The colour of region `i` in a scene (for checking pictures against the scene).
pub fn region_color(style: &Style, i: usize) -> Rgba {
    style.region(i)
}

/// No collapsed group (in the per-node group table).
const NO_GROUP: u32 = u32::MAX;

/// A collapsed region or zone being gathered: its members' pixel positions summed.
struct Collapsed {
    key: GroupKey,
    /// The first member seen (the group node stands for it in picking and selection).
    first: NodeIndex,
    sum: [f32; 2],
    members: u32,
}

impl Collapsed {
    /// The centre of its members, px.
    fn center(&self) -> Px {
        let m = self.members.max(1) as f32;
        [self.sum[0] / m, self.sum[1] / m]
    }

    /// The radius of its node, px: grows with the log of its size.
    fn radius(&self) -> f32 {
        (7.0 + 3.0 * (self.members.max(1) as f32).ln()).min(28.0)
    }
}

/// One end of an edge into or out of a collapsed group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Node(NodeIndex),
    Group(u32),
}
