//! Zipkin's `DependencyLinker`: walks each trace's tree and counts calls and errors per (parent, child).

use std::hash::Hash;

use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

use super::jaeger::JaegerSpans;
use super::latency::Durations;
use super::tree::{TraceTree, TreeSpan};
use crate::model::{Interner, Kind, Level, LinkRule, Sym, TraceEntry, TraceStore};

/// One dependency link, as Zipkin's `/api/v2/dependencies` returns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Link {
    /// Calling node.
    pub parent: Sym,
    /// Called node.
    pub child: Sym,
    /// Number of calls.
    pub call_count: u64,
    /// Number of calls that failed.
    pub error_count: u64,
}

/// Which side of a span an endpoint is on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// The span's local endpoint.
    Local,
    /// The span's remote endpoint.
    Remote,
}

/// Calls, errors and durations gathered for one (parent, child) pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkAcc {
    /// Calls.
    pub calls: u64,
    /// Errors.
    pub errors: u64,
    /// Durations (µs) of the spans that made the link, where known.
    pub durations_micros: Durations,
}

/// Links keyed by (parent, child), in first-seen order.
pub type LinkMap<K> = IndexMap<(K, K), LinkAcc, FxBuildHasher>;

/// Adds one call from `parent` to `child` to `links`.
pub(crate) fn add_call<K: Hash + Eq>(
    links: &mut LinkMap<K>,
    parent: K,
    child: K,
    error: bool,
    duration: Option<u64>,
) {
    let acc = links.entry((parent, child)).or_default();
    acc.calls += 1;
    if error {
        acc.errors += 1;
    }
    if let Some(d) = duration {
        acc.durations_micros.push(d);
    }
}

/// `DependencyLinker.putTrace` (Jaeger's rule instead for a trace of Jaeger spans: [`super::jaeger`]): adds one trace's links. `name` gives a span side's node at the
/// level being linked (a service name for Zipkin's own graph).
pub fn link_tree<K, F>(tree: &TraceTree, name: &F, links: &mut LinkMap<K>)
where
    K: Copy + Eq + Hash,
    F: Fn(&TreeSpan, Side) -> Option<K>,
{
    link_tree_into(tree, name, &mut |p, c, error, duration| {
        add_call(links, p, c, error, duration);
    });
}

/// [`link_tree`], giving each link to `add(parent, child, error, duration)` as it is found (the
/// same links in the same order), so a caller can sum many traces without a map per trace.
pub fn link_tree_into<K, F>(
    tree: &TraceTree,
    name: &F,
    add: &mut impl FnMut(K, K, bool, Option<u64>),
) where
    K: Copy + Eq + Hash,
    F: Fn(&TreeSpan, Side) -> Option<K>,
{
    if let Some(jaeger) = &tree.jaeger {
        super::jaeger::link_jaeger(jaeger, name, add);
        return;
    }
    let root = tree.root();
    for node in tree.breadth_first() {
        let Some(span) = tree.span(node) else {
            continue;
        };
        // The server side names a link; a client with children is skipped.
        if span.kind == Some(Kind::Client) && !tree.children(node).is_empty() {
            continue;
        }
        let local = name(span, Side::Local);
        let remote = name(span, Side::Remote);
        let kind = match span.kind {
            Some(k) => k,
            // A span without kind that knows both sides is treated as a client.
            None if local.is_some() && remote.is_some() => Kind::Client,
            None => continue,
        };
        let (mut parent, child) = match kind {
            Kind::Server | Kind::Consumer => {
                if node == root && remote.is_none() {
                    continue;
                }
                (remote, local)
            }
            Kind::Client | Kind::Producer => (local, remote),
        };
        let mut error = span.error;
        if matches!(kind, Kind::Producer | Kind::Consumer) {
            if let (Some(p), Some(c)) = (parent, child) {
                add(p, c, error, span.duration_micros);
            }
            continue;
        }
        if let Some(ancestor) = tree.remote_ancestor(node)
            && let Some(ancestor_name) = name(ancestor, Side::Local)
        {
            // Someone put the remote name on a client span: backfill a link from the nearest remote.
            if kind == Kind::Client
                && let Some(local) = local
                && local != ancestor_name
            {
                add(ancestor_name, local, false, None);
            }
            if kind == Kind::Server || parent.is_none() {
                parent = Some(ancestor_name);
            }
            // An RPC split into a client and a child server span: the client's error counts.
            if !error && ancestor.kind == Some(Kind::Client) && span.parent_id == Some(ancestor.id)
            {
                error = ancestor.error;
            }
        }
        if let (Some(p), Some(c)) = (parent, child) {
            add(p, c, error, span.duration_micros);
        }
    }
}

/// Builds the tree of one trace; when every span came from a Jaeger document, the spans as read
/// are kept beside it with their references, for Jaeger's link rule.
pub fn trace_tree(store: &TraceStore, trace: &TraceEntry) -> TraceTree {
    trace_tree_with(store, trace, store.data.interner.get("error"))
}

/// The stored spans of `trace`, as read, where its tree holds fewer than were stored (pieces of
/// one span merged into one, or spans the tree left out); empty where the tree kept each span.
/// A derivation places every node a stored span names, so those are part of where the trace
/// goes too, whether or not a span of the tree still names them.
pub(crate) fn stored_spans_if_changed(
    store: &TraceStore,
    trace: &TraceEntry,
    tree: &TraceTree,
) -> Vec<TreeSpan> {
    if tree.spans.len() >= trace.range.len() {
        return Vec::new();
    }
    store
        .trace_indices(trace)
        .filter_map(|i| {
            let span = store.spans().get(i as usize)?;
            Some(TreeSpan::from_span(i, span, &[], None))
        })
        .collect()
}

/// [`trace_tree`] with the interned `"error"` looked up once by the caller (a walk over every
/// trace).
pub(crate) fn trace_tree_with(
    store: &TraceStore,
    trace: &TraceEntry,
    error_key: Option<Sym>,
) -> TraceTree {
    let interner = &store.data.interner;
    let mut jaeger = true;
    // Sized once: collecting a filter grows the list from nothing, trace after trace.
    let mut spans: Vec<TreeSpan> = Vec::with_capacity(trace.range.len());
    spans.extend(store.trace_indices(trace).filter_map(|i| {
        let span = store.spans().get(i as usize)?;
        jaeger &= span.rule == LinkRule::Jaeger;
        Some(TreeSpan::from_span(
            i,
            span,
            store.data.tags_of(span.tags),
            error_key,
        ))
    }));
    let jaeger = (jaeger && !spans.is_empty()).then(|| {
        let mut read = JaegerSpans::default();
        for s in &spans {
            let kept = store.data.refs_of(s.index);
            if kept.is_empty() {
                read.push(*s, s.parent_id);
            } else {
                read.push(*s, kept.iter().map(|r| r.to));
            }
        }
        Box::new(read)
    });
    let mut tree = TraceTree::build(spans, interner);
    tree.jaeger = jaeger;
    tree
}

/// The node pairs one trace links and the nodes its spans name (either side), each in first-seen
/// order.
pub type TraceKeys<K> = (Vec<(K, K)>, Vec<K>);

/// [`link_traces`], also keeping what each trace links and where its spans run, by trace.
pub fn link_traces_by_trace<K, F>(
    store: &TraceStore,
    traces: &[TraceEntry],
    name: F,
) -> (LinkMap<K>, Vec<TraceKeys<K>>)
where
    K: Copy + Eq + Hash + Send,
    F: Fn(&TreeSpan, Side) -> Option<K> + Sync,
{
    let per_trace: Vec<(LinkMap<K>, Vec<K>)> = traces
        .par_iter()
        .map(|trace| {
            let tree = trace_tree(store, trace);
            let mut links = LinkMap::default();
            link_tree(&tree, &name, &mut links);
            let mut locals: Vec<K> = Vec::new();
            let stored = stored_spans_if_changed(store, trace, &tree);
            for s in tree.spans.iter().chain(&stored) {
                for side in [Side::Local, Side::Remote] {
                    if let Some(k) = name(s, side)
                        && !locals.contains(&k)
                    {
                        locals.push(k);
                    }
                }
            }
            (links, locals)
        })
        .collect();
    let mut all = LinkMap::default();
    let mut keys = Vec::with_capacity(per_trace.len());
    for (links, locals) in per_trace {
        let pairs: Vec<(K, K)> = links.keys().copied().collect();
        for (pair, mut acc) in links {
            let into = all.entry(pair).or_default();
            into.calls += acc.calls;
            into.errors += acc.errors;
            into.durations_micros.append(&mut acc.durations_micros);
        }
        keys.push((pairs, locals));
    }
    (all, keys)
}

/// Links of `traces`, keyed by `name`, summed per pair in first-seen order; trees are built and
/// linked in parallel and joined in trace order.
pub fn link_traces<K, F>(store: &TraceStore, traces: &[TraceEntry], name: F) -> LinkMap<K>
where
    K: Copy + Eq + Hash + Send,
    F: Fn(&TreeSpan, Side) -> Option<K> + Sync,
{
    traces
        .par_chunks(64)
        .map(|traces| {
            let mut links = LinkMap::default();
            for trace in traces {
                link_tree(&trace_tree(store, trace), &name, &mut links);
            }
            links
        })
        .reduce(LinkMap::default, |mut a, b| {
            for (pair, mut acc) in b {
                let into = a.entry(pair).or_default();
                into.calls += acc.calls;
                into.errors += acc.errors;
                into.durations_micros.append(&mut acc.durations_micros);
            }
            a
        })
}

/// The links of every trace and declared edge at `level`, in first-seen order.
pub fn dependency_links(store: &mut TraceStore, level: Level) -> Vec<Link> {
    let graph = super::ServiceGraph::build(store, level);
    graph.links()
}

/// Resolves a service name for Zipkin's graph: the endpoint's service name as written.
pub fn service_name(span: &TreeSpan, side: Side) -> Option<Sym> {
    match side {
        Side::Local => span.local.service,
        Side::Remote => span.remote.service,
    }
}

/// Sorts links by parent then child name.
pub fn sort_links(links: &mut [Link], interner: &Interner) {
    links.sort_by(|a, b| {
        interner
            .resolve(a.parent)
            .cmp(interner.resolve(b.parent))
            .then_with(|| interner.resolve(a.child).cmp(interner.resolve(b.child)))
    });
}
