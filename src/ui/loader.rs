//! [`Loader`]: reads trace files on a named background thread with progress and cancel, and derives the [`Model`] there.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

use parking_lot::Mutex;

use super::model::{FileInfo, Model};
use crate::ingest;
use crate::model::{FileId, TraceStore};

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
    progress: Arc<Mutex<Progress>>,
    cancel: Arc<AtomicBool>,
    result: Receiver<LoadOutcome>,
}

impl Loader {
    /// Starts reading `paths` (files or directories); `wake` is called whenever there is news.
    pub fn start(paths: Vec<PathBuf>, wake: impl Fn() + Send + 'static) -> std::io::Result<Self> {
        let progress = Arc::new(Mutex::new(Progress::default()));
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel(1);
        {
            let progress = Arc::clone(&progress);
            let cancel = Arc::clone(&cancel);
            std::thread::Builder::new()
                .name("loader".into())
                .spawn(move || run(&paths, &progress, &cancel, &tx, &wake))?;
        }
        Ok(Self {
            progress,
            cancel,
            result: rx,
        })
    }

    /// Where the load stands.
    pub fn progress(&self) -> Progress {
        self.progress.lock().clone()
    }

    /// Asks the thread to stop after the current file.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
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
    progress: &Mutex<Progress>,
    cancel: &AtomicBool,
    tx: &SyncSender<LoadOutcome>,
    wake: &dyn Fn(),
) {
    let outcome = load(paths, progress, cancel, wake);
    tx.send(outcome).ok();
    wake();
}

fn load(
    paths: &[PathBuf],
    progress: &Mutex<Progress>,
    cancel: &AtomicBool,
    wake: &dyn Fn(),
) -> LoadOutcome {
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        match ingest::expand_paths(std::slice::from_ref(p)) {
            Ok(found) => files.extend(found),
            Err(e) => failures.push(LoadFailure {
                path: p.clone(),
                reason: e.to_string(),
            }),
        }
    }
    {
        let mut pr = progress.lock();
        pr.files_total = files.len();
        pr.bytes_total = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
    }
    wake();
    let mut store = TraceStore::default();
    let mut infos = Vec::new();
    for path in &files {
        if cancel.load(Ordering::Acquire) {
            return LoadOutcome {
                model: None,
                failures,
                cancelled: true,
            };
        }
        progress.lock().current = Some(path.clone());
        wake();
        match ingest::read_path(path) {
            Ok(read) => {
                let mut batch = read.batch;
                batch.set_file(FileId(infos.len() as u32));
                let spans = batch.spans.len() as u64;
                store.append(batch);
                let mut warnings: Vec<String> = read
                    .report
                    .counts
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect();
                warnings.extend(read.report.examples.iter().cloned());
                infos.push(FileInfo {
                    path: read.path,
                    format: read.format,
                    bytes: read.bytes,
                    warnings,
                    warning_count: read.report.total(),
                });
                let mut pr = progress.lock();
                pr.spans += spans;
                pr.bytes_done += read.bytes;
            }
            Err(e) => {
                failures.push(LoadFailure {
                    path: path.clone(),
                    reason: e.to_string(),
                });
                let mut pr = progress.lock();
                pr.bytes_done += std::fs::metadata(path).map_or(0, |m| m.len());
            }
        }
        progress.lock().files_done += 1;
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
    store.index();
    if cancel.load(Ordering::Acquire) {
        return LoadOutcome {
            model: None,
            failures,
            cancelled: true,
        };
    }
    LoadOutcome {
        model: Some(Model::derive(paths.to_vec(), infos, store)),
        failures,
        cancelled: false,
    }
}
