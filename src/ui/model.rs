//! [`Model`]: what the window shows, built off the UI thread: the merged store, its graph at every level, the trace list's rows.

use std::path::PathBuf;

use crate::derive::ServiceGraph;
use crate::derive::levels::build_levels;
use crate::derive::tree::TraceTree;
use crate::ingest::Format;
use crate::model::{Interner, Level, SpigoName, Sym, TraceEntry, TraceStore};

/// One file that was read.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Size in bytes.
    pub bytes: u64,
    /// Warnings, one line per kind with its count and an example.
    pub warnings: Vec<String>,
    /// Number of warnings.
    pub warning_count: u64,
}

/// One row of the trace list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRow {
    /// Index in [`TraceStore::traces`].
    pub index: usize,
    /// Trace id as text.
    pub id: String,
    /// Earliest span start, epoch µs.
    pub start_micros: Option<i64>,
    /// From the earliest start to the latest end, µs.
    pub duration_micros: u64,
    /// Spans (after merging shared pieces).
    pub spans: usize,
    /// Spans with an `error` tag.
    pub errors: usize,
    /// The root span's service.
    pub root_service: String,
    /// Every service name its spans carry (local and remote endpoints), sorted, distinct.
    pub services: Vec<Sym>,
}

/// Everything loaded: the store, its graphs at each level and the rows of the trace list.
#[derive(Debug, Default)]
pub struct Model {
    /// The paths that were asked for (files or directories).
    pub paths: Vec<PathBuf>,
    /// Files read, in order.
    pub files: Vec<FileInfo>,
    /// All files merged and indexed.
    pub store: TraceStore,
    /// The graph at each level, in [`Level::ALL`] order.
    pub graphs: Vec<ServiceGraph>,
    /// One row per trace, in store order.
    pub traces: Vec<TraceRow>,
    /// First and last span start, epoch µs.
    pub time_range: Option<(i64, i64)>,
}

impl Model {
    /// Derives the graphs and rows of an indexed store.
    pub fn derive(paths: Vec<PathBuf>, files: Vec<FileInfo>, mut store: TraceStore) -> Self {
        let levels = build_levels(&mut store, trace_row);
        let graphs = levels.graphs;
        let traces = levels.per_trace;
        let time_range = store
            .spans()
            .iter()
            .filter_map(|s| s.timestamp_micros)
            .fold(None, |acc: Option<(i64, i64)>, t| {
                Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
            });
        Self {
            paths,
            files,
            store,
            graphs,
            traces,
            time_range,
        }
    }

    /// The graph at `level`.
    pub fn graph(&self, level: Level) -> Option<&ServiceGraph> {
        let i = Level::ALL.iter().position(|&l| l == level)?;
        self.graphs.get(i)
    }
}

/// The service a span's endpoint name stands for: the service field of a Spigo name, else the
/// name itself.
pub fn service_of(name: &str) -> &str {
    SpigoName::parse_full(name).map_or(name, |n| n.service)
}

/// Which rows have a span of service `service` (by name, as graph nodes name services).
pub fn traces_through_service(rows: &[TraceRow], interner: &Interner, service: &str) -> Vec<bool> {
    let mut known: rustc_hash::FxHashMap<Sym, bool> = rustc_hash::FxHashMap::default();
    rows.iter()
        .map(|row| {
            row.services.iter().any(|&sym| {
                *known
                    .entry(sym)
                    .or_insert_with(|| service_of(interner.resolve(sym)) == service)
            })
        })
        .collect()
}

/// One trace's row in the trace list, from the tree [`build_levels`] built for it.
fn trace_row(store: &TraceStore, index: usize, entry: &TraceEntry, tree: &TraceTree) -> TraceRow {
    let interner = &store.data.interner;
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut errors = 0;
    let mut services: Vec<Sym> = tree
        .spans
        .iter()
        .flat_map(|s| [s.local.service, s.remote.service])
        .flatten()
        .collect();
    services.sort_unstable();
    services.dedup();
    for s in &tree.spans {
        if s.error {
            errors += 1;
        }
        if let Some(t) = s.timestamp_micros {
            lo = Some(lo.map_or(t, |x| x.min(t)));
            let end = t.saturating_add(s.duration_micros.unwrap_or(0) as i64);
            hi = Some(hi.map_or(end, |x| x.max(end)));
        }
    }
    let root_service = tree
        .span(tree.root())
        .or_else(|| tree.spans.first())
        .and_then(|s| s.local.service.or(s.remote.service))
        .map_or_else(
            || "unknown".to_owned(),
            // A Spigo name says its service in one of its fields.
            |s| service_of(interner.resolve(s)).to_owned(),
        );
    TraceRow {
        index,
        id: entry.id.display(interner),
        start_micros: lo,
        duration_micros: match (lo, hi) {
            (Some(lo), Some(hi)) => hi.saturating_sub(lo).max(0) as u64,
            _ => 0,
        },
        spans: tree.spans.len(),
        errors,
        root_service,
        services,
    }
}
