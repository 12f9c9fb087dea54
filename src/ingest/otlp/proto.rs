//! Reads OTLP protobuf files as the OpenTelemetry Collector's file exporter writes them (`format: proto`).
//!
//! The exporter (`exporter/fileexporter/file_writer.go`, `exportMessageAsBuffer`) writes each
//! batch as a 4-byte big-endian length followed by the message, a `TracesData` (wire-identical to
//! `ExportTraceServiceRequest`). With the exporter's `compression: zstd` each message is a zstd
//! frame of its own inside that framing (of protobuf, or of JSON when `format: json`); a file
//! compressed as a whole is undone before it reaches this reader ([`crate::ingest::compress`]).
//!
//! Messages are decoded in place ([`crate::ingest::protobuf`]) into the same borrowed structs the
//! JSON reader fills, so both forms go through one conversion ([`super::push_span`]) and give the
//! same spans. Field numbers are those of opentelemetry-proto's `trace.proto`, `common.proto` and
//! `resource.proto`; unknown fields are skipped.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;

use super::{
    AnyValue, ArrayValue, Event, KeyValue, KvList, OtlpSpan, ResourceInfo, Status, push_span,
    read_request, resource_info,
};
use crate::ingest::jaeger::{count_duplicates, par_spans};
use crate::ingest::json::{CowStr, Num, Scalar, ScalarType};
use crate::ingest::protobuf::{Fields, Value};
use crate::ingest::report::{Report, WarningKind};
use crate::ingest::split;
use crate::model::Batch;

/// zstd's frame magic, little-endian `0xFD2FB528`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Most bytes one compressed message may decode to (a guard against a decompression bomb).
const MAX_MESSAGE_BYTES: u64 = 1 << 32;

/// How deeply arrays and key/value lists may nest in an attribute value.
const MAX_VALUE_DEPTH: usize = 64;

/// True when `bytes` start like the file exporter's framing: a length, then a zstd frame or a
/// message whose first field is a `resource_spans` entry that fits in it. Only the start of the
/// first message need be there (a sniffed head may end inside it).
pub fn looks_like_proto(bytes: &[u8]) -> bool {
    let Some(&head) = bytes.first_chunk::<4>() else {
        return false;
    };
    let n = u32::from_be_bytes(head) as usize;
    let message = bytes.get(4..).unwrap_or_default();
    if n == 0 || message.is_empty() {
        return false;
    }
    if message.starts_with(&ZSTD_MAGIC) {
        return true;
    }
    let mut fields = Fields::new(message);
    match fields.next() {
        // The entry's own length (its key is one byte, its length a varint) fits the message.
        Some((1, Value::Bytes(entry))) => entry.len() < n,
        // The entry runs past the bytes given: its key must still be resource_spans.
        None => message.first() == Some(&0x0a) && message.len() < n,
        _ => false,
    }
}

/// Reads a file of length-prefixed OTLP messages; damage is counted and the rest still loads.
pub fn read_proto(bytes: &[u8], report: &mut Report) -> Batch {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut compressed = false;
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(&head) = bytes.get(at..).and_then(|b| b.first_chunk::<4>()) else {
            let left = bytes.len() - at;
            report.warn(WarningKind::BadRecord, || {
                format!("{left} byte(s) at byte {at} are too few for a message's length")
            });
            break;
        };
        let n = u32::from_be_bytes(head) as usize;
        let body = at + 4..at + 4 + n;
        if body.end > bytes.len() {
            let left = bytes.len() - at - 4;
            report.warn(WarningKind::BadRecord, || {
                format!("a message of {n} bytes at byte {at} runs past the end ({left} left)")
            });
            break;
        }
        compressed |= bytes
            .get(body.clone())
            .is_some_and(|m| m.starts_with(&ZSTD_MAGIC));
        ranges.push(body.clone());
        at = body.end;
    }
    let (batch, r) = if compressed {
        let (decoded, ranges) = decompress_each(bytes, &ranges, report);
        split::parse_parallel(&decoded, &ranges, read_message)
    } else {
        split::parse_parallel(bytes, &ranges, read_message)
    };
    report.merge(r);
    count_duplicates(&batch, report);
    batch
}

/// The messages with every zstd frame decoded, end to end in one buffer, in file order.
fn decompress_each(
    bytes: &[u8],
    ranges: &[Range<usize>],
    report: &mut Report,
) -> (Vec<u8>, Vec<Range<usize>>) {
    let mut out = Vec::new();
    let mut kept = Vec::with_capacity(ranges.len());
    for range in ranges {
        let message = bytes.get(range.clone()).unwrap_or_default();
        let start = out.len();
        if !message.starts_with(&ZSTD_MAGIC) {
            out.extend_from_slice(message);
            kept.push(start..out.len());
            continue;
        }
        let decoded = zstd::stream::read::Decoder::new(message)
            .and_then(|d| d.take(MAX_MESSAGE_BYTES).read_to_end(&mut out));
        match decoded {
            Ok(_) => kept.push(start..out.len()),
            Err(e) => {
                out.truncate(start);
                report.warn(WarningKind::BadCompression, || {
                    format!("the zstd message at byte {}: {e}", range.start - 4)
                });
            }
        }
    }
    (out, kept)
}

/// Warns when a message could not be read to its end.
fn check(fields: &Fields<'_>, what: &str, report: &mut Report) {
    if let Some(e) = fields.error() {
        report.warn(WarningKind::BadRecord, || format!("{what}: {e}"));
    }
}

/// Reads one message: a `TracesData`, or (from a compressed `format: json` exporter) JSON.
fn read_message(record: &[u8], batch: &mut Batch, report: &mut Report) {
    if record.get(split::skip_ws(record, 0)) == Some(&b'{') {
        return read_request(record, batch, report);
    }
    let mut fields = Fields::new(record);
    for (n, v) in &mut fields {
        if let (1, Some(rs)) = (n, v.bytes()) {
            read_resource_spans(rs, batch, report);
        }
    }
    check(&fields, "an OTLP protobuf message", report);
}

/// Text of a string field; invalid UTF-8 is replaced, as the JSON form could not hold it.
fn text(b: &[u8]) -> CowStr<'_> {
    CowStr(String::from_utf8_lossy(b))
}

/// Reads one `ResourceSpans`: its resource's attributes, then its spans in parallel.
fn read_resource_spans(rs: &[u8], batch: &mut Batch, report: &mut Report) {
    let mut attributes = Vec::new();
    let mut spans: Vec<&[u8]> = Vec::new();
    let mut fields = Fields::new(rs);
    for (n, v) in &mut fields {
        let Some(b) = v.bytes() else { continue };
        match n {
            // resource
            1 => attributes.extend(each_of_field_1(
                b,
                "an OTLP resource",
                report,
                |kv, report| key_value(kv, 0, report),
            )),
            // scope_spans, or the deprecated instrumentation_library_spans
            2 | 1000 => {
                let mut scope = Fields::new(b);
                for (m, v) in &mut scope {
                    if let (2, Some(span)) = (m, v.bytes()) {
                        spans.push(span);
                    }
                }
                check(&scope, "an OTLP scope's spans", report);
            }
            _ => {}
        }
    }
    check(&fields, "an OTLP resourceSpans entry", report);
    par_spans(
        &spans,
        batch,
        report,
        |batch| resource_info(&attributes, batch),
        |raw, batch, report, info| read_span(raw, *info, batch, report),
    );
}

/// A `KeyValue`.
fn key_value<'a>(b: &'a [u8], depth: usize, report: &mut Report) -> KeyValue<'a> {
    let mut kv = KeyValue::default();
    let mut fields = Fields::new(b);
    for (n, v) in &mut fields {
        match (n, v) {
            (1, Value::Bytes(k)) => kv.key = Some(text(k)),
            (2, Value::Bytes(value)) => kv.value = Some(any_value(value, depth, report)),
            _ => {}
        }
    }
    check(&fields, "an OTLP attribute", report);
    kv
}

/// `read` of every length-delimited field 1 of `list` (a resource's `attributes`, an
/// `ArrayValue`'s or `KeyValueList`'s `values`), in order.
fn each_of_field_1<'a, T>(
    list: &'a [u8],
    what: &str,
    report: &mut Report,
    mut read: impl FnMut(&'a [u8], &mut Report) -> T,
) -> Vec<T> {
    let mut values = Vec::new();
    let mut items = Fields::new(list);
    for (n, item) in &mut items {
        if let (1, Some(item)) = (n, item.bytes()) {
            values.push(read(item, report));
        }
    }
    check(&items, what, report);
    values
}

/// An `AnyValue`, spelled as its JSON form would be (numbers and booleans as text).
fn any_value<'a>(b: &'a [u8], depth: usize, report: &mut Report) -> AnyValue<'a> {
    let mut value = AnyValue::default();
    if depth > MAX_VALUE_DEPTH {
        report.warn(WarningKind::Limit, || {
            format!("an attribute value nested deeper than {MAX_VALUE_DEPTH} levels")
        });
        return value;
    }
    let number = |s: String| Scalar(Some(Cow::Owned(s)), ScalarType::Number);
    let mut fields = Fields::new(b);
    for (n, v) in &mut fields {
        match (n, v) {
            (1, Value::Bytes(s)) => value.string = Some(text(s)),
            (2, Value::Varint(x)) => {
                let s = if x != 0 { "true" } else { "false" };
                value.boolean = Scalar(Some(Cow::Borrowed(s)), ScalarType::Bool);
            }
            (3, Value::Varint(x)) => value.int = number((x as i64).to_string()),
            (4, Value::Fixed64(x)) => value.double = number(f64::from_bits(x).to_string()),
            (5, Value::Bytes(list)) => {
                let values =
                    each_of_field_1(list, "an OTLP array value", report, |item, report| {
                        any_value(item, depth + 1, report)
                    });
                value.array = Some(ArrayValue { values });
            }
            (6, Value::Bytes(list)) => {
                let values =
                    each_of_field_1(list, "an OTLP key/value list", report, |item, report| {
                        key_value(item, depth + 1, report)
                    });
                value.kvlist = Some(KvList { values });
            }
            (7, Value::Bytes(raw)) => {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
                value.bytes = Some(CowStr(Cow::Owned(encoded)));
            }
            _ => {}
        }
    }
    check(&fields, "an OTLP attribute value", report);
    value
}

/// An id's bytes as the lower-case hex the JSON form writes (`None` when empty, proto3's unset).
fn hex_id(b: &[u8]) -> Option<CowStr<'static>> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    if b.is_empty() {
        return None;
    }
    let mut s = String::with_capacity(b.len() * 2);
    for &byte in b {
        s.push(char::from(DIGITS[usize::from(byte >> 4)]));
        s.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    Some(CowStr(Cow::Owned(s)))
}

/// A fixed64 time in nanoseconds as the JSON form's number (out of `i64`'s range: unreadable).
fn time(n: u64) -> Num {
    Num(i64::try_from(n).ok())
}

/// Reads one `Span`.
fn read_span(b: &[u8], info: ResourceInfo, batch: &mut Batch, report: &mut Report) {
    let mut span = OtlpSpan::default();
    let mut attributes = Vec::new();
    let mut events = Vec::new();
    let mut fields = Fields::new(b);
    for (n, v) in &mut fields {
        match (n, v) {
            (1, Value::Bytes(id)) => span.trace_id = hex_id(id),
            (2, Value::Bytes(id)) => span.span_id = hex_id(id),
            (4, Value::Bytes(id)) => span.parent_span_id = hex_id(id),
            (5, Value::Bytes(name)) => span.name = Some(text(name)),
            (6, Value::Varint(kind)) => {
                let kind = match kind {
                    2 => "2",
                    3 => "3",
                    4 => "4",
                    5 => "5",
                    _ => "0",
                };
                span.kind = Scalar(Some(Cow::Borrowed(kind)), ScalarType::Number);
            }
            (7, Value::Fixed64(t)) => span.start_time_unix_nano = Some(time(t)),
            (8, Value::Fixed64(t)) => span.end_time_unix_nano = Some(time(t)),
            (9, Value::Bytes(kv)) => attributes.push(key_value(kv, 0, report)),
            (11, Value::Bytes(e)) => events.push(event(e, report)),
            (15, Value::Bytes(s)) => span.status = Some(status(s, report)),
            _ => {}
        }
    }
    if let Some(e) = fields.error() {
        // A span cut short is not half read: its ids or times may be the missing part.
        report.warn(WarningKind::BadRecord, || format!("an OTLP span: {e}"));
        return;
    }
    span.attributes = Some(attributes);
    span.events = Some(events);
    push_span(&span, info, batch, report);
}

/// A span `Event` (its time and name; its attributes are not kept, as in the JSON form).
fn event<'a>(b: &'a [u8], report: &mut Report) -> Event<'a> {
    let mut event = Event::default();
    let mut fields = Fields::new(b);
    for (n, v) in &mut fields {
        match (n, v) {
            (1, Value::Fixed64(t)) => event.time_unix_nano = Some(time(t)),
            (2, Value::Bytes(name)) => event.name = Some(text(name)),
            _ => {}
        }
    }
    check(&fields, "an OTLP span event", report);
    event
}

/// A span `Status`.
fn status<'a>(b: &'a [u8], report: &mut Report) -> Status<'a> {
    let mut status = Status::default();
    let mut fields = Fields::new(b);
    for (n, v) in &mut fields {
        match (n, v) {
            (2, Value::Bytes(m)) => status.message = Some(text(m)),
            (3, code) => {
                let code = match code.number() {
                    Some(1) => "1",
                    Some(2) => "2",
                    _ => "0",
                };
                status.code = Scalar(Some(Cow::Borrowed(code)), ScalarType::Number);
            }
            _ => {}
        }
    }
    check(&fields, "an OTLP span status", report);
    status
}
