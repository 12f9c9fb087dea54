//! [`LiveModel`]: applies the [`TailBatch`]es of a watched directory to a [`TraceStore`] incrementally, and counts what it holds.
//!
//! Appended records are appended to the store; a file that restarts (truncated, rewritten) or is
//! read as a whole replaces what it gave, which rebuilds the store from every file's batch (kept
//! per file for that). Traces are regrouped after each batch (a parallel sort of trace keys); the
//! derived graph is built by whoever reads the store, as often as it likes (the `watch` command
//! after each batch, the window at most a few times a second).

use std::path::PathBuf;

use super::dir::TailFailure;
use super::tail::TailOutput;
use super::watch::TailBatch;
use crate::derive::ServiceGraph;
use crate::ingest::{Format, Report};
use crate::model::{Batch, FileId, Level, TraceStore};

/// One file as the live model holds it.
#[derive(Debug, Default)]
pub struct LiveFile {
    /// Its path now.
    pub path: PathBuf,
    /// Its format, once known.
    pub format: Option<Format>,
    /// Bytes read.
    pub bytes: u64,
    /// Everything it gave (for rebuilding the store when a file is replaced).
    pub batch: Batch,
    /// Its warnings.
    pub report: Report,
}

/// Totals of the store and its service graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LiveCounts {
    /// Files found.
    pub files: usize,
    /// Spans held.
    pub spans: usize,
    /// Traces.
    pub traces: usize,
    /// Services (nodes of the service graph).
    pub services: usize,
    /// Edges of the service graph.
    pub edges: usize,
}

/// What applying one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Spans added by appends.
    pub spans_added: usize,
    /// The store was rebuilt (a file restarted or was re-read whole).
    pub rebuilt: bool,
    /// Anything changed.
    pub changed: bool,
}

/// The store of a watched directory, kept up to date.
#[derive(Debug, Default)]
pub struct LiveModel {
    files: Vec<LiveFile>,
    store: TraceStore,
    failures: Vec<TailFailure>,
    files_seen: usize,
}

impl LiveModel {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one batch and regroups traces.
    pub fn apply(&mut self, batch: TailBatch) -> Applied {
        let TailBatch {
            updates,
            failures,
            files_seen,
            ..
        } = batch;
        self.files_seen = self.files_seen.max(files_seen);
        self.failures.extend(failures);
        let mut applied = Applied::default();
        let mut rebuild = false;
        for update in updates {
            let i = update.file.0 as usize;
            if self.files.len() <= i {
                self.files.resize_with(i + 1, LiveFile::default);
            }
            let Some(file) = self.files.get_mut(i) else {
                continue;
            };
            file.path = update.path;
            file.format = update.format.or(file.format);
            file.bytes = update.bytes;
            applied.changed = true;
            match update.output {
                TailOutput::Append { mut batch, report } => {
                    batch.set_file(update.file);
                    applied.spans_added += batch.spans.len();
                    file.report.merge(report);
                    if !rebuild {
                        self.store.append(batch.clone());
                    }
                    file.batch.append(batch);
                }
                TailOutput::Replace { mut batch, report } => {
                    batch.set_file(update.file);
                    file.batch = batch;
                    file.report = report;
                    rebuild = true;
                }
            }
        }
        if rebuild {
            let mut store = TraceStore::default();
            for f in &self.files {
                store.append(f.batch.clone());
            }
            self.store = store;
            applied.rebuilt = true;
        }
        if applied.changed {
            self.store.index();
        }
        applied
    }

    /// The store (indexed).
    pub fn store(&self) -> &TraceStore {
        &self.store
    }

    /// The store, for deriving graphs (which intern names).
    pub fn store_mut(&mut self) -> &mut TraceStore {
        &mut self.store
    }

    /// The files, by [`FileId`].
    pub fn files(&self) -> &[LiveFile] {
        &self.files
    }

    /// Files and directories that could not be read.
    pub fn failures(&self) -> &[TailFailure] {
        &self.failures
    }

    /// Totals, with the service graph built now.
    pub fn counts(&mut self) -> LiveCounts {
        let graph = ServiceGraph::build(&mut self.store, Level::Service);
        LiveCounts {
            files: self.files_seen.max(self.files.len()),
            spans: self.store.spans().len(),
            traces: self.store.traces().len(),
            services: graph.graph.node_count(),
            edges: graph.graph.edge_count(),
        }
    }

    /// The file a [`FileId`] names.
    pub fn file(&self, id: FileId) -> Option<&LiveFile> {
        self.files.get(id.0 as usize)
    }
}
