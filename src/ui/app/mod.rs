//! [`FlowscopeApp`]: the eframe app. Lays out the panels, collects their actions and applies them at the end of the frame; owns the loader, dialog and export threads.

mod apply;
mod chrome;
mod compare;
mod load;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use super::actions::Action;
use super::canvas::Canvas;
use super::filter_bar::FilterBar;
use super::inspector::{Inspector, Selection};
use super::layout_state::{LayoutState, NamedPositions};
use super::live::LiveSource;
use super::loader::{LoadFailure, LoadOptions, Loader};
use super::model::Model;
use super::status_bar::{Status, StatusBar};
use super::timeline::TimelineStrip;
use super::trace_list::{TraceList, TraceSubset};
use super::waterfall::Waterfall;
use crate::derive::filter::Filter;
use crate::model::Level;
use crate::render::png;
use crate::scene::{self, Camera, GroupKey, Highlight, Stamp, View};
use chrome::{keys, warnings_ui};

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
    /// A baseline to compare with, or `None`.
    Compare(Option<Vec<PathBuf>>),
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
    /// An aggregate's trace being read from its spans table.
    trace_reading: Option<TraceReading>,
    /// The aggregate's trace last read, while it is the one selected.
    read_trace: Option<ReadTrace>,
    highlight: Highlight,
    canvas: Canvas,
    filter_bar: FilterBar,
    status_bar: StatusBar,
    trace_list: TraceList,
    trace_subset: Option<TraceSubset>,
    waterfall: Waterfall,
    timeline: TimelineStrip,
    /// The time window shown, `[from, to)` epoch µs; `None`: every trace.
    window: Option<(i64, i64)>,
    /// The model of every trace while a window's model is shown.
    full: Option<Model>,
    /// A window's model being derived.
    windowing: Option<Receiver<Model>>,
    /// The comparison with a baseline, while comparing.
    compare: Option<compare::Compare>,
    /// A baseline being read and compared.
    comparing: Option<compare::Comparing>,
    /// A baseline to compare with once the load that is running ends.
    queued_compare: Option<Vec<PathBuf>>,
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

/// What the `trace reader` thread hands back: the trace's store and its index there, or why not.
type TraceRead = Result<(crate::model::TraceStore, usize), String>;

/// An aggregate's trace being read on the `trace reader` thread.
struct TraceReading {
    /// The model it is read for ([`FlowscopeApp::model_generation`]).
    generation: u64,
    /// Its index in the trace list's model.
    trace: usize,
    result: Receiver<TraceRead>,
}

/// An aggregate's trace, read: its own store (on the model's strings) and its index there.
struct ReadTrace {
    generation: u64,
    trace: usize,
    store: crate::model::TraceStore,
    index: usize,
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
        // While comparing, the stamp names what is loaded and the baseline, whichever is shown.
        let files = match &self.compare {
            Some(c) => c.after_labels(),
            None if let Some(a) = &model.aggregate => vec![format!(
                "{} (aggregate of {} files)",
                Stamp::file_label(&a.dir),
                a.inputs.len()
            )],
            None => model
                .files
                .iter()
                .map(|f| Stamp::file_label(&f.path))
                .collect(),
        };
        Stamp {
            files,
            level: self.level,
            filter: self.filter_text.clone(),
            time_range: model.time_range,
            trace: self.selected_trace.and_then(|t| model.trace_id(t)),
            baseline: self
                .compare
                .as_ref()
                .map(compare::Compare::stamp_labels)
                .unwrap_or_default(),
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

    /// Compares what the next load reads with `baseline` once it is read (nothing when empty):
    /// `flowscope AFTER --against BEFORE`.
    pub fn compare_once_loaded(&mut self, baseline: Vec<PathBuf>) {
        self.queued_compare = (!baseline.is_empty()).then_some(baseline);
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
        self.loader.is_some()
            || self.dialog.is_some()
            || self.export.is_some()
            || self.windowing.is_some()
            || self.comparing.is_some()
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
        // The difference has no traces of its own: it counts what is loaded.
        let counted = self
            .compare
            .as_ref()
            .and_then(compare::Compare::counted)
            .or(self.model.as_ref());
        Status {
            files: counted.map_or(0, |m| {
                m.aggregate
                    .as_ref()
                    .map_or(m.files.len(), |a| a.inputs.len())
            }),
            spans: counted.map_or(0, |m| usize::try_from(m.span_count()).unwrap_or(usize::MAX)),
            traces: counted.map_or(0, |m| m.traces.len()),
            of_traces: self.window.and(self.full.as_ref()).map(|m| m.traces.len()),
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
        if self.compare.is_some() || self.comparing.is_some() {
            egui::Panel::top("compare").show(ui, |ui| self.compare_ui(ui, &mut actions));
        }
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
        // The strip shows every trace's time, also while a window of it is shown.
        if let Some(histogram) = self
            .full
            .as_ref()
            .or(self.model.as_ref())
            .and_then(|m| m.timeline.as_ref())
            .filter(|h| h.end > h.start)
        {
            let window = self.window;
            let busy = self.windowing.is_some();
            let live = self.live.is_some();
            egui::Panel::bottom("timeline").show(ui, |ui| {
                actions.extend(self.timeline.ui(ui, histogram, window, busy, live));
            });
        }
        let change_lines = self.change_lines();
        if let Some(model) = &self.model {
            egui::Panel::left("traces")
                .resizable(true)
                .default_size(450.0)
                .show(ui, |ui| {
                    actions.extend(self.trace_list.ui(
                        ui,
                        model,
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
                        model.graph(self.level).map(AsRef::as_ref),
                        &model.store.data.interner,
                        self.selected,
                        &change_lines,
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

    /// Whether the timeline's window follows the newest minute of a live tail.
    pub fn timeline_following(&self) -> bool {
        self.timeline.following()
    }

    /// Whether the timeline is replaying the run.
    pub fn replaying(&self) -> bool {
        self.timeline.playing()
    }

    /// The time window asked for, if any (its graph is on screen once [`Self::is_busy`] is
    /// false).
    pub fn window(&self) -> Option<(i64, i64)> {
        self.window
    }

    /// What the canvas shows of a comparison with a baseline; `None` when not comparing.
    pub fn compare_view(&self) -> Option<crate::ui::actions::CompareView> {
        self.compare.as_ref().map(|c| c.view)
    }

    /// The difference from the baseline at the level shown, while comparing.
    pub fn difference(&self) -> Option<&crate::derive::diff::GraphDiff> {
        self.compare.as_ref()?.diff(self.level).map(AsRef::as_ref)
    }

    /// Whether the layout is still moving nodes.
    pub fn layout_running(&self) -> bool {
        self.layout.is_running()
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
            compared: self.compared(),
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
