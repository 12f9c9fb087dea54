//! Measures a move of the timeline's window for `scripts/bench-timeline`: `bench_timeline FILE [FLOWSCOPE]`.
//!
//! Loads FILE as the window does (its own Loader), then for windows of a tenth of the time range
//! at three places derives the window's model with the function the window calls
//! ([`Model::windowed`]), and runs `flowscope deps --from --to` on the same window. Prints one JSON
//! line per window: `{"bytes","spans","from","to","traces","window_ms","deps_ms"}`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    for at in [0.1, 0.45, 0.8] {
        let from = timeline.start + (range as f64 * at) as i64;
        let to = from + range / 10;
        let started = Instant::now();
        let shown = Model::windowed(
            model.paths.clone(),
            model.files.clone(),
            &model.store,
            from,
            to,
        );
        let window = started.elapsed();
        let traces = shown.store.traces().len();
        drop(shown);
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
            "{{\"bytes\":{bytes},\"spans\":{},\"from\":{from},\"to\":{to},\"traces\":{traces},\"window_ms\":{:.0},\"deps_ms\":{:.0}}}",
            model.store.spans().len(),
            ms(window),
            ms(deps)
        );
    }
    Ok(())
}
