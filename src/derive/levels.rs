//! [`build_levels`]: one walk over every trace tree derives the graph at all four levels, and whatever else a trace's tree gives (the trace list's rows).
//!
//! Each trace's tree is built once and linked twice, with Zipkin's rules unchanged: at service
//! names (the service graph, as Zipkin's `DependencyLinker` makes it) and at instance keys (the
//! instance graph; zones and regions place those same links at their level, as
//! [`ServiceGraph::build`] does). The result is, level by level, what
//! [`ServiceGraph::build_with_members`] gives; `tests/derive_levels.rs` checks it on every shared
//! file.

use indexmap::{IndexMap, IndexSet};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashSet};

use super::graph::{
    InstanceKey, KeyLists, Linked, Names, ServiceGraph, assemble_keyed, attr_keys, name_infos,
};
use super::links::{LinkMap, Side, link_tree_into, stored_spans_if_changed, trace_tree_with};
use super::tree::{TraceTree, TreeSpan};
use crate::model::{Level, Sym, TraceEntry, TraceStore};

/// Traces one task walks. Larger chunks join with less work (each chunk's links and key lists
/// are summed into the whole once); 256 walked 200 MB about 15 % faster than 64 here, with the
/// same peak memory (1,024 was faster still but held 10 % more at the peak).
const CHUNK: usize = 256;

/// Chunks walked in parallel before their results are joined (bounds what is held at once).
const CHUNKS_PER_WAVE: usize = 8;

/// What [`build_levels`] derives.
#[derive(Debug, Default)]
pub struct Levels<R> {
    /// The graph at each level, in [`Level::ALL`] order, each with where every trace goes.
    pub graphs: Vec<ServiceGraph>,
    /// What the caller made of each trace's tree, in store order.
    pub per_trace: Vec<R>,
    /// How spans were named while linking, for linking them again the same way
    /// ([`super::window_index::WindowIndex`]).
    pub names: LinkNames,
}

/// How [`build_levels`] named spans' nodes, kept for linking traces again without a `&mut` store:
/// what each service name says, and the instance table with each key's node at the instance,
/// zone and region levels.
#[derive(Debug, Default)]
pub struct LinkNames {
    pub(crate) info: rustc_hash::FxHashMap<Sym, super::graph::NameInfo>,
    pub(crate) keys: IndexSet<InstanceKey, FxBuildHasher>,
    /// By level in [`Level::ALL`] order (empty at the service level), by key number.
    pub(crate) key_nodes: Vec<Vec<Option<petgraph::stable_graph::NodeIndex>>>,
}

/// Marks a key number as one of a chunk's own keys ([`Chunk::extra`]), not the table's.
const EXTRA: u32 = 1 << 31;

/// What one task derived from a run of traces, keyed by the walk's key numbers; joined in trace
/// order.
struct Chunk<R> {
    service: ChunkLinks<Sym>,
    instance: ChunkLinks<u32>,
    /// Keys the table lacks, numbered `EXTRA | index` in this chunk's links and lists.
    extra: IndexSet<InstanceKey, FxBuildHasher>,
    service_lists: KeyLists<Sym>,
    instance_lists: TraceLists,
    per_trace: Vec<R>,
}

/// By trace, the instance pairs it linked and the keys its spans name, as read (not yet sorted or
/// shared): most traces' instance lists differ, so the joiner keeps each distinct one once.
#[derive(Default)]
struct TraceLists {
    pairs: Vec<(u32, u32)>,
    locals: Vec<u32>,
    /// By trace: where its pairs and its locals end.
    ends: Vec<[u32; 2]>,
}

impl TraceLists {
    fn push(&mut self, pairs: impl IntoIterator<Item = (u32, u32)>, locals: &[u32]) {
        self.pairs.extend(pairs);
        self.locals.extend_from_slice(locals);
        self.ends
            .push([self.pairs.len() as u32, self.locals.len() as u32]);
    }

    /// Each trace's pairs and locals, in order.
    fn traces(&self) -> impl Iterator<Item = (&[(u32, u32)], &[u32])> {
        let starts = std::iter::once([0, 0]).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|([p0, l0], &[p1, l1])| {
            (
                self.pairs.get(p0 as usize..p1 as usize).unwrap_or_default(),
                self.locals
                    .get(l0 as usize..l1 as usize)
                    .unwrap_or_default(),
            )
        })
    }
}

/// The chunks joined so far, in trace order.
struct Joined<R> {
    service: LinkMap<Sym>,
    instance: LinkMap<u32>,
    /// Keys no span names alone, numbered after the table's.
    extra: IndexSet<InstanceKey, FxBuildHasher>,
    table_len: u32,
    service_lists: KeyLists<Sym>,
    instance_lists: KeyLists<u32>,
    rows: Vec<R>,
}

impl<R> Joined<R> {
    fn new(traces: usize, table_len: usize) -> Self {
        Self {
            service: LinkMap::default(),
            instance: LinkMap::default(),
            extra: IndexSet::default(),
            table_len: table_len as u32,
            service_lists: KeyLists::default(),
            instance_lists: KeyLists::default(),
            rows: Vec::with_capacity(traces),
        }
    }

    /// Joins the next chunk: its links summed in, its own keys numbered after the table's.
    fn add(&mut self, mut chunk: Chunk<R>) {
        if !chunk.extra.is_empty() {
            let extra: Vec<u32> = chunk
                .extra
                .iter()
                .map(|k| self.table_len + self.extra.insert_full(*k).0 as u32)
                .collect();
            let number = |k: u32| match k.checked_sub(EXTRA) {
                Some(i) => extra.get(i as usize).copied().unwrap_or(u32::MAX),
                None => k,
            };
            chunk.instance.renumber(number);
            for (p, c) in &mut chunk.instance_lists.pairs {
                (*p, *c) = (number(*p), number(*c));
            }
            for k in &mut chunk.instance_lists.locals {
                *k = number(*k);
            }
        }
        merge_links(&mut self.service, chunk.service);
        merge_links(&mut self.instance, chunk.instance);
        self.service_lists
            .append_mapped(&chunk.service_lists, |s| s);
        for (pairs, locals) in chunk.instance_lists.traces() {
            self.instance_lists
                .push(pairs.iter().copied(), locals.iter().copied());
        }
        self.rows.extend(chunk.per_trace);
    }
}

/// One chunk's links: calls and errors by pair in first-seen order, and every duration in one
/// list by link number. Joining them then frees no per-link allocation made on another thread
/// (with a list per link, those frees, contended in the allocator, were most of the joiner's time).
struct ChunkLinks<K> {
    counts: IndexMap<(K, K), [u64; 2], FxBuildHasher>,
    durations: Vec<(u32, u64)>,
}

impl<K> Default for ChunkLinks<K> {
    fn default() -> Self {
        Self {
            counts: IndexMap::default(),
            durations: Vec::new(),
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash> ChunkLinks<K> {
    /// One call from `parent` to `child`, as [`add_call`](super::links::add_call) adds it.
    fn add(&mut self, parent: K, child: K, error: bool, duration: Option<u64>) {
        let entry = self.counts.entry((parent, child));
        let link = entry.index() as u32;
        let [calls, errors] = entry.or_default();
        *calls += 1;
        *errors += u64::from(error);
        if let Some(d) = duration {
            self.durations.push((link, d));
        }
    }

    /// Renumbers every pair's keys through `number` (one to one: a chunk's own keys become the
    /// walk's numbers after the table's).
    fn renumber(&mut self, number: impl Fn(K) -> K) {
        let old = std::mem::take(&mut self.counts);
        let mut moved = Vec::with_capacity(old.len());
        for ((p, c), [calls, errors]) in old {
            let entry = self.counts.entry((number(p), number(c)));
            moved.push(entry.index() as u32);
            let sum = entry.or_default();
            sum[0] += calls;
            sum[1] += errors;
        }
        for (link, _) in &mut self.durations {
            *link = moved.get(*link as usize).copied().unwrap_or(u32::MAX);
        }
    }
}

/// Adds `from`'s calls, errors and durations into `into`, keeping first-seen order.
fn merge_links<K: Copy + Eq + std::hash::Hash>(into: &mut LinkMap<K>, from: ChunkLinks<K>) {
    let global: Vec<usize> = from
        .counts
        .into_iter()
        .map(|(pair, [calls, errors])| {
            let entry = into.entry(pair);
            let link = entry.index();
            let acc = entry.or_default();
            acc.calls += calls;
            acc.errors += errors;
            link
        })
        .collect();
    for (link, d) in from.durations {
        if let Some((_, acc)) = global
            .get(link as usize)
            .and_then(|&g| into.get_index_mut(g))
        {
            acc.durations_micros.push(d);
        }
    }
}

/// Pushes `key` onto `list` unless `seen` has it.
fn push_new<K: Copy + Eq + std::hash::Hash>(list: &mut Vec<K>, seen: &mut FxHashSet<K>, key: K) {
    if seen.insert(key) {
        list.push(key);
    }
}

fn walk_chunk<R, F>(
    store: &TraceStore,
    names: &Names<'_>,
    table: &IndexSet<InstanceKey, FxBuildHasher>,
    traces: &[TraceEntry],
    first: usize,
    per_trace: &F,
) -> Chunk<R>
where
    F: Fn(&TraceStore, usize, &TraceEntry, &TraceTree) -> R,
{
    let service_name = |s: &TreeSpan, side| match side {
        Side::Local => names.service(&s.local),
        Side::Remote => names.service(&s.remote),
    };
    let instance_name = |s: &TreeSpan, side| names.instance_of(s, side);
    let mut chunk = Chunk {
        service: ChunkLinks::default(),
        instance: ChunkLinks::default(),
        extra: IndexSet::default(),
        service_lists: KeyLists::default(),
        instance_lists: TraceLists::default(),
        per_trace: Vec::with_capacity(traces.len()),
    };
    // A key's number: the table's, or one of this chunk's own.
    let number = |extra: &mut IndexSet<InstanceKey, FxBuildHasher>, key: InstanceKey| match table
        .get_index_of(&key)
    {
        Some(k) => k as u32,
        None => EXTRA | extra.insert_full(key).0 as u32,
    };
    // One trace's links and names, reused from trace to trace. Links go straight into the
    // chunk's sums; the trace keeps only which pairs it linked.
    let mut service_pairs = Vec::new();
    let mut instance_pairs: Vec<(u32, u32)> = Vec::new();
    let mut service_locals = Vec::new();
    let mut instance_locals: Vec<u32> = Vec::new();
    let mut seen_services = FxHashSet::default();
    let mut seen_instances = FxHashSet::default();
    let error_key = store.data.interner.get("error");
    for (k, trace) in traces.iter().enumerate() {
        let tree = trace_tree_with(store, trace, error_key);
        link_tree_into(&tree, &service_name, &mut |p, c, error, duration| {
            chunk.service.add(p, c, error, duration);
            service_pairs.push((p, c));
        });
        link_tree_into(&tree, &instance_name, &mut |p, c, error, duration| {
            let (p, c) = (number(&mut chunk.extra, p), number(&mut chunk.extra, c));
            chunk.instance.add(p, c, error, duration);
            instance_pairs.push((p, c));
        });
        let stored = stored_spans_if_changed(store, trace, &tree);
        for s in tree.spans.iter().chain(&stored) {
            for side in [Side::Local, Side::Remote] {
                if let Some(name) = service_name(s, side) {
                    push_new(&mut service_locals, &mut seen_services, name);
                }
                if let Some(key) = instance_name(s, side) {
                    let key = number(&mut chunk.extra, key);
                    push_new(&mut instance_locals, &mut seen_instances, key);
                }
            }
        }
        chunk
            .service_lists
            .push(service_pairs.drain(..), service_locals.drain(..));
        chunk
            .instance_lists
            .push(instance_pairs.drain(..), &instance_locals);
        instance_locals.clear();
        seen_services.clear();
        seen_instances.clear();
        chunk
            .per_trace
            .push(per_trace(store, first + k, trace, &tree));
    }
    chunk
}

/// Derives the graph at every level of an indexed store in one walk over its trace trees, calling
/// `per_trace(store, index, entry, tree)` once for each trace (in parallel) with the tree it built.
pub fn build_levels<R, F>(store: &mut TraceStore, per_trace: F) -> Levels<R>
where
    R: Send,
    F: Fn(&TraceStore, usize, &TraceEntry, &TraceTree) -> R + Sync,
{
    let info = name_infos(&mut store.data);
    let names = Names {
        data: &store.data,
        info,
        keys: attr_keys(&store.data),
    };
    // The walk's instance keys, numbered once: every key the spans name (in span order), read
    // by every walking thread, then the few that only a merged span makes (pieces of one span
    // reported separately combine their endpoints), numbered as the joiner meets them.
    let table = names.all_span_keys();
    let traces = store.traces();
    // Waves of chunks are walked on every core while the chunks of the wave before are joined,
    // in trace order, on a thread of their own. The channel holds one wave, so at most three
    // are in memory at once.
    let joined = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Chunk<R>>>(1);
        let table_len = table.len();
        let joiner = scope.spawn(move || {
            let mut joined = Joined::new(traces.len(), table_len);
            for wave in receive {
                for chunk in wave {
                    joined.add(chunk);
                }
            }
            joined
        });
        for (w, wave) in traces.chunks(CHUNK * CHUNKS_PER_WAVE).enumerate() {
            let first = w * CHUNK * CHUNKS_PER_WAVE;
            let chunks: Vec<Chunk<R>> = wave
                .par_chunks(CHUNK)
                .enumerate()
                .map(|(c, part)| {
                    walk_chunk(store, &names, &table, part, first + c * CHUNK, &per_trace)
                })
                .collect();
            if send.send(chunks).is_err() {
                break;
            }
        }
        drop(send);
        match joiner.join() {
            Ok(joined) => joined,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    // Every trace tree, built on the walking threads, is free now.
    crate::heap::give_back();
    let Joined {
        service,
        instance,
        extra,
        service_lists,
        instance_lists,
        rows,
        ..
    } = joined;
    let span_keys = table;
    let mut keys = span_keys.clone();
    keys.extend(extra);
    let instance = instance
        .into_iter()
        .filter_map(|((p, c), acc)| {
            let key = |k: u32| keys.get_index(k as usize).copied();
            Some(((key(p)?, key(c)?), acc))
        })
        .collect();
    let mut linked = Linked {
        service,
        instance,
        service_lists: Some(service_lists),
        instance_lists: Some((keys, instance_lists)),
    };
    let Names { info, .. } = names;
    linked.sort_durations();
    // The service graph first: its links and lists are then let go before the three levels
    // placed from instance links are built (the peak of a load is here).
    let mut service = Some(assemble_keyed(
        store,
        Level::Service,
        &info,
        &span_keys,
        &linked,
        true,
    ));
    linked.service = LinkMap::default();
    linked.service_lists = None;
    crate::heap::give_back();
    let (graphs, key_nodes) = Level::ALL
        .iter()
        .filter_map(|&level| match level {
            Level::Service => service.take(),
            _ => Some(assemble_keyed(
                store, level, &info, &span_keys, &linked, true,
            )),
        })
        .unzip();
    let keys = linked
        .instance_lists
        .take()
        .map(|(table, _)| table)
        .unwrap_or_default();
    Levels {
        graphs,
        per_trace: rows,
        names: LinkNames {
            info,
            keys,
            key_nodes,
        },
    }
}
