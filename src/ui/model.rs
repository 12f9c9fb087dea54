//! [`Model`]: what the window shows, built off the UI thread: the merged store, its graph at every level, the trace list's rows.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::derive::ServiceGraph;
use crate::derive::levels::{LinkNames, build_levels};
use crate::derive::timeline::Histogram;
use crate::derive::window_index::WindowIndex;

/// Bins of the timeline strip's histogram (a strip narrower than this sums neighbours).
const TIMELINE_BINS: usize = 2048;
use crate::derive::summary::trace_row;
pub use crate::derive::summary::{TraceRow, service_of};
use crate::ingest::Format;
use crate::model::batch::TraceRuns;
use crate::model::{Level, Span, TraceId, TraceStore};

/// One file that was read.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// How it was compressed, if it was.
    pub compression: Option<crate::ingest::Compression>,
    /// Size in bytes (after decompression).
    pub bytes: u64,
    /// Warnings, one line per kind with its count and an example.
    pub warnings: Vec<String>,
    /// Number of warnings.
    pub warning_count: u64,
}

/// Everything loaded: the store, its graphs at each level and the rows of the trace list. A
/// clone shares every large part.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The paths that were asked for (files or directories).
    pub paths: Vec<PathBuf>,
    /// Files read, in order.
    pub files: Vec<FileInfo>,
    /// All files merged and indexed.
    pub store: Arc<TraceStore>,
    /// The graph at each level, in [`Level::ALL`] order (shared with the canvas's scene builder).
    pub graphs: Vec<Arc<ServiceGraph>>,
    /// One row per trace shown, in store order (every trace of the store, or a time window's).
    pub traces: Arc<[TraceRow]>,
    /// First and last span start, epoch µs (a time window's: the window, within them).
    pub time_range: Option<(i64, i64)>,
    /// Span starts and errors over time, for the timeline strip.
    pub timeline: Option<Histogram>,
    /// What the trace list says when it lists none (`None`: that the files hold none).
    pub no_traces: Option<&'static str>,
    /// How the derivation named spans' nodes (for the window index).
    names: Arc<LinkNames>,
    /// Every trace's links by start, built on first use ([`Model::window_index`]) and shared
    /// by the windows of this model.
    window_index: Arc<OnceLock<WindowIndex>>,
    /// The model of every trace, when this one is a time window's.
    whole: Option<Box<Model>>,
}

impl Model {
    /// Derives the graphs and rows of an indexed store.
    pub fn derive(paths: Vec<PathBuf>, files: Vec<FileInfo>, mut store: TraceStore) -> Self {
        // The runs that made indexing cheap are not needed again (nothing is appended to a
        // loaded store; an index after an append would find them itself).
        store.data.runs = TraceRuns::default();
        let levels = build_levels(&mut store, trace_row);
        let graphs = levels.graphs.into_iter().map(Arc::new).collect();
        let traces = levels.per_trace.into();
        // One pass over every span, on every core.
        let widen = |a: Option<(i64, i64)>, b: Option<(i64, i64)>| match (a, b) {
            (Some((lo, hi)), Some((l, h))) => Some((lo.min(l), hi.max(h))),
            (a, b) => a.or(b),
        };
        let time_range = store
            .spans()
            .par_iter()
            .filter_map(Span::timestamp_micros)
            .map(|t| Some((t, t)))
            .reduce(|| None, widen);
        let timeline = Histogram::of(&store, TIMELINE_BINS);
        Self {
            paths,
            files,
            store: Arc::new(store),
            graphs,
            traces,
            time_range,
            timeline,
            no_traces: None,
            names: Arc::new(levels.names),
            window_index: Arc::default(),
            whole: None,
        }
    }

    /// The index of every trace's links by start, built now if it was not (a pass over every
    /// trace, as long as a derivation of one level); a window's model shares it.
    pub fn window_index(&self) -> &WindowIndex {
        let whole = self.whole.as_deref().unwrap_or(self);
        whole
            .window_index
            .get_or_init(|| WindowIndex::build(&whole.store, &whole.graphs, &whole.names))
    }

    /// The model of the traces that start in `[from, to)` (epoch µs): what the timeline's window
    /// shows. Its graphs, at every level, are the links of those traces with Zipkin's rules,
    /// summed from [`Model::window_index`]; it shares this model's store, timeline and index,
    /// and its trace list holds only those traces.
    #[must_use]
    pub fn windowed(&self, from: i64, to: i64) -> Self {
        let whole = self.whole.as_deref().unwrap_or(self);
        let (graphs, traces) = whole.window_index().window(&whole.graphs, from, to);
        let rows = traces
            .iter()
            .filter_map(|&t| whole.traces.get(t as usize).copied())
            .collect();
        Self {
            graphs: graphs.into_iter().map(Arc::new).collect(),
            traces: rows,
            // The stamp names the window (within the run).
            time_range: whole
                .time_range
                .map(|(lo, hi)| (from.max(lo), (to - 1).min(hi)))
                .filter(|(a, b)| a <= b),
            whole: Some(Box::new(whole.clone())),
            ..whole.clone()
        }
    }

    /// A model of graphs alone, named in `names`, without traces: what a comparison's
    /// difference shows (the trace list says `no_traces`).
    pub fn of_graphs(
        base: &Self,
        names: crate::model::Interner,
        graphs: Vec<ServiceGraph>,
        no_traces: &'static str,
    ) -> Self {
        let mut store = TraceStore::default();
        store.data.interner = names;
        Self {
            paths: base.paths.clone(),
            files: base.files.clone(),
            store: Arc::new(store),
            graphs: graphs.into_iter().map(Arc::new).collect(),
            time_range: base.time_range,
            timeline: base.timeline.clone(),
            no_traces: Some(no_traces),
            ..Self::default()
        }
    }

    /// The model of every trace: this one, or the one this window was cut from.
    pub fn whole(&self) -> &Self {
        self.whole.as_deref().unwrap_or(self)
    }

    /// Trace `index`'s id as Zipkin prints it.
    pub fn trace_id(&self, index: usize) -> Option<String> {
        let entry = self.store.traces().get(index)?;
        Some(entry.id.display(&self.store.data.interner))
    }

    /// Whether the trace list holds trace `index` (a time window's lists only its traces).
    pub fn lists(&self, index: usize) -> bool {
        self.traces
            .binary_search_by_key(&index, TraceRow::trace)
            .is_ok()
    }

    /// The trace whose id prints as `id` (as [`Model::trace_id`] gives it).
    pub fn find_trace(&self, id: &str) -> Option<usize> {
        let traces = self.store.traces();
        let interner = &self.store.data.interner;
        if let Ok(hex) = TraceId::parse_hex(id)
            && let Some(found) = traces.iter().position(|t| t.id == hex)
        {
            return Some(found);
        }
        traces
            .iter()
            .position(|t| matches!(t.id, TraceId::Opaque(s) if interner.resolve(s) == id))
    }

    /// The graph at `level`.
    pub fn graph(&self, level: Level) -> Option<&Arc<ServiceGraph>> {
        let i = Level::ALL.iter().position(|&l| l == level)?;
        self.graphs.get(i)
    }
}
