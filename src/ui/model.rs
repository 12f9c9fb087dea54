//! [`Model`]: what the window shows, built off the UI thread: the merged store, its graph at every level, the trace list's rows.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

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
use crate::model::{Level, TraceId, TraceStore};

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
    /// The aggregate this model was opened from, when it was: its trace ids and spans table.
    pub aggregate: Option<Arc<AggregateSource>>,
}

/// What the window keeps of an aggregate it opened (`flowscope OUT`): the trace list's ids, and
/// the spans table a trace's waterfall is read from on demand.
#[derive(Debug)]
pub struct AggregateSource {
    /// The aggregate's directory.
    pub dir: PathBuf,
    /// Trace ids as Zipkin prints them, in trace-list order (sorted).
    pub ids: Vec<Box<str>>,
    /// Spans the aggregate was made of.
    pub spans: u64,
    /// The files it was made of.
    pub inputs: Vec<crate::aggregate::InputRow>,
    /// Its spans table (`None`: an aggregate written without spans).
    pub table: Option<crate::aggregate::spans::SpanTable>,
    /// The declared elements' lines, read with the first trace.
    context: OnceLock<Result<Vec<String>, String>>,
}

impl AggregateSource {
    /// The store of the trace whose id prints as `id`, read from the spans table (a read of one
    /// bucket: call it off the UI thread), its strings starting as `names`; and the trace's
    /// index in it. An error is one line.
    pub fn trace_store(
        &self,
        id: &str,
        names: crate::model::Interner,
    ) -> Result<(TraceStore, usize), String> {
        let table = self.table.as_ref().ok_or_else(|| {
            format!(
                "{}: this aggregate keeps no spans (aggregate it again to see its traces' spans)",
                self.dir.display()
            )
        })?;
        let context = self
            .context
            .get_or_init(|| table.declared().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(Clone::clone)?;
        table
            .trace_store(id, names, context)
            .map_err(|e| format!("{e:#}"))
    }
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
        // The timeline spans the run: its first and last span start are the model's range.
        let timeline = Histogram::of(&store, TIMELINE_BINS);
        // What the levels were assembled from is free now: the window index, next, reuses it.
        crate::heap::give_back();
        let time_range = timeline.as_ref().map(|h| (h.start, h.end));
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
            aggregate: None,
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

    /// The model of an aggregate (`flowscope aggregate`'s OUT, in-process or from a cluster):
    /// its graph at every level, a trace list of its trace summaries, and no spans in memory (a
    /// trace's are read from its spans table when it is opened: [`AggregateSource`]).
    pub fn of_aggregate(
        paths: Vec<PathBuf>,
        dir: PathBuf,
        read: crate::aggregate::parquet::ReadAggregate,
    ) -> Self {
        let crate::aggregate::parquet::ReadAggregate {
            mut aggregate,
            spans: table,
            ..
        } = read;
        let mut store = TraceStore::default();
        let graphs = aggregate.graphs(&mut store.data.interner);
        aggregate.traces.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let interner = &mut store.data.interner;
        let traces: Arc<[TraceRow]> = aggregate
            .traces
            .iter()
            .enumerate()
            .map(|(i, t)| TraceRow {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                spans: t.spans,
                errors: t.errors,
                root: t.root.as_deref().map(|r| interner.intern(r)),
                start_micros: t.start_micros,
                duration_micros: t.duration_micros,
            })
            .collect();
        let starts = aggregate.traces.iter().filter_map(|t| t.start_micros);
        let time_range = starts.clone().min().zip(starts.max());
        let ids = aggregate
            .traces
            .into_iter()
            .map(|t| t.id.into_boxed_str())
            .collect();
        Self {
            paths,
            store: Arc::new(store),
            graphs: graphs.into_iter().map(Arc::new).collect(),
            traces,
            time_range,
            aggregate: Some(Arc::new(AggregateSource {
                dir,
                ids,
                spans: aggregate.spans,
                inputs: aggregate.inputs,
                table,
                context: OnceLock::new(),
            })),
            ..Self::default()
        }
    }

    /// Spans loaded (an aggregate's: the spans it was made of).
    pub fn span_count(&self) -> u64 {
        self.aggregate
            .as_ref()
            .map_or(self.store.spans().len() as u64, |a| a.spans)
    }

    /// The model of every trace: this one, or the one this window was cut from.
    pub fn whole(&self) -> &Self {
        self.whole.as_deref().unwrap_or(self)
    }

    /// Trace `index`'s id as Zipkin prints it.
    pub fn trace_id(&self, index: usize) -> Option<String> {
        if let Some(aggregate) = &self.aggregate {
            return aggregate.ids.get(index).map(ToString::to_string);
        }
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
        if let Some(aggregate) = &self.aggregate {
            return aggregate.ids.binary_search_by(|t| (**t).cmp(id)).ok();
        }
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
