//! Reads Zipkin v2 JSON (arrays of spans, lists of traces, single span objects, NDJSON) with `zipkin2.Span`'s normalisation.

use serde::Deserialize;

use super::fastjson::Cursor;

use super::json::{Num, Text, TextPairs};
use super::report::{Report, WarningKind};
use super::split;
use super::zipkin::{JsonEndpoint, SpanBuilder};
use crate::model::{Annotation, Batch, IdError, Kind, SpanId, Tag, TraceId};

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
fn fast_span<'a>(record: &'a [u8], batch: &mut Batch) -> Option<JsonSpan<'a>> {
    let mut c = Cursor::new(record);
    let span = fast_span_in(&mut c, batch)?;
    c.at_end().then_some(span)
}

/// The fast path on the object at the cursor; the cursor ends after it.
/// Tags go straight into `batch`'s arena; the caller drops them again when it gives up.
fn fast_span_in<'a>(c: &mut Cursor<'a>, batch: &mut Batch) -> Option<JsonSpan<'a>> {
    let mut span = JsonSpan::default();
    c.object(|c, key| {
        match key {
            b"traceId" => span.trace_id = c.opt_text()?,
            b"id" => span.id = c.opt_text()?,
            b"parentId" => span.parent_id = c.opt_text()?,
            b"name" => span.name = c.opt_text()?,
            b"kind" => span.kind = c.opt_text()?,
            b"timestamp" => span.timestamp = c.opt_num()?,
            b"duration" => span.duration = c.opt_num()?,
            b"localEndpoint" => span.local = fast_endpoint(c)?,
            b"remoteEndpoint" => span.remote = fast_endpoint(c)?,
            b"tags" => {
                if span.fast_tags.is_some() {
                    // A second "tags" member: serde's rules decide.
                    return None;
                }
                let start = batch.tags.len();
                span.fast_tags = Some(start);
                if !c.null() {
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
                    })?;
                }
            }
            b"shared" => span.shared = Some(c.bool()?),
            b"debug" => span.debug = Some(c.bool()?),
            b"annotations" => {
                let mut list = Vec::new();
                c.array(|c| {
                    let mut a = JsonAnnotation::default();
                    c.object(|c, k| {
                        match k {
                            b"timestamp" => a.timestamp = c.opt_num()?,
                            b"value" => a.value = c.opt_text()?,
                            _ => c.skip()?,
                        }
                        Some(())
                    })?;
                    list.push(a);
                    Some(())
                })?;
                span.annotations = Some(list);
            }
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(span)
}

#[expect(
    clippy::option_option,
    reason = "outer None gives up (fall back to serde); inner None is JSON null"
)]
fn fast_endpoint<'a>(c: &mut Cursor<'a>) -> Option<Option<JsonEndpoint<'a>>> {
    if c.null() {
        return Some(None);
    }
    let mut e = JsonEndpoint::default();
    c.object(|c, k| {
        match k {
            b"serviceName" => e.service_name = c.opt_text()?,
            b"ipv4" => e.ipv4 = c.opt_text()?,
            b"ipv6" => e.ipv6 = c.opt_text()?,
            b"port" => e.port = c.opt_num()?,
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(Some(e))
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
    if let Some(span) = fast_span_in(&mut c, batch) {
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
    let span: JsonSpan<'_> = match fast_span(record, batch) {
        Some(s) => s,
        None => {
            mark.drop_leftovers(batch);
            match serde_json::from_slice(record) {
                Ok(s) => s,
                Err(e) => {
                    report.warn(json_error_kind(&e), || format!("span skipped: {e}"));
                    return;
                }
            }
        }
    };
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
    if let Some(e) = &span.local {
        b.local = e.to_endpoint(batch);
    }
    if let Some(e) = &span.remote {
        b.remote = e.to_endpoint(batch);
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
        assert_eq!(s.trace_id, TraceId::Hex64(1));
        assert_eq!(s.id, SpanId::Hex(2));
        assert_eq!(s.parent_id, None);
        assert!(!s.shared);
        assert_eq!(s.duration_micros, None);
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
    #[test]
    fn fast_path_reads_generated_span() {
        let rec = br#"{"traceId":"29e42f633a3d6466b01fb83c2452c038","id":"9c597af8d7402ecc","parentId":"0a39b5c8faa241a6","name":"call cassandra2","kind":"CLIENT","timestamp":1700000000001001,"duration":8494,"localEndpoint":{"serviceName":"reco","ipv4":"10.0.8.5","port":8080},"remoteEndpoint":{"serviceName":"cassandra2","ipv4":"10.0.91.7","port":8080},"tags":{"http.method":"GET","http.path":"/reco/v1/ledger","http.status_code":"200"}}"#;
        assert!(super::fast_span(rec, &mut crate::model::Batch::default()).is_some());
    }
}
