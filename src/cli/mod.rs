//! The command-line subcommands that need no window: `deps`, `stats`, `simulate` and `layout`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

pub mod aggregate;
mod diff;

pub use diff::{DiffPng, TimeArgs, apply_window, diff};
use serde::Serialize;

use crate::derive::window;
use crate::derive::{ServiceGraph, dependency_links};
use crate::ingest::{self, Format, IngestError, Report};
use crate::model::{Interner, Level, Span, TraceStore};

/// One file that was read.
#[derive(Debug)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// How it was compressed, if it was.
    pub compression: Option<ingest::Compression>,
    /// Its warnings.
    pub report: Report,
    /// Size in bytes.
    pub bytes: u64,
    /// Milliseconds to read and parse.
    pub read_ms: f64,
    /// Counts for this file alone.
    pub counts: Counts,
    /// Spans of this file alone left out of their trace ([`TraceStore::left_out`]).
    pub left_out: u64,
}

pub use crate::aggregate::Counts;

/// Everything read from the command line's paths.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Files read, in order.
    pub files: Vec<FileSummary>,
    /// Files that could not be read at all.
    pub errors: Vec<IngestError>,
    /// All files merged.
    pub store: TraceStore,
}

/// Counts spans, traces, services, instances, regions, zones and edges of an indexed store.
pub fn count(store: &mut TraceStore) -> Counts {
    let instance_graph = ServiceGraph::build(store, Level::Instance);
    let links = dependency_links(store, Level::Service).len() as u64;
    let mut services = BTreeSet::new();
    let mut regions = BTreeSet::new();
    let mut zones = BTreeSet::new();
    for place in instance_graph.topology.places() {
        services.insert(place.service);
        regions.insert(place.region);
        zones.insert((place.region, place.zone));
    }
    Counts {
        spans: store.spans().len() as u64,
        traces: store.traces().len() as u64,
        services: services.len() as u64,
        instances: instance_graph.topology.len() as u64,
        regions: regions.len() as u64,
        zones: zones.len() as u64,
        edges: instance_graph.graph.edge_count() as u64,
        links,
    }
}

/// Reads every path (directories recursively), files in parallel, and merges them in path order.
pub fn load(paths: &[PathBuf], per_file_counts: bool) -> Result<Loaded, IngestError> {
    let paths = ingest::expand_paths(paths)?;
    // Small files are read in parallel; large ones one at a time, each using every core itself
    // (a streamed file waits on pool tasks, so it must not run inside the pool).
    let large = |p: &PathBuf| {
        std::fs::metadata(p).is_ok_and(|m| m.len() > ingest::stream::BLOCK_BYTES as u64)
    };
    let mut results: Vec<Option<Result<ingest::FileRead, IngestError>>> = paths
        .par_iter()
        .map(|p| (!large(p)).then(|| ingest::read_path(p)))
        .collect();
    for (slot, p) in results.iter_mut().zip(&paths) {
        if slot.is_none() {
            *slot = Some(ingest::read_path(p));
        }
    }
    let results = results.into_iter().flatten();
    let mut loaded = Loaded::default();
    for result in results {
        match result {
            Ok(mut read) => {
                let mut file_store = TraceStore::default();
                file_store.append(read.batch);
                let counts = if per_file_counts {
                    file_store.index();
                    warn_left_out(&mut read.report, file_store.left_out());
                    warn_cycles(
                        &mut read.report,
                        crate::derive::tree::spans_in_cycles(&file_store),
                    );
                    count(&mut file_store)
                } else {
                    Counts::default()
                };
                let left_out = file_store.left_out();
                let file_id = crate::model::FileId(loaded.files.len() as u32);
                let mut batch = std::mem::take(&mut file_store.data);
                batch.set_file(file_id);
                loaded.store.append(batch);
                loaded.files.push(FileSummary {
                    path: read.path,
                    format: read.format,
                    compression: read.compression,
                    report: read.report,
                    bytes: read.bytes,
                    read_ms: read.elapsed.as_secs_f64() * 1000.0,
                    counts,
                    left_out,
                });
            }
            Err(e) => loaded.errors.push(e),
        }
    }
    loaded.store.index();
    Ok(loaded)
}

/// Counts the spans [`TraceStore::index`] left out of their trace (a span id repeated beyond
/// [`ingest::limits::MAX_SPANS_PER_ID`]).
pub fn warn_left_out(report: &mut Report, left_out: u64) {
    report.warn_n(ingest::WarningKind::Limit, left_out, || {
        format!(
            "{left_out} span(s) left out: a span id repeated more than {} times in one trace",
            ingest::limits::MAX_SPANS_PER_ID
        )
    });
}

/// Counts spans whose parent ids form a loop ([`crate::derive::tree::spans_in_cycles`]).
pub fn warn_cycles(report: &mut Report, spans: u64) {
    report.warn_n(ingest::WarningKind::ParentCycle, spans, || {
        format!(
            "{spans} span(s) whose parent ids form a loop hang from no root and were not linked"
        )
    });
}

/// One link as Zipkin's `/api/v2/dependencies` JSON writes it.
#[derive(Serialize, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LinkJson {
    /// Caller.
    pub parent: String,
    /// Callee.
    pub child: String,
    /// Calls.
    #[serde(rename = "callCount")]
    pub call_count: u64,
    /// Errors, left out when zero.
    #[serde(rename = "errorCount", skip_serializing_if = "is_zero")]
    pub error_count: u64,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The links of a store at `level`, sorted by parent then child.
pub fn links_json(store: &mut TraceStore, level: Level) -> Vec<LinkJson> {
    let links = dependency_links(store, level);
    spelled_links(&links, &store.data.interner)
}

/// [`links_json`] of a graph already derived (what the window shows).
pub fn graph_links(graph: &ServiceGraph, interner: &Interner) -> Vec<LinkJson> {
    spelled_links(&graph.links(), interner)
}

/// Links with their names spelled out, sorted.
fn spelled_links(links: &[crate::derive::Link], interner: &Interner) -> Vec<LinkJson> {
    let mut out: Vec<LinkJson> = links
        .iter()
        .map(|l| LinkJson {
            parent: interner.resolve(l.parent).to_owned(),
            child: interner.resolve(l.child).to_owned(),
            call_count: l.call_count,
            error_count: l.error_count,
        })
        .collect();
    out.sort();
    out
}

/// The header of `stats`' table.
pub(crate) fn stats_header(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<16} {:>9} {:>7} {:>8} {:>9} {:>7} {:>5} {:>7} {:>8} {:>9} {:>8}  path",
        "format",
        "spans",
        "traces",
        "services",
        "instances",
        "regions",
        "zones",
        "edges",
        "warnings",
        "bytes",
        "ms"
    )
}

/// One row of `stats`' table.
pub(crate) fn stats_row(
    out: &mut impl Write,
    format: &str,
    c: &Counts,
    warnings: u64,
    bytes: u64,
    ms: f64,
    path: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{format:<16} {:>9} {:>7} {:>8} {:>9} {:>7} {:>5} {:>7} {warnings:>8} {bytes:>9} {ms:>8.1}  {path}",
        c.spans, c.traces, c.services, c.instances, c.regions, c.zones, c.edges
    )
}

/// Prints each unreadable file and each file's warnings to stderr, one line each.
pub fn print_problems(loaded: &Loaded) {
    let mut err = std::io::stderr().lock();
    for e in &loaded.errors {
        writeln!(err, "flowscope: {e}").ok();
    }
    for f in &loaded.files {
        if f.report.total() > 0 {
            writeln!(
                err,
                "flowscope: warnings ({}): {}",
                f.report.counts_line(),
                f.path.display()
            )
            .ok();
        }
    }
}

/// `flowscope deps`: prints the links as JSON. Returns whether anything usable was read.
pub fn deps(paths: &[PathBuf], level: Level, time: TimeArgs) -> anyhow::Result<bool> {
    if let Some(read) = aggregate::opened(paths, time)? {
        let links = aggregate::links_json(&read.aggregate, level);
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &links)?;
        writeln!(out)?;
        return Ok(true);
    }
    let mut loaded = load(paths, false)?;
    print_problems(&loaded);
    apply_window(&mut loaded.store, time);
    let links = links_json(&mut loaded.store, level);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &links)?;
    writeln!(out)?;
    Ok(!loaded.files.is_empty())
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    format: String,
    #[serde(flatten)]
    counts: Counts,
    warnings: std::collections::BTreeMap<&'static str, u64>,
    bytes: u64,
    read_ms: f64,
}

#[derive(Serialize)]
struct TotalJson {
    #[serde(flatten)]
    counts: Counts,
    warnings: std::collections::BTreeMap<&'static str, u64>,
    bytes: u64,
    read_ms: f64,
    files: usize,
    unreadable: usize,
}

fn warnings_map(report: &Report) -> std::collections::BTreeMap<&'static str, u64> {
    report
        .counts
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect()
}

/// `flowscope stats`: prints what was read. Returns whether anything usable was read.
pub fn stats(paths: &[PathBuf], json: bool, time: TimeArgs) -> anyhow::Result<bool> {
    if let (Some(read), Some(path)) = (aggregate::opened(paths, time)?, paths.first()) {
        aggregate::print_stats(path, &read.aggregate, json)?;
        return Ok(true);
    }
    let started = Instant::now();
    let windowed = time.from.is_some() || time.to.is_some();
    let mut loaded = load(paths, !windowed)?;
    if windowed {
        // Each file's row counts its traces inside the window (offsets are the whole load's).
        apply_window(&mut loaded.store, time);
        for (i, f) in loaded.files.iter_mut().enumerate() {
            let file = crate::model::FileId(i as u32);
            f.counts = count(&mut window::spans_where(&loaded.store, |s| s.file == file));
        }
    }
    // One file's counts are the total's: deriving the graphs again would double the time.
    let total_counts = match loaded.files.as_slice() {
        [only] => only.counts,
        _ => count(&mut loaded.store),
    };
    let mut total_report = Report::default();
    for f in &loaded.files {
        total_report.merge(f.report.clone());
    }
    // Spans left out of merged traces: those of files over the limit alone are counted already.
    let per_file: u64 = loaded.files.iter().map(|f| f.left_out).sum();
    warn_left_out(
        &mut total_report,
        loaded.store.left_out().saturating_sub(per_file),
    );
    let total = TotalJson {
        counts: total_counts,
        warnings: warnings_map(&total_report),
        bytes: loaded.files.iter().map(|f| f.bytes).sum(),
        read_ms: started.elapsed().as_secs_f64() * 1000.0,
        files: loaded.files.len(),
        unreadable: loaded.errors.len(),
    };
    let mut out = std::io::stdout().lock();
    if json {
        for e in &loaded.errors {
            eprintln!("flowscope: {e}");
        }
        let files: Vec<FileJson> = loaded
            .files
            .iter()
            .map(|f| FileJson {
                path: f.path.display().to_string(),
                format: ingest::layout_name(f.format, f.compression),
                counts: f.counts,
                warnings: warnings_map(&f.report),
                bytes: f.bytes,
                read_ms: f.read_ms,
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "files": files, "total": total }),
        )?;
        writeln!(out)?;
    } else {
        print_problems(&loaded);
        stats_header(&mut out)?;
        let row = stats_row;
        for f in &loaded.files {
            row(
                &mut out,
                &ingest::layout_name(f.format, f.compression),
                &f.counts,
                f.report.total(),
                f.bytes,
                f.read_ms,
                &f.path.display().to_string(),
            )?;
        }
        row(
            &mut out,
            "total",
            &total.counts,
            total_report.total(),
            total.bytes,
            total.read_ms,
            &format!("{} files", total.files),
        )?;
        for example in &total_report.examples {
            writeln!(out, "  {example}")?;
        }
        if total_report.total() > 0 {
            writeln!(out, "warnings:")?;
            for (kind, n) in &total_report.counts {
                writeln!(out, "  {kind} ({n}): {}", kind.explain())?;
            }
        }
    }
    Ok(!loaded.files.is_empty())
}

/// `flowscope simulate`: writes the files and prints one summary line. Returns whether it ran.
pub fn simulate(
    arch: &std::path::Path,
    out_dir: &std::path::Path,
    options: &crate::simulate::SimOptions,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let summary = crate::simulate::simulate(arch, out_dir, options)?;
    if summary.report.total() > 0 {
        eprintln!(
            "flowscope: warnings ({}): {}",
            summary.report.counts_line(),
            arch.display()
        );
    }
    let fanout = summary
        .fanout
        .map_or_else(String::new, |f| format!(" (at most {f} per dependency)"));
    let victim = summary
        .victim
        .map_or_else(String::new, |v| format!(", killed {v}"));
    println!(
        "wrote {}: {} instances, {} edges{fanout}, {} spans in {} traces{victim}; graph {} bytes, flow {} bytes, {:.2} s",
        out_dir.display(),
        summary.instances,
        summary.edges,
        summary.spans,
        summary.traces,
        summary.graph_bytes,
        summary.flow_bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

/// One node's position in `flowscope layout` output.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct NodePosition {
    /// The node's name as the input spells it (instance or service name, at the chosen level).
    pub id: String,
    /// Horizontal position, in units of the natural edge length.
    pub x: f32,
    /// Vertical position.
    pub y: f32,
}

/// What `flowscope layout` writes.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LayoutJson {
    /// Every node of the graph, in the graph's order.
    pub nodes: Vec<NodePosition>,
    /// Iterations on the full graph.
    pub iterations: usize,
    /// Milliseconds the layout took (coarse levels included, reading the files not).
    pub ms: f64,
    /// Sampled normalised stress of the result (see [`crate::layout::quality::stress`]).
    pub stress: f64,
}

/// Lays out the graph of an indexed store at `level`: to convergence, or exactly `iterations`
/// iterations on the full graph when given. `ungrouped` ignores regions and zones (the plain
/// spring–electrical model): lower stress on graphs whose groups are densely connected, but the
/// groups mix.
pub fn layout_json(
    store: &mut TraceStore,
    level: Level,
    iterations: Option<usize>,
    ungrouped: bool,
) -> LayoutJson {
    use crate::layout::{LayoutEngine, LayoutGraph, LayoutParams, quality};

    let graph = ServiceGraph::build(store, level);
    let unknown = store.data.interner.get(crate::model::topology::UNKNOWN);
    let (lg, nodes) = LayoutGraph::from_service_graph(&graph, unknown);
    let mut params = if ungrouped {
        LayoutParams::ungrouped()
    } else {
        LayoutParams::default()
    };
    if let Some(n) = iterations {
        params.max_iterations = n;
        params.stop_when_converged = false;
    }
    let started = Instant::now();
    let mut engine = LayoutEngine::new(lg, params);
    let stats = engine.run();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let positions = engine.positions();
    let stress = quality::stress(
        &positions,
        engine.graph(),
        quality::STRESS_SOURCES,
        quality::STRESS_SEED,
    );
    let interner = &store.data.interner;
    let nodes = nodes
        .iter()
        .zip(&positions)
        .filter_map(|(n, p)| {
            let info = graph.graph.node_weight(*n)?;
            Some(NodePosition {
                id: interner.resolve(info.name).to_owned(),
                x: p[0],
                y: p[1],
            })
        })
        .collect();
    LayoutJson {
        nodes,
        iterations: stats.iterations,
        ms,
        stress,
    }
}

/// `flowscope layout`: writes node positions as JSON to `output` (stdout when `None`). Returns
/// whether anything usable was read.
pub fn layout(
    paths: &[PathBuf],
    level: Level,
    output: Option<&std::path::Path>,
    iterations: Option<usize>,
    ungrouped: bool,
) -> anyhow::Result<bool> {
    let mut loaded = load(paths, false)?;
    print_problems(&loaded);
    let result = layout_json(&mut loaded.store, level, iterations, ungrouped);
    match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            serde_json::to_writer(&mut w, &result)?;
            writeln!(w)?;
            w.flush()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &result)?;
            writeln!(out)?;
        }
    }
    Ok(!loaded.files.is_empty())
}

/// This process's peak resident memory in KiB (`VmHWM`), 0 where `/proc` does not say.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Lays out a graph to convergence and packs its disconnected pieces together; positions by
/// `NodeIndex::index()` (nodes the layout did not place are NaN, which the scene leaves out).
pub fn converged_positions(
    graph: &ServiceGraph,
    unknown: Option<crate::model::Sym>,
) -> Vec<[f32; 2]> {
    use crate::layout::{LayoutEngine, LayoutGraph, LayoutParams};
    use petgraph::visit::NodeIndexable as _;
    let (lg, nodes) = LayoutGraph::from_service_graph(graph, unknown);
    let mut engine = LayoutEngine::new(lg, LayoutParams::default());
    engine.run();
    let mut positions = engine.positions();
    crate::layout::pack::pack_components(&mut positions, engine.graph(), 3.0);
    let mut out = vec![[f32::NAN; 2]; graph.graph.node_bound()];
    for (n, p) in nodes.iter().zip(positions) {
        if let Some(slot) = out.get_mut(n.index()) {
            *slot = p;
        }
    }
    out
}

/// What `flowscope render` was asked for.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Graph level.
    pub level: Level,
    /// Filter expression (empty for everything).
    pub filter: String,
    /// A trace to light.
    pub trace: Option<String>,
    /// Picture size, px.
    pub size: [u32; 2],
    /// Theme.
    pub theme: crate::scene::Theme,
    /// Replace an existing file.
    pub force: bool,
    /// Only the traces that start inside this window.
    pub time: TimeArgs,
}

/// A bad `render` argument (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RenderArgError {
    /// The filter does not parse.
    #[error("{0}")]
    Filter(#[from] crate::derive::filter::FilterError),
    /// No trace has that id.
    #[error("no trace with id {0:?} in the input")]
    NoTrace(String),
}

/// `flowscope render`: load, derive, lay out to convergence, draw, write the PNG.
pub fn render(
    paths: &[PathBuf],
    out: &std::path::Path,
    options: &RenderOptions,
) -> anyhow::Result<bool> {
    use crate::derive::filter::Filter;
    use crate::derive::flow::{find_trace, flow_path};

    let filter = Filter::parse(&options.filter).map_err(RenderArgError::from)?;
    if let (Some(read), Some(path)) = (aggregate::opened(paths, options.time)?, paths.first()) {
        render_aggregate(path, &read, filter, options, out)?;
        return Ok(true);
    }
    let mut loaded = load(paths, false)?;
    print_problems(&loaded);
    if loaded.files.is_empty() {
        return Ok(false);
    }
    apply_window(&mut loaded.store, options.time);
    let store = &mut loaded.store;
    let highlight = match &options.trace {
        Some(id) => {
            let trace = find_trace(store, id).ok_or_else(|| RenderArgError::NoTrace(id.clone()))?;
            flow_path(store, options.level, trace)
        }
        None => crate::derive::flow::FlowPath::default(),
    };
    let graph = ServiceGraph::build(store, options.level);
    let times = store.spans().iter().filter_map(Span::timestamp_micros);
    let time_range = times.clone().min().zip(times.max());
    let files = loaded
        .files
        .iter()
        .map(|f| crate::scene::Stamp::file_label(&f.path))
        .collect();
    let picture = Picture {
        files,
        time_range,
        highlight,
        filter,
    };
    draw_render(&graph, &store.data.interner, picture, options, out)?;
    Ok(true)
}

/// What a rendered picture shows besides its graph.
struct Picture {
    files: Vec<String>,
    time_range: Option<(i64, i64)>,
    highlight: crate::derive::flow::FlowPath,
    filter: crate::derive::filter::Filter,
}

/// Lays `graph` out and writes its picture, as `render` draws it.
fn draw_render(
    graph: &ServiceGraph,
    interner: &Interner,
    picture: Picture,
    options: &RenderOptions,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::scene::{self, Stamp, View};
    let unknown = interner.get(crate::model::topology::UNKNOWN);
    let positions = converged_positions(graph, unknown);
    let stamp = Stamp {
        files: picture.files,
        level: options.level,
        filter: options.filter.clone(),
        time_range: picture.time_range,
        trace: options.trace.clone(),
        baseline: Vec::new(),
    };
    let view = View {
        size: [options.size[0] as f32, options.size[1] as f32],
        theme: options.theme,
        filter: picture.filter,
        highlight: picture.highlight,
        ..View::default()
    };
    let built = scene::build(&scene::SceneRequest {
        graph,
        interner,
        positions: &positions,
        view: &view,
        stamp: &stamp,
        measure: &crate::render::png::measure,
    });
    crate::render::png::write(&built, out, options.force)?;
    Ok(())
}

/// `render` of an aggregate: its graph at the level asked for, with `--trace` lit from the
/// trace's spans found in its spans table.
fn render_aggregate(
    path: &std::path::Path,
    read: &crate::aggregate::parquet::ReadAggregate,
    filter: crate::derive::filter::Filter,
    options: &RenderOptions,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let aggregate = &read.aggregate;
    let mut interner = Interner::default();
    let graphs = aggregate.graphs(&mut interner);
    let at = Level::ALL
        .iter()
        .position(|&l| l == options.level)
        .unwrap_or(1);
    let Some(graph) = graphs.get(at) else {
        anyhow::bail!("{}: no graph at that level", path.display());
    };
    let highlight = match &options.trace {
        Some(id) => {
            let table = read.spans.as_ref().ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: this aggregate keeps no spans to light a trace with (aggregate it again)",
                    path.display()
                )
            })?;
            let (mut store, trace) = table.trace_store(id, interner.clone(), &table.declared()?)?;
            crate::derive::flow::flow_path(&mut store, options.level, trace)
        }
        None => crate::derive::flow::FlowPath::default(),
    };
    let starts = aggregate.traces.iter().filter_map(|t| t.start_micros);
    let picture = Picture {
        files: vec![crate::scene::Stamp::file_label(path)],
        time_range: starts.clone().min().zip(starts.max()),
        highlight,
        filter,
    };
    draw_render(graph, &interner, picture, options, out)
}

/// Options of `flowscope watch`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WatchArgs {
    /// One JSON object per line.
    pub json: bool,
    /// Poll instead of using notifications.
    pub poll: bool,
    /// Exit after this long without news, once something was read.
    pub exit_idle: Option<std::time::Duration>,
}

/// One line of `flowscope watch --json`: totals so far after a batch was applied.
#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
pub struct WatchLine {
    /// Milliseconds since the watch started.
    pub t_ms: u64,
    /// Files found.
    pub files: usize,
    /// Spans held.
    pub spans: usize,
    /// Traces.
    pub traces: usize,
    /// Services.
    pub services: usize,
    /// Service-graph edges.
    pub edges: usize,
    /// From the watcher seeing the earliest write in the batch to the model holding it, ms.
    pub lag_ms: u64,
}

/// `flowscope watch`: follows `paths` and prints a line per applied batch until interrupted (or
/// idle for `exit_idle`). Batches that queued while one was applied are applied together.
pub fn watch(paths: &[PathBuf], args: &WatchArgs) -> anyhow::Result<bool> {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    use crate::source::{DirWatcher, LiveModel, WatchOptions};

    let started = Instant::now();
    let options = WatchOptions {
        force_polling: args.poll,
        ..WatchOptions::default()
    };
    let watcher = DirWatcher::start(paths.to_vec(), options, || {})?;
    let mut model = LiveModel::new();
    let mut last_news = Instant::now();
    let mut read_any = false;
    let stdout = std::io::stdout();
    loop {
        let Some(first) = watcher.recv_timeout(Duration::from_millis(100)) else {
            if !watcher.is_running() {
                return Ok(read_any);
            }
            if let Some(idle) = args.exit_idle
                && read_any
                && last_news.elapsed() >= idle
            {
                return Ok(true);
            }
            continue;
        };
        let mut seen_at = first.seen_at;
        let mut batches = vec![first];
        while let Some(more) = watcher.try_recv() {
            seen_at = seen_at.min(more.seen_at);
            batches.push(more);
        }
        let mut changed = false;
        for batch in batches {
            for f in &batch.failures {
                eprintln!("flowscope: {}", f.reason);
            }
            changed |= model.apply(batch).changed;
        }
        if !changed {
            continue;
        }
        read_any = true;
        last_news = Instant::now();
        let counts = model.counts();
        let line = WatchLine {
            t_ms: started.elapsed().as_millis() as u64,
            files: counts.files,
            spans: counts.spans,
            traces: counts.traces,
            services: counts.services,
            edges: counts.edges,
            lag_ms: seen_at.elapsed().as_millis() as u64,
        };
        let mut out = stdout.lock();
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        } else {
            writeln!(
                out,
                "{:>8.1} s  {} files  {} spans  {} traces  {} services  {} edges  lag {} ms",
                line.t_ms as f64 / 1000.0,
                line.files,
                line.spans,
                line.traces,
                line.services,
                line.edges,
                line.lag_ms
            )?;
        }
        out.flush()?;
    }
}
