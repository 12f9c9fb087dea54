//! [`Loader`]: reads trace files on a named background thread with progress and cancel, derives a first picture from a large load's first blocks while the rest streams, and the whole [`Model`] at the end.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

use parking_lot::Mutex;

use super::model::{FileInfo, Model};
use crate::ingest::{self, ReadOptions};
use crate::model::{Batch, FileId, TraceStore};

/// How a load reads its files and when it shows a first picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Bytes read at a time from a streamed file.
    pub block_bytes: usize,
    /// Once this many bytes are read, and at least as many are still to come, a first picture
    /// is derived from them (on its own thread, while the read goes on).
    pub preview_bytes: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            block_bytes: ingest::stream::BLOCK_BYTES,
            // About 10 ms of reading here, and most services of a large file are in it; its
            // graph derives in about 30 ms and holds a few MB while the read goes on.
            preview_bytes: 8 << 20,
        }
    }
}

/// How far a load has come.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files read so far.
    pub files_done: usize,
    /// Files to read.
    pub files_total: usize,
    /// Bytes read so far.
    pub bytes_done: u64,
    /// Bytes to read.
    pub bytes_total: u64,
    /// Spans read so far.
    pub spans: u64,
    /// The file being read.
    pub current: Option<PathBuf>,
    /// Set once every file is read and the graphs are being derived.
    pub deriving: bool,
    /// The bytes the first picture was derived from, once it is ready.
    pub preview_bytes: Option<u64>,
}

/// A file that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFailure {
    /// The file (or directory).
    pub path: PathBuf,
    /// Why, in one line.
    pub reason: String,
}

/// What a finished load hands back.
#[derive(Debug)]
pub struct LoadOutcome {
    /// The model, unless nothing usable was read or the load was cancelled.
    pub model: Option<Model>,
    /// Files that could not be read.
    pub failures: Vec<LoadFailure>,
    /// The load was cancelled.
    pub cancelled: bool,
}

/// A load running on the `loader` thread. Dropping it cancels the load.
#[derive(Debug)]
pub struct Loader {
    shared: Arc<Shared>,
    result: Receiver<LoadOutcome>,
}

/// What the loader's threads and the window share.
struct Shared {
    progress: Mutex<Progress>,
    cancel: AtomicBool,
    /// The first picture, until the window takes it.
    preview: Mutex<Option<Model>>,
    wake: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("progress", &self.progress)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// Starts reading `paths` (files or directories); `wake` is called whenever there is news.
    pub fn start(
        paths: Vec<PathBuf>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        Self::start_with(paths, LoadOptions::default(), wake)
    }

    /// [`Loader::start`] with chosen options.
    pub fn start_with(
        paths: Vec<PathBuf>,
        options: LoadOptions,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            progress: Mutex::new(Progress::default()),
            cancel: AtomicBool::new(false),
            preview: Mutex::new(None),
            wake: Box::new(wake),
        });
        let (tx, rx) = sync_channel(1);
        {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("loader".into())
                .spawn(move || run(&paths, options, &shared, &tx))?;
        }
        Ok(Self { shared, result: rx })
    }

    /// Where the load stands.
    pub fn progress(&self) -> Progress {
        self.shared.progress.lock().clone()
    }

    /// The first picture: a model of what was read first, while the rest is still read. Given
    /// once, and only while the load runs.
    pub fn take_preview(&self) -> Option<Model> {
        self.shared.preview.lock().take()
    }

    /// Asks the threads to stop (after the block being read).
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Release);
    }

    /// The outcome, once the load has finished.
    pub fn poll(&self) -> Option<LoadOutcome> {
        match self.result.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(LoadOutcome {
                model: None,
                failures: vec![LoadFailure {
                    path: PathBuf::new(),
                    reason: "the loader stopped unexpectedly".to_owned(),
                }],
                cancelled: false,
            }),
        }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.cancel();
    }
}

fn run(
    paths: &[PathBuf],
    options: LoadOptions,
    shared: &Arc<Shared>,
    tx: &SyncSender<LoadOutcome>,
) {
    let outcome = load(paths, options, shared);
    tx.send(outcome).ok();
    (shared.wake)();
}

/// Derives the first picture on its own thread from a copy of what was read so far.
fn start_preview(
    paths: &[PathBuf],
    infos: Vec<FileInfo>,
    mut store: TraceStore,
    shared: &Arc<Shared>,
) -> Option<std::thread::JoinHandle<()>> {
    let paths = paths.to_vec();
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("preview".into())
        .spawn(move || {
            store.index();
            if shared.cancel.load(Ordering::Acquire) {
                return;
            }
            let model = Model::derive(paths, infos, store);
            let bytes = model.files.iter().map(|f| f.bytes).sum();
            if !shared.cancel.load(Ordering::Acquire) {
                *shared.preview.lock() = Some(model);
                shared.progress.lock().preview_bytes = Some(bytes);
                (shared.wake)();
            }
        });
    // Without a thread there is no first picture; the whole one still comes.
    spawned.ok()
}

/// The file being read: its path, format, compression, records so far and their bytes.
type Reading<'a> = (
    &'a std::path::Path,
    ingest::Format,
    Option<ingest::Compression>,
    &'a Batch,
    u64,
);

/// What the read so far would show: the files read and the records of the one being read.
fn partial(
    store: &TraceStore,
    infos: &[FileInfo],
    reading: Option<Reading<'_>>,
) -> (TraceStore, Vec<FileInfo>) {
    let mut store = store.clone();
    let mut infos = infos.to_vec();
    if let Some((path, format, compression, batch, bytes)) = reading {
        let mut batch = batch.clone();
        batch.set_file(FileId(infos.len() as u32));
        store.append(batch);
        infos.push(FileInfo {
            path: path.to_owned(),
            format,
            compression,
            bytes,
            warnings: Vec::new(),
            warning_count: 0,
        });
    }
    (store, infos)
}

/// The load of an aggregate directory (`flowscope aggregate`'s OUT), when `paths` name one: it
/// opens alone (with other paths, the aggregate is a failure and they load without it).
fn open_aggregate(paths: &[PathBuf], shared: &Arc<Shared>) -> Option<LoadOutcome> {
    let [path] = paths else {
        return None;
    };
    if !crate::aggregate::parquet::is_aggregate(path) {
        return None;
    }
    {
        let mut pr = shared.progress.lock();
        pr.files_total = 1;
        pr.current = Some(path.clone());
    }
    (shared.wake)();
    let outcome = match crate::aggregate::parquet::read(path) {
        Ok(read) => {
            let failures = read
                .skipped
                .iter()
                .map(|(table, n, example)| LoadFailure {
                    path: path.clone(),
                    reason: format!("{n} damaged {table} rows skipped, e.g. {example}"),
                })
                .collect();
            LoadOutcome {
                model: Some(Model::of_aggregate(paths.to_vec(), path.clone(), read)),
                failures,
                cancelled: false,
            }
        }
        Err(e) => LoadOutcome {
            model: None,
            failures: vec![LoadFailure {
                path: path.clone(),
                reason: format!("{e:#}"),
            }],
            cancelled: false,
        },
    };
    Some(outcome)
}

fn load(paths: &[PathBuf], options: LoadOptions, shared: &Arc<Shared>) -> LoadOutcome {
    let progress = &shared.progress;
    let cancel = &shared.cancel;
    let wake = &*shared.wake;
    let cancelled = |failures| LoadOutcome {
        model: None,
        failures,
        cancelled: true,
    };
    let mut failures = Vec::new();
    if let Some(outcome) = open_aggregate(paths, shared) {
        return outcome;
    }
    let mut files = Vec::new();
    for p in paths {
        if crate::aggregate::parquet::is_aggregate(p) {
            failures.push(LoadFailure {
                path: p.clone(),
                reason: "an aggregate opens on its own, not with other paths".to_owned(),
            });
            continue;
        }
        match ingest::expand_paths(std::slice::from_ref(p)) {
            Ok(found) => files.extend(found),
            Err(e) => failures.push(LoadFailure {
                path: p.clone(),
                reason: e.to_string(),
            }),
        }
    }
    // A pipe's size is unknown (and so is that of a file whose metadata cannot be read).
    let (bytes_total, sizes_known) = files.iter().fold((0u64, true), |(total, known), f| {
        match std::fs::metadata(f) {
            Ok(m) => (total + m.len(), known && m.is_file()),
            Err(_) => (total, false),
        }
    });
    {
        let mut pr = progress.lock();
        pr.files_total = files.len();
        pr.bytes_total = bytes_total;
    }
    wake();
    // A first picture only where the rest takes a while (or may, where sizes are unknown).
    let mut preview_due = !sizes_known || bytes_total >= options.preview_bytes.saturating_mul(2);
    let mut preview = None;
    let mut store = TraceStore::default();
    let mut infos = Vec::new();
    let mut bytes_before = 0u64;
    let mut spans_before = 0u64;
    for path in &files {
        if cancel.load(Ordering::Acquire) {
            return cancelled(failures);
        }
        if preview_due && bytes_before >= options.preview_bytes {
            preview_due = false;
            // Between files only while the copy is small: a large file read whole (a layout
            // that does not stream) is not copied for a picture.
            if bytes_before <= options.preview_bytes.saturating_mul(2) {
                let (s, i) = partial(&store, &infos, None);
                preview = start_preview(paths, i, s, shared);
            }
        }
        progress.lock().current = Some(path.clone());
        wake();
        let mut on_block = |format, compression, batch: &Batch, bytes: u64| {
            {
                let mut pr = progress.lock();
                pr.bytes_done = bytes_before + bytes;
                pr.spans = spans_before + batch.spans.len() as u64;
            }
            wake();
            if preview_due && bytes_before + bytes >= options.preview_bytes {
                preview_due = false;
                let (s, i) = partial(
                    &store,
                    &infos,
                    Some((path, format, compression, batch, bytes)),
                );
                preview = start_preview(paths, i, s, shared);
            }
            !cancel.load(Ordering::Acquire)
        };
        let read_options = ReadOptions {
            block_bytes: options.block_bytes,
            on_block: Some(&mut on_block),
        };
        match ingest::read_path_with(path, read_options) {
            Ok(read) => {
                let mut batch = read.batch;
                batch.set_file(FileId(infos.len() as u32));
                let spans = batch.spans.len() as u64;
                store.append(batch);
                let mut warnings: Vec<String> = read
                    .report
                    .counts
                    .iter()
                    .map(|(k, n)| format!("{n} {k}: {}", k.explain()))
                    .collect();
                warnings.extend(read.report.examples.iter().cloned());
                infos.push(FileInfo {
                    path: read.path,
                    format: read.format,
                    compression: read.compression,
                    bytes: read.bytes,
                    warnings,
                    warning_count: read.report.total(),
                });
                spans_before += spans;
                // Progress is in the files' own bytes (a compressed file decodes to more).
                bytes_before += match read.compression {
                    Some(_) => std::fs::metadata(path).map_or(read.bytes, |m| m.len()),
                    None => read.bytes,
                };
            }
            Err(_) if cancel.load(Ordering::Acquire) => return cancelled(failures),
            Err(e) => {
                failures.push(LoadFailure {
                    path: path.clone(),
                    reason: e.to_string(),
                });
                bytes_before += std::fs::metadata(path).map_or(0, |m| m.len());
            }
        }
        {
            let mut pr = progress.lock();
            pr.spans = spans_before;
            pr.bytes_done = bytes_before;
            pr.files_done += 1;
        }
        wake();
    }
    if infos.is_empty() {
        return LoadOutcome {
            model: None,
            failures,
            cancelled: false,
        };
    }
    {
        let mut pr = progress.lock();
        pr.deriving = true;
        pr.current = None;
    }
    wake();
    // The first picture is done long before (it is small); the whole graph takes every core.
    if let Some(preview) = preview {
        preview.join().ok();
    }
    // The parser's buffers are free now, in arenas the derivation's threads do not reuse.
    crate::heap::give_back();
    store.index();
    if cancel.load(Ordering::Acquire) {
        return cancelled(failures);
    }
    let model = Model::derive(paths.to_vec(), infos, store);
    if cancel.load(Ordering::Acquire) {
        return cancelled(failures);
    }
    LoadOutcome {
        model: Some(model),
        failures,
        cancelled: false,
    }
}
