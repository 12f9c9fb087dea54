//! Loading: polling the loader, dialog and export threads, installing a model, the layout restart and the pins that outlive it.

use super::BeforeLoad;
use super::DialogResult;
use super::FlowscopeApp;
use super::MAX_RECENT;
use crate::scene::Highlight;
use crate::ui::actions::Action;
use crate::ui::inspector::Selection;
use crate::ui::layout_state::LayoutState;
use crate::ui::layout_state::NamedPositions;
use crate::ui::live::LiveSource;
use crate::ui::loader::LoadOutcome;
use crate::ui::loader::Loader;
use crate::ui::model::Model;
use std::path::PathBuf;
use std::sync::mpsc::TryRecvError;
use std::sync::mpsc::sync_channel;

impl FlowscopeApp {
    /// Takes in what background threads finished.
    pub(super) fn poll_background(&mut self, actions: &mut Vec<Action>, ctx: &egui::Context) {
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
                        DialogResult::Compare(Some(paths)) if !paths.is_empty() => {
                            actions.push(Action::CompareWith(paths));
                        }
                        DialogResult::Open(_)
                        | DialogResult::Save(None, _)
                        | DialogResult::Compare(_) => {
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
        self.poll_compare(ctx);
        self.poll_trace_reading();
        if let Some(model) = self.live.as_ref().and_then(LiveSource::take_model) {
            // A newer live model shows every trace again, and is not what was compared.
            self.compare = None;
            self.comparing = None;
            if self.timeline.following() && self.window.is_some() {
                // The window stays on screen until the strip moves it to the newest minute.
                self.full = Some(model);
                ctx.request_repaint();
            } else {
                self.leave_window(ctx);
                self.show_live_model(model, ctx);
            }
        }
        if let Some(rx) = &self.windowing {
            match rx.try_recv() {
                Ok(model) => {
                    self.windowing = None;
                    self.swap_in(model, ctx);
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.windowing = None,
            }
        }
        // New positions bump the layout's generation; the canvas rebuilds its scene from it.
        self.layout.poll();
    }

    pub(super) fn finish_load(&mut self, outcome: LoadOutcome, ctx: &egui::Context) {
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
        self.leave_window(ctx);
        // What was compared is replaced.
        self.compare = None;
        self.comparing = None;
        if let Some(baseline) = self.queued_compare.take() {
            self.pending.push(Action::CompareWith(baseline));
            ctx.request_repaint();
        }
        index_in_background(&model);
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
    pub(super) fn show_preview(&mut self, model: Model, ctx: &egui::Context) {
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
    pub(super) fn restore_before_load(&mut self, ctx: &egui::Context) {
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

    /// Shows the graph of the traces starting in `window` (derived on a thread of its own from
    /// every trace's store; the view, selection and places carry over), or of every trace again.
    pub(super) fn set_window(&mut self, window: Option<(i64, i64)>, ctx: &egui::Context) {
        // A window is of what is loaded: a comparison ends.
        if window.is_some() {
            self.stop_comparing(ctx);
        }
        self.window = window;
        let Some((from, to)) = window else {
            self.windowing = None;
            if let Some(full) = self.full.take() {
                self.swap_in(full, ctx);
            }
            return;
        };
        let Some(base) = self.full.as_ref().or(self.model.as_ref()) else {
            return;
        };
        // The model's parts are shared with the thread, not copied: the UI thread only draws.
        let base = base.whole().clone();
        let (send, receive) = sync_channel(1);
        let wake = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("window".to_owned())
            .spawn(move || {
                send.send(base.windowed(from, to)).ok();
                wake.request_repaint();
            });
        self.windowing = spawned.ok().map(|_| receive);
    }

    /// Shows every trace's model again, if a window was shown (before a load or a live model
    /// replaces it, so places carry over from the right graph).
    pub(super) fn leave_window(&mut self, ctx: &egui::Context) {
        self.window = None;
        self.windowing = None;
        if let Some(full) = self.full.take() {
            self.swap_in(full, ctx);
        }
    }

    /// Shows a window's model, or every trace's again, keeping places and selection; the model
    /// of every trace is kept aside while a window is shown.
    fn swap_in(&mut self, model: Model, ctx: &egui::Context) {
        let (previous, node_name, trace_id) = self.view_names();
        let old = self.model.take();
        if self.window.is_some() && self.full.is_none() {
            self.full = old;
        }
        self.remember_pins();
        self.install_model(model, &previous, node_name, trace_id, ctx);
    }

    /// The places of the nodes on screen, the selected node's name and the selected trace's id.
    fn view_names(&self) -> (NamedPositions, Option<String>, Option<String>) {
        match &self.model {
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
                let trace_id = self.selected_trace.and_then(|t| old.trace_id(t));
                (previous, node_name, trace_id)
            }
            None => Default::default(),
        }
    }

    /// Shows a newer model of the watched directories: the level, the view, the selected node
    /// and trace stay; nodes already placed keep their places and new ones enter beside their
    /// neighbours.
    pub(super) fn show_live_model(&mut self, model: Model, ctx: &egui::Context) {
        let first = self.model.is_none();
        self.remember_pins();
        let (previous, node_name, trace_id) = self.view_names();
        self.install_model(model, &previous, node_name, trace_id, ctx);
        if first {
            self.canvas.fit();
        }
    }

    /// Shows `model` with its nodes at `previous` positions where named there (new ones beside
    /// their neighbours), selecting the node and trace named, if they are still there.
    pub(super) fn install_model(
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
        // The waterfall follows a time window: a trace outside it closes.
        let trace = trace_id
            .and_then(|id| model.find_trace(&id))
            .filter(|&t| model.lists(t));
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
        self.show_trace(trace, ctx);
    }

    pub(super) fn restart_layout(&mut self, ctx: &egui::Context) {
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
    pub(super) fn remember_pins(&mut self) {
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
    pub(super) fn restore_pins(&mut self) {
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

    pub(super) fn spawn_dialog(
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

    pub(super) fn open(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        self.leave_window(ctx);
        for p in &paths {
            self.recent.retain(|r| r != p);
            self.recent.insert(0, p.clone());
        }
        self.recent.truncate(MAX_RECENT);
        // An aggregate opens on its own, in place of what is loaded; it is not watched.
        let aggregate = paths
            .iter()
            .any(|p| crate::aggregate::parquet::is_aggregate(p));
        if aggregate {
            if let Some((loader, _)) = self.loader.take() {
                loader.cancel();
            }
            self.live = None;
            self.model = None;
        }
        // Merge with what is loaded (and what is loading): read them all again, together.
        let mut all: Vec<PathBuf> = self
            .model
            .as_ref()
            .filter(|m| m.aggregate.is_none())
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
        if !aggregate && all.iter().any(|p| p.is_dir()) {
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
}

/// Builds `model`'s window index on a thread of its own, so the first window dragged on the
/// timeline is as quick as the next (the thread holds the model's shared parts until it ends).
fn index_in_background(model: &Model) {
    if model.timeline.is_none() {
        return;
    }
    let model = model.clone();
    std::thread::Builder::new()
        .name("window index".to_owned())
        .spawn(move || {
            model.window_index();
        })
        .ok();
}
