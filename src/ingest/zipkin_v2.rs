//! Reads Zipkin v2 JSON (arrays of spans, lists of traces, single span objects, NDJSON) with `zipkin2.Span`'s normalisation.

use serde::Deserialize;

use super::fastjson::Cursor;

use super::json::{Num, Text, TextPairs};
use super::report::{Report, WarningKind};
use super::split;
use super::zipkin::{JsonEndpoint, SpanBuilder};
use crate::model::{Annotation, Batch, Endpoint, IdError, Kind, SpanId, Tag, TraceId};

/// One v2 span as JSON writes it; unknown fields are ignored.
#[derive(Deserialize, Debug, Default)]
struct JsonSpan<'a> {
    #[serde(rename = "traceId", borrow, default)]
    trace_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(rename = "parentId", borrow, default)]
    parent_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    kind: Option<Text<'a>>,
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(default)]
    duration: Option<Num>,
    #[serde(rename = "localEndpoint", borrow, default)]
    local: Option<JsonEndpoint<'a>>,
    #[serde(rename = "remoteEndpoint", borrow, default)]
    remote: Option<JsonEndpoint<'a>>,
    /// The fast path's endpoints, converted as they are read (`local` and `remote` stay empty).
    #[serde(skip)]
    converted: [Option<Endpoint>; 2],
    #[serde(borrow, default)]
    annotations: Option<Vec<JsonAnnotation<'a>>>,
    #[serde(borrow, default)]
    tags: Option<TextPairs<'a>>,
    /// The fast path's tags: put straight into the batch's tag arena from this position on
    /// (no list is allocated per span), sealed when the span is normalised.
    #[serde(skip)]
    fast_tags: Option<usize>,
    /// Tags the fast path skipped because they are not UTF-8.
    #[serde(skip)]
    bad_tags: u32,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default)]
    debug: Option<bool>,
}

#[derive(Deserialize, Debug, Default)]
struct JsonAnnotation<'a> {
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(borrow, default)]
    value: Option<Text<'a>>,
}

/// Reads Zipkin v2 JSON in any of its layouts; records are parsed in parallel.
pub fn read(bytes: &[u8], report: &mut Report) -> Batch {
    split::read_records(bytes, report, parse_record)
}

/// Classifies a `serde_json` error as invalid JSON or a record of the wrong shape.
pub fn json_error_kind(e: &serde_json::Error) -> WarningKind {
    if super::limits::is_too_deep(e) {
        return WarningKind::Limit;
    }
    match e.classify() {
        serde_json::error::Category::Data => WarningKind::BadRecord,
        serde_json::error::Category::Eof => WarningKind::TruncatedJson,
        _ => WarningKind::InvalidJson,
    }
}

/// The fast path: reads the common shape of a span without serde; `None` means "use serde".
fn fast_span<'a>(record: &'a [u8], batch: &mut Batch, span: &mut JsonSpan<'a>) -> Option<()> {
    let mut c = Cursor::new(record);
    fast_span_in(&mut c, batch, span)?;
    c.at_end().then_some(())
}

/// The members of a span the fast path reads.
#[derive(Clone, Copy)]
enum Member {
    TraceId,
    Id,
    ParentId,
    Name,
    Kind,
    Timestamp,
    Duration,
    Local,
    Remote,
    Tags,
    Shared,
    Debug,
    Annotations,
    Other,
}

impl Member {
    fn of(key: &[u8]) -> Self {
        match key {
            b"traceId" => Self::TraceId,
            b"id" => Self::Id,
            b"parentId" => Self::ParentId,
            b"name" => Self::Name,
            b"kind" => Self::Kind,
            b"timestamp" => Self::Timestamp,
            b"duration" => Self::Duration,
            b"localEndpoint" => Self::Local,
            b"remoteEndpoint" => Self::Remote,
            b"tags" => Self::Tags,
            b"shared" => Self::Shared,
            b"debug" => Self::Debug,
            b"annotations" => Self::Annotations,
            _ => Self::Other,
        }
    }

    /// Reads a span member's key and its colon. A known key written plainly with its colon right
    /// after it is told by its first four letters and one compare of the whole, without scanning
    /// for its end; any other key is read in full.
    #[inline]
    fn read(c: &mut Cursor<'_>) -> Option<Self> {
        let rest = c.rest();
        let known = match rest.get(1..5) {
            Some(b"trac") if rest.starts_with(b"\"traceId\":") => Some((10, Self::TraceId)),
            Some(b"id\":") => Some((5, Self::Id)),
            Some(b"pare") if rest.starts_with(b"\"parentId\":") => Some((11, Self::ParentId)),
            Some(b"name") if rest.starts_with(b"\"name\":") => Some((7, Self::Name)),
            Some(b"kind") if rest.starts_with(b"\"kind\":") => Some((7, Self::Kind)),
            Some(b"time") if rest.starts_with(b"\"timestamp\":") => Some((12, Self::Timestamp)),
            Some(b"dura") if rest.starts_with(b"\"duration\":") => Some((11, Self::Duration)),
            Some(b"loca") if rest.starts_with(b"\"localEndpoint\":") => Some((16, Self::Local)),
            Some(b"remo") if rest.starts_with(b"\"remoteEndpoint\":") => Some((17, Self::Remote)),
            Some(b"tags") if rest.starts_with(b"\"tags\":") => Some((7, Self::Tags)),
            _ => None,
        };
        c.key(known, Self::of)
    }
}

/// The members of an endpoint the fast path reads.
#[derive(Clone, Copy)]
enum EndpointMember {
    ServiceName,
    Ipv4,
    Ipv6,
    Port,
    Other,
}

impl EndpointMember {
    fn of(key: &[u8]) -> Self {
        match key {
            b"serviceName" => Self::ServiceName,
            b"ipv4" => Self::Ipv4,
            b"ipv6" => Self::Ipv6,
            b"port" => Self::Port,
            _ => Self::Other,
        }
    }

    /// Reads an endpoint member's key and its colon, as [`Member::read`].
    #[inline]
    fn read(c: &mut Cursor<'_>) -> Option<Self> {
        let rest = c.rest();
        let known = match rest.get(1..5) {
            Some(b"serv") if rest.starts_with(b"\"serviceName\":") => Some((14, Self::ServiceName)),
            Some(b"ipv4") if rest.starts_with(b"\"ipv4\":") => Some((7, Self::Ipv4)),
            Some(b"port") if rest.starts_with(b"\"port\":") => Some((7, Self::Port)),
            _ => None,
        };
        c.key(known, Self::of)
    }
}

/// The fast path on the object at the cursor, read into `span` (which starts empty); the cursor
/// ends after it. Tags go straight into `batch`'s arena; the caller drops them again when it
/// gives up. (The span is filled in place: moving it costs a copy of a few hundred bytes.)
fn fast_span_in<'a>(c: &mut Cursor<'a>, batch: &mut Batch, span: &mut JsonSpan<'a>) -> Option<()> {
    let mut more = c.object_open()?;
    while more {
        match Member::read(c)? {
            Member::TraceId => c.text_into(&mut span.trace_id)?,
            Member::Id => c.text_into(&mut span.id)?,
            Member::ParentId => c.text_into(&mut span.parent_id)?,
            Member::Name => c.text_into(&mut span.name)?,
            Member::Kind => c.text_into(&mut span.kind)?,
            Member::Timestamp => span.timestamp = c.opt_num()?,
            Member::Duration => span.duration = c.opt_num()?,
            Member::Local => fast_endpoint_converted(c, batch, &mut span.converted[0])?,
            Member::Remote => fast_endpoint_converted(c, batch, &mut span.converted[1])?,
            Member::Tags => fast_tags(c, batch, span)?,
            Member::Shared => span.shared = Some(c.bool()?),
            Member::Debug => span.debug = Some(c.bool()?),
            Member::Annotations => {
                let mut list = Vec::new();
                c.array(|c| {
                    let mut a = JsonAnnotation::default();
                    c.object(|c, k| {
                        match k {
                            b"timestamp" => a.timestamp = c.opt_num()?,
                            b"value" => c.text_into(&mut a.value)?,
                            _ => c.skip()?,
                        }
                        Some(())
                    })?;
                    list.push(a);
                    Some(())
                })?;
                span.annotations = Some(list);
            }
            Member::Other => c.skip()?,
        }
        more = c.object_next()?;
    }
    Some(())
}

/// The fast path's tags: put into the batch's arena as they are read.
fn fast_tags<'a>(c: &mut Cursor<'a>, batch: &mut Batch, span: &mut JsonSpan<'a>) -> Option<()> {
    if span.fast_tags.is_some() {
        // A second "tags" member: serde's rules decide.
        return None;
    }
    let start = batch.tags.len();
    span.fast_tags = Some(start);
    if c.null() {
        return Some(());
    }
    c.object(|c, key| {
        let Some(value) = c.text_scalar()? else {
            return Some(());
        };
        match (batch.sym_bytes(key), batch.sym_bytes(value.as_bytes())) {
            (Some(key), Some(value)) => {
                batch.put_open_tag(start, Tag { key, value });
            }
            _ => span.bad_tags += 1,
        }
        Some(())
    })
}

/// The fast path's endpoint, read and converted into `out` (`null` → `None`). An endpoint written
/// as one before in the batch is not converted again ([`Batch::endpoint_for_text`]).
fn fast_endpoint_converted<'a>(
    c: &mut Cursor<'a>,
    batch: &mut Batch,
    out: &mut Option<Endpoint>,
) -> Option<()> {
    if c.null() {
        *out = None;
        return Some(());
    }
    let start = c.position();
    let mut read = None;
    fast_endpoint(c, &mut read)?;
    let text = c.slice_from(start)?;
    *out = Some(batch.endpoint_for_text(text, |batch| {
        read.map(|e| e.to_endpoint(batch)).unwrap_or_default()
    }));
    Some(())
}

/// The fast path's endpoint, read into `out` (`null` → `None`).
fn fast_endpoint<'a>(c: &mut Cursor<'a>, out: &mut Option<JsonEndpoint<'a>>) -> Option<()> {
    if c.null() {
        *out = None;
        return Some(());
    }
    let e = out.insert(JsonEndpoint::default());
    let mut more = c.object_open()?;
    while more {
        match EndpointMember::read(c)? {
            EndpointMember::ServiceName => c.text_into(&mut e.service_name)?,
            EndpointMember::Ipv4 => c.text_into(&mut e.ipv4)?,
            EndpointMember::Ipv6 => c.text_into(&mut e.ipv6)?,
            EndpointMember::Port => e.port = c.opt_num()?,
            EndpointMember::Other => c.skip()?,
        }
        more = c.object_next()?;
    }
    Some(())
}

/// Parses the span object that starts at `pos`, returning where it ends; `None` (nothing added)
/// when the buffer ends inside it.
pub fn parse_record_at(
    buf: &[u8],
    pos: usize,
    batch: &mut Batch,
    report: &mut Report,
) -> Option<usize> {
    let mark = Mark::of(batch);
    let mut c = Cursor::at(buf, pos);
    let mut span = JsonSpan::default();
    if fast_span_in(&mut c, batch, &mut span).is_some() {
        normalize(&span, batch, report);
        mark.drop_leftovers(batch);
        return Some(c.position());
    }
    mark.drop_leftovers(batch);
    let end = split::value_end(buf, pos)?;
    parse_record(buf.get(pos..end)?, batch, report);
    Some(end)
}

/// Parses one span object into the batch, or counts why it could not be.
pub fn parse_record(record: &[u8], batch: &mut Batch, report: &mut Report) {
    let mark = Mark::of(batch);
    let mut span = JsonSpan::default();
    if fast_span(record, batch, &mut span).is_none() {
        mark.drop_leftovers(batch);
        span = match serde_json::from_slice(record) {
            Ok(s) => s,
            Err(e) => {
                report.warn(json_error_kind(&e), || format!("span skipped: {e}"));
                return;
            }
        };
    }
    normalize(&span, batch, report);
    mark.drop_leftovers(batch);
}

/// The batch's size before a record: tags the fast path put in the arena for a span that was
/// then not added (it gave up, or the span was skipped) are dropped again.
#[derive(Clone, Copy)]
struct Mark {
    spans: usize,
    tags: usize,
}

impl Mark {
    fn of(batch: &Batch) -> Self {
        Self {
            spans: batch.spans.len(),
            tags: batch.tags.len(),
        }
    }

    fn drop_leftovers(self, batch: &mut Batch) {
        if batch.spans.len() == self.spans {
            batch.tags.truncate(self.tags);
        }
    }
}

/// Checks and normalises one read span with `zipkin2.Span.Builder`'s rules, into the batch.
fn normalize(span: &JsonSpan<'_>, batch: &mut Batch, report: &mut Report) {
    let Some(trace_text) = span.trace_id.as_ref() else {
        report.warn(WarningKind::MissingTraceId, || {
            "span without traceId skipped".to_owned()
        });
        return;
    };
    let Some(id_text) = span.id.as_ref() else {
        report.warn(WarningKind::MissingSpanId, || {
            "span without id skipped".to_owned()
        });
        return;
    };
    let trace_id = match TraceId::parse_hex_bytes(trace_text.as_bytes()) {
        Ok(t) => t,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("traceId {:?}: {e}; span skipped", trace_text.lossy())
            });
            return;
        }
    };
    let id = match SpanId::parse_hex_bytes(id_text.as_bytes()) {
        Ok(t) => t,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("id {:?}: {e}; span skipped", id_text.lossy())
            });
            return;
        }
    };
    let Ok(parent_id) = parse_parent(span.parent_id.as_ref().map(Text::as_bytes), report) else {
        return;
    };
    let mut b = SpanBuilder::new(trace_id, id);
    b.parent_id = parent_id;
    if let Some(kind) = &span.kind {
        b.kind = Kind::parse_bytes(kind.as_bytes());
        if b.kind.is_none() && !kind.is_empty() {
            report.warn(WarningKind::BadRecord, || {
                format!("unknown kind {:?} ignored", kind.lossy())
            });
        }
    }
    b.name = span
        .name
        .as_ref()
        .and_then(|n| batch.name_sym_bytes(n.as_bytes()));
    b.timestamp(span.timestamp.and_then(|n| n.0).unwrap_or(0));
    b.duration(span.duration.and_then(|n| n.0));
    let [local, remote] = span.converted;
    for (read, converted, out) in [
        (&span.local, local, &mut b.local),
        (&span.remote, remote, &mut b.remote),
    ] {
        if let Some(e) = converted {
            *out = e;
        } else if let Some(e) = read {
            *out = e.to_endpoint(batch);
        }
    }
    for a in span.annotations.iter().flatten() {
        match (a.timestamp.and_then(|t| t.0), &a.value) {
            (Some(timestamp_micros), Some(value)) => match batch.sym_bytes(value.as_bytes()) {
                Some(value) => b.annotations.push(Annotation {
                    timestamp_micros,
                    value,
                }),
                None => report.warn(WarningKind::InvalidJson, || {
                    "annotation that is not UTF-8 skipped".to_owned()
                }),
            },
            _ => report.warn(WarningKind::BadRecord, || {
                "incomplete annotation skipped".to_owned()
            }),
        }
    }
    for (key, value) in span.tags.iter().flat_map(|t| t.0.iter()) {
        let Some(value) = value else { continue };
        match (
            batch.sym_bytes(key.as_bytes()),
            batch.sym_bytes(value.as_bytes()),
        ) {
            (Some(key), Some(value)) => b.put_tag(key, value),
            _ => report.warn(WarningKind::InvalidJson, || {
                "tag that is not UTF-8 skipped".to_owned()
            }),
        }
    }
    let nested = span.tags.as_ref().map_or(0, |t| t.1);
    if nested > 0 {
        report.warn_n(WarningKind::BadRecord, u64::from(nested), || {
            format!("{nested} tag(s) whose value is an object or array skipped (Zipkin tags are strings)")
        });
    }
    for _ in 0..span.bad_tags {
        report.warn(WarningKind::InvalidJson, || {
            "tag that is not UTF-8 skipped".to_owned()
        });
    }
    if let Some(start) = span.fast_tags {
        b.arena_tags = Some(batch.seal_tags(start));
    }
    b.shared = span.shared;
    b.debug = span.debug.unwrap_or(false);
    b.build_into(batch);
}

/// A parent id: all zeros means none. An invalid one drops the span with a warning: keeping it
/// as a root would invent links Zipkin never shows (`zipkin/v1-error-batch.json`).
pub fn parse_parent(text: Option<&[u8]>, report: &mut Report) -> Result<Option<SpanId>, IdError> {
    let Some(text) = text else { return Ok(None) };
    match SpanId::parse_hex_bytes(text) {
        Ok(id) => Ok(Some(id)),
        Err(IdError::AllZeros | IdError::Empty) => Ok(None),
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!(
                    "parentId {:?}: {e}; span skipped",
                    String::from_utf8_lossy(text)
                )
            });
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_zipkin() {
        // Short ids are padded, names and services lower-cased, shared cleared on a CLIENT,
        // a negative duration dropped, a zero parent id means root.
        let json = br#"[{"traceId":"1","id":"2","parentId":"0000000000000000","name":"GET","kind":"CLIENT",
            "shared":true,"duration":-5,"localEndpoint":{"serviceName":"Front","ipv4":"::ffff:10.0.0.1","port":0},
            "tags":{"b":"1","a":2}}]"#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(report.total(), 0);
        let s = batch.spans[0];
        assert_eq!(s.trace_id(), TraceId::Hex64(1));
        assert_eq!(s.id(), SpanId::Hex(2));
        assert_eq!(s.parent_id(), None);
        assert!(!s.shared);
        assert_eq!(s.duration_micros(), None);
        assert_eq!(batch.interner.resolve(s.name.unwrap()), "get");
        assert_eq!(batch.interner.resolve(s.local.service.unwrap()), "front");
        assert_eq!(batch.interner.resolve(s.local.ipv4.unwrap()), "10.0.0.1");
        assert_eq!(s.local.port, None);
        let keys: Vec<_> = batch
            .tags_of(s.tags)
            .iter()
            .map(|t| batch.interner.resolve(t.key))
            .collect();
        assert_eq!(keys, vec!["a", "b"]);
    }

    #[test]
    fn bad_spans_are_counted_and_the_rest_loads() {
        let json = br#"[{"traceId":"BADID!","id":"1"},{"id":"1"},{"traceId":"1"},{"traceId":"1","id":"3","parentId":"zz"},
            {"traceId":"1","id":"4","timestamp":"x"}, 7, {"traceId":"1","id":"5""#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(batch.spans.len(), 1);
        assert_eq!(report.count(WarningKind::BadId), 2);
        assert_eq!(report.count(WarningKind::MissingTraceId), 1);
        assert_eq!(report.count(WarningKind::MissingSpanId), 1);
        assert_eq!(report.count(WarningKind::TruncatedJson), 1);
        assert_eq!(report.count(WarningKind::BadRecord), 1);
    }
}
#[cfg(test)]
mod fast_tests {
    use super::*;

    /// Every span of a batch written out with its strings.
    fn render(batch: &Batch) -> Vec<String> {
        let name = |s: Option<crate::model::Sym>| s.map(|s| batch.interner.resolve(s).to_owned());
        let endpoint = |e: crate::model::Endpoint| {
            format!(
                "{:?}/{:?}/{:?}/{:?}",
                name(e.service),
                name(e.ipv4),
                name(e.ipv6),
                e.port
            )
        };
        batch
            .spans
            .iter()
            .map(|s| {
                let tags: Vec<_> = batch
                    .tags_of(s.tags)
                    .iter()
                    .map(|t| (name(Some(t.key)), name(Some(t.value))))
                    .collect();
                let annotations: Vec<_> = batch
                    .annotations_of(s.annotations)
                    .iter()
                    .map(|a| (a.timestamp_micros, name(Some(a.value))))
                    .collect();
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {tags:?} {annotations:?} {} {}",
                    s.trace_id(),
                    s.id(),
                    s.parent_id(),
                    s.kind,
                    name(s.name),
                    s.timestamp_micros(),
                    s.duration_micros(),
                    endpoint(s.local),
                    endpoint(s.remote),
                    s.shared,
                    s.debug
                )
            })
            .collect()
    }

    #[test]
    fn fast_path_reads_what_serde_reads() {
        // Each record read by the fast path (which gives up to serde on anything it does not
        // know) gives the same span and warnings as serde alone.
        let records: &[&[u8]] = &[
            br#"{"traceId":"29e42f633a3d6466b01fb83c2452c038","id":"9c597af8d7402ecc","parentId":"0a39b5c8faa241a6","name":"call cassandra2","kind":"CLIENT","timestamp":1700000000001001,"duration":8494,"localEndpoint":{"serviceName":"reco","ipv4":"10.0.8.5","port":8080},"remoteEndpoint":{"serviceName":"cassandra2","ipv4":"10.0.91.7","port":8080},"tags":{"http.method":"GET","http.path":"/reco/v1/ledger","http.status_code":"200"}}"#,
            br#" { "traceId" : "1" ,	"id":"2" , "name" :"A" } "#,
            br#"{"x":{"a":[1,{"traceId":"9"}]},"id":"2","traceId":"1","y":"}"}"#,
            br#"{"traceId":"1","id":"2","kind":"SERVER","shared":true,"debug":false,"annotations":[{"timestamp":5,"value":"ws"},{"value":"wr","timestamp":3}]}"#,
            br#"{"traceId":"1","id":"2","localEndpoint":null,"remoteEndpoint":{}}"#,
            br#"{"traceId":"1","id":"2","localEndpoint":{"ipv6":"::ffff:10.0.0.1","serviceName":"Svc","port":"8080","extra":[1]}}"#,
            br#"{"traceId":"1","id":"2","name":"esc"aped"}"#,
            br#"{"traceId":"1","id":"2","name":null,"parentId":null,"timestamp":null,"kind":null}"#,
            // Keys that start like known ones come after them: read as those, they would overwrite.
            br#"{"traceId":"1","id":"2","name":"N","traceIdX":"9","idx":"3","names":"n","tagsX":{},"localEndpointX":1}"#,
            br#"{"traceId":"1","id":"2","localEndpoint":{"serviceName":"s","ipv4":"1.2.3.4","port":0,"serviceNameX":"no","ipv4X":"1.1.1.1","portX":1}}"#,
            br#"{"traceId":"1","id":"2","tags":{"b":"1","a":true,"c":null,"a":"again"}}"#,
            br#"{"traceId":"1","id":"2","tags":null,"timestamp":"17","duration":-3}"#,
            // The same endpoints again, and ones that differ only in case or spacing.
            br#"{"traceId":"1","id":"3","localEndpoint":{"serviceName":"s","ipv4":"1.2.3.4","port":0},"remoteEndpoint":{"ipv6":"::ffff:10.0.0.1","serviceName":"Svc","port":"8080","extra":[1]}}"#,
            br#"{"traceId":"1","id":"4","localEndpoint":{"serviceName":"S","ipv4":"1.2.3.4","port":0},"remoteEndpoint":{ "serviceName":"s","ipv4":"1.2.3.4","port":0}}"#,
            br#"{"traceId":1,"id":"2"}"#,
            br#"{"id":"2"}"#,
            br#"{"traceId":"1","id":"2","parentId":"zz"}"#,
            b"{}",
        ];
        // One batch for all records, so endpoints remembered from one are used by the next.
        let mut fast = Batch::default();
        let mut serde = Batch::default();
        for &record in records {
            let mut fast_report = Report::default();
            parse_record(record, &mut fast, &mut fast_report);
            let mut serde_report = Report::default();
            match serde_json::from_slice::<JsonSpan<'_>>(record) {
                Ok(span) => normalize(&span, &mut serde, &mut serde_report),
                Err(e) => serde_report.warn(json_error_kind(&e), String::new),
            }
            let what = String::from_utf8_lossy(record);
            assert_eq!(render(&fast), render(&serde), "{what}");
            assert_eq!(fast_report.counts, serde_report.counts, "{what}");
        }
        assert!(fast.spans.len() > 10);
    }

    #[test]
    fn fast_path_reads_generated_span() {
        let rec = br#"{"traceId":"29e42f633a3d6466b01fb83c2452c038","id":"9c597af8d7402ecc","parentId":"0a39b5c8faa241a6","name":"call cassandra2","kind":"CLIENT","timestamp":1700000000001001,"duration":8494,"localEndpoint":{"serviceName":"reco","ipv4":"10.0.8.5","port":8080},"remoteEndpoint":{"serviceName":"cassandra2","ipv4":"10.0.91.7","port":8080},"tags":{"http.method":"GET","http.path":"/reco/v1/ledger","http.status_code":"200"}}"#;
        let mut span = super::JsonSpan::default();
        assert!(super::fast_span(rec, &mut crate::model::Batch::default(), &mut span).is_some());
    }
}
