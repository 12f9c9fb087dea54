//! Reads Spigo graph files, architecture definitions (expanded into instances) and the 2015 one-annotation-per-line flow form.

use super::report::Report;
use crate::model::Batch;

/// Reads a Spigo graph file (`-j`, spigo-0.3 and 0.4).
pub fn read_graph(_bytes: &[u8], _report: &mut Report) -> Batch {
    Batch::default()
}

/// Reads a Spigo architecture file and expands it into instances and edges.
pub fn read_arch(_bytes: &[u8], _report: &mut Report) -> Batch {
    Batch::default()
}

/// Reads the 2015 NDJSON flow form (one annotation per line).
pub fn read_migration(_bytes: &[u8], _report: &mut Report) -> Batch {
    Batch::default()
}
