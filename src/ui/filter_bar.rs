//! [`FilterBar`]: the filter expression (checked as it is typed, the mistake shown inline) and the node search box.

use egui::{Key, TextEdit};

use super::actions::Action;
use crate::derive::filter::Filter;

/// Filter and search boxes.
#[derive(Default)]
pub struct FilterBar {
    /// The filter as typed.
    text: String,
    /// Why the typed filter does not parse.
    error: Option<String>,
    /// The search box's text.
    search: String,
    /// Focus the search box on the next frame (Ctrl+F).
    focus_search: bool,
}

impl FilterBar {
    /// Focuses the search box on the next frame.
    pub fn focus_search(&mut self) {
        self.focus_search = true;
    }

    /// Why the filter does not parse, if it does not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Shows the two boxes on one row.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        let mut actions = Vec::new();
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            let response = ui
                .add(
                    TextEdit::singleline(&mut self.text)
                        .hint_text("service=api* and errors>0")
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
            if response.changed() {
                match Filter::parse(&self.text) {
                    Ok(_) => {
                        self.error = None;
                        actions.push(Action::SetFilter(self.text.clone()));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            ui.separator();
            let label = ui.label("Search");
            let search = ui
                .add(
                    TextEdit::singleline(&mut self.search)
                        .hint_text("node name (Ctrl+F)")
                        .desired_width(200.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_search) {
                search.request_focus();
            }
            let entered = search.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if (entered || ui.button("Find").clicked()) && !self.search.trim().is_empty() {
                actions.push(Action::Search(self.search.trim().to_owned()));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        actions
    }
}
