//! The canvas on a graph large enough to build its scenes on the scene thread (Spigo's netflix at
//! 6 regions × 400 %, 2,270 instances): the frame that moves the nodes builds nothing, the scene
//! that arrives is the one the frame would have built, and a scene asked for before a newer
//! change is never shown.

use std::sync::Arc;
use std::time::Duration;

use flowscope::derive::ServiceGraph;
use flowscope::ingest::spigo::ArchOptions;
use flowscope::model::Level;
use flowscope::scene::{Stamp, View};
use flowscope::simulate::{SimOptions, simulate};
use flowscope::ui::canvas::{Canvas, CanvasInput, OFF_THREAD_NODES};

use crate::common::{fixture, grouped_circle_positions, store_of};

/// One window frame of `canvas` (1400 × 900 points) drawing `graph` at `positions`.
fn frame(
    ctx: &egui::Context,
    canvas: &mut Canvas,
    graph: &Arc<ServiceGraph>,
    interner: &flowscope::model::Interner,
    positions: &[[f32; 2]],
    layout_generation: u64,
    selected: Option<u32>,
) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1400.0, 900.0),
        )),
        ..egui::RawInput::default()
    };
    let mut out = ctx.run_ui(input, |ui| {
        egui::CentralPanel::no_frame().show(ui, |ui| {
            canvas.ui(
                ui,
                &CanvasInput {
                    graph,
                    interner,
                    positions,
                    layout_generation,
                    model_generation: 1,
                    view: View {
                        legend: true,
                        selected,
                        ..View::default()
                    },
                    stamp: Stamp::default(),
                },
            );
        });
    });
    out.textures_delta.clear();
    ctx.tessellate(out.shapes, out.pixels_per_point);
}

/// Steps frames until the scene thread has shown `scenes` scenes and is idle (bounded: 10 s).
fn wait_for_thread(
    ctx: &egui::Context,
    canvas: &mut Canvas,
    scenes: u64,
    mut step: impl FnMut(&egui::Context, &mut Canvas),
) {
    for _ in 0..1000 {
        step(ctx, canvas);
        if canvas.scenes_from_thread() >= scenes && !canvas.building() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the scene thread showed no scene in 10 s");
}

#[test]
fn issue_15_a_large_graph_whose_nodes_move_is_built_off_the_ui_thread() {
    let dir = std::env::temp_dir().join(format!("flowscope-canvas-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let options = SimOptions {
        arch: ArchOptions {
            scale_percent: 400,
            regions: 6,
        },
        traces: 20,
        ..SimOptions::default()
    };
    simulate(&fixture("spigo/runs/netflix/arch.json"), &dir, &options).unwrap();
    let mut store = store_of(&[dir.join("graph.json")]);
    std::fs::remove_dir_all(&dir).ok();
    let graph = Arc::new(ServiceGraph::build(&mut store, Level::Instance));
    assert_eq!(graph.graph.node_count(), 2_270);
    assert!(graph.graph.node_count() >= OFF_THREAD_NODES);
    let interner = &store.data.interner;
    let before = grouped_circle_positions(&graph, interner);
    // One node moves far out: the fitted picture changes everywhere.
    let mut after = before.clone();
    after[7] = [after[7][0] + 900.0, after[7][1] - 300.0];

    let ctx = egui::Context::default();
    flowscope::ui::app::configure(&ctx);
    let mut canvas = Canvas::default();
    frame(&ctx, &mut canvas, &graph, interner, &before, 0, None);
    assert_eq!((canvas.builds(), canvas.scenes_from_thread()), (1, 0));
    let first = canvas.scene().unwrap().clone();

    // The frame that sees the nodes move builds nothing; the scene thread's scene follows.
    frame(&ctx, &mut canvas, &graph, interner, &after, 1, None);
    assert_eq!(canvas.builds(), 1, "the frame built the scene itself");
    wait_for_thread(&ctx, &mut canvas, 1, |ctx, canvas| {
        frame(ctx, canvas, &graph, interner, &after, 1, None);
    });
    assert_eq!(canvas.builds(), 1);
    let moved = canvas.scene().unwrap().clone();
    assert_ne!(moved, first);
    // The same scene a frame builds for the same state, text measured with the same fonts.
    let mut fresh = Canvas::default();
    frame(&ctx, &mut fresh, &graph, interner, &after, 1, None);
    assert_eq!(fresh.builds(), 1);
    assert_eq!(&moved, fresh.scene().unwrap());

    // Nodes move back, and a node is selected before that scene can arrive: the selection is
    // built in the frame, and the older scene from the thread is never shown over it.
    frame(&ctx, &mut canvas, &graph, interner, &before, 2, None);
    frame(&ctx, &mut canvas, &graph, interner, &before, 2, Some(3));
    assert_eq!(canvas.builds(), 2);
    for _ in 0..500 {
        if !canvas.building() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    frame(&ctx, &mut canvas, &graph, interner, &before, 2, Some(3));
    let selected = canvas.scene().unwrap();
    assert_eq!(canvas.scenes_from_thread(), 1, "a stale scene was shown");
    assert!(selected.nodes.iter().any(|n| n.node == 3 && n.selected));
    let mut fresh = Canvas::default();
    frame(&ctx, &mut fresh, &graph, interner, &before, 2, Some(3));
    assert_eq!(selected, fresh.scene().unwrap());
}
