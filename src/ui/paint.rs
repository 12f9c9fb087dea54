//! Paints a [`Scene`] with egui's painter: one mesh for all edges, one for all nodes, hulls as convex polygons, text through the painter.

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, FontId, Painter, Pos2, Rect, Shape, Stroke, Vec2, pos2, vec2};

use crate::scene::{Px, Rgba, Scene, Swatch, TextShape};

/// The one conversion from the scene's colours (declared in `scene::style`) to egui's.
#[expect(
    clippy::disallowed_methods,
    reason = "the single place a scene colour becomes an egui colour"
)]
pub fn color32(c: Rgba) -> Color32 {
    let [r, g, b, a] = c.0;
    Color32::from_rgba_unmultiplied(r, g, b, a)
}

/// Nodes smaller than this (radius, points) are drawn as plain dots: no soft rim, no outline.
const SMALL_NODE: f32 = 4.5;

/// Width of the anti-aliasing fringe of hand-built meshes, in ui points.
const FEATHER: f32 = 0.75;

/// A mesh being filled with anti-aliased discs, rings, lines and triangles.
struct MeshBuilder {
    mesh: Mesh,
}

impl MeshBuilder {
    fn new() -> Self {
        Self {
            mesh: Mesh::default(),
        }
    }

    /// A builder with room for about `vertices` vertices and `indices` indices, so the arrays are
    /// not regrown (and their pages faulted in again) while filling.
    fn with_capacity(vertices: usize, indices: usize) -> Self {
        let mut mesh = Mesh::default();
        mesh.vertices.reserve(vertices);
        mesh.indices.reserve(indices);
        Self { mesh }
    }

    fn vertex(&mut self, pos: Pos2, color: Color32) -> u32 {
        let i = self.mesh.vertices.len() as u32;
        self.mesh.vertices.push(Vertex {
            pos,
            uv: WHITE_UV,
            color,
        });
        i
    }

    /// A line of width `width` from `a` to `b`, with soft edges.
    fn line(&mut self, a: Pos2, b: Pos2, width: f32, color: Color32) {
        let d = b - a;
        let len = d.length();
        if len < 1e-3 || !len.is_finite() {
            return;
        }
        let n = vec2(-d.y, d.x) / len;
        let inner = (width / 2.0 - FEATHER / 2.0).max(0.0);
        let outer = width / 2.0 + FEATHER / 2.0;
        // A thin line keeps its weight by fading instead of thinning.
        let color = if width < FEATHER {
            color.gamma_multiply(width / FEATHER)
        } else {
            color
        };
        let clear = Color32::TRANSPARENT;
        let offsets = [
            (-outer, clear),
            (-inner, color),
            (inner, color),
            (outer, clear),
        ];
        let base = self.mesh.vertices.len() as u32;
        for (o, c) in offsets {
            self.vertex(a + n * o, c);
            self.vertex(b + n * o, c);
        }
        for k in 0..3 {
            let i = base + 2 * k;
            self.mesh.add_triangle(i, i + 1, i + 2);
            self.mesh.add_triangle(i + 1, i + 3, i + 2);
        }
    }

    /// A filled triangle (arrowheads).
    fn triangle(&mut self, a: Pos2, b: Pos2, c: Pos2, color: Color32) {
        let i = self.vertex(a, color);
        self.vertex(b, color);
        self.vertex(c, color);
        self.mesh.add_triangle(i, i + 1, i + 2);
    }

    /// A filled disc with a soft rim.
    fn disc(&mut self, center: Pos2, radius: f32, color: Color32) {
        let segments = segments_for(radius);
        let centre = self.vertex(center, color);
        let inner = (radius - FEATHER / 2.0).max(0.0);
        let outer = radius + FEATHER / 2.0;
        let first = self.mesh.vertices.len() as u32;
        for k in 0..segments {
            let a = k as f32 / segments as f32 * std::f32::consts::TAU;
            let dir = vec2(a.cos(), a.sin());
            self.vertex(center + dir * inner, color);
            self.vertex(center + dir * outer, Color32::TRANSPARENT);
        }
        for k in 0..segments {
            let i = first + 2 * k;
            let j = first + 2 * ((k + 1) % segments);
            self.mesh.add_triangle(centre, i, j);
            self.mesh.add_triangle(i, i + 1, j);
            self.mesh.add_triangle(i + 1, j + 1, j);
        }
    }

    /// A circle outline of width `width`.
    fn ring(&mut self, center: Pos2, radius: f32, width: f32, color: Color32) {
        let segments = segments_for(radius + width);
        let half = width / 2.0;
        let radii = [
            (radius - half - FEATHER / 2.0, Color32::TRANSPARENT),
            (radius - half + FEATHER / 2.0, color),
            (radius + half - FEATHER / 2.0, color),
            (radius + half + FEATHER / 2.0, Color32::TRANSPARENT),
        ];
        let first = self.mesh.vertices.len() as u32;
        for k in 0..segments {
            let a = k as f32 / segments as f32 * std::f32::consts::TAU;
            let dir = vec2(a.cos(), a.sin());
            for (r, c) in radii {
                self.vertex(center + dir * r.max(0.0), c);
            }
        }
        for k in 0..segments {
            let i = first + 4 * k;
            let j = first + 4 * ((k + 1) % segments);
            for m in 0..3 {
                self.mesh.add_triangle(i + m, i + m + 1, j + m);
                self.mesh.add_triangle(i + m + 1, j + m + 1, j + m);
            }
        }
    }

    fn finish(self) -> Shape {
        Shape::mesh(self.mesh)
    }

    /// A small disc without a soft rim: a fan, for nodes only a few points wide.
    fn dot(&mut self, center: Pos2, radius: f32, color: Color32) {
        let segments = segments_for(radius);
        let centre = self.vertex(center, color);
        let first = self.mesh.vertices.len() as u32;
        for k in 0..segments {
            let a = k as f32 / segments as f32 * std::f32::consts::TAU;
            self.vertex(center + vec2(a.cos(), a.sin()) * radius, color);
        }
        for k in 0..segments {
            self.mesh
                .add_triangle(centre, first + k, first + (k + 1) % segments);
        }
    }
}

/// Segments of a circle of `radius` points: enough to look round, few for dots.
fn segments_for(radius: f32) -> u32 {
    ((radius * 2.0) as u32).clamp(8, 32)
}

fn at(origin: Pos2, p: Px) -> Pos2 {
    pos2(origin.x + p[0], origin.y + p[1])
}

/// Paints text with a translucent background plate behind it, so it reads over edges.
fn text_ui(painter: &Painter, origin: Pos2, text: &TextShape, plate: Option<Color32>) {
    let pos = at(origin, text.pos);
    let font = FontId::proportional(text.size);
    let galley = painter.layout_no_wrap(text.text.clone(), font, color32(text.color));
    if let Some(plate) = plate {
        let rect = Rect::from_min_size(pos, galley.size()).expand(1.0);
        painter.rect_filled(rect, 2.0, plate);
    }
    painter.galley(pos, galley, color32(text.color));
}

/// The two big meshes of a scene, built once per scene and reused every frame it is shown.
#[derive(Clone, Debug)]
pub struct SceneMeshes {
    /// Where the scene's top-left corner was.
    pub origin: Pos2,
    /// Every edge (lines and arrowheads).
    pub edges: std::sync::Arc<Mesh>,
    /// Every node (discs, outlines, rings, crosses).
    pub nodes: std::sync::Arc<Mesh>,
}

impl SceneMeshes {
    /// Builds the edge and node meshes of `scene` placed at `origin`.
    pub fn build(scene: &Scene, origin: Pos2) -> Self {
        let style = &scene.style;
        // A feathered line is 8 vertices and 18 indices; a disc about 2 × its segments.
        let mut edges = MeshBuilder::with_capacity(scene.edges.len() * 12, scene.edges.len() * 27);
        for edge in &scene.edges {
            let color = color32(edge.color);
            let from = at(origin, edge.from);
            if let Some(r) = edge.self_loop {
                // A loop above-right of the node, as the PNG painter draws it.
                edges.ring(
                    from + vec2(r * 0.8, -r * 0.8),
                    (r * 0.7).max(0.1),
                    edge.width,
                    color,
                );
                continue;
            }
            let to = at(origin, edge.to);
            let d = to - from;
            let len = d.length();
            if len < 0.5 || !len.is_finite() {
                continue;
            }
            let u = d / len;
            let tip = to - u * (edge.to_radius + 1.0);
            let with_head = edge.arrow > 0.0 && len > edge.to_radius + edge.arrow;
            let end = if with_head {
                tip - u * edge.arrow * 0.8
            } else {
                tip
            };
            edges.line(from, end, edge.width, color);
            if with_head {
                let half = edge.arrow * 0.45;
                let base = tip - u * edge.arrow;
                let n = Vec2::new(-u.y, u.x);
                edges.triangle(tip, base + n * half, base - n * half, color);
            }
        }
        // A disc is 1 + 2 × segments vertices and 9 × segments indices; outline, ring and cross add
        // about as much again.
        let (vertices, indices) = scene.nodes.iter().fold((0, 0), |(v, i), n| {
            let s = segments_for(n.radius.max(0.5)) as usize;
            (v + 8 * s + 16, i + 30 * s + 24)
        });
        let mut nodes = MeshBuilder::with_capacity(vertices, indices);
        for node in &scene.nodes {
            let c = at(origin, node.center);
            let r = node.radius.max(0.5);
            if r < SMALL_NODE {
                nodes.dot(c, r, color32(node.fill));
            } else {
                nodes.disc(c, r, color32(node.fill));
                nodes.ring(c, r, 1.0, color32(node.outline));
            }
            if let Some(ring) = node.ring {
                nodes.ring(c, r + 2.0, 2.0, color32(ring));
            }
            if node.selected {
                nodes.ring(c, r + 4.5, 2.0, color32(style.selection));
            }
            if let Some(cross) = node.cross {
                let d = r * 0.8 + 1.0;
                let cross = color32(cross);
                nodes.line(c + vec2(-d, -d), c + vec2(d, d), 1.8, cross);
                nodes.line(c + vec2(d, -d), c + vec2(-d, d), 1.8, cross);
            }
        }
        Self {
            origin,
            edges: std::sync::Arc::new(edges.mesh),
            nodes: std::sync::Arc::new(nodes.mesh),
        }
    }
}

/// Paints the scene with its top-left corner at `origin` (ui points; the scene is in the same
/// units), clipped to the painter's clip rect, building its meshes on the way.
pub fn scene_ui(painter: &Painter, origin: Pos2, scene: &Scene) {
    let meshes = SceneMeshes::build(scene, origin);
    scene_with_meshes_ui(painter, scene, &meshes);
}

/// Paints the scene with meshes built earlier by [`SceneMeshes::build`] (at `meshes.origin`).
pub fn scene_with_meshes_ui(painter: &Painter, scene: &Scene, meshes: &SceneMeshes) {
    let origin = meshes.origin;
    let style = &scene.style;
    let rect = Rect::from_min_size(origin, vec2(scene.size[0], scene.size[1]));
    painter.rect_filled(rect, 0.0, color32(style.background));

    for hull in &scene.hulls {
        let points: Vec<Pos2> = hull.points.iter().map(|&p| at(origin, p)).collect();
        painter.add(Shape::convex_polygon(
            points,
            color32(hull.fill),
            Stroke::new(hull.stroke_width, color32(hull.stroke)),
        ));
    }

    painter.add(Shape::Mesh(meshes.edges.clone()));

    painter.add(Shape::Mesh(meshes.nodes.clone()));

    let plate = color32(style.background.alpha(170));
    for label in &scene.labels {
        text_ui(painter, origin, label, Some(plate));
    }
    if let Some(legend) = &scene.legend {
        let [a, b] = legend.rect;
        painter.rect_filled(
            Rect::from_min_max(at(origin, a), at(origin, b)),
            4.0,
            color32(legend.fill),
        );
        let mut swatches = MeshBuilder::new();
        for item in &legend.items {
            let c = at(origin, item.at);
            match &item.swatch {
                Swatch::Dot(col) => swatches.disc(c, 5.0, color32(*col)),
                Swatch::Line(col, w) => {
                    swatches.line(c - vec2(9.0, 0.0), c + vec2(9.0, 0.0), *w, color32(*col));
                }
                Swatch::Cross(col) => {
                    swatches.line(c - vec2(4.0, 4.0), c + vec2(4.0, 4.0), 1.8, color32(*col));
                    swatches.line(c + vec2(4.0, -4.0), c + vec2(-4.0, 4.0), 1.8, color32(*col));
                }
                Swatch::Area(col) => {
                    painter.rect_filled(
                        Rect::from_center_size(c, vec2(16.0, 10.0)),
                        0.0,
                        color32(*col),
                    );
                }
            }
            text_ui(painter, origin, &item.text, None);
        }
        painter.add(swatches.finish());
    }
    for line in &scene.stamp {
        text_ui(painter, origin, line, Some(plate));
    }
}
