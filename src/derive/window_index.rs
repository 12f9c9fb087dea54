//! [`WindowIndex`]: every trace's links kept in the order the traces start, so the graph of a time window is a sum over its traces' links instead of a new derivation.
//!
//! Built once per load, off the UI thread, by linking every trace again with the names the load's
//! own derivation used ([`LinkNames`]), each link stored as the graph edge it counts for at each
//! level. A window `[from, to)` is then the run of traces whose start (the earliest span start,
//! as [`super::window::trace_starts`] gives it) falls inside, found by two binary searches; its
//! graph at a level is the whole graph's nodes and edges those traces go through, plus the
//! declared ones (Spigo's nodes and edges), with each edge's calls, errors and latency summed from
//! the run's links (and the declared calls). Those are exactly the links a derivation of the
//! window's traces alone finds, with Zipkin's rules (`tests/window_index.rs` checks it on every
//! shared file). A node keeps the whole load's place and instance count, so it stays in its group
//! while the window moves.
//!
//! A window's cost is a pass over its links (a few bytes each) and a copy of the graph's nodes
//! and edges, not the trees of its traces: see `scripts/bench-timeline`.

use std::sync::Arc;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeIndexable, EdgeRef, IntoEdgeReferences, NodeIndexable};
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

use super::graph::ServiceGraph;
use super::latency::Latency;
use super::levels::{LinkNames, build_levels};
use super::relink::{Relinker, UNKNOWN, edge_map};
use super::window::spans_where;
use crate::model::{Level, TraceStore};

/// Traces one task links while the index is built.
const CHUNK: usize = 256;

/// Chunks linked in parallel before they are appended (bounds what is held twice).
const CHUNKS_PER_WAVE: usize = 16;

/// The top bit of a stored link: the call failed.
const ERROR: u32 = 1 << 31;

/// A stored duration that the span did not have.
const NO_DURATION: u32 = u32::MAX;

/// A stored duration too long for 32 bits of µs (over 71 minutes): it is kept in [`Links::long`].
const LONG_DURATION: u32 = u32::MAX - 1;

/// Links in the order they were found, trace after trace: what each counts for (with the
/// [`ERROR`] bit) and its duration in µs ([`NO_DURATION`] when unknown): eight bytes a link,
/// since a gigabyte of traces holds millions.
#[derive(Debug, Default)]
struct Links {
    link: Vec<u32>,
    duration: Vec<u32>,
    /// The [`LONG_DURATION`]s, as (position, duration), by position.
    long: Vec<(usize, u64)>,
}

impl Links {
    fn push(&mut self, link: u32, error: bool, duration: Option<u64>) {
        self.link.push(link | if error { ERROR } else { 0 });
        let stored = match duration.map(u32::try_from) {
            None => NO_DURATION,
            Some(Ok(d)) if d < LONG_DURATION => d,
            Some(_) => {
                self.long
                    .push((self.duration.len(), duration.unwrap_or_default()));
                LONG_DURATION
            }
        };
        self.duration.push(stored);
    }

    fn len(&self) -> usize {
        self.link.len()
    }

    /// Appends `other`'s links, each link's number mapped by `map` (the error bit kept).
    fn append(&mut self, other: Self, map: impl Fn(u32) -> u32) {
        let at = self.len();
        self.link
            .extend(other.link.iter().map(|&l| map(l & !ERROR) | (l & ERROR)));
        self.duration.extend(other.duration);
        self.long
            .extend(other.long.into_iter().map(|(p, d)| (p + at, d)));
    }

    /// The durations at the positions of `range`, in order.
    fn durations(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Option<u64>> + '_ {
        let first_long = self.long.partition_point(|l| l.0 < range.start);
        let mut long = self.long.get(first_long..).unwrap_or_default().iter();
        self.duration
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(move |&d| match d {
                NO_DURATION => None,
                LONG_DURATION => long.next().map(|l| l.1),
                d => Some(u64::from(d)),
            })
    }
}

/// A level's declared elements, as whole-graph indices: nodes, and edges with their calls and
/// errors (they carry no trace, so every window has them).
#[derive(Debug, Default)]
struct Declared {
    nodes: Vec<u32>,
    edges: Vec<(u32, u64, u64)>,
}

/// Every trace's links at service names and at instance keys, by trace start.
#[derive(Debug, Default)]
pub struct WindowIndex {
    /// Trace numbers (store order) by start, then number; traces without a time are left out.
    order: Vec<u32>,
    /// Their starts, epoch µs, ascending.
    starts: Vec<i64>,
    /// By position in `order` (and one past the end): where its links begin in `service`.
    service_at: Vec<u32>,
    /// The same in `instance`.
    instance_at: Vec<u32>,
    /// Links between services, as service-graph edges.
    service: Links,
    /// Links between instances, as numbers of (parent key, child key) pairs.
    instance: Links,
    /// By level in [`Level::ALL`] order (empty at the service level): each pair's edge.
    pair_edges: Vec<Vec<u32>>,
    /// By level in [`Level::ALL`] order.
    declared: Vec<Declared>,
}

/// What one task linked: its traces' links, with instance pairs numbered locally.
#[derive(Default)]
struct Part {
    service: Links,
    instance: Links,
    pairs: indexmap::IndexSet<(u32, u32), FxBuildHasher>,
    /// By trace: how many service and instance links it made.
    counts: Vec<(u32, u32)>,
}

impl WindowIndex {
    /// Links every trace of `store` again, as `graphs` (its graph at every level, in
    /// [`Level::ALL`] order) and `names` came from [`build_levels`] of it.
    pub fn build(store: &TraceStore, graphs: &[Arc<ServiceGraph>], names: &LinkNames) -> Self {
        // Each trace's start (`i64::MIN`, which no span start is, for none): 8 bytes a trace.
        let starts_of: Vec<i64> = store
            .traces()
            .par_iter()
            .map(|t| {
                store
                    .trace_indices(t)
                    .filter_map(|i| store.spans().get(i as usize)?.timestamp_micros())
                    .min()
                    .unwrap_or(i64::MIN)
            })
            .collect();
        let start_of = |t: u32| starts_of.get(t as usize).copied().unwrap_or(i64::MIN);
        let mut order: Vec<u32> = (0..starts_of.len() as u32)
            .filter(|&t| start_of(t) != i64::MIN)
            .collect();
        order.par_sort_unstable_by_key(|&t| (start_of(t), t));
        let starts: Vec<i64> = order.iter().map(|&t| start_of(t)).collect();
        drop(starts_of);

        let linker = Relinker::new(store, graphs, names);
        let link_part = |traces: &[u32]| -> Part {
            let mut part = Part::default();
            for &t in traces {
                let (before_s, before_i) = (part.service.len(), part.instance.len());
                let Part {
                    service,
                    instance,
                    pairs,
                    ..
                } = &mut part;
                linker.link(
                    t,
                    &mut |edge, error, d| service.push(edge, error, d),
                    &mut |(a, b), error, d| {
                        let link = if a == UNKNOWN || b == UNKNOWN {
                            UNKNOWN
                        } else {
                            pairs.insert_full((a, b)).0 as u32
                        };
                        instance.push(link, error, d);
                    },
                );
                part.counts.push((
                    (part.service.len() - before_s) as u32,
                    (part.instance.len() - before_i) as u32,
                ));
            }
            part
        };

        let mut index = Self {
            service_at: Vec::with_capacity(order.len() + 1),
            instance_at: Vec::with_capacity(order.len() + 1),
            ..Self::default()
        };
        let mut pairs: indexmap::IndexSet<(u32, u32), FxBuildHasher> =
            indexmap::IndexSet::default();
        index.service_at.push(0);
        index.instance_at.push(0);
        for wave in order.chunks(CHUNK * CHUNKS_PER_WAVE) {
            let parts: Vec<Part> = wave.par_chunks(CHUNK).map(link_part).collect();
            for part in parts {
                let global: Vec<u32> = part
                    .pairs
                    .iter()
                    .map(|&pair| pairs.insert_full(pair).0 as u32)
                    .collect();
                index.service.append(part.service, |l| l);
                index.instance.append(part.instance, |id| match id {
                    UNKNOWN => UNKNOWN,
                    _ => global.get(id as usize).copied().unwrap_or(UNKNOWN),
                });
                for (s, i) in part.counts {
                    let last_s = index.service_at.last().copied().unwrap_or(0);
                    let last_i = index.instance_at.last().copied().unwrap_or(0);
                    index.service_at.push(last_s.saturating_add(s));
                    index.instance_at.push(last_i.saturating_add(i));
                }
            }
        }
        index.order = order;
        index.starts = starts;

        // Each instance pair's edge at the instance, zone and region levels.
        let pairs: Vec<(u32, u32)> = pairs.into_iter().collect();
        index.pair_edges = Relinker::pair_edges(graphs, names, &pairs);
        index.declared = declared(store, graphs);
        index
    }

    /// Number of traces indexed (those with a time).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// No trace has a time.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The traces (store order) that start in `[from, to)`, epoch µs.
    pub fn traces(&self, from: i64, to: i64) -> Vec<u32> {
        let (lo, hi) = self.run(from, to);
        let mut traces = self.order.get(lo..hi).unwrap_or_default().to_vec();
        traces.par_sort_unstable();
        traces
    }

    /// Positions in `order` of the traces starting in `[from, to)`.
    fn run(&self, from: i64, to: i64) -> (usize, usize) {
        let lo = self.starts.partition_point(|&s| s < from);
        let hi = self.starts.partition_point(|&s| s < to).max(lo);
        (lo, hi)
    }

    /// The graph at every level (in [`Level::ALL`] order, as `graphs`, which the index was built
    /// with) of the traces that start in `[from, to)`, with the declared elements; and those
    /// traces, in store order.
    pub fn window(
        &self,
        graphs: &[Arc<ServiceGraph>],
        from: i64,
        to: i64,
    ) -> (Vec<ServiceGraph>, Vec<u32>) {
        let (lo, hi) = self.run(from, to);
        let traces = self.traces(from, to);
        let span = |at: &[u32]| {
            let a = at.get(lo).copied().unwrap_or(0) as usize;
            let b = (at.get(hi).copied().unwrap_or(0) as usize).max(a);
            a..b
        };
        let (service, instance) = (span(&self.service_at), span(&self.instance_at));
        let out = Level::ALL
            .par_iter()
            .enumerate()
            .map(|(i, &level)| {
                let Some(full) = graphs.get(i) else {
                    return ServiceGraph::default();
                };
                let declared = self.declared.get(i);
                let (links, range, map) = match level {
                    Level::Service => (&self.service, service.clone(), None),
                    _ => (
                        &self.instance,
                        instance.clone(),
                        self.pair_edges.get(i).map(Vec::as_slice),
                    ),
                };
                let link = links.link.get(range.clone()).unwrap_or_default();
                level_graph(full, declared, link, links.durations(range), map, &traces)
            })
            .collect();
        (out, traces)
    }
}

/// The whole graph `full` cut to a window: the edges `link` count for (mapped by `map` when
/// they are pair numbers) and the declared ones, the nodes `traces` go through and the declared
/// ones; each edge's figures summed from `link` and `duration`.
fn level_graph(
    full: &ServiceGraph,
    declared: Option<&Declared>,
    link: &[u32],
    duration: impl Iterator<Item = Option<u64>>,
    map: Option<&[u32]>,
    traces: &[u32],
) -> ServiceGraph {
    let bound = full.graph.edge_bound();
    let mut counts = vec![(0u64, 0u64); bound];
    let mut durations: Vec<Vec<u64>> = vec![Vec::new(); bound];
    let mut keep_edge = vec![false; bound];
    for (&l, d) in link.iter().zip(duration) {
        let id = l & !ERROR;
        let edge = match map {
            Some(m) => m.get(id as usize).copied().unwrap_or(UNKNOWN),
            None => id,
        } as usize;
        let (Some(c), Some(ds)) = (counts.get_mut(edge), durations.get_mut(edge)) else {
            continue;
        };
        c.0 += 1;
        c.1 += u64::from(l & ERROR != 0);
        if let Some(d) = d {
            ds.push(d);
        }
        if let Some(k) = keep_edge.get_mut(edge) {
            *k = true;
        }
    }
    let mut keep_node = vec![false; full.graph.node_bound()];
    full.trace_members.mark_nodes(traces, &mut keep_node);
    if let Some(declared) = declared {
        for &(e, calls, errors) in &declared.edges {
            if let (Some(c), Some(k)) = (counts.get_mut(e as usize), keep_edge.get_mut(e as usize))
            {
                c.0 += calls;
                c.1 += errors;
                *k = true;
            }
        }
        for &n in &declared.nodes {
            if let Some(k) = keep_node.get_mut(n as usize) {
                *k = true;
            }
        }
    }
    let latency: Vec<Option<Latency>> = durations
        .par_iter_mut()
        .map(|d| Latency::from_durations(d))
        .collect();
    drop(durations);
    let mut graph = full.graph.clone();
    graph.retain_edges(|_, e| keep_edge.get(e.index()).copied().unwrap_or(false));
    for e in (&graph).edge_references() {
        for n in [e.source(), e.target()] {
            if let Some(k) = keep_node.get_mut(n.index()) {
                *k = true;
            }
        }
    }
    graph.retain_nodes(|_, n| keep_node.get(n.index()).copied().unwrap_or(false));
    let edges: Vec<_> = graph.edge_indices().collect();
    for e in edges {
        if let Some(w) = graph.edge_weight_mut(e) {
            let (calls, errors) = counts.get(e.index()).copied().unwrap_or_default();
            w.calls = calls;
            w.errors = errors;
            w.latency = latency.get(e.index()).copied().flatten();
        }
    }
    let index = full
        .index
        .iter()
        .filter(|(_, n)| keep_node.get(n.index()).copied().unwrap_or(false))
        .map(|(&s, &n)| (s, n))
        .collect();
    ServiceGraph {
        level: full.level,
        graph,
        topology: full.topology.clone(),
        index,
        trace_members: full.trace_members.clone(),
    }
}

/// Each level's declared elements as whole-graph indices: the graph of `store` without its
/// spans, matched by name.
fn declared(store: &TraceStore, graphs: &[Arc<ServiceGraph>]) -> Vec<Declared> {
    if store.data.nodes.is_empty() && store.data.edges.is_empty() {
        return graphs.iter().map(|_| Declared::default()).collect();
    }
    let mut bare = spans_where(store, |_| false);
    let levels = build_levels(&mut bare, |_, _, _, _| ());
    levels
        .graphs
        .iter()
        .zip(graphs)
        .map(|(g, full)| {
            let node = |n: NodeIndex| {
                let name = g.graph.node_weight(n)?.name;
                full.index.get(&name).copied()
            };
            let edges = edge_map(full);
            Declared {
                nodes: g
                    .graph
                    .node_indices()
                    .filter_map(node)
                    .map(|n| n.index() as u32)
                    .collect(),
                edges: (&g.graph)
                    .edge_references()
                    .filter_map(|e| {
                        let ends = (node(e.source())?, node(e.target())?);
                        let w = e.weight();
                        Some((*edges.get(&ends)?, w.calls, w.errors))
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations of any length come back as they went in, over any range, also after an append
    /// (long ones are kept beside the 32-bit ones).
    #[test]
    fn links_keep_every_duration() {
        let wanted = [
            Some(5),
            None,
            Some(u64::from(LONG_DURATION)),
            Some(7_200_000_000),
            Some(0),
            Some(u64::MAX),
            Some(u64::from(u32::MAX)),
        ];
        let mut a = Links::default();
        let mut b = Links::default();
        for (i, d) in wanted.iter().enumerate() {
            a.push(i as u32, i % 2 == 0, *d);
            b.push(i as u32, false, *d);
        }
        a.append(b, |l| l + 100);
        let all: Vec<Option<u64>> = wanted.iter().chain(&wanted).copied().collect();
        assert_eq!(a.durations(0..a.len()).collect::<Vec<_>>(), all);
        for start in 0..all.len() {
            for end in start..=all.len() {
                assert_eq!(
                    a.durations(start..end).collect::<Vec<_>>(),
                    all[start..end],
                    "{start}..{end}"
                );
            }
        }
        assert_eq!(a.link[8], 101);
        assert_eq!(a.link[2], 2 | ERROR);
    }
}
