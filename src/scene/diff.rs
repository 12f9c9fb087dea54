//! A difference drawn: the scene of the union of two runs' graphs, restyled by what happened to each node and edge, with a legend of the encoding.
//!
//! Removed edges are muted and dashed, added ones take their own colour with a width by their
//! calls; changed edges are coloured by the direction of the change (more calls, fewer calls, a
//! higher error rate) with a width by the change in calls; unchanged ones, and those whose calls
//! moved within chance (a tenth, or three standard deviations of a count) without an error-rate
//! jump, are thin and muted.
//! Removed nodes are grey, added nodes take the added colour, the others keep their package colour
//! faded.

use rustc_hash::FxHashMap;

use super::style::Style;
use super::{EdgeShape, Px, Scene, Swatch, Theme};
use crate::derive::ServiceGraph;
use crate::derive::diff::{Change, Figures, GraphDiff, Item};
use crate::model::Resolve;

/// The colours of a difference.
struct Colors {
    added: super::Rgba,
    removed: super::Rgba,
    more: super::Rgba,
    fewer: super::Rgba,
    errors_up: super::Rgba,
    same: super::Rgba,
}

impl Colors {
    fn new(style: &Style, theme: Theme) -> Self {
        let (added, more, fewer) = match theme {
            Theme::Dark => (
                super::Rgba::rgb(80, 210, 140),
                super::Rgba::rgb(100, 170, 255),
                super::Rgba::rgb(200, 130, 255),
            ),
            Theme::Light => (
                super::Rgba::rgb(20, 140, 80),
                super::Rgba::rgb(30, 100, 200),
                super::Rgba::rgb(140, 60, 200),
            ),
        };
        Self {
            added,
            removed: style.text_weak,
            more,
            fewer,
            errors_up: super::Rgba::rgb(235, 70, 70),
            same: style.edge.alpha(80),
        }
    }
}

/// An error rate this much higher (in points) counts as a jump.
const ERROR_JUMP: f64 = 0.01;

/// A change in calls within this share of the calls, or within three standard deviations of a
/// count (`3 √n`), is drawn as unchanged unless the error rate jumped: two runs of the same
/// traffic differ that much by chance.
const NOISE: f64 = 0.1;

/// True when calls moving from `before` to `after` is within chance (see [`NOISE`]).
fn within_noise(before: u64, after: u64) -> bool {
    let n = before.max(after) as f64;
    (before.abs_diff(after) as f64) <= (NOISE * n).max(3.0 * n.sqrt())
}

/// Dash and gap of a removed edge, px.
const DASH: [f32; 2] = [7.0, 5.0];

/// Splits a straight edge into dashes; the last keeps the arrowhead.
fn dashed(edge: &EdgeShape) -> Vec<EdgeShape> {
    if edge.self_loop.is_some() {
        return vec![edge.clone()];
    }
    let [dx, dy] = [edge.to[0] - edge.from[0], edge.to[1] - edge.from[1]];
    let length = (dx * dx + dy * dy).sqrt() - edge.to_radius;
    if !length.is_finite() || length <= DASH[0] + DASH[1] {
        return vec![edge.clone()];
    }
    let unit = [
        dx / (length + edge.to_radius),
        dy / (length + edge.to_radius),
    ];
    let at = |d: f32| -> Px { [edge.from[0] + unit[0] * d, edge.from[1] + unit[1] * d] };
    let mut out = Vec::new();
    let mut d = 0.0;
    while d + DASH[0] < length - DASH[0] {
        out.push(EdgeShape {
            from: at(d),
            to: at(d + DASH[0]),
            to_radius: 0.0,
            arrow: 0.0,
            ..edge.clone()
        });
        d += DASH[0] + DASH[1];
    }
    // The last dash runs to the callee's rim, with the arrowhead.
    out.push(EdgeShape {
        from: at(d),
        ..edge.clone()
    });
    out
}

/// Calls on one side (0 when absent).
fn calls(f: Option<Figures>) -> u64 {
    f.map_or(0, |f| f.calls)
}

/// Restyles `scene`, built from the union graph `graph`, by `diff`; replaces its legend.
pub fn restyle(
    scene: &mut Scene,
    graph: &ServiceGraph,
    interner: &dyn Resolve,
    diff: &GraphDiff,
    theme: Theme,
    measure: &dyn Fn(&str, f32) -> f32,
) {
    let style = scene.style.clone();
    let colors = Colors::new(&style, theme);
    let name = |n: petgraph::stable_graph::NodeIndex| {
        graph.graph.node_weight(n).map(|i| interner.resolve(i.name))
    };
    let edges: FxHashMap<(&str, &str), &Item> = diff
        .edges
        .iter()
        .filter_map(|e| Some(((e.name.as_str(), e.child.as_deref()?), e)))
        .collect();
    let nodes: FxHashMap<&str, &Item> = diff.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    // Widths by calls (added) or by the change in calls (changed), on one log scale.
    let delta = |i: &Item| calls(i.after).abs_diff(calls(i.before));
    let biggest = diff.edges.iter().map(delta).max().unwrap_or(0).max(1);
    let width = |n: u64| 1.0 + 6.0 * (n as f32 / biggest as f32).sqrt();

    let mut restyled = Vec::with_capacity(scene.edges.len());
    for mut edge in std::mem::take(&mut scene.edges) {
        let item = edge
            .edge
            .and_then(|e| {
                graph
                    .graph
                    .edge_endpoints(petgraph::stable_graph::EdgeIndex::new(e as usize))
            })
            .and_then(|(a, b)| edges.get(&(name(a)?, name(b)?)).copied());
        let Some(item) = item else {
            restyled.push(edge);
            continue;
        };
        match item.change {
            Change::Removed => {
                edge.color = colors.removed;
                edge.width = 2.0;
                restyled.extend(dashed(&edge));
                continue;
            }
            Change::Added => {
                edge.color = colors.added;
                edge.width = width(calls(item.after));
            }
            Change::Changed => {
                let rate = |f: Option<Figures>| f.map_or(0.0, |f| f.error_rate());
                let jump = rate(item.after) - rate(item.before) > ERROR_JUMP;
                if !jump && within_noise(calls(item.before), calls(item.after)) {
                    edge.color = colors.same;
                    edge.width = 1.0;
                    restyled.push(edge);
                    continue;
                }
                edge.color = if jump {
                    colors.errors_up
                } else {
                    match calls(item.after).cmp(&calls(item.before)) {
                        std::cmp::Ordering::Greater => colors.more,
                        std::cmp::Ordering::Less => colors.fewer,
                        // Only the latency moved.
                        std::cmp::Ordering::Equal => colors.same.alpha(200),
                    }
                };
                edge.width = width(delta(item));
            }
            Change::Same => {
                edge.color = colors.same;
                edge.width = 1.0;
            }
        }
        restyled.push(edge);
    }
    scene.edges = restyled;
    for node in &mut scene.nodes {
        let Some(item) = name(petgraph::stable_graph::NodeIndex::new(node.node as usize))
            .and_then(|n| nodes.get(n))
        else {
            continue;
        };
        match item.change {
            Change::Removed => {
                node.fill = colors.removed;
                node.ring = None;
            }
            Change::Added => node.fill = colors.added,
            // Package colours stay readable but step back, so added and removed nodes stand out;
            // a node whose calls moved beyond chance (the victim) is ringed by the direction.
            Change::Changed | Change::Same => {
                node.fill = node.fill.mix(colors.removed, 0.6);
                let (b, a) = (calls(item.before), calls(item.after));
                if !within_noise(b, a) {
                    node.ring = Some(if a > b { colors.more } else { colors.fewer });
                }
            }
        }
    }
    let rows = vec![
        (
            Swatch::Line(colors.added, 3.0),
            "added (width: calls)".to_owned(),
        ),
        (
            Swatch::Line(colors.removed, 1.5),
            "removed (dashed)".to_owned(),
        ),
        (
            Swatch::Line(colors.more, 3.0),
            "more calls (width: change)".to_owned(),
        ),
        (Swatch::Line(colors.fewer, 3.0), "fewer calls".to_owned()),
        (
            Swatch::Line(colors.errors_up, 3.0),
            "error rate up by a point or more".to_owned(),
        ),
        (
            Swatch::Line(colors.same, 1.0),
            "unchanged, or within noise".to_owned(),
        ),
        (Swatch::Dot(colors.added), "added node".to_owned()),
        (Swatch::Dot(colors.removed), "removed node".to_owned()),
        (
            Swatch::Ring(colors.fewer),
            "node: fewer (or more) calls".to_owned(),
        ),
    ];
    if scene.legend.is_some() {
        scene.legend = Some(super::legend::lay_out(&style, rows, measure, scene.size));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dashed_edge_keeps_its_ends_and_one_arrowhead() {
        let edge = EdgeShape {
            from: [0.0, 0.0],
            to: [100.0, 0.0],
            to_radius: 10.0,
            width: 2.0,
            color: super::super::Rgba::rgb(1, 2, 3),
            arrow: 8.0,
            self_loop: None,
            highlighted: false,
            critical: false,
            edge: Some(4),
            sum: None,
            selected: false,
        };
        let dashes = dashed(&edge);
        assert!(dashes.len() >= 6, "{}", dashes.len());
        // The first dash starts at the caller; the last ends at the callee with the arrowhead.
        assert!(dashes[0].from[0].abs() < 1e-3);
        let last = dashes.last().unwrap();
        assert!((last.to[0] - 100.0).abs() < 1e-3 && last.to_radius > 9.0 && last.arrow > 7.0);
        assert!(
            dashes[..dashes.len() - 1]
                .iter()
                .all(|d| d.arrow < 1e-3 && d.to[0] < 90.0)
        );
        assert!(dashes.iter().all(|d| d.edge == Some(4)));
    }

    #[test]
    fn chance_is_a_tenth_or_three_standard_deviations() {
        assert!(within_noise(100, 109));
        assert!(!within_noise(100, 140));
        // Small counts: 3 √9 = 9.
        assert!(within_noise(9, 3));
        assert!(!within_noise(0, 10));
    }
}
