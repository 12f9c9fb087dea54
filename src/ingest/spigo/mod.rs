//! Reads Spigo graph files, architecture definitions (expanded into instances) and the 2015 one-annotation-per-line flow form.
//!
//! Spigo is Adrian Cockcroft's microservice-architecture simulator (github.com/adrianco/spigo); the
//! formats and the rules reproduced here are described in `shared/traces/spigo/README.md`.

pub mod arch;
pub mod graph;
pub mod migration;

use std::ops::Range;

use rayon::prelude::*;

pub use arch::{ArchOptions, ExpandLimits, Expansion, expand_arch, read_arch_with};

use super::report::Report;
use crate::model::Batch;

/// Reads a Spigo graph file (`-j`, spigo-0.1, 0.3 and 0.4): `node`, `edge`, `done` and `forget` records.
pub fn read_graph(bytes: &[u8], report: &mut Report) -> Batch {
    graph::read(bytes, report)
}

/// Reads a Spigo architecture file and expands it into instances and edges as Spigo does at
/// `-p 100 -w 1` (see [`read_arch_with`] for other scales and region counts).
pub fn read_arch(bytes: &[u8], report: &mut Report) -> Batch {
    arch::read(bytes, &ArchOptions::default(), report)
}

/// Reads the 2015 NDJSON flow form (one annotation per line), grouped into Zipkin-style spans.
pub fn read_migration(bytes: &[u8], report: &mut Report) -> Batch {
    migration::read(bytes, report)
}

/// Parses each record range with `parse` on the thread pool, keeping input order. The results may
/// borrow from `bytes`, which `split::parse_parallel` cannot offer: the Spigo readers need every
/// record before they can apply order-dependent rules (`done`, `forget`, grouping annotations).
fn parse_records<'a, T, F>(bytes: &'a [u8], ranges: &[Range<usize>], parse: F) -> Vec<T>
where
    T: Send,
    F: Fn(&'a [u8]) -> T + Sync,
{
    ranges
        .par_iter()
        .with_min_len(1024)
        .filter_map(|r| bytes.get(r.clone()))
        .map(&parse)
        .collect()
}
