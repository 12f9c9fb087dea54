//! [`Canvas`]: the graph view. Builds the scene when what it shows changes, moves the cached meshes while a pan or zoom is under way, paints, and turns pan, zoom, keys, clicks, drags and hovers into camera moves and actions.

mod worker;

use std::sync::Arc;

use egui::emath::TSTransform;
use egui::{Key, Pos2, Rect, Sense, Vec2};

use super::actions::Action;
use super::inspector;
use super::paint;
use crate::derive::ServiceGraph;
use crate::model::Interner;
use crate::scene::pick::Hit;
use crate::scene::{self, Camera, GroupKey, HullKind, Scene, Stamp, View};
use worker::{SceneSource, SceneWorker};

/// From this many nodes, a scene whose nodes or camera moved is built on the scene thread
/// (building it takes a millisecond or more); smaller graphs are built within the frame.
pub const OFF_THREAD_NODES: usize = 2_000;

/// Seconds after the last pan or zoom step before the scene is built again at the new camera;
/// until then the last scene's meshes are moved (a pan or zoom costs no scene or mesh build).
const SETTLE_SECS: f64 = 0.15;

/// What the scene was built from; the scene is rebuilt only when this changes (a change of
/// camera alone moves the last scene until the camera settles).
#[derive(Clone, Debug, PartialEq)]
struct SceneKey {
    view: View,
    stamp: Stamp,
    layout_generation: u64,
    model_generation: u64,
}

impl SceneKey {
    /// Equal in everything but the camera.
    fn same_content(&self, other: &Self) -> bool {
        self.layout_generation == other.layout_generation && self.same_but_motion(other)
    }

    /// Equal in everything but the camera and the node positions.
    fn same_but_motion(&self, other: &Self) -> bool {
        let Self {
            view,
            stamp,
            layout_generation: _,
            model_generation,
        } = self;
        *stamp == other.stamp
            && *model_generation == other.model_generation
            && View {
                camera: other.view.camera,
                ..view.clone()
            } == other.view
    }
}

/// Everything the canvas draws from, borrowed for one frame.
pub struct CanvasInput<'a> {
    /// The graph at the current level (shared with the scene thread).
    pub graph: &'a Arc<ServiceGraph>,
    /// Its strings.
    pub interner: &'a Interner,
    /// Layout positions by node index.
    pub positions: &'a [[f32; 2]],
    /// Counts up when positions change.
    pub layout_generation: u64,
    /// Counts up when a new model or level is shown.
    pub model_generation: u64,
    /// View state except size, theme and camera (the canvas fills those in).
    pub view: View,
    /// What the stamp says.
    pub stamp: Stamp,
}

/// The graph canvas: camera, the last scene and its meshes.
#[derive(Default)]
pub struct Canvas {
    /// The camera; `None` fits everything visible (and follows window resizes).
    camera: Option<Camera>,
    /// The last scene and what it was built from.
    scene: Option<(SceneKey, Scene)>,
    /// The camera the last scene was drawn with (its own or the fitted one).
    built_camera: Option<Camera>,
    /// The last scene's meshes and laid-out labels (their arrays are reused by the next build).
    meshes: paint::SceneMeshes,
    /// The camera of the last fitted scene.
    fitted: Option<Camera>,
    /// Scene builds within a frame so far (for tests and the frame-cost readout).
    builds: u64,
    /// Scenes from the scene thread shown so far.
    from_thread: u64,
    /// Scenes shown so far.
    shown: u64,
    /// When the camera last moved by pan or zoom (egui time, seconds).
    camera_moved_secs: f64,
    /// The node being dragged (pinned where it is dropped).
    dragging: Option<u32>,
    /// The scene thread, started by the first large graph that moves.
    worker: Option<SceneWorker>,
    /// The thread could not be started: every scene is built in the frame.
    no_worker: bool,
    /// The graph (and its names) the scene thread builds from.
    source: Option<Arc<SceneSource>>,
    /// Counts builds made in the frame; a build from the scene thread asked for before the
    /// last of them is stale.
    epoch: u64,
    /// The newest scene asked of the scene thread.
    asked: Option<SceneKey>,
    /// Meshes for the scene thread to fill next (the ones shown before the current ones).
    spare: Option<paint::SceneMeshes>,
}

impl Canvas {
    /// The last scene painted.
    pub fn scene(&self) -> Option<&Scene> {
        self.scene.as_ref().map(|(_, s)| s)
    }

    /// Where a point of the last scene (scene pixels) is drawn now, in ui points.
    pub fn ui_pos(&self, scene_px: [f32; 2]) -> Pos2 {
        self.meshes.transform() * (self.meshes.origin + Vec2::new(scene_px[0], scene_px[1]))
    }

    /// How many times a scene was built within a frame (on the UI thread).
    pub fn builds(&self) -> u64 {
        self.builds
    }

    /// How many scenes were shown (each build, in the frame or on the scene thread, once).
    pub fn scenes_shown(&self) -> u64 {
        self.shown
    }

    /// How many scenes built on the scene thread were shown.
    pub fn scenes_from_thread(&self) -> u64 {
        self.from_thread
    }

    /// The camera the user set, or `None` while the view fits everything.
    pub fn camera(&self) -> Option<Camera> {
        self.camera
    }

    /// Puts the camera back (what [`Canvas::camera`] gave).
    pub fn set_camera(&mut self, camera: Option<Camera>) {
        self.camera = camera;
    }

    /// Fits everything visible into the canvas from now on.
    pub fn fit(&mut self) {
        self.camera = None;
    }

    /// Centres the view on a layout point, keeping the zoom.
    pub fn center_on(&mut self, pos: [f32; 2]) {
        let zoom = self
            .camera
            .map(|c| c.zoom)
            .or_else(|| self.scene().map(|s| s.zoom))
            .unwrap_or(1.0);
        self.camera = Some(Camera { center: pos, zoom });
        // A jump, not a gesture: build at once.
        self.camera_moved_secs = f64::NEG_INFINITY;
    }

    /// The camera the canvas shows now.
    fn current_camera(&self) -> Option<Camera> {
        self.camera.or(self.fitted)
    }

    /// Where the scene's pixels are drawn now, relative to where they were built.
    fn ui_from_built(&self, rect: Rect) -> TSTransform {
        let (Some(built), Some(now)) = (self.built_camera, self.camera) else {
            return TSTransform::IDENTITY;
        };
        if !(built.zoom > 0.0 && now.zoom.is_finite()) {
            return TSTransform::IDENTITY;
        }
        let s = now.zoom / built.zoom;
        let centre = rect.center().to_vec2();
        let moved = Vec2::new(
            built.center[0] - now.center[0],
            built.center[1] - now.center[1],
        ) * now.zoom;
        TSTransform::new(centre * (1.0 - s) + moved, s)
    }

    /// The layout point under a ui point, with the current camera.
    fn layout_at(&self, rect: Rect, p: Pos2) -> Option<[f32; 2]> {
        let camera = self.current_camera()?;
        let d = p - rect.center();
        Some([
            camera.center[0] + d.x / camera.zoom,
            camera.center[1] + d.y / camera.zoom,
        ])
    }

    /// Draws the canvas into the rest of `ui` and returns what the user asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui, input: &CanvasInput<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        let rect = ui.available_rect_before_wrap();
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        if rect.width() < 1.0 || rect.height() < 1.0 {
            return actions;
        }
        // A drag that starts on a node moves (and pins) the node; elsewhere it pans.
        if response.drag_started() {
            self.dragging = response
                .interact_pointer_pos()
                .and_then(|p| self.hit(rect, p))
                .and_then(|h| match h {
                    Hit::Node(n) => Some(n),
                    Hit::Group(..) | Hit::Edge(_) | Hit::Sum(_) => None,
                });
            if self.dragging.is_some() {
                // Hold the view still while the node moves (a fitted view would refit to it).
                self.camera = self.current_camera();
                self.camera_moved_secs = f64::NEG_INFINITY;
            }
        }
        if let Some(node) = self.dragging {
            if response.dragged()
                && let Some(p) = response.interact_pointer_pos()
                && let Some(pos) = self.layout_at(rect, p)
            {
                actions.push(Action::PinNode(node, pos));
            }
            if !response.dragged() {
                self.dragging = None;
            }
        }
        self.handle_input(ui, &response, rect, &mut actions);

        let theme = if ui.visuals().dark_mode {
            scene::Theme::Dark
        } else {
            scene::Theme::Light
        };
        let view = View {
            size: [rect.width(), rect.height()],
            theme,
            camera: self.camera,
            ..input.view.clone()
        };
        let key = SceneKey {
            view,
            stamp: input.stamp.clone(),
            layout_generation: input.layout_generation,
            model_generation: input.model_generation,
        };
        // A scene from the scene thread that is still current replaces the last one.
        if let Some(built) = self.worker.as_ref().and_then(SceneWorker::take) {
            if built.epoch == self.epoch {
                self.from_thread += 1;
                self.install(built);
            } else {
                self.spare = Some(built.meshes);
            }
        }
        let now = ui.input(|i| i.time);
        let (content_same, camera_same, moved) =
            self.scene.as_ref().map_or((false, false, false), |(k, _)| {
                (
                    k.same_content(&key),
                    k.view.camera == key.view.camera,
                    k.same_but_motion(&key),
                )
            });
        let gesture = self.camera.is_some()
            && self.built_camera.is_some()
            && now - self.camera_moved_secs < SETTLE_SECS;
        let origin_same = self.meshes.origin == rect.min;
        if content_same && origin_same && (camera_same || gesture) {
            if !camera_same {
                // Mid pan or zoom: move what was built; build again once the camera rests.
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(SETTLE_SECS));
            }
        } else if moved
            && origin_same
            && !self.no_worker
            && input.graph.graph.node_count() >= OFF_THREAD_NODES
        {
            self.build_off_thread(ui, input, key, rect);
        } else {
            self.build(ui, input, key, rect);
        }
        let t = self.ui_from_built(rect);
        self.meshes.set_transform(t);
        let Some((_, scene)) = &self.scene else {
            return actions;
        };
        let painter = ui.painter_at(rect);
        paint::scene_with_meshes_ui(&painter, scene, &self.meshes);

        let hover = response.hover_pos().and_then(|p| self.hit(rect, p));
        if response.clicked()
            && let Some(p) = response.interact_pointer_pos()
        {
            actions.push(match self.hit(rect, p) {
                Some(Hit::Node(n)) => Action::SelectNode(Some(n)),
                Some(Hit::Group(key, _)) => Action::SelectGroup(key),
                Some(Hit::Edge(e)) => Action::SelectEdge(Some(e)),
                Some(Hit::Sum(ends)) => Action::SelectSum(ends),
                None => Action::SelectNode(None),
            });
        }
        if response.double_clicked()
            && let Some(p) = response.interact_pointer_pos()
        {
            let pinned = |n: u32| input.view.pinned.binary_search(&n).is_ok();
            actions.push(match self.hit(rect, p) {
                Some(Hit::Group(key, _)) => Action::ToggleCollapse(key),
                Some(Hit::Node(n)) if pinned(n) => Action::UnpinNode(n),
                Some(_) => Action::Fit,
                None => self
                    .hull_at(rect, p)
                    .map_or(Action::Fit, Action::ToggleCollapse),
            });
        }
        let menu_hit = response
            .interact_pointer_pos()
            .or(response.hover_pos())
            .and_then(|p| self.hit(rect, p));
        let hull = response.hover_pos().and_then(|p| self.hull_at(rect, p));
        response.context_menu(|ui| {
            context_menu_ui(ui, input, menu_hit, hull, &mut actions);
        });
        if let Some(hit) = hover
            && self.dragging.is_none()
        {
            let lines = match hit {
                Hit::Node(n) => inspector::node_lines(input.graph, input.interner, n),
                Hit::Group(key, _) => inspector::group_lines(input.graph, input.interner, key),
                Hit::Edge(e) => inspector::edge_lines(input.graph, input.interner, e),
                Hit::Sum(ends) => inspector::sum_lines(input.graph, input.interner, ends),
            };
            response.on_hover_ui_at_pointer(|ui| {
                for (i, line) in lines.iter().enumerate() {
                    if i == 0 {
                        ui.strong(line);
                    } else {
                        ui.label(line);
                    }
                }
            });
        }
        actions
    }

    /// Builds the scene (and its meshes) for `key` now, on the UI thread.
    fn build(&mut self, ui: &egui::Ui, input: &CanvasInput<'_>, key: SceneKey, rect: Rect) {
        let meshes = std::mem::take(&mut self.meshes);
        let built = worker::build(
            &ui.painter_at(rect),
            rect.min,
            input.graph,
            input.interner,
            input.positions,
            key,
            meshes,
        );
        // What the worker is building now shows an older state.
        self.epoch += 1;
        self.asked = None;
        self.builds += 1;
        self.install(built);
    }

    /// Asks the worker for the scene of `key` (the shown one with the nodes or the camera
    /// moved); the last scene is drawn, moved to the camera, until it is ready. Builds here when
    /// no worker can be started.
    fn build_off_thread(
        &mut self,
        ui: &egui::Ui,
        input: &CanvasInput<'_>,
        key: SceneKey,
        rect: Rect,
    ) {
        if self.asked.as_ref() == Some(&key) {
            return;
        }
        if self.worker.is_none() {
            match SceneWorker::start(ui.ctx().clone()) {
                Ok(w) => self.worker = Some(w),
                Err(e) => {
                    eprintln!("flowscope: no scene thread ({e}); scenes are built between frames");
                    self.no_worker = true;
                    self.build(ui, input, key, rect);
                    return;
                }
            }
        }
        let Some(worker) = &self.worker else { return };
        let source = match &self.source {
            Some(s) if Arc::ptr_eq(&s.graph, input.graph) => Arc::clone(s),
            _ => {
                let s = Arc::new(SceneSource::new(Arc::clone(input.graph), input.interner));
                self.source = Some(Arc::clone(&s));
                s
            }
        };
        self.asked = Some(key.clone());
        let meshes = self.spare.take().unwrap_or_default();
        self.spare = worker.submit(worker::Job {
            key,
            source,
            positions: input.positions.to_vec(),
            rect,
            meshes,
            epoch: self.epoch,
        });
    }

    /// Shows a finished build.
    fn install(&mut self, built: worker::Built) {
        self.shown += 1;
        if built.key.view.camera.is_none() {
            self.fitted = built.fitted;
        }
        self.built_camera = built.camera;
        let old = std::mem::replace(&mut self.meshes, built.meshes);
        if !old.is_empty() {
            self.spare = Some(old);
        }
        self.scene = Some((built.key, built.scene));
    }

    /// True while the worker has a scene on the way.
    pub fn building(&self) -> bool {
        self.worker.as_ref().is_some_and(SceneWorker::is_busy)
    }

    /// The scene point (scene pixels) under a ui point.
    fn scene_point(&self, rect: Rect, p: Pos2) -> [f32; 2] {
        let q = self.meshes.transform().inverse() * p - rect.min;
        [q.x, q.y]
    }

    /// The node, collapsed group or edge under a ui point ([`scene::pick::hit`]).
    fn hit(&self, rect: Rect, p: Pos2) -> Option<Hit> {
        let scene = self.scene()?;
        scene::pick::hit(
            scene,
            self.scene_point(rect, p),
            self.meshes.transform().scaling,
        )
    }

    /// The innermost region or zone hull under a ui point.
    fn hull_at(&self, rect: Rect, p: Pos2) -> Option<GroupKey> {
        let scene = self.scene()?;
        let q = self.scene_point(rect, p);
        let inside = |kind: HullKind| {
            scene
                .hulls
                .iter()
                .rev()
                .find(|h| h.kind == kind && scene::hull::contains(&h.points, q))
                .map(|h| h.group)
        };
        inside(HullKind::Zone).or_else(|| inside(HullKind::Region))
    }

    fn handle_input(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        rect: Rect,
        actions: &mut Vec<Action>,
    ) {
        let Some(mut camera) = self.current_camera() else {
            return;
        };
        let mut moved = false;
        if response.dragged() && self.dragging.is_none() {
            let d = response.drag_delta();
            if d != Vec2::ZERO {
                camera.center[0] -= d.x / camera.zoom;
                camera.center[1] -= d.y / camera.zoom;
                moved = true;
            }
        }
        let mut factor = 1.0f32;
        if response.hovered() {
            let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            factor *= zoom * (scroll * 0.002).exp();
        }
        let typing = ui.ctx().egui_wants_keyboard_input();
        if !typing {
            let step = 60.0 / camera.zoom;
            ui.input(|i| {
                let pan = [
                    (Key::ArrowLeft, [-step, 0.0]),
                    (Key::ArrowRight, [step, 0.0]),
                    (Key::ArrowUp, [0.0, -step]),
                    (Key::ArrowDown, [0.0, step]),
                ];
                for (key, [dx, dy]) in pan {
                    if i.key_pressed(key) {
                        camera.center[0] += dx;
                        camera.center[1] += dy;
                        moved = true;
                    }
                }
                if i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals) {
                    factor *= 1.25;
                }
                if i.key_pressed(Key::Minus) {
                    factor /= 1.25;
                }
                if i.key_pressed(Key::F) && i.modifiers.is_none() {
                    actions.push(Action::Fit);
                }
            });
        }
        if (factor - 1.0).abs() > 1e-4 && factor.is_finite() && factor > 0.0 {
            // Zoom about the pointer: the layout point under it stays put.
            let anchor = response.hover_pos().unwrap_or_else(|| rect.center()) - rect.center();
            let before = [
                camera.center[0] + anchor.x / camera.zoom,
                camera.center[1] + anchor.y / camera.zoom,
            ];
            camera.zoom = (camera.zoom * factor).clamp(1e-4, 1e4);
            camera.center = [
                before[0] - anchor.x / camera.zoom,
                before[1] - anchor.y / camera.zoom,
            ];
            moved = true;
        }
        if moved {
            self.camera = Some(camera);
            self.camera_moved_secs = ui.input(|i| i.time);
        }
    }
}

/// The canvas's right-click menu: pins, collapsing the group under the pointer, fit.
fn context_menu_ui(
    ui: &mut egui::Ui,
    input: &CanvasInput<'_>,
    hit: Option<Hit>,
    hull: Option<GroupKey>,
    actions: &mut Vec<Action>,
) {
    let mut close = false;
    if let Some(Hit::Node(n)) = hit
        && input.view.pinned.binary_search(&n).is_ok()
        && ui.button("Unpin node").clicked()
    {
        actions.push(Action::UnpinNode(n));
        close = true;
    }
    if let Some(Hit::Group(key, _)) = hit
        && ui.button("Expand").clicked()
    {
        actions.push(Action::ToggleCollapse(key));
        close = true;
    }
    if let Some(key) = hull {
        let what = if key.zone.is_some() { "zone" } else { "region" };
        if ui.button(format!("Collapse this {what}")).clicked() {
            actions.push(Action::ToggleCollapse(key));
            close = true;
        }
    }
    if !input.view.pinned.is_empty()
        && ui
            .button(format!("Unpin all ({})", input.view.pinned.len()))
            .clicked()
    {
        actions.push(Action::UnpinAll);
        close = true;
    }
    if ui.button("Fit").clicked() {
        actions.push(Action::Fit);
        close = true;
    }
    if close {
        ui.close();
    }
}
