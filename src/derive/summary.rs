//! [`TraceRow`]: one trace summed up from its tree (spans, errors, root service, start, duration), for the window's trace list and an aggregate's trace table.

use super::tree::TraceTree;
use crate::model::{Interner, SpigoName, Sym, TraceEntry, TraceStore};

/// One row of the trace list: 40 bytes, since a gigabyte holds over half a million traces (the
/// id and the root's service name are looked up when a row is drawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRow {
    /// Index in [`TraceStore::traces`].
    pub index: u32,
    /// Spans (after merging shared pieces).
    pub spans: u32,
    /// Spans with an `error` tag.
    pub errors: u32,
    /// The root span's service as its span names it (see [`TraceRow::root_service`]).
    pub root: Option<Sym>,
    /// Earliest span start, epoch µs.
    pub start_micros: Option<i64>,
    /// From the earliest start to the latest end, µs.
    pub duration_micros: u64,
}

impl TraceRow {
    /// The root span's service ("unknown" when no span names one); a Spigo name says its
    /// service in one of its fields.
    pub fn root_service<'a>(&self, interner: &'a Interner) -> &'a str {
        self.root
            .map_or("unknown", |s| service_of(interner.resolve(s)))
    }

    /// Index in [`TraceStore::traces`], as a `usize`.
    pub fn trace(&self) -> usize {
        self.index as usize
    }
}

/// The service a span's endpoint name stands for: the service field of a Spigo name, else the
/// name itself.
pub fn service_of(name: &str) -> &str {
    SpigoName::parse_full(name).map_or(name, |n| n.service)
}

/// One trace's row in the trace list, from the tree [`super::levels::build_levels`] built for it
/// (the signature of its `per_trace`).
pub fn trace_row(
    _store: &TraceStore,
    index: usize,
    _entry: &TraceEntry,
    tree: &TraceTree,
) -> TraceRow {
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut errors = 0;
    for s in &tree.spans {
        if s.error {
            errors += 1;
        }
        if let Some(t) = s.timestamp_micros {
            lo = Some(lo.map_or(t, |x| x.min(t)));
            let end = t.saturating_add(s.duration_micros.unwrap_or(0) as i64);
            hi = Some(hi.map_or(end, |x| x.max(end)));
        }
    }
    let root = tree
        .span(tree.root())
        .or_else(|| tree.spans.first())
        .and_then(|s| s.local.service.or(s.remote.service));
    TraceRow {
        index: u32::try_from(index).unwrap_or(u32::MAX),
        spans: u32::try_from(tree.spans.len()).unwrap_or(u32::MAX),
        errors,
        root,
        start_micros: lo,
        duration_micros: match (lo, hi) {
            (Some(lo), Some(hi)) => hi.saturating_sub(lo).max(0) as u64,
            _ => 0,
        },
    }
}
