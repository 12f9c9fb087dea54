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

use super::links::{Link, LinkAcc, LinkMap, Side, TraceKeys, link_traces, link_traces_by_trace};
use super::tree::TreeSpan;
use crate::model::topology::UNKNOWN;
use crate::model::{
    Batch, Endpoint, InstanceId, Level, NameLevel, Place, Placer, Slice, SpigoName, Sym, Topology,
    TraceStore,
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

/// Latency of the calls an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    /// Calls with a known duration.
    pub count: u64,
    /// Mean, µs.
    pub mean_micros: u64,
    /// Median, µs.
    pub p50_micros: u64,
    /// 99th percentile, µs.
    pub p99_micros: u64,
}

impl Latency {
    /// From durations (reordered in place); `None` when there are none.
    pub fn from_durations(d: &mut [u64]) -> Option<Self> {
        if d.is_empty() {
            return None;
        }
        d.sort_unstable();
        let n = d.len();
        let at = |q: f64| {
            d.get(
                ((n as f64 * q).ceil() as usize)
                    .saturating_sub(1)
                    .min(n - 1),
            )
            .copied()
        };
        Some(Self {
            count: n as u64,
            mean_micros: d
                .iter()
                .map(|&x| u128::from(x))
                .sum::<u128>()
                .div_euclid(n as u128) as u64,
            p50_micros: at(0.5)?,
            p99_micros: at(0.99)?,
        })
    }
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
    /// By trace (in store order; filled by [`Self::build_with_members`] only): the graph nodes
    /// its spans name or link, and the graph edges it crosses, as sorted indices.
    pub trace_members: Vec<TraceMembers>,
}

/// Where one trace goes in a graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceMembers {
    /// Node indices, sorted.
    pub nodes: Vec<u32>,
    /// Edge indices, sorted.
    pub edges: Vec<u32>,
}

/// What a service name says about its node, worked out once per distinct name.
#[derive(Clone, Copy, Debug)]
struct NameInfo {
    /// Service-level name.
    service: Sym,
    /// Spigo: the instance in the 4-field form; `None` for other names.
    spigo_instance: Option<Sym>,
    region: Option<Sym>,
    zone: Option<Sym>,
    package: Option<Sym>,
}

/// Identifies an instance in span data.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct InstanceKey {
    /// The endpoint's service name as written.
    name: Sym,
    host: Option<Sym>,
    region: Option<Sym>,
    zone: Option<Sym>,
}

/// Tag keys naming a region, zone or host, as interned in this store.
struct AttrKeys {
    region: Vec<Sym>,
    zone: Vec<Sym>,
    host: Vec<Sym>,
}

use crate::model::topology::{HOST_KEYS, REGION_KEYS, ZONE_KEYS};

/// Read-only lookups shared by the linking threads.
struct Names<'a> {
    data: &'a Batch,
    info: FxHashMap<Sym, NameInfo>,
    keys: AttrKeys,
}

impl Names<'_> {
    fn lookup(&self, slices: [Slice; 2], keys: &[Sym]) -> Option<Sym> {
        keys.iter().find_map(|k| {
            slices.iter().find_map(|s| {
                self.data
                    .tags_of(*s)
                    .iter()
                    .find(|t| t.key == *k)
                    .map(|t| t.value)
            })
        })
    }

    fn service(&self, endpoint: &Endpoint) -> Option<Sym> {
        let name = endpoint.service?;
        Some(self.info.get(&name).map_or(name, |i| i.service))
    }

    fn instance(&self, endpoint: &Endpoint, attrs: Option<[Slice; 2]>) -> Option<InstanceKey> {
        let name = endpoint.service?;
        if self
            .info
            .get(&name)
            .is_some_and(|i| i.spigo_instance.is_some())
        {
            return Some(InstanceKey {
                name,
                host: None,
                region: None,
                zone: None,
            });
        }
        let (region, zone, host) = match attrs {
            Some(a) => (
                self.lookup(a, &self.keys.region),
                self.lookup(a, &self.keys.zone),
                self.lookup(a, &self.keys.host),
            ),
            None => (None, None, None),
        };
        Some(InstanceKey {
            name,
            host: host.or(endpoint.ipv4).or(endpoint.ipv6),
            region,
            zone,
        })
    }

    fn span_attrs(&self, index: u32) -> Option<[Slice; 2]> {
        self.data
            .spans
            .get(index as usize)
            .map(|s| [s.tags, s.resource])
    }

    fn instance_of(&self, span: &TreeSpan, side: Side) -> Option<InstanceKey> {
        match side {
            Side::Local => self.instance(&span.local, self.span_attrs(span.index)),
            Side::Remote => self.instance(&span.remote, None),
        }
    }
}

/// Works out, once per distinct service name, what it says (Spigo names carry their place).
fn name_infos(batch: &mut Batch) -> FxHashMap<Sym, NameInfo> {
    let distinct: IndexSet<Sym, FxBuildHasher> = batch
        .spans
        .iter()
        .flat_map(|s| [s.local.service, s.remote.service])
        .flatten()
        .collect();
    let mut out = FxHashMap::default();
    for name in distinct {
        let text = batch.interner.resolve(name);
        let info = match SpigoName::parse_full(text) {
            Some(s) => {
                let filtered = format!("{}.{}.{}.{}", s.arch, s.region, s.zone, s.instance);
                let owned = [
                    s.service.to_owned(),
                    s.region.to_owned(),
                    s.zone.to_owned(),
                    s.package.unwrap_or_default().to_owned(),
                ];
                let [service, region, zone, package] = owned;
                NameInfo {
                    service: batch.sym(&service),
                    spigo_instance: Some(batch.sym(&filtered)),
                    region: Some(batch.sym(&region)),
                    zone: Some(batch.sym(&zone)),
                    package: batch.sym_nonempty(&package),
                }
            }
            None => NameInfo {
                service: name,
                spigo_instance: None,
                region: None,
                zone: None,
                package: None,
            },
        };
        out.insert(name, info);
    }
    out
}

fn attr_keys(batch: &Batch) -> AttrKeys {
    let get = |keys: &[&str]| keys.iter().filter_map(|k| batch.interner.get(k)).collect();
    AttrKeys {
        region: get(&REGION_KEYS),
        zone: get(&ZONE_KEYS),
        host: get(&HOST_KEYS),
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

/// Accumulates nodes and edges of the graph being built.
struct GraphBuilder {
    graph: StableGraph<NodeInfo, EdgeStats>,
    index: FxHashMap<Sym, NodeIndex>,
    edges: IndexSet<(NodeIndex, NodeIndex), FxBuildHasher>,
    accs: Vec<LinkAcc>,
}

impl GraphBuilder {
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

    fn edge(&mut self, a: NodeIndex, b: NodeIndex, acc: LinkAcc) {
        let (i, new) = self.edges.insert_full((a, b));
        if new {
            self.accs.push(acc);
        } else if let Some(into) = self.accs.get_mut(i) {
            into.calls += acc.calls;
            into.errors += acc.errors;
            into.durations_micros.extend(acc.durations_micros);
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
            .map(|mut acc| EdgeStats {
                calls: acc.calls,
                errors: acc.errors,
                latency: Latency::from_durations(&mut acc.durations_micros),
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
        let span_indices: Option<Vec<u32>> =
            trace.map(|_| traces.iter().flat_map(|t| store.trace_indices(t)).collect());
        let names = Names {
            data: &store.data,
            info,
            keys: attr_keys(&store.data),
        };

        // Link with the level's names: services directly (Zipkin's graph), instances otherwise.
        // Asked for, a whole-store graph also records where each trace goes.
        let members = members && trace.is_none();
        let service_links: LinkMap<Sym>;
        let instance_links: LinkMap<InstanceKey>;
        let mut service_keys: Vec<TraceKeys<Sym>> = Vec::new();
        let mut instance_keys_by_trace: Vec<TraceKeys<InstanceKey>> = Vec::new();
        let service_name = |s: &TreeSpan, side| match side {
            _ if !kept(s) => None,
            Side::Local => names.service(&s.local),
            Side::Remote => names.service(&s.remote),
        };
        let instance_name =
            |s: &TreeSpan, side| kept(s).then(|| names.instance_of(s, side)).flatten();
        if level == Level::Service {
            service_links = if members {
                let (links, keys) = link_traces_by_trace(store, &traces, service_name);
                service_keys = keys;
                links
            } else {
                link_traces(store, &traces, service_name)
            };
            instance_links = LinkMap::default();
        } else {
            service_links = LinkMap::default();
            instance_links = if members {
                let (links, keys) = link_traces_by_trace(store, &traces, instance_name);
                instance_keys_by_trace = keys;
                links
            } else {
                link_traces(store, &traces, instance_name)
            };
        }
        // Every instance the spans name, in first-seen order.
        let instance_keys = |spans: &[crate::model::Span]| {
            let mut set: IndexSet<InstanceKey, FxBuildHasher> = IndexSet::default();
            for s in spans {
                set.extend(names.instance(&s.local, Some([s.tags, s.resource])));
                set.extend(names.instance(&s.remote, None));
            }
            set
        };
        let span_keys: IndexSet<InstanceKey, FxBuildHasher> = match &span_indices {
            Some(indices) => {
                let spans: Vec<crate::model::Span> = indices
                    .iter()
                    .filter_map(|&i| store.data.spans.get(i as usize).copied())
                    .collect();
                instance_keys(&spans)
            }
            None => store
                .data
                .spans
                .par_chunks(1 << 16)
                .map(instance_keys)
                .reduce(IndexSet::default, |mut a, b| {
                    a.extend(b);
                    a
                }),
        };
        let Names { info, .. } = names;

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
        let declared: Vec<_> = if trace.is_some() {
            Vec::new()
        } else {
            batch.nodes.clone()
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
        for key in &span_keys {
            let id = topo.place_key(batch, &info, *key);
            add_instance(batch, &mut topo, &mut builder, id);
        }
        for node in &declared {
            if let Some(&id) = declared_ids.get(&node.name) {
                add_instance(batch, &mut topo, &mut builder, id);
            }
        }

        // Edges from spans.
        for ((p, c), acc) in service_links {
            let (Some(&a), Some(&b)) = (builder.index.get(&p), builder.index.get(&c)) else {
                continue;
            };
            builder.edge(a, b, acc);
        }
        for ((p, c), acc) in instance_links {
            let pa = topo.place_key(batch, &info, p);
            let ch = topo.place_key(batch, &info, c);
            let (Some(a), Some(b)) = (
                add_instance(batch, &mut topo, &mut builder, pa),
                add_instance(batch, &mut topo, &mut builder, ch),
            ) else {
                continue;
            };
            builder.edge(a, b, acc);
        }
        // Where each trace goes, as graph indices (edges are numbered in insertion order).
        let mut trace_members: Vec<TraceMembers> = Vec::new();
        let edge_index = |builder: &GraphBuilder, a: NodeIndex, b: NodeIndex| {
            builder.edges.get_index_of(&(a, b)).map(|i| i as u32)
        };
        for (pairs, locals) in &service_keys {
            let node = |k: &Sym| builder.index.get(k).copied();
            let mut m = TraceMembers::default();
            for (p, c) in pairs {
                if let (Some(a), Some(b)) = (node(p), node(c)) {
                    m.nodes.extend([a.index() as u32, b.index() as u32]);
                    m.edges.extend(edge_index(&builder, a, b));
                }
            }
            m.nodes
                .extend(locals.iter().filter_map(node).map(|n| n.index() as u32));
            trace_members.push(m);
        }
        for (pairs, locals) in &instance_keys_by_trace {
            let mut m = TraceMembers::default();
            for (p, c) in pairs {
                let pa = topo.place_key(batch, &info, *p);
                let ch = topo.place_key(batch, &info, *c);
                if let (Some(a), Some(b)) = (
                    add_instance(batch, &mut topo, &mut builder, pa),
                    add_instance(batch, &mut topo, &mut builder, ch),
                ) {
                    m.nodes.extend([a.index() as u32, b.index() as u32]);
                    m.edges.extend(edge_index(&builder, a, b));
                }
            }
            for k in locals {
                let id = topo.place_key(batch, &info, *k);
                if let Some(n) = add_instance(batch, &mut topo, &mut builder, id) {
                    m.nodes.push(n.index() as u32);
                }
            }
            trace_members.push(m);
        }
        for m in &mut trace_members {
            m.nodes.sort_unstable();
            m.nodes.dedup();
            m.edges.sort_unstable();
            m.edges.dedup();
        }
        // Declared edges.
        let declared_edges = if trace.is_some() {
            Vec::new()
        } else {
            batch.edges.clone()
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
            builder.edge(
                a,
                b,
                LinkAcc {
                    calls: e.calls,
                    errors: e.errors,
                    durations_micros: Vec::new(),
                },
            );
        }
        let (graph, index) = builder.finish();
        Self {
            level,
            graph,
            topology: topo.topology,
            index,
            trace_members,
        }
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

/// Spigo instances are named in the graph files' 4-field form (`arch.region.zone.instance`)
/// whichever form a file used, so graphs, flows and architectures name the same instance alike.
fn canonical_spigo(batch: &mut Batch, place: Place, level: NameLevel) -> Place {
    if level != NameLevel::Instance {
        return place;
    }
    let text = batch.interner.resolve(place.instance);
    match SpigoName::parse_full(text) {
        Some(s) => {
            let filtered = format!("{}.{}.{}.{}", s.arch, s.region, s.zone, s.instance);
            Place {
                instance: batch.sym(&filtered),
                ..place
            }
        }
        None => place,
    }
}
