//! Reads Zipkin v1 JSON and converts each span to v2 spans with Zipkin's `V1SpanConverter` rules.
//!
//! One v1 span becomes one v2 span per local service; a span holding both `cs` and `sr` becomes a
//! CLIENT span plus a shared SERVER span (FORMATS.md §1.2). Spigo flow files are this format.

use serde::Deserialize;

use super::json::{CowStr, Num, Scalar, ScalarType};
use super::report::{Report, WarningKind};
use super::split;
use super::zipkin::{JsonEndpoint, SpanBuilder};
use super::zipkin_v2::{json_error_kind, parse_parent};
use crate::model::{Annotation, Batch, Endpoint, Kind, SpanId, Sym, TraceId};

#[derive(Deserialize, Debug)]
struct JsonV1Span<'a> {
    #[serde(rename = "traceId", borrow, default)]
    trace_id: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    id: Option<CowStr<'a>>,
    #[serde(rename = "parentId", borrow, default)]
    parent_id: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    name: Option<CowStr<'a>>,
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(default)]
    duration: Option<Num>,
    #[serde(borrow, default)]
    annotations: Option<Vec<JsonV1Annotation<'a>>>,
    #[serde(rename = "binaryAnnotations", borrow, default)]
    binary_annotations: Option<Vec<JsonV1Binary<'a>>>,
    #[serde(default)]
    debug: Option<bool>,
}

#[derive(Deserialize, Debug)]
struct JsonV1Annotation<'a> {
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(borrow, default)]
    value: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    endpoint: Option<JsonEndpoint<'a>>,
}

#[derive(Deserialize, Debug)]
struct JsonV1Binary<'a> {
    #[serde(borrow, default)]
    key: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    value: Scalar<'a>,
    #[serde(borrow, default)]
    endpoint: Option<JsonEndpoint<'a>>,
}

/// A core or ordinary v1 annotation, after reading.
#[derive(Clone, Debug)]
struct V1Annotation {
    timestamp: i64,
    value: String,
    /// `None` when absent or empty (Zipkin's `EMPTY_ENDPOINT` rule).
    endpoint: Option<Endpoint>,
}

#[derive(Clone, Debug)]
struct V1Binary {
    key: String,
    /// `None` for an address annotation (`ca`, `sa`, `ma` with value `true`).
    string_value: Option<String>,
    endpoint: Option<Endpoint>,
}

/// A v1 span after reading, before conversion.
struct V1Span {
    trace_id: TraceId,
    id: SpanId,
    parent_id: Option<SpanId>,
    name: Option<Sym>,
    timestamp: i64,
    duration: i64,
    annotations: Vec<V1Annotation>,
    binary: Vec<V1Binary>,
    debug: bool,
}

/// Reads Zipkin v1 JSON in any layout; records are parsed in parallel.
pub fn read(bytes: &[u8], report: &mut Report) -> Batch {
    split::read_records(bytes, report, parse_record)
}

fn nonempty(e: Endpoint) -> Option<Endpoint> {
    (!e.is_empty()).then_some(e)
}

/// Parses the v1 span object that starts at `pos`, returning where it ends; `None` (nothing added)
/// when the buffer ends inside it.
pub fn parse_record_at(
    buf: &[u8],
    pos: usize,
    batch: &mut Batch,
    report: &mut Report,
) -> Option<usize> {
    let end = split::value_end(buf, pos)?;
    parse_record(buf.get(pos..end)?, batch, report);
    Some(end)
}

/// Parses one v1 span object and converts it into v2 spans in the batch.
pub fn parse_record(record: &[u8], batch: &mut Batch, report: &mut Report) {
    let span: JsonV1Span<'_> = match serde_json::from_slice(record) {
        Ok(s) => s,
        Err(e) => {
            report.warn(json_error_kind(&e), || format!("span skipped: {e}"));
            return;
        }
    };
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
    let trace_id = match TraceId::parse_hex(&trace_text.0) {
        Ok(t) => t,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("traceId {:?}: {e}; span skipped", trace_text.0)
            });
            return;
        }
    };
    let id = match SpanId::parse_hex(&id_text.0) {
        Ok(t) => t,
        Err(e) => {
            report.warn(WarningKind::BadId, || {
                format!("id {:?}: {e}; span skipped", id_text.0)
            });
            return;
        }
    };
    let Ok(parent_id) = parse_parent(span.parent_id.as_ref().map(|p| p.0.as_bytes()), report)
    else {
        return;
    };
    let mut annotations = Vec::new();
    for a in span.annotations.iter().flatten() {
        match (a.timestamp.and_then(|t| t.0), &a.value) {
            (Some(timestamp), Some(value)) => annotations.push(V1Annotation {
                timestamp,
                value: value.0.to_string(),
                endpoint: a
                    .endpoint
                    .as_ref()
                    .and_then(|e| nonempty(e.to_endpoint(batch))),
            }),
            _ => report.warn(WarningKind::BadRecord, || {
                "incomplete annotation skipped".to_owned()
            }),
        }
    }
    // V1Span sorts annotations by timestamp, then value.
    annotations.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.value.cmp(&b.value))
    });
    let mut binary = Vec::new();
    for b in span.binary_annotations.iter().flatten() {
        let Some(key) = &b.key else {
            report.warn(WarningKind::BadRecord, || {
                "binary annotation without key skipped".to_owned()
            });
            continue;
        };
        let endpoint = b
            .endpoint
            .as_ref()
            .and_then(|e| nonempty(e.to_endpoint(batch)));
        let is_address = matches!(key.0.as_ref(), "ca" | "sa" | "ma");
        let value = b.value.0.as_deref();
        let address = is_address
            && match b.value.1 {
                ScalarType::Bool => value == Some("true"),
                // Old zipkin-ruby wrote address annotations with the string "1".
                ScalarType::String => value == Some("1"),
                _ => false,
            };
        if address {
            if let Some(endpoint) = endpoint {
                binary.push(V1Binary {
                    key: key.0.to_string(),
                    string_value: None,
                    endpoint: Some(endpoint),
                });
            }
        } else if let (Some(v), ScalarType::String) = (value, b.value.1) {
            binary.push(V1Binary {
                key: key.0.to_string(),
                string_value: Some(v.to_owned()),
                endpoint,
            });
        }
        // Zipkin drops values that are neither strings nor booleans, and non-address booleans.
    }
    binary.sort_by(|a, b| a.key.cmp(&b.key));
    let v1 = V1Span {
        trace_id,
        id,
        parent_id,
        name: span
            .name
            .as_ref()
            .and_then(|n| batch.name_sym_bytes(n.0.as_bytes())),
        timestamp: span.timestamp.and_then(|n| n.0).unwrap_or(0).max(0),
        duration: span.duration.and_then(|n| n.0).unwrap_or(0).max(0),
        annotations,
        binary,
        debug: span.debug.unwrap_or(false),
    };
    Converter::new(&v1).convert(&v1, batch);
}

/// Zipkin's `V1SpanConverter`, over one source span.
struct Converter {
    /// `first` is index 0; later builders follow.
    spans: Vec<SpanBuilder>,
    cs: Option<V1Annotation>,
    sr: Option<V1Annotation>,
    ss: Option<V1Annotation>,
    cr: Option<V1Annotation>,
    ms: Option<V1Annotation>,
    mr: Option<V1Annotation>,
    ws: Option<V1Annotation>,
    wr: Option<V1Annotation>,
}

fn same_service(a: &Endpoint, b: &Endpoint) -> bool {
    a.service == b.service
}

impl Converter {
    fn new(source: &V1Span) -> Self {
        Self {
            spans: vec![Self::builder(source)],
            cs: None,
            sr: None,
            ss: None,
            cr: None,
            ms: None,
            mr: None,
            ws: None,
            wr: None,
        }
    }

    fn builder(source: &V1Span) -> SpanBuilder {
        let mut b = SpanBuilder::new(source.trace_id, source.id);
        b.parent_id = source.parent_id;
        b.name = source.name;
        b.debug = source.debug;
        b
    }

    fn span(&mut self, i: usize) -> &mut SpanBuilder {
        // Indices come from `for_endpoint`, which only returns existing positions.
        let last = self.spans.len().saturating_sub(1);
        let i = i.min(last);
        &mut self.spans[i]
    }

    /// `forEndpoint`: the builder for this local endpoint, creating one if needed.
    fn for_endpoint(&mut self, source: &V1Span, e: Option<Endpoint>) -> usize {
        let Some(e) = e else { return 0 };
        for (i, b) in self.spans.iter_mut().enumerate() {
            if b.local.is_empty() {
                b.local = e;
                return i;
            }
            if same_service(&b.local, &e) {
                return i;
            }
        }
        self.new_span(source, e)
    }

    fn new_span(&mut self, source: &V1Span, e: Endpoint) -> usize {
        let mut b = Self::builder(source);
        b.local = e;
        self.spans.push(b);
        self.spans.len() - 1
    }

    fn convert(mut self, source: &V1Span, batch: &mut Batch) {
        self.process_annotations(source, batch);
        self.process_binary(source, batch);
        for b in self.spans {
            b.build_into(batch);
        }
    }

    fn add_annotation(&mut self, i: usize, a: &V1Annotation, batch: &mut Batch) {
        let value = batch.sym(&a.value);
        self.span(i).annotations.push(Annotation {
            timestamp_micros: a.timestamp,
            value,
        });
    }

    fn ends_at_duration(end: Option<&V1Annotation>, source: &V1Span) -> bool {
        end.is_some_and(|end| {
            source.timestamp != 0
                && source.duration != 0
                && source.timestamp + source.duration == end.timestamp
        })
    }

    fn maybe_timestamp_duration(
        &mut self,
        source: &V1Span,
        begin: &V1Annotation,
        end: Option<&V1Annotation>,
    ) {
        let i = self.for_endpoint(source, begin.endpoint);
        let span = self.span(i);
        if source.timestamp != 0 && source.duration != 0 {
            span.timestamp(source.timestamp)
                .duration(Some(source.duration));
        } else {
            span.timestamp(begin.timestamp);
            if let Some(end) = end {
                span.duration(Some(end.timestamp - begin.timestamp));
            }
        }
    }

    fn process_annotations(&mut self, source: &V1Span, batch: &mut Batch) {
        for a in &source.annotations {
            let i = self.for_endpoint(source, a.endpoint);
            if a.value.len() == 2 && a.endpoint.is_some() {
                let kind = match a.value.as_str() {
                    "cs" => {
                        self.cs = Some(a.clone());
                        Some(Kind::Client)
                    }
                    "sr" => {
                        self.sr = Some(a.clone());
                        Some(Kind::Server)
                    }
                    "ss" => {
                        self.ss = Some(a.clone());
                        Some(Kind::Server)
                    }
                    "cr" => {
                        self.cr = Some(a.clone());
                        Some(Kind::Client)
                    }
                    "ms" => {
                        self.ms = Some(a.clone());
                        Some(Kind::Producer)
                    }
                    "mr" => {
                        self.mr = Some(a.clone());
                        Some(Kind::Consumer)
                    }
                    "ws" => {
                        self.ws = Some(a.clone());
                        None
                    }
                    "wr" => {
                        self.wr = Some(a.clone());
                        None
                    }
                    _ => {
                        self.add_annotation(i, a, batch);
                        None
                    }
                };
                if let Some(kind) = kind {
                    self.span(i).kind = Some(kind);
                }
            } else {
                self.add_annotation(i, a, batch);
            }
        }

        // When bridging between event and span model, a start annotation can be missing.
        if self.cs.is_none() && Self::ends_at_duration(self.cr.as_ref(), source) {
            self.cs = self.cr.as_ref().map(|cr| V1Annotation {
                timestamp: source.timestamp,
                value: "cs".to_owned(),
                endpoint: cr.endpoint,
            });
        }
        if self.sr.is_none() && Self::ends_at_duration(self.ss.as_ref(), source) {
            self.sr = self.ss.as_ref().map(|ss| V1Annotation {
                timestamp: source.timestamp,
                value: "sr".to_owned(),
                endpoint: ss.endpoint,
            });
        }

        let (cs, sr, ss, cr) = (
            self.cs.clone(),
            self.sr.clone(),
            self.ss.clone(),
            self.cr.clone(),
        );
        match (&cs, &sr) {
            (Some(cs), Some(sr)) => {
                // In a shared span, the client side owns the duration.
                self.maybe_timestamp_duration(source, cs, cr.as_ref());
                let client = self.for_endpoint(source, cs.endpoint);
                let server = match (cs.endpoint, sr.endpoint) {
                    (Some(ce), Some(se)) if same_service(&ce, &se) => {
                        self.span(client).kind = Some(Kind::Client);
                        let s = self.new_span(source, se);
                        self.span(s).kind = Some(Kind::Server);
                        s
                    }
                    _ => self.for_endpoint(source, sr.endpoint),
                };
                let span = self.span(server);
                span.shared = Some(true);
                span.timestamp(sr.timestamp);
                if let Some(ss) = &ss {
                    span.duration(Some(ss.timestamp - sr.timestamp));
                }
                if cr.is_none() && source.duration == 0 {
                    self.span(client).duration(None);
                }
            }
            _ => {
                if let (Some(cs), Some(cr)) = (&cs, &cr) {
                    self.maybe_timestamp_duration(source, cs, Some(cr));
                } else if let (Some(sr), Some(ss)) = (&sr, &ss) {
                    self.maybe_timestamp_duration(source, sr, Some(ss));
                } else {
                    self.handle_incomplete_rpc(source, batch);
                }
            }
        }

        // v1 had no shared flag: an absent timestamp meant "not the owner of the span".
        if let (None, Some(sr)) = (&cs, &sr)
            && (source.timestamp == 0 || (ss.is_some() && source.duration == 0))
        {
            let i = self.for_endpoint(source, sr.endpoint);
            self.span(i).shared = Some(true);
        }

        let (ms, mr, ws, wr) = (
            self.ms.clone(),
            self.mr.clone(),
            self.ws.clone(),
            self.wr.clone(),
        );
        match (&ms, &mr) {
            (Some(ms), Some(mr)) => {
                let producer = self.for_endpoint(source, ms.endpoint);
                let consumer = match (ms.endpoint, mr.endpoint) {
                    (Some(pe), Some(ce)) if same_service(&pe, &ce) => {
                        self.span(producer).kind = Some(Kind::Producer);
                        let c = self.new_span(source, ce);
                        self.span(c).kind = Some(Kind::Consumer);
                        c
                    }
                    _ => self.for_endpoint(source, mr.endpoint),
                };
                let span = self.span(consumer);
                span.shared = Some(true);
                match &wr {
                    Some(wr) => {
                        span.timestamp(wr.timestamp)
                            .duration(Some(mr.timestamp - wr.timestamp));
                    }
                    None => {
                        span.timestamp(mr.timestamp);
                    }
                }
                let span = self.span(producer);
                span.timestamp(ms.timestamp)
                    .duration(ws.as_ref().map(|ws| ws.timestamp - ms.timestamp));
            }
            (Some(ms), None) => self.maybe_timestamp_duration(source, ms, ws.as_ref()),
            (None, Some(mr)) => match &wr {
                Some(wr) => self.maybe_timestamp_duration(source, wr, Some(mr)),
                None => self.maybe_timestamp_duration(source, mr, None),
            },
            (None, None) => {
                for a in [&ws, &wr].into_iter().flatten() {
                    let i = self.for_endpoint(source, a.endpoint);
                    self.add_annotation(i, a, batch);
                }
            }
        }
    }

    fn handle_incomplete_rpc(&mut self, source: &V1Span, batch: &mut Batch) {
        for i in 0..self.spans.len() {
            match self.span(i).kind {
                Some(Kind::Client) => {
                    if let Some(cs) = &self.cs {
                        let t = cs.timestamp;
                        self.span(i).timestamp(t);
                    }
                    if let Some(cr) = self.cr.clone() {
                        self.add_annotation(i, &cr, batch);
                    }
                }
                Some(Kind::Server) => {
                    if let Some(sr) = &self.sr {
                        let t = sr.timestamp;
                        self.span(i).timestamp(t);
                    }
                    if let Some(ss) = self.ss.clone() {
                        self.add_annotation(i, &ss, batch);
                    }
                }
                _ => {}
            }
        }
        if source.timestamp != 0 {
            self.span(0)
                .timestamp(source.timestamp)
                .duration(Some(source.duration));
        }
    }

    fn process_binary(&mut self, source: &V1Span, batch: &mut Batch) {
        let (mut ca, mut sa, mut ma) = (None, None, None);
        for b in &source.binary {
            let Some(value) = &b.string_value else {
                match b.key.as_str() {
                    "ca" => ca = b.endpoint,
                    "sa" => sa = b.endpoint,
                    "ma" => ma = b.endpoint,
                    _ => {}
                }
                continue;
            };
            let i = self.for_endpoint(source, b.endpoint);
            // "lc" with an empty value marks a local component, not a tag.
            if b.key == "lc" && value.is_empty() {
                continue;
            }
            let key = batch.sym(&b.key);
            let value = batch.sym(value);
            self.span(i).put_tag(key, value);
        }

        let no_core =
            self.cs.is_none() && self.cr.is_none() && self.ss.is_none() && self.sr.is_none();
        if no_core && (ca.is_some() || sa.is_some()) {
            match (ca, sa) {
                (Some(ca), Some(sa)) => {
                    let i = self.for_endpoint(source, Some(ca));
                    self.span(i).remote = sa;
                }
                (None, Some(sa)) => {
                    self.span(0).remote = sa;
                }
                (Some(ca), None) => {
                    let span = self.span(0);
                    span.kind = Some(Kind::Server);
                    span.remote = ca;
                }
                (None, None) => {}
            }
            return;
        }

        let server = self
            .sr
            .as_ref()
            .or(self.ss.as_ref())
            .and_then(|a| a.endpoint);
        if let (Some(mut ca), Some(server_endpoint)) = (ca, server)
            && ca != server_endpoint
        {
            // Finagle adds "ca" with the server's own service name; drop it to avoid loopback links.
            if same_service(&ca, &server_endpoint) {
                ca.service = None;
            }
            let i = self.for_endpoint(source, Some(server_endpoint));
            self.span(i).remote = ca;
        }
        if let Some(sa) = sa {
            let client = self.cs.as_ref().or(self.cr.as_ref()).map(|a| a.endpoint);
            if let Some(endpoint) = client {
                let i = self.for_endpoint(source, endpoint);
                self.span(i).remote = sa;
            }
        }
        if let Some(ma) = ma {
            for endpoint in [
                self.ms.as_ref().map(|a| a.endpoint),
                self.mr.as_ref().map(|a| a.endpoint),
            ]
            .into_iter()
            .flatten()
            {
                let i = self.for_endpoint(source, endpoint);
                self.span(i).remote = ma;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(batch: &Batch, e: Endpoint) -> Option<&str> {
        e.service.map(|s| batch.interner.resolve(s))
    }

    #[test]
    fn client_and_server_in_one_span_are_split() {
        // FORMATS.md §1.2 step 3: cs+sr in one v1 span → CLIENT + shared SERVER with the same id.
        let json = br#"{"traceId":"1","id":"2","name":"get","timestamp":100,"duration":50,"annotations":[
          {"timestamp":100,"value":"cs","endpoint":{"serviceName":"web","ipv4":"1.1.1.1"}},
          {"timestamp":110,"value":"sr","endpoint":{"serviceName":"db","ipv4":"2.2.2.2"}},
          {"timestamp":140,"value":"ss","endpoint":{"serviceName":"db","ipv4":"2.2.2.2"}},
          {"timestamp":150,"value":"cr","endpoint":{"serviceName":"web","ipv4":"1.1.1.1"}}],
          "binaryAnnotations":[{"key":"sa","value":true,"endpoint":{"serviceName":"db"}},{"key":"n","value":5}]}"#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(report.total(), 0);
        assert_eq!(batch.spans.len(), 2);
        let (c, s) = (batch.spans[0], batch.spans[1]);
        assert_eq!(
            (c.kind, c.shared, c.timestamp_micros(), c.duration_micros()),
            (Some(Kind::Client), false, Some(100), Some(50))
        );
        assert_eq!(
            (s.kind, s.shared, s.timestamp_micros(), s.duration_micros()),
            (Some(Kind::Server), true, Some(110), Some(30))
        );
        assert_eq!(services(&batch, c.local), Some("web"));
        assert_eq!(services(&batch, c.remote), Some("db"));
        assert_eq!(services(&batch, s.local), Some("db"));
        assert_eq!(
            batch.tags_of(c.tags).len(),
            0,
            "numeric binary annotations are dropped"
        );
    }

    #[test]
    fn server_only_without_timestamp_is_shared() {
        let json = br#"[{"traceId":"1","id":"2","annotations":[
          {"timestamp":10,"value":"sr","endpoint":{"serviceName":"baz"}},
          {"timestamp":20,"value":"ss","endpoint":{"serviceName":"baz"}}]}]"#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        let s = batch.spans[0];
        assert_eq!(
            (s.kind, s.shared, s.timestamp_micros(), s.duration_micros()),
            (Some(Kind::Server), true, Some(10), Some(10))
        );
    }
}
