//! Reads Jaeger UI JSON (`{data:[…]}`, `{data:{…}}`, bare traces, span arrays with inline `process`) and Jaeger protobuf-JSON.
//!
//! Both readers deserialize into borrowed structs, never a `serde_json::Value` tree. Records
//! (traces, NDJSON lines, array elements) are parsed in parallel with
//! [`crate::ingest::split::parse_parallel`]; the spans of one large trace are parsed in parallel
//! chunks. A span that cannot be read is counted in the [`crate::ingest::Report`] and the rest
//! still load. One file per layout (`ui`, `proto`); what they share, and the helpers the OTLP
//! reader uses too (ids in hex or base64, peer endpoints, duplicate counting), are in `common`.

mod common;
mod proto;
#[cfg(test)]
mod tests;
mod ui;

#[cfg(test)]
pub(crate) use common::SPANS_PER_CHUNK;
pub(crate) use common::{
    count_duplicates, ids_hex_or_base64, inner_array, json_warning, par_spans, remote_from_tag,
    span_id_hex_or_base64,
};
pub use proto::read_proto;
pub use ui::read_ui;
