//! [`TraceList`]: every trace in one sortable, virtualised list (start, duration, spans, errors, root service).

use egui::{Align2, ScrollArea, Sense, TextStyle, pos2, vec2};

use super::actions::Action;
use super::inspector::format_micros;
use super::model::{Model, TraceRow};
use crate::model::Interner;
use crate::model::time::format_utc_micros;

/// What the list is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Start time.
    #[default]
    Start,
    /// Duration.
    Duration,
    /// Span count.
    Spans,
    /// Error count.
    Errors,
    /// Root service name.
    Root,
}

impl SortKey {
    const ALL: [(Self, &'static str); 5] = [
        (Self::Start, "Start"),
        (Self::Duration, "Duration"),
        (Self::Spans, "Spans"),
        (Self::Errors, "Errors"),
        (Self::Root, "Root service"),
    ];
}

/// The trace list: sort order and the sorted row order, recomputed only when either changes.
#[derive(Default)]
pub struct TraceList {
    sort: SortKey,
    descending: bool,
    order: Vec<usize>,
    order_of: Option<(SortKey, bool, u64, u64)>,
}

/// Only the traces through one service, when a node is selected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceSubset {
    /// What the subset is, e.g. `through service api`.
    pub label: String,
    /// One flag per row.
    pub rows: Vec<bool>,
    /// Counts up whenever the subset changes.
    pub generation: u64,
}

impl TraceList {
    /// Sorts by `key`; the same key again flips the direction.
    pub fn sort_by(&mut self, key: SortKey) {
        if self.sort == key {
            self.descending = !self.descending;
        } else {
            self.sort = key;
            self.descending = !matches!(key, SortKey::Start | SortKey::Root);
        }
    }

    fn refresh(
        &mut self,
        rows: &[TraceRow],
        interner: &Interner,
        model_generation: u64,
        subset: Option<&TraceSubset>,
    ) {
        let key = (
            self.sort,
            self.descending,
            model_generation,
            subset.map_or(0, |s| s.generation),
        );
        if self.order_of == Some(key) {
            return;
        }
        let mut order: Vec<usize> = match subset {
            Some(subset) => (0..rows.len())
                .filter(|&i| subset.rows.get(i).copied().unwrap_or(false))
                .collect(),
            None => (0..rows.len()).collect(),
        };
        let row = |i: usize| rows.get(i);
        // Root services compare by name, looked up once per distinct name.
        let mut root_names: rustc_hash::FxHashMap<Option<crate::model::Sym>, &str> =
            rustc_hash::FxHashMap::default();
        let roots: Vec<&str> = if self.sort == SortKey::Root {
            rows.iter()
                .map(|r| {
                    *root_names
                        .entry(r.root)
                        .or_insert_with(|| r.root_service(interner))
                })
                .collect()
        } else {
            Vec::new()
        };
        let root = |r: &TraceRow| roots.get(r.trace()).copied().unwrap_or("");
        order.sort_by(|&a, &b| {
            let (Some(a), Some(b)) = (row(a), row(b)) else {
                return std::cmp::Ordering::Equal;
            };
            let o = match self.sort {
                SortKey::Start => a.start_micros.cmp(&b.start_micros),
                SortKey::Duration => a.duration_micros.cmp(&b.duration_micros),
                SortKey::Spans => a.spans.cmp(&b.spans),
                SortKey::Errors => a.errors.cmp(&b.errors),
                SortKey::Root => root(a).cmp(root(b)),
            };
            let o = if self.descending { o.reverse() } else { o };
            o.then(a.index.cmp(&b.index))
        });
        self.order = order;
        self.order_of = Some(key);
    }

    /// Shows the list; returns the trace the user picked.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Model,
        selected: Option<usize>,
        model_generation: u64,
        subset: Option<&TraceSubset>,
    ) -> Option<Action> {
        let mut action = None;
        let rows = &model.traces;
        let interner = &model.store.data.interner;
        ui.heading(format!("Traces ({})", rows.len()));
        if rows.is_empty() {
            ui.weak(match model.no_traces {
                Some(note) => note,
                None if !model.store.traces().is_empty() => "No trace starts in this window",
                None => "These files hold no traces (a graph or dependency file)",
            });
            return None;
        }
        self.refresh(rows, interner, model_generation, subset);
        if let Some(subset) = subset {
            ui.horizontal(|ui| {
                ui.label(format!("{} {}", self.order.len(), subset.label));
                if ui.button("Show all").clicked() {
                    action = Some(Action::SelectNode(None));
                }
            });
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Sort by");
            for (key, name) in SortKey::ALL {
                let arrow = if self.sort == key {
                    if self.descending { " (desc)" } else { " (asc)" }
                } else {
                    ""
                };
                if ui
                    .selectable_label(self.sort == key, format!("{name}{arrow}"))
                    .clicked()
                {
                    self.sort_by(key);
                }
            }
        });
        ui.separator();
        let row_height = ui.text_style_height(&TextStyle::Monospace) + 4.0;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, self.order.len(), |ui, range| {
                let width = ui.available_width();
                let font = egui::FontId::monospace(12.0);
                // Columns at character positions of the monospace font.
                let cw = ui.fonts_mut(|f| f.glyph_width(&font, '0'));
                for &i in self.order.get(range).unwrap_or_default() {
                    let Some(row) = rows.get(i) else {
                        continue;
                    };
                    let start = row
                        .start_micros
                        .map_or_else(|| "no time".to_owned(), format_utc_micros);
                    let errors = if row.errors > 0 {
                        format!("{} err", row.errors)
                    } else {
                        String::new()
                    };
                    let text = format!(
                        "{start} {} {} sp {errors} {}",
                        format_micros(row.duration_micros),
                        row.spans,
                        row.root_service(interner)
                    );
                    let columns = [
                        (start, 0.0, Align2::LEFT_CENTER),
                        (
                            format_micros(row.duration_micros),
                            29.0 * cw,
                            Align2::RIGHT_CENTER,
                        ),
                        (format!("{} sp", row.spans), 37.0 * cw, Align2::RIGHT_CENTER),
                        (errors, 45.0 * cw, Align2::RIGHT_CENTER),
                        (
                            row.root_service(interner).to_owned(),
                            46.0 * cw,
                            Align2::LEFT_CENTER,
                        ),
                    ];
                    let is_selected = selected == Some(row.trace());
                    let (rect, response) =
                        ui.allocate_exact_size(vec2(width, row_height), Sense::click());
                    response.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, is_selected, &text)
                    });
                    let visuals = ui.visuals();
                    if is_selected {
                        ui.painter()
                            .rect_filled(rect, 2.0, visuals.selection.bg_fill);
                    } else if response.hovered() {
                        ui.painter()
                            .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
                    }
                    let colour = if is_selected {
                        visuals.selection.stroke.color
                    } else {
                        visuals.text_color()
                    };
                    let painter = ui.painter_at(rect);
                    for (column, x, align) in columns {
                        painter.text(
                            pos2(rect.min.x + 4.0 + x, rect.center().y),
                            align,
                            column,
                            font.clone(),
                            colour,
                        );
                    }
                    let response = response.on_hover_text(format!(
                        "Trace {}",
                        model.trace_id(row.trace()).unwrap_or_default()
                    ));
                    if response.clicked() {
                        action = Some(Action::SelectTrace(if is_selected {
                            None
                        } else {
                            Some(row.trace())
                        }));
                    }
                }
            });
        action
    }
}
