//! Measures a move of the timeline's window for `scripts/bench-timeline`: `bench_timeline FILE [FLOWSCOPE]`.
//!
//! Loads FILE as the window does (its own Loader), builds its window index (`index_ms`, done on a
//! thread of its own after a load), then for windows of a tenth of the time range at three places
//! makes the window's model with the function the window calls ([`Model::windowed`],
//! `window_ms`), derives the same window's traces from scratch as it was done before the index
//! (`derive_ms`), and runs `flowscope deps --from --to` on the same window (`deps_ms`). Prints one
//! JSON line per window:
//! `{"bytes","spans","from","to","traces","index_ms","window_ms","draw_ms","light_ms","derive_ms","deps_ms"}`,
//! where `draw_ms` is the window's picture of it at the service level (the layout started from
//! the nodes' places and a scene built) and `light_ms` lighting a selected trace's path in it
//! (done again on each move).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use flowscope::model::Level;
use flowscope::ui::layout_state::LayoutState;
use flowscope::ui::loader::Loader;
use flowscope::ui::model::Model;

/// RFC 3339 of epoch microseconds.
fn rfc3339(micros: i64) -> String {
    flowscope::simulate::time::rfc3339_nanos(micros.saturating_mul(1000))
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next().map(PathBuf::from) else {
        anyhow::bail!("usage: bench_timeline FILE [FLOWSCOPE]");
    };
    let flowscope = args
        .next()
        .map_or_else(|| PathBuf::from("target/release/flowscope"), PathBuf::from);
    let bytes = std::fs::metadata(&file)?.len();
    let loader = Loader::start(vec![file.clone()], || {})?;
    let outcome = loop {
        if let Some(outcome) = loader.poll() {
            break outcome;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let Some(model) = outcome.model else {
        anyhow::bail!("{}: nothing was read", file.display());
    };
    let Some(timeline) = model.timeline.clone() else {
        anyhow::bail!("{}: no span has a time", file.display());
    };
    let range = timeline.end - timeline.start;
    // The index the window builds on a thread of its own once a file is loaded.
    let started = Instant::now();
    model.window_index();
    let index_ms = started.elapsed().as_secs_f64() * 1e3;
    // Where every trace's service graph put its nodes, as the window had them.
    let previous = model
        .graph(Level::Service)
        .map(|g| {
            LayoutState::start(g, &model.store.data.interner, || {})
                .named_positions(g, &model.store.data.interner)
        })
        .unwrap_or_default();
    for at in [0.1, 0.45, 0.8] {
        let from = timeline.start + (range as f64 * at) as i64;
        let to = from + range / 10;
        let started = Instant::now();
        let shown = model.windowed(from, to);
        let window = started.elapsed();
        let traces = shown.traces.len();
        // Its picture, as the window makes it once the model is in: the layout started from
        // the places the nodes had (every trace's graph), and a scene built from it.
        let started = Instant::now();
        let interner = &shown.store.data.interner;
        let draw_level = |level| -> Option<()> {
            let graph = shown.graph(level)?;
            let layout = LayoutState::start_with_previous(graph, interner, &previous, || {});
            let built = flowscope::scene::build(&flowscope::scene::SceneRequest {
                graph,
                interner,
                positions: layout.positions(),
                view: &flowscope::scene::View::default(),
                stamp: &flowscope::scene::Stamp::default(),
                measure: &flowscope::render::png::measure,
            });
            std::hint::black_box(built);
            Some(())
        };
        draw_level(Level::Service);
        let draw = started.elapsed();
        // Lighting a selected trace's path in the window (its store is shared).
        let started = Instant::now();
        if let Some(row) = shown.traces.first() {
            let mut one = flowscope::derive::window::one_trace(&shown.store, row.trace());
            flowscope::derive::flow::flow_path(&mut one, flowscope::model::Level::Service, 0);
        }
        let light = started.elapsed();
        drop(shown);
        // What a window cost before the index: the window's traces copied out and derived.
        let started = Instant::now();
        let starts = flowscope::derive::window::trace_starts(&model.store);
        let window_store = flowscope::derive::window::windowed(
            &model.store,
            flowscope::derive::window::Window {
                from: Some(from),
                to: Some(to),
            },
            &starts,
        );
        let derived = Model::derive(model.paths.clone(), model.files.clone(), window_store);
        let derive = started.elapsed();
        assert_eq!(derived.traces.len(), traces, "the same traces either way");
        drop(derived);
        let started = Instant::now();
        let status = std::process::Command::new(&flowscope)
            .args(["deps", "--from", &rfc3339(from), "--to", &rfc3339(to)])
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .status()?;
        let deps = started.elapsed();
        if !status.success() {
            anyhow::bail!("{} deps failed: {status}", flowscope.display());
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{{\"bytes\":{bytes},\"spans\":{},\"from\":{from},\"to\":{to},\"traces\":{traces},\"index_ms\":{index_ms:.0},\"window_ms\":{:.1},\"draw_ms\":{:.1},\"light_ms\":{:.1},\"derive_ms\":{:.0},\"deps_ms\":{:.0}}}",
            model.store.spans().len(),
            ms(window),
            ms(draw),
            ms(light),
            ms(derive),
            ms(deps)
        );
    }
    Ok(())
}
