//! Reads Zipkin v2 JSON: arrays of spans, lists of traces, single span objects, NDJSON.

use super::report::Report;
use crate::model::Batch;

/// Reads Zipkin v2 JSON.
pub fn read(_bytes: &[u8], _report: &mut Report) -> Batch {
    Batch::default()
}
