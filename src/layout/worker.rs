//! [`LayoutWorker`]: runs a [`LayoutEngine`] on a named thread, publishing position snapshots until converged, cancelled or dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use parking_lot::Mutex;

use super::engine::{LayoutEngine, LayoutStats};

/// The latest positions a worker published.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Position of every node of the full graph.
    pub positions: Vec<[f32; 2]>,
    /// Where the run stood.
    pub stats: LayoutStats,
    /// Counts up with every snapshot, so a reader can tell whether anything changed.
    pub generation: u64,
}

/// Pins and unpins waiting for the thread's next round: node index, and where (`None` unpins).
type PinQueue = Arc<Mutex<Vec<(usize, Option<[f32; 2]>)>>>;

/// A layout running on its own thread. Dropping it stops the thread.
#[derive(Debug)]
pub struct LayoutWorker {
    latest: Arc<Mutex<Snapshot>>,
    pins: PinQueue,
    alive: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl LayoutWorker {
    /// Starts `engine` on a thread named `layout`. Each round runs steps for about
    /// `budget_millis`, publishes a snapshot and calls `on_update` (e.g. to request a repaint).
    pub fn spawn(
        mut engine: LayoutEngine,
        budget_millis: f64,
        on_update: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let latest = Arc::new(Mutex::new(Snapshot {
            positions: engine.positions(),
            stats: engine.stats(),
            generation: 0,
        }));
        let alive = Arc::new(AtomicBool::new(true));
        let running = Arc::new(AtomicBool::new(true));
        let pins: PinQueue = Arc::default();
        let handle = {
            let pins = Arc::clone(&pins);
            let latest = Arc::clone(&latest);
            let alive = Arc::clone(&alive);
            let running = Arc::clone(&running);
            std::thread::Builder::new()
                .name("layout".into())
                .spawn(move || {
                    let mut buffer = Vec::new();
                    while alive.load(Ordering::Acquire) && !engine.is_finished() {
                        for (i, pos) in std::mem::take(&mut *pins.lock()) {
                            match pos {
                                Some(pos) => engine.pin(i, pos),
                                None => engine.unpin(i),
                            }
                        }
                        engine.step_budgeted(budget_millis);
                        engine.positions_into(&mut buffer);
                        {
                            let mut snap = latest.lock();
                            std::mem::swap(&mut snap.positions, &mut buffer);
                            snap.stats = engine.stats();
                            snap.generation += 1;
                        }
                        on_update();
                    }
                    running.store(false, Ordering::Release);
                    on_update();
                })?
        };
        Ok(Self {
            latest,
            pins,
            alive,
            running,
            handle: Some(handle),
        })
    }

    /// A copy of the latest snapshot.
    pub fn snapshot(&self) -> Snapshot {
        self.latest.lock().clone()
    }

    /// The latest snapshot if it is newer than `generation`.
    pub fn snapshot_since(&self, generation: u64) -> Option<Snapshot> {
        let snap = self.latest.lock();
        (snap.generation > generation).then(|| snap.clone())
    }

    /// Whether the thread is still laying out (the UI repaints only while it is).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Holds node `i` (of the full graph) at `pos` from the thread's next round on.
    pub fn pin(&self, i: usize, pos: [f32; 2]) {
        self.pins.lock().push((i, Some(pos)));
    }

    /// Lets node `i` move again from the thread's next round on.
    pub fn unpin(&self, i: usize) {
        self.pins.lock().push((i, None));
    }

    /// Asks the thread to stop after its current round.
    pub fn cancel(&self) {
        self.alive.store(false, Ordering::Release);
    }

    /// Waits for the thread to finish (after convergence or [`Self::cancel`]) and returns the
    /// last snapshot.
    pub fn join(mut self) -> Snapshot {
        if let Some(h) = self.handle.take() {
            h.join().ok();
        }
        self.snapshot()
    }
}

impl Drop for LayoutWorker {
    fn drop(&mut self) {
        self.cancel();
        if let Some(h) = self.handle.take() {
            h.join().ok();
        }
    }
}
