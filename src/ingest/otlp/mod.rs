//! Reads OpenTelemetry OTLP: JSON (`resourceSpans` objects, NDJSON of them, legacy `instrumentationLibrarySpans`, Tempo `batches`) and the collector's protobuf files.
//!
//! A single request is split into its resource spans, which are parsed in parallel; NDJSON and
//! arrays of requests are split into requests. Everything is read into borrowed structs (no
//! `serde_json::Value` tree). Ids are hex of any case or, as Tempo writes them, base64; enums are
//! integers or their protobuf names.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::jaeger::{
    count_duplicates, ids_hex_or_base64, inner_array, json_warning, par_spans, remote_from_tag,
    span_id_hex_or_base64,
};
use super::json::{CowStr, Num, Scalar, ScalarType};
use super::report::{Report, WarningKind};
use super::split::{self, Layout};
use crate::model::{Annotation, Batch, Endpoint, IdError, Kind, Slice, Span, Sym, Tag};

mod proto;

pub use proto::{looks_like_proto, read_proto};

/// The request members that hold resource spans (OTLP, its `snake_case` spelling, Tempo).
const RESOURCE_SPANS_KEYS: [&str; 3] = ["resourceSpans", "resource_spans", "batches"];

/// An `ExportTraceServiceRequest` (or Tempo's `{"batches":[…]}`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Request<'a> {
    #[serde(borrow, rename = "resourceSpans", alias = "resource_spans")]
    resource_spans: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    batches: Option<Vec<&'a RawValue>>,
    /// Jaeger's API v3 wrapper of a request.
    #[serde(borrow)]
    result: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceSpans<'a> {
    #[serde(borrow)]
    resource: Option<Resource<'a>>,
    #[serde(borrow, rename = "scopeSpans", alias = "scope_spans")]
    scope_spans: Option<Vec<ScopeSpans<'a>>>,
    #[serde(
        borrow,
        rename = "instrumentationLibrarySpans",
        alias = "instrumentation_library_spans"
    )]
    library_spans: Option<Vec<ScopeSpans<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resource<'a> {
    #[serde(borrow)]
    attributes: Option<Vec<KeyValue<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScopeSpans<'a> {
    #[serde(borrow)]
    spans: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyValue<'a> {
    #[serde(borrow)]
    key: Option<CowStr<'a>>,
    #[serde(borrow)]
    value: Option<AnyValue<'a>>,
}

/// OTLP's `AnyValue`: exactly one member is set.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AnyValue<'a> {
    #[serde(borrow, rename = "stringValue", alias = "string_value")]
    string: Option<CowStr<'a>>,
    #[serde(borrow, rename = "boolValue", alias = "bool_value")]
    boolean: Scalar<'a>,
    #[serde(borrow, rename = "intValue", alias = "int_value")]
    int: Scalar<'a>,
    #[serde(borrow, rename = "doubleValue", alias = "double_value")]
    double: Scalar<'a>,
    #[serde(borrow, rename = "bytesValue", alias = "bytes_value")]
    bytes: Option<CowStr<'a>>,
    #[serde(borrow, rename = "arrayValue", alias = "array_value")]
    array: Option<ArrayValue<'a>>,
    #[serde(borrow, rename = "kvlistValue", alias = "kvlist_value")]
    kvlist: Option<KvList<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArrayValue<'a> {
    #[serde(borrow)]
    values: Vec<AnyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KvList<'a> {
    #[serde(borrow)]
    values: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status<'a> {
    #[serde(borrow)]
    code: Scalar<'a>,
    #[serde(borrow)]
    message: Option<CowStr<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Event<'a> {
    #[serde(rename = "timeUnixNano", alias = "time_unix_nano")]
    time_unix_nano: Option<Num>,
    #[serde(borrow)]
    name: Option<CowStr<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OtlpSpan<'a> {
    #[serde(borrow, rename = "traceId", alias = "trace_id")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "spanId", alias = "span_id")]
    span_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "parentSpanId", alias = "parent_span_id")]
    parent_span_id: Option<CowStr<'a>>,
    #[serde(borrow)]
    name: Option<CowStr<'a>>,
    #[serde(borrow)]
    kind: Scalar<'a>,
    #[serde(rename = "startTimeUnixNano", alias = "start_time_unix_nano")]
    start_time_unix_nano: Option<Num>,
    #[serde(rename = "endTimeUnixNano", alias = "end_time_unix_nano")]
    end_time_unix_nano: Option<Num>,
    #[serde(borrow)]
    attributes: Option<Vec<KeyValue<'a>>>,
    #[serde(borrow)]
    events: Option<Vec<Event<'a>>>,
    #[serde(borrow)]
    status: Option<Status<'a>>,
}

/// What every span of one resource shares.
#[derive(Clone, Copy)]
struct ResourceInfo {
    service: Option<Sym>,
    resource: Slice,
}

/// Reads OTLP/JSON: one `ExportTraceServiceRequest` (`resourceSpans`, or Tempo's `batches`), NDJSON
/// with one request per line, or an array of requests.
pub fn read(bytes: &[u8], report: &mut Report) -> Batch {
    let Some(records) = split::split_reported(bytes, report) else {
        return Batch::default();
    };
    let inner = match (records.layout, records.ranges.as_slice()) {
        (Layout::SingleObject, [only]) => inner_array(bytes, only, &RESOURCE_SPANS_KEYS, report),
        _ => None,
    };
    let (batch, r) = match inner {
        Some(ranges) => split::parse_parallel(bytes, &ranges, read_resource_spans),
        None => split::parse_parallel(bytes, &records.ranges, read_request),
    };
    report.merge(r);
    count_duplicates(&batch, report);
    batch
}

/// Reads one request; an object that is itself a resource-spans entry is read as one.
fn read_request(record: &[u8], batch: &mut Batch, report: &mut Report) {
    read_request_in(record, false, batch, report);
}

/// [`read_request`] of a record, or (`in_result`) of what a Jaeger API v3 `result` holds, which
/// must be a request (one level only: `{"result":{"result":…}}` is not one).
fn read_request_in(record: &[u8], in_result: bool, batch: &mut Batch, report: &mut Report) {
    let request: Request<'_> = match serde_json::from_slice(record) {
        Ok(r) => r,
        Err(e) if in_result => return json_warning(report, &e, "a Jaeger API v3 result"),
        Err(e) => return json_warning(report, &e, "an OTLP request"),
    };
    let is_request = request.resource_spans.is_some() || request.batches.is_some();
    match request.result {
        Some(inner) if !in_result => {
            return read_request_in(inner.get().as_bytes(), true, batch, report);
        }
        _ if in_result && (request.result.is_some() || !is_request) => {
            return report.warn(WarningKind::BadRecord, || {
                "\"result\" holds no OTLP resourceSpans".to_owned()
            });
        }
        _ => {}
    }
    match (request.resource_spans, request.batches) {
        (None, None) => read_resource_spans(record, batch, report),
        (a, b) => {
            for rs in a.iter().flatten().chain(b.iter().flatten()) {
                read_resource_spans(rs.get().as_bytes(), batch, report);
            }
        }
    }
}

/// Reads one `ResourceSpans`: the resource's attributes are interned once, then its spans are read.
fn read_resource_spans(record: &[u8], batch: &mut Batch, report: &mut Report) {
    let rs: ResourceSpans<'_> = match serde_json::from_slice(record) {
        Ok(r) => r,
        Err(e) => return json_warning(report, &e, "an OTLP resourceSpans entry"),
    };
    if rs.scope_spans.is_none() && rs.library_spans.is_none() && rs.resource.is_none() {
        report.warn(WarningKind::BadRecord, || {
            "an object that is neither an OTLP request nor a resourceSpans entry".to_owned()
        });
        return;
    }
    let spans: Vec<&RawValue> = rs
        .scope_spans
        .iter()
        .flatten()
        .chain(rs.library_spans.iter().flatten())
        .flat_map(|s| s.spans.iter().flatten().copied())
        .collect();
    let attributes = rs
        .resource
        .as_ref()
        .and_then(|r| r.attributes.as_deref())
        .unwrap_or(&[]);
    par_spans(
        &spans,
        batch,
        report,
        |batch| resource_info(attributes, batch),
        |raw, batch, report, info| read_span(raw.get().as_bytes(), *info, batch, report),
    );
}

/// Interns a resource: `service.name` is the service, every attribute goes to the resource slice.
fn resource_info(attributes: &[KeyValue<'_>], batch: &mut Batch) -> ResourceInfo {
    let mut service = None;
    let mut tags = Vec::with_capacity(attributes.len());
    let mut text = String::new();
    for kv in attributes {
        let Some(key) = kv
            .key
            .as_ref()
            .map(|k| k.0.as_ref())
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        let value = any_text(kv.value.as_ref(), &mut text);
        if key == "service.name" {
            service = batch.service_sym(value.trim());
        }
        let tag = Tag {
            key: batch.sym(key),
            value: batch.sym(value),
        };
        tags.push(tag);
    }
    ResourceInfo {
        service,
        resource: batch.push_tags(&tags),
    }
}

/// A value as tag text: strings as they are, scalars as JSON writes them, arrays and key/value
/// lists as compact JSON. `buf` holds the text when it has to be built.
fn any_text<'v>(value: Option<&'v AnyValue<'_>>, buf: &'v mut String) -> &'v str {
    let Some(v) = value else {
        return "";
    };
    if let Some(s) = &v.string {
        return &s.0;
    }
    if let Some(s) = [&v.boolean, &v.int, &v.double]
        .into_iter()
        .find_map(|s| s.0.as_deref())
    {
        return s;
    }
    if let Some(s) = &v.bytes {
        return &s.0;
    }
    buf.clear();
    if v.array.is_some() || v.kvlist.is_some() {
        write_json(v, buf);
    }
    buf
}

/// Appends `s` as a JSON string.
fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a scalar that should be a JSON number or boolean, quoting it when it is not one.
fn write_json_scalar(s: &Scalar<'_>, out: &mut String) {
    match (s.0.as_deref(), s.1) {
        (Some(text), ScalarType::Number | ScalarType::Bool)
        | (Some(text @ ("true" | "false")), _) => {
            out.push_str(text);
        }
        (Some(text), _) if text.parse::<i64>().is_ok() => out.push_str(text),
        (Some(text), _) => write_json_str(text, out),
        (None, _) => out.push_str("null"),
    }
}

/// Appends an `AnyValue` as compact JSON (`["a",1]`, `{"k":"v"}`), as the collector's `AsString` does.
fn write_json(v: &AnyValue<'_>, out: &mut String) {
    if let Some(s) = &v.string {
        write_json_str(&s.0, out);
    } else if v.boolean.0.is_some() {
        write_json_scalar(&v.boolean, out);
    } else if v.int.0.is_some() {
        write_json_scalar(&v.int, out);
    } else if let Some(d) = v.double.0.as_deref() {
        match d.parse::<f64>() {
            Ok(f) if f.is_finite() && v.double.1 == ScalarType::Number => out.push_str(d),
            Ok(f) if f.is_finite() => out.push_str(&f.to_string()),
            _ => write_json_str(d, out),
        }
    } else if let Some(b) = &v.bytes {
        write_json_str(&b.0, out);
    } else if let Some(a) = &v.array {
        out.push('[');
        for (i, item) in a.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json(item, out);
        }
        out.push(']');
    } else if let Some(kv) = &v.kvlist {
        out.push('{');
        for (i, item) in kv.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_str(item.key.as_ref().map_or("", |k| k.0.as_ref()), out);
            out.push(':');
            match &item.value {
                Some(value) => write_json(value, out),
                None => out.push_str("null"),
            }
        }
        out.push('}');
    } else {
        out.push_str("null");
    }
}

/// The span kind from its number or enum name; `INTERNAL` and `UNSPECIFIED` are no kind.
fn span_kind(kind: &Scalar<'_>) -> Option<Kind> {
    match kind.0.as_deref()?.trim() {
        "2" | "SPAN_KIND_SERVER" => Some(Kind::Server),
        "3" | "SPAN_KIND_CLIENT" => Some(Kind::Client),
        "4" | "SPAN_KIND_PRODUCER" => Some(Kind::Producer),
        "5" | "SPAN_KIND_CONSUMER" => Some(Kind::Consumer),
        _ => None,
    }
}

/// True for status code 2 / `STATUS_CODE_ERROR`.
fn is_error(status: &Status<'_>) -> bool {
    matches!(
        status.code.0.as_deref().map(str::trim),
        Some("2" | "STATUS_CODE_ERROR")
    )
}

/// A time in epoch nanoseconds read as microseconds. `None` when absent or zero (proto3's unset).
fn nanos(v: Option<Num>, what: &str, span: &str, report: &mut Report) -> Option<i64> {
    match v? {
        Num(Some(0)) => None,
        Num(Some(n)) if n > 0 => Some(n),
        Num(n) => {
            report.warn(WarningKind::BadTimestamp, || {
                format!("{what} {n:?} on span {span}")
            });
            None
        }
    }
}

/// Reads one span of a resource.
fn read_span(record: &[u8], info: ResourceInfo, batch: &mut Batch, report: &mut Report) {
    match serde_json::from_slice::<OtlpSpan<'_>>(record) {
        Ok(span) => push_span(&span, info, batch, report),
        Err(e) => json_warning(report, &e, "an OTLP span"),
    }
}

/// Adds one span of a resource, read from either form (JSON, or protobuf in [`proto`]).
fn push_span(span: &OtlpSpan<'_>, info: ResourceInfo, batch: &mut Batch, report: &mut Report) {
    let trace_text = span
        .trace_id
        .as_ref()
        .map(|t| t.0.trim())
        .filter(|t| !t.is_empty());
    let Some(trace_text) = trace_text else {
        report.warn(WarningKind::MissingTraceId, || {
            format!("span {:?}", span.span_id.as_ref().map(|s| &s.0))
        });
        return;
    };
    let Some(span_text) = span
        .span_id
        .as_ref()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty())
    else {
        report.warn(WarningKind::MissingSpanId, || {
            format!("a span in trace {trace_text}")
        });
        return;
    };
    let Some((trace_id, id)) =
        ids_hex_or_base64(trace_text, span_text, ["traceId", "spanId"], report)
    else {
        return;
    };
    let parent_id = match span.parent_span_id.as_ref().map(|p| p.0.trim()) {
        None | Some("") => None,
        Some(p) => match span_id_hex_or_base64(p) {
            Ok(p) => Some(p),
            Err(IdError::AllZeros) => None,
            Err(e) => {
                report.warn(WarningKind::BadId, || {
                    format!("parentSpanId {p:?} on span {span_text}: {e} (read as a root)")
                });
                None
            }
        },
    };

    let mut tags = Vec::new();
    let mut remote = Endpoint::default();
    if let Some(status) = span.status.as_ref().filter(|s| is_error(s)) {
        let message = status.message.as_ref().map_or("", |m| m.0.as_ref());
        let tag = Tag {
            key: batch.sym("error"),
            value: batch.sym(message),
        };
        tags.push(tag);
    }
    let mut text = String::new();
    for kv in span.attributes.iter().flatten() {
        let Some(key) = kv
            .key
            .as_ref()
            .map(|k| k.0.as_ref())
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        let value = any_text(kv.value.as_ref(), &mut text);
        remote_from_tag(batch, &mut remote, key, value);
        let tag = Tag {
            key: batch.sym(key),
            value: batch.sym(value),
        };
        tags.push(tag);
    }

    let mut annotations = Vec::new();
    for event in span.events.iter().flatten() {
        let Some(ts) = nanos(event.time_unix_nano, "event time", span_text, report) else {
            continue;
        };
        let name = event
            .name
            .as_ref()
            .map(|n| n.0.as_ref())
            .filter(|n| !n.is_empty())
            .unwrap_or("event");
        annotations.push(Annotation {
            timestamp_micros: ts / 1000,
            value: batch.sym(name),
        });
    }

    let start = nanos(
        span.start_time_unix_nano,
        "startTimeUnixNano",
        span_text,
        report,
    );
    let end = nanos(
        span.end_time_unix_nano,
        "endTimeUnixNano",
        span_text,
        report,
    );
    let duration = match (start, end) {
        (Some(s), Some(e)) if e >= s => Some((e - s) as u64 / 1000),
        (Some(s), Some(e)) => {
            report.warn(WarningKind::BadTimestamp, || {
                format!("span {span_text} ends {} ns before it starts", s - e)
            });
            None
        }
        _ => None,
    };

    let mut out = Span::new(trace_id, id);
    out.set_parent_id(parent_id);
    out.kind = span_kind(&span.kind);
    out.name = span.name.as_ref().and_then(|n| batch.sym_nonempty(&n.0));
    out.set_timestamp_micros(start.map(|s| s / 1000));
    out.set_duration_micros(duration);
    out.local = Endpoint {
        service: info.service,
        ..Endpoint::default()
    };
    out.remote = remote;
    out.tags = batch.push_tags(&tags);
    out.annotations = batch.push_annotations(annotations);
    out.resource = info.resource;
    batch.spans.push(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanId, TraceId};

    fn otlp(json: &str) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read(json.as_bytes(), &mut report);
        (batch, report)
    }

    fn text(batch: &Batch, sym: Option<Sym>) -> Option<&str> {
        sym.map(|s| batch.interner.resolve(s))
    }

    const RESOURCE: &str = r#"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"Svc"}}]},"scopeSpans":[{"scope":{"name":"lib"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"op","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"3000"}]}]}"#;

    /// Every layout reads the same span: a request, Tempo `batches`, legacy
    /// `instrumentationLibrarySpans`, NDJSON of requests, an array of requests, a bare resource.
    #[test]
    fn every_layout_reads() {
        let legacy = RESOURCE.replace("scopeSpans", "instrumentationLibrarySpans");
        let layouts = [
            format!(r#"{{"resourceSpans":[{RESOURCE}]}}"#),
            format!(r#"{{"batches":[{RESOURCE}]}}"#),
            format!(r#"{{"resourceSpans":[{legacy}]}}"#),
            format!("{{\"resourceSpans\":[{RESOURCE}]}}\n{{\"resourceSpans\":[]}}\n"),
            format!(r#"[{{"resourceSpans":[{RESOURCE}]}},{{"resourceSpans":[{legacy}]}}]"#),
            RESOURCE.to_owned(),
        ];
        for json in &layouts {
            let (batch, report) = otlp(json);
            assert!(!batch.spans.is_empty(), "{json}");
            let s = batch.spans[0];
            assert_eq!(
                s.trace_id(),
                TraceId::Hex128 {
                    high: 0x0af7_6519_16cd_43dd,
                    low: 0x8448_eb21_1c80_319c
                },
                "{json}"
            );
            assert_eq!(s.id(), SpanId::Hex(0xb7ad_6b71_6920_3331));
            assert_eq!(s.parent_id(), None);
            assert_eq!(s.kind, Some(Kind::Server));
            assert_eq!(text(&batch, s.name), Some("op"));
            assert_eq!(text(&batch, s.local.service), Some("svc"));
            assert_eq!(batch.tag(s.resource, "service.name"), Some("Svc"));
            assert_eq!(
                (s.timestamp_micros(), s.duration_micros()),
                (Some(1), Some(2))
            );
            // The array layout holds the same span twice.
            assert_eq!(
                report.total(),
                batch.spans.len() as u64 - 1,
                "{json}: {report:?}"
            );
        }
    }

    /// Ids: upper-case hex, Tempo's base64 (told apart by length), "" parent = root; bad and
    /// missing ids are counted and the span skipped.
    #[test]
    fn ids_hex_base64_and_bad() {
        let json = r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[
            {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":""},
            {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","parentSpanId":"7uGbfsPBsXM="},
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"EEE19B7EC3C1B175","parentSpanId":"0000000000000000"},
            {"spanId":"EEE19B7EC3C1B176"},
            {"traceId":"5b8efff798038103d269b633813fc60c"},
            {"traceId":"not-an-id","spanId":"1"},
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"2","parentSpanId":"zz"}
        ]}]}]}"#;
        let (batch, report) = otlp(json);
        assert_eq!(report.count(WarningKind::MissingTraceId), 1);
        assert_eq!(report.count(WarningKind::MissingSpanId), 1);
        assert_eq!(report.count(WarningKind::BadId), 2);
        // The base64 span repeats the first one's ids.
        assert_eq!(report.count(WarningKind::Duplicate), 1);
        assert_eq!(report.total(), 5);
        let i = &batch.interner;
        let ids: Vec<(String, String, Option<String>)> = batch
            .spans
            .iter()
            .map(|s| {
                (
                    s.trace_id().display(i),
                    s.id().display(i),
                    s.parent_id().map(|p| p.display(i)),
                )
            })
            .collect();
        let t = "5b8efff798038103d269b633813fc60c".to_owned();
        assert_eq!(
            ids,
            vec![
                (t.clone(), "eee19b7ec3c1b174".to_owned(), None),
                (
                    t.clone(),
                    "eee19b7ec3c1b174".to_owned(),
                    Some("eee19b7ec3c1b173".to_owned())
                ),
                (t.clone(), "eee19b7ec3c1b175".to_owned(), None),
                (t, "0000000000000002".to_owned(), None),
            ]
        );
    }

    /// Kinds and status as integers or enum names; an error status gives the `error` tag with the
    /// status message (or ""), which wins over an `error` attribute.
    #[test]
    fn kinds_and_status() {
        let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"1","spanId":"1","kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_ERROR","message":"boom"}},
            {"traceId":"1","spanId":"2","kind":4,"status":{"code":2}},
            {"traceId":"1","spanId":"3","kind":"SPAN_KIND_CONSUMER","status":{"code":"STATUS_CODE_OK"}},
            {"traceId":"1","spanId":"4","kind":1,"status":{"code":2,"message":"m"},
             "attributes":[{"key":"error","value":{"stringValue":"attr"}}]},
            {"traceId":"1","spanId":"5","kind":"SPAN_KIND_INTERNAL"},
            {"traceId":"1","spanId":"6","kind":0}
        ]}]}]}"#;
        let (batch, report) = otlp(json);
        assert_eq!(report.total(), 0, "{report:?}");
        let kinds: Vec<Option<Kind>> = batch.spans.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Some(Kind::Client),
                Some(Kind::Producer),
                Some(Kind::Consumer),
                None,
                None,
                None
            ]
        );
        let errors: Vec<Option<&str>> = batch
            .spans
            .iter()
            .map(|s| batch.tag(s.tags, "error"))
            .collect();
        assert_eq!(
            errors,
            vec![Some("boom"), Some(""), None, Some("m"), None, None]
        );
    }

    /// Attribute values as tag text: scalars as JSON writes them, arrays and key/value lists as
    /// compact JSON; `peer.service` names the remote side; events become annotations.
    #[test]
    fn attribute_values_and_events() {
        let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"1","spanId":"1","startTimeUnixNano":5000000,"endTimeUnixNano":"4000000",
             "attributes":[
                {"key":"s","value":{"stringValue":"x\"y"}},
                {"key":"b","value":{"boolValue":true}},
                {"key":"i","value":{"intValue":"42"}},
                {"key":"j","value":{"intValue":7}},
                {"key":"d","value":{"doubleValue":2.5}},
                {"key":"bytes","value":{"bytesValue":"AAE="}},
                {"key":"a","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"boolValue":false},{"doubleValue":"NaN"}]}}},
                {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"arrayValue":{}}},{"key":"e","value":{}}]}}},
                {"key":"empty","value":{}},
                {"key":"peer.service","value":{"stringValue":"DB"}},
                {"key":"peer.port","value":{"intValue":"5432"}}],
             "events":[{"timeUnixNano":"3000","name":"later"},{"timeUnixNano":2000},{"name":"no time"}]}
        ]}]}]}"#;
        let (batch, report) = otlp(json);
        // The span ends before it starts.
        assert_eq!(report.count(WarningKind::BadTimestamp), 1);
        assert_eq!(report.total(), 1);
        let s = batch.spans[0];
        let tag = |k| batch.tag(s.tags, k);
        assert_eq!(tag("s"), Some("x\"y"));
        assert_eq!(tag("b"), Some("true"));
        assert_eq!(tag("i"), Some("42"));
        assert_eq!(tag("j"), Some("7"));
        assert_eq!(tag("d"), Some("2.5"));
        assert_eq!(tag("bytes"), Some("AAE="));
        assert_eq!(tag("a"), Some(r#"["a",1,false,"NaN"]"#));
        assert_eq!(tag("kv"), Some(r#"{"k":[],"e":null}"#));
        assert_eq!(tag("empty"), Some(""));
        assert_eq!(text(&batch, s.remote.service), Some("db"));
        assert_eq!(s.remote.port, Some(5432));
        assert_eq!(s.timestamp_micros(), Some(5000));
        assert_eq!(s.duration_micros(), None);
        let events: Vec<(i64, &str)> = batch
            .annotations_of(s.annotations)
            .iter()
            .map(|a| (a.timestamp_micros, batch.interner.resolve(a.value)))
            .collect();
        assert_eq!(events, vec![(2, "event"), (3, "later")]);
    }

    /// A span of the wrong shape, a broken NDJSON line and a stray value are counted; the rest loads.
    #[test]
    fn bad_records_warn_and_the_rest_loads() {
        let json = concat!(
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"1","attributes":"oops"},{"traceId":"1","spanId":"2"}]}]}]}"#,
            "\n",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"3",}]}]}]}"#,
            "\n",
            "garbage\n",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"4"}]}]}]}"#,
            "\n",
            r#"{"unrelated":true}"#,
            "\n",
        );
        let (batch, report) = otlp(json);
        let ids: Vec<SpanId> = batch.spans.iter().map(Span::id).collect();
        assert_eq!(ids, vec![SpanId::Hex(2), SpanId::Hex(4)]);
        // The bad span, the stray line, the unrelated object; the trailing comma is invalid JSON.
        assert_eq!(report.count(WarningKind::BadRecord), 3, "{report:?}");
        assert_eq!(report.count(WarningKind::InvalidJson), 1, "{report:?}");
    }

    /// A resource with more spans than one chunk is read in parallel chunks, in order, each chunk
    /// carrying the resource.
    #[test]
    fn large_resources_read_in_parallel_chunks() {
        let n = crate::ingest::jaeger::SPANS_PER_CHUNK * 2 + 3;
        let spans: Vec<String> = (1..=n)
            .map(|i| format!(r#"{{"traceId":"1","spanId":"{i:x}"}}"#))
            .collect();
        let json = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"big"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        );
        let (batch, report) = otlp(&json);
        assert_eq!(report.total(), 0);
        assert_eq!(batch.spans.len(), n);
        for (i, s) in batch.spans.iter().enumerate() {
            assert_eq!(s.id(), SpanId::Hex(i as u64 + 1));
            assert_eq!(text(&batch, s.local.service), Some("big"));
            assert_eq!(batch.tag(s.resource, "service.name"), Some("big"));
        }
    }

    /// Broken input gives warnings and never panics.
    #[test]
    fn garbage_never_panics() {
        let deep = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1","spanId":"1","attributes":[{"key":"k","value":"#
            .to_owned()
            + &r#"{"arrayValue":{"values":["#.repeat(200)
            + &"]}}".repeat(200)
            + "}]}]}]}]}";
        for json in [
            "",
            "{",
            "[{",
            "nonsense",
            r#"{"resourceSpans":5}"#,
            r#"{"resourceSpans":[1,{"scopeSpans":[{"spans":[7]}]}]}"#,
            r#"{"batches":null}"#,
            deep.as_str(),
        ] {
            let _ = otlp(json);
        }
    }
}
