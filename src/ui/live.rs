//! [`LiveSource`]: follows opened directories on the named `live` thread: applies what the watcher reads to a [`LiveModel`] and, a few times a second at most, derives a fresh [`Model`] for the window.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::model::{FileInfo, Model};
use crate::ingest::Format;
use crate::source::{DirWatcher, LiveModel, WatchMode, WatchOptions};

/// Least time between two models handed to the window.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);
/// The span rate is averaged over this window.
const RATE_WINDOW: Duration = Duration::from_secs(3);

/// What the status bar shows about a live source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveStatus {
    /// Spans per second over the last few seconds.
    pub spans_per_sec: u64,
    /// Spans held.
    pub spans: usize,
    /// Files found.
    pub files: usize,
    /// Updates are not shown (reading goes on).
    pub paused: bool,
    /// Notifications or polling.
    pub polling: bool,
    /// Lag of the last model shown, ms (from the write being seen to the model derived).
    pub lag_ms: u64,
    /// Files or directories that could not be read, one line each.
    pub failures: Vec<String>,
}

/// Shared between the thread and the window.
#[derive(Debug, Default)]
struct Shared {
    status: LiveStatus,
    model: Option<Model>,
}

/// A live watch of some paths. Dropping it stops the threads.
#[derive(Debug)]
pub struct LiveSource {
    paths: Vec<PathBuf>,
    shared: Arc<Mutex<Shared>>,
    paused: Arc<AtomicBool>,
    alive: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveSource {
    /// Starts watching `paths` (directories recursively, files as given); `wake` is called
    /// whenever there is a new model or status.
    pub fn start(
        paths: Vec<PathBuf>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let paused = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicBool::new(true));
        let wake = Arc::new(wake);
        let watcher = {
            let wake = Arc::clone(&wake);
            DirWatcher::start(paths.clone(), WatchOptions::default(), move || wake())?
        };
        let thread = {
            let (shared, paused, alive, paths) = (
                Arc::clone(&shared),
                Arc::clone(&paused),
                Arc::clone(&alive),
                paths.clone(),
            );
            std::thread::Builder::new()
                .name("live".into())
                .spawn(move || {
                    run(&watcher, &paths, &shared, &paused, &alive, &*wake);
                })?
        };
        Ok(Self {
            paths,
            shared,
            paused,
            alive,
            thread: Some(thread),
        })
    }

    /// The paths watched.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The newest model, once (`None` when nothing new, or while paused).
    pub fn take_model(&self) -> Option<Model> {
        if self.paused.load(Ordering::Acquire) {
            return None;
        }
        self.shared.lock().model.take()
    }

    /// The status line's facts.
    pub fn status(&self) -> LiveStatus {
        let mut status = self.shared.lock().status.clone();
        status.paused = self.paused.load(Ordering::Acquire);
        status
    }

    /// Stops or resumes showing updates (the files are still read while paused).
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// Whether updates are held back.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

fn file_infos(model: &LiveModel) -> Vec<FileInfo> {
    model
        .files()
        .iter()
        .map(|f| {
            let mut warnings: Vec<String> = f
                .report
                .counts
                .iter()
                .map(|(k, n)| format!("{n} {k}: {}", k.explain()))
                .collect();
            warnings.extend(f.report.examples.iter().cloned());
            FileInfo {
                path: f.path.clone(),
                format: f.format.unwrap_or(Format::ZipkinV2),
                compression: None,
                bytes: f.bytes,
                warnings,
                warning_count: f.report.total(),
            }
        })
        .collect()
}

fn run(
    watcher: &DirWatcher,
    paths: &[PathBuf],
    shared: &Mutex<Shared>,
    paused: &AtomicBool,
    alive: &AtomicBool,
    wake: &dyn Fn(),
) {
    let mut model = LiveModel::new();
    let mut added: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut dirty = false;
    let mut oldest_unshown: Option<Instant> = None;
    let mut last_publish: Option<Instant> = None;
    let mut last_rate = 0;
    let mut last_counted = (0, 0);
    let polling = watcher.mode() == WatchMode::Polling;
    while alive.load(Ordering::SeqCst) {
        if let Some(first) = watcher.recv_timeout(Duration::from_millis(100)) {
            let mut batches = vec![first];
            while let Some(more) = watcher.try_recv() {
                batches.push(more);
            }
            for batch in batches {
                let seen_at = batch.seen_at;
                let applied = model.apply(batch);
                if applied.changed {
                    dirty = true;
                    oldest_unshown = Some(oldest_unshown.map_or(seen_at, |t| t.min(seen_at)));
                    added.push_back((Instant::now(), applied.spans_added));
                }
            }
        }
        let now = Instant::now();
        while added
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
        {
            added.pop_front();
        }
        let rate = (added.iter().map(|(_, n)| *n).sum::<usize>() as f64 / RATE_WINDOW.as_secs_f64())
            .round() as u64;
        let due = last_publish.is_none_or(|t| t.elapsed() >= PUBLISH_EVERY);
        let publish = dirty && due && !paused.load(Ordering::Acquire);
        let derived = publish.then(|| {
            let files = file_infos(&model);
            Model::derive(paths.to_vec(), files, model.store().clone())
        });
        let counted = (model.store().spans().len(), model.files().len());
        let news = derived.is_some() || rate != last_rate || counted != last_counted;
        if news {
            let mut s = shared.lock();
            if let Some(derived) = derived {
                s.model = Some(derived);
                s.status.lag_ms = oldest_unshown.map_or(0, |t| t.elapsed().as_millis() as u64);
                dirty = false;
                oldest_unshown = None;
                last_publish = Some(Instant::now());
            }
            s.status.spans_per_sec = rate;
            (s.status.spans, s.status.files) = counted;
            s.status.polling = polling;
            if s.status.failures.len() != model.failures().len() {
                s.status.failures = model.failures().iter().map(|f| f.reason.clone()).collect();
            }
            drop(s);
            last_rate = rate;
            last_counted = counted;
            wake();
        }
    }
}
