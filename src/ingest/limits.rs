//! Limits that protect the machine from broken or hostile files; each hit is a counted `limit` warning and the rest of the file loads.
//!
//! - Nesting: values the readers do not use (a nested tag value, unknown members) are skipped
//!   without recursion, as are records by the splitters and the fast path, so depth cannot
//!   exhaust the stack; where `serde_json` does recurse it stops at [`MAX_DEPTH`] levels and the
//!   record is skipped as a `limit` warning.
//! - Strings: one longer than [`MAX_STRING_BYTES`] is cut to that length (at a character
//!   boundary) when it is interned.
//! - Timestamps and durations beyond [`MAX_TIMESTAMP_MICROS`] / [`MAX_DURATION_MICROS`] are
//!   dropped from their span (the span stays).
//! - One span id repeated within a trace more than [`MAX_SPANS_PER_ID`] times: the later copies
//!   are left out of the trace ([`TraceStore::index`](crate::model::TraceStore::index)).

use super::report::{Report, WarningKind};
use crate::model::Batch;

pub use crate::model::intern::MAX_STRING_BYTES;
pub use crate::model::store::MAX_SPANS_PER_ID;
/// Latest start kept: 2200-01-01T00:00:00Z in microseconds.
pub const MAX_TIMESTAMP_MICROS: i64 = 7_258_118_400_000_000;
/// Longest duration kept: ten years in microseconds.
pub const MAX_DURATION_MICROS: u64 = 10 * 366 * 86_400 * 1_000_000;
/// Deepest nesting `serde_json` reads.
pub const MAX_DEPTH: usize = 128;

/// True for `serde_json`'s error when a record nests deeper than [`MAX_DEPTH`].
pub fn is_too_deep(e: &serde_json::Error) -> bool {
    e.classify() == serde_json::error::Category::Syntax
        && e.to_string().starts_with("recursion limit exceeded")
}

/// Applies the batch-level limits to a freshly parsed batch and counts what they changed:
/// strings cut while interning, and timestamps or durations out of range.
pub fn settle(batch: &mut Batch, report: &mut Report) {
    let cut = batch.interner.take_cut();
    if cut > 0 {
        report.warn_n(WarningKind::Limit, cut, || {
            format!("{cut} string(s) longer than {MAX_STRING_BYTES} bytes were cut to that length")
        });
    }
    let mut times = 0u64;
    for span in &mut batch.spans {
        if span
            .timestamp_micros()
            .is_some_and(|t| t > MAX_TIMESTAMP_MICROS)
        {
            span.set_timestamp_micros(None);
            times += 1;
        }
        if span
            .duration_micros()
            .is_some_and(|d| d > MAX_DURATION_MICROS)
        {
            span.set_duration_micros(None);
            times += 1;
        }
    }
    if times > 0 {
        report.warn_n(WarningKind::BadTimestamp, times, || {
            format!(
                "{times} timestamp(s) after 2200 or duration(s) over ten years were dropped (the spans were kept)"
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_deep_is_recognised() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let err = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
        assert!(is_too_deep(&err));
        let err = serde_json::from_str::<serde_json::Value>("[1,").unwrap_err();
        assert!(!is_too_deep(&err));
    }
}
