//! Criterion benchmarks: scene build, PNG rasterisation and the window's frame (scene build + egui painting and tessellation) at 1k, 10k and 100k nodes.
//!
//! The graph is synthetic Spigo-style (regions × 3 zones, services with instances, calls mostly
//! within a zone); positions are fixed (zones on a circle, instances around their zone), so only
//! the scene and the painters are measured. Targets: scene build ≤ 8 ms, and a window frame ≤ 8 ms, at
//! 10k visible nodes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
#[path = "support/synthetic.rs"]
mod synthetic;
use flowscope::render::png;
use flowscope::scene::{self, Stamp, View};
use synthetic::synthetic;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scene");
    group.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let (store, graph, positions) = synthetic(n);
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
        group.bench_with_input(BenchmarkId::new("build", n), &n, |b, _| {
            b.iter(|| black_box(scene::build(&request)));
        });
        // One window frame: build the scene, paint it with egui (one mesh for edges, one for
        // nodes), tessellate what egui would hand the GPU.
        let ctx = egui::Context::default();
        flowscope::ui::app::configure(&ctx);
        let input = || egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(view.size[0], view.size[1]),
            )),
            ..egui::RawInput::default()
        };
        group.bench_with_input(
            BenchmarkId::new("frame (build + egui tessellate)", n),
            &n,
            |b, _| {
                b.iter(|| {
                    let mut out = ctx.run_ui(input(), |ui| {
                        let built = scene::build(&request);
                        flowscope::ui::paint::scene_ui(ui.painter(), egui::Pos2::ZERO, &built);
                    });
                    // No GPU takes the font atlas here.
                    out.textures_delta.clear();
                    black_box(ctx.tessellate(out.shapes, out.pixels_per_point).len())
                });
            },
        );
        let built = scene::build(&request);
        group.bench_with_input(BenchmarkId::new("egui paint", n), &n, |b, _| {
            b.iter(|| {
                let mut out = ctx.run_ui(input(), |ui| {
                    flowscope::ui::paint::scene_ui(ui.painter(), egui::Pos2::ZERO, &built);
                });
                out.textures_delta.clear();
                black_box(out.shapes.len())
            });
        });
        // A frame whose scene did not change (hover, a repaint): the meshes are reused.
        let meshes = flowscope::ui::paint::SceneMeshes::build(&built, egui::Pos2::ZERO);
        group.bench_with_input(BenchmarkId::new("egui meshes build", n), &n, |b, _| {
            b.iter(|| {
                black_box(
                    flowscope::ui::paint::SceneMeshes::build(&built, egui::Pos2::ZERO)
                        .nodes
                        .vertices
                        .len(),
                )
            });
        });
        eprintln!(
            "meshes {n}: node vertices {} indices {}, edge vertices {} indices {}",
            meshes.nodes.vertices.len(),
            meshes.nodes.indices.len(),
            meshes.edges.vertices.len(),
            meshes.edges.indices.len()
        );
        group.bench_with_input(
            BenchmarkId::new("egui cached meshes + tessellate", n),
            &n,
            |b, _| {
                b.iter(|| {
                    let mut out = ctx.run_ui(input(), |ui| {
                        flowscope::ui::paint::scene_with_meshes_ui(ui.painter(), &built, &meshes);
                    });
                    out.textures_delta.clear();
                    black_box(ctx.tessellate(out.shapes, out.pixels_per_point).len())
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("egui paint + tessellate", n),
            &n,
            |b, _| {
                b.iter(|| {
                    let mut out = ctx.run_ui(input(), |ui| {
                        flowscope::ui::paint::scene_ui(ui.painter(), egui::Pos2::ZERO, &built);
                    });
                    out.textures_delta.clear();
                    black_box(ctx.tessellate(out.shapes, out.pixels_per_point).len())
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("rasterize 1600x1000", n), &n, |b, _| {
            b.iter(|| black_box(png::rasterize(&built).map(|p| p.width())));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
