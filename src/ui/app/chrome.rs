//! The window's chrome: the menu bar, the central panel, keyboard shortcuts, the empty state and the warnings list.

use super::FlowscopeApp;
use crate::model::Level;
use crate::scene::Style;
use crate::scene::Theme;
use crate::scene::View;
use crate::ui::actions::Action;
use crate::ui::canvas::CanvasInput;
use crate::ui::filter_bar::FilterBar;
use crate::ui::loader::LoadFailure;
use crate::ui::model::Model;
use crate::ui::paint::color32;
use egui::Align2;
use egui::Key;
use egui::KeyboardShortcut;
use egui::Modifiers;
use std::path::PathBuf;

impl FlowscopeApp {
    pub(super) fn menu_ui(&self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…").clicked() {
                    actions.push(Action::OpenDialog { folder: false });
                }
                if ui.button("Open folder…").clicked() {
                    actions.push(Action::OpenDialog { folder: true });
                }
                let loaded = self.model.is_some();
                if ui
                    .add_enabled(loaded, egui::Button::new("Compare with…"))
                    .on_hover_text("Pick a baseline (files): the canvas shows what changed")
                    .clicked()
                {
                    actions.push(Action::CompareDialog { folder: false });
                }
                if ui
                    .add_enabled(loaded, egui::Button::new("Compare with folder…"))
                    .on_hover_text("Pick a baseline (a folder of trace files)")
                    .clicked()
                {
                    actions.push(Action::CompareDialog { folder: true });
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

    pub(super) fn central_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
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
                            compared: self.compared(),
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
}

/// Keyboard shortcuts that work anywhere in the window.
pub(super) fn keys(ui: &egui::Ui, actions: &mut Vec<Action>, filter_bar: &mut FilterBar) {
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
pub(super) fn empty_state_ui(
    ui: &mut egui::Ui,
    recent: &[PathBuf],
    loading: bool,
    actions: &mut Vec<Action>,
) {
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
pub(super) fn warnings_ui(ui: &mut egui::Ui, model: &Model, failures: &[LoadFailure]) {
    if let Some(aggregate) = &model.aggregate {
        aggregate_ui(ui, aggregate, failures);
        return;
    }
    let total: u64 = model.files.iter().map(|f| f.warning_count).sum();
    egui::CollapsingHeader::new(format!("Files ({}), warnings ({total})", model.files.len()))
        .default_open(total > 0 || !failures.is_empty())
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    failures_ui(ui, failures);
                    for f in &model.files {
                        let name = f.path.file_name().map_or_else(
                            || f.path.display().to_string(),
                            |n| n.to_string_lossy().into_owned(),
                        );
                        ui.label(format!(
                            "{name} · {} · {} bytes",
                            crate::ingest::layout_name(f.format, f.compression),
                            f.bytes
                        ));
                        for w in &f.warnings {
                            ui.weak(format!("  {w}"));
                        }
                    }
                });
        });
}

/// An aggregate's files (as its manifest names them) and what could not be read of it.
fn aggregate_ui(
    ui: &mut egui::Ui,
    aggregate: &crate::ui::model::AggregateSource,
    failures: &[LoadFailure],
) {
    let total: u64 = aggregate.inputs.iter().map(|f| f.warnings).sum();
    egui::CollapsingHeader::new(format!(
        "Aggregate of {} files, warnings ({total})",
        aggregate.inputs.len()
    ))
    .default_open(!failures.is_empty())
    .show(ui, |ui| {
        ui.label(aggregate.dir.display().to_string());
        if aggregate.table.is_none() {
            ui.weak("Keeps no spans: traces are listed, their waterfalls are not");
        }
        egui::ScrollArea::vertical()
            .max_height(300.0)
            .show(ui, |ui| {
                failures_ui(ui, failures);
                for f in &aggregate.inputs {
                    ui.label(format!(
                        "{} · {} · {} bytes · {} warnings",
                        f.path, f.format, f.bytes, f.warnings
                    ));
                }
            });
    });
}

/// What could not be read, one line each.
fn failures_ui(ui: &mut egui::Ui, failures: &[LoadFailure]) {
    for f in failures {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{}: {}", f.path.display(), f.reason),
        );
    }
}
