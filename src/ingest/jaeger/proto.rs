//! Jaeger protobuf-JSON: `{"batch":{process, spans}}`, bare batches, arrays and NDJSON of them.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::{
    MAX_WRAPPING, Process, RefType, SpanTags, both_ids, checked_micros, choose_parent,
    count_duplicates, first_byte, ids_hex_or_base64, json_warning, log_value, par_spans,
    span_id_hex_or_base64, trace_id_hex_or_base64,
};
use crate::ingest::json::{CowStr, Num, Scalar, ScalarType, rfc3339_micros};
use crate::ingest::report::{Report, WarningKind};
use crate::ingest::split::{self};
use crate::model::{Annotation, Batch, Endpoint, IdError, LinkRule, Span, SpanId};

// ---------------------------------------------------------------------------------------------
// Jaeger protobuf-JSON.
// ---------------------------------------------------------------------------------------------

/// What a protobuf-JSON record is: `{"batch":…}`, a batch `{process, spans}`, or else a span.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoShape<'a> {
    #[serde(borrow)]
    batch: Option<&'a RawValue>,
    #[serde(borrow)]
    process: Option<ProtoProcess<'a>>,
    #[serde(borrow)]
    spans: Option<Vec<&'a RawValue>>,
}

/// A `KeyValue`: `v_type` says which `v_*` field holds the value; proto3 writers may omit defaults.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoTag<'a> {
    #[serde(borrow)]
    key: Option<CowStr<'a>>,
    #[serde(borrow, rename = "v_type", alias = "vType")]
    v_type: Scalar<'a>,
    #[serde(borrow, rename = "v_str", alias = "vStr")]
    v_str: Scalar<'a>,
    #[serde(borrow, rename = "v_bool", alias = "vBool")]
    v_bool: Scalar<'a>,
    #[serde(borrow, rename = "v_int64", alias = "vInt64")]
    v_int64: Scalar<'a>,
    #[serde(borrow, rename = "v_float64", alias = "vFloat64")]
    v_float64: Scalar<'a>,
    #[serde(borrow, rename = "v_binary", alias = "vBinary")]
    v_binary: Scalar<'a>,
}

impl ProtoTag<'_> {
    /// `(key, value)`: the first `v_*` present, else the default of `v_type` (proto3 omits
    /// `false` and `0`). `None` without a key.
    fn pair(&self) -> Option<(&str, &str)> {
        let key = self.key.as_ref()?.0.as_ref();
        let value = [
            &self.v_str,
            &self.v_bool,
            &self.v_int64,
            &self.v_float64,
            &self.v_binary,
        ]
        .into_iter()
        .find_map(|v| v.0.as_deref())
        .unwrap_or(match self.v_type.0.as_deref() {
            Some("1" | "BOOL") => "false",
            Some("2" | "INT64" | "3" | "FLOAT64") => "0",
            _ => "",
        });
        Some((key, value))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoProcess<'a> {
    #[serde(borrow, rename = "service_name", alias = "serviceName")]
    service_name: Option<CowStr<'a>>,
    #[serde(borrow)]
    tags: Option<Vec<ProtoTag<'a>>>,
}

impl ProtoProcess<'_> {
    fn resolve(&self, batch: &mut Batch) -> Process {
        Process::resolve(
            batch,
            self.service_name.as_ref().map(|s| s.0.as_ref()),
            self.tags.iter().flatten().filter_map(ProtoTag::pair),
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoRef<'a> {
    #[serde(borrow, rename = "trace_id", alias = "traceId")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "span_id", alias = "spanId")]
    span_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "ref_type", alias = "refType")]
    ref_type: Scalar<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoLog<'a> {
    #[serde(borrow)]
    timestamp: Option<CowStr<'a>>,
    #[serde(borrow)]
    fields: Option<Vec<ProtoTag<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProtoSpan<'a> {
    #[serde(borrow, rename = "trace_id", alias = "traceId")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "span_id", alias = "spanId")]
    span_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "operation_name", alias = "operationName")]
    operation_name: Option<CowStr<'a>>,
    #[serde(borrow)]
    references: Option<Vec<ProtoRef<'a>>>,
    flags: Num,
    #[serde(borrow, rename = "start_time", alias = "startTime")]
    start_time: Option<CowStr<'a>>,
    #[serde(borrow)]
    duration: Scalar<'a>,
    #[serde(borrow)]
    tags: Option<Vec<ProtoTag<'a>>>,
    #[serde(borrow)]
    logs: Option<Vec<ProtoLog<'a>>>,
    #[serde(borrow)]
    process: Option<ProtoProcess<'a>>,
}

/// Reads Jaeger protobuf-JSON (`{"batch":{process, spans}}`, also a bare batch, arrays and NDJSON
/// of them): base64 or hex ids, RFC 3339 times, durations in nanoseconds or as `"0.243417s"`.
pub fn read_proto(bytes: &[u8], report: &mut Report) -> Batch {
    let batch = split::read_records(bytes, report, |record, batch, report| {
        read_proto_record(record, 0, batch, report);
    });
    count_duplicates(&batch, report);
    batch
}

/// Reads one protobuf-JSON record: a `batch` wrapper, a batch, or a lone span.
fn read_proto_record(record: &[u8], depth: usize, batch: &mut Batch, report: &mut Report) {
    let shape: ProtoShape<'_> = match serde_json::from_slice(record) {
        Ok(s) => s,
        Err(e) => return json_warning(report, &e, "a Jaeger protobuf-JSON record"),
    };
    if let Some(inner) = shape.batch {
        if depth >= MAX_WRAPPING || first_byte(inner) != Some(b'{') {
            report.warn(WarningKind::BadRecord, || {
                "\"batch\" is not a batch object".to_owned()
            });
            return;
        }
        read_proto_record(inner.get().as_bytes(), depth + 1, batch, report);
        return;
    }
    let Some(spans) = &shape.spans else {
        read_proto_span(record, None, batch, report);
        return;
    };
    let process = shape.process.as_ref();
    par_spans(
        spans,
        batch,
        report,
        |batch| process.map(|p| p.resolve(batch)),
        |raw, batch, report, process| {
            read_proto_span(raw.get().as_bytes(), *process, batch, report);
        },
    );
}

/// `number` (an optional `-`, digits, an optional fraction) times `nanos_per`, in nanoseconds,
/// exactly to the nanosecond.
fn decimal_nanos(number: &str, nanos_per: i64) -> Result<i64, ()> {
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return Err(());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| ())?
    };
    // The fraction in units of 1e-9 of the unit, then scaled to nanoseconds.
    let mut part: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| ())?
    };
    for _ in frac.len()..9 {
        part *= 10;
    }
    let nanos = whole
        .checked_mul(nanos_per)
        .and_then(|w| w.checked_add(part.checked_mul(nanos_per)? / 1_000_000_000))
        .ok_or(())?;
    Ok(if negative { -nanos } else { nanos })
}

/// A protobuf-JSON duration in microseconds: a number or decimal string of nanoseconds, or a
/// decimal with a unit (protobuf's `Duration` `"0.243417s"`, Go's `"22.938ms"`, `"22938000ns"`).
/// `Err` when present but unreadable.
pub(super) fn proto_duration_micros(d: &Scalar<'_>) -> Result<Option<i64>, ()> {
    let Some(text) = d.0.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if d.1 == ScalarType::String {
        // A decimal with a unit: protobuf's `"0.243417s"`, or as Go prints durations
        // (`"22938000ns"`, `"22.938ms"`, `"7µs"`).
        let units: [(&str, i64); 5] = [
            ("ns", 1),
            ("us", 1_000),
            ("µs", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
        ];
        if let Some((number, nanos_per)) = units
            .iter()
            .find_map(|&(unit, per)| text.strip_suffix(unit).map(|n| (n, per)))
        {
            return decimal_nanos(number, nanos_per).map(|n| Some(n / 1000));
        }
    }
    let nanos = text
        .parse::<i64>()
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                .map(|f| f as i64)
        })
        .ok_or(())?;
    Ok(Some(nanos / 1000))
}

/// Reads one protobuf-JSON span; `process` is its batch's process (a span-level `process` wins).
fn read_proto_span(
    record: &[u8],
    process: Option<Process>,
    batch: &mut Batch,
    report: &mut Report,
) {
    let span: ProtoSpan<'_> = match serde_json::from_slice(record) {
        Ok(s) => s,
        Err(e) => return json_warning(report, &e, "a Jaeger protobuf-JSON span"),
    };
    let trace_text = span
        .trace_id
        .as_ref()
        .map(|t| t.0.trim())
        .filter(|t| !t.is_empty());
    let span_text = span
        .span_id
        .as_ref()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty());
    let Some((trace_text, span_text)) =
        both_ids(trace_text, span_text, "trace_id nor span_id", report)
    else {
        return;
    };
    let Some((trace_id, id)) =
        ids_hex_or_base64(trace_text, span_text, ["trace_id", "span_id"], report)
    else {
        return;
    };

    let mut refs = Vec::new();
    for r in span.references.iter().flatten() {
        let Some(ty) = RefType::parse(r.ref_type.0.as_deref().map(str::trim)) else {
            continue;
        };
        let Some(target) = r.span_id.as_ref().map(|s| s.0.trim()) else {
            continue;
        };
        let target = match span_id_hex_or_base64(target) {
            Ok(t) => t,
            Err(IdError::AllZeros | IdError::Empty) => continue,
            Err(e) => {
                report.warn(WarningKind::BadId, || {
                    format!("reference span_id {target:?} on span {span_text}: {e}")
                });
                continue;
            }
        };
        let ref_trace = match r.trace_id.as_ref().map(|t| t.0.trim()) {
            Some(t) => match trace_id_hex_or_base64(t) {
                Ok(t) => Some(t),
                Err(e) => {
                    report.warn(WarningKind::BadId, || {
                        format!("reference trace_id {t:?} on span {span_text}: {e}")
                    });
                    continue;
                }
            },
            None => None,
        };
        refs.push((ty, ref_trace, target));
    }
    // Every reference is kept for Jaeger's link rule, which follows each one.
    let targets: Vec<SpanId> = refs.iter().map(|r| r.2).collect();
    let parent_id = choose_parent(trace_id, refs.into_iter());

    let mut tags = SpanTags::default();
    for (key, value) in span.tags.iter().flatten().filter_map(ProtoTag::pair) {
        tags.add(batch, key, value);
    }
    let (tags, kind, remote) = tags.finish(batch);

    let mut annotations = Vec::new();
    for log in span.logs.iter().flatten() {
        let ts = log.timestamp.as_ref().map(|t| t.0.as_ref());
        let Some(ts) = ts.and_then(rfc3339_micros) else {
            report.warn(WarningKind::BadTimestamp, || {
                format!("log timestamp {ts:?} on span {span_text}")
            });
            continue;
        };
        let value = log_value(log.fields.iter().flatten().filter_map(ProtoTag::pair));
        annotations.push(Annotation {
            timestamp_micros: ts,
            value: batch.sym(value),
        });
    }

    let process = match &span.process {
        Some(p) => Some(p.resolve(batch)),
        None => process,
    };
    if process.is_none() {
        report.warn(WarningKind::DanglingReference, || {
            format!("span {span_text} has no process")
        });
    }
    let process = process.unwrap_or_default();

    let timestamp = match span.start_time.as_ref().map(|t| t.0.trim()) {
        None | Some("") => None,
        Some(t) => match rfc3339_micros(t) {
            Some(v) => Some(v).filter(|v| *v > 0),
            None => {
                report.warn(WarningKind::BadTimestamp, || {
                    format!("start_time {t:?} on span {span_text}")
                });
                None
            }
        },
    };
    let duration = match proto_duration_micros(&span.duration) {
        Ok(d) => d.and_then(|d| checked_micros(Some(d), "duration", report)),
        Err(()) => {
            report.warn(WarningKind::BadTimestamp, || {
                format!("duration {:?} on span {span_text}", span.duration.0)
            });
            None
        }
    };

    let mut out = Span::new(trace_id, id);
    out.set_parent_id(parent_id);
    out.kind = kind;
    out.debug = span.flags.0.is_some_and(|f| f & 2 != 0);
    out.name = span
        .operation_name
        .as_ref()
        .and_then(|n| batch.sym_nonempty(&n.0));
    out.set_timestamp_micros(timestamp);
    out.set_duration_micros(duration.map(|d| d as u64));
    out.local = Endpoint {
        service: process.service,
        ipv4: process.ipv4,
        ..Endpoint::default()
    };
    out.remote = remote;
    out.tags = batch.push_tags(&tags);
    out.annotations = batch.push_annotations(annotations);
    out.resource = process.resource;
    out.rule = LinkRule::Jaeger;
    batch.push_refs(parent_id, &targets);
    batch.spans.push(out);
}
