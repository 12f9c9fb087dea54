//! [`Waterfall`]: one trace's spans as bars on a time axis, nested by parent, coloured by service, with tags in tooltips.

use egui::{Align2, FontId, Rect, ScrollArea, Sense, Stroke, pos2, vec2};

use super::actions::Action;
use super::inspector::format_micros;
use super::paint::color32;
use crate::derive::critical_path::critical_path;
use crate::derive::links::trace_tree;
use crate::derive::skew::corrected_starts;
use crate::model::TraceStore;
use crate::scene::{Style, Theme};

/// One bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRow {
    /// Nesting depth (0 for roots).
    pub depth: usize,
    /// Service (local endpoint).
    pub service: String,
    /// Index of the service in order of first appearance (its colour).
    pub service_index: usize,
    /// Span name.
    pub name: String,
    /// Start relative to the trace's start, µs (`None` when the span has no timestamp).
    pub offset_micros: Option<u64>,
    /// Duration, µs.
    pub duration_micros: u64,
    /// Has an `error` tag.
    pub error: bool,
    /// On the trace's critical path.
    pub critical: bool,
    /// Tags, `key=value`.
    pub tags: Vec<String>,
}

/// The next node to draw: the stack's top, else the first unattached span not drawn yet.
fn next_node(
    stack: &mut Vec<(u32, usize)>,
    unattached: &mut Vec<u32>,
    visited: &[bool],
) -> Option<(u32, usize)> {
    if let Some(top) = stack.pop() {
        return Some(top);
    }
    while let Some(n) = unattached.pop() {
        if !visited.get(n as usize).copied().unwrap_or(true) {
            return Some((n, 0));
        }
    }
    None
}

/// The waterfall of the selected trace.
pub struct Waterfall {
    trace: Option<usize>,
    id: String,
    rows: Vec<SpanRow>,
    /// Spans whose start the clock-skew correction moved.
    skew_corrected: usize,
    total_micros: u64,
    /// The visible part of the time axis, as fractions of the trace's duration.
    window: [f64; 2],
}

impl Default for Waterfall {
    fn default() -> Self {
        Self {
            trace: None,
            id: String::new(),
            rows: Vec::new(),
            skew_corrected: 0,
            total_micros: 1,
            window: [0.0, 1.0],
        }
    }
}

impl Waterfall {
    /// Builds the rows of trace `trace` (its index in the store), depth first from the root.
    pub fn show_trace(&mut self, store: &TraceStore, trace: usize) {
        let Some(entry) = store.traces().get(trace) else {
            *self = Self::default();
            return;
        };
        let interner = &store.data.interner;
        let tree = trace_tree(store, entry);
        // Starts after Zipkin's clock-skew correction (FORMATS.md §1.7), by position in the tree.
        let starts = corrected_starts(&tree);
        let skew_corrected = starts
            .iter()
            .zip(&tree.spans)
            .filter(|(c, s)| **c != s.timestamp_micros)
            .count();
        let mut critical = vec![false; tree.spans.len()];
        for n in critical_path(&tree, &starts) {
            if let Some(slot) = tree.span_position(n).and_then(|i| critical.get_mut(i)) {
                *slot = true;
            }
        }
        let start = starts.iter().flatten().copied().min().unwrap_or(0);
        let mut services: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        let mut total = 0u64;
        // Depth-first; a synthetic root (no span) is not drawn and its children are roots.
        let root = tree.root();
        let mut stack: Vec<(u32, usize)> = if tree.span(root).is_some() {
            vec![(root, 0)]
        } else {
            tree.children(root).iter().rev().map(|&c| (c, 0)).collect()
        };
        let mut visited = vec![false; tree.spans.len() + 1];
        // Spans the tree left unattached (duplicate ids) follow as roots of their own.
        let mut unattached = (0..tree.spans.len() as u32).rev().collect::<Vec<u32>>();
        while let Some((node, depth)) = next_node(&mut stack, &mut unattached, &visited) {
            match visited.get_mut(node as usize) {
                Some(seen) if !*seen => *seen = true,
                _ => continue,
            }
            if let (Some(span), Some(position)) = (tree.span(node), tree.span_position(node)) {
                let service = span
                    .local
                    .service
                    .map_or_else(|| "unknown".to_owned(), |s| interner.resolve(s).to_owned());
                let service_index =
                    services
                        .iter()
                        .position(|s| *s == service)
                        .unwrap_or_else(|| {
                            services.push(service.clone());
                            services.len() - 1
                        });
                let offset = starts
                    .get(position)
                    .copied()
                    .flatten()
                    .map(|t| t.saturating_sub(start).max(0) as u64);
                let duration = span.duration_micros.unwrap_or(0);
                total = total.max(offset.unwrap_or(0) + duration);
                let tags = store
                    .spans()
                    .get(span.index as usize)
                    .map(|s| {
                        store
                            .data
                            .tags_of(s.tags)
                            .iter()
                            .map(|t| {
                                format!("{}={}", interner.resolve(t.key), interner.resolve(t.value))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                rows.push(SpanRow {
                    depth,
                    service,
                    service_index,
                    name: span
                        .name
                        .map_or_else(String::new, |n| interner.resolve(n).to_owned()),
                    offset_micros: offset,
                    duration_micros: duration,
                    error: span.error,
                    critical: critical.get(position).copied().unwrap_or(false),
                    tags,
                });
            }
            for &c in tree.children(node).iter().rev() {
                stack.push((c, depth + 1));
            }
        }
        *self = Self {
            trace: Some(trace),
            id: entry.id.display(interner),
            rows,
            skew_corrected,
            total_micros: total.max(1),
            window: [0.0, 1.0],
        };
    }

    /// Forgets the trace.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The trace shown, if any.
    pub fn trace(&self) -> Option<usize> {
        self.trace
    }

    /// The bars.
    pub fn rows(&self) -> &[SpanRow] {
        &self.rows
    }

    /// Shows the bars; returns `SelectTrace(None)` when closed.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let mut action = None;
        let style = Style::new(if ui.visuals().dark_mode {
            Theme::Dark
        } else {
            Theme::Light
        });
        ui.horizontal(|ui| {
            ui.strong(format!("Trace {}", self.id));
            ui.label(format!("{} spans", self.rows.len()));
            ui.label(format_micros(self.total_micros));
            let critical = self.rows.iter().filter(|r| r.critical).count();
            if critical > 0 {
                ui.colored_label(
                    color32(style.critical),
                    format!("{critical} spans on the critical path"),
                );
            }
            if self.skew_corrected > 0 {
                ui.weak(format!(
                    "clock skew corrected on {} spans",
                    self.skew_corrected
                ));
            }
            if ui.button("Close").clicked() {
                action = Some(Action::SelectTrace(None));
            }
        });
        let row_height = 18.0;
        let total = self.total_micros as f64;
        // The visible time window, µs from the trace's start.
        let [lo, hi] = self.window;
        let (t0, t1) = (lo * total, (hi * total).max(lo * total + 1.0));
        let x_of = |t: f64, x0: f32, axis: f32| x0 + ((t - t0) / (t1 - t0)) as f32 * axis;
        let panel = ui.max_rect();
        // The time axis: ticks at quarters of the window, aligned with the bars below. Drag it
        // to pan, double-click it to see the whole trace; Ctrl+wheel zooms.
        {
            let width = (ui.available_width() - ui.spacing().scroll.bar_width).max(200.0);
            let label_width = (width * 0.35).min(420.0);
            let axis = width - label_width - 8.0;
            let (rect, response) =
                ui.allocate_exact_size(vec2(width, 16.0), Sense::click_and_drag());
            let painter = ui.painter_at(rect);
            let weak = ui.visuals().weak_text_color();
            let x0 = rect.min.x + label_width + 4.0;
            painter.text(
                pos2(rect.min.x + 2.0, rect.center().y),
                Align2::LEFT_CENTER,
                "Click a span to zoom to it · drag here to pan · Ctrl+wheel zooms",
                FontId::proportional(11.0),
                weak,
            );
            for k in 0..=4u32 {
                let t = t0 + (t1 - t0) * f64::from(k) / 4.0;
                let align = match k {
                    0 => Align2::LEFT_CENTER,
                    4 => Align2::RIGHT_CENTER,
                    _ => Align2::CENTER_CENTER,
                };
                painter.text(
                    pos2(x_of(t, x0, axis), rect.center().y),
                    align,
                    format_micros(t.max(0.0) as u64),
                    FontId::proportional(11.0),
                    weak,
                );
            }
            let width_frac = hi - lo;
            if response.dragged() {
                let d = f64::from(-response.drag_delta().x / axis.max(1.0)) * width_frac;
                let d = d.clamp(-lo, 1.0 - hi);
                self.window = [lo + d, hi + d];
            }
            if response.double_clicked() {
                self.window = [0.0, 1.0];
            }
            let zoom = if ui.rect_contains_pointer(panel) {
                ui.input(egui::InputState::zoom_delta)
            } else {
                1.0
            };
            if (zoom - 1.0).abs() > 1e-4 {
                let pointer = ui.input(|i| i.pointer.hover_pos()).map_or(0.5, |p| {
                    f64::from(((p.x - x0) / axis.max(1.0)).clamp(0.0, 1.0))
                });
                let at = lo + pointer * width_frac;
                let new_width = (width_frac / f64::from(zoom)).clamp(1e-6, 1.0);
                let new_lo = (at - pointer * new_width).clamp(0.0, 1.0 - new_width);
                self.window = [new_lo, new_lo + new_width];
            }
        }
        let mut zoom_to = None;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, self.rows.len(), |ui, range| {
                let width = ui.available_width().max(200.0);
                let label_width = (width * 0.35).min(420.0);
                let axis = width - label_width - 8.0;
                for row in self.rows.get(range).unwrap_or_default() {
                    let (rect, response) =
                        ui.allocate_exact_size(vec2(width, row_height), Sense::click());
                    let painter = ui.painter_at(rect);
                    let colour = color32(style.series(row.service_index));
                    let text_colour = ui.visuals().text_color();
                    let indent = row.depth as f32 * 10.0;
                    let label = Rect::from_min_size(rect.min, vec2(label_width, row_height));
                    painter.with_clip_rect(label).text(
                        pos2(rect.min.x + indent + 2.0, rect.center().y),
                        Align2::LEFT_CENTER,
                        format!("{} {}", row.service, row.name),
                        FontId::proportional(12.0),
                        text_colour,
                    );
                    let x0 = rect.min.x + label_width + 4.0;
                    let start = row.offset_micros.unwrap_or(0) as f64;
                    let end = start + row.duration_micros as f64;
                    let left = x_of(start, x0, axis);
                    let right = x_of(end, x0, axis).max(left + 2.0);
                    let bar = Rect::from_min_max(
                        pos2(left, rect.min.y + 3.0),
                        pos2(right, rect.max.y - 3.0),
                    );
                    let bars = painter.with_clip_rect(Rect::from_min_max(
                        pos2(x0 - 1.0, rect.min.y),
                        pos2(x0 + axis + 1.0, rect.max.y),
                    ));
                    bars.rect_filled(bar, 2.0, colour);
                    if row.critical {
                        // A band under the bar: the spans that set the trace's latency.
                        let band = Rect::from_min_max(
                            pos2(left, rect.max.y - 3.0),
                            pos2(right, rect.max.y - 0.5),
                        );
                        bars.rect_filled(band, 0.0, color32(style.critical));
                    }
                    if row.error {
                        bars.rect_stroke(
                            bar,
                            2.0,
                            Stroke::new(1.5, color32(style.error_ring)),
                            egui::StrokeKind::Outside,
                        );
                    }
                    if response.clicked() {
                        zoom_to = Some((start, end));
                    }
                    response.on_hover_ui(|ui| {
                        ui.strong(format!("{} {}", row.service, row.name));
                        ui.label(format!(
                            "Start +{} · duration {}",
                            format_micros(row.offset_micros.unwrap_or(0)),
                            format_micros(row.duration_micros)
                        ));
                        if row.error {
                            ui.label("Error");
                        }
                        if row.critical {
                            ui.label("On the critical path");
                        }
                        for tag in row.tags.iter().take(20) {
                            ui.label(tag);
                        }
                    });
                }
            });
        if let Some((start, end)) = zoom_to {
            // The span fills four fifths of the axis.
            let pad = ((end - start) * 0.125).max(1.0);
            let lo = ((start - pad) / total).clamp(0.0, 1.0);
            let hi = ((end + pad) / total).clamp(lo + 1e-6, 1.0);
            self.window = [lo, hi];
        }
        action
    }
}
