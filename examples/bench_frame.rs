//! Frame-time table for `scripts/bench-frame`: scene build, mesh build and egui tessellation of the window's canvas at 1k, 10k and 100k nodes.
//!
//! Prints one row per size with the median milliseconds of: building the scene; building the
//! canvas meshes (and laying out its labels); an egui frame that paints the cached meshes and
//! tessellates (nothing changed); a pan or zoom step (cached meshes moved, painted,
//! tessellated); then through the window's own [`Canvas`] in a central panel, frames paced at
//! 60 Hz: a frame while the positions change every frame, with the scenes shown per second, and a
//! frame while the layout moves (the window's own [`LayoutState`] runs its worker thread on the
//! same graph, sharing the 2 cores), with its scenes per second; and the mesh vertex count.
//! Sizes come from the arguments (default `1000 10000 100000`).

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark that fails should stop loudly"
)]

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use egui::emath::TSTransform;
use flowscope::render::png;
use flowscope::scene::{self, Stamp, View};
use flowscope::ui::canvas::{Canvas, CanvasInput};
use flowscope::ui::layout_state::LayoutState;
use flowscope::ui::paint::{SceneMeshes, scene_with_meshes_ui};

/// Median milliseconds of `runs` calls of `f` (after one warm-up call).
fn median_millis(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The frame interval of a 60 Hz display, ms.
const FRAME_MS: f64 = 1e3 / 60.0;

/// The median of some milliseconds.
fn median(t: &mut [f64]) -> f64 {
    t.sort_by(f64::total_cmp);
    t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "{:>8} {:>8} {:>9} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9} {:>8} {:>10}",
        "nodes",
        "edges",
        "scene ms",
        "mesh ms",
        "cached ms",
        "pan ms",
        "frame ms",
        "scenes/s",
        "moving ms",
        "scenes/s",
        "frames",
        "vertices"
    );
    for n in sizes {
        let (store, graph, positions) = synthetic::synthetic(n);
        let view = View::default();
        let stamp = Stamp::default();
        let request = scene::SceneRequest {
            graph: &graph,
            interner: &store.data.interner,
            positions: &positions,
            view: &view,
            stamp: &stamp,
            measure: &png::measure,
        };
        let runs = if n >= 100_000 { 7 } else { 21 };
        let scene_ms = median_millis(runs, || {
            black_box(scene::build(&request));
        });
        let built = scene::build(&request);
        let mut meshes = SceneMeshes::build(&built, egui::Pos2::ZERO);
        let ctx = egui::Context::default();
        flowscope::ui::app::configure(&ctx);
        let input = || egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(view.size[0], view.size[1]),
            )),
            ..egui::RawInput::default()
        };
        let tessellate = |paint: &mut dyn FnMut(&egui::Painter)| {
            let mut out = ctx.run_ui(input(), |ui| paint(ui.painter()));
            // No GPU takes the font atlas here.
            out.textures_delta.clear();
            black_box(ctx.tessellate(out.shapes, out.pixels_per_point).len());
        };
        // Meshes built as the window builds them (with its painter: the disc texture for small
        // nodes, labels laid out once).
        let mesh_ms = median_millis(runs, || {
            let out = ctx.run_ui(input(), |ui| {
                meshes.rebuild(&built, egui::Pos2::ZERO, Some(ui.painter()));
            });
            black_box(out.shapes.len());
        });
        let vertices =
            meshes.hulls.vertices.len() + meshes.edges.vertices.len() + meshes.nodes.vertices.len();
        // Nothing changed (a hover, a repaint): the cached meshes are painted again.
        let cached_ms = median_millis(runs, || {
            tessellate(&mut |p| scene_with_meshes_ui(p, &built, &meshes));
        });
        // A pan or zoom step: the cached meshes are moved, then painted.
        let mut step = 0.0f32;
        let pan_ms = median_millis(runs, || {
            step += 1.0;
            let t = TSTransform::new(egui::vec2(step, -step), 1.0 + 0.001 * step);
            tessellate(&mut |p| {
                meshes.set_transform(t);
                scene_with_meshes_ui(p, &built, &meshes);
            });
        });
        // Positions changed (the layout is running): everything is built again.
        // The window's own path from here: the canvas in a central panel, frames paced as a
        // 60 Hz display paces them, the scene built on the scene thread from 2,000 nodes.
        let graph = Arc::new(graph);
        let mut canvas = Canvas::default();
        let view = View {
            legend: true,
            ..View::default()
        };
        let canvas_frame =
            |canvas: &mut Canvas, positions: &[[f32; 2]], layout_generation: u64| -> f64 {
                let start = Instant::now();
                let mut out = ctx.run_ui(input(), |ui| {
                    egui::CentralPanel::no_frame().show(ui, |ui| {
                        canvas.ui(
                            ui,
                            &CanvasInput {
                                graph: &graph,
                                interner: &store.data.interner,
                                positions,
                                layout_generation,
                                model_generation: 1,
                                view: view.clone(),
                                stamp: stamp.clone(),
                            },
                        );
                    });
                });
                out.textures_delta.clear();
                black_box(ctx.tessellate(out.shapes, out.pixels_per_point).len());
                start.elapsed().as_secs_f64() * 1e3
            };
        let paced = |ms: f64| {
            std::thread::sleep(std::time::Duration::from_secs_f64(
                (FRAME_MS - ms).max(0.0) / 1e3,
            ));
        };
        // First picture (built in the frame), then the positions change every frame.
        canvas_frame(&mut canvas, &positions, 0);
        let builds_before = canvas.scenes_shown();
        let jittered: Vec<[f32; 2]> = positions.iter().map(|p| [p[0] + 0.5, p[1] - 0.5]).collect();
        let started = Instant::now();
        let mut changed: Vec<f64> = (1..=(runs * 3) as u64)
            .map(|generation| {
                let p = if generation % 2 == 0 {
                    &positions
                } else {
                    &jittered
                };
                let ms = canvas_frame(&mut canvas, p, generation);
                paced(ms);
                ms
            })
            .collect();
        let changed_scenes =
            (canvas.scenes_shown() - builds_before) as f64 / started.elapsed().as_secs_f64();
        let frame_ms = median(&mut changed);
        let mut layout = LayoutState::start(&graph, &store.data.interner, || {});
        let mut moving = Vec::new();
        let builds_before = canvas.scenes_shown();
        let started = Instant::now();
        while layout.is_running() && moving.len() < runs * 6 {
            let start = Instant::now();
            layout.poll();
            canvas_frame(
                &mut canvas,
                layout.positions(),
                layout.generation() + 1_000_000,
            );
            let ms = start.elapsed().as_secs_f64() * 1e3;
            moving.push(ms);
            paced(ms);
        }
        let moving_scenes =
            (canvas.scenes_shown() - builds_before) as f64 / started.elapsed().as_secs_f64();
        drop(layout);
        let frames = moving.len();
        let moving_ms = median(&mut moving);
        println!(
            "{:>8} {:>8} {scene_ms:>9.2} {mesh_ms:>9.2} {cached_ms:>10.2} {pan_ms:>9.2} {frame_ms:>10.2} {changed_scenes:>9.0} {moving_ms:>10.2} {moving_scenes:>9.0} {frames:>8} {vertices:>10}",
            graph.graph.node_count(),
            graph.graph.edge_count(),
        );
    }
}
