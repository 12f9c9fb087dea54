//! Zipkin's trace tree: `Trace.merge` (fold pieces, backfill `shared`) and `SpanNode.Builder` (keys, roots, orphans).

use std::cmp::Ordering;

use indexmap::IndexMap;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::model::{Endpoint, Interner, Kind, Span, SpanId, Sym, TraceStore};

/// A span as the tree holds it: the fields linking and drawing need, after pieces are merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeSpan {
    /// Index in the store of the span's first piece (for its tags and annotations).
    pub index: u32,
    /// Span id.
    pub id: SpanId,
    /// Parent id.
    pub parent_id: Option<SpanId>,
    /// Kind.
    pub kind: Option<Kind>,
    /// Shared server span.
    pub shared: bool,
    /// Local endpoint.
    pub local: Endpoint,
    /// Remote endpoint.
    pub remote: Endpoint,
    /// Has an `error` tag.
    pub error: bool,
    /// Start, epoch microseconds.
    pub timestamp_micros: Option<i64>,
    /// Duration, microseconds.
    pub duration_micros: Option<u64>,
    /// Name.
    pub name: Option<Sym>,
}

impl TreeSpan {
    /// From a stored span; `error_key` is the interned `"error"`, if interned at all.
    pub fn from_span(
        index: u32,
        span: &Span,
        tags: &[crate::model::Tag],
        error_key: Option<Sym>,
    ) -> Self {
        let error = error_key.is_some_and(|k| tags.iter().any(|t| t.key == k));
        Self {
            index,
            id: span.id(),
            parent_id: span.parent_id(),
            kind: span.kind,
            shared: span.shared,
            local: span.local,
            remote: span.remote,
            error,
            timestamp_micros: span.timestamp_micros(),
            duration_micros: span.duration_micros(),
            name: span.name,
        }
    }
}

fn cmp_id(a: SpanId, b: SpanId, interner: &Interner) -> Ordering {
    match (a, b) {
        (SpanId::Hex(x), SpanId::Hex(y)) => x.cmp(&y),
        (SpanId::Opaque(x), SpanId::Opaque(y)) => interner.resolve(x).cmp(interner.resolve(y)),
        (SpanId::Hex(_), SpanId::Opaque(_)) => Ordering::Less,
        (SpanId::Opaque(_), SpanId::Hex(_)) => Ordering::Greater,
    }
}

/// `nullSafeCompareTo`: nulls last.
fn cmp_sym(a: Option<Sym>, b: Option<Sym>, interner: &Interner) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => interner.resolve(x).cmp(interner.resolve(y)),
    }
}

/// `Trace.CLEANUP_COMPARATOR`: by id, then non-shared (clients first) before shared, then endpoint.
fn cleanup_order(a: &TreeSpan, b: &TreeSpan, interner: &Interner) -> Ordering {
    cmp_id(a.id, b.id, interner)
        .then_with(|| match (a.shared, b.shared) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let (ac, bc) = (a.kind == Some(Kind::Client), b.kind == Some(Kind::Client));
                bc.cmp(&ac)
            }
        })
        .then_with(|| match (a.local.is_empty(), b.local.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => cmp_sym(a.local.service, b.local.service, interner)
                .then_with(|| cmp_sym(a.local.ipv4, b.local.ipv4, interner))
                .then_with(|| cmp_sym(a.local.ipv6, b.local.ipv6, interner)),
        })
}

/// `Trace.EndpointTracker`: accumulates the endpoint of pieces being merged.
#[derive(Default)]
struct EndpointTracker(Endpoint);

impl EndpointTracker {
    fn try_merge(&mut self, e: &Endpoint) -> bool {
        if e.is_empty() {
            return true;
        }
        if !self.0.compatible(e) {
            return false;
        }
        self.0 = merge_endpoint(self.0, *e);
        true
    }
}

/// `Endpoint.Builder.merge`: fills absent fields from `source`.
fn merge_endpoint(into: Endpoint, source: Endpoint) -> Endpoint {
    Endpoint {
        service: into.service.or(source.service),
        ipv4: into.ipv4.or(source.ipv4),
        ipv6: into.ipv6.or(source.ipv6),
        port: into.port.or(source.port),
    }
}

/// `Span.Builder.merge`: fills absent fields, unions flags and the error tag.
fn merge_span(into: &mut TreeSpan, source: &TreeSpan) {
    into.parent_id = into.parent_id.or(source.parent_id);
    into.kind = into.kind.or(source.kind);
    into.name = into.name.or(source.name);
    into.timestamp_micros = into.timestamp_micros.or(source.timestamp_micros);
    into.duration_micros = into.duration_micros.or(source.duration_micros);
    into.local = if into.local.is_empty() {
        source.local
    } else {
        merge_endpoint(into.local, source.local)
    };
    into.remote = if into.remote.is_empty() {
        source.remote
    } else {
        merge_endpoint(into.remote, source.remote)
    };
    into.error |= source.error;
    into.shared |= source.shared;
}

/// Zipkin's `Trace.merge` for the spans of one trace: sorts them, folds pieces of one span reported
/// separately (same id, same shared flag, compatible local endpoints), and backfills `shared` on a
/// server that shares its client's id, and its parent id.
pub fn merge(mut spans: Vec<TreeSpan>, interner: &Interner) -> Vec<TreeSpan> {
    if spans.len() <= 1 {
        return spans;
    }
    spans.sort_by(|a, b| cleanup_order(a, b, interner));
    let mut out: Vec<TreeSpan> = Vec::with_capacity(spans.len());
    let mut it = spans.into_iter().peekable();
    while let Some(mut span) = it.next() {
        let mut tracker: Option<EndpointTracker> = None;
        while let Some(next) = it.peek() {
            if next.id != span.id {
                break;
            }
            let tracker = tracker.get_or_insert_with(|| {
                let mut t = EndpointTracker::default();
                t.try_merge(&span.local);
                t
            });
            if span.shared == next.shared && tracker.try_merge(&next.local) {
                merge_span(&mut span, next);
                it.next();
                continue;
            }
            break;
        }
        if let Some(last) = out.last()
            && last.id == span.id
        {
            if last.kind == Some(Kind::Client) && span.kind == Some(Kind::Server) && !span.shared {
                span.shared = true;
            }
            if span.shared && span.parent_id.is_none() && last.parent_id.is_some() {
                span.parent_id = last.parent_id;
            }
        }
        out.push(span);
    }
    out
}

/// `SpanNode` keys: a plain id, or a shared span's (id, local endpoint).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Key {
    Id(SpanId),
    Shared(SpanId, Endpoint),
}

/// Index of a node in a [`TraceTree`].
pub type NodeIndex = u32;

#[derive(Clone, Debug, Default)]
struct Node {
    span: Option<u32>,
    parent: Option<NodeIndex>,
    children: Vec<NodeIndex>,
}

/// One trace as Zipkin's `SpanNode` tree: a real or synthetic root, orphans attached to it.
#[derive(Clone, Debug)]
pub struct TraceTree {
    /// The merged spans.
    pub spans: Vec<TreeSpan>,
    /// The spans as read, with their references, when every span of the trace came from a
    /// Jaeger document: its links follow Jaeger's rule ([`super::jaeger`]), not the tree.
    pub jaeger: Option<Box<super::jaeger::JaegerSpans>>,
    nodes: Vec<Node>,
    root: NodeIndex,
}

impl TraceTree {
    /// Builds the tree with `SpanNode.Builder`'s rules after [`merge`].
    pub fn build(spans: Vec<TreeSpan>, interner: &Interner) -> Self {
        let spans = merge(spans, interner);
        let key_of = |s: &TreeSpan, endpoint: Endpoint| {
            if s.shared {
                Key::Shared(s.id, endpoint)
            } else {
                Key::Id(s.id)
            }
        };
        // index(): child key → parent key, in insertion order.
        // Sized for every span (a shared one adds a second key): no growing, trace after trace.
        let mut span_to_parent: IndexMap<Key, Option<Key>, FxBuildHasher> =
            IndexMap::with_capacity_and_hasher(spans.len() + 1, FxBuildHasher);
        for s in &spans {
            if s.shared {
                span_to_parent.insert(Key::Shared(s.id, s.local), Some(Key::Id(s.id)));
            } else {
                span_to_parent.insert(Key::Id(s.id), s.parent_id.map(Key::Id));
            }
        }
        // process(): place each span.
        let mut nodes: Vec<Node> = Vec::with_capacity(spans.len() + 1);
        let mut key_to_node: FxHashMap<Key, NodeIndex> =
            FxHashMap::with_capacity_and_hasher(spans.len() + 1, FxBuildHasher);
        let mut root: Option<NodeIndex> = None;
        for (i, s) in spans.iter().enumerate() {
            let key = key_of(s, s.local);
            let no_endpoint_key = if s.local.is_empty() {
                key
            } else {
                key_of(s, Endpoint::default())
            };
            let mut parent = None;
            if s.shared {
                parent = Some(Key::Id(s.id));
            } else if let Some(parent_id) = s.parent_id {
                let shared_parent = Key::Shared(parent_id, s.local);
                if span_to_parent.contains_key(&shared_parent) {
                    span_to_parent.insert(no_endpoint_key, Some(shared_parent));
                    parent = Some(shared_parent);
                } else {
                    parent = Some(Key::Id(parent_id));
                }
            }
            let node = nodes.len() as NodeIndex;
            nodes.push(Node {
                span: Some(i as u32),
                ..Node::default()
            });
            if parent.is_none() && root.is_none() {
                root = Some(node);
                span_to_parent.shift_remove(&no_endpoint_key);
            } else if s.shared {
                key_to_node.insert(key, node);
                key_to_node.insert(no_endpoint_key, node);
            } else {
                key_to_node.insert(no_endpoint_key, node);
            }
        }
        let root = match root {
            Some(r) => r,
            None => {
                nodes.push(Node::default());
                (nodes.len() - 1) as NodeIndex
            }
        };
        for (child_key, parent_key) in &span_to_parent {
            let Some(&child) = key_to_node.get(child_key) else {
                continue;
            };
            let parent = parent_key
                .and_then(|k| key_to_node.get(&k).copied())
                .unwrap_or(root);
            if parent == child {
                continue;
            }
            if let Some(c) = nodes.get_mut(child as usize) {
                c.parent = Some(parent);
            }
            if let Some(p) = nodes.get_mut(parent as usize) {
                p.children.push(child);
            }
        }
        Self {
            spans,
            jaeger: None,
            nodes,
            root,
        }
    }

    /// The root node (synthetic when it has no span).
    pub fn root(&self) -> NodeIndex {
        self.root
    }

    /// The span of a node; `None` for a synthetic root.
    pub fn span(&self, node: NodeIndex) -> Option<&TreeSpan> {
        let i = self.nodes.get(node as usize)?.span?;
        self.spans.get(i as usize)
    }

    /// The position in [`Self::spans`] of a node's span; `None` for a synthetic root.
    pub fn span_position(&self, node: NodeIndex) -> Option<usize> {
        Some(self.nodes.get(node as usize)?.span? as usize)
    }

    /// The parent of a node.
    pub fn parent(&self, node: NodeIndex) -> Option<NodeIndex> {
        self.nodes.get(node as usize)?.parent
    }

    /// The children of a node.
    pub fn children(&self, node: NodeIndex) -> &[NodeIndex] {
        self.nodes.get(node as usize).map_or(&[], |n| &n.children)
    }

    /// Nodes breadth-first from the root (from its children when the root is synthetic). Nodes not
    /// reachable from the root (e.g. in a parent cycle) are not visited; nothing is visited twice.
    pub fn breadth_first(&self) -> Vec<NodeIndex> {
        let mut seen = vec![false; self.nodes.len()];
        let mut queue = std::collections::VecDeque::new();
        if self.span(self.root).is_some() {
            queue.push_back(self.root);
        } else {
            queue.extend(self.children(self.root).iter().copied());
        }
        let mut out = Vec::with_capacity(self.nodes.len());
        while let Some(n) = queue.pop_front() {
            let Some(s) = seen.get_mut(n as usize) else {
                continue;
            };
            if *s {
                continue;
            }
            *s = true;
            out.push(n);
            queue.extend(self.children(n).iter().copied());
        }
        out
    }

    /// The nearest ancestor that has a span with a kind (`firstRemoteAncestor`).
    pub fn remote_ancestor(&self, node: NodeIndex) -> Option<&TreeSpan> {
        let mut current = self.parent(node);
        let mut steps = 0;
        while let Some(a) = current {
            if let Some(span) = self.span(a)
                && span.kind.is_some()
            {
                return Some(span);
            }
            steps += 1;
            if steps > self.nodes.len() {
                return None;
            }
            current = self.parent(a);
        }
        None
    }
}
/// Spans whose chain of parent ids runs into a loop (A's parent is B, B's parent is A), in every
/// trace of the store. Such spans hang from no root, so Zipkin's rules link none of them; the
/// count lets the reader say so. Each chain is followed once, without recursion.
pub fn spans_in_cycles(store: &TraceStore) -> u64 {
    use rayon::prelude::*;
    store
        .traces()
        .par_iter()
        .map(|trace| {
            let mut parent: FxHashMap<SpanId, Option<SpanId>> = FxHashMap::default();
            for span in store.trace_spans(trace) {
                parent
                    .entry(span.id())
                    .or_insert(span.parent_id().filter(|p| *p != span.id()));
            }
            // 1: on the chain being followed, 2: leads to a root, 3: leads into a loop.
            let mut state: FxHashMap<SpanId, u8> = FxHashMap::default();
            let mut chain = Vec::new();
            for start in store.trace_spans(trace).map(Span::id) {
                chain.clear();
                let mut at = Some(start);
                let end = loop {
                    let Some(id) = at else { break 2 };
                    match state.get(&id) {
                        Some(1) => break 3,
                        Some(&done) => break done,
                        None => {}
                    }
                    state.insert(id, 1);
                    chain.push(id);
                    at = parent
                        .get(&id)
                        .copied()
                        .flatten()
                        .filter(|p| parent.contains_key(p));
                };
                for id in &chain {
                    state.insert(*id, end);
                }
            }
            store
                .trace_spans(trace)
                .filter(|s| state.get(&s.id()) == Some(&3))
                .count() as u64
        })
        .sum()
}
