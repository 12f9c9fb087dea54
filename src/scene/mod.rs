//! What to draw, independent of who paints it: hulls, nodes, edges, labels, legend and stamp in
//! pixel coordinates. The window and the PNG export paint the same [`Scene`].

pub mod build;
pub mod diff;
mod edges;
pub mod hull;
pub mod labels;
mod legend;
pub mod pick;
pub mod style;
pub mod view;

pub use build::{build, fitted_camera, place_label};
pub use pick::EdgeEnd;
pub use view::{Camera, Compared, Highlight, SceneRequest, Stamp, View};

use crate::model::Sym;
pub use style::{Rgba, Style, Theme};

/// A point in pixels, y down.
pub type Px = [f32; 2];

/// Which grouping a hull outlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HullKind {
    /// A region.
    Region,
    /// A zone inside a region.
    Zone,
}

/// A region, or a zone of a region: what a hull outlines and what collapses into one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    /// The region.
    pub region: Sym,
    /// The zone; `None` for the whole region.
    pub zone: Option<Sym>,
}

/// A region or zone outline.
#[derive(Clone, Debug, PartialEq)]
pub struct HullShape {
    /// Region or zone.
    pub kind: HullKind,
    /// The polygon, already padded and rounded.
    pub points: Vec<Px>,
    /// Fill.
    pub fill: Rgba,
    /// Outline.
    pub stroke: Rgba,
    /// Outline width, px.
    pub stroke_width: f32,
    /// The region's index in the legend's region order.
    pub region: usize,
    /// Its name as labelled.
    pub name: String,
    /// The region or zone it outlines.
    pub group: GroupKey,
}

/// A call edge (or several, aggregated).
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeShape {
    /// Start (the caller's centre).
    pub from: Px,
    /// End (the callee's centre).
    pub to: Px,
    /// Radius of the callee, so the arrowhead stops at its rim.
    pub to_radius: f32,
    /// Line width, px.
    pub width: f32,
    /// Colour.
    pub color: Rgba,
    /// Arrowhead length, px (0 for none).
    pub arrow: f32,
    /// A call from a node to itself, drawn as a loop of this radius.
    pub self_loop: Option<f32>,
    /// Part of the lit flow.
    pub highlighted: bool,
    /// On the lit flow's critical path.
    pub critical: bool,
    /// The graph edge it draws; `None` when it sums several (zone pairs, collapsed groups).
    pub edge: Option<u32>,
    /// When it sums several: the ends whose calls it adds up ([`pick::summed_edges`]).
    pub sum: Option<[EdgeEnd; 2]>,
    /// Selected.
    pub selected: bool,
}

/// A node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeShape {
    /// Graph node index.
    pub node: u32,
    /// Centre.
    pub center: Px,
    /// Radius, px.
    pub radius: f32,
    /// Fill.
    pub fill: Rgba,
    /// Outline.
    pub outline: Rgba,
    /// A ring for nodes with errors.
    pub ring: Option<Rgba>,
    /// A cross for stopped nodes (Spigo `done`, the chaos-monkey victim).
    pub cross: Option<Rgba>,
    /// Part of the lit flow.
    pub highlighted: bool,
    /// Selected.
    pub selected: bool,
    /// Held in place by the user.
    pub pinned: bool,
    /// A collapsed region or zone drawn as this one node (`node` is then one of its members).
    pub group: Option<GroupKey>,
    /// Graph nodes it stands for (1, or the members of a collapsed group).
    pub members: u32,
}

/// A piece of text; `pos` is its top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct TextShape {
    /// Top-left corner.
    pub pos: Px,
    /// The text.
    pub text: String,
    /// Font size, px.
    pub size: f32,
    /// Colour.
    pub color: Rgba,
}

/// What a legend row shows before its text.
#[derive(Clone, Debug, PartialEq)]
pub enum Swatch {
    /// A node colour.
    Dot(Rgba),
    /// An edge colour and width.
    Line(Rgba, f32),
    /// A region colour.
    Area(Rgba),
    /// The cross over a stopped node.
    Cross(Rgba),
    /// A ring around a node.
    Ring(Rgba),
}

/// One legend row.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendItem {
    /// The swatch, centred at `at`.
    pub swatch: Swatch,
    /// Swatch centre.
    pub at: Px,
    /// The text.
    pub text: TextShape,
}

/// The legend panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    /// Top-left and bottom-right.
    pub rect: [Px; 2],
    /// Panel fill.
    pub fill: Rgba,
    /// Rows.
    pub items: Vec<LegendItem>,
}

/// How much detail the scene carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lod {
    /// Every node with its size, every edge, labels where they fit.
    Full,
    /// Many nodes: points, edges summed per zone pair, labels only for lit or selected nodes.
    Points,
}

/// Everything to paint, in paint order: background, hulls, edges, nodes, labels, legend, stamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// Size in px.
    pub size: Px,
    /// The style it was built with.
    pub style: Style,
    /// Region hulls first, then zone hulls.
    pub hulls: Vec<HullShape>,
    /// Edges, lit ones last.
    pub edges: Vec<EdgeShape>,
    /// Nodes, lit ones last.
    pub nodes: Vec<NodeShape>,
    /// Hull and node labels, none overlapping another.
    pub labels: Vec<TextShape>,
    /// The legend, if asked for.
    pub legend: Option<Legend>,
    /// The stamp lines (source, level, filter, time range, version), bottom-right.
    pub stamp: Vec<TextShape>,
    /// Detail level chosen.
    pub lod: Lod,
    /// Pixels per layout unit.
    pub zoom: f32,
}
