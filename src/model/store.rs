//! [`TraceStore`]: every span and declared graph element read so far, with spans grouped into traces.

use rayon::prelude::*;

use super::batch::Batch;
use super::ids::{SpanId, TraceId};
use super::span::Span;

/// Most records one span id may have in one trace (a client and a server share one; a few more
/// come from spans reported in pieces). Later copies are left out of the trace and counted
/// ([`TraceStore::left_out`]), so a file cannot make one trace of millions of copies.
pub const MAX_SPANS_PER_ID: usize = 1_000;

/// One trace: its id and the spans in it (indices into [`TraceStore::spans`]).
#[derive(Clone, Debug)]
pub struct TraceEntry {
    /// Normalised trace id.
    pub id: TraceId,
    /// Positions in `TraceStore::order` of the trace's spans.
    pub range: std::ops::Range<u32>,
}

/// Every input merged: spans grouped by normalised trace id across files.
#[derive(Default, Debug, Clone)]
pub struct TraceStore {
    /// Spans, declared elements, strings and arenas.
    pub data: Batch,
    /// Span indices sorted by trace id (then input order).
    order: Vec<u32>,
    /// Traces, sorted by id (opaque ids in input order).
    traces: Vec<TraceEntry>,
    /// Spans left out of their trace by [`MAX_SPANS_PER_ID`] at the last index.
    left_out: u64,
}

impl TraceStore {
    /// Adds a batch; call [`TraceStore::index`] after the last one.
    pub fn append(&mut self, batch: Batch) {
        self.data.append(batch);
    }

    /// Groups spans into traces. A trace split over several files becomes one trace.
    ///
    /// Files mostly hold a trace's spans next to each other, so the spans are cut into runs of
    /// one trace id and the runs are sorted (by key, then position), not every span: the result is
    /// the same as a stable sort of the spans by trace id, at a fraction of the cost.
    pub fn index(&mut self) {
        self.index_in_pieces(1 << 16);
    }

    /// [`TraceStore::index`], finding runs in pieces of `piece` spans.
    fn index_in_pieces(&mut self, piece: usize) {
        let spans = &self.data.spans;
        // Runs of equal trace ids, each with its id inline. Ids sort hex ones by value and opaque
        // ones by symbol, which is deterministic since symbols are numbered in input order.
        // Found on every core, in pieces: a run cut by a piece's end is two runs, which the
        // sort puts next to each other.
        // Runs the batch kept while spans were appended are used as they are; the rest are
        // found here.
        let kept = &self.data.runs;
        let covered = if kept.covered <= spans.len() {
            kept.covered
        } else {
            0
        };
        let mut runs: Vec<(TraceId, u32, u32)> = Vec::new();
        if covered > 0 {
            runs.extend_from_slice(&kept.runs);
        }
        let rest = spans.get(covered..).unwrap_or_default();
        runs.par_extend(
            rest.par_chunks(piece.max(1))
                .enumerate()
                .flat_map_iter(|(n, chunk)| {
                    let mut runs: Vec<(TraceId, u32, u32)> = Vec::new();
                    let first = covered + n * piece.max(1);
                    for (i, s) in chunk.iter().enumerate() {
                        match runs.last_mut() {
                            Some(run) if run.0 == s.trace_id() => run.2 += 1,
                            _ => runs.push((s.trace_id(), (first + i) as u32, 1)),
                        }
                    }
                    runs
                }),
        );
        runs.par_sort_unstable();
        let mut order = Vec::with_capacity(spans.len());
        let mut traces: Vec<TraceEntry> = Vec::new();
        let mut last_key = None;
        for &(id, start, len) in &runs {
            let at = order.len() as u32;
            order.extend(start..start + len);
            if last_key == Some(id) {
                if let Some(t) = traces.last_mut() {
                    t.range.end = order.len() as u32;
                }
                continue;
            }
            last_key = Some(id);
            traces.push(TraceEntry {
                id,
                range: at..order.len() as u32,
            });
        }
        self.order = order;
        self.traces = traces;
        self.left_out = self.cap_repeated_ids();
    }

    /// Leaves out of each trace the copies of a span id beyond [`MAX_SPANS_PER_ID`] (the first
    /// ones in input order stay). Only traces longer than the limit are looked at.
    fn cap_repeated_ids(&mut self) -> u64 {
        if !self
            .traces
            .iter()
            .any(|t| (t.range.end - t.range.start) as usize > MAX_SPANS_PER_ID)
        {
            return 0;
        }
        let mut left_out = 0u64;
        let mut order = Vec::with_capacity(self.order.len());
        let mut counts: rustc_hash::FxHashMap<SpanId, usize> = rustc_hash::FxHashMap::default();
        for trace in &mut self.traces {
            let range = trace.range.start as usize..trace.range.end as usize;
            let members = self.order.get(range).unwrap_or_default();
            let start = order.len() as u32;
            if members.len() > MAX_SPANS_PER_ID {
                counts.clear();
                for &i in members {
                    let Some(span) = self.data.spans.get(i as usize) else {
                        continue;
                    };
                    let seen = counts.entry(span.id()).or_insert(0);
                    *seen += 1;
                    if *seen <= MAX_SPANS_PER_ID {
                        order.push(i);
                    } else {
                        left_out += 1;
                    }
                }
            } else {
                order.extend_from_slice(members);
            }
            trace.range = start..order.len() as u32;
        }
        self.order = order;
        left_out
    }

    /// Spans left out of their trace at the last [`TraceStore::index`] because their span id was
    /// repeated more than [`MAX_SPANS_PER_ID`] times in it.
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// All traces, sorted by id.
    pub fn traces(&self) -> &[TraceEntry] {
        &self.traces
    }

    /// All spans in input order.
    pub fn spans(&self) -> &[Span] {
        &self.data.spans
    }

    /// The store indices of one trace's spans, in input order.
    pub fn trace_indices<'a>(&'a self, trace: &TraceEntry) -> impl Iterator<Item = u32> + 'a {
        let range = trace.range.start as usize..trace.range.end as usize;
        self.order.get(range).unwrap_or(&[]).iter().copied()
    }

    /// The spans of one trace, in input order.
    pub fn trace_spans<'a>(&'a self, trace: &TraceEntry) -> impl Iterator<Item = &'a Span> + 'a {
        let range = trace.range.start as usize..trace.range.end as usize;
        self.order
            .get(range)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.data.spans.get(i as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order trace ids are expected in: 64-bit, then 128-bit, by value; then opaque ids by
    /// symbol.
    fn trace_key(id: TraceId) -> (u8, u64, u64) {
        match id {
            TraceId::Hex64(low) => (0, 0, low),
            TraceId::Hex128 { high, low } => (1, high, low),
            TraceId::Opaque(s) => (2, s.index() as u64, 0),
        }
    }

    #[test]
    fn traces_group_across_batches() {
        let mut store = TraceStore::default();
        for (t, s) in [(1, 1), (2, 2), (1, 3)] {
            let mut b = Batch::default();
            b.spans.push(Span::new(TraceId::Hex64(t), SpanId::Hex(s)));
            store.append(b);
        }
        store.index();
        assert_eq!(store.traces().len(), 2);
        let first = &store.traces()[0];
        let ids: Vec<_> = store.trace_spans(first).map(Span::id).collect();
        assert_eq!(ids, vec![SpanId::Hex(1), SpanId::Hex(3)]);
    }

    /// Sorting runs gives what a stable sort of every span by trace id gives: runs of one trace,
    /// a trace interleaved with others, and hex, 128-bit and opaque ids mixed.
    #[test]
    fn runs_index_like_a_stable_sort_of_spans() {
        let mut b = Batch::default();
        let opaque = TraceId::Opaque(b.sym("abc"));
        let other = TraceId::Opaque(b.sym("0xyz"));
        let ids = [
            TraceId::Hex64(5),
            TraceId::Hex64(5),
            TraceId::Hex128 { high: 1, low: 2 },
            opaque,
            TraceId::Hex64(5),
            TraceId::Hex64(3),
            opaque,
            opaque,
            other,
            TraceId::Hex128 { high: 1, low: 2 },
            TraceId::Hex64(3),
        ];
        for (i, &t) in ids.iter().enumerate() {
            b.spans.push(Span::new(t, SpanId::Hex(i as u64)));
        }
        let mut store = TraceStore::default();
        store.append(b);
        store.index();
        let whole = store.order.clone();
        for piece in [1, 2, 3, 5] {
            store.index_in_pieces(piece);
            assert_eq!(store.order, whole, "pieces of {piece}");
            assert_eq!(store.traces().len(), 5);
        }
        let mut expected: Vec<(u8, u64, u64, usize)> = ids
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let (a, b, c) = trace_key(t);
                (a, b, c, i)
            })
            .collect();
        expected.sort_unstable();
        let got: Vec<Vec<u64>> = store
            .traces()
            .iter()
            .map(|t| {
                store
                    .trace_spans(t)
                    .map(|s| match s.id() {
                        SpanId::Hex(i) => i,
                        SpanId::Opaque(_) => u64::MAX,
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![5, 10],
                vec![0, 1, 4],
                vec![2, 9],
                vec![3, 6, 7],
                vec![8]
            ]
        );
        let flat: Vec<u64> = got.into_iter().flatten().collect();
        let sorted: Vec<u64> = expected.iter().map(|e| e.3 as u64).collect();
        assert_eq!(flat, sorted);
        assert_eq!(store.traces()[3].id, opaque);

        // The same spans appended a few at a time (the batch keeps their runs), then some pushed
        // directly (not covered), index the same.
        let mut joined = Batch::default();
        joined.sym("abc");
        joined.sym("0xyz");
        for (n, piece) in ids.chunks(3).enumerate() {
            let mut part = Batch::default();
            part.sym("abc");
            part.sym("0xyz");
            for (i, &t) in piece.iter().enumerate() {
                part.spans
                    .push(Span::new(t, SpanId::Hex((n * 3 + i) as u64)));
            }
            if n < 3 {
                joined.append_from(&part);
            } else {
                joined.spans.extend_from_slice(&part.spans);
            }
        }
        assert_eq!(joined.runs.covered, 9);
        assert_eq!(joined.runs.runs.len(), 7, "{:?}", joined.runs.runs);
        let mut kept = TraceStore::default();
        kept.append(joined);
        kept.index();
        assert_eq!(kept.order, whole);
        assert_eq!(kept.traces().len(), 5);
    }

    #[test]
    fn a_span_id_repeated_without_end_is_capped() {
        let mut b = Batch::default();
        for _ in 0..MAX_SPANS_PER_ID + 5 {
            b.spans.push(Span::new(TraceId::Hex64(1), SpanId::Hex(7)));
        }
        b.spans.push(Span::new(TraceId::Hex64(1), SpanId::Hex(8)));
        b.spans.push(Span::new(TraceId::Hex64(2), SpanId::Hex(7)));
        let mut store = TraceStore::default();
        store.append(b);
        store.index();
        assert_eq!(store.left_out(), 5);
        let lens: Vec<usize> = store
            .traces()
            .iter()
            .map(|t| store.trace_indices(t).count())
            .collect();
        assert_eq!(lens, vec![MAX_SPANS_PER_ID + 1, 1]);
        // The id 8 span, last in input order, stays.
        assert!(
            store
                .trace_spans(&store.traces()[0])
                .any(|s| s.id() == SpanId::Hex(8))
        );
    }
}
