//! [`StatusBar`]: counts (files, spans, traces, nodes and edges at this level), the layout's state, and the load's progress with a cancel button.

use super::actions::Action;
use super::live::LiveStatus;
use super::loader::Progress;
use crate::model::Level;

/// What the status bar shows, gathered by the app each frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Files read.
    pub files: usize,
    /// Spans.
    pub spans: usize,
    /// Traces shown (a time window's, or all).
    pub traces: usize,
    /// Every trace, while a time window shows some of them.
    pub of_traces: Option<usize>,
    /// Nodes at this level.
    pub nodes: usize,
    /// Nodes that pass the filter.
    pub visible_nodes: usize,
    /// Edges at this level.
    pub edges: usize,
    /// The level.
    pub level: Level,
    /// The layout's state in a few words.
    pub layout: String,
    /// The running load, if any.
    pub loading: Option<Progress>,
    /// The watched directories' state, when watching.
    pub live: Option<LiveStatus>,
    /// The last thing that happened (an export, a dialog that could not open).
    pub notice: Option<String>,
}

/// The bottom status line.
#[derive(Default)]
pub struct StatusBar;

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The live indicator, the span rate and the pause button; returns whether the button was
/// clicked.
fn live_ui(ui: &mut egui::Ui, live: &LiveStatus) -> bool {
    let how = if live.polling {
        "polling the directory"
    } else {
        "notified of every write"
    };
    if live.paused {
        ui.weak("Paused")
            .on_hover_text(format!("Still reading ({how}); the view is held"));
    } else {
        let dot = if live.spans_per_sec > 0 {
            ui.visuals().error_fg_color
        } else {
            ui.visuals().weak_text_color()
        };
        ui.colored_label(dot, egui::RichText::new("Live").strong())
            .on_hover_text(format!(
                "Watching ({how}); last update {} ms after the write",
                live.lag_ms
            ));
    }
    ui.label(format!("{} spans/s", live.spans_per_sec));
    let text = if live.paused { "Resume" } else { "Pause" };
    ui.button(text)
        .on_hover_text("Hold the view still; the files are still read")
        .clicked()
}

impl StatusBar {
    /// Shows the status; returns `CancelLoad` when the cancel button is clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui, status: &Status) -> Option<Action> {
        let mut action = None;
        ui.horizontal(|ui| {
            if let Some(p) = &status.loading {
                let fraction = if p.bytes_total > 0 {
                    p.bytes_done as f32 / p.bytes_total as f32
                } else {
                    0.0
                };
                let mut text = if p.deriving {
                    format!("Deriving graphs from {} spans", p.spans)
                } else {
                    format!(
                        "Reading file {} of {} · {} of {} · {} spans",
                        (p.files_done + 1).min(p.files_total.max(1)),
                        p.files_total,
                        megabytes(p.bytes_done),
                        megabytes(p.bytes_total),
                        p.spans
                    )
                };
                if let Some(shown) = p.preview_bytes {
                    text = format!("{text} · first {} shown", megabytes(shown));
                }
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(if p.preview_bytes.is_some() {
                            600.0
                        } else {
                            420.0
                        })
                        .text(text)
                        .animate(true),
                );
                if ui.button("Cancel").clicked() {
                    action = Some(Action::CancelLoad);
                }
                ui.separator();
            }
            if let Some(live) = &status.live {
                if live_ui(ui, live) {
                    action = Some(Action::ToggleLivePause);
                }
                ui.separator();
            }
            ui.label(format!("{} files", status.files));
            ui.label(format!("{} spans", status.spans));
            match status.of_traces {
                Some(all) => ui.label(format!("{} of {all} traces (window)", status.traces)),
                None => ui.label(format!("{} traces", status.traces)),
            };
            if status.visible_nodes == status.nodes {
                ui.label(format!("{} nodes", status.nodes));
            } else {
                ui.label(format!(
                    "{} of {} nodes",
                    status.visible_nodes, status.nodes
                ));
            }
            ui.label(format!("{} edges", status.edges));
            ui.label(format!("Level {}", status.level.as_str()));
            ui.label(&status.layout);
            if let Some(notice) = &status.notice {
                ui.separator();
                ui.label(notice);
            }
        });
        action
    }
}
