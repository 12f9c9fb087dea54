//! Calls and errors over time: span starts counted in equal bins from the first to the last, what the window's timeline strip draws.

use rayon::prelude::*;

use crate::model::TraceStore;

/// Spans starting in each of equal bins over `[start, end]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// First span start, epoch µs.
    pub start: i64,
    /// Last span start, epoch µs.
    pub end: i64,
    /// Spans starting in each bin.
    pub calls: Vec<u32>,
    /// Of those, the spans with an `error` tag.
    pub errors: Vec<u32>,
}

impl Histogram {
    /// The spans of `store` in `bins` bins (at least one); `None` when no span has a time.
    pub fn of(store: &TraceStore, bins: usize) -> Option<Self> {
        let bins = bins.max(1);
        let spans = store.spans();
        let (start, end) = spans
            .par_iter()
            .filter_map(crate::model::Span::timestamp_micros)
            .fold(
                || None,
                |acc: Option<(i64, i64)>, t| {
                    Some(acc.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
                },
            )
            .reduce(
                || None,
                |a, b| match (a, b) {
                    (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
                    (a, b) => a.or(b),
                },
            )?;
        let error = store.data.interner.get("error");
        let span_width = (end - start).max(1) as f64;
        let bin_of =
            |t: i64| (((t - start) as f64 / span_width * bins as f64) as usize).min(bins - 1);
        let (calls, errors) = spans
            .par_chunks(1 << 16)
            .map(|chunk| {
                let mut calls = vec![0u32; bins];
                let mut errors = vec![0u32; bins];
                for s in chunk {
                    let Some(t) = s.timestamp_micros() else {
                        continue;
                    };
                    let b = bin_of(t);
                    if let Some(c) = calls.get_mut(b) {
                        *c = c.saturating_add(1);
                    }
                    let failed = error
                        .is_some_and(|k| store.data.tags_of(s.tags).iter().any(|t| t.key == k));
                    if failed && let Some(e) = errors.get_mut(b) {
                        *e = e.saturating_add(1);
                    }
                }
                (calls, errors)
            })
            .reduce(
                || (vec![0; bins], vec![0; bins]),
                |(mut c, mut e), (c2, e2)| {
                    for (a, b) in c.iter_mut().zip(c2) {
                        *a = a.saturating_add(b);
                    }
                    for (a, b) in e.iter_mut().zip(e2) {
                        *a = a.saturating_add(b);
                    }
                    (c, e)
                },
            );
        Some(Self {
            start,
            end,
            calls,
            errors,
        })
    }

    /// The same counts in `n` bins (each sums whole source bins), for a strip `n` pixels wide.
    pub fn resampled(&self, n: usize) -> (Vec<u32>, Vec<u32>) {
        let n = n.max(1);
        let m = self.calls.len().max(1);
        let mut calls = vec![0u32; n];
        let mut errors = vec![0u32; n];
        for (i, (&c, &e)) in self.calls.iter().zip(&self.errors).enumerate() {
            let j = (i * n / m).min(n - 1);
            if let (Some(a), Some(b)) = (calls.get_mut(j), errors.get_mut(j)) {
                *a = a.saturating_add(c);
                *b = b.saturating_add(e);
            }
        }
        (calls, errors)
    }

    /// The instant at `x` in `[0, 1]` along the strip.
    pub fn time_at(&self, x: f32) -> i64 {
        self.start + ((self.end - self.start) as f64 * f64::from(x.clamp(0.0, 1.0))) as i64
    }
}
