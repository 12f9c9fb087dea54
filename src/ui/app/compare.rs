//! Comparing with a baseline in the window: File → Compare with… reads the baseline off the UI thread; the canvas shows after, before or the difference; the inspector shows before → after.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use super::FlowscopeApp;
use crate::derive::diff::{Change, Figures, GraphDiff, Item, union_graph};
use crate::model::Level;
use crate::scene::{Compared, Stamp};
use crate::ui::actions::{Action, CompareView};
use crate::ui::inspector::Selection;
use crate::ui::loader::Loader;
use crate::ui::model::Model;

/// A comparison of what is loaded with a baseline, at every level.
pub(super) struct Compare {
    /// What was loaded when the comparison started.
    after: Model,
    /// The baseline.
    before: Model,
    /// Both runs' traces in one store: the difference's graph.
    union: Model,
    /// The difference at each level, in [`Level::ALL`] order.
    diffs: Vec<Arc<GraphDiff>>,
    /// What the canvas shows.
    pub(super) view: CompareView,
}

impl Compare {
    /// Reads `baseline` as the window reads files and compares `after` with it at every level
    /// (on the calling thread).
    fn build(after: Model, baseline: Vec<PathBuf>) -> Result<Self, String> {
        let loader = Loader::start(baseline, || {}).map_err(|e| e.to_string())?;
        let outcome = loop {
            if let Some(outcome) = loader.poll() {
                break outcome;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let Some(before) = outcome.model else {
            return Err(match outcome.failures.first() {
                Some(f) => format!("Could not read {}: {}", f.path.display(), f.reason),
                None => "The baseline holds no traces".to_owned(),
            });
        };
        // The union of both graphs, as `flowscope diff -o` draws it.
        let mut names = after.store.data.interner.clone();
        let graphs = Level::ALL
            .iter()
            .filter_map(|&level| {
                Some(union_graph(
                    before.graph(level)?,
                    &before.store.data.interner,
                    after.graph(level)?,
                    &after.store.data.interner,
                    &mut names,
                ))
            })
            .collect();
        let union = Model::of_graphs(
            &after,
            names,
            graphs,
            "The difference lists no traces: show After or Before for theirs",
        );
        let diffs = Level::ALL
            .iter()
            .map(|&level| {
                Arc::new(match (before.graph(level), after.graph(level)) {
                    (Some(b), Some(a)) => GraphDiff::between(
                        b,
                        &before.store.data.interner,
                        a,
                        &after.store.data.interner,
                    ),
                    _ => GraphDiff::default(),
                })
            })
            .collect();
        Ok(Self {
            after,
            before,
            union,
            diffs,
            view: CompareView::Difference,
        })
    }

    /// The difference at `level`.
    pub(super) fn diff(&self, level: Level) -> Option<&Arc<GraphDiff>> {
        let i = Level::ALL.iter().position(|&l| l == level)?;
        self.diffs.get(i)
    }

    /// The model the canvas shows for `view`.
    fn model(&self, view: CompareView) -> &Model {
        match view {
            CompareView::After => &self.after,
            CompareView::Before => &self.before,
            CompareView::Difference => &self.union,
        }
    }

    /// The model the status bar counts while the difference is shown (what is loaded).
    pub(super) fn counted(&self) -> Option<&Model> {
        (self.view == CompareView::Difference).then_some(&self.after)
    }

    /// The baseline's files as the stamp names them.
    pub(super) fn stamp_labels(&self) -> Vec<String> {
        self.labels().0
    }

    /// What is loaded, as the stamp names it.
    pub(super) fn after_labels(&self) -> Vec<String> {
        self.labels().1
    }

    /// Both runs' files as the stamp names them (with their folders when the names are the same).
    fn labels(&self) -> (Vec<String>, Vec<String>) {
        let paths = |m: &Model| m.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        Stamp::run_labels(&paths(&self.before), &paths(&self.after))
    }
}

/// A baseline being read and compared.
pub(super) type Comparing = (Vec<PathBuf>, Receiver<Result<Compare, String>>);

impl FlowscopeApp {
    /// Starts comparing what is loaded with `baseline` (read on a thread of its own).
    pub(super) fn compare_with(&mut self, baseline: Vec<PathBuf>, ctx: &egui::Context) {
        self.stop_comparing(ctx);
        self.leave_window(ctx);
        let Some(after) = self.model.as_ref().map(|m| m.whole().clone()) else {
            self.notice = Some("Open something to compare first".to_owned());
            return;
        };
        let (send, receive) = sync_channel(1);
        let wake = ctx.clone();
        let paths = baseline.clone();
        let spawned = std::thread::Builder::new()
            .name("compare".to_owned())
            .spawn(move || {
                send.send(Compare::build(after, paths)).ok();
                wake.request_repaint();
            });
        match spawned {
            Ok(_) => self.comparing = Some((baseline, receive)),
            Err(e) => self.banner = Some(format!("Cannot compare: {e}")),
        }
    }

    /// Takes in a finished comparison and shows its difference.
    pub(super) fn poll_compare(&mut self, ctx: &egui::Context) {
        let Some((_, receive)) = &self.comparing else {
            return;
        };
        match receive.try_recv() {
            Ok(Ok(compare)) => {
                self.comparing = None;
                self.notice = None;
                self.compare = Some(compare);
                self.show_compared(CompareView::Difference, ctx);
            }
            Ok(Err(message)) => {
                self.comparing = None;
                self.banner = Some(message);
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.comparing = None,
        }
    }

    /// Shows the comparison's after, before or difference, keeping places and selection by name.
    pub(super) fn show_compared(&mut self, view: CompareView, ctx: &egui::Context) {
        let Some(compare) = &mut self.compare else {
            return;
        };
        compare.view = view;
        let model = compare.model(view).clone();
        self.show_live_model(model, ctx);
    }

    /// Stops comparing (and reading a baseline); what was loaded is shown again.
    pub(super) fn stop_comparing(&mut self, ctx: &egui::Context) {
        self.comparing = None;
        if let Some(compare) = self.compare.take()
            && compare.view != CompareView::After
        {
            self.show_live_model(compare.after, ctx);
        }
    }

    /// What the view knows of the comparison at the level shown.
    pub(super) fn compared(&self) -> Option<Compared> {
        let compare = self.compare.as_ref()?;
        Some(Compared {
            diff: Arc::clone(compare.diff(self.level)?),
            restyle: compare.view == CompareView::Difference,
        })
    }

    /// The comparison's bar: the baseline, After / Before / Difference, the counts, Stop.
    pub(super) fn compare_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        if let Some((baseline, _)) = &self.comparing {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Reading the baseline {}…", names(baseline)));
                if ui.button("Cancel").clicked() {
                    actions.push(Action::StopComparing);
                }
            });
            return;
        }
        let Some(compare) = &self.compare else {
            return;
        };
        ui.horizontal(|ui| {
            ui.label(format!(
                "Compared with {}:",
                compare.stamp_labels().join(", ")
            ));
            for (view, text, hover) in [
                (CompareView::After, "After", "What is loaded"),
                (CompareView::Before, "Before", "The baseline"),
                (
                    CompareView::Difference,
                    "Difference",
                    "Both in one graph, drawn by what changed (see the legend)",
                ),
            ] {
                if ui
                    .selectable_label(compare.view == view, text)
                    .on_hover_text(hover)
                    .clicked()
                {
                    actions.push(Action::ShowCompared(view));
                }
            }
            ui.separator();
            if let Some(diff) = compare.diff(self.level) {
                let counts = diff.counts();
                let n = |c| counts.get(&c).copied().unwrap_or(0);
                ui.label(format!(
                    "{} added · {} removed · {} changed · {} the same",
                    n(Change::Added),
                    n(Change::Removed),
                    n(Change::Changed),
                    n(Change::Same)
                ))
                .on_hover_text(
                    "Nodes and edges at this level. Filter by change: change=added, \
                     calls_delta<-100, p99_ratio>2",
                );
            }
            ui.separator();
            if ui.button("Stop comparing").clicked() {
                actions.push(Action::StopComparing);
            }
        });
    }

    /// Before → after of the selected node or edge, for the inspector (empty when not comparing
    /// or nothing is selected).
    pub(super) fn change_lines(&self) -> Vec<String> {
        let (Some(model), Some(diff), Some(selected)) = (
            self.model.as_ref(),
            self.compare.as_ref().and_then(|c| c.diff(self.level)),
            self.selected,
        ) else {
            return Vec::new();
        };
        let Some(graph) = model.graph(self.level) else {
            return Vec::new();
        };
        let interner = &model.store.data.interner;
        let name = |n: u32| {
            graph
                .graph
                .node_weight(petgraph::stable_graph::NodeIndex::new(n as usize))
                .map(|w| interner.resolve(w.name).to_owned())
        };
        let item = match selected {
            Selection::Node(n) => name(n).and_then(|n| diff.node(&n)),
            Selection::Edge(e) => graph
                .graph
                .edge_endpoints(petgraph::stable_graph::EdgeIndex::new(e as usize))
                .and_then(|(a, b)| {
                    let (a, b) = (name(a.index() as u32)?, name(b.index() as u32)?);
                    diff.edge(&a, &b)
                }),
            _ => None,
        };
        item.map(before_after).unwrap_or_default()
    }
}

/// The picked paths as a short text.
fn names(paths: &[PathBuf]) -> String {
    let label = |p: &PathBuf| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    match paths {
        [one] => label(one),
        [first, rest @ ..] => format!("{} and {} more", label(first), rest.len()),
        [] => String::new(),
    }
}

/// An item's change and its figures before → after, one line each.
fn before_after(item: &Item) -> Vec<String> {
    let headline = match item.change {
        Change::Added => "Added since the baseline",
        Change::Removed => "Gone since the baseline",
        Change::Changed => "Changed since the baseline",
        Change::Same => "The same as in the baseline",
    };
    let side = |f: Option<Figures>, show: fn(&Figures) -> String| {
        f.as_ref().map_or_else(|| "–".to_owned(), show)
    };
    let ms = |v: Option<u64>| {
        v.map_or_else(
            || "–".to_owned(),
            |v| format!("{:.1} ms", v as f64 / 1000.0),
        )
    };
    let (b, a) = (item.before, item.after);
    let calls_change = match (b, a) {
        (Some(b), Some(a)) if b.calls > 0 => {
            format!(
                " ({:+.0}%)",
                (a.calls as f64 / b.calls as f64 - 1.0) * 100.0
            )
        }
        _ => String::new(),
    };
    let p99_change = match (b.and_then(|f| f.p99_micros), a.and_then(|f| f.p99_micros)) {
        (Some(x), Some(y)) if x > 0 => format!(" (×{:.2})", y as f64 / x as f64),
        _ => String::new(),
    };
    vec![
        headline.to_owned(),
        format!(
            "Calls {} → {}{calls_change}",
            side(b, |f| f.calls.to_string()),
            side(a, |f| f.calls.to_string())
        ),
        format!(
            "Errors {} → {}",
            side(b, |f| format!(
                "{} ({:.1}%)",
                f.errors,
                f.error_rate() * 100.0
            )),
            side(a, |f| format!(
                "{} ({:.1}%)",
                f.errors,
                f.error_rate() * 100.0
            ))
        ),
        format!(
            "p50 {} → {}",
            ms(b.and_then(|f| f.p50_micros)),
            ms(a.and_then(|f| f.p50_micros))
        ),
        format!(
            "p99 {} → {}{p99_change}",
            ms(b.and_then(|f| f.p99_micros)),
            ms(a.and_then(|f| f.p99_micros))
        ),
    ]
}
