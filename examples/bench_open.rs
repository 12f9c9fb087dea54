//! Measures opening one file as the window does, for `scripts/bench-open`: `bench_open FILE [FLOWSCOPE]`.
//!
//! Runs the window's own path without a window: [`Loader`] (read, index, derive every level, the
//! trace list's rows, on its `loader` thread; a first picture from the first blocks on its
//! `preview` thread), then, for the first picture and for the whole model, [`LayoutState::start`]
//! on the level the window opens at, the first scene (built twice, as the canvas does to fit it
//! beside the legend) and its meshes. Prints one JSON line: `bytes`, `spans`, `read_ms` (until the
//! loader starts deriving), `first_picture_ms` (the first picture's scene and meshes exist),
//! `level_ms` (the same for the whole graph of the level on screen), `all_levels_ms` (every level
//! is derived), `peak_rss_bytes` (this process's `VmHWM` at the end), `read_peak_rss_bytes` (the
//! same when the read ends, before the whole graph is derived), `index_ms` and
//! `index_peak_rss_bytes` (the timeline's window index, which the window builds next on a thread
//! of its own, and the peak after it) and `stats_ms`, the wall time
//! of `FLOWSCOPE stats FILE` run in a child process right after (default
//! `target/release/flowscope`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use flowscope::cli::peak_rss_kb;
use flowscope::model::Level;
use flowscope::render::png;
use flowscope::scene::{self, Stamp, View};
use flowscope::ui::layout_state::LayoutState;
use flowscope::ui::loader::Loader;
use flowscope::ui::model::Model;
use flowscope::ui::paint::SceneMeshes;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next().map(PathBuf::from) else {
        anyhow::bail!("usage: bench_open FILE [FLOWSCOPE]");
    };
    let flowscope = args
        .next()
        .map_or_else(|| PathBuf::from("target/release/flowscope"), PathBuf::from);
    let bytes = std::fs::metadata(&file)?.len();

    let started = Instant::now();
    let loader = Loader::start(vec![file.clone()], || {})?;
    let mut read_ms = None;
    let mut read_peak = 0;
    let mut first_picture = None;
    let outcome = loop {
        if let Some(outcome) = loader.poll() {
            break outcome;
        }
        if first_picture.is_none()
            && let Some(preview) = loader.take_preview()
        {
            // The window draws the first blocks' picture while the rest streams.
            picture(&preview)?;
            first_picture = Some(started.elapsed());
        }
        if read_ms.is_none() && loader.progress().deriving {
            read_ms = Some(started.elapsed());
            read_peak = peak_rss_kb() * 1024;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let all_levels = started.elapsed();
    let Some(model) = outcome.model else {
        anyhow::bail!("{}: nothing was read", file.display());
    };
    picture(&model)?;
    let level = started.elapsed();
    let peak_rss_bytes = peak_rss_kb() * 1024;
    // The window then builds the timeline's window index on a thread of its own.
    let index_started = Instant::now();
    model.window_index();
    let index = index_started.elapsed();
    let index_peak_rss_bytes = peak_rss_kb() * 1024;

    let stats_started = Instant::now();
    let status = std::process::Command::new(&flowscope)
        .arg("stats")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .status()?;
    let stats = stats_started.elapsed();
    if !status.success() {
        anyhow::bail!("{} stats failed: {status}", flowscope.display());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{{\"bytes\":{bytes},\"spans\":{},\"read_ms\":{:.0},\"first_picture_ms\":{:.0},\"level_ms\":{:.0},\"all_levels_ms\":{:.0},\"peak_rss_bytes\":{peak_rss_bytes},\"read_peak_rss_bytes\":{read_peak},\"index_ms\":{:.0},\"index_peak_rss_bytes\":{index_peak_rss_bytes},\"stats_ms\":{:.0}}}",
        model.store.spans().len(),
        ms(read_ms.unwrap_or(all_levels)),
        ms(first_picture.unwrap_or(level)),
        ms(level),
        ms(all_levels),
        ms(index),
        ms(stats),
    );
    Ok(())
}

/// What the window does with a model: the layout starts at the level it opens at (service), and
/// the canvas builds the first scene (twice: to fit, then to fit beside the legend) and its meshes.
fn picture(model: &Model) -> anyhow::Result<()> {
    let level = Level::Service;
    let graph = model
        .graph(level)
        .ok_or_else(|| anyhow::anyhow!("no graph at {level:?}"))?;
    let interner = &model.store.data.interner;
    let layout = LayoutState::start(graph, interner, || {});
    let stamp = Stamp::default();
    let build = |view: &View| {
        scene::build(&scene::SceneRequest {
            graph,
            interner,
            positions: layout.positions(),
            view,
            stamp: &stamp,
            measure: &png::measure,
        })
    };
    std::hint::black_box(build(&View::default()));
    let shown = build(&View::default());
    std::hint::black_box(SceneMeshes::build(&shown, egui::Pos2::ZERO));
    Ok(())
}
