//! [`SceneWorker`]: builds the canvas's scene and meshes on a thread of its own while the layout moves or the camera comes to rest on a large graph, so a frame only swaps in what is ready.

use std::sync::Arc;

use egui::{Painter, Rect};
use parking_lot::{Condvar, Mutex};

use super::SceneKey;
use crate::derive::ServiceGraph;
use crate::model::{Interner, NameTable, Resolve};
use crate::scene::{self, Camera, Scene, View};
use crate::ui::paint::SceneMeshes;

/// What a scene is built from that outlives a frame: the graph, and its names copied out of
/// the interner (which stays with the model on the UI thread).
pub struct SceneSource {
    /// The graph at the level shown.
    pub graph: Arc<ServiceGraph>,
    /// Every name and place its nodes carry.
    pub names: NameTable,
}

impl SceneSource {
    /// The graph with its node names, regions, zones, services and packages copied.
    pub fn new(graph: Arc<ServiceGraph>, interner: &Interner) -> Self {
        let syms = graph.graph.node_weights().flat_map(|n| {
            [Some(n.name), n.service, n.region, n.zone, n.package]
                .into_iter()
                .flatten()
        });
        let unknown = interner.get(crate::model::topology::UNKNOWN);
        let names = NameTable::of(interner, syms.chain(unknown));
        Self { graph, names }
    }
}

/// One build: the scene, the meshes it was filled into, and the camera it was drawn with.
pub struct Built {
    /// What it was built from.
    pub key: SceneKey,
    /// The scene.
    pub scene: Scene,
    /// Its meshes and laid-out labels.
    pub meshes: SceneMeshes,
    /// The fitted camera, when the view fits everything.
    pub fitted: Option<Camera>,
    /// The camera it was drawn with (its own or the fitted one).
    pub camera: Option<Camera>,
    /// The canvas's build count when it was asked for; an older one is stale.
    pub epoch: u64,
}

/// Builds the scene of `key` (fitted beside the legend when the view fits everything) and
/// fills `meshes` with it, placed at `origin` (ui points); `painter` measures and lays out the
/// text.
pub fn build(
    painter: &Painter,
    origin: egui::Pos2,
    graph: &ServiceGraph,
    names: &dyn Resolve,
    positions: &[[f32; 2]],
    key: SceneKey,
    mut meshes: SceneMeshes,
) -> Built {
    // Text is measured with the fonts egui paints it with, so labels and the stamp fit.
    let measure = |text: &str, size: f32| {
        painter
            .layout_no_wrap(
                text.to_owned(),
                egui::FontId::proportional(size),
                egui::Color32::WHITE,
            )
            .size()
            .x
    };
    let request = |view| scene::SceneRequest {
        graph,
        interner: names,
        positions,
        view,
        stamp: &key.stamp,
        measure: &measure,
    };
    // A view that fits everything is fitted first (beside the legend), then built once.
    let fitted = key
        .view
        .camera
        .is_none()
        .then(|| scene::fitted_camera(&request(&key.view)));
    let camera = key.view.camera.or(fitted);
    let scene = scene::build(&request(&View {
        camera,
        ..key.view.clone()
    }));
    meshes.rebuild(&scene, origin, Some(painter));
    Built {
        camera,
        key,
        scene,
        meshes,
        fitted,
        epoch: 0,
    }
}

/// A build asked of the worker.
pub struct Job {
    /// What to build.
    pub key: SceneKey,
    /// The graph and its names.
    pub source: Arc<SceneSource>,
    /// Layout positions, copied when asked.
    pub positions: Vec<[f32; 2]>,
    /// The canvas's rectangle (ui points).
    pub rect: Rect,
    /// Meshes to fill (their arrays are reused).
    pub meshes: SceneMeshes,
    /// The canvas's build count when asked.
    pub epoch: u64,
}

/// What the worker and the canvas share.
#[derive(Default)]
struct State {
    /// The newest job not yet started (a newer one replaces it).
    job: Option<Job>,
    /// The newest build not yet taken.
    done: Option<Built>,
    /// A job is being built.
    busy: bool,
    /// The canvas is gone.
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// A thread that builds the newest scene asked of it and wakes the window when it is ready.
pub struct SceneWorker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SceneWorker {
    /// Starts the thread; `ctx` measures text, loads the disc texture and is woken per build.
    pub fn start(ctx: egui::Context) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("scene".to_owned())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&shared, &ctx)
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Asks for `job`, replacing one asked for earlier and not started yet; gives that one's
    /// meshes back.
    pub fn submit(&self, job: Job) -> Option<SceneMeshes> {
        let old = self.shared.state.lock().job.replace(job);
        self.shared.wake.notify_one();
        old.map(|j| j.meshes)
    }

    /// The newest finished build, once.
    pub fn take(&self) -> Option<Built> {
        self.shared.state.lock().done.take()
    }

    /// A job is waiting or being built.
    pub fn is_busy(&self) -> bool {
        let state = self.shared.state.lock();
        state.busy || state.job.is_some()
    }
}

impl Drop for SceneWorker {
    fn drop(&mut self) {
        self.shared.state.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// The worker's loop: wait for a job, build it, hand it over, wake the window.
fn run(shared: &Shared, ctx: &egui::Context) {
    loop {
        let job = {
            let mut state = shared.state.lock();
            loop {
                if state.stop {
                    return;
                }
                if let Some(job) = state.job.take() {
                    state.busy = true;
                    break job;
                }
                shared.wake.wait(&mut state);
            }
        };
        let painter = Painter::new(ctx.clone(), egui::LayerId::background(), job.rect);
        let source = &job.source;
        let mut built = build(
            &painter,
            job.rect.min,
            &source.graph,
            &source.names,
            &job.positions,
            job.key,
            job.meshes,
        );
        built.epoch = job.epoch;
        {
            let mut state = shared.state.lock();
            state.done = Some(built);
            state.busy = false;
        }
        ctx.request_repaint();
    }
}
