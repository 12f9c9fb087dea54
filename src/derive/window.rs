//! Time windows: `--from`/`--to` spellings, and the store of the traces that start inside a window.
//!
//! A trace starts at its earliest span start (the root's start when clocks agree; what the trace
//! list shows as Start) and belongs to a window `[from, to)` when that start is inside it, so a
//! trace is never split and every level is derived from whole traces, with Zipkin's rules
//! unchanged. Declared graph elements (Spigo's nodes and edges) carry no trace and are kept.

use crate::model::{Span, TraceStore};

/// One end of a window, as written on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBound {
    /// An instant, epoch microseconds (RFC 3339 on the command line).
    At(i64),
    /// This long after the first trace's start (`+30s`).
    AfterFirst(i64),
    /// This long before the last trace's start (`-5m`).
    BeforeLast(i64),
}

impl TimeBound {
    /// Parses `2024-05-06T07:08:09Z` (any RFC 3339 offset and fraction), `+DURATION` (after the
    /// first trace's start) or `-DURATION` (before the last's); a duration is numbers with units
    /// `us`, `ms`, `s`, `m`, `h`, `d`, one after the other (`1m30s`, `+0.5s`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || {
            format!(
                "{text:?} is not a time: write RFC 3339 (2024-05-06T07:08:09Z), +DURATION after the \
                 first trace or -DURATION before the last (units us, ms, s, m, h, d: +30s, -5m, +1m30s)"
            )
        };
        if let Some(rest) = text.strip_prefix('+') {
            return parse_duration(rest).map(Self::AfterFirst).ok_or_else(bad);
        }
        if let Some(rest) = text.strip_prefix('-') {
            return parse_duration(rest).map(Self::BeforeLast).ok_or_else(bad);
        }
        crate::ingest::json::rfc3339_micros(text)
            .map(Self::At)
            .ok_or_else(bad)
    }

    /// The instant, given the first and last trace starts.
    pub fn resolve(self, first: i64, last: i64) -> i64 {
        match self {
            Self::At(t) => t,
            Self::AfterFirst(d) => first.saturating_add(d),
            Self::BeforeLast(d) => last.saturating_sub(d),
        }
    }
}

/// Microseconds of `1m30s`, `0.5s`, `250ms`; `None` when it is not one.
fn parse_duration(text: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match rest.get(..unit)? {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" => 60e6,
            "h" => 3600e6,
            "d" => 86_400e6,
            _ => return None,
        };
        rest = rest.get(unit..)?;
        total += number * scale;
    }
    (total.is_finite() && total < 9e18).then_some(total.round() as i64)
}

/// Where each trace starts (its earliest span start), in store order; `None` for a trace whose
/// spans have no time.
pub fn trace_starts(store: &TraceStore) -> Vec<Option<i64>> {
    store
        .traces()
        .iter()
        .map(|t| {
            store
                .trace_indices(t)
                .filter_map(|i| store.spans().get(i as usize)?.timestamp_micros())
                .min()
        })
        .collect()
}

/// A window resolved to instants, `[from, to)`; either end may be open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Window {
    /// First instant inside (µs).
    pub from: Option<i64>,
    /// First instant after (µs).
    pub to: Option<i64>,
}

impl Window {
    /// Resolves `from` and `to` against the first and last trace starts of `starts`.
    pub fn resolve(from: Option<TimeBound>, to: Option<TimeBound>, starts: &[Option<i64>]) -> Self {
        let first = starts.iter().flatten().min().copied().unwrap_or(0);
        let last = starts.iter().flatten().max().copied().unwrap_or(0);
        Self {
            from: from.map(|b| b.resolve(first, last)),
            to: to.map(|b| b.resolve(first, last)),
        }
    }

    /// True when a trace starting at `start` is inside (a trace without a time is inside only
    /// an unbounded window).
    pub fn contains(&self, start: Option<i64>) -> bool {
        match start {
            Some(t) => self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e),
            None => self.from.is_none() && self.to.is_none(),
        }
    }
}

/// The store holding only the traces of `store` that start inside `window` (indexed), with the
/// declared graph elements; `starts` are [`trace_starts`] of `store`.
pub fn windowed(store: &TraceStore, window: Window, starts: &[Option<i64>]) -> TraceStore {
    traces_where(store, |t| {
        starts.get(t).is_some_and(|&s| window.contains(s))
    })
}

/// A copy of `store` (indexed) with the spans of the traces `keep` says yes to (by number) and
/// every declared graph element.
fn traces_where(store: &TraceStore, mut keep: impl FnMut(usize) -> bool) -> TraceStore {
    let mut flags = vec![false; store.spans().len()];
    for (t, trace) in store.traces().iter().enumerate() {
        if keep(t) {
            for i in store.trace_indices(trace) {
                if let Some(k) = flags.get_mut(i as usize) {
                    *k = true;
                }
            }
        }
    }
    let mut flags = flags.into_iter();
    spans_where(store, |_| flags.next().unwrap_or(false))
}

/// A copy of `store` (indexed) with only the spans `keep` says yes to (asked once per span, in
/// store order) and every declared graph element.
pub fn spans_where(store: &TraceStore, keep: impl FnMut(&Span) -> bool) -> TraceStore {
    let mut out = TraceStore::default();
    out.append(store.data.subset(keep));
    out.index();
    out
}

/// A copy of `store` (indexed) holding only trace `trace`'s spans, as its trace 0, with the same
/// strings (so its symbols are `store`'s) and the declared graph elements.
pub fn one_trace(store: &TraceStore, trace: usize) -> TraceStore {
    traces_where(store, |t| t == trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_a_bound() {
        assert_eq!(
            TimeBound::parse("+30s"),
            Ok(TimeBound::AfterFirst(30_000_000))
        );
        assert_eq!(
            TimeBound::parse("-5m"),
            Ok(TimeBound::BeforeLast(300_000_000))
        );
        assert_eq!(
            TimeBound::parse("+1m30s"),
            Ok(TimeBound::AfterFirst(90_000_000))
        );
        assert_eq!(TimeBound::parse("+0.5ms"), Ok(TimeBound::AfterFirst(500)));
        assert_eq!(
            TimeBound::parse("2024-05-06T07:08:09.5Z"),
            Ok(TimeBound::At(1_714_979_289_500_000))
        );
        for bad in [
            "",
            "+",
            "+5",
            "+5x",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "+1e99s",
        ] {
            assert!(TimeBound::parse(bad).is_err(), "{bad}");
        }
        let w = Window::resolve(
            Some(TimeBound::AfterFirst(10)),
            Some(TimeBound::BeforeLast(10)),
            &[Some(100), None, Some(200)],
        );
        assert_eq!((w.from, w.to), (Some(110), Some(190)));
        assert!(w.contains(Some(110)) && !w.contains(Some(190)) && !w.contains(None));
    }
}
