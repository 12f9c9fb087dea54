//! [`Canvas`]: the graph view. Builds the scene when what it shows changes, moves the cached meshes while a pan or zoom is under way, paints, and turns pan, zoom, keys, clicks, drags and hovers into camera moves and actions.

use egui::emath::TSTransform;
use egui::{Key, Pos2, Rect, Sense, Vec2};

use super::actions::Action;
use super::inspector;
use super::paint;
use crate::derive::ServiceGraph;
use crate::model::Interner;
use crate::scene::pick::Hit;
use crate::scene::{self, Camera, GroupKey, HullKind, Scene, Stamp, View};

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
        let Self {
            view,
            stamp,
            layout_generation,
            model_generation,
        } = self;
        *stamp == other.stamp
            && *layout_generation == other.layout_generation
            && *model_generation == other.model_generation
            && View {
                camera: other.view.camera,
                ..view.clone()
            } == other.view
    }
}

/// Everything the canvas draws from, borrowed for one frame.
pub struct CanvasInput<'a> {
    /// The graph at the current level.
    pub graph: &'a ServiceGraph,
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
    /// Scene builds so far (for tests and the frame-cost readout).
    builds: u64,
    /// When the camera last moved by pan or zoom (egui time, seconds).
    camera_moved_secs: f64,
    /// The node being dragged (pinned where it is dropped).
    dragging: Option<u32>,
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

    /// How many times the scene was built.
    pub fn builds(&self) -> u64 {
        self.builds
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
        let now = ui.input(|i| i.time);
        let (content_same, camera_same) = self.scene.as_ref().map_or((false, false), |(k, _)| {
            (k.same_content(&key), k.view.camera == key.view.camera)
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

    /// Builds the scene (and its meshes) for `key`.
    fn build(&mut self, ui: &egui::Ui, input: &CanvasInput<'_>, key: SceneKey, rect: Rect) {
        // Text is measured with the fonts egui paints it with, so labels and the stamp fit.
        let ctx = ui.ctx().clone();
        let measure = move |text: &str, size: f32| {
            ctx.fonts_mut(|f| {
                f.layout_no_wrap(
                    text.to_owned(),
                    egui::FontId::proportional(size),
                    egui::Color32::WHITE,
                )
                .size()
                .x
            })
        };
        let build = |view: &View| {
            scene::build(&scene::SceneRequest {
                graph: input.graph,
                interner: input.interner,
                positions: input.positions,
                view,
                stamp: &key.stamp,
                measure: &measure,
            })
        };
        let mut built = build(&key.view);
        self.builds += 1;
        if key.view.camera.is_none() {
            self.fitted = fitted_camera(&built, input.positions).map(|c| beside_legend(c, &built));
            // Fit again beside the legend, so it hides no node.
            if let Some(camera) = self.fitted
                && built.legend.is_some()
            {
                built = build(&View {
                    camera: Some(camera),
                    ..key.view.clone()
                });
                self.builds += 1;
            }
        }
        self.built_camera = key.view.camera.or(self.fitted);
        self.meshes
            .rebuild(&built, rect.min, Some(&ui.painter_at(rect)));
        self.scene = Some((key, built));
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

/// A fitted camera shrunk and shifted so the content sits right of the legend (bottom-left).
fn beside_legend(camera: Camera, scene: &Scene) -> Camera {
    let Some(legend) = &scene.legend else {
        return camera;
    };
    let width = scene.size[0];
    let inset = (legend.rect[1][0] + 8.0).min(width * 0.4);
    // The fit left 60 px each side; now the left margin starts at the legend's right edge.
    let shrink = ((width - inset - 60.0) / (width - 120.0).max(1.0)).clamp(0.3, 1.0);
    let zoom = camera.zoom * shrink;
    Camera {
        center: [
            camera.center[0] - (inset - 60.0).max(0.0) / 2.0 / zoom,
            camera.center[1],
        ],
        zoom,
    }
}

/// The camera a fitted scene was drawn with, recovered from its first node's layout position.
fn fitted_camera(scene: &Scene, positions: &[[f32; 2]]) -> Option<Camera> {
    let node = scene.nodes.iter().find(|n| n.group.is_none())?;
    let p = positions.get(node.node as usize)?;
    let zoom = scene.zoom;
    if !(zoom.is_finite() && zoom > 0.0) {
        return None;
    }
    Some(Camera {
        center: [
            p[0] - (node.center[0] - scene.size[0] / 2.0) / zoom,
            p[1] - (node.center[1] - scene.size[1] / 2.0) / zoom,
        ],
        zoom,
    })
}
