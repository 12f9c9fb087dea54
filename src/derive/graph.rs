//! [`ServiceGraph`]: a petgraph graph of nodes at one level, edges carrying calls, errors and latency.
//!
//! Zipkin's dependency graph is the service level, linked directly with its rules. The instance
//! level is linked the same way with instances as names; zone and region levels sum the instance
//! graph. Declared elements (Spigo graph and architecture files, dependency-link files) are added
//! at every level.

use indexmap::IndexSet;
use petgraph::stable_graph::{NodeIndex, StableGraph};
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::latency::Durations;
pub use super::latency::Latency;
use super::links::{Link, LinkMap, Side, link_traces, link_traces_by_trace};
pub(crate) use super::names::{InstanceKey, NameInfo, Names, attr_keys, name_infos};
use super::sets::ListSets;
use super::tree::TreeSpan;
use crate::model::topology::UNKNOWN;
use crate::model::{
    Batch, InstanceId, Level, NameLevel, Place, Placer, SpigoName, Sym, Topology, TraceStore,
};

/// A node of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Name at the graph's level.
    pub name: Sym,
    /// Region, when all the node's instances share one.
    pub region: Option<Sym>,
    /// Zone, when all the node's instances share one.
    pub zone: Option<Sym>,
    /// Service, when all the node's instances share one.
    pub service: Option<Sym>,
    /// Spigo package / kind, when all the node's instances share one.
    pub package: Option<Sym>,
    /// Number of instances aggregated into the node.
    pub instances: u32,
    /// All its instances stopped (a Spigo `done` record; Spigo writes one for most instances when
    /// a run shuts down).
    pub done: bool,
    /// One of its instances stopped well before the run's end (the chaos-monkey victim).
    pub stopped_early: bool,
}

/// What an edge carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeStats {
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Latency, where spans had durations.
    pub latency: Option<Latency>,
}

/// A graph at one level.
#[derive(Clone, Debug, Default)]
pub struct ServiceGraph {
    /// The level.
    pub level: Level,
    /// Nodes and edges.
    pub graph: StableGraph<NodeInfo, EdgeStats>,
    /// Every instance's place.
    pub topology: Topology,
    /// Node by name.
    pub index: FxHashMap<Sym, NodeIndex>,
    /// Where each trace goes (filled by [`Self::build_with_members`] and
    /// [`crate::derive::levels`] only).
    pub trace_members: TraceMembers,
}

/// Where each trace goes in a graph: by trace (in store order), the graph nodes its spans name or
/// link and the graph edges it crosses, as sorted indices. Each distinct set is kept once
/// ([`ListSets`]): at the service, zone and region levels of a gigabyte of traces that is a few
/// thousand sets for hundreds of thousands of traces.
#[derive(Clone, Debug, Default)]
pub struct TraceMembers {
    sets: ListSets<u32, u32>,
}

impl PartialEq for TraceMembers {
    /// The same nodes and edges for every trace (however the sets are numbered).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.sets.iter().eq(other.sets.iter())
    }
}

impl Eq for TraceMembers {}

impl TraceMembers {
    /// Number of traces.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// No trace is recorded.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The graph nodes trace `trace` goes through, sorted (empty for an unknown trace).
    pub fn nodes(&self, trace: usize) -> &[u32] {
        self.sets.get(trace).0
    }

    /// The graph edges trace `trace` crosses, sorted (empty for an unknown trace).
    pub fn edges(&self, trace: usize) -> &[u32] {
        self.sets.get(trace).1
    }

    /// For every trace, whether `test(nodes, edges)` holds for it; `test` runs once per distinct
    /// set, not once per trace.
    pub fn matching(&self, mut test: impl FnMut(&[u32], &[u32]) -> bool) -> Vec<bool> {
        let by_set: Vec<bool> = self.sets.sets().map(|(n, e)| test(n, e)).collect();
        self.sets
            .set_of_trace()
            .iter()
            .map(|&set| by_set.get(set as usize).copied().unwrap_or(false))
            .collect()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sets.heap_bytes()
    }

    /// Marks in `nodes` (by node index) every node the traces `traces` go through, looking at
    /// each distinct set once.
    pub fn mark_nodes(&self, traces: &[u32], nodes: &mut [bool]) {
        let of_trace = self.sets.set_of_trace();
        let mut seen = vec![false; self.sets.distinct()];
        for &t in traces {
            let Some(&set) = of_trace.get(t as usize) else {
                continue;
            };
            match seen.get_mut(set as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            for &n in self.sets.set(set).0 {
                if let Some(k) = nodes.get_mut(n as usize) {
                    *k = true;
                }
            }
        }
    }
}

/// Builds the topology: the place of every instance key (spans) and declared node.
struct TopologyBuilder {
    topology: Topology,
    by_key: FxHashMap<InstanceKey, InstanceId>,
    unknown: Sym,
}

impl TopologyBuilder {
    fn place_key(
        &mut self,
        batch: &mut Batch,
        info: &FxHashMap<Sym, NameInfo>,
        key: InstanceKey,
    ) -> InstanceId {
        if let Some(id) = self.by_key.get(&key) {
            return *id;
        }
        let name_info = info.get(&key.name).copied();
        let place = match name_info {
            Some(NameInfo {
                service,
                spigo_instance: Some(instance),
                region,
                zone,
                package,
            }) => Place {
                region: region.unwrap_or(self.unknown),
                zone: zone.unwrap_or(self.unknown),
                service,
                instance,
                package,
            },
            _ => {
                let service = name_info.map_or(key.name, |i| i.service);
                let instance = match key.host {
                    Some(host) => {
                        let s = format!(
                            "{}@{}",
                            batch.interner.resolve(service),
                            batch.interner.resolve(host)
                        );
                        batch.sym(&s)
                    }
                    None => service,
                };
                Place {
                    region: key.region.unwrap_or(self.unknown),
                    zone: key.zone.unwrap_or(self.unknown),
                    service,
                    instance,
                    package: None,
                }
            }
        };
        let id = self.topology.insert(place);
        self.by_key.insert(key, id);
        id
    }
}

/// Whether an instance stopped, and whether well before the run ended.
#[derive(Clone, Copy, Debug, Default)]
struct Stop {
    done: bool,
    early: bool,
}

/// The stop of each declared node: `done` records in the last tenth of its file's run (the
/// shutdown) are ordinary; earlier ones stopped early. Each file is its own run, so a later run in
/// the same directory does not make an earlier run's shutdown look early.
fn stops(nodes: &[crate::model::DeclaredNode]) -> Vec<Stop> {
    // Per file: first and last time seen, and the last `done`.
    let mut runs: std::collections::BTreeMap<crate::model::FileId, (i64, i64, Option<i64>)> =
        std::collections::BTreeMap::new();
    for n in nodes {
        for t in [n.timestamp_micros, n.done_micros].into_iter().flatten() {
            let run = runs.entry(n.file).or_insert((t, t, None));
            run.0 = run.0.min(t);
            run.1 = run.1.max(t);
        }
        if let Some(t) = n.done_micros
            && let Some(run) = runs.get_mut(&n.file)
        {
            run.2 = Some(run.2.map_or(t, |d| d.max(t)));
        }
    }
    nodes
        .iter()
        .map(|n| {
            let shutdown = runs
                .get(&n.file)
                .and_then(|&(first, last, last_done)| Some(last_done? - (last - first) / 10));
            Stop {
                done: n.done,
                early: n.done && matches!((n.done_micros, shutdown), (Some(t), Some(s)) if t < s),
            }
        })
        .collect()
}

/// What a declared edge's calls last (nothing is known).
static NO_DURATIONS: Durations = Durations::new();

/// One edge's calls while a graph is built: counts, and the sorted durations of the links it
/// stands for, borrowed from them.
#[derive(Default)]
struct EdgeAcc<'a> {
    calls: u64,
    errors: u64,
    durations: Vec<&'a Durations>,
}

/// Accumulates nodes and edges of the graph being built.
struct GraphBuilder<'a> {
    graph: StableGraph<NodeInfo, EdgeStats>,
    index: FxHashMap<Sym, NodeIndex>,
    edges: IndexSet<(NodeIndex, NodeIndex), FxBuildHasher>,
    accs: Vec<EdgeAcc<'a>>,
}

impl<'a> GraphBuilder<'a> {
    fn node(&mut self, name: Sym, place: &Place, stop: Stop) -> NodeIndex {
        let Stop { done, early } = stop;
        if let Some(&n) = self.index.get(&name) {
            if let Some(info) = self.graph.node_weight_mut(n) {
                info.instances += 1;
                info.done &= done;
                info.stopped_early |= early;
                if info.region != Some(place.region) {
                    info.region = None;
                }
                if info.zone != Some(place.zone) {
                    info.zone = None;
                }
                if info.service != Some(place.service) {
                    info.service = None;
                }
                if info.package != place.package {
                    info.package = None;
                }
            }
            return n;
        }
        let n = self.graph.add_node(NodeInfo {
            name,
            region: Some(place.region),
            zone: Some(place.zone),
            service: Some(place.service),
            package: place.package,
            instances: 1,
            done,
            stopped_early: early,
        });
        self.index.insert(name, n);
        n
    }

    /// Adds calls to the edge from `a` to `b`; `durations` must be sorted.
    fn edge(
        &mut self,
        a: NodeIndex,
        b: NodeIndex,
        calls: u64,
        errors: u64,
        durations: &'a Durations,
    ) {
        let (i, new) = self.edges.insert_full((a, b));
        if new {
            self.accs.push(EdgeAcc::default());
        }
        if let Some(into) = self.accs.get_mut(i) {
            into.calls += calls;
            into.errors += errors;
            if !durations.is_empty() {
                into.durations.push(durations);
            }
        }
    }

    fn finish(self) -> (StableGraph<NodeInfo, EdgeStats>, FxHashMap<Sym, NodeIndex>) {
        let Self {
            mut graph,
            index,
            edges,
            accs,
        } = self;
        let stats: Vec<EdgeStats> = accs
            .into_par_iter()
            .map(|acc| EdgeStats {
                calls: acc.calls,
                errors: acc.errors,
                latency: Latency::from_sorted_parts(&acc.durations),
            })
            .collect();
        for (&(a, b), s) in edges.iter().zip(stats) {
            graph.add_edge(a, b, s);
        }
        (graph, index)
    }
}

impl ServiceGraph {
    /// Builds the graph of an indexed store at `level`.
    pub fn build(store: &mut TraceStore, level: Level) -> Self {
        Self::build_scoped(store, level, None, None, false)
    }

    /// [`Self::build`], also recording where each trace goes ([`Self::trace_members`]).
    pub fn build_with_members(store: &mut TraceStore, level: Level) -> Self {
        Self::build_scoped(store, level, None, None, true)
    }

    /// The graph of one trace (by its index in [`TraceStore::traces`]): the nodes and edges its
    /// spans make, named as in the whole graph, without declared elements. For lighting one flow.
    pub fn of_trace(store: &mut TraceStore, level: Level, trace: usize) -> Self {
        Self::build_scoped(store, level, Some(trace), None, false)
    }

    /// The graph of one trace linked from only some of its spans (store indices, as
    /// [`TreeSpan::index`] holds them): the edges those spans name, e.g. its critical path's.
    pub fn of_trace_spans(
        store: &mut TraceStore,
        level: Level,
        trace: usize,
        spans: &rustc_hash::FxHashSet<u32>,
    ) -> Self {
        Self::build_scoped(store, level, Some(trace), Some(spans), false)
    }

    fn build_scoped(
        store: &mut TraceStore,
        level: Level,
        trace: Option<usize>,
        only: Option<&rustc_hash::FxHashSet<u32>>,
        members: bool,
    ) -> Self {
        let kept = |s: &TreeSpan| only.is_none_or(|k| k.contains(&s.index));
        let info = name_infos(&mut store.data);
        let traces: Vec<crate::model::TraceEntry> = match trace {
            Some(i) => store.traces().get(i).cloned().into_iter().collect(),
            None => store.traces().to_vec(),
        };
        let names = Names {
            data: &store.data,
            info,
            keys: attr_keys(&store.data),
        };

        // Link with the level's names: services directly (Zipkin's graph), instances otherwise.
        // Asked for, a whole-store graph also records where each trace goes.
        let members = members && trace.is_none();
        let mut linked = Linked::default();
        let service_name = |s: &TreeSpan, side| match side {
            _ if !kept(s) => None,
            Side::Local => names.service(&s.local),
            Side::Remote => names.service(&s.remote),
        };
        let instance_name =
            |s: &TreeSpan, side| kept(s).then(|| names.instance_of(s, side)).flatten();
        if level == Level::Service {
            if members {
                let (links, keys) = link_traces_by_trace(store, &traces, service_name);
                linked.service = links;
                let mut lists = KeyLists::default();
                for (pairs, locals) in keys {
                    lists.push(pairs, locals);
                }
                linked.service_lists = Some(lists);
            } else {
                linked.service = link_traces(store, &traces, service_name);
            }
        } else if members {
            let (links, keys) = link_traces_by_trace(store, &traces, instance_name);
            linked.instance = links;
            let mut table = IndexSet::default();
            let mut lists = KeyLists::default();
            let mut id = |k: InstanceKey| table.insert_full(k).0 as u32;
            for (pairs, locals) in keys {
                let pairs: Vec<(u32, u32)> =
                    pairs.into_iter().map(|(p, c)| (id(p), id(c))).collect();
                let locals: Vec<u32> = locals.into_iter().map(&mut id).collect();
                lists.push(pairs, locals);
            }
            linked.instance_lists = Some((table, lists));
        } else {
            linked.instance = link_traces(store, &traces, instance_name);
        }
        let span_keys = match trace {
            Some(_) => {
                let spans: Vec<crate::model::Span> = traces
                    .iter()
                    .flat_map(|t| store.trace_indices(t))
                    .filter_map(|i| store.data.spans.get(i as usize).copied())
                    .collect();
                names.span_keys(&spans)
            }
            None => names.all_span_keys(),
        };
        let Names { info, .. } = names;
        linked.sort_durations();
        assemble(store, level, &info, &span_keys, &linked, trace.is_none())
    }

    /// The edges as dependency links, in the order they were found.
    pub fn links(&self) -> Vec<Link> {
        (&self.graph)
            .edge_references()
            .filter_map(|e| {
                let parent = self.graph.node_weight(e.source())?.name;
                let child = self.graph.node_weight(e.target())?.name;
                Some(Link {
                    parent,
                    child,
                    call_count: e.weight().calls,
                    error_count: e.weight().errors,
                })
            })
            .collect()
    }
}

/// Per trace, the node pairs it links and the nodes its spans name, each sorted, each distinct
/// pair of lists kept once ([`ListSets`]).
#[derive(Clone, Debug)]
pub(crate) struct KeyLists<K> {
    sets: ListSets<(K, K), K>,
    /// One trace's lists while they are sorted.
    pairs: Vec<(K, K)>,
    locals: Vec<K>,
}

impl<K> Default for KeyLists<K> {
    fn default() -> Self {
        Self {
            sets: ListSets::default(),
            pairs: Vec::new(),
            locals: Vec::new(),
        }
    }
}

impl<K: Copy + Ord + std::hash::Hash> KeyLists<K> {
    /// The set of `pairs` and `locals`, sorted and deduplicated.
    fn intern(
        &mut self,
        pairs: impl IntoIterator<Item = (K, K)>,
        locals: impl IntoIterator<Item = K>,
    ) -> u32 {
        self.pairs.extend(pairs);
        self.locals.extend(locals);
        self.sets.intern_unsorted(&mut self.pairs, &mut self.locals)
    }

    /// Adds the next trace's lists.
    pub(crate) fn push(
        &mut self,
        pairs: impl IntoIterator<Item = (K, K)>,
        locals: impl IntoIterator<Item = K>,
    ) {
        let set = self.intern(pairs, locals);
        self.sets.push_set(set);
    }

    /// Appends `other`'s traces, each key mapped through `map` (once per distinct set).
    pub(crate) fn append_mapped<J: Copy + std::hash::Hash + Eq>(
        &mut self,
        other: &KeyLists<J>,
        map: impl Fn(J) -> K,
    ) {
        let mine: Vec<u32> = other
            .sets
            .sets()
            .map(|(pairs, locals)| {
                self.intern(
                    pairs.iter().map(|&(p, c)| (map(p), map(c))),
                    locals.iter().map(|&k| map(k)),
                )
            })
            .collect();
        for &set in other.sets.set_of_trace() {
            self.sets
                .push_set(mine.get(set as usize).copied().unwrap_or(u32::MAX));
        }
    }

    /// Every distinct set's pairs and locals, by number.
    pub(crate) fn sets(&self) -> impl Iterator<Item = (&[(K, K)], &[K])> {
        self.sets.sets()
    }

    /// By trace, the number of its set.
    pub(crate) fn set_of_trace(&self) -> &[u32] {
        self.sets.set_of_trace()
    }
}

/// What linking produced, for [`assemble`]: the links at service and at instance keys (either may
/// be empty), and, where asked for, where each trace goes at those keys.
#[derive(Debug, Default)]
pub(crate) struct Linked {
    /// Links between service names.
    pub(crate) service: LinkMap<Sym>,
    /// Links between instance keys.
    pub(crate) instance: LinkMap<InstanceKey>,
    /// By trace: service pairs and names.
    pub(crate) service_lists: Option<KeyLists<Sym>>,
    /// By trace: instance pairs and keys, as indices into the table.
    pub(crate) instance_lists: Option<(IndexSet<InstanceKey, FxBuildHasher>, KeyLists<u32>)>,
}

impl Linked {
    /// Sorts every link's durations (on every core), as [`assemble`] needs them, and trims them.
    pub(crate) fn sort_durations(&mut self) {
        let mut all: Vec<&mut Durations> = self
            .service
            .values_mut()
            .chain(self.instance.values_mut())
            .map(|acc| &mut acc.durations_micros)
            .collect();
        // Their spare room goes back too: assembling the graphs reuses it.
        all.par_iter_mut().for_each(|d| d.sort());
    }
}

/// Builds the graph at `level` from linked pairs (their durations sorted,
/// [`Linked::sort_durations`]): places every instance the spans name
/// (`span_keys`), the declared elements when `whole_store`, the edges, and where each trace goes.
pub(crate) fn assemble(
    store: &mut TraceStore,
    level: Level,
    info: &FxHashMap<Sym, NameInfo>,
    span_keys: &IndexSet<InstanceKey, FxBuildHasher>,
    linked: &Linked,
    whole_store: bool,
) -> ServiceGraph {
    assemble_keyed(store, level, info, span_keys, linked, whole_store).0
}

/// [`assemble`], also giving the node of each key of `linked`'s instance table (by its number
/// there; empty at the service level or without the table).
pub(crate) fn assemble_keyed(
    store: &mut TraceStore,
    level: Level,
    info: &FxHashMap<Sym, NameInfo>,
    span_keys: &IndexSet<InstanceKey, FxBuildHasher>,
    linked: &Linked,
    whole_store: bool,
) -> (ServiceGraph, Vec<Option<NodeIndex>>) {
    let batch = &mut store.data;
    let unknown = batch.sym(UNKNOWN);
    let mut topo = TopologyBuilder {
        topology: Topology::default(),
        by_key: FxHashMap::default(),
        unknown,
    };
    let mut builder = GraphBuilder {
        graph: StableGraph::default(),
        index: FxHashMap::default(),
        edges: IndexSet::default(),
        accs: Vec::new(),
    };
    let mut node_of_instance: FxHashMap<InstanceId, NodeIndex> = FxHashMap::default();
    // Declared nodes (Spigo graph / arch, link files; not part of any one trace) are placed
    // first, so an instance also seen in spans keeps its `done` record.
    let declared: Vec<_> = if whole_store {
        batch.nodes.clone()
    } else {
        Vec::new()
    };
    let mut declared_ids: FxHashMap<Sym, InstanceId> = FxHashMap::default();
    let mut stop_of: FxHashMap<InstanceId, Stop> = FxHashMap::default();
    for (node, stop) in declared.iter().zip(stops(&declared)) {
        let place = Placer::new(batch).declared(node.name, node.level, node.package);
        let place = canonical_spigo(batch, place, node.level);
        let id = topo.topology.insert(place);
        declared_ids.insert(node.name, id);
        let s = stop_of.entry(id).or_default();
        s.done |= stop.done;
        s.early |= stop.early;
    }
    let mut add_instance = |batch: &mut Batch,
                            topo: &mut TopologyBuilder,
                            builder: &mut GraphBuilder,
                            id: InstanceId|
     -> Option<NodeIndex> {
        if let Some(n) = node_of_instance.get(&id) {
            return Some(*n);
        }
        let place = *topo.topology.place(id)?;
        let name = Topology::node_name(&mut batch.interner, &place, level);
        let stop = stop_of.get(&id).copied().unwrap_or_default();
        let n = builder.node(name, &place, stop);
        node_of_instance.insert(id, n);
        Some(n)
    };
    for key in span_keys {
        let id = topo.place_key(batch, info, *key);
        add_instance(batch, &mut topo, &mut builder, id);
    }
    for node in &declared {
        if let Some(&id) = declared_ids.get(&node.name) {
            add_instance(batch, &mut topo, &mut builder, id);
        }
    }

    // Edges from spans: services at the service level, instances (placed at `level`) otherwise.
    let by_service = level == Level::Service;
    if by_service {
        for ((p, c), acc) in &linked.service {
            let (Some(&a), Some(&b)) = (builder.index.get(p), builder.index.get(c)) else {
                continue;
            };
            builder.edge(a, b, acc.calls, acc.errors, &acc.durations_micros);
        }
    } else {
        for ((p, c), acc) in &linked.instance {
            let pa = topo.place_key(batch, info, *p);
            let ch = topo.place_key(batch, info, *c);
            let (Some(a), Some(b)) = (
                add_instance(batch, &mut topo, &mut builder, pa),
                add_instance(batch, &mut topo, &mut builder, ch),
            ) else {
                continue;
            };
            builder.edge(a, b, acc.calls, acc.errors, &acc.durations_micros);
        }
    }
    // Where each trace goes, as graph indices (edges are numbered in insertion order).
    let edge_index = |builder: &GraphBuilder, a: NodeIndex, b: NodeIndex| {
        builder.edges.get_index_of(&(a, b)).map(|i| i as u32)
    };
    let (mut nodes, mut edges) = (Vec::new(), Vec::new());
    // Worked out once per distinct set of keys, then numbered for every trace.
    let mut member_sets = ListSets::default();
    let mut of_set: Vec<u32> = Vec::new();
    let mut by_trace: &[u32] = &[];
    let mut node_of_key: Vec<Option<NodeIndex>> = Vec::new();
    match (&linked.service_lists, &linked.instance_lists) {
        (Some(lists), _) if by_service => {
            for (pairs, locals) in lists.sets() {
                let node = |k: &Sym| builder.index.get(k).copied();
                for (p, c) in pairs {
                    if let (Some(a), Some(b)) = (node(p), node(c)) {
                        nodes.extend([a.index() as u32, b.index() as u32]);
                        edges.extend(edge_index(&builder, a, b));
                    }
                }
                nodes.extend(locals.iter().filter_map(node).map(|n| n.index() as u32));
                of_set.push(member_sets.intern_unsorted(&mut nodes, &mut edges));
            }
            by_trace = lists.set_of_trace();
        }
        (_, Some((table, lists))) if !by_service => {
            // Each key is placed once, on first use, in the order the sets name them.
            node_of_key = vec![None; table.len()];
            let mut node = |batch: &mut Batch,
                            topo: &mut TopologyBuilder,
                            builder: &mut GraphBuilder,
                            k: u32| {
                let slot = node_of_key.get_mut(k as usize)?;
                if slot.is_none() {
                    let id = topo.place_key(batch, info, *table.get_index(k as usize)?);
                    *slot = add_instance(batch, topo, builder, id);
                }
                *slot
            };
            for (pairs, locals) in lists.sets() {
                for &(p, c) in pairs {
                    node(batch, &mut topo, &mut builder, p);
                    node(batch, &mut topo, &mut builder, c);
                }
                for &k in locals {
                    node(batch, &mut topo, &mut builder, k);
                }
            }
            // Where no two keys share a node (the instance level, mostly), distinct key sets
            // give distinct node sets: each is added without looking for an equal one (the
            // lookup was most of this level's assembly on a large load).
            let mut taken = vec![false; petgraph::visit::NodeIndexable::node_bound(&builder.graph)];
            let one_to_one = node_of_key.iter().flatten().all(|n| {
                taken
                    .get_mut(n.index())
                    .is_some_and(|t| !std::mem::replace(t, true))
            });
            for (pairs, locals) in lists.sets() {
                let node = |k: u32| node_of_key.get(k as usize).copied().flatten();
                for &(p, c) in pairs {
                    if let (Some(a), Some(b)) = (node(p), node(c)) {
                        nodes.extend([a.index() as u32, b.index() as u32]);
                        edges.extend(edge_index(&builder, a, b));
                    }
                }
                nodes.extend(
                    locals
                        .iter()
                        .filter_map(|&k| node(k))
                        .map(|n| n.index() as u32),
                );
                of_set.push(if one_to_one {
                    member_sets.add_unsorted(&mut nodes, &mut edges)
                } else {
                    member_sets.intern_unsorted(&mut nodes, &mut edges)
                });
            }
            by_trace = lists.set_of_trace();
        }
        _ => {}
    }
    for &set in by_trace {
        member_sets.push_set(of_set.get(set as usize).copied().unwrap_or(u32::MAX));
    }
    member_sets.shrink_to_fit();
    let trace_members = TraceMembers { sets: member_sets };
    // Declared edges.
    let declared_edges = if whole_store {
        batch.edges.clone()
    } else {
        Vec::new()
    };
    for e in &declared_edges {
        let mut end = |name: Sym| -> Option<NodeIndex> {
            let id = match declared_ids.get(&name) {
                Some(id) => *id,
                None => {
                    let place = Placer::new(batch).declared(name, e.level, None);
                    let place = canonical_spigo(batch, place, e.level);
                    let id = topo.topology.insert(place);
                    declared_ids.insert(name, id);
                    id
                }
            };
            add_instance(batch, &mut topo, &mut builder, id)
        };
        let (Some(a), Some(b)) = (end(e.source), end(e.target)) else {
            continue;
        };
        builder.edge(a, b, e.calls, e.errors, &NO_DURATIONS);
    }
    let (graph, index) = builder.finish();
    let graph = ServiceGraph {
        level,
        graph,
        topology: topo.topology,
        index,
        trace_members,
    };
    (graph, node_of_key)
}

/// Spigo instances are named in the graph files' 4-field form (`arch.region.zone.instance`)
/// whichever form a file used, so graphs, flows and architectures name the same instance alike.
fn canonical_spigo(batch: &mut Batch, place: Place, level: NameLevel) -> Place {
    if level != NameLevel::Instance {
        return place;
    }
    let text = batch.interner.resolve(place.instance);
    match SpigoName::parse_full(text) {
        Some(s) => {
            let filtered = s.graph_name();
            Place {
                instance: batch.sym(&filtered),
                ..place
            }
        }
        None => place,
    }
}

/// Per-node traffic, summed over its edges.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeTraffic {
    /// Calls in and out.
    pub calls: u64,
    /// Failed calls in and out.
    pub errors: u64,
    /// Calls in.
    pub calls_in: u64,
    /// The highest median of the edges in, µs.
    pub p50: Option<u64>,
    /// The highest 99th percentile of the edges in, µs.
    pub p99: Option<u64>,
    /// Mean latency of the calls in times their number.
    pub mean_weighted: f64,
    /// Calls in with a known duration.
    pub latency_calls: u64,
}

/// Traffic per node, by `NodeIndex::index()` (what the filter language and node sizes read).
pub fn node_traffic(graph: &ServiceGraph) -> Vec<NodeTraffic> {
    use petgraph::visit::NodeIndexable as _;
    let mut t = vec![NodeTraffic::default(); graph.graph.node_bound()];
    for e in (&graph.graph).edge_references() {
        let w = e.weight();
        for n in [e.source(), e.target()] {
            if let Some(entry) = t.get_mut(n.index()) {
                entry.calls += w.calls;
                entry.errors += w.errors;
            }
        }
        let Some(into) = t.get_mut(e.target().index()) else {
            continue;
        };
        into.calls_in += w.calls;
        if let Some(l) = w.latency {
            into.p50 = into.p50.max(Some(l.p50_micros));
            into.p99 = into.p99.max(Some(l.p99_micros));
            into.mean_weighted += l.mean_micros as f64 * l.count as f64;
            into.latency_calls += l.count;
        }
    }
    t
}

/// The graph at `level` of instances at `places` and of `edges` between names at that level,
/// with their figures: an aggregate read back ([`crate::aggregate`]). Nodes are made as
/// [`ServiceGraph::build`] makes them from the same places; an edge end no place names becomes a
/// node of its own name in unknown places.
pub(crate) fn graph_of_places(
    interner: &mut crate::model::Interner,
    level: Level,
    places: &[Place],
    edges: impl IntoIterator<Item = (Sym, Sym, EdgeStats)>,
) -> ServiceGraph {
    let mut topology = Topology::default();
    let mut builder = GraphBuilder {
        graph: StableGraph::default(),
        index: FxHashMap::default(),
        edges: IndexSet::default(),
        accs: Vec::new(),
    };
    for place in places {
        let before = topology.len();
        topology.insert(*place);
        if topology.len() > before {
            let name = Topology::node_name(interner, place, level);
            builder.node(name, place, Stop::default());
        }
    }
    let (mut graph, mut index) = builder.finish();
    let unknown = interner.intern(UNKNOWN);
    for (parent, child, stats) in edges {
        let mut end = |name: Sym| {
            *index.entry(name).or_insert_with(|| {
                graph.add_node(NodeInfo {
                    name,
                    region: Some(unknown),
                    zone: Some(unknown),
                    service: Some(name),
                    package: None,
                    instances: 1,
                    done: false,
                    stopped_early: false,
                })
            })
        };
        let (a, b) = (end(parent), end(child));
        graph.add_edge(a, b, stats);
    }
    ServiceGraph {
        level,
        graph,
        topology,
        index,
        trace_members: TraceMembers::default(),
    }
}
