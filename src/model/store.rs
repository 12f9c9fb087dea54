//! [`TraceStore`]: every span and declared graph element read so far, with spans grouped into traces.

use rayon::prelude::*;

use super::batch::Batch;
use super::ids::TraceId;
use super::span::Span;

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
    /// Traces, sorted by id.
    traces: Vec<TraceEntry>,
}

impl TraceStore {
    /// Adds a batch; call [`TraceStore::index`] after the last one.
    pub fn append(&mut self, batch: Batch) {
        self.data.append(batch);
    }

    /// Groups spans into traces. A trace split over several files becomes one trace.
    pub fn index(&mut self) {
        let spans = &self.data.spans;
        let mut order: Vec<u32> = (0..spans.len() as u32).collect();
        let interner = &self.data.interner;
        let key = |i: &u32| spans.get(*i as usize).map(|s| s.trace_id);
        order.par_sort_by(|a, b| match (key(a), key(b)) {
            (Some(TraceId::Opaque(x)), Some(TraceId::Opaque(y))) => {
                interner.resolve(x).cmp(interner.resolve(y)).then(a.cmp(b))
            }
            (x, y) => x.cmp(&y).then(a.cmp(b)),
        });
        let mut traces = Vec::new();
        let mut start = 0u32;
        for (pos, window) in order.windows(2).enumerate() {
            if let [a, b] = window
                && key(a) != key(b)
            {
                if let Some(id) = key(a) {
                    traces.push(TraceEntry {
                        id,
                        range: start..pos as u32 + 1,
                    });
                }
                start = pos as u32 + 1;
            }
        }
        if let Some(last) = order.last()
            && let Some(id) = key(last)
        {
            traces.push(TraceEntry {
                id,
                range: start..order.len() as u32,
            });
        }
        self.order = order;
        self.traces = traces;
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
    use crate::model::ids::SpanId;

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
        let ids: Vec<_> = store.trace_spans(first).map(|s| s.id).collect();
        assert_eq!(ids, vec![SpanId::Hex(1), SpanId::Hex(3)]);
    }
}
