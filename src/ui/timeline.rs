//! [`TimelineStrip`]: calls and errors over time under the canvas, one bar per pixel column, with the time of the first and last span and the counts under the pointer.

use crate::derive::timeline::Histogram;
use crate::model::time::format_utc_micros;

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
fn utc_millis(micros: i64) -> String {
    format!(
        "{}.{:03}",
        format_utc_micros(micros),
        micros.rem_euclid(1_000_000) / 1000
    )
}

/// Height of the strip's bars, px.
const HEIGHT: f32 = 44.0;

/// The strip (it keeps nothing between frames: the model holds the histogram).
#[derive(Default)]
pub struct TimelineStrip;

impl TimelineStrip {
    /// Draws `histogram` across the available width.
    pub fn ui(&mut self, ui: &mut egui::Ui, histogram: &Histogram) {
        let width = ui.available_width().max(1.0);
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(width, HEIGHT), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let visuals = ui.visuals();
        painter.rect_filled(rect, 2.0, visuals.extreme_bg_color);
        // Columns of three pixels: one-pixel bars of a few spans each read as noise.
        let columns = ((rect.width() / 3.0) as usize).max(1);
        let (calls, errors) = histogram.resampled(columns);
        let top = calls.iter().copied().max().unwrap_or(0).max(1) as f32;
        let bar = rect.width() / columns as f32;
        let calls_color = visuals.weak_text_color();
        let error_color = visuals.error_fg_color;
        for (i, (&c, &e)) in calls.iter().zip(&errors).enumerate() {
            if c == 0 {
                continue;
            }
            let x = rect.left() + i as f32 * bar;
            let h = (c as f32 / top) * (rect.height() - 4.0);
            painter.rect_filled(
                egui::Rect::from_min_max(
                    egui::pos2(x, rect.bottom() - h),
                    egui::pos2(x + bar, rect.bottom()),
                ),
                0.0,
                calls_color,
            );
            if e > 0 {
                let h = (e as f32 / top) * (rect.height() - 4.0);
                painter.rect_filled(
                    egui::Rect::from_min_max(
                        egui::pos2(x, rect.bottom() - h.max(2.0)),
                        egui::pos2(x + bar, rect.bottom()),
                    ),
                    0.0,
                    error_color,
                );
            }
        }
        let font = egui::FontId::proportional(11.0);
        let text = visuals.text_color();
        painter.text(
            rect.left_top() + egui::vec2(4.0, 2.0),
            egui::Align2::LEFT_TOP,
            format!("{} UTC", utc_millis(histogram.start)),
            font.clone(),
            text,
        );
        painter.text(
            rect.right_top() + egui::vec2(-4.0, 2.0),
            egui::Align2::RIGHT_TOP,
            format!("{} UTC", utc_millis(histogram.end)),
            font,
            text,
        );
        if let Some(pos) = response.hover_pos() {
            let i = (((pos.x - rect.left()) / bar) as usize).min(columns - 1);
            let at = |k: usize| histogram.time_at(k as f32 / columns as f32);
            let (c, e) = (
                calls.get(i).copied().unwrap_or(0),
                errors.get(i).copied().unwrap_or(0),
            );
            response.on_hover_text(format!(
                "{} – {} UTC\n{c} spans started, {e} with errors",
                utc_millis(at(i)),
                utc_millis(at(i + 1)),
            ));
        }
    }
}
