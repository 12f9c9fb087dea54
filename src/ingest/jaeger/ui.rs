//! Jaeger UI JSON: `{data:[…]}`, `{data:{…}}`, bare traces and span arrays with inline `process`.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::{
    Entries, MAX_WRAPPING, Process, RefType, SpanTags, both_ids, checked_micros, choose_parent,
    count_duplicates, first_byte, inner_array, json_warning, log_value, par_spans,
};
use crate::ingest::json::{CowStr, Num, Scalar};
use crate::ingest::report::{Report, WarningKind};
use crate::ingest::split::{self, Layout};
use crate::model::{Annotation, Batch, Endpoint, IdRules, LinkRule, Span, SpanId, TraceId};

// ---------------------------------------------------------------------------------------------
// Jaeger UI JSON.
// ---------------------------------------------------------------------------------------------

/// What a UI record is: a wrapper (`data`), a trace (`spans`), or else a span.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UiShape<'a> {
    /// A wrapper: the UI's `data`, or an Elasticsearch export's `_source` around one document.
    #[serde(borrow, alias = "_source")]
    data: Option<&'a RawValue>,
    #[serde(borrow, rename = "traceID")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow)]
    spans: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    processes: Option<Entries<'a, UiProcess<'a>>>,
}

/// `{key, type, value}`; the value is kept as text whatever its JSON type.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UiTag<'a> {
    #[serde(borrow)]
    key: Option<CowStr<'a>>,
    #[serde(borrow)]
    value: Scalar<'a>,
}

impl UiTag<'_> {
    /// `(key, value)`, or `None` for a tag without a key or with a null / structured value.
    fn pair(&self) -> Option<(&str, &str)> {
        Some((self.key.as_ref()?.0.as_ref(), self.value.0.as_deref()?))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UiProcess<'a> {
    #[serde(borrow, rename = "serviceName")]
    service_name: Option<CowStr<'a>>,
    #[serde(borrow)]
    tags: Option<Vec<UiTag<'a>>>,
    /// Jaeger's Elasticsearch/OpenSearch documents keep tags as a map too, dots written `@`.
    #[serde(borrow)]
    tag: Option<Entries<'a, Scalar<'a>>>,
}

/// The `(key, value)` pairs of an Elasticsearch `tag` map, keys with `@` read back as `.`.
fn es_tags<'s>(map: Option<&'s Entries<'s, Scalar<'s>>>) -> Vec<(Cow<'s, str>, &'s str)> {
    let key = |k: &'s str| {
        if k.contains('@') {
            Cow::Owned(k.replace('@', "."))
        } else {
            Cow::Borrowed(k)
        }
    };
    map.map_or(&[][..], |m| m.0.as_slice())
        .iter()
        .filter_map(|(k, v)| Some((key(&k.0), v.0.as_deref()?)))
        .collect()
}

impl UiProcess<'_> {
    fn resolve(&self, batch: &mut Batch) -> Process {
        let es = es_tags(self.tag.as_ref());
        Process::resolve(
            batch,
            self.service_name.as_ref().map(|s| s.0.as_ref()),
            self.tags
                .iter()
                .flatten()
                .filter_map(UiTag::pair)
                .chain(es.iter().map(|(k, v)| (k.as_ref(), *v))),
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UiRef<'a> {
    #[serde(borrow, rename = "refType")]
    ref_type: Option<CowStr<'a>>,
    #[serde(borrow, rename = "traceID")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "spanID")]
    span_id: Option<CowStr<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UiLog<'a> {
    timestamp: Option<Num>,
    #[serde(borrow)]
    fields: Option<Vec<UiTag<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UiSpan<'a> {
    #[serde(borrow, rename = "traceID")]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "spanID")]
    span_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "parentSpanID")]
    parent_span_id: Option<CowStr<'a>>,
    #[serde(borrow, rename = "operationName")]
    operation_name: Option<CowStr<'a>>,
    #[serde(borrow)]
    references: Option<Vec<UiRef<'a>>>,
    flags: Num,
    #[serde(rename = "startTime")]
    start_time: Option<Num>,
    duration: Option<Num>,
    #[serde(borrow)]
    tags: Option<Vec<UiTag<'a>>>,
    /// Elasticsearch documents' tag map (`"tag":{"span@kind":"server"}`).
    #[serde(borrow)]
    tag: Option<Entries<'a, Scalar<'a>>>,
    #[serde(borrow)]
    logs: Option<Vec<UiLog<'a>>>,
    #[serde(borrow, rename = "processID")]
    process_id: Option<CowStr<'a>>,
    #[serde(borrow)]
    process: Option<UiProcess<'a>>,
}

/// The processes of one trace, looked up by id.
struct UiTrace<'a> {
    trace_id: Option<&'a str>,
    processes: &'a [(CowStr<'a>, UiProcess<'a>)],
    by_id: FxHashMap<&'a str, usize>,
}

/// Reads Jaeger UI / query-API JSON: `{"data":[trace,…]}`, `{"data":{trace}}`, a bare trace
/// `{traceID, spans, processes}`, an array of traces, an array of spans with inline `process`, or
/// NDJSON of any of these.
pub fn read_ui(bytes: &[u8], report: &mut Report) -> Batch {
    let Some(records) = split::split_reported(bytes, report) else {
        return Batch::default();
    };
    let ranges = match (records.layout, records.ranges.as_slice()) {
        (Layout::SingleObject, [only]) => {
            inner_array(bytes, only, &["data"], report).unwrap_or_else(|| records.ranges.clone())
        }
        _ => records.ranges.clone(),
    };
    let (batch, r) = split::parse_parallel(bytes, &ranges, |record, batch, report| {
        read_ui_record(record, 0, batch, report);
    });
    report.merge(r);
    count_duplicates(&batch, report);
    batch
}

/// Reads one UI record: a `data` wrapper, a trace, or a span with an inline process.
fn read_ui_record(record: &[u8], depth: usize, batch: &mut Batch, report: &mut Report) {
    let shape: UiShape<'_> = match serde_json::from_slice(record) {
        Ok(s) => s,
        Err(e) => return json_warning(report, &e, "a Jaeger UI record"),
    };
    if let Some(data) = shape.data {
        if depth >= MAX_WRAPPING {
            report.warn(WarningKind::BadRecord, || {
                "\"data\" wrappers nested too deeply".to_owned()
            });
            return;
        }
        match first_byte(data) {
            Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(data.get()) {
                Ok(traces) => {
                    for t in traces {
                        read_ui_record(t.get().as_bytes(), depth + 1, batch, report);
                    }
                }
                Err(e) => json_warning(report, &e, "a Jaeger UI \"data\" array"),
            },
            Some(b'{') => read_ui_record(data.get().as_bytes(), depth + 1, batch, report),
            _ => report.warn(WarningKind::BadRecord, || {
                "\"data\" is neither a trace nor a list of traces".to_owned()
            }),
        }
        return;
    }
    if let Some(spans) = &shape.spans {
        let processes = shape.processes.as_ref().map_or(&[][..], |p| p.0.as_slice());
        let trace = UiTrace {
            trace_id: shape.trace_id.as_ref().map(|t| t.0.as_ref()),
            processes,
            by_id: processes
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.0.as_ref(), i))
                .collect(),
        };
        par_spans(
            spans,
            batch,
            report,
            |_| vec![None; processes.len()],
            |raw, batch, report, cache| {
                read_ui_span(raw.get().as_bytes(), Some(&trace), cache, batch, report);
            },
        );
        return;
    }
    read_ui_span(record, None, &mut Vec::new(), batch, report);
}

/// Reads one UI span; `trace` gives the enclosing trace's id and processes, `cache` the processes
/// already resolved into `batch`.
fn read_ui_span(
    record: &[u8],
    trace: Option<&UiTrace<'_>>,
    cache: &mut [Option<Process>],
    batch: &mut Batch,
    report: &mut Report,
) {
    let span: UiSpan<'_> = match serde_json::from_slice(record) {
        Ok(s) => s,
        Err(e) => return json_warning(report, &e, "a Jaeger UI span"),
    };
    let trace_text = span
        .trace_id
        .as_ref()
        .map(|t| t.0.as_ref())
        .or_else(|| trace.and_then(|t| t.trace_id))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let span_text = span
        .span_id
        .as_ref()
        .map(|s| s.0.trim())
        .filter(|s| !s.is_empty());
    let Some((trace_text, span_text)) =
        both_ids(trace_text, span_text, "traceID nor spanID", report)
    else {
        return;
    };
    let trace_id = match TraceId::parse(trace_text, IdRules::HexOrOpaque, &mut batch.interner) {
        Ok(id) => id,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("traceID {trace_text:?}: {e}")
            });
            return;
        }
    };
    let id = match SpanId::parse(span_text, IdRules::HexOrOpaque, &mut batch.interner) {
        Ok(id) => id,
        Err(e) => {
            report.warn(WarningKind::BadId, || format!("spanID {span_text:?}: {e}"));
            return;
        }
    };

    let mut refs = Vec::new();
    for r in span.references.iter().flatten() {
        let Some(ty) = RefType::parse(r.ref_type.as_ref().map(|t| t.0.trim())) else {
            continue;
        };
        let Some(target) = r.span_id.as_ref().map(|s| s.0.trim()) else {
            continue;
        };
        // An all-zero or empty target means "no parent", as Jaeger writes for roots.
        let Ok(target) = SpanId::parse(target, IdRules::HexOrOpaque, &mut batch.interner) else {
            continue;
        };
        let ref_trace = match r.trace_id.as_ref().map(|t| t.0.trim()) {
            Some(t) => match TraceId::parse(t, IdRules::HexOrOpaque, &mut batch.interner) {
                Ok(t) => Some(t),
                Err(_) => continue,
            },
            None => None,
        };
        refs.push((ty, ref_trace, target));
    }
    // Every reference is kept for Jaeger's link rule, which follows each one.
    let mut targets: Vec<SpanId> = refs.iter().map(|r| r.2).collect();
    let parent_id = choose_parent(trace_id, refs.into_iter()).or_else(|| {
        let p = span.parent_span_id.as_ref()?.0.trim();
        SpanId::parse(p, IdRules::HexOrOpaque, &mut batch.interner).ok()
    });
    if targets.is_empty() {
        // The deprecated `parentSpanID` stands for one CHILD_OF reference.
        targets.extend(parent_id);
    }

    let mut tags = SpanTags::default();
    for (key, value) in span.tags.iter().flatten().filter_map(UiTag::pair) {
        tags.add(batch, key, value);
    }
    for (key, value) in es_tags(span.tag.as_ref()) {
        tags.add(batch, &key, value);
    }
    let (tags, kind, remote) = tags.finish(batch);

    let mut annotations = Vec::new();
    for log in span.logs.iter().flatten() {
        let Some(ts) = log.timestamp else {
            report.warn(WarningKind::BadTimestamp, || {
                format!("a log without timestamp on span {span_text}")
            });
            continue;
        };
        let Some(ts) = checked_micros(ts.0, "log timestamp", report) else {
            continue;
        };
        let value = log_value(log.fields.iter().flatten().filter_map(UiTag::pair));
        annotations.push(Annotation {
            timestamp_micros: ts,
            value: batch.sym(value),
        });
    }

    let in_trace = match (span.process_id.as_ref(), trace) {
        (Some(pid), Some(trace)) => trace
            .by_id
            .get(pid.0.as_ref())
            .map(|&i| (i, trace.processes.get(i).map(|(_, p)| p))),
        _ => None,
    };
    let process = match in_trace {
        Some((i, p)) => match cache.get(i).copied().flatten() {
            Some(resolved) => Some(resolved),
            None => {
                let resolved = p.map(|p| p.resolve(batch));
                if let Some(slot) = cache.get_mut(i) {
                    *slot = resolved;
                }
                resolved
            }
        },
        None => span.process.as_ref().map(|p| p.resolve(batch)),
    };
    if process.is_none() {
        report.warn(WarningKind::DanglingReference, || match &span.process_id {
            Some(pid) => format!("span {span_text}: process {:?} is not in the trace", pid.0),
            None => format!("span {span_text} has no process"),
        });
    }
    let process = process.unwrap_or_default();

    let mut out = Span::new(trace_id, id);
    out.set_parent_id(parent_id);
    out.kind = kind;
    out.debug = span.flags.0.is_some_and(|f| f & 2 != 0);
    out.name = span
        .operation_name
        .as_ref()
        .and_then(|n| batch.sym_nonempty(&n.0));
    out.set_timestamp_micros(
        span.start_time
            .and_then(|t| checked_micros(t.0, "startTime", report))
            .filter(|t| *t > 0),
    );
    out.set_duration_micros(
        span.duration
            .and_then(|d| checked_micros(d.0, "duration", report))
            .map(|d| d as u64),
    );
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
