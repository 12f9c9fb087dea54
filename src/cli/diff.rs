//! `flowscope diff` and the `--from` / `--to` window the commands share: two runs compared at one level, as a table, JSON or a picture.

use std::io::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::{converged_positions, load, print_problems};
use crate::derive::ServiceGraph;
use crate::derive::diff::{Change, GraphDiff, Item};
use crate::derive::window::{self, TimeBound};
use crate::model::{Level, Span, TraceStore};

/// A `--from` / `--to` pair: the traces that start inside `[from, to)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeArgs {
    /// First instant inside.
    pub from: Option<TimeBound>,
    /// First instant after.
    pub to: Option<TimeBound>,
}

impl TimeArgs {
    /// Whether every bound given is an instant (no offset from the first or last trace), so
    /// any part of the traces resolves it alike.
    pub fn is_absolute(&self) -> bool {
        [self.from, self.to]
            .iter()
            .flatten()
            .all(|b| matches!(b, window::TimeBound::At(_)))
    }
}

/// Keeps only the traces of `store` that start inside the window (all of them when no bound is
/// given); offsets count from the store's own first and last trace.
pub fn apply_window(store: &mut TraceStore, time: TimeArgs) {
    if time.from.is_none() && time.to.is_none() {
        return;
    }
    let starts = window::trace_starts(store);
    let window = window::Window::resolve(time.from, time.to, &starts);
    *store = window::windowed(store, window, &starts);
}

/// What `flowscope diff --json` prints.
#[derive(Serialize)]
struct DiffJson<'a> {
    level: &'static str,
    before: Vec<String>,
    after: Vec<String>,
    /// Nodes and edges by what happened to them.
    counts: std::collections::BTreeMap<Change, usize>,
    /// What changed, edges then nodes, largest first.
    changes: Vec<&'a Item>,
}

/// The graph at `level` of `paths`, windowed, with the names it uses.
fn graph_of(
    paths: &[PathBuf],
    level: Level,
    time: TimeArgs,
) -> anyhow::Result<(TraceStore, ServiceGraph, bool)> {
    let mut loaded = load(paths, false)?;
    print_problems(&loaded);
    apply_window(&mut loaded.store, time);
    let graph = ServiceGraph::build(&mut loaded.store, level);
    Ok((loaded.store, graph, !loaded.files.is_empty()))
}

/// One side's figures as `calls/errors p50 p99`, or `-` when absent.
fn figures_text(f: Option<crate::derive::diff::Figures>) -> String {
    let ms = |v: Option<u64>| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}ms", v as f64 / 1000.0))
    };
    f.map_or_else(
        || "-".to_owned(),
        |f| {
            format!(
                "{} calls {:.1}% err p50 {} p99 {}",
                f.calls,
                f.error_rate() * 100.0,
                ms(f.p50_micros),
                ms(f.p99_micros)
            )
        },
    )
}

/// `flowscope diff BEFORE… --against AFTER…`: what was added, removed and changed at `level`,
/// as a table or (`json`) as JSON, largest changes first. Returns whether both sides read.
pub fn diff(
    before: &[PathBuf],
    after: &[PathBuf],
    level: Level,
    time: TimeArgs,
    json: bool,
    png: Option<&DiffPng>,
) -> anyhow::Result<bool> {
    let (before_store, before_graph, read_before) = graph_of(before, level, time)?;
    let (after_store, after_graph, read_after) = graph_of(after, level, time)?;
    let diff = GraphDiff::between(
        &before_graph,
        &before_store.data.interner,
        &after_graph,
        &after_store.data.interner,
    );
    if let Some(png) = png {
        let sides = [(before_store, before_graph), (after_store, after_graph)];
        draw_diff(before, after, sides, level, &diff, png)?;
    }
    let mut out = std::io::stdout().lock();
    let counts = diff.counts();
    if json {
        let shown = |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect();
        let doc = DiffJson {
            level: level.as_str(),
            before: shown(before),
            after: shown(after),
            counts,
            changes: diff.changes(),
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        let n = |c| counts.get(&c).copied().unwrap_or(0);
        writeln!(
            out,
            "{} added, {} removed, {} changed, {} the same (nodes and edges at {} level)",
            n(Change::Added),
            n(Change::Removed),
            n(Change::Changed),
            n(Change::Same),
            level.as_str()
        )?;
        for item in diff.changes() {
            let what = match &item.child {
                Some(child) => format!("{} -> {child}", item.name),
                None => item.name.clone(),
            };
            let change = item.change.as_str();
            writeln!(
                out,
                "{change:<8} {what}: {} => {}",
                figures_text(item.before),
                figures_text(item.after)
            )?;
        }
    }
    Ok(read_before && read_after)
}

/// Where and how `flowscope diff -o` draws the difference.
#[derive(Clone, Debug)]
pub struct DiffPng {
    /// The PNG to write.
    pub out: PathBuf,
    /// Picture size, px.
    pub size: [u32; 2],
    /// Theme.
    pub theme: crate::scene::Theme,
    /// Replace an existing file.
    pub force: bool,
}

/// Draws the union of both runs' graphs (before's and after's, each with its store) with one
/// layout, restyled by `diff`, into a PNG.
fn draw_diff(
    before: &[PathBuf],
    after: &[PathBuf],
    sides: [(TraceStore, ServiceGraph); 2],
    level: Level,
    diff: &GraphDiff,
    png: &DiffPng,
) -> anyhow::Result<()> {
    use crate::scene::{self, Stamp, View};
    let [(before_store, before_graph), (mut after_store, after_graph)] = sides;
    let mut names = std::mem::take(&mut after_store.data.interner);
    let graph = crate::derive::diff::union_graph(
        &before_graph,
        &before_store.data.interner,
        &after_graph,
        &names.clone(),
        &mut names,
    );
    let unknown = names.get(crate::model::topology::UNKNOWN);
    let positions = converged_positions(&graph, unknown);
    let times = before_store
        .spans()
        .iter()
        .chain(after_store.spans())
        .filter_map(Span::timestamp_micros);
    // Two runs' files often share a name (flow.json): then each says its folder too.
    let (before_labels, after_labels) = Stamp::run_labels(before, after);
    let stamp = Stamp {
        files: after_labels,
        level,
        filter: String::new(),
        time_range: times.clone().min().zip(times.max()),
        trace: None,
        baseline: before_labels,
    };
    let view = View {
        size: [png.size[0] as f32, png.size[1] as f32],
        theme: png.theme,
        compared: Some(scene::Compared {
            diff: std::sync::Arc::new(diff.clone()),
            restyle: true,
        }),
        ..View::default()
    };
    let built = scene::build(&scene::SceneRequest {
        graph: &graph,
        interner: &names,
        positions: &positions,
        view: &view,
        stamp: &stamp,
        measure: &crate::render::png::measure,
    });
    crate::render::png::write(&built, &png.out, png.force)?;
    Ok(())
}
