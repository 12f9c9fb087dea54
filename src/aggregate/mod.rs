//! [`Aggregate`]: what a load derives, in a form partial results add up to and any machine reads back: the links at every level with calls, errors and a latency sketch, every instance's place, and one summary row per trace.
//!
//! `flowscope aggregate INPUT… -o OUT` writes it ([`parquet`]); `deps`, `stats` and `render`
//! read OUT as they read trace files. Links are exactly the derivation's (Zipkin's rules, or
//! Jaeger's for Jaeger documents): `deps OUT` prints what `deps INPUT…` prints, at every level.
//! Latency is kept as a [`Sketch`] per link (mergeable; quantiles within 1.6 %, mean exact), so
//! partial aggregates of a cluster's partitions sum to the whole. A node's place comes from the
//! places of its instances, as when the graph is derived; Spigo's `done` records are not kept.

pub mod lines;
pub mod parquet;
pub mod spans;

use std::sync::Arc;

use petgraph::visit::EdgeIndexable as _;
use rayon::prelude::*;

use crate::derive::ServiceGraph;
use crate::derive::graph::graph_of_places;
use crate::derive::levels::{LinkNames, build_levels};
use crate::derive::relink::{PairMapper, Relinker, UNKNOWN};
use crate::derive::sketch::Sketch;
use crate::derive::summary::trace_row;
use crate::model::{Interner, Level, Place, TraceStore};

/// One link at one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRow {
    /// The level.
    pub level: Level,
    /// Calling node's name at that level.
    pub parent: String,
    /// Called node's name.
    pub child: String,
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Durations of the calls that had one.
    pub latency: Sketch,
}

/// One instance's place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaceRow {
    /// Instance name (unique).
    pub instance: String,
    /// Region.
    pub region: String,
    /// Zone.
    pub zone: String,
    /// Service.
    pub service: String,
    /// Spigo package or service kind.
    pub package: Option<String>,
}

/// One trace, summed up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSummary {
    /// Its id as Zipkin prints it.
    pub id: String,
    /// Spans stored for it (as read, before shared pieces merge).
    pub stored_spans: u32,
    /// Spans of its tree (after merging).
    pub spans: u32,
    /// Spans with an error.
    pub errors: u32,
    /// The root span's service as its span names it.
    pub root: Option<String>,
    /// Earliest span start, epoch µs.
    pub start_micros: Option<i64>,
    /// From the earliest start to the latest end, µs.
    pub duration_micros: u64,
}

/// What the counting commands need of the files that were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRow {
    /// The file.
    pub path: String,
    /// Its format's name.
    pub format: String,
    /// Bytes (after decompression).
    pub bytes: u64,
    /// Warnings counted while reading it.
    pub warnings: u64,
}

/// A load's derivation, in rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// Links at every level.
    pub links: Vec<LinkRow>,
    /// Every instance's place (spans' and declared ones).
    pub places: Vec<PlaceRow>,
    /// One row per trace.
    pub traces: Vec<TraceSummary>,
    /// The files read.
    pub inputs: Vec<InputRow>,
    /// Spans stored.
    pub spans: u64,
}

/// What a set of inputs holds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Spans.
    pub spans: u64,
    /// Traces.
    pub traces: u64,
    /// Distinct services.
    pub services: u64,
    /// Distinct instances.
    pub instances: u64,
    /// Distinct regions.
    pub regions: u64,
    /// Distinct zones.
    pub zones: u64,
    /// Edges of the instance graph (a Spigo graph file's edge records).
    pub edges: u64,
    /// Dependency links at service level (Zipkin's `/api/v2/dependencies`).
    pub links: u64,
}

impl Aggregate {
    /// Derives the aggregate of an indexed store (every level in one walk, as the window does)
    /// and its latency sketches (its traces linked once more).
    pub fn of(store: &mut TraceStore, inputs: Vec<InputRow>) -> Self {
        let levels = build_levels(store, |store, i, entry, tree| {
            (
                trace_row(store, i, entry, tree),
                u32::try_from(store.trace_indices(entry).count()).unwrap_or(u32::MAX),
            )
        });
        let graphs: Vec<Arc<ServiceGraph>> = levels.graphs.into_iter().map(Arc::new).collect();
        let sketches = edge_sketches(store, &graphs, &levels.names);
        let interner = &store.data.interner;
        let text = |s| interner.resolve(s).to_owned();
        let mut links = Vec::new();
        for ((level, graph), sketches) in Level::ALL.iter().zip(&graphs).zip(&sketches) {
            for e in graph.graph.edge_indices() {
                let (Some((a, b)), Some(stats)) =
                    (graph.graph.edge_endpoints(e), graph.graph.edge_weight(e))
                else {
                    continue;
                };
                let name = |n| graph.graph.node_weight(n).map(|w| text(w.name));
                let (Some(parent), Some(child)) = (name(a), name(b)) else {
                    continue;
                };
                links.push(LinkRow {
                    level: *level,
                    parent,
                    child,
                    calls: stats.calls,
                    errors: stats.errors,
                    latency: sketches.get(e.index()).cloned().unwrap_or_default(),
                });
            }
        }
        let places = graphs
            .first()
            .map(|g| {
                g.topology
                    .places()
                    .map(|p| PlaceRow {
                        instance: text(p.instance),
                        region: text(p.region),
                        zone: text(p.zone),
                        service: text(p.service),
                        package: p.package.map(text),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let traces = levels
            .per_trace
            .iter()
            .zip(store.traces())
            .map(|((row, stored), entry)| TraceSummary {
                id: entry.id.display(interner),
                stored_spans: *stored,
                spans: row.spans,
                errors: row.errors,
                root: row.root.map(text),
                start_micros: row.start_micros,
                duration_micros: row.duration_micros,
            })
            .collect();
        Self {
            links,
            places,
            traces,
            inputs,
            spans: store.spans().len() as u64,
        }
    }

    /// The graph at every level (in [`Level::ALL`] order), named in `interner`.
    pub fn graphs(&self, interner: &mut Interner) -> Vec<ServiceGraph> {
        let places: Vec<Place> = self
            .places
            .iter()
            .map(|p| Place {
                region: interner.intern(&p.region),
                zone: interner.intern(&p.zone),
                service: interner.intern(&p.service),
                instance: interner.intern(&p.instance),
                package: p.package.as_deref().map(|k| interner.intern(k)),
            })
            .collect();
        Level::ALL
            .iter()
            .map(|&level| {
                let edges: Vec<_> = self
                    .links
                    .iter()
                    .filter(|l| l.level == level)
                    .map(|l| {
                        (
                            interner.intern(&l.parent),
                            interner.intern(&l.child),
                            crate::derive::EdgeStats {
                                calls: l.calls,
                                errors: l.errors,
                                latency: l.latency.latency(),
                            },
                        )
                    })
                    .collect();
                graph_of_places(interner, level, &places, edges)
            })
            .collect()
    }

    /// What `stats` counts, as it counts a store.
    pub fn counts(&self) -> Counts {
        use std::collections::BTreeSet;
        let services: BTreeSet<&str> = self.places.iter().map(|p| p.service.as_str()).collect();
        let regions: BTreeSet<&str> = self.places.iter().map(|p| p.region.as_str()).collect();
        let zones: BTreeSet<(&str, &str)> = self
            .places
            .iter()
            .map(|p| (p.region.as_str(), p.zone.as_str()))
            .collect();
        let at = |level| self.links.iter().filter(|l| l.level == level).count() as u64;
        Counts {
            spans: self.spans,
            traces: self.traces.len() as u64,
            services: services.len() as u64,
            instances: self.places.len() as u64,
            regions: regions.len() as u64,
            zones: zones.len() as u64,
            edges: at(Level::Instance),
            links: at(Level::Service),
        }
    }
}

/// Every edge's latency sketch at every level (by level in [`Level::ALL`] order, by edge index):
/// the store's traces linked again ([`Relinker`]), on every core.
fn edge_sketches(
    store: &TraceStore,
    graphs: &[Arc<ServiceGraph>],
    names: &LinkNames,
) -> Vec<Vec<Sketch>> {
    let linker = Relinker::new(store, graphs, names);
    let pairs = PairMapper::new(graphs, names);
    let service_level = Level::ALL
        .iter()
        .position(|&l| l == Level::Service)
        .unwrap_or(1);
    let traces: Vec<u32> = (0..store.traces().len() as u32).collect();
    // Per level: (edge, duration) of every link that had one.
    let found: Vec<Vec<(u32, u64)>> = traces
        .par_chunks(256)
        .map(|part| {
            let mut out: Vec<Vec<(u32, u64)>> = vec![Vec::new(); Level::ALL.len()];
            let (mut service, mut instance) = (Vec::new(), Vec::new());
            for &t in part {
                linker.link(
                    t,
                    &mut |edge, _, d: Option<u64>| service.extend(d.map(|d| (edge, d))),
                    &mut |pair, _, d: Option<u64>| instance.extend(d.map(|d| (pair, d))),
                );
            }
            for (i, v) in out.iter_mut().enumerate() {
                if i == service_level {
                    v.append(&mut service);
                } else {
                    v.extend(instance.iter().map(|&(pair, d)| (pairs.edge(i, pair), d)));
                }
            }
            out
        })
        .reduce(
            || vec![Vec::new(); Level::ALL.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.extend(y);
                }
                a
            },
        );
    found
        .into_iter()
        .zip(graphs)
        .map(|(mut links, graph)| {
            links.retain(|&(e, _)| e != UNKNOWN);
            links.par_sort_unstable_by_key(|&(e, _)| e);
            let mut out = vec![Sketch::default(); graph.graph.edge_bound()];
            for run in links.chunk_by(|a, b| a.0 == b.0) {
                if let Some(slot) = run.first().and_then(|&(e, _)| out.get_mut(e as usize)) {
                    *slot = Sketch::of(run.iter().map(|&(_, d)| d));
                }
            }
            out
        })
        .collect()
}

/// A link's key: its level and ends.
pub(crate) type LinkKey = (Level, String, String);

/// Rows of partial aggregates summed up: links, latency buckets and places, each by its key.
#[derive(Default)]
pub(crate) struct Merger {
    links: indexmap::IndexMap<LinkKey, (u64, u64, u64)>,
    buckets: rustc_hash::FxHashMap<LinkKey, Vec<(u16, u64)>>,
    places: indexmap::IndexMap<String, PlaceRow>,
}

impl Merger {
    /// Adds a link's calls, errors and duration sum.
    pub(crate) fn link(&mut self, key: LinkKey, calls: u64, errors: u64, sum: u64) {
        let have = self.links.entry(key).or_default();
        have.0 = have.0.saturating_add(calls);
        have.1 = have.1.saturating_add(errors);
        have.2 = have.2.saturating_add(sum);
    }

    /// Adds durations to a link's latency bucket.
    pub(crate) fn bucket(&mut self, key: LinkKey, bucket: u16, count: u64) {
        self.buckets.entry(key).or_default().push((bucket, count));
    }

    /// Adds a place: an instance keeps its first (a package may fill in later).
    pub(crate) fn place(&mut self, row: PlaceRow) {
        let package = row.package.clone();
        let place = self.places.entry(row.instance.clone()).or_insert(PlaceRow {
            package: None,
            ..row
        });
        if place.package.is_none() {
            place.package = package;
        }
    }

    /// The links (with their sketches) and places.
    pub(crate) fn finish(mut self) -> (Vec<LinkRow>, Vec<PlaceRow>) {
        let links = self
            .links
            .into_iter()
            .map(|(key, (calls, errors, sum))| {
                let latency =
                    Sketch::from_parts(self.buckets.remove(&key).unwrap_or_default(), sum);
                let (level, parent, child) = key;
                LinkRow {
                    level,
                    parent,
                    child,
                    calls,
                    errors,
                    latency,
                }
            })
            .collect();
        (links, self.places.into_values().collect())
    }
}

/// An aggregate's row as a line of JSON, for a cluster to merge ([`Aggregate::write_rows`]).
#[derive(serde::Serialize, serde::Deserialize, Debug)]
#[serde(tag = "table", rename_all = "lowercase")]
enum RowLine {
    Link {
        level: String,
        parent: String,
        child: String,
        calls: u64,
        errors: u64,
        duration_sum: u64,
    },
    Latency {
        level: String,
        parent: String,
        child: String,
        bucket: u16,
        count: u64,
    },
    Place {
        instance: String,
        region: String,
        zone: String,
        service: String,
        #[serde(default)]
        package: Option<String>,
    },
    Trace {
        id: String,
        stored_spans: u32,
        spans: u32,
        errors: u32,
        #[serde(default)]
        root: Option<String>,
        #[serde(default)]
        start_micros: Option<i64>,
        duration_micros: u64,
    },
    Spans {
        count: u64,
    },
}

impl Aggregate {
    /// Takes out what `context` (the derivation of the declared elements a partition was given
    /// as context alone) adds: its links' calls and errors, and the links only it made.
    pub fn without(&mut self, context: &Self) {
        let theirs: rustc_hash::FxHashMap<(Level, &str, &str), (u64, u64)> = context
            .links
            .iter()
            .map(|l| {
                (
                    (l.level, l.parent.as_str(), l.child.as_str()),
                    (l.calls, l.errors),
                )
            })
            .collect();
        self.links.retain_mut(|l| {
            let Some(&(calls, errors)) =
                theirs.get(&(l.level, l.parent.as_str(), l.child.as_str()))
            else {
                return true;
            };
            l.calls = l.calls.saturating_sub(calls);
            l.errors = l.errors.saturating_sub(errors);
            l.calls > 0 || l.errors > 0 || l.latency.count() > 0
        });
    }

    /// Writes every row as a line of JSON (`{"table":"link",…}`, `latency`, `place`, `trace`,
    /// `spans`): what `flowscope partial` prints for a cluster to merge.
    pub fn write_rows(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut line = |row: &RowLine| -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, row)?;
            writeln!(out)
        };
        for l in &self.links {
            let level = l.level.as_str().to_owned();
            line(&RowLine::Link {
                level: level.clone(),
                parent: l.parent.clone(),
                child: l.child.clone(),
                calls: l.calls,
                errors: l.errors,
                duration_sum: l.latency.sum(),
            })?;
            for &(bucket, count) in l.latency.buckets() {
                line(&RowLine::Latency {
                    level: level.clone(),
                    parent: l.parent.clone(),
                    child: l.child.clone(),
                    bucket,
                    count,
                })?;
            }
        }
        for p in &self.places {
            line(&RowLine::Place {
                instance: p.instance.clone(),
                region: p.region.clone(),
                zone: p.zone.clone(),
                service: p.service.clone(),
                package: p.package.clone(),
            })?;
        }
        for t in &self.traces {
            line(&RowLine::Trace {
                id: t.id.clone(),
                stored_spans: t.stored_spans,
                spans: t.spans,
                errors: t.errors,
                root: t.root.clone(),
                start_micros: t.start_micros,
                duration_micros: t.duration_micros,
            })?;
        }
        line(&RowLine::Spans { count: self.spans })
    }

    /// Reads rows [`Aggregate::write_rows`] wrote, of any number of partial aggregates, and
    /// merges them: links, latency buckets and span counts add up, an instance keeps its first
    /// place. Returns the aggregate and the number of lines that were not rows.
    pub fn read_rows(input: impl std::io::BufRead) -> (Self, u64) {
        let level_of = |s: &str| Level::ALL.into_iter().find(|l| l.as_str() == s);
        let mut merger = Merger::default();
        let mut out = Self::default();
        let mut bad = 0;
        for line in input.lines() {
            let Some(row) = line
                .ok()
                .and_then(|l| serde_json::from_str::<RowLine>(&l).ok())
            else {
                bad += 1;
                continue;
            };
            match row {
                RowLine::Link {
                    level,
                    parent,
                    child,
                    calls,
                    errors,
                    duration_sum,
                } => {
                    let Some(level) = level_of(&level) else {
                        bad += 1;
                        continue;
                    };
                    merger.link((level, parent, child), calls, errors, duration_sum);
                }
                RowLine::Latency {
                    level,
                    parent,
                    child,
                    bucket,
                    count,
                } => {
                    let Some(level) = level_of(&level) else {
                        bad += 1;
                        continue;
                    };
                    merger.bucket((level, parent, child), bucket, count);
                }
                RowLine::Place {
                    instance,
                    region,
                    zone,
                    service,
                    package,
                } => merger.place(PlaceRow {
                    instance,
                    region,
                    zone,
                    service,
                    package,
                }),
                RowLine::Trace {
                    id,
                    stored_spans,
                    spans,
                    errors,
                    root,
                    start_micros,
                    duration_micros,
                } => out.traces.push(TraceSummary {
                    id,
                    stored_spans,
                    spans,
                    errors,
                    root,
                    start_micros,
                    duration_micros,
                }),
                RowLine::Spans { count } => out.spans = out.spans.saturating_add(count),
            }
        }
        (out.links, out.places) = merger.finish();
        (out, bad)
    }
}
