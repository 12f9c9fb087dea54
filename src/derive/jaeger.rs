//! Jaeger's dependency rule: the links Jaeger's own job (spark-dependencies' `SpansToDependencyLinks`) derives from a trace of Jaeger spans.
//!
//! Jaeger does not build Zipkin's tree: it looks at the spans as stored, by id, and follows every
//! reference. For one trace, with `group(id)` the spans carrying that span id (more than one only
//! in Zipkin's shared-span style):
//!
//! 1. For each group, in first-seen order: walking its spans in order, a `client`/`producer`
//!    span sets the caller's service and a `server`/`consumer` span the callee's; as soon as both
//!    are set, one link caller → callee, and the group is done.
//! 2. Then for each span, in order, that has references and a service:
//!    - a span in a group of several that is not a `client` is skipped (its link came from 1);
//!    - for each reference (`CHILD_OF` and `FOLLOWS_FROM` alike, to whatever trace), when the
//!      referred id is in this trace: if its group has several spans, the first `server` span
//!      among them is the parent (none: no link); otherwise the one span is, if it has a service.
//!      One link parent's service → this span's service; **same-service links are kept**;
//!    - when no span refers to this span (a leaf) and it has a `peer.service` tag, one link
//!      this span's service → that peer.
//! 3. A reference whose span is not in the trace (a missing parent) gives nothing; nothing is an
//!    error, and a span without a service gives no link and takes none.
//!
//! Jaeger counts calls only. flowscope also counts a call as failed when the span that made the
//! link (the referring span, or the shared pair's client or server) has an `error` tag, and
//! keeps that span's duration for latency. At the instance level the same rule runs on
//! instances in place of services; zones and regions roll those links up, as for Zipkin's rule.

use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashSet};

use super::links::Side;
use super::tree::TreeSpan;
use crate::model::{Kind, SpanId};

/// One trace's spans as read (not merged) with every reference, for [`link_jaeger`].
#[derive(Clone, Debug, Default)]
pub struct JaegerSpans {
    /// The spans, in store order.
    pub spans: Vec<TreeSpan>,
    /// The references of all spans, span after span.
    pub refs: Vec<SpanId>,
    /// Where each span's references start in `refs` (one more entry than `spans`).
    pub ref_starts: Vec<u32>,
}

impl JaegerSpans {
    /// Adds a span with its references.
    pub fn push(&mut self, span: TreeSpan, refs: impl IntoIterator<Item = SpanId>) {
        if self.ref_starts.is_empty() {
            self.ref_starts.push(0);
        }
        self.spans.push(span);
        self.refs.extend(refs);
        self.ref_starts.push(self.refs.len() as u32);
    }

    /// The references of span `i`.
    fn refs_of(&self, i: usize) -> &[SpanId] {
        let start = self.ref_starts.get(i).copied().unwrap_or(0) as usize;
        let end = self.ref_starts.get(i + 1).copied().unwrap_or(0) as usize;
        self.refs.get(start..end).unwrap_or_default()
    }
}

/// Jaeger's links of one trace (see the module's rule), each given to
/// `add(parent, child, error, duration)` in the order Jaeger finds them. `name` gives a span
/// side's node at the level being linked.
pub fn link_jaeger<K, F>(
    trace: &JaegerSpans,
    name: &F,
    add: &mut impl FnMut(K, K, bool, Option<u64>),
) where
    K: Copy + Eq,
    F: Fn(&TreeSpan, Side) -> Option<K>,
{
    let spans = &trace.spans;
    let mut groups: IndexMap<SpanId, Vec<usize>, FxBuildHasher> = IndexMap::default();
    for (i, s) in spans.iter().enumerate() {
        groups.entry(s.id).or_default().push(i);
    }
    let referred: FxHashSet<SpanId> = trace.refs.iter().copied().collect();

    // 1. Zipkin-style shared spans: the client's service → the server's.
    for group in groups.values() {
        let mut client: Option<(K, &TreeSpan)> = None;
        let mut server: Option<(K, &TreeSpan)> = None;
        for s in group.iter().filter_map(|&i| spans.get(i)) {
            match s.kind {
                Some(Kind::Client | Kind::Producer) => {
                    client = name(s, Side::Local).map(|k| (k, s));
                }
                Some(Kind::Server | Kind::Consumer) => {
                    server = name(s, Side::Local).map(|k| (k, s));
                }
                None => {}
            }
            if let (Some((c, cs)), Some((v, vs))) = (client, server) {
                add(c, v, cs.error || vs.error, vs.duration_micros);
                break;
            }
        }
    }

    // 2. Every reference: the referred span's service → the span's.
    for (i, span) in spans.iter().enumerate() {
        let refs = trace.refs_of(i);
        if refs.is_empty() {
            continue;
        }
        let Some(child) = name(span, Side::Local) else {
            continue;
        };
        let shared = groups.get(&span.id).is_some_and(|g| g.len() > 1);
        if shared && span.kind != Some(Kind::Client) {
            continue;
        }
        for to in refs {
            let Some(parents) = groups.get(to) else {
                continue;
            };
            let parent = if parents.len() > 1 {
                parents
                    .iter()
                    .filter_map(|&p| spans.get(p))
                    .find(|p| p.kind == Some(Kind::Server))
            } else {
                parents.first().and_then(|&p| spans.get(p))
            };
            if let Some(parent) = parent.and_then(|p| name(p, Side::Local)) {
                add(parent, child, span.error, span.duration_micros);
            }
        }
        // A leaf calling something not traced, named by its `peer.service`.
        if !referred.contains(&span.id)
            && span.remote.service.is_some()
            && let Some(peer) = name(span, Side::Remote)
        {
            add(child, peer, span.error, span.duration_micros);
        }
    }
}
