//! Reads Jaeger UI JSON (`{data:[…]}`, `{data:{…}}`, bare traces, span arrays with inline `process`) and Jaeger protobuf-JSON.
//!
//! Both readers deserialize into borrowed structs, never a `serde_json::Value` tree. Records (traces,
//! NDJSON lines, array elements) are parsed in parallel with [`split::parse_parallel`]; the spans of
//! one large trace are parsed in parallel chunks. A span that cannot be read is
//! counted in the [`Report`] and the rest still load. The helpers shared with the OTLP reader (ids in
//! hex or base64, peer endpoints, duplicate counting) live here too.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv4Addr;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use super::json::{CowStr, Num, Scalar, ScalarType, rfc3339_micros};
use super::report::{Report, WarningKind};
use super::split::{self, Layout, Records};
use crate::model::ids::{decode_base64, looks_base64};
use crate::model::{
    Annotation, Batch, Endpoint, IdError, IdRules, Kind, Slice, Span, SpanId, Sym, Tag, TraceId,
};

/// Spans per parallel chunk when one trace (or OTLP resource) holds many spans.
pub(crate) const SPANS_PER_CHUNK: usize = 4096;

/// How deep `{"data":{"data":…}}` or `{"batch":{"batch":…}}` wrappers are followed.
const MAX_WRAPPING: usize = 4;

// ---------------------------------------------------------------------------------------------
// Helpers shared with the OTLP and dependency-link readers.
// ---------------------------------------------------------------------------------------------

/// Counts a record that serde could not read: `InvalidJson` for syntax errors, `BadRecord` for
/// valid JSON of the wrong shape.
pub(crate) fn json_warning(report: &mut Report, err: &serde_json::Error, what: &str) {
    let kind = match err.classify() {
        _ if super::limits::is_too_deep(err) => WarningKind::Limit,
        serde_json::error::Category::Data => WarningKind::BadRecord,
        _ => WarningKind::InvalidJson,
    };
    report.warn(kind, || format!("{what} skipped: {err}"));
}

/// Position of the value of member `key` in the object whose `{` is at `open`, scanning only the
/// object's own (top-level) members. `None` when absent or when the structure is broken.
pub(crate) fn member(b: &[u8], open: usize, key: &str) -> Option<usize> {
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut i = open + 1;
    loop {
        i = split::skip_ws(b, i);
        match b.get(i)? {
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let end = split::value_end(b, i)?;
        let name = b.get(i + 1..end.saturating_sub(1))?;
        i = split::skip_ws(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = split::skip_ws(b, i + 1);
        if name == key.as_bytes() {
            return Some(i);
        }
        i = split::value_end(b, i)?;
    }
}

/// When the single object at `range` has an array member named one of `keys`, the ranges of that
/// array's object elements (counting stray values and truncation in `report`).
pub(crate) fn inner_array(
    b: &[u8],
    range: &std::ops::Range<usize>,
    keys: &[&str],
    report: &mut Report,
) -> Option<Vec<std::ops::Range<usize>>> {
    let at = keys.iter().find_map(|k| member(b, range.start, k))?;
    if b.get(at) != Some(&b'[') {
        return None;
    }
    let mut records = Records {
        ranges: Vec::new(),
        layout: Layout::Array,
        truncated: false,
        stray: 0,
    };
    if split::array_elements(b, at, false, &mut records).is_none() {
        records.truncated = true;
    }
    split::report_split(&records, report);
    Some(records.ranges)
}

/// Parses a list of raw spans, in parallel chunks when there are many. `init` prepares what every
/// span of the list shares (a resolved process or resource) in the batch a chunk is written to.
pub(crate) fn par_spans<'a, C, I, F>(
    spans: &[&'a RawValue],
    batch: &mut Batch,
    report: &mut Report,
    init: I,
    each: F,
) where
    I: Fn(&mut Batch) -> C + Sync,
    F: Fn(&'a RawValue, &mut Batch, &mut Report, &mut C) + Sync,
{
    if spans.len() <= SPANS_PER_CHUNK {
        let mut shared = init(batch);
        for raw in spans {
            each(raw, batch, report, &mut shared);
        }
        return;
    }
    let parts: Vec<(Batch, Report)> = spans
        .par_chunks(SPANS_PER_CHUNK)
        .map(|chunk| {
            let mut b = Batch::default();
            let mut r = Report::default();
            let mut shared = init(&mut b);
            for raw in chunk {
                each(raw, &mut b, &mut r, &mut shared);
            }
            (b, r)
        })
        .collect();
    for (b, r) in parts {
        batch.append(b);
        report.merge(r);
    }
}

/// Counts every span whose (trace id, span id) was already seen as a `Duplicate`. The spans stay:
/// the tree builder decides what a duplicate means.
pub(crate) fn count_duplicates(batch: &Batch, report: &mut Report) {
    let mut seen = FxHashSet::default();
    seen.reserve(batch.spans.len());
    for s in &batch.spans {
        if !seen.insert((s.trace_id, s.id)) {
            report.warn(WarningKind::Duplicate, || {
                format!(
                    "span id {} appears more than once in trace {}",
                    s.id.display(&batch.interner),
                    s.trace_id.display(&batch.interner)
                )
            });
        }
    }
}

/// A trace id written as hex (any case, left-padded) or as base64 of 8 or 16 bytes, told apart by length.
pub(crate) fn trace_id_hex_or_base64(s: &str) -> Result<TraceId, IdError> {
    if looks_base64(s) {
        decode_base64(s)
            .ok_or(IdError::NotHex)
            .and_then(|bytes| TraceId::from_bytes(&bytes))
    } else {
        TraceId::parse_hex(s)
    }
}

/// A span id written as hex (any case, left-padded) or as base64 of 8 bytes, told apart by length.
pub(crate) fn span_id_hex_or_base64(s: &str) -> Result<SpanId, IdError> {
    if looks_base64(s) {
        decode_base64(s)
            .ok_or(IdError::NotHex)
            .and_then(|bytes| SpanId::from_bytes(&bytes))
    } else {
        SpanId::parse_hex(s)
    }
}

/// An IPv4 address from a dotted string or from the integer Jaeger's Thrift model stores
/// (`2130706433` is `127.0.0.1`; negative values are signed 32-bit).
pub(crate) fn ipv4_text(value: &str) -> Option<Cow<'_, str>> {
    let value = value.trim();
    if value.contains('.') {
        return value.parse::<Ipv4Addr>().ok().map(|_| Cow::Borrowed(value));
    }
    let n = value.parse::<i64>().ok()?;
    let bits = if let Ok(u) = u32::try_from(n) {
        u
    } else {
        i32::try_from(n).ok()? as u32
    };
    Some(Cow::Owned(Ipv4Addr::from(bits).to_string()))
}

/// Fills the remote endpoint from the `peer.*` tags (`peer.service`, `peer.ipv4`, `peer.ipv6`,
/// `peer.port`); other keys are left alone.
pub(crate) fn remote_from_tag(batch: &mut Batch, remote: &mut Endpoint, key: &str, value: &str) {
    match key {
        "peer.service" => remote.service = batch.service_sym(value.trim()),
        "peer.ipv4" => {
            if let Some(ip) = ipv4_text(value) {
                remote.ipv4 = Some(batch.sym(&ip));
            }
        }
        "peer.ipv6" => remote.ipv6 = batch.sym_nonempty(value.trim()),
        "peer.port" => {
            remote.port = value.trim().parse::<u16>().ok().filter(|p| *p != 0);
        }
        _ => {}
    }
}

/// A non-negative count of microseconds, or a `BadTimestamp` warning.
fn checked_micros(v: Option<i64>, what: &str, report: &mut Report) -> Option<i64> {
    match v {
        Some(v) if v >= 0 => Some(v),
        other => {
            report.warn(WarningKind::BadTimestamp, || match other {
                Some(v) => format!("negative {what} {v}"),
                None => format!("unreadable {what}"),
            });
            None
        }
    }
}

/// A JSON object read as its members in input order, values of type `V` (no map is built).
struct Entries<'a, V>(Vec<(CowStr<'a>, V)>);

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Entries<'a, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a, V>(PhantomData<(&'a (), V)>);
        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<'a, V> {
            type Value = Entries<'a, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<CowStr<'de>, V>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
        }
        d.deserialize_any(EntriesVisitor(PhantomData))
    }
}

/// The first non-whitespace byte of a raw value.
fn first_byte(raw: &RawValue) -> Option<u8> {
    raw.get().bytes().find(|b| !b.is_ascii_whitespace())
}

// ---------------------------------------------------------------------------------------------
// What both Jaeger forms share: tags, references, the span itself.
// ---------------------------------------------------------------------------------------------

/// Tags of one span being read, with what they say about kind, error and the remote side.
#[derive(Default)]
struct SpanTags {
    tags: Vec<Tag>,
    kind: Option<Kind>,
    remote: Endpoint,
    has_error: bool,
    otel_error: bool,
}

impl SpanTags {
    /// Adds one Jaeger tag: `span.kind` becomes the kind (and is dropped), `error=true` the `error`
    /// tag, `error=false` is dropped, `peer.*` fill the remote endpoint.
    fn add(&mut self, batch: &mut Batch, key: &str, value: &str) {
        if key.is_empty() {
            return;
        }
        match key {
            "span.kind" => {
                self.kind = Kind::parse(value.trim());
                return;
            }
            "error" => {
                if value.eq_ignore_ascii_case("false") {
                    return;
                }
                self.has_error = true;
                let value = if value.eq_ignore_ascii_case("true") {
                    "true"
                } else {
                    value
                };
                let tag = Tag {
                    key: batch.sym(key),
                    value: batch.sym(value),
                };
                self.tags.push(tag);
                return;
            }
            "otel.status_code" => self.otel_error |= value.eq_ignore_ascii_case("error"),
            _ => remote_from_tag(batch, &mut self.remote, key, value),
        }
        let tag = Tag {
            key: batch.sym(key),
            value: batch.sym(value),
        };
        self.tags.push(tag);
    }

    /// The tags, with `error=true` added when only `otel.status_code=ERROR` said so.
    fn finish(mut self, batch: &mut Batch) -> (Vec<Tag>, Option<Kind>, Endpoint) {
        if self.otel_error && !self.has_error {
            let tag = Tag {
                key: batch.sym("error"),
                value: batch.sym("true"),
            };
            self.tags.push(tag);
        }
        (self.tags, self.kind, self.remote)
    }
}

/// A resolved Jaeger process: its service, address and tags (in the batch's tag arena).
#[derive(Clone, Copy, Default)]
struct Process {
    service: Option<Sym>,
    ipv4: Option<Sym>,
    resource: Slice,
}

impl Process {
    /// Interns a process given its service name and `(key, value)` tags; an `ip` tag is the address.
    fn resolve<'t>(
        batch: &mut Batch,
        service: Option<&str>,
        tags: impl Iterator<Item = (&'t str, &'t str)>,
    ) -> Self {
        let service = service.and_then(|s| batch.service_sym(s.trim()));
        let mut ipv4 = None;
        let mut out = Vec::new();
        for (key, value) in tags {
            if key.is_empty() {
                continue;
            }
            if key == "ip"
                && let Some(ip) = ipv4_text(value)
            {
                ipv4 = Some(batch.sym(&ip));
            }
            let tag = Tag {
                key: batch.sym(key),
                value: batch.sym(value),
            };
            out.push(tag);
        }
        Self {
            service,
            ipv4,
            resource: batch.push_tags(&out),
        }
    }
}

/// A reference's relation to the span.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefType {
    ChildOf,
    FollowsFrom,
}

impl RefType {
    /// `CHILD_OF` / `FOLLOWS_FROM` in any case, or the protobuf enum numbers 0 / 1; absent is `CHILD_OF`.
    fn parse(s: Option<&str>) -> Option<Self> {
        let Some(s) = s else {
            return Some(Self::ChildOf);
        };
        if s.eq_ignore_ascii_case("child_of") || s == "0" {
            Some(Self::ChildOf)
        } else if s.eq_ignore_ascii_case("follows_from") || s == "1" {
            Some(Self::FollowsFrom)
        } else {
            None
        }
    }
}

/// Chooses the parent: the first `CHILD_OF` reference in the same trace, else the first
/// `FOLLOWS_FROM` in the same trace. References to other traces are not parents.
fn choose_parent(
    trace_id: TraceId,
    refs: impl Iterator<Item = (RefType, Option<TraceId>, SpanId)>,
) -> Option<SpanId> {
    let mut follows = None;
    for (ty, trace, span) in refs {
        if trace.is_some_and(|t| t != trace_id) {
            continue;
        }
        match ty {
            RefType::ChildOf => return Some(span),
            RefType::FollowsFrom => {
                follows.get_or_insert(span);
            }
        }
    }
    follows
}

/// The value of a log: its `event` field, else `message`, else `"log"`.
fn log_value<'s>(fields: impl Iterator<Item = (&'s str, &'s str)>) -> &'s str {
    let mut message = None;
    for (key, value) in fields {
        match key {
            "event" => return value,
            "message" if message.is_none() => message = Some(value),
            _ => {}
        }
    }
    message.unwrap_or("log")
}

// ---------------------------------------------------------------------------------------------
// Jaeger UI JSON.
// ---------------------------------------------------------------------------------------------

/// What a UI record is: a wrapper (`data`), a trace (`spans`), or else a span.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UiShape<'a> {
    #[serde(borrow)]
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
}

impl UiProcess<'_> {
    fn resolve(&self, batch: &mut Batch) -> Process {
        Process::resolve(
            batch,
            self.service_name.as_ref().map(|s| s.0.as_ref()),
            self.tags.iter().flatten().filter_map(UiTag::pair),
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
    let Some(records) = split::split_records(bytes) else {
        report.warn(WarningKind::InvalidJson, || {
            "the input does not start like JSON".to_owned()
        });
        return Batch::default();
    };
    split::report_split(&records, report);
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
    let parent_id = choose_parent(trace_id, refs.into_iter()).or_else(|| {
        let p = span.parent_span_id.as_ref()?.0.trim();
        SpanId::parse(p, IdRules::HexOrOpaque, &mut batch.interner).ok()
    });

    let mut tags = SpanTags::default();
    for (key, value) in span.tags.iter().flatten().filter_map(UiTag::pair) {
        tags.add(batch, key, value);
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
    out.parent_id = parent_id;
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
    batch.spans.push(out);
}

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
    let Some(records) = split::split_records(bytes) else {
        report.warn(WarningKind::InvalidJson, || {
            "the input does not start like JSON".to_owned()
        });
        return Batch::default();
    };
    split::report_split(&records, report);
    let (batch, r) = split::parse_parallel(bytes, &records.ranges, |record, batch, report| {
        read_proto_record(record, 0, batch, report);
    });
    report.merge(r);
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

/// A protobuf-JSON duration in microseconds: a number or decimal string of nanoseconds, or a
/// protobuf `Duration` string (`"0.243417s"`). `Err` when present but unreadable.
fn proto_duration_micros(d: &Scalar<'_>) -> Result<Option<i64>, ()> {
    let Some(text) = d.0.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if d.1 == ScalarType::String
        && let Some(secs) = text.strip_suffix('s')
    {
        let (negative, secs) = match secs.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, secs),
        };
        let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| ())?
        };
        let mut nanos: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| ())?
        };
        for _ in frac.len()..9 {
            nanos *= 10;
        }
        let micros = whole
            .checked_mul(1_000_000)
            .and_then(|m| m.checked_add(nanos / 1000))
            .ok_or(())?;
        return Ok(Some(if negative { -micros } else { micros }));
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
    let trace_id = match trace_id_hex_or_base64(trace_text) {
        Ok(id) => id,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("trace_id {trace_text:?}: {e}")
            });
            return;
        }
    };
    let id = match span_id_hex_or_base64(span_text) {
        Ok(id) => id,
        Err(e) => {
            report.warn(WarningKind::BadId, || format!("span_id {span_text:?}: {e}"));
            return;
        }
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
    out.parent_id = parent_id;
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
    batch.spans.push(out);
}

/// Both ids of a span, or `None` after counting which is missing (`fields` names them for the
/// message when both are).
fn both_ids<'a>(
    trace: Option<&'a str>,
    span: Option<&'a str>,
    fields: &str,
    report: &mut Report,
) -> Option<(&'a str, &'a str)> {
    match (trace, span) {
        (Some(t), Some(s)) => Some((t, s)),
        (None, None) => {
            report.warn(WarningKind::BadRecord, || {
                format!("an object with neither {fields} is not a Jaeger span")
            });
            None
        }
        (None, Some(s)) => {
            report.warn(WarningKind::MissingTraceId, || format!("span {s}"));
            None
        }
        (Some(t), None) => {
            report.warn(WarningKind::MissingSpanId, || {
                format!("a span in trace {t}")
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui(json: &str) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read_ui(json.as_bytes(), &mut report);
        (batch, report)
    }

    fn proto(json: &str) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read_proto(json.as_bytes(), &mut report);
        (batch, report)
    }

    fn text(batch: &Batch, sym: Option<Sym>) -> Option<&str> {
        sym.map(|s| batch.interner.resolve(s))
    }

    fn span_by<'b>(batch: &'b Batch, id: &str) -> &'b Span {
        batch
            .spans
            .iter()
            .find(|s| s.id.display(&batch.interner) == id)
            .unwrap()
    }

    const SPAN: &str = r#"{"traceID":"abc","spanID":"1","operationName":"Get","startTime":10,"duration":5,"processID":"p1"}"#;
    const PROCESSES: &str = r#"{"p1":{"serviceName":"Svc","tags":[]}}"#;

    /// Every UI layout (data array, data object, bare trace, array of traces, span array with
    /// inline process, NDJSON of traces and of spans) reads the same span.
    #[test]
    fn every_ui_layout_reads() {
        let trace = format!(r#"{{"traceID":"abc","spans":[{SPAN}],"processes":{PROCESSES}}}"#);
        let inline = SPAN.replace(
            r#""processID":"p1""#,
            r#""process":{"serviceName":"Svc","tags":[]}"#,
        );
        let layouts = [
            format!(r#"{{"data":[{trace}],"total":0}}"#),
            format!(r#"{{"data":{trace},"state":null}}"#),
            trace.clone(),
            format!("[{trace}]"),
            format!("[{inline}]"),
            format!("{trace}\n{}\n", trace.replace("\"1\"", "\"2\"")),
            format!("{inline}\n{}\n", inline.replace("\"1\"", "\"2\"")),
            format!(r#"{{"data":[{trace}]}}"#) + "\n",
        ];
        for json in &layouts {
            let (batch, report) = ui(json);
            assert_eq!(report.total(), 0, "{json}: {report:?}");
            assert!(!batch.spans.is_empty(), "{json}");
            let s = batch.spans[0];
            assert_eq!(s.trace_id, TraceId::Hex64(0xabc), "{json}");
            assert_eq!(s.id, SpanId::Hex(1));
            assert_eq!(text(&batch, s.local.service), Some("svc"));
            assert_eq!(text(&batch, s.name), Some("Get"));
            assert_eq!(
                (s.timestamp_micros(), s.duration_micros()),
                (Some(10), Some(5))
            );
        }
    }

    /// The parent is the first same-trace `CHILD_OF`, else the first same-trace `FOLLOWS_FROM`, else
    /// the deprecated `parentSpanID`; references to other traces never are.
    #[test]
    fn parent_choice() {
        let json = r#"{"traceID":"1","processes":{"p":{"serviceName":"s"}},"spans":[
            {"traceID":"1","spanID":"a","processID":"p","references":[
                {"refType":"FOLLOWS_FROM","traceID":"1","spanID":"f"},
                {"refType":"CHILD_OF","traceID":"2","spanID":"x"},
                {"refType":"CHILD_OF","traceID":"01","spanID":"c"}]},
            {"traceID":"1","spanID":"b","processID":"p","references":[
                {"refType":"CHILD_OF","traceID":"2","spanID":"x"},
                {"refType":"FOLLOWS_FROM","traceID":"1","spanID":"f"}]},
            {"traceID":"1","spanID":"d","processID":"p","references":[
                {"refType":"CHILD_OF","traceID":"2","spanID":"x"}],"parentSpanID":"e"},
            {"traceID":"1","spanID":"e","processID":"p","references":null},
            {"traceID":"1","spanID":"9","processID":"p","references":[{"spanID":"8"}]}
        ]}"#;
        let (batch, report) = ui(json);
        assert_eq!(report.total(), 0, "{report:?}");
        let parent = |id| span_by(&batch, id).parent_id;
        assert_eq!(parent("000000000000000a"), Some(SpanId::Hex(0xc)));
        assert_eq!(parent("000000000000000b"), Some(SpanId::Hex(0xf)));
        assert_eq!(parent("000000000000000d"), Some(SpanId::Hex(0xe)));
        assert_eq!(parent("000000000000000e"), None);
        // No refType and no traceID: CHILD_OF in this trace.
        assert_eq!(parent("0000000000000009"), Some(SpanId::Hex(8)));
    }

    /// `span.kind` becomes the kind (and leaves the tags); `error=true` (bool or string) and
    /// `otel.status_code=ERROR` give `error="true"`; `error=false` is dropped; `peer.*` fill the
    /// remote side.
    #[test]
    fn tags_kind_error_and_peer() {
        let json = r#"[
            {"traceID":"1","spanID":"1","process":{"serviceName":"s"},"tags":[
                {"key":"span.kind","type":"string","value":"CLIENT"},
                {"key":"error","type":"bool","value":true},
                {"key":"peer.service","type":"string","value":"Backend"},
                {"key":"peer.ipv4","type":"string","value":"10.1.2.3"},
                {"key":"peer.port","type":"int64","value":8080},
                {"key":"n","type":"float64","value":1.5},
                {"key":"nothing","type":"string","value":null}]},
            {"traceID":"1","spanID":"2","process":{"serviceName":"s"},"tags":[
                {"key":"error","type":"bool","value":"true"},
                {"key":"peer.ipv4","type":"int64","value":-1062731775}]},
            {"traceID":"1","spanID":"3","process":{"serviceName":"s"},"tags":[
                {"key":"error","type":"bool","value":false},
                {"key":"span.kind","type":"string","value":"internal"}]},
            {"traceID":"1","spanID":"4","process":{"serviceName":"s"},"tags":[
                {"key":"otel.status_code","type":"string","value":"ERROR"}]}
        ]"#;
        let (batch, report) = ui(json);
        assert_eq!(report.total(), 0, "{report:?}");
        let s = span_by(&batch, "0000000000000001");
        assert_eq!(s.kind, Some(Kind::Client));
        assert_eq!(batch.tag(s.tags, "span.kind"), None);
        assert_eq!(batch.tag(s.tags, "error"), Some("true"));
        assert_eq!(batch.tag(s.tags, "n"), Some("1.5"));
        assert_eq!(batch.tag(s.tags, "nothing"), None);
        assert_eq!(text(&batch, s.remote.service), Some("backend"));
        assert_eq!(text(&batch, s.remote.ipv4), Some("10.1.2.3"));
        assert_eq!(s.remote.port, Some(8080));
        let s = span_by(&batch, "0000000000000002");
        assert_eq!(batch.tag(s.tags, "error"), Some("true"));
        assert_eq!(text(&batch, s.remote.ipv4), Some("192.168.0.1"));
        let s = span_by(&batch, "0000000000000003");
        assert_eq!((s.kind, batch.tag(s.tags, "error")), (None, None));
        let s = span_by(&batch, "0000000000000004");
        assert_eq!(batch.tag(s.tags, "error"), Some("true"));
        assert_eq!(batch.tag(s.tags, "otel.status_code"), Some("ERROR"));
    }

    /// Process tags become the resource (shared by the process's spans), `ip` the local address;
    /// a processID missing from `processes` is a dangling reference and leaves no service.
    #[test]
    fn processes_resolve_once_and_dangling_ones_warn() {
        let json = r#"{"traceID":"1","spans":[
            {"traceID":"1","spanID":"1","processID":"p1"},
            {"traceID":"1","spanID":"2","processID":"p1"},
            {"traceID":"1","spanID":"3","processID":"p9"}],
          "processes":{"p1":{"serviceName":"Front","tags":[
            {"key":"ip","type":"string","value":"10.0.0.1"},
            {"key":"hostname","type":"string","value":"h1"}]}}}"#;
        let (batch, report) = ui(json);
        assert_eq!(report.count(WarningKind::DanglingReference), 1);
        assert_eq!(report.total(), 1);
        let (a, b, c) = (batch.spans[0], batch.spans[1], batch.spans[2]);
        assert_eq!(text(&batch, a.local.service), Some("front"));
        assert_eq!(text(&batch, a.local.ipv4), Some("10.0.0.1"));
        assert_eq!(batch.tag(a.resource, "hostname"), Some("h1"));
        assert_eq!(a.resource, b.resource);
        assert_eq!(batch.tags.len(), 2);
        assert!(c.local.is_empty());
        assert_eq!(c.resource.len, 0);
    }

    /// Logs become annotations named by `event`, else `message`, else "log", sorted by time.
    #[test]
    fn logs_become_annotations() {
        let json = r#"[{"traceID":"1","spanID":"1","process":{"serviceName":"s"},"logs":[
            {"timestamp":30,"fields":[{"key":"message","value":"m"},{"key":"event","value":"e"}]},
            {"timestamp":20,"fields":[{"key":"message","value":"m"}]},
            {"timestamp":10,"fields":[{"key":"x","value":"y"}]}]}]"#;
        let (batch, report) = ui(json);
        assert_eq!(report.total(), 0);
        let anns: Vec<(i64, &str)> = batch
            .annotations_of(batch.spans[0].annotations)
            .iter()
            .map(|a| (a.timestamp_micros, batch.interner.resolve(a.value)))
            .collect();
        assert_eq!(anns, vec![(10, "log"), (20, "m"), (30, "e")]);
    }

    /// Bad spans are counted by kind and skipped; the rest of the file still loads.
    #[test]
    fn bad_spans_warn_and_the_rest_loads() {
        let json = r#"[
            {"spanID":"1","process":{"serviceName":"s"}},
            {"traceID":"1","process":{"serviceName":"s"}},
            {"traceID":"0000","spanID":"1","process":{"serviceName":"s"}},
            {"traceID":"1","spanID":"1","tags":"not a list","process":{"serviceName":"s"}},
            {"traceID":"1","spanID":"2","startTime":-5,"process":{"serviceName":"s"}},
            {"total":0},
            {"traceID":"1","spanID":"3","process":{"serviceName":"s"}},
            {"traceID": nope},
            7
        ]"#;
        let (batch, report) = ui(json);
        assert_eq!(report.count(WarningKind::MissingTraceId), 1);
        assert_eq!(report.count(WarningKind::MissingSpanId), 1);
        assert_eq!(report.count(WarningKind::BadId), 1);
        assert_eq!(report.count(WarningKind::BadRecord), 3);
        assert_eq!(report.count(WarningKind::InvalidJson), 1);
        assert_eq!(report.count(WarningKind::BadTimestamp), 1);
        let ids: Vec<SpanId> = batch.spans.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![SpanId::Hex(2), SpanId::Hex(3)]);
        assert_eq!(batch.spans[0].timestamp_micros(), None);
    }

    /// A duplicate span id within a trace is counted and both spans are kept; the same id in
    /// another trace is not a duplicate.
    #[test]
    fn duplicates_are_counted_and_kept() {
        let json = r#"[
            {"traceID":"1","spanID":"a","process":{"serviceName":"s"}},
            {"traceID":"1","spanID":"a","process":{"serviceName":"s"}},
            {"traceID":"2","spanID":"a","process":{"serviceName":"s"}}]"#;
        let (batch, report) = ui(json);
        assert_eq!(batch.spans.len(), 3);
        assert_eq!(report.count(WarningKind::Duplicate), 1);
        assert_eq!(report.total(), 1);
    }

    /// Ids: short hex is left-padded, non-hex is kept opaque, camel-case ids are hex.
    #[test]
    fn ids_pad_or_stay_opaque() {
        let json = r#"{"traceID":"trace-1","spans":[
            {"traceID":"trace-1","spanID":"span_1","processID":"p"},
            {"traceID":"trace-1","spanID":"ABC","processID":"p","references":[
                {"refType":"CHILD_OF","traceID":"trace-1","spanID":"span_1"}]}],
          "processes":{"p":{"serviceName":"s"}}}"#;
        let (batch, report) = ui(json);
        assert_eq!(report.total(), 0);
        let i = &batch.interner;
        assert_eq!(batch.spans[0].trace_id.display(i), "trace-1");
        assert!(matches!(batch.spans[0].id, SpanId::Opaque(_)));
        assert_eq!(batch.spans[1].id.display(i), "0000000000000abc");
        assert_eq!(batch.spans[1].parent_id, Some(batch.spans[0].id));
    }

    /// A trace with more spans than one chunk is read in parallel chunks, in order, with its
    /// processes resolved in every chunk.
    #[test]
    fn large_traces_read_in_parallel_chunks() {
        let n = SPANS_PER_CHUNK * 2 + 7;
        let spans: Vec<String> = (1..=n)
            .map(|i| {
                format!(
                    r#"{{"traceID":"1","spanID":"{i:x}","processID":"p{}"}}"#,
                    i % 2
                )
            })
            .collect();
        let json = format!(
            r#"{{"traceID":"1","spans":[{}],"processes":{{"p0":{{"serviceName":"even","tags":[{{"key":"k","value":"v0"}}]}},"p1":{{"serviceName":"odd","tags":[{{"key":"k","value":"v1"}}]}}}}}}"#,
            spans.join(",")
        );
        let (batch, report) = ui(&json);
        assert_eq!(report.total(), 0);
        assert_eq!(batch.spans.len(), n);
        for (i, s) in batch.spans.iter().enumerate() {
            let i = i as u64 + 1;
            assert_eq!(s.id, SpanId::Hex(i));
            let (service, tag) = if i.is_multiple_of(2) {
                ("even", "v0")
            } else {
                ("odd", "v1")
            };
            assert_eq!(text(&batch, s.local.service), Some(service));
            assert_eq!(batch.tag(s.resource, "k"), Some(tag));
        }
    }

    /// Input that is not Jaeger at all, or is broken, gives warnings and never panics.
    #[test]
    fn garbage_never_panics() {
        let deep = "{\"data\":".repeat(50) + "{}" + &"}".repeat(50);
        for json in [
            "",
            "{",
            "[",
            "[1,2",
            "nonsense",
            r#"{"data":5}"#,
            r#"{"data":[1,{"x":2}]}"#,
            r#"{"data":{"spans":5}}"#,
            r#"{"spans":[1,"x",{}],"processes":[]}"#,
            r#"{"batch":{"spans":[{"trace_id":"@@@","span_id":"e+L9mNCXO+M="}]}}"#,
            deep.as_str(),
        ] {
            let _ = ui(json);
            let _ = proto(json);
        }
        let (batch, report) = ui(&deep);
        assert!(batch.spans.is_empty());
        assert_eq!(report.count(WarningKind::BadRecord), 1);
    }

    /// Protobuf-JSON: base64 and hex ids, RFC 3339 start, nanosecond and `"…s"` durations,
    /// references (absent `ref_type` = `CHILD_OF`), camelCase fields, span-level process override,
    /// and proto3's omitted defaults (a `BOOL` tag without `v_bool` is false).
    #[test]
    fn protobuf_json_batches() {
        let json = r#"{"batch":{"process":{"service_name":"Driver","tags":[
                {"key":"ip","v_str":"10.0.0.13"}]},
            "spans":[
            {"trace_id":"AAAAAAAAAAB74v2Y0Jc74w==","span_id":"e+L9mNCXO+M=","operation_name":"root",
             "start_time":"2019-12-20T07:41:44.953864Z","duration":243417000,"flags":3,
             "tags":[{"key":"span.kind","v_str":"server"},{"key":"error","v_type":"BOOL"}]},
            {"traceId":"7be2fd98d0973be3","spanId":"0000000000000002","operationName":"child",
             "startTime":"2019-12-20T07:41:45Z","duration":"0.5s",
             "references":[{"trace_id":"AAAAAAAAAAB74v2Y0Jc74w==","span_id":"e+L9mNCXO+M="}],
             "process":{"serviceName":"Redis","tags":[]},
             "tags":[{"key":"error","v_type":1,"v_bool":true},{"key":"n","v_type":2,"v_int64":"12"}]},
            {"trace_id":"7be2fd98d0973be3","span_id":"3","duration":"1500",
             "references":[{"trace_id":"AAAAAAAAAAB74v2Y0Jc74w==","span_id":"AAAAAAAAAAI=","ref_type":"FOLLOWS_FROM"}],
             "logs":[{"timestamp":"2019-12-20T07:41:45.000001Z","fields":[{"key":"event","v_str":"done"}]}]}
        ]}}"#;
        let (batch, report) = proto(json);
        assert_eq!(report.total(), 0, "{report:?}");
        let root = batch.spans[0];
        assert_eq!(root.trace_id, TraceId::Hex64(0x7be2_fd98_d097_3be3));
        assert_eq!(root.id, SpanId::Hex(0x7be2_fd98_d097_3be3));
        assert_eq!(root.kind, Some(Kind::Server));
        assert!(root.debug);
        assert_eq!(root.timestamp_micros(), Some(1_576_827_704_953_864));
        assert_eq!(root.duration_micros(), Some(243_417));
        assert_eq!(batch.tag(root.tags, "error"), None);
        assert_eq!(text(&batch, root.local.service), Some("driver"));
        assert_eq!(text(&batch, root.local.ipv4), Some("10.0.0.13"));
        let child = batch.spans[1];
        assert_eq!(child.parent_id, Some(root.id));
        assert_eq!(text(&batch, child.name), Some("child"));
        assert_eq!(child.duration_micros(), Some(500_000));
        assert_eq!(child.timestamp_micros(), Some(1_576_827_705_000_000));
        assert_eq!(text(&batch, child.local.service), Some("redis"));
        assert_eq!(child.resource.len, 0);
        assert_eq!(batch.tag(child.tags, "error"), Some("true"));
        assert_eq!(batch.tag(child.tags, "n"), Some("12"));
        let third = batch.spans[2];
        assert_eq!(third.parent_id, Some(child.id));
        assert_eq!(third.duration_micros(), Some(1));
        assert_eq!(text(&batch, third.local.service), Some("driver"));
        assert_eq!(batch.annotations_of(third.annotations).len(), 1);
    }

    /// Protobuf-JSON problems: ids that are neither hex nor base64, unreadable times, a span with
    /// no process anywhere; NDJSON of batches and bare batches read too.
    #[test]
    fn protobuf_json_problems_and_layouts() {
        let json = concat!(
            r#"{"batch":{"process":{"service_name":"a"},"spans":[{"trace_id":"xyz!","span_id":"1"},{"trace_id":"1","span_id":"1","start_time":"yesterday","duration":"soon"}]}}"#,
            "\n",
            r#"{"process":{"service_name":"b"},"spans":[{"trace_id":"1","span_id":"2"}]}"#,
            "\n",
            r#"{"trace_id":"1","span_id":"3"}"#,
            "\n"
        );
        let (batch, report) = proto(json);
        assert_eq!(report.count(WarningKind::BadId), 1);
        assert_eq!(report.count(WarningKind::BadTimestamp), 2);
        assert_eq!(report.count(WarningKind::DanglingReference), 1);
        assert_eq!(report.total(), 4);
        let services: Vec<Option<&str>> = batch
            .spans
            .iter()
            .map(|s| text(&batch, s.local.service))
            .collect();
        assert_eq!(services, vec![Some("a"), Some("b"), None]);
    }

    /// Helpers: durations, IPv4 integers, and finding a top-level member without parsing.
    #[test]
    fn helpers() {
        let s = |t: &'static str, ty| Scalar(Some(Cow::Borrowed(t)), ty);
        assert_eq!(
            proto_duration_micros(&s("0.243417s", ScalarType::String)),
            Ok(Some(243_417))
        );
        assert_eq!(
            proto_duration_micros(&s("-1.5s", ScalarType::String)),
            Ok(Some(-1_500_000))
        );
        assert_eq!(
            proto_duration_micros(&s("2000", ScalarType::Number)),
            Ok(Some(2))
        );
        assert_eq!(
            proto_duration_micros(&s("1.2.3s", ScalarType::String)),
            Err(())
        );
        assert_eq!(proto_duration_micros(&Scalar::default()), Ok(None));
        assert_eq!(ipv4_text("2130706433").as_deref(), Some("127.0.0.1"));
        assert_eq!(ipv4_text("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(ipv4_text("::1"), None);
        assert_eq!(ipv4_text("99999999999"), None);
        let b = br#" {"a":{"data":1}, "b" : [1], "data" :[{}]}"#;
        let at = |key| member(b, 1, key).and_then(|i| b.get(i..i + 3));
        assert_eq!(at("data"), Some(&b"[{}"[..]));
        assert_eq!(at("b"), Some(&b"[1]"[..]));
        assert_eq!(member(b, 1, "c"), None);
        assert_eq!(member(br#"{"a":"#, 0, "b"), None);
    }
}
