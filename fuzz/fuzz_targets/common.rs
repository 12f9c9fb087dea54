//! What every reader target checks after parsing: the model builds, links and graphs derive.
#![allow(dead_code, reason = "each target uses part of it")]

use flowscope::derive::ServiceGraph;
use flowscope::ingest::{self, Format};
use flowscope::model::{Level, TraceStore};

/// Parses `data` as `format` (or sniffs it when `None`) and derives everything from the result.
pub fn parse_and_derive(format: Option<Format>, data: &[u8]) {
    let (batch, report) = match format {
        Some(format) => ingest::parse_format(format, data),
        None => match ingest::parse_bytes(data) {
            Ok((_, batch, report)) => (batch, report),
            Err(_) => return,
        },
    };
    // Every outcome is data or counted warnings.
    let _ = report.total();
    derive(batch);
}

/// Builds a store from `batch` and derives links and graphs at every level.
pub fn derive(batch: flowscope::model::Batch) {
    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    let _ = flowscope::derive::tree::spans_in_cycles(&store);
    for level in [Level::Instance, Level::Service, Level::Zone, Level::Region] {
        let graph = ServiceGraph::build(&mut store, level);
        assert!(graph.graph.node_count() <= store.data.interner.len() + store.spans().len());
    }
    let _ = flowscope::cli::links_json(&mut store, Level::Service);
}
