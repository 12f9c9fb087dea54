//! [`FlowscopeApp`]: the eframe app. Lays out the panels, collects their actions and applies them at the end of the frame; owns the loader, dialog and export threads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use egui::{Align2, Key, KeyboardShortcut, Modifiers};

use super::actions::Action;
use super::canvas::{Canvas, CanvasInput};
use super::filter_bar::FilterBar;
use super::inspector::{self, Inspector, Selection};
use super::layout_state::{LayoutState, NamedPositions};
use super::live::LiveSource;
use super::loader::{LoadFailure, LoadOptions, LoadOutcome, Loader};
use super::model::Model;
use super::paint::color32;
use super::status_bar::{Status, StatusBar};
use super::trace_list::{TraceList, TraceSubset};
use super::waterfall::Waterfall;
use crate::derive::filter::Filter;
use crate::derive::flow::flow_path;
use crate::model::Level;
use crate::render::png;
use crate::scene::{self, Camera, GroupKey, Highlight, Stamp, Style, Theme, View};

/// Where the recent files are kept in eframe's storage.
const RECENT_KEY: &str = "flowscope.recent";
/// Where the last level is kept in eframe's storage.
const LEVEL_KEY: &str = "flowscope.level";
/// At most this many recent paths are remembered.
const MAX_RECENT: usize = 10;

/// What a dialog thread hands back.
#[derive(Debug)]
enum DialogResult {
    /// Files or a folder to open, or `None` when the dialog was cancelled or could not open.
    Open(Option<Vec<PathBuf>>),
    /// Where to save a PNG (of the whole graph when the flag is set), or `None`.
    Save(Option<PathBuf>, bool),
}

/// The flowscope window.
#[derive(Default)]
pub struct FlowscopeApp {
    model: Option<Model>,
    model_generation: u64,
    loader: Option<(Loader, Vec<PathBuf>)>,
    live: Option<LiveSource>,
    level: Level,
    layout: LayoutState,
    filter_text: String,
    filter: Filter,
    selected: Option<Selection>,
    collapsed: Vec<GroupKey>,
    /// Pins by level and node name: they outlive a switch of level, a newer live model and a
    /// load that adds files.
    pins: BTreeMap<(Level, String), [f32; 2]>,
    selected_trace: Option<usize>,
    highlight: Highlight,
    canvas: Canvas,
    filter_bar: FilterBar,
    status_bar: StatusBar,
    trace_list: TraceList,
    trace_subset: Option<TraceSubset>,
    waterfall: Waterfall,
    inspector: Inspector,
    banner: Option<String>,
    failures: Vec<LoadFailure>,
    notice: Option<String>,
    dialog: Option<Receiver<DialogResult>>,
    export: Option<Receiver<Result<PathBuf, String>>>,
    recent: Vec<PathBuf>,
    pending: Vec<Action>,
    load_options: LoadOptions,
    /// What was on screen before a load's first picture replaced it; back if it is cancelled.
    before_load: Option<BeforeLoad>,
}

/// The window's graph as it was before a load's first picture.
struct BeforeLoad {
    model: Option<Model>,
    positions: NamedPositions,
    camera: Option<Camera>,
}

impl FlowscopeApp {
    /// The corner stamp of the canvas and of exports: files, level, filter, time range, trace.
    fn stamp(&self, model: &Model) -> Stamp {
        Stamp {
            files: model
                .files
                .iter()
                .map(|f| Stamp::file_label(&f.path))
                .collect(),
            level: self.level,
            filter: self.filter_text.clone(),
            time_range: model.time_range,
            trace: self
                .selected_trace
                .and_then(|t| model.traces.get(t))
                .map(|r| r.id.clone()),
        }
    }

    /// The app as eframe creates it: recent files from storage, `paths` loading.
    pub fn new(cc: &eframe::CreationContext<'_>, paths: Vec<PathBuf>) -> Self {
        configure(&cc.egui_ctx);
        let mut app = Self::with_paths(paths);
        if let Some(storage) = cc.storage {
            app.recent = eframe::get_value(storage, RECENT_KEY).unwrap_or_default();
            let level: Option<String> = eframe::get_value(storage, LEVEL_KEY);
            if let Some(level) = Level::ALL
                .into_iter()
                .find(|l| Some(l.as_str()) == level.as_deref())
            {
                app.level = level;
            }
        }
        app
    }

    /// The app with `paths` queued to open on the first frame (none: the empty state).
    pub fn with_paths(paths: Vec<PathBuf>) -> Self {
        let mut app = Self {
            level: Level::Service,
            ..Self::default()
        };
        if !paths.is_empty() {
            app.pending.push(Action::Open(paths));
        }
        app
    }

    /// How the next loads read (block size, when a first picture is drawn).
    pub fn set_load_options(&mut self, options: LoadOptions) {
        self.load_options = options;
    }

    /// Whether the graph on screen is a first picture of a load still reading.
    pub fn showing_preview(&self) -> bool {
        self.before_load.is_some()
    }

    /// Queues an action, applied at the end of the next frame (as if a panel had asked).
    pub fn push_action(&mut self, action: Action) {
        self.pending.push(action);
    }

    /// The level shown.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether a load, a dialog or an export is still running.
    pub fn is_busy(&self) -> bool {
        self.loader.is_some() || self.dialog.is_some() || self.export.is_some()
    }

    /// The loaded model.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// What is selected (at the current level).
    pub fn selected(&self) -> Option<Selection> {
        self.selected
    }

    /// The selected node (graph index at the current level).
    pub fn selected_node(&self) -> Option<u32> {
        match self.selected {
            Some(Selection::Node(n)) => Some(n),
            _ => None,
        }
    }

    /// The selected edge (graph edge index at the current level).
    pub fn selected_edge(&self) -> Option<u32> {
        match self.selected {
            Some(Selection::Edge(e)) => Some(e),
            _ => None,
        }
    }

    /// `view` showing the selection.
    fn with_selection(&self, view: View) -> View {
        let s = self.selected;
        View {
            selected: self.selected_node(),
            selected_edge: self.selected_edge(),
            selected_group: match s {
                Some(Selection::Group(key)) => Some(key),
                _ => None,
            },
            selected_sum: match s {
                Some(Selection::Sum(ends)) => Some(ends),
                _ => None,
            },
            ..view
        }
    }

    /// The nodes the user pinned, sorted.
    pub fn pinned(&self) -> Vec<u32> {
        self.layout.pinned()
    }

    /// Layout positions at the current level, by node index.
    pub fn positions(&self) -> &[[f32; 2]] {
        self.layout.positions()
    }

    /// The collapsed regions and zones, sorted.
    pub fn collapsed(&self) -> &[GroupKey] {
        &self.collapsed
    }

    /// The waterfall panel.
    pub fn waterfall(&self) -> &Waterfall {
        &self.waterfall
    }

    /// The graph canvas.
    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    /// The failure banner's text.
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_deref()
    }

    /// The status bar's contents.
    pub fn status(&self) -> Status {
        let graph = self.model.as_ref().and_then(|m| m.graph(self.level));
        let nodes = graph.map_or(0, |g| g.graph.node_count());
        Status {
            files: self.model.as_ref().map_or(0, |m| m.files.len()),
            spans: self.model.as_ref().map_or(0, |m| m.store.spans().len()),
            traces: self.model.as_ref().map_or(0, |m| m.traces.len()),
            nodes,
            visible_nodes: self.canvas.scene().map_or(nodes, |s| s.nodes.len()),
            edges: graph.map_or(0, |g| g.graph.edge_count()),
            level: self.level,
            layout: self.layout.describe(),
            loading: self.loader.as_ref().map(|(l, _)| l.progress()),
            live: self.live.as_ref().map(LiveSource::status),
            notice: self.notice.clone(),
        }
    }

    /// One frame: every panel, then the actions they returned.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let mut actions = std::mem::take(&mut self.pending);
        self.poll_background(&mut actions, &ctx);
        keys(ui, &mut actions, &mut self.filter_bar);
        let dropped: Vec<PathBuf> = ui.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            actions.push(Action::Open(dropped));
        }

        egui::Panel::top("menu").show(ui, |ui| {
            self.menu_ui(ui, &mut actions);
            actions.extend(self.filter_bar.ui(ui));
        });
        if let Some(banner) = &self.banner {
            egui::Panel::top("banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(ui.visuals().error_fg_color, banner);
                    if ui.button("Dismiss").clicked() {
                        actions.push(Action::DismissBanner);
                    }
                });
            });
        }
        let status = self.status();
        egui::Panel::bottom("status").show(ui, |ui| {
            actions.extend(self.status_bar.ui(ui, &status));
        });
        if self.waterfall.trace().is_some() {
            egui::Panel::bottom("waterfall")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| actions.extend(self.waterfall.ui(ui)));
        }
        if let Some(model) = &self.model {
            egui::Panel::left("traces")
                .resizable(true)
                .default_size(420.0)
                .show(ui, |ui| {
                    actions.extend(self.trace_list.ui(
                        ui,
                        &model.traces,
                        self.selected_trace,
                        self.model_generation,
                        self.trace_subset.as_ref(),
                    ));
                });
            egui::Panel::right("inspector")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| {
                    actions.extend(self.inspector.ui(
                        ui,
                        model.graph(self.level),
                        &model.store.data.interner,
                        self.selected,
                    ));
                    ui.separator();
                    warnings_ui(ui, model, &self.failures);
                });
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            self.central_ui(ui, &mut actions);
        });

        for action in actions {
            self.apply(action, &ctx);
        }
        if self.layout.is_running() {
            ctx.request_repaint();
        }
    }

    fn menu_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…").clicked() {
                    actions.push(Action::OpenDialog { folder: false });
                }
                if ui.button("Open folder…").clicked() {
                    actions.push(Action::OpenDialog { folder: true });
                }
                ui.menu_button("Open recent", |ui| {
                    if self.recent.is_empty() {
                        ui.weak("Nothing opened yet");
                    }
                    for p in &self.recent {
                        if ui.button(p.display().to_string()).clicked() {
                            actions.push(Action::Open(vec![p.clone()]));
                        }
                    }
                });
                if ui.button("Export PNG…").clicked() {
                    actions.push(Action::ExportDialog { whole: false });
                }
                if ui.button("Export whole graph as PNG…").clicked() {
                    actions.push(Action::ExportDialog { whole: true });
                }
                if ui.button("Close all").clicked() {
                    actions.push(Action::CloseAll);
                }
            });
            ui.separator();
            ui.label("Level");
            for (k, level) in Level::ALL.iter().enumerate() {
                let name = match level {
                    Level::Instance => "Instance",
                    Level::Service => "Service",
                    Level::Zone => "Zone",
                    Level::Region => "Region",
                };
                if ui
                    .selectable_label(self.level == *level, name)
                    .on_hover_text(format!("Key {}", k + 1))
                    .clicked()
                {
                    actions.push(Action::SetLevel(*level));
                }
            }
            ui.separator();
            if ui.button("Fit").on_hover_text("Key F").clicked() {
                actions.push(Action::Fit);
            }
            ui.menu_button("Export PNG…", |ui| {
                if ui
                    .button("The view…")
                    .on_hover_text("What the canvas shows now (Ctrl+E)")
                    .clicked()
                {
                    actions.push(Action::ExportDialog { whole: false });
                }
                if ui
                    .button("The whole graph…")
                    .on_hover_text("Everything visible, fitted, at the canvas's size")
                    .clicked()
                {
                    actions.push(Action::ExportDialog { whole: true });
                }
            });
        });
    }

    fn central_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let dropping = ui.input(|i| !i.raw.hovered_files.is_empty());
        match &self.model {
            Some(model) => {
                if let Some(graph) = model.graph(self.level) {
                    let stamp = self.stamp(model);
                    let input = CanvasInput {
                        graph,
                        interner: &model.store.data.interner,
                        positions: self.layout.positions(),
                        layout_generation: self.layout.generation(),
                        model_generation: self.model_generation,
                        view: self.with_selection(View {
                            filter: self.filter.clone(),
                            highlight: self.highlight.clone(),
                            pinned: self.layout.pinned(),
                            collapsed: self.collapsed.clone(),
                            legend: true,
                            ..View::default()
                        }),
                        stamp,
                    };
                    actions.extend(self.canvas.ui(ui, &input));
                }
            }
            None => empty_state_ui(ui, &self.recent, self.loader.is_some(), actions),
        }
        if dropping {
            let rect = ui.max_rect();
            let style = Style::new(if ui.visuals().dark_mode {
                Theme::Dark
            } else {
                Theme::Light
            });
            let painter = ui.painter();
            painter.rect_filled(rect, 0.0, color32(style.panel.alpha(200)));
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                "Drop to open",
                egui::FontId::proportional(28.0),
                color32(style.text),
            );
        }
    }

    /// Takes in what background threads finished.
    fn poll_background(&mut self, actions: &mut Vec<Action>, ctx: &egui::Context) {
        if let Some((loader, _)) = &self.loader {
            if let Some(outcome) = loader.poll() {
                self.loader = None;
                self.finish_load(outcome, ctx);
            } else if let Some(preview) = loader.take_preview() {
                self.show_preview(preview, ctx);
            }
        }
        if let Some(rx) = &self.dialog {
            match rx.try_recv() {
                Ok(result) => {
                    self.dialog = None;
                    match result {
                        DialogResult::Open(Some(paths)) if !paths.is_empty() => {
                            actions.push(Action::Open(paths));
                        }
                        DialogResult::Save(Some(path), whole) => actions.push(if whole {
                            Action::ExportWholePng(path)
                        } else {
                            Action::ExportPng(path)
                        }),
                        DialogResult::Open(_) | DialogResult::Save(None, _) => {
                            self.notice = Some(
                                "No file chosen. If no dialog appeared, this system has no file dialog: drop files on the window or pass them on the command line"
                                    .to_owned(),
                            );
                        }
                    }
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.dialog = None,
            }
        }
        if let Some(rx) = &self.export {
            match rx.try_recv() {
                Ok(Ok(path)) => {
                    self.export = None;
                    self.notice = Some(format!("Exported {}", path.display()));
                }
                Ok(Err(e)) => {
                    self.export = None;
                    self.banner = Some(format!("Export failed: {e}"));
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.export = None,
            }
        }
        if let Some(model) = self.live.as_ref().and_then(LiveSource::take_model) {
            self.show_live_model(model, ctx);
        }
        // New positions bump the layout's generation; the canvas rebuilds its scene from it.
        self.layout.poll();
    }

    fn finish_load(&mut self, outcome: LoadOutcome, ctx: &egui::Context) {
        let LoadOutcome {
            model,
            failures,
            cancelled,
        } = outcome;
        if let Some(first) = failures.first() {
            let more = if failures.len() > 1 {
                format!(" (and {} more)", failures.len() - 1)
            } else {
                String::new()
            };
            self.banner = Some(format!(
                "Could not read {}: {}{more}",
                first.path.display(),
                first.reason
            ));
        }
        self.failures = failures;
        if cancelled {
            self.restore_before_load(ctx);
            self.notice = Some("Loading cancelled".to_owned());
            return;
        }
        let Some(model) = model else {
            self.restore_before_load(ctx);
            if self.banner.is_none() {
                self.banner = Some("Nothing to show: no trace files were found".to_owned());
            }
            return;
        };
        self.notice = None;
        if self.before_load.take().is_some() {
            // The first picture grows into the whole graph in place.
            self.show_live_model(model, ctx);
            return;
        }
        self.remember_pins();
        self.model = Some(model);
        self.model_generation += 1;
        self.select_node(None);
        self.selected_trace = None;
        self.highlight = Highlight::default();
        self.waterfall.clear();
        self.restart_layout(ctx);
        self.canvas.fit();
    }

    /// Shows a load's first picture in place of what was on screen (kept, to come back if the
    /// load is cancelled).
    fn show_preview(&mut self, model: Model, ctx: &egui::Context) {
        if self.before_load.is_none() {
            self.remember_pins();
            let positions = match &self.model {
                Some(old) => old
                    .graph(self.level)
                    .map(|g| self.layout.named_positions(g, &old.store.data.interner))
                    .unwrap_or_default(),
                None => NamedPositions::default(),
            };
            self.before_load = Some(BeforeLoad {
                model: self.model.take(),
                positions,
                camera: self.canvas.camera(),
            });
            self.selected = None;
            self.selected_trace = None;
        }
        self.canvas.fit();
        self.show_live_model(model, ctx);
    }

    /// Puts back what was on screen before a load's first picture (nothing, if nothing was).
    fn restore_before_load(&mut self, ctx: &egui::Context) {
        let Some(before) = self.before_load.take() else {
            return;
        };
        self.model = None;
        self.layout = LayoutState::default();
        self.select(None);
        self.selected_trace = None;
        self.waterfall.clear();
        self.model_generation += 1;
        if let Some(model) = before.model {
            self.install_model(model, &before.positions, None, None, ctx);
        }
        self.canvas.set_camera(before.camera);
    }

    /// Shows a newer model of the watched directories: the level, the view, the selected node
    /// and trace stay; nodes already placed keep their places and new ones enter beside their
    /// neighbours.
    fn show_live_model(&mut self, model: Model, ctx: &egui::Context) {
        let first = self.model.is_none();
        self.remember_pins();
        let (previous, node_name, trace_id) = match &self.model {
            Some(old) => {
                let interner = &old.store.data.interner;
                let graph = old.graph(self.level);
                let previous = graph
                    .map(|g| self.layout.named_positions(g, interner))
                    .unwrap_or_default();
                let node_name = self.selected_node().and_then(|n| {
                    let w = graph?
                        .graph
                        .node_weight(petgraph::stable_graph::NodeIndex::new(n as usize))?;
                    Some(interner.resolve(w.name).to_owned())
                });
                let trace_id = self
                    .selected_trace
                    .and_then(|t| old.traces.get(t))
                    .map(|r| r.id.clone());
                (previous, node_name, trace_id)
            }
            None => Default::default(),
        };
        self.install_model(model, &previous, node_name, trace_id, ctx);
        if first {
            self.canvas.fit();
        }
    }

    /// Shows `model` with its nodes at `previous` positions where named there (new ones beside
    /// their neighbours), selecting the node and trace named, if they are still there.
    fn install_model(
        &mut self,
        model: Model,
        previous: &NamedPositions,
        node_name: Option<String>,
        trace_id: Option<String>,
        ctx: &egui::Context,
    ) {
        self.model = Some(model);
        self.model_generation += 1;
        let Some(model) = &self.model else {
            return;
        };
        let interner = &model.store.data.interner;
        let node = node_name.and_then(|name| {
            let graph = model.graph(self.level)?;
            let sym = interner.get(&name)?;
            graph.index.get(&sym).map(|n| n.index() as u32)
        });
        let trace = trace_id.and_then(|id| model.traces.iter().position(|r| r.id == id));
        self.layout = LayoutState::default();
        self.layout = model
            .graph(self.level)
            .map_or_else(LayoutState::default, |g| {
                let ctx = ctx.clone();
                LayoutState::start_with_previous(g, interner, previous, move || {
                    ctx.request_repaint();
                })
            });
        self.restore_pins();
        // A selected region or zone stays selected (its symbols stay as the store grows).
        match self.selected {
            Some(group @ Selection::Group(_)) => self.select(Some(group)),
            _ => self.select_node(node),
        }
        self.selected_trace = trace;
        match (trace, &self.model) {
            (Some(t), Some(model)) => self.waterfall.show_trace(&model.store, t),
            _ => self.waterfall.clear(),
        }
        self.relight();
    }

    fn restart_layout(&mut self, ctx: &egui::Context) {
        // The old worker stops (and is joined) when it is dropped here.
        self.layout = LayoutState::default();
        self.layout = match &self.model {
            Some(model) => model
                .graph(self.level)
                .map_or_else(LayoutState::default, |g| {
                    let ctx = ctx.clone();
                    LayoutState::start(g, &model.store.data.interner, move || {
                        ctx.request_repaint();
                    })
                }),
            None => LayoutState::default(),
        };
        self.restore_pins();
    }

    /// Keeps the current level's pins by node name (in [`FlowscopeApp::pins`]), before the
    /// level, the model or the layout changes.
    fn remember_pins(&mut self) {
        let Some(model) = &self.model else { return };
        let Some(graph) = model.graph(self.level) else {
            return;
        };
        let interner = &model.store.data.interner;
        let level = self.level;
        self.pins.retain(|(l, _), _| *l != level);
        for (node, pos) in self.layout.pins() {
            let n = petgraph::stable_graph::NodeIndex::new(node as usize);
            if let Some(w) = graph.graph.node_weight(n) {
                self.pins
                    .insert((level, interner.resolve(w.name).to_owned()), pos);
            }
        }
    }

    /// Pins again, in a new layout, the nodes of the current level pinned before by name.
    fn restore_pins(&mut self) {
        let Some(model) = &self.model else { return };
        let Some(graph) = model.graph(self.level) else {
            return;
        };
        let interner = &model.store.data.interner;
        let again: Vec<(u32, [f32; 2])> = self
            .pins
            .iter()
            .filter(|((level, _), _)| *level == self.level)
            .filter_map(|((_, name), &pos)| {
                let n = graph.index.get(&interner.get(name)?)?;
                Some((n.index() as u32, pos))
            })
            .collect();
        for (node, pos) in again {
            self.layout.pin(node, pos);
        }
    }

    /// Whether the layout is still moving nodes.
    pub fn layout_running(&self) -> bool {
        self.layout.is_running()
    }

    fn spawn_dialog(
        &mut self,
        ctx: &egui::Context,
        job: impl FnOnce() -> DialogResult + Send + 'static,
    ) {
        let (tx, rx) = sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("file_dialog".into())
            .spawn(move || {
                tx.send(job()).ok();
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.dialog = Some(rx),
            Err(e) => self.banner = Some(format!("Cannot open a dialog: {e}")),
        }
    }

    /// Applies one action.
    fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Open(paths) => self.open(paths, ctx),
            Action::OpenDialog { folder } => {
                if self.dialog.is_none() {
                    self.spawn_dialog(ctx, move || {
                        let dialog = rfd::FileDialog::new().set_title("Open traces");
                        DialogResult::Open(if folder {
                            dialog.pick_folder().map(|p| vec![p])
                        } else {
                            dialog
                                .add_filter("Trace files", &["json", "jsonl", "ndjson"])
                                .pick_files()
                        })
                    });
                }
            }
            Action::CancelLoad => {
                // Dropping the loader stops its threads; what was on screen before comes back.
                if let Some((loader, _)) = self.loader.take() {
                    loader.cancel();
                    self.restore_before_load(ctx);
                    self.notice = Some("Loading cancelled".to_owned());
                }
            }
            Action::CloseAll => {
                let recent = std::mem::take(&mut self.recent);
                *self = Self {
                    level: self.level,
                    recent,
                    ..Self::default()
                };
            }
            Action::SetLevel(level) => {
                if level != self.level {
                    self.remember_pins();
                    self.level = level;
                    self.select_node(None);
                    self.restart_layout(ctx);
                    self.relight();
                    self.canvas.fit();
                }
            }
            Action::SetFilter(text) => {
                if let Ok(filter) = Filter::parse(&text) {
                    self.filter = filter;
                    self.filter_text = text;
                }
            }
            Action::Search(text) => self.search(&text),
            Action::SelectNode(node) => self.select_node(node),
            Action::SelectEdge(edge) => self.select_edge(edge),
            Action::SelectGroup(key) => self.select(Some(Selection::Group(key))),
            Action::SelectSum(ends) => self.select(Some(Selection::Sum(ends))),
            Action::PinNode(node, pos) => self.layout.pin(node, pos),
            Action::UnpinNode(node) => self.layout.unpin(node),
            Action::UnpinAll => self.layout.unpin_all(),
            Action::ToggleCollapse(key) => {
                match self.collapsed.binary_search(&key) {
                    Ok(i) => {
                        self.collapsed.remove(i);
                    }
                    Err(i) => self.collapsed.insert(i, key),
                }
                // A selected group or summed edge is no longer drawn the same way.
                if matches!(self.selected, Some(Selection::Group(_) | Selection::Sum(_))) {
                    self.select(None);
                }
            }
            Action::SelectTrace(trace) => {
                self.selected_trace = trace;
                match (trace, &self.model) {
                    (Some(t), Some(model)) => self.waterfall.show_trace(&model.store, t),
                    _ => self.waterfall.clear(),
                }
                self.relight();
            }
            Action::Fit => self.canvas.fit(),
            Action::ExportDialog { whole } => {
                if self.dialog.is_none() {
                    self.spawn_dialog(ctx, move || {
                        DialogResult::Save(
                            rfd::FileDialog::new()
                                .set_title(if whole {
                                    "Export the whole graph as PNG"
                                } else {
                                    "Export the view as PNG"
                                })
                                .set_file_name("flowscope.png")
                                .add_filter("PNG image", &["png"])
                                .save_file(),
                            whole,
                        )
                    });
                }
            }
            Action::ExportPng(path) => {
                let scene = self.canvas.scene().cloned();
                self.export_png(scene, path, ctx);
            }
            Action::ExportWholePng(path) => {
                let scene = self.whole_scene();
                self.export_png(scene, path, ctx);
            }
            Action::DismissBanner => self.banner = None,
            Action::ToggleLivePause => {
                if let Some(live) = &self.live {
                    live.set_paused(!live.is_paused());
                }
            }
        }
    }

    fn open(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        for p in &paths {
            self.recent.retain(|r| r != p);
            self.recent.insert(0, p.clone());
        }
        self.recent.truncate(MAX_RECENT);
        // Merge with what is loaded (and what is loading): read them all again, together.
        let mut all: Vec<PathBuf> = self
            .model
            .as_ref()
            .map(|m| m.paths.clone())
            .unwrap_or_default();
        if let Some((loader, loading)) = self.loader.take() {
            loader.cancel();
            all.extend(loading);
        }
        if let Some(live) = self.live.take() {
            all.extend(live.paths().iter().cloned());
        }
        let mut unique: Vec<PathBuf> = Vec::new();
        for p in all.into_iter().chain(paths) {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        let all = unique;
        let wake = {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        // A directory is watched: what is in it now, then what is written into it.
        if all.iter().any(|p| p.is_dir()) {
            match LiveSource::start(all, wake) {
                Ok(live) => {
                    self.banner = None;
                    self.model = None;
                    self.live = Some(live);
                }
                Err(e) => self.banner = Some(format!("Cannot start watching: {e}")),
            }
            return;
        }
        match Loader::start_with(all.clone(), self.load_options, wake) {
            Ok(loader) => {
                self.banner = None;
                self.loader = Some((loader, all));
            }
            Err(e) => self.banner = Some(format!("Cannot start loading: {e}")),
        }
    }

    /// Selects a node and narrows the trace list to the traces whose spans run on it or call
    /// through it (at the current level: by instance, service, zone or region).
    fn select_node(&mut self, node: Option<u32>) {
        self.select(node.map(Selection::Node));
    }

    /// Selects an edge and narrows the trace list to the traces that cross it.
    fn select_edge(&mut self, edge: Option<u32>) {
        self.select(edge.map(Selection::Edge));
    }

    /// Selects a node, an edge, a collapsed group (the traces through any member are listed) or
    /// a summed edge (the traces across any edge it sums), or nothing.
    fn select(&mut self, selection: Option<Selection>) {
        self.selected = selection;
        self.narrow(selection);
    }

    /// Narrows the trace list to the traces through a node or across an edge.
    fn narrow(&mut self, selection: Option<Selection>) {
        let generation = self.trace_subset.as_ref().map_or(0, |s| s.generation) + 1;
        self.trace_subset = None;
        let (Some(selection), Some(model)) = (selection, &self.model) else {
            return;
        };
        let Some(graph) = model.graph(self.level) else {
            return;
        };
        let interner = &model.store.data.interner;
        let g = &graph.graph;
        let name = |n: petgraph::stable_graph::NodeIndex| {
            g.node_weight(n).map_or("?", |i| interner.resolve(i.name))
        };
        let level = self.level.as_str();
        // The nodes or edges a trace must touch (any of them), sorted.
        let (label, nodes, edges): (String, Vec<u32>, Vec<u32>) = match selection {
            Selection::Node(node) => {
                let n = petgraph::stable_graph::NodeIndex::new(node as usize);
                if g.node_weight(n).is_none() {
                    return;
                }
                (format!("through {level} {}", name(n)), vec![node], vec![])
            }
            Selection::Edge(edge) => {
                let e = petgraph::stable_graph::EdgeIndex::new(edge as usize);
                let Some((a, b)) = g.edge_endpoints(e) else {
                    return;
                };
                (
                    format!("across {} → {}", name(a), name(b)),
                    vec![],
                    vec![edge],
                )
            }
            Selection::Group(key) => (
                {
                    // "through zone zoneA of us-east-1": the name, lower-cased where it starts.
                    let name = inspector::group_name(interner, key);
                    let mut chars = name.chars();
                    let first = chars.next().map(|c| c.to_lowercase().to_string());
                    format!("through {}{}", first.unwrap_or_default(), chars.as_str())
                },
                scene::pick::members(graph, key),
                vec![],
            ),
            Selection::Sum(ends) => (
                format!(
                    "across {} → {}",
                    inspector::end_name(graph, interner, ends[0]),
                    inspector::end_name(graph, interner, ends[1])
                ),
                vec![],
                scene::pick::summed_edges(graph, ends),
            ),
        };
        let any_of =
            |wanted: &[u32], have: &[u32]| wanted.iter().any(|x| have.binary_search(x).is_ok());
        let members = &graph.trace_members;
        let rows = model
            .traces
            .iter()
            .map(|r| {
                any_of(&nodes, members.nodes(r.index)) || any_of(&edges, members.edges(r.index))
            })
            .collect();
        self.trace_subset = Some(TraceSubset {
            label,
            rows,
            generation,
        });
    }

    /// The whole graph as the canvas would draw it fitted, at the canvas's size: what
    /// "Export PNG… → The whole graph" writes.
    pub fn whole_scene(&self) -> Option<scene::Scene> {
        let model = self.model.as_ref()?;
        let graph = model.graph(self.level)?;
        let shown = self.canvas.scene()?;
        let view = self.with_selection(View {
            size: shown.size,
            theme: shown.style.theme,
            filter: self.filter.clone(),
            highlight: self.highlight.clone(),
            pinned: self.layout.pinned(),
            collapsed: self.collapsed.clone(),
            camera: None,
            legend: true,
            ..View::default()
        });
        let stamp = self.stamp(model);
        Some(scene::build(&scene::SceneRequest {
            graph,
            interner: &model.store.data.interner,
            positions: self.layout.positions(),
            view: &view,
            stamp: &stamp,
            measure: &png::measure,
        }))
    }

    /// Lights the selected trace's path at the current level.
    fn relight(&mut self) {
        self.highlight = match (self.selected_trace, &mut self.model) {
            (Some(t), Some(model)) => flow_path(&mut model.store, self.level, t),
            _ => Highlight::default(),
        };
    }

    fn search(&mut self, text: &str) {
        let Some(model) = &self.model else {
            return;
        };
        let Some(graph) = model.graph(self.level) else {
            return;
        };
        let needle = text.to_lowercase();
        let interner = &model.store.data.interner;
        let mut hits: Vec<(bool, &str, u32)> = graph
            .graph
            .node_indices()
            .filter_map(|n| {
                let name = interner.resolve(graph.graph.node_weight(n)?.name);
                let lower = name.to_lowercase();
                lower
                    .contains(&needle)
                    .then_some((lower != needle, name, n.index() as u32))
            })
            .collect();
        // Exact matches first, then by name.
        hits.sort_unstable();
        let Some(&(_, _, node)) = hits.first() else {
            self.notice = Some(format!("No node matches {text}"));
            return;
        };
        let position = self.layout.positions().get(node as usize).copied();
        self.select_node(Some(node));
        if let Some(p) = position {
            self.canvas.center_on(p);
        }
        self.notice = None;
    }

    fn export_png(&mut self, scene: Option<scene::Scene>, path: PathBuf, ctx: &egui::Context) {
        let Some(scene) = scene else {
            self.banner = Some("Nothing to export: open a trace file first".to_owned());
            return;
        };
        let (tx, rx) = sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("export_png".into())
            .spawn(move || {
                let result = png::write(&scene, &path, true)
                    .map(|()| path)
                    .map_err(|e| e.to_string());
                tx.send(result).ok();
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.export = Some(rx),
            Err(e) => self.banner = Some(format!("Cannot export: {e}")),
        }
    }
}

/// Keyboard shortcuts that work anywhere in the window.
fn keys(ui: &egui::Ui, actions: &mut Vec<Action>, filter_bar: &mut FilterBar) {
    let command = |key| KeyboardShortcut::new(Modifiers::COMMAND, key);
    let command_shift = |key| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, key);
    let typing = ui.ctx().egui_wants_keyboard_input();
    ui.input_mut(|i| {
        if i.consume_shortcut(&command_shift(Key::O)) {
            actions.push(Action::OpenDialog { folder: true });
        }
        if i.consume_shortcut(&command(Key::O)) {
            actions.push(Action::OpenDialog { folder: false });
        }
        if i.consume_shortcut(&command(Key::E)) {
            actions.push(Action::ExportDialog { whole: false });
        }
        if i.consume_shortcut(&command(Key::F)) {
            filter_bar.focus_search();
        }
        if typing {
            return;
        }
        for (key, level) in [Key::Num1, Key::Num2, Key::Num3, Key::Num4]
            .into_iter()
            .zip(Level::ALL)
        {
            if i.consume_key(Modifiers::NONE, key) {
                actions.push(Action::SetLevel(level));
            }
        }
        if i.consume_key(Modifiers::NONE, Key::Escape) {
            actions.push(Action::SelectNode(None));
            actions.push(Action::SelectTrace(None));
        }
    });
}

/// What the window shows before anything is open.
fn empty_state_ui(ui: &mut egui::Ui, recent: &[PathBuf], loading: bool, actions: &mut Vec<Action>) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.3).max(20.0));
        if loading {
            ui.heading("Loading…");
            ui.spinner();
            return;
        }
        ui.heading("Open trace files to see their flows");
        ui.add_space(8.0);
        ui.label("Zipkin, Jaeger, OTLP and Spigo JSON files, or folders of them");
        ui.label("Press Ctrl+O, drop files or folders on this window, or run flowscope PATH…");
        ui.add_space(12.0);
        ui.horizontal(|ui| {
            let width = 240.0;
            ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
            if ui.button("Open…").clicked() {
                actions.push(Action::OpenDialog { folder: false });
            }
            if ui.button("Open folder…").clicked() {
                actions.push(Action::OpenDialog { folder: true });
            }
        });
        if !recent.is_empty() {
            ui.add_space(16.0);
            ui.label("Recent");
            for p in recent {
                if ui.link(p.display().to_string()).clicked() {
                    actions.push(Action::Open(vec![p.clone()]));
                }
            }
        }
    });
}

/// Files read, their warnings, and files that could not be read.
fn warnings_ui(ui: &mut egui::Ui, model: &Model, failures: &[LoadFailure]) {
    let total: u64 = model.files.iter().map(|f| f.warning_count).sum();
    egui::CollapsingHeader::new(format!("Files ({}), warnings ({total})", model.files.len()))
        .default_open(total > 0 || !failures.is_empty())
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    for f in failures {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            format!("{}: {}", f.path.display(), f.reason),
                        );
                    }
                    for f in &model.files {
                        let name = f.path.file_name().map_or_else(
                            || f.path.display().to_string(),
                            |n| n.to_string_lossy().into_owned(),
                        );
                        ui.label(format!(
                            "{name} · {} · {} bytes",
                            f.format.as_str(),
                            f.bytes
                        ));
                        for w in &f.warnings {
                            ui.weak(format!("  {w}"));
                        }
                    }
                });
        });
}

impl eframe::App for FlowscopeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        FlowscopeApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, RECENT_KEY, &self.recent);
        eframe::set_value(storage, LEVEL_KEY, &self.level.as_str());
    }
}

/// Sets up an egui context as the window uses it: fonts with arrows, no per-frame bounds check
/// of the canvas's big meshes, and freed frame buffers kept ([`super::paint::keep_frame_memory`]).
///
/// - egui's proportional font lacks arrows (`→` in "api → api-elb" drew as a box): the bundled
///   monospace font, which has them, is added after it as a fallback.
/// - Coarse culling computes every mesh's bounds before copying it, each frame: a pass over all
///   the canvas's vertices (an eighth of a frame at 10k nodes) to skip what the canvas never
///   has off-screen.
pub fn configure(ctx: &egui::Context) {
    super::paint::keep_frame_memory();
    ctx.tessellation_options_mut(|o| o.coarse_tessellation_culling = false);
    let mut fonts = egui::FontDefinitions::default();
    let mono = fonts
        .families
        .get(&egui::FontFamily::Monospace)
        .and_then(|m| m.first())
        .cloned();
    if let (Some(mono), Some(proportional)) = (
        mono,
        fonts.families.get_mut(&egui::FontFamily::Proportional),
    ) && !proportional.contains(&mono)
    {
        proportional.push(mono);
    }
    ctx.set_fonts(fonts);
}
