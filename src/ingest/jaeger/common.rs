//! What the Jaeger readers share, with each other and with the OTLP and dependency-link readers: ids in hex or base64, peer endpoints, duplicate counting, record wrappers, tags, processes and references.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv4Addr;

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::ingest::json::CowStr;
use crate::ingest::report::{Report, WarningKind};
use crate::ingest::split;
use crate::model::ids::{decode_base64, looks_base64};
use crate::model::{Batch, Endpoint, IdError, Kind, Slice, SpanId, Sym, Tag, TraceId};

/// Spans per parallel chunk when one trace (or OTLP resource) holds many spans.
pub(crate) const SPANS_PER_CHUNK: usize = 4096;

/// How deep `{"data":{"data":…}}` or `{"batch":{"batch":…}}` wrappers are followed.
pub(super) const MAX_WRAPPING: usize = 4;

// ---------------------------------------------------------------------------------------------
// Helpers shared with the OTLP and dependency-link readers.
// ---------------------------------------------------------------------------------------------

/// Counts a record that serde could not read: `InvalidJson` for syntax errors, `BadRecord` for
/// valid JSON of the wrong shape.
pub(crate) fn json_warning(report: &mut Report, err: &serde_json::Error, what: &str) {
    let kind = match err.classify() {
        _ if crate::ingest::limits::is_too_deep(err) => WarningKind::Limit,
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
    let records = split::split_array(b, at);
    split::report_split(&records, report);
    Some(records.ranges)
}

/// Parses a list of raw spans, in parallel chunks when there are many. `init` prepares what every
/// span of the list shares (a resolved process or resource) in the batch a chunk is written to.
pub(crate) fn par_spans<T, C, I, F>(
    spans: &[T],
    batch: &mut Batch,
    report: &mut Report,
    init: I,
    each: F,
) where
    T: Sync,
    I: Fn(&mut Batch) -> C + Sync,
    F: Fn(&T, &mut Batch, &mut Report, &mut C) + Sync,
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
        if !seen.insert((s.trace_id(), s.id())) {
            report.warn(WarningKind::Duplicate, || {
                format!(
                    "span id {} appears more than once in trace {}",
                    s.id().display(&batch.interner),
                    s.trace_id().display(&batch.interner)
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

/// A span's trace and span id, each hex or base64; a bad one is a `BadId` warning naming the
/// format's spelling of its field (`fields`: trace, span) and `None`.
pub(crate) fn ids_hex_or_base64(
    trace: &str,
    span: &str,
    fields: [&str; 2],
    report: &mut Report,
) -> Option<(TraceId, SpanId)> {
    let trace_id = trace_id_hex_or_base64(trace)
        .map_err(|e| {
            report.warn(WarningKind::BadId, || {
                format!("{} {trace:?}: {e}", fields[0])
            });
        })
        .ok()?;
    let span_id = span_id_hex_or_base64(span)
        .map_err(|e| {
            report.warn(WarningKind::BadId, || {
                format!("{} {span:?}: {e}", fields[1])
            });
        })
        .ok()?;
    Some((trace_id, span_id))
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
pub(super) fn checked_micros(v: Option<i64>, what: &str, report: &mut Report) -> Option<i64> {
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
pub(super) struct Entries<'a, V>(pub(super) Vec<(CowStr<'a>, V)>);

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
pub(super) fn first_byte(raw: &RawValue) -> Option<u8> {
    raw.get().bytes().find(|b| !b.is_ascii_whitespace())
}

// ---------------------------------------------------------------------------------------------
// What both Jaeger forms share: tags, references, the span itself.
// ---------------------------------------------------------------------------------------------

/// Tags of one span being read, with what they say about kind, error and the remote side.
#[derive(Default)]
pub(super) struct SpanTags {
    pub(super) tags: Vec<Tag>,
    pub(super) kind: Option<Kind>,
    pub(super) remote: Endpoint,
    pub(super) has_error: bool,
    pub(super) otel_error: bool,
}

impl SpanTags {
    /// Adds one Jaeger tag: `span.kind` becomes the kind (and is dropped), `error=true` the `error`
    /// tag, `error=false` is dropped, `peer.*` fill the remote endpoint.
    pub(super) fn add(&mut self, batch: &mut Batch, key: &str, value: &str) {
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
    pub(super) fn finish(mut self, batch: &mut Batch) -> (Vec<Tag>, Option<Kind>, Endpoint) {
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
pub(super) struct Process {
    pub(super) service: Option<Sym>,
    pub(super) ipv4: Option<Sym>,
    pub(super) resource: Slice,
}

impl Process {
    /// Interns a process given its service name and `(key, value)` tags; an `ip` tag is the address.
    pub(super) fn resolve<'t>(
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
pub(super) enum RefType {
    ChildOf,
    FollowsFrom,
}

impl RefType {
    /// `CHILD_OF` / `FOLLOWS_FROM` in any case, or the protobuf enum numbers 0 / 1; absent is `CHILD_OF`.
    pub(super) fn parse(s: Option<&str>) -> Option<Self> {
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
pub(super) fn choose_parent(
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
pub(super) fn log_value<'s>(fields: impl Iterator<Item = (&'s str, &'s str)>) -> &'s str {
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

/// Both ids of a span, or `None` after counting which is missing (`fields` names them for the
/// message when both are).
pub(super) fn both_ids<'a>(
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
