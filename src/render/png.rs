//! Rasterises a [`Scene`] headless with tiny-skia (anti-aliased), text with egui's own default
//! font through `ab_glyph`, and writes it as PNG. Any size up to 16384 px a side.

use std::path::{Path, PathBuf};

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use rustc_hash::FxHashMap;
use tiny_skia::{
    FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, PremultipliedColorU8, Stroke,
    Transform,
};

use crate::scene::{EdgeShape, Px, Rgba, Scene, Swatch, TextShape};

/// What edges drawn together share: lit or not, colour, width in quarter pixels.
type EdgeStyle = (bool, Rgba, u32);

/// How many shapes go into one path.
const PATH_CHUNK: usize = 256;

/// The largest side a picture may have.
pub const MAX_SIDE: u32 = 16_384;

/// Why a picture could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The size is zero or over [`MAX_SIDE`].
    #[error("picture size {0}×{1} is outside 1–{MAX_SIDE} px a side")]
    Size(u32, u32),
    /// The file exists and overwriting was not asked for.
    #[error("refusing to overwrite an existing file (use --force): {0}")]
    Exists(PathBuf),
    /// Encoding failed.
    #[error("could not encode PNG ({0}): {1}")]
    Encode(String, PathBuf),
    /// Writing failed.
    #[error("could not write ({source}): {path}")]
    Io {
        /// The OS error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
}

/// The font egui uses by default for proportional text, parsed once.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: std::sync::OnceLock<Option<FontRef<'static>>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT).ok())
        .as_ref()
}

/// Width in px of `text` at `size` px, as this painter draws it (for label placement).
/// Labels are measured again every frame while a layout runs; their widths are kept per thread
/// (by size, then text) so each is measured once. The cache is dropped when it grows past
/// [`MEASURED_MAX`] texts.
pub fn measure(text: &str, size: f32) -> f32 {
    thread_local! {
        static WIDTHS: std::cell::RefCell<FxHashMap<u32, FxHashMap<Box<str>, f32>>> =
            std::cell::RefCell::new(FxHashMap::default());
    }
    WIDTHS.with_borrow_mut(|widths| {
        let by_text = widths.entry(size.to_bits()).or_default();
        if let Some(&w) = by_text.get(text) {
            return w;
        }
        if by_text.len() >= MEASURED_MAX {
            by_text.clear();
        }
        let w = measure_glyphs(text, size);
        by_text.insert(text.into(), w);
        w
    })
}

/// Most label widths kept per size by [`measure`].
pub const MEASURED_MAX: usize = 200_000;

/// Width in px of `text` at `size` px from the font's advances and kerning.
fn measure_glyphs(text: &str, size: f32) -> f32 {
    let Some(font) = font() else {
        return text.chars().count() as f32 * size * 0.55;
    };
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut last = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(prev) = last {
            width += scaled.kern(prev, id);
        }
        width += scaled.h_advance(id);
        last = Some(id);
    }
    width
}

fn color(c: Rgba) -> tiny_skia::Color {
    let [r, g, b, a] = c.0;
    tiny_skia::Color::from_rgba8(r, g, b, a)
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(color(c));
    p.anti_alias = true;
    p
}

fn stroke(width: f32) -> Stroke {
    Stroke {
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    }
}

fn polygon(points: &[Px]) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    pb.move_to(first[0], first[1]);
    for p in rest {
        pb.line_to(p[0], p[1]);
    }
    pb.close();
    pb.finish()
}

fn circle(c: Px, r: f32) -> Option<tiny_skia::Path> {
    PathBuilder::from_circle(c[0], c[1], r.max(0.1))
}

/// Paints the scene into a new pixmap of the scene's size.
pub fn rasterize(scene: &Scene) -> Result<Pixmap, RenderError> {
    let (w, h) = (scene.size[0].round() as u32, scene.size[1].round() as u32);
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(RenderError::Size(w, h));
    }
    let mut pixmap = Pixmap::new(w, h).ok_or(RenderError::Size(w, h))?;
    let style = &scene.style;
    pixmap.fill(color(style.background));
    let id = Transform::identity();

    for hull in &scene.hulls {
        if let Some(path) = polygon(&hull.points) {
            pixmap.fill_path(&path, &paint(hull.fill), FillRule::Winding, id, None);
            pixmap.stroke_path(
                &path,
                &paint(hull.stroke),
                &stroke(hull.stroke_width),
                id,
                None,
            );
        }
    }
    // Shapes that share a style are drawn together, a few hundred per path: thousands of tiny
    // paths cost per path, one huge path costs in scan conversion.
    let mut edge_groups: Vec<(EdgeStyle, Vec<&EdgeShape>)> = Vec::new();
    let mut edge_index: rustc_hash::FxHashMap<EdgeStyle, usize> = rustc_hash::FxHashMap::default();
    for edge in &scene.edges {
        let key = (
            edge.highlighted,
            edge.color,
            (edge.width * 4.0).round() as u32,
        );
        let i = *edge_index.entry(key).or_insert_with(|| {
            edge_groups.push((key, Vec::new()));
            edge_groups.len() - 1
        });
        if let Some((_, list)) = edge_groups.get_mut(i) {
            list.push(edge);
        }
    }
    edge_groups.sort_by_key(|((lit, _, _), _)| *lit);
    for ((_, c, w), list) in &edge_groups {
        // Chunks: one path per few hundred edges (a path with thousands of crossing edges is slow
        // to scan-convert; thousands of paths cost per path).
        for chunk in list.chunks(PATH_CHUNK) {
            draw_edges(&mut pixmap, chunk, *c, *w as f32 / 4.0);
        }
    }
    let mut node_groups: Vec<((bool, Rgba), Vec<&crate::scene::NodeShape>)> = Vec::new();
    let mut node_index: rustc_hash::FxHashMap<(bool, Rgba), usize> =
        rustc_hash::FxHashMap::default();
    for node in &scene.nodes {
        let key = (node.highlighted, node.fill);
        let i = *node_index.entry(key).or_insert_with(|| {
            node_groups.push((key, Vec::new()));
            node_groups.len() - 1
        });
        if let Some((_, list)) = node_groups.get_mut(i) {
            list.push(node);
        }
    }
    node_groups.sort_by_key(|((lit, _), _)| *lit);
    for ((_, fill), list) in node_groups
        .iter()
        .flat_map(|(k, list)| list.chunks(PATH_CHUNK).map(move |c| (k, c)))
    {
        let mut body = PathBuilder::new();
        let mut rim = PathBuilder::new();
        for node in list {
            body.push_circle(node.center[0], node.center[1], node.radius.max(0.1));
            if node.radius > 2.5 {
                rim.push_circle(node.center[0], node.center[1], node.radius);
            }
        }
        if let Some(path) = body.finish() {
            pixmap.fill_path(&path, &paint(*fill), FillRule::Winding, id, None);
        }
        if let (Some(path), Some(first)) = (rim.finish(), list.first()) {
            pixmap.stroke_path(&path, &paint(first.outline), &stroke(1.0), id, None);
        }
    }
    let mut marks: Vec<(Rgba, f32, PathBuilder)> = Vec::new();
    let mut mark = |c: Rgba, width: f32, add: &dyn Fn(&mut PathBuilder)| {
        let i = match marks
            .iter()
            .position(|(mc, mw, _)| *mc == c && (*mw - width).abs() < f32::EPSILON)
        {
            Some(i) => i,
            None => {
                marks.push((c, width, PathBuilder::new()));
                marks.len() - 1
            }
        };
        if let Some((_, _, pb)) = marks.get_mut(i) {
            add(pb);
        }
    };
    for node in &scene.nodes {
        let (cx, cy, r) = (node.center[0], node.center[1], node.radius);
        if let Some(ring) = node.ring {
            mark(ring, 2.0, &|pb| pb.push_circle(cx, cy, r + 2.0));
        }
        if node.selected {
            mark(style.selection, 2.0, &|pb| pb.push_circle(cx, cy, r + 4.5));
        }
        if let Some(cross) = node.cross {
            let d = r * 0.8 + 1.0;
            mark(cross, 1.8, &|pb| {
                pb.move_to(cx - d, cy - d);
                pb.line_to(cx + d, cy + d);
                pb.move_to(cx + d, cy - d);
                pb.line_to(cx - d, cy + d);
            });
        }
    }
    for (c, width, pb) in marks {
        if let Some(path) = pb.finish() {
            pixmap.stroke_path(&path, &paint(c), &stroke(width), id, None);
        }
    }
    let font = font();
    if let Some(font) = font {
        for label in &scene.labels {
            draw_text(&mut pixmap, font, label, Some(style.background));
        }
    }
    if let Some(legend) = &scene.legend {
        let [a, b] = legend.rect;
        if let Some(rect) = tiny_skia::Rect::from_ltrb(a[0], a[1], b[0], b[1]) {
            pixmap.fill_rect(rect, &paint(legend.fill), id, None);
        }
        for item in &legend.items {
            match &item.swatch {
                Swatch::Dot(c) => {
                    if let Some(path) = circle(item.at, 5.0) {
                        pixmap.fill_path(&path, &paint(*c), FillRule::Winding, id, None);
                    }
                }
                Swatch::Line(c, w) => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(item.at[0] - 9.0, item.at[1]);
                    pb.line_to(item.at[0] + 9.0, item.at[1]);
                    if let Some(path) = pb.finish() {
                        pixmap.stroke_path(&path, &paint(*c), &stroke(*w), id, None);
                    }
                }
                Swatch::Cross(c) => {
                    let (x, y) = (item.at[0], item.at[1]);
                    let mut pb = PathBuilder::new();
                    pb.move_to(x - 4.0, y - 4.0);
                    pb.line_to(x + 4.0, y + 4.0);
                    pb.move_to(x + 4.0, y - 4.0);
                    pb.line_to(x - 4.0, y + 4.0);
                    if let Some(path) = pb.finish() {
                        pixmap.stroke_path(&path, &paint(*c), &stroke(1.8), id, None);
                    }
                }
                Swatch::Ring(c) => {
                    if let Some(path) = circle(item.at, 5.0) {
                        pixmap.stroke_path(&path, &paint(*c), &stroke(2.0), id, None);
                    }
                }
                Swatch::Area(c) => {
                    if let Some(rect) =
                        tiny_skia::Rect::from_xywh(item.at[0] - 8.0, item.at[1] - 5.0, 16.0, 10.0)
                    {
                        pixmap.fill_rect(rect, &paint(*c), id, None);
                    }
                }
            }
            if let Some(font) = font {
                draw_text(&mut pixmap, font, &item.text, None);
            }
        }
    }
    if let Some(font) = font {
        for line in &scene.stamp {
            draw_text(&mut pixmap, font, line, Some(style.background));
        }
    }
    Ok(pixmap)
}

/// Draws edges of one colour and width: their lines as one stroked path, their arrowheads as one
/// filled path.
fn draw_edges(pixmap: &mut Pixmap, edges: &[&EdgeShape], c: Rgba, width: f32) {
    let id = Transform::identity();
    let p = paint(c);
    let mut lines = PathBuilder::new();
    let mut heads = PathBuilder::new();
    for edge in edges {
        if let Some(r) = edge.self_loop {
            // A loop above-right of the node.
            lines.push_circle(
                edge.from[0] + r * 0.8,
                edge.from[1] - r * 0.8,
                (r * 0.7).max(0.1),
            );
            continue;
        }
        let (dx, dy) = (edge.to[0] - edge.from[0], edge.to[1] - edge.from[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 0.5 || !len.is_finite() {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let tip = [
            edge.to[0] - ux * (edge.to_radius + 1.0),
            edge.to[1] - uy * (edge.to_radius + 1.0),
        ];
        let with_head = edge.arrow > 0.0 && len > edge.to_radius + edge.arrow;
        let end = if with_head {
            [
                tip[0] - ux * edge.arrow * 0.8,
                tip[1] - uy * edge.arrow * 0.8,
            ]
        } else {
            tip
        };
        lines.move_to(edge.from[0], edge.from[1]);
        lines.line_to(end[0], end[1]);
        if with_head {
            let a = edge.arrow;
            let half = a * 0.45;
            let base = [tip[0] - ux * a, tip[1] - uy * a];
            heads.move_to(tip[0], tip[1]);
            heads.line_to(base[0] - uy * half, base[1] + ux * half);
            heads.line_to(base[0] + uy * half, base[1] - ux * half);
            heads.close();
        }
    }
    if let Some(path) = lines.finish() {
        pixmap.stroke_path(&path, &p, &stroke(width), id, None);
    }
    if let Some(path) = heads.finish() {
        pixmap.fill_path(&path, &p, FillRule::Winding, id, None);
    }
}

/// Blends `c` with coverage `alpha` (0–1) over the pixel at (x, y). The picture is opaque (the
/// background is painted first), so premultiplied and straight colours agree.
fn blend(pixmap: &mut Pixmap, x: i32, y: i32, c: Rgba, alpha: f32) {
    let (w, h) = (pixmap.width() as i32, pixmap.height() as i32);
    if x < 0 || y < 0 || x >= w || y >= h {
        return;
    }
    let Some(px) = pixmap.pixels_mut().get_mut((y * w + x) as usize) else {
        return;
    };
    let a = alpha.clamp(0.0, 1.0) * f32::from(c.0[3]) / 255.0;
    let mix = |dst: u8, src: u8| (f32::from(src) * a + f32::from(dst) * (1.0 - a)).round() as u8;
    if let Some(new) = PremultipliedColorU8::from_rgba(
        mix(px.red(), c.0[0]),
        mix(px.green(), c.0[1]),
        mix(px.blue(), c.0[2]),
        255,
    ) {
        *px = new;
    }
}

/// Draws text with its top-left at `t.pos`; a halo in `halo` keeps it readable over edges.
fn draw_text(pixmap: &mut Pixmap, font: &FontRef<'_>, t: &TextShape, halo: Option<Rgba>) {
    let scale = PxScale::from(t.size);
    let scaled = font.as_scaled(scale);
    let baseline = t.pos[1] + scaled.ascent();
    let mut x = t.pos[0];
    let mut last = None;
    // Coverage of every glyph, rasterised once: (x, y, coverage).
    let mut coverage: Vec<(i32, i32, f32)> = Vec::new();
    for ch in t.text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(prev) = last {
            x += scaled.kern(prev, id);
        }
        let glyph = id.with_scale_and_position(scale, point(x, baseline));
        x += scaled.h_advance(id);
        last = Some(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, c| {
                if c > 0.0 {
                    coverage.push((
                        bounds.min.x as i32 + gx as i32,
                        bounds.min.y as i32 + gy as i32,
                        c,
                    ));
                }
            });
        }
    }
    if let Some(h) = halo {
        let h = h.alpha(170);
        for (ox, oy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
            for &(px, py, c) in &coverage {
                blend(pixmap, px + ox, py + oy, h, c);
            }
        }
    }
    for &(px, py, c) in &coverage {
        blend(pixmap, px, py, t.color, c);
    }
}

/// Encodes a pixmap as PNG bytes.
pub fn encode(pixmap: &Pixmap, path: &Path) -> Result<Vec<u8>, RenderError> {
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Encode(e.to_string(), path.to_owned()))
}

/// Rasterises and writes a scene. An existing file is only replaced when `force` is set.
pub fn write(scene: &Scene, path: &Path, force: bool) -> Result<(), RenderError> {
    let pixmap = rasterize(scene)?;
    let bytes = encode(&pixmap, path)?;
    let io = |source| RenderError::Io {
        source,
        path: path.to_owned(),
    };
    if force {
        std::fs::write(path, bytes).map_err(io)
    } else {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    RenderError::Exists(path.to_owned())
                } else {
                    io(e)
                }
            })?;
        file.write_all(&bytes).map_err(io)
    }
}
