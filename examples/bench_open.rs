//! Measures opening one file as the window does, for `scripts/bench-open`: `bench_open FILE [FLOWSCOPE]`.
//!
//! Runs the window's own path without a window: [`Loader`] (read, index, derive every level, the
//! trace list's rows, on its `loader` thread), then [`LayoutState::start`] on the level the window
//! opens at, then the first scene (built twice, as the canvas does to fit it beside the legend)
//! and its meshes. Prints one JSON line: `bytes`, `spans`, `read_ms` (until the loader starts
//! deriving), `first_picture_ms` (the first scene and meshes exist), `level_ms` (the level on
//! screen is complete), `all_levels_ms` (every level is derived), `peak_rss_bytes` (this process's
//! `VmHWM` after the first picture) and `stats_ms`, the wall time of `FLOWSCOPE stats FILE` run in
//! a child process right after (default `target/release/flowscope`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use flowscope::cli::peak_rss_kb;
use flowscope::model::Level;
use flowscope::render::png;
use flowscope::scene::{self, Stamp, View};
use flowscope::ui::layout_state::LayoutState;
use flowscope::ui::loader::Loader;
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
    let outcome = loop {
        if let Some(outcome) = loader.poll() {
            break outcome;
        }
        if read_ms.is_none() && loader.progress().deriving {
            read_ms = Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let all_levels = started.elapsed();
    let Some(model) = outcome.model else {
        anyhow::bail!("{}: nothing was read", file.display());
    };
    // The window opens at the service level.
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
    // The canvas builds once to fit, and again to fit beside the legend.
    std::hint::black_box(build(&View::default()));
    let shown = build(&View::default());
    let meshes = SceneMeshes::build(&shown, egui::Pos2::ZERO);
    let first_picture = started.elapsed();
    let peak_rss_bytes = peak_rss_kb() * 1024;
    std::hint::black_box(&meshes);
    drop(layout);

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
        "{{\"bytes\":{bytes},\"spans\":{},\"read_ms\":{:.0},\"first_picture_ms\":{:.0},\"level_ms\":{:.0},\"all_levels_ms\":{:.0},\"peak_rss_bytes\":{peak_rss_bytes},\"stats_ms\":{:.0}}}",
        model.store.spans().len(),
        ms(read_ms.unwrap_or(all_levels)),
        ms(first_picture),
        // The level on screen is complete once its first picture is drawn (no streaming yet).
        ms(first_picture),
        ms(all_levels),
        ms(stats),
    );
    Ok(())
}
