//! Paints a [`Scene`] with egui's painter: one mesh each for hulls, edges and nodes (kept between frames and moved for a pan or zoom), labels laid out once per scene.

use std::sync::Arc;

use egui::emath::TSTransform;
use egui::epaint::{Mesh, TessellationOptions, Tessellator, Vertex, WHITE_UV};
use egui::{
    Color32, ColorImage, FontId, Galley, Painter, Pos2, Rect, Shape, Stroke, TextureHandle,
    TextureOptions, Vec2, pos2, vec2,
};

use crate::scene::{EdgeShape, Px, Rgba, Scene, Swatch, TextShape};

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

/// Nodes smaller than this (radius, points) have no outline: at that size (thousands of nodes
/// on screen) the outline is a pixel ring that costs as many vertices as the disc.
const OUTLINED_NODE: f32 = 7.5;

/// Width of the anti-aliasing fringe of hand-built meshes, in ui points.
const FEATHER: f32 = 0.75;

/// Unit circle points for every segment count a circle may have (see [`segments_for`]), computed
/// once: circles are the bulk of the node mesh and `sin`/`cos` per vertex was most of its cost.
fn unit_circle(segments: u32) -> &'static [Vec2] {
    static TABLE: std::sync::OnceLock<Vec<Vec<Vec2>>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=MAX_SEGMENTS)
            .map(|n| {
                (0..n)
                    .map(|k| {
                        let a = k as f32 / n as f32 * std::f32::consts::TAU;
                        vec2(a.cos(), a.sin())
                    })
                    .collect()
            })
            .collect()
    });
    table.get(segments as usize).map_or(&[], Vec::as_slice)
}

/// The most segments a circle gets.
const MAX_SEGMENTS: u32 = 32;

/// Fills a mesh with anti-aliased discs, rings, lines and triangles, reusing the mesh's arrays.
struct MeshBuilder<'a> {
    mesh: &'a mut Mesh,
    /// Where the mesh's texture is white (egui's font atlas: [`WHITE_UV`]).
    white: Pos2,
}

impl<'a> MeshBuilder<'a> {
    /// Starts filling `mesh` (emptied first), with room for about `vertices` vertices and
    /// `indices` indices, so the arrays are not regrown while filling.
    fn reuse(mesh: &'a mut Mesh, vertices: usize, indices: usize) -> Self {
        // Not `Mesh::clear`, which frees the vertex array.
        mesh.vertices.clear();
        mesh.indices.clear();
        mesh.texture_id = egui::TextureId::default();
        mesh.vertices.reserve(vertices);
        mesh.indices.reserve(indices);
        Self {
            mesh,
            white: WHITE_UV,
        }
    }

    /// Draws with `texture` from now on (its white texel for solid shapes).
    fn textured(mut self, texture: &DiscTexture) -> Self {
        self.mesh.texture_id = texture.0.id();
        self.white = DiscTexture::WHITE_UV;
        self
    }

    fn vertex(&mut self, pos: Pos2, color: Color32) -> u32 {
        let i = self.mesh.vertices.len() as u32;
        self.mesh.vertices.push(Vertex {
            pos,
            uv: self.white,
            color,
        });
        i
    }

    fn tri(&mut self, a: u32, b: u32, c: u32) {
        self.mesh.indices.extend_from_slice(&[a, b, c]);
    }

    /// Joins two rings of `segments` vertices each (`stride` apart within a segment's group)
    /// with a strip of triangles.
    fn strip(&mut self, inner: u32, outer: u32, stride: u32, segments: u32) {
        for k in 0..segments {
            let next = (k + 1) % segments;
            let (i0, i1) = (inner + stride * k, inner + stride * next);
            let (o0, o1) = (outer + stride * k, outer + stride * next);
            self.tri(i0, o0, i1);
            self.tri(o0, o1, i1);
        }
    }

    /// A line of width `width` from `a` to `b`, with soft edges.
    fn line(&mut self, a: Pos2, b: Pos2, width: f32, color: Color32) {
        let d = b - a;
        // Not `length()`: that is `hypot`, a slow libm call, once per edge per frame.
        let len = (d.x * d.x + d.y * d.y).sqrt();
        if len < 1e-3 || !len.is_finite() {
            return;
        }
        let n = vec2(-d.y, d.x) / len;
        let clear = Color32::TRANSPARENT;
        let base = self.mesh.vertices.len() as u32;
        if width <= 1.0 {
            // A hairline: a fading edge each side of one centre line (6 vertices, 4 triangles).
            // It keeps its weight by fading rather than thinning.
            let color = color.gamma_multiply((width / FEATHER).min(1.0));
            let outer = width / 2.0 + FEATHER / 2.0;
            for (o, c) in [(-outer, clear), (0.0, color), (outer, clear)] {
                self.vertex(a + n * o, c);
                self.vertex(b + n * o, c);
            }
            for k in 0..2 {
                let i = base + 2 * k;
                self.tri(i, i + 1, i + 2);
                self.tri(i + 1, i + 3, i + 2);
            }
            return;
        }
        let inner = (width / 2.0 - FEATHER / 2.0).max(0.0);
        let outer = width / 2.0 + FEATHER / 2.0;
        let offsets = [
            (-outer, clear),
            (-inner, color),
            (inner, color),
            (outer, clear),
        ];
        for (o, c) in offsets {
            self.vertex(a + n * o, c);
            self.vertex(b + n * o, c);
        }
        for k in 0..3 {
            let i = base + 2 * k;
            self.tri(i, i + 1, i + 2);
            self.tri(i + 1, i + 3, i + 2);
        }
    }

    /// A filled triangle (arrowheads).
    fn triangle(&mut self, a: Pos2, b: Pos2, c: Pos2, color: Color32) {
        let i = self.vertex(a, color);
        self.vertex(b, color);
        self.vertex(c, color);
        self.tri(i, i + 1, i + 2);
    }

    /// A filled disc with a soft rim.
    fn disc(&mut self, center: Pos2, radius: f32, color: Color32) {
        let segments = segments_for(radius);
        let centre = self.vertex(center, color);
        let inner = (radius - FEATHER / 2.0).max(0.0);
        let outer = radius + FEATHER / 2.0;
        let first = self.mesh.vertices.len() as u32;
        for &dir in unit_circle(segments) {
            self.vertex(center + dir * inner, color);
            self.vertex(center + dir * outer, Color32::TRANSPARENT);
        }
        for k in 0..segments {
            let i = first + 2 * k;
            let j = first + 2 * ((k + 1) % segments);
            self.tri(centre, i, j);
        }
        self.strip(first, first + 1, 2, segments);
    }

    /// A disc with an outline of `width` inside its rim, as one fan and three strips (a disc and
    /// a separate ring need half as many vertices again).
    fn outlined_disc(
        &mut self,
        center: Pos2,
        radius: f32,
        fill: Color32,
        outline: Color32,
        width: f32,
    ) {
        let segments = segments_for(radius);
        let centre = self.vertex(center, fill);
        let edge = (radius - width).max(0.0);
        let rings = [
            ((edge - FEATHER / 2.0).max(0.0), fill),
            (edge + FEATHER / 2.0, outline),
            (radius, outline),
            (radius + FEATHER, Color32::TRANSPARENT),
        ];
        let first = self.mesh.vertices.len() as u32;
        for &dir in unit_circle(segments) {
            for (r, c) in rings {
                self.vertex(center + dir * r, c);
            }
        }
        for k in 0..segments {
            let i = first + 4 * k;
            let j = first + 4 * ((k + 1) % segments);
            self.tri(centre, i, j);
        }
        for m in 0..3 {
            self.strip(first + m, first + m + 1, 4, segments);
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
        for &dir in unit_circle(segments) {
            for (r, c) in radii {
                self.vertex(center + dir * r.max(0.0), c);
            }
        }
        for m in 0..3 {
            self.strip(first + m, first + m + 1, 4, segments);
        }
    }

    /// A disc as one quad of the disc texture (4 vertices rather than 17 or more).
    fn textured_disc(&mut self, center: Pos2, radius: f32, color: Color32) {
        let half = radius * DiscTexture::SIDE_PER_RADIUS / 2.0;
        self.mesh.add_rect_with_uv(
            Rect::from_center_size(center, Vec2::splat(2.0 * half)),
            DiscTexture::DISC_UV,
            color,
        );
    }

    /// A small disc without a soft rim: a fan, for nodes only a few points wide.
    fn dot(&mut self, center: Pos2, radius: f32, color: Color32) {
        let segments = segments_for(radius);
        let centre = self.vertex(center, color);
        let first = self.mesh.vertices.len() as u32;
        for &dir in unit_circle(segments) {
            self.vertex(center + dir * radius, color);
        }
        for k in 0..segments {
            self.tri(centre, first + k, first + (k + 1) % segments);
        }
    }
}

/// A small texture with an anti-aliased white disc (and a white block beside it) for small nodes:
/// each is one textured quad, as egui draws its own small circles.
#[derive(Clone)]
pub struct DiscTexture(TextureHandle);

impl std::fmt::Debug for DiscTexture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DiscTexture").field(&self.0.id()).finish()
    }
}

impl DiscTexture {
    /// Texture width and height, texels: the disc's square, then a white block.
    const SIZE: [usize; 2] = [24, 20];
    /// The disc's radius, texels, in a 20 × 20 square.
    const RADIUS: f32 = 8.0;
    /// Quad side per disc radius.
    const SIDE_PER_RADIUS: f32 = 20.0 / Self::RADIUS;
    /// The disc's square.
    const DISC_UV: Rect = Rect {
        min: Pos2::ZERO,
        max: Pos2::new(20.0 / 24.0, 1.0),
    };
    /// A white texel (inside the block, away from its edges).
    const WHITE_UV: Pos2 = Pos2::new(22.5 / 24.0, 0.5);

    /// Uploads the texture to `ctx`.
    pub fn load(ctx: &egui::Context) -> Self {
        let [w, h] = Self::SIZE;
        let mut rgba = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                let coverage = if x >= 21 {
                    1.0
                } else if x < 20 {
                    let d =
                        ((x as f32 + 0.5 - 10.0).powi(2) + (y as f32 + 0.5 - 10.0).powi(2)).sqrt();
                    (Self::RADIUS + 0.5 - d).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                // White, premultiplied by its coverage.
                let a = (coverage * 255.0).round() as u8;
                rgba.extend_from_slice(&[a, a, a, a]);
            }
        }
        Self(ctx.load_texture(
            "flowscope-disc",
            ColorImage::from_rgba_premultiplied(Self::SIZE, &rgba),
            TextureOptions::LINEAR,
        ))
    }
}

/// Segments of a circle of `radius` points: enough to look round (a chord strays under a third
/// of a point from the circle), few for dots.
fn segments_for(radius: f32) -> u32 {
    if radius < 8.0 {
        (radius as u32 + 2).clamp(8, 10)
    } else {
        ((radius * 2.0) as u32).clamp(8, MAX_SEGMENTS)
    }
}

fn at(origin: Pos2, p: Px) -> Pos2 {
    pos2(origin.x + p[0], origin.y + p[1])
}

/// Paints text with a translucent background plate behind it, so it reads over edges.
fn text_ui(painter: &Painter, origin: Pos2, text: &TextShape, plate: Option<Color32>) {
    let pos = at(origin, text.pos);
    let font = FontId::proportional(text.size);
    let galley = painter.layout_no_wrap(text.text.clone(), font, color32(text.color));
    galley_ui(painter, pos, galley, color32(text.color), plate);
}

/// Paints a laid-out text at `pos`, over a plate when given.
fn galley_ui(
    painter: &Painter,
    pos: Pos2,
    galley: Arc<Galley>,
    color: Color32,
    plate: Option<Color32>,
) {
    if let Some(plate) = plate {
        let rect = Rect::from_min_size(pos, galley.size()).expand(1.0);
        painter.rect_filled(rect, 2.0, plate);
    }
    painter.galley(pos, galley, color);
}

/// What the canvas paints of one scene, built once per scene and reused every frame it is
/// shown: one mesh for the hulls, one for all edges, one for all nodes, and the labels laid out.
/// A pan or zoom moves them with [`SceneMeshes::set_transform`] instead of building them again;
/// the legend and stamp stay where they are.
#[derive(Clone, Debug, Default)]
pub struct SceneMeshes {
    /// Where the scene's top-left corner was when built.
    pub origin: Pos2,
    /// Region and zone hulls (fills and outlines), tessellated.
    pub hulls: Arc<Mesh>,
    /// Every edge (lines and arrowheads).
    pub edges: Arc<Mesh>,
    /// Every node (discs, outlines, rings, crosses).
    pub nodes: Arc<Mesh>,
    /// The scene's labels laid out (at their scene positions), when built with a painter.
    labels: Vec<(Pos2, Arc<Galley>, Color32)>,
    /// The transform baked into the meshes' vertices, from where the scene was built.
    ui_from_scene: TSTransform,
    /// The disc texture small nodes are drawn with, once a painter has loaded it.
    disc: Option<DiscTexture>,
}

/// Empties `mesh` for refilling, keeping its arrays when no painter still holds it.
fn reuse(mesh: &mut Arc<Mesh>) -> &mut Mesh {
    if Arc::get_mut(mesh).is_none() {
        *mesh = Arc::new(Mesh::default());
    }
    let m = Arc::make_mut(mesh);
    m.vertices.clear();
    m.indices.clear();
    m
}

impl SceneMeshes {
    /// True when nothing has been built into it.
    pub fn is_empty(&self) -> bool {
        self.hulls.vertices.is_empty()
            && self.edges.vertices.is_empty()
            && self.nodes.vertices.is_empty()
            && self.labels.is_empty()
    }

    /// Builds the meshes of `scene` placed at `origin` (labels are left to the painter).
    pub fn build(scene: &Scene, origin: Pos2) -> Self {
        let mut meshes = Self::default();
        meshes.rebuild(scene, origin, None);
        meshes
    }

    /// Builds the meshes of `scene` again at `origin`, into the arrays of the last build when no
    /// frame still holds them. With a painter, hulls are tessellated at its pixel density and
    /// labels are laid out once here rather than every frame.
    pub fn rebuild(&mut self, scene: &Scene, origin: Pos2, painter: Option<&Painter>) {
        self.origin = origin;
        self.ui_from_scene = TSTransform::IDENTITY;

        let hulls = reuse(&mut self.hulls);
        if !scene.hulls.is_empty() {
            let pixels_per_point = painter.map_or(1.0, |p| p.ctx().pixels_per_point());
            let mut tessellator = Tessellator::new(
                pixels_per_point,
                TessellationOptions::default(),
                [1, 1],
                Vec::new(),
            );
            for hull in &scene.hulls {
                let points: Vec<Pos2> = hull.points.iter().map(|&p| at(origin, p)).collect();
                tessellator.tessellate_shape(
                    Shape::convex_polygon(
                        points,
                        color32(hull.fill),
                        Stroke::new(hull.stroke_width, color32(hull.stroke)),
                    ),
                    hulls,
                );
            }
        }

        if let Some(p) = painter
            && self.disc.is_none()
        {
            self.disc = Some(DiscTexture::load(p.ctx()));
        }
        // Edges and nodes are filled on both cores.
        let (edges, nodes) = (reuse(&mut self.edges), reuse(&mut self.nodes));
        let disc = self.disc.as_ref();
        rayon::join(
            || edges_mesh(edges, scene, origin),
            || nodes_mesh(nodes, scene, origin, disc),
        );

        self.labels.clear();
        if let Some(painter) = painter {
            self.labels.extend(scene.labels.iter().map(|label| {
                let color = color32(label.color);
                let galley = painter.layout_no_wrap(
                    label.text.clone(),
                    FontId::proportional(label.size),
                    color,
                );
                (at(origin, label.pos), galley, color)
            }));
        }
    }

    /// Moves the meshes so that what was built at `p` (ui points) shows at `ui_from_scene * p`:
    /// a pan or zoom without building anything. Vertices are moved in place.
    pub fn set_transform(&mut self, ui_from_scene: TSTransform) {
        if ui_from_scene == self.ui_from_scene {
            return;
        }
        let delta = ui_from_scene * self.ui_from_scene.inverse();
        for mesh in [&mut self.hulls, &mut self.edges, &mut self.nodes] {
            for v in &mut Arc::make_mut(mesh).vertices {
                v.pos = delta * v.pos;
            }
        }
        self.ui_from_scene = ui_from_scene;
    }

    /// The transform from where the scene was built to where it is drawn now.
    pub fn transform(&self) -> TSTransform {
        self.ui_from_scene
    }
}

/// Every edge of `scene` into `mesh` (emptied first).
fn edges_mesh(mesh: &mut Mesh, scene: &Scene, origin: Pos2) {
    // A feathered line is at most 8 vertices and 18 indices, an arrowhead 3 and 3.
    let mut edges = MeshBuilder::reuse(mesh, scene.edges.len() * 11, scene.edges.len() * 21);
    for edge in &scene.edges {
        edge_mesh(&mut edges, origin, edge);
    }
}

/// Every node of `scene` into `mesh` (emptied first).
fn nodes_mesh(mesh: &mut Mesh, scene: &Scene, origin: Pos2, disc: Option<&DiscTexture>) {
    let style = &scene.style;
    // An outlined disc is 1 + 4 × segments vertices and 21 × segments indices; error and
    // selection rings and crosses add about as much again.
    let (vertices, indices) = scene.nodes.iter().fold((0, 0), |(v, i), n| {
        let s = segments_for(n.radius.max(0.5)) as usize;
        if n.radius < SMALL_NODE && n.ring.is_none() && !n.selected && n.cross.is_none() {
            (v + s + 1, i + 3 * s)
        } else {
            (v + 8 * s + 16, i + 40 * s + 24)
        }
    });
    let mut nodes = MeshBuilder::reuse(mesh, vertices, indices);
    if let Some(disc) = disc {
        nodes = nodes.textured(disc);
    }
    for node in &scene.nodes {
        let c = at(origin, node.center);
        let r = node.radius.max(0.5);
        if disc.is_some() && r < OUTLINED_NODE {
            nodes.textured_disc(c, r, color32(node.fill));
        } else if r < SMALL_NODE {
            nodes.dot(c, r, color32(node.fill));
        } else if r < OUTLINED_NODE {
            nodes.disc(c, r, color32(node.fill));
        } else {
            nodes.outlined_disc(c, r, color32(node.fill), color32(node.outline), 1.0);
        }
        if let Some(ring) = node.ring {
            nodes.ring(c, r + 2.0, 2.0, color32(ring));
        }
        if node.selected {
            nodes.ring(c, r + 4.5, 2.0, color32(style.selection));
        }
        if node.pinned {
            // A small square above-left: the node stays where it was dragged.
            let p = c + vec2(-r * 0.7 - 2.5, -r * 0.7 - 2.5);
            let s = 2.5;
            let pin = color32(style.text);
            nodes.triangle(p + vec2(-s, -s), p + vec2(s, -s), p + vec2(s, s), pin);
            nodes.triangle(p + vec2(-s, -s), p + vec2(s, s), p + vec2(-s, s), pin);
        }
        if let Some(cross) = node.cross {
            let d = r * 0.8 + 1.0;
            let cross = color32(cross);
            nodes.line(c + vec2(-d, -d), c + vec2(d, d), 1.8, cross);
            nodes.line(c + vec2(d, -d), c + vec2(-d, d), 1.8, cross);
        }
    }
}

/// One edge into the edge mesh.
fn edge_mesh(edges: &mut MeshBuilder<'_>, origin: Pos2, edge: &EdgeShape) {
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
        return;
    }
    let to = at(origin, edge.to);
    let d = to - from;
    let len = (d.x * d.x + d.y * d.y).sqrt();
    if len < 0.5 || !len.is_finite() {
        return;
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

/// Paints the scene with its top-left corner at `origin` (ui points; the scene is in the same
/// units), clipped to the painter's clip rect, building its meshes on the way.
pub fn scene_ui(painter: &Painter, origin: Pos2, scene: &Scene) {
    let mut meshes = SceneMeshes::default();
    meshes.rebuild(scene, origin, Some(painter));
    scene_with_meshes_ui(painter, scene, &meshes);
}

/// Paints the scene with meshes built earlier by [`SceneMeshes::rebuild`], moved by their
/// transform; the legend and stamp are painted where the scene puts them.
pub fn scene_with_meshes_ui(painter: &Painter, scene: &Scene, meshes: &SceneMeshes) {
    let origin = meshes.origin;
    let style = &scene.style;
    let rect = Rect::from_min_size(origin, vec2(scene.size[0], scene.size[1]));
    painter.rect_filled(rect, 0.0, color32(style.background));

    // Each big mesh under its own (imperceptibly smaller) clip rect: egui then starts a new
    // output mesh for it, sized once, instead of growing one shared mesh by copying.
    let clip = painter.clip_rect();
    for (k, mesh) in [&meshes.hulls, &meshes.edges, &meshes.nodes]
        .into_iter()
        .enumerate()
    {
        if !mesh.is_empty() {
            painter
                .with_clip_rect(clip.shrink(1e-3 * (k + 1) as f32))
                .add(Shape::Mesh(mesh.clone()));
        }
    }

    let plate = color32(style.background.alpha(170));
    if meshes.labels.len() == scene.labels.len() {
        let t = meshes.ui_from_scene;
        for (pos, galley, color) in &meshes.labels {
            galley_ui(painter, t * *pos, galley.clone(), *color, Some(plate));
        }
    } else {
        for label in &scene.labels {
            text_ui(painter, origin, label, Some(plate));
        }
    }
    if let Some(legend) = &scene.legend {
        let [a, b] = legend.rect;
        painter.rect_filled(
            Rect::from_min_max(at(origin, a), at(origin, b)),
            4.0,
            color32(legend.fill),
        );
        let mut mesh = Mesh::default();
        let mut swatches = MeshBuilder::reuse(&mut mesh, 0, 0);
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
                Swatch::Ring(col) => swatches.ring(c, 5.0, 2.0, color32(*col)),
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
        painter.add(Shape::mesh(mesh));
    }
    for line in &scene.stamp {
        text_ui(painter, origin, line, Some(plate));
    }
}

/// Keeps the memory of each frame's big buffers for the next frame instead of returning it to
/// the system and faulting it in again (at 10k nodes that was a third of a frame).
///
/// egui's tessellator copies every mesh into new buffers each frame. With glibc, buffers over
/// 128 KiB are mapped afresh each time until a large mapping has been freed, which raises the
/// mapping threshold to that size (and the threshold for giving memory back to twice it). One
/// 31 MiB allocation, freed at once, does that; it touches no page. Elsewhere it is harmless.
pub fn keep_frame_memory() {
    let ballast: Vec<u8> = Vec::with_capacity(31 << 20);
    drop(std::hint::black_box(ballast));
}
