//! [`DirWatcher`]: runs a [`DirTail`] on the named `dir_tailer` thread, woken by notify or, where that is not available, by a polling timer, and hands each scan's news over a bounded channel.
//!
//! Notifications are debounced here rather than by `notify-debouncer-full`: that crate waits for
//! a path to go quiet, so a file written continuously (a collector at 10,000 spans/s) raised no
//! event until its writer stopped. Here a notification wakes the thread at once, the events that
//! arrive while it scans are coalesced into the next scan, and scans are at least
//! [`WatchOptions::debounce`] apart.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};
use parking_lot::Mutex;

use super::dir::{DirTail, FileUpdate, TailFailure};

/// How the watcher learns of changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchMode {
    /// File-system notifications (inotify on Linux), debounced, with a slow safety-net rescan.
    Notify,
    /// A rescan every [`WatchOptions::poll`] (notifications not available, or asked for).
    Polling,
}

/// How to watch.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// Least time between two scans woken by notifications (the events in between are coalesced).
    pub debounce: Duration,
    /// Rescan interval when polling.
    pub poll: Duration,
    /// Rescan interval with notifications (events can be missed, e.g. on network file systems).
    pub safety_rescan: Duration,
    /// Poll even where notifications work.
    pub force_polling: bool,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(20),
            poll: Duration::from_millis(200),
            safety_rescan: Duration::from_secs(2),
            force_polling: false,
        }
    }
}

/// What one scan brought.
#[derive(Debug)]
pub struct TailBatch {
    /// Per-file updates, in file order.
    pub updates: Vec<FileUpdate>,
    /// Files or directories that could not be read (each once).
    pub failures: Vec<TailFailure>,
    /// When the watcher first saw the writes this scan read (the notification's time, or the
    /// start of the scan when polling).
    pub seen_at: Instant,
    /// Files found so far.
    pub files_seen: usize,
    /// Bytes read by this scan.
    pub bytes_read: u64,
}

/// A directory watch on its own thread. Dropping it stops the thread.
#[derive(Debug)]
pub struct DirWatcher {
    alive: Arc<AtomicBool>,
    wake_tx: SyncSender<()>,
    rx: Receiver<TailBatch>,
    mode: WatchMode,
    thread: Option<JoinHandle<()>>,
}

/// Earliest notification not yet acted on.
type Pending = Arc<Mutex<Option<Instant>>>;

impl DirWatcher {
    /// Starts following `roots`; `wake` is called after each batch is sent.
    pub fn start(
        roots: Vec<PathBuf>,
        options: WatchOptions,
        wake: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let alive = Arc::new(AtomicBool::new(true));
        let (wake_tx, wake_rx) = sync_channel::<()>(1);
        let (tx, rx) = sync_channel::<TailBatch>(16);
        let pending: Pending = Arc::new(Mutex::new(None));

        // Notifications, unless polling was asked for or they cannot be set up here.
        let notifier = if options.force_polling {
            None
        } else {
            let pending = Arc::clone(&pending);
            let wake_tx = wake_tx.clone();
            let handler = move |result: notify::Result<notify::Event>| {
                let Ok(event) = result else {
                    // Errors (a queue overflow, a removed watch): rescan anyway.
                    wake_tx.try_send(()).ok();
                    return;
                };
                if relevant(event.kind) {
                    // The watcher saw the write now.
                    let now = Instant::now();
                    let mut p = pending.lock();
                    *p = Some(p.map_or(now, |old: Instant| old.min(now)));
                    drop(p);
                    wake_tx.try_send(()).ok();
                }
            };
            match notify::recommended_watcher(handler) {
                Ok(mut w) => {
                    let all_watched = roots
                        .iter()
                        .all(|r| w.watch(r, RecursiveMode::Recursive).is_ok());
                    all_watched.then_some(w)
                }
                Err(_) => None,
            }
        };
        let mode = if notifier.is_some() {
            WatchMode::Notify
        } else {
            WatchMode::Polling
        };
        let interval = match mode {
            WatchMode::Notify => options.safety_rescan,
            WatchMode::Polling => options.poll,
        };
        let thread = {
            let alive = Arc::clone(&alive);
            std::thread::Builder::new()
                .name("dir_tailer".into())
                .spawn(move || {
                    // The notifier lives (and watches) as long as the thread.
                    let _notifier = notifier;
                    run(
                        DirTail::new(roots),
                        Timing {
                            rescan: interval,
                            debounce: options.debounce,
                        },
                        &alive,
                        &wake_rx,
                        &pending,
                        &tx,
                        &wake,
                    );
                })?
        };
        Ok(Self {
            alive,
            wake_tx,
            rx,
            mode,
            thread: Some(thread),
        })
    }

    /// How changes are noticed.
    pub fn mode(&self) -> WatchMode {
        self.mode
    }

    /// The next batch, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<TailBatch> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// A batch, if one is waiting.
    pub fn try_recv(&self) -> Option<TailBatch> {
        self.rx.try_recv().ok()
    }

    /// Whether the thread still runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Asks for a rescan now.
    pub fn rescan(&self) {
        self.wake_tx.try_send(()).ok();
    }
}

impl Drop for DirWatcher {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::SeqCst);
        self.wake_tx.try_send(()).ok();
        // Unblock a send waiting for room, then wait for the thread.
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

/// Changes worth a rescan: not our own reads (`Access`).
fn relevant(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
    ) || matches!(
        kind,
        EventKind::Access(notify::event::AccessKind::Close(
            notify::event::AccessMode::Write
        ))
    )
}

/// When the tailer thread scans.
#[derive(Clone, Copy)]
struct Timing {
    /// Without a wake-up, scan this often.
    rescan: Duration,
    /// After a wake-up, wait this long for the writes that follow.
    debounce: Duration,
}

fn run(
    mut tail: DirTail,
    timing: Timing,
    alive: &AtomicBool,
    wake_rx: &Receiver<()>,
    pending: &Mutex<Option<Instant>>,
    tx: &SyncSender<TailBatch>,
    wake: &dyn Fn(),
) {
    // The first scan reads what is already there.
    let mut first = true;
    while alive.load(Ordering::SeqCst) {
        if !first {
            match wake_rx.recv_timeout(timing.rescan) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if !alive.load(Ordering::SeqCst) {
                return;
            }
        }
        if !first {
            // Coalesce: the writes of the next moment go into this scan too.
            std::thread::sleep(timing.debounce);
        }
        first = false;
        let scan_started = Instant::now();
        let seen_at = pending
            .lock()
            .take()
            .map_or(scan_started, |t| t.min(scan_started));
        let result = tail.scan();
        if result.updates.is_empty() && result.failures.is_empty() {
            continue;
        }
        let mut batch = TailBatch {
            updates: result.updates,
            failures: result.failures,
            seen_at,
            files_seen: tail.files_seen(),
            bytes_read: result.bytes_read,
        };
        // Wait for room (the reader is behind), but stop when asked.
        loop {
            match tx.try_send(batch) {
                Ok(()) => break,
                Err(TrySendError::Full(b)) => {
                    if !alive.load(Ordering::SeqCst) {
                        return;
                    }
                    batch = b;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
        wake();
    }
}
