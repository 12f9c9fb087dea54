//! Applying actions: the one `match` over [`Action`], selection, narrowing the trace list, search and PNG export.

use super::DialogResult;
use super::FlowscopeApp;
use super::ReadTrace;
use crate::derive::filter::Filter;
use crate::derive::flow::flow_path;
use crate::derive::window::one_trace;
use crate::render::png;
use crate::scene;
use crate::scene::Highlight;
use crate::ui::actions::Action;
use crate::ui::inspector;
use crate::ui::inspector::Selection;
use crate::ui::trace_list::TraceSubset;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

impl FlowscopeApp {
    /// Applies one action.
    pub(super) fn apply(&mut self, action: Action, ctx: &egui::Context) {
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
            Action::SelectTrace(trace) => self.show_trace(trace, ctx),
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
            Action::SetWindow(window) => self.set_window(window, ctx),
            Action::CompareDialog { folder } => {
                if self.dialog.is_none() {
                    self.spawn_dialog(ctx, move || {
                        let dialog = rfd::FileDialog::new().set_title("Compare with a baseline");
                        DialogResult::Compare(if folder {
                            dialog.pick_folder().map(|p| vec![p])
                        } else {
                            dialog
                                .add_filter("Trace files", &["json", "jsonl", "ndjson"])
                                .pick_files()
                        })
                    });
                }
            }
            Action::CompareWith(paths) => self.compare_with(paths, ctx),
            Action::ShowCompared(view) => self.show_compared(view, ctx),
            Action::StopComparing => self.stop_comparing(ctx),
            Action::ToggleLivePause => {
                if let Some(live) = &self.live {
                    live.set_paused(!live.is_paused());
                }
            }
        }
    }

    /// Selects a node and narrows the trace list to the traces whose spans run on it or call
    /// through it (at the current level: by instance, service, zone or region).
    pub(super) fn select_node(&mut self, node: Option<u32>) {
        self.select(node.map(Selection::Node));
    }

    /// Selects an edge and narrows the trace list to the traces that cross it.
    pub(super) fn select_edge(&mut self, edge: Option<u32>) {
        self.select(edge.map(Selection::Edge));
    }

    /// Selects a node, an edge, a collapsed group (the traces through any member are listed) or
    /// a summed edge (the traces across any edge it sums), or nothing.
    pub(super) fn select(&mut self, selection: Option<Selection>) {
        self.selected = selection;
        self.narrow(selection);
    }

    /// Narrows the trace list to the traces through a node or across an edge.
    pub(super) fn narrow(&mut self, selection: Option<Selection>) {
        let generation = self.trace_subset.as_ref().map_or(0, |s| s.generation) + 1;
        self.trace_subset = None;
        let (Some(selection), Some(model)) = (selection, &self.model) else {
            return;
        };
        if model.aggregate.is_some() {
            // An aggregate keeps no trace's path through the graph: the list stays whole.
            return;
        }
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
        let through = graph
            .trace_members
            .matching(|n, e| any_of(&nodes, n) || any_of(&edges, e));
        let rows = model
            .traces
            .iter()
            .map(|r| through.get(r.trace()).copied().unwrap_or(false))
            .collect();
        self.trace_subset = Some(TraceSubset {
            label,
            rows,
            generation,
        });
    }

    /// Selects trace `trace` (an index of the model's trace list) or none: its waterfall, and its
    /// path lit. An aggregate's trace is read from its spans table on the `trace reader` thread
    /// first ([`FlowscopeApp::poll_trace_reading`] shows it).
    pub(super) fn show_trace(&mut self, trace: Option<usize>, ctx: &egui::Context) {
        self.selected_trace = trace;
        self.trace_reading = None;
        let generation = self.model_generation;
        match (trace, &self.model, &self.read_trace) {
            (Some(t), Some(_), Some(read)) if read.trace == t && read.generation == generation => {
                self.waterfall.show_trace(&read.store, read.index);
            }
            (Some(t), Some(model), _) => match (&model.aggregate, model.trace_id(t)) {
                (Some(source), Some(id)) => {
                    let reading = read_in_background(
                        source.clone(),
                        id,
                        model.store.data.interner.clone(),
                        ctx.clone(),
                    );
                    self.waterfall.clear();
                    self.read_trace = None;
                    match reading {
                        Ok(result) => {
                            self.notice =
                                Some("Reading the trace's spans from the aggregate…".to_owned());
                            self.trace_reading = Some(super::TraceReading {
                                generation,
                                trace: t,
                                result,
                            });
                        }
                        Err(e) => self.banner = Some(format!("Cannot read the trace: {e}")),
                    }
                }
                _ => self.waterfall.show_trace(&model.store, t),
            },
            _ => self.waterfall.clear(),
        }
        self.relight();
    }

    /// Shows an aggregate's trace once the `trace reader` thread has read it (if it is still
    /// the one selected).
    pub(super) fn poll_trace_reading(&mut self) {
        let Some(reading) = &self.trace_reading else {
            return;
        };
        let result = match reading.result.try_recv() {
            Ok(result) => result,
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Err("the trace reader stopped".to_owned())
            }
        };
        let (generation, trace) = (reading.generation, reading.trace);
        self.trace_reading = None;
        if generation != self.model_generation || self.selected_trace != Some(trace) {
            return;
        }
        self.notice = None;
        match result {
            Ok((store, index)) => {
                self.waterfall.show_trace(&store, index);
                self.read_trace = Some(ReadTrace {
                    generation,
                    trace,
                    store,
                    index,
                });
                self.relight();
            }
            Err(e) => self.banner = Some(e),
        }
    }

    /// Lights the selected trace's path at the current level.
    pub(super) fn relight(&mut self) {
        let generation = self.model_generation;
        if let Some(read) = &mut self.read_trace
            && self.selected_trace == Some(read.trace)
            && read.generation == generation
        {
            self.highlight = flow_path(&mut read.store, self.level, read.index);
            return;
        }
        if self.model.as_ref().is_some_and(|m| m.aggregate.is_some()) {
            // Lit once its spans are read.
            self.highlight = Highlight::default();
            return;
        }
        self.highlight = match (self.selected_trace, &mut self.model) {
            (Some(t), Some(model)) => match std::sync::Arc::get_mut(&mut model.store) {
                Some(store) => flow_path(store, self.level, t),
                // Shared (with a time window's model, or the thread building the window
                // index): the trace alone, with the same strings, rather than a copy of all.
                None => flow_path(&mut one_trace(&model.store, t), self.level, 0),
            },
            _ => Highlight::default(),
        };
    }

    pub(super) fn search(&mut self, text: &str) {
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

    pub(super) fn export_png(
        &mut self,
        scene: Option<scene::Scene>,
        path: PathBuf,
        ctx: &egui::Context,
    ) {
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

/// Reads trace `id` of `source` on the `trace reader` thread, its strings starting as `names`;
/// the window is woken when it is read.
fn read_in_background(
    source: std::sync::Arc<crate::ui::model::AggregateSource>,
    id: String,
    names: crate::model::Interner,
    wake: egui::Context,
) -> std::io::Result<std::sync::mpsc::Receiver<super::TraceRead>> {
    let (tx, rx) = sync_channel(1);
    std::thread::Builder::new()
        .name("trace reader".to_owned())
        .spawn(move || {
            tx.send(source.trace_store(&id, names)).ok();
            wake.request_repaint();
        })?;
    Ok(rx)
}
