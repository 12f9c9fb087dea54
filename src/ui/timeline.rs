//! [`TimelineStrip`]: calls and errors over time under the canvas, the time of the first and last span, the counts under the pointer, a window dragged out on it, and a replay that moves it along.

use super::actions::Action;
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

/// How much of the newest data "Follow" keeps in the window, µs.
pub const FOLLOW_MICROS: i64 = 60_000_000;

/// Replay speeds offered, times real time.
const SPEEDS: [f64; 4] = [1.0, 10.0, 60.0, 600.0];

/// The strip; it remembers where a drag started and how a replay runs (the model holds the
/// histogram).
#[derive(Default)]
pub struct TimelineStrip {
    /// Where the drag now choosing a window started, 0..1 along the strip.
    drag_from: Option<f32>,
    /// Replaying: the window moves along at `speed` times real time.
    playing: bool,
    /// Index in [`SPEEDS`].
    speed: usize,
    /// When the window last moved (the ui's clock, s).
    moved_at: Option<f64>,
    /// While tailing live: the window stays on the newest minute as the strip grows.
    following: bool,
}

impl TimelineStrip {
    /// The replay speed, times real time.
    fn speed(&self) -> f64 {
        SPEEDS.get(self.speed).copied().unwrap_or(1.0)
    }

    /// Whether a replay is running.
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Whether the window follows the newest minute of a live tail.
    pub fn following(&self) -> bool {
        self.following
    }

    /// The newest minute of `histogram`: the window "Follow" keeps.
    pub fn newest_minute(histogram: &Histogram) -> (i64, i64) {
        (
            histogram.end.saturating_sub(FOLLOW_MICROS),
            histogram.end.saturating_add(1),
        )
    }

    /// The Play / Stop button and the speed; while playing, the window's next step once the
    /// last one is on screen (`busy`: a window's graph is still being derived).
    fn replay_ui(
        &mut self,
        ui: &mut egui::Ui,
        histogram: &Histogram,
        window: Option<(i64, i64)>,
        busy: bool,
        live: bool,
    ) -> Option<Action> {
        let mut action = None;
        if !live {
            self.following = false;
        }
        ui.horizontal(|ui| {
            if live
                && ui
                    .selectable_label(self.following, "Follow")
                    .on_hover_text("Keep the window on the newest minute as the files grow")
                    .clicked()
            {
                self.following = !self.following;
                self.playing = false;
                if !self.following {
                    action = Some(Action::SetWindow(None));
                }
            }
            // "Stop", not "Pause": the live tail's button is called that.
            let label = if self.playing { "Stop" } else { "Play" };
            if ui
                .button(label)
                .on_hover_text("Move the window along the run, showing each moment's graph")
                .clicked()
            {
                self.playing = !self.playing;
                self.following = false;
                self.moved_at = None;
            }
            let speed = self.speed();
            egui::ComboBox::from_label("speed")
                .selected_text(format!("{speed}×"))
                .show_ui(ui, |ui| {
                    for (i, s) in SPEEDS.iter().enumerate() {
                        ui.selectable_value(&mut self.speed, i, format!("{s}×"));
                    }
                });
            match window {
                Some((from, to)) => {
                    ui.weak(format!(
                        "window {} – {} UTC (double-click the strip for all)",
                        utc_millis(from),
                        utc_millis(to)
                    ));
                }
                None => {
                    ui.weak("drag on the strip to show the traces that start in a window");
                }
            }
        });
        if self.following {
            // Each time the strip grows, the window moves on to its newest minute.
            let newest = Self::newest_minute(histogram);
            return (window != Some(newest) && !busy).then_some(Action::SetWindow(Some(newest)));
        }
        if !self.playing {
            return action;
        }
        ui.ctx().request_repaint();
        let now = ui.input(|i| i.time);
        let range = (histogram.end - histogram.start).max(1);
        let (from, to) = window.unwrap_or((histogram.start, histogram.start + range / 10));
        let Some(last) = self.moved_at else {
            self.moved_at = Some(now);
            if window.is_none() {
                action = Some(Action::SetWindow(Some((from, to))));
            }
            return action;
        };
        if busy {
            return None;
        }
        let step = ((now - last) * self.speed() * 1e6) as i64;
        if step <= 0 {
            return None;
        }
        self.moved_at = Some(now);
        if from + step > histogram.end {
            // The end of the run: the replay stops on the last window.
            self.playing = false;
            return None;
        }
        Some(Action::SetWindow(Some((from + step, to + step))))
    }
}

impl TimelineStrip {
    /// Draws `histogram` across the available width with `window` shaded; dragging chooses a
    /// window (the traces that start in it), a double click shows every trace again, Play moves
    /// the window along (`busy`: a window's graph is still being derived).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        histogram: &Histogram,
        window: Option<(i64, i64)>,
        busy: bool,
        live: bool,
    ) -> Option<Action> {
        let replay = self.replay_ui(ui, histogram, window, busy, live);
        let width = ui.available_width().max(1.0);
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(width, HEIGHT), egui::Sense::click_and_drag());
        let along = |x: f32| ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
        let mut action = None;
        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.drag_from = Some(along(p.x));
        }
        let dragging = self
            .drag_from
            .zip(response.interact_pointer_pos().map(|p| along(p.x)));
        if response.drag_stopped()
            && let Some((a, b)) = dragging
        {
            self.drag_from = None;
            let (a, b) = (a.min(b), a.max(b));
            if b - a > 0.002 {
                action = Some(Action::SetWindow(Some((
                    histogram.time_at(a),
                    histogram.time_at(b),
                ))));
            }
        }
        if response.double_clicked() && window.is_some() {
            self.playing = false;
            action = Some(Action::SetWindow(None));
        }
        if action.is_some() {
            // A window chosen by hand stops a replay and following.
            self.playing = false;
            self.following = false;
        }
        let action = action.or(replay);
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
        // The window shown, or the one being dragged out.
        let span = (histogram.end - histogram.start).max(1) as f32;
        let shaded = match (self.drag_from, dragging) {
            (Some(_), Some((a, b))) => Some((a.min(b), a.max(b))),
            _ => window.map(|(from, to)| {
                (
                    (from - histogram.start) as f32 / span,
                    (to - histogram.start) as f32 / span,
                )
            }),
        };
        if let Some((a, b)) = shaded {
            let x = |t: f32| rect.left() + t.clamp(0.0, 1.0) * rect.width();
            let shade = egui::Rect::from_min_max(
                egui::pos2(x(a), rect.top()),
                egui::pos2(x(b), rect.bottom()),
            );
            painter.rect_filled(shade, 0.0, visuals.selection.bg_fill.gamma_multiply(0.35));
            painter.rect_stroke(
                shade,
                0.0,
                egui::Stroke::new(1.0, visuals.selection.stroke.color),
                egui::StrokeKind::Inside,
            );
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
        let response = response.on_hover_cursor(egui::CursorIcon::ResizeHorizontal);
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
        action
    }
}
