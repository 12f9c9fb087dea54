//! The 2015 Spigo flow form (`migration_flow.json`): one annotation per line, grouped by `ctx` into spans as Zipkin's `V1SpanConverter` would.
//!
//! Each line is `{"ctx":"t1p1s2","host":<9-field name>,"imposition":…,"intention":…,"ts":<ns>,"value":"cs|sr|ss|cr"}`.
//! The lines of one `ctx` form one Zipkin v1 span (trace `t`, parent `p`, `0` = root, span `s`),
//! which is split by host as Zipkin does: `cs`+`sr` give a CLIENT span and a shared SERVER span
//! with the same id. Ids are the decimal digits read as hex, as Spigo's later Zipkin output is read.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::super::json::{CowStr, Num, Str};
use super::super::report::{Report, WarningKind};
use super::super::split::{report_split, split_records};
use super::super::zipkin::SpanBuilder;
use super::super::zipkin_v2::json_error_kind;
use crate::model::{Annotation, Batch, Endpoint, Kind, SpanId, Sym, TraceId};

/// One line as written.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    ctx: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    host: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    imposition: Option<CowStr<'a>>,
    #[serde(default)]
    ts: Option<Num>,
    #[serde(borrow, default)]
    value: Option<CowStr<'a>>,
}

/// The ids of a `ctx`: trace, parent (absent for a root) and span.
type Ctx = (TraceId, Option<SpanId>, SpanId);

/// A line that parsed.
struct Event<'a> {
    ctx: Ctx,
    host: Option<Str<'a>>,
    imposition: Option<Str<'a>>,
    timestamp_micros: i64,
    value: Str<'a>,
}

/// Parses `t<trace>p<parent>s<span>`, reading each decimal number's digits as hex.
fn parse_ctx(ctx: &str) -> Result<Ctx, String> {
    let parts = ctx
        .strip_prefix('t')
        .and_then(|rest| rest.split_once('p'))
        .and_then(|(t, rest)| rest.split_once('s').map(|(p, s)| (t, p, s)));
    let Some((t, p, s)) = parts else {
        return Err(format!("ctx {ctx:?} is not t<trace>p<parent>s<span>"));
    };
    if [t, p, s]
        .iter()
        .any(|d| d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "ctx {ctx:?} has an id that is not a decimal number"
        ));
    }
    let trace = TraceId::parse_hex(t).map_err(|e| format!("ctx {ctx:?}: trace {e}"))?;
    let span = SpanId::parse_hex(s).map_err(|e| format!("ctx {ctx:?}: span {e}"))?;
    let parent = if p.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(SpanId::parse_hex(p).map_err(|e| format!("ctx {ctx:?}: parent {e}"))?)
    };
    // Zipkin drops a parent equal to the span's own id.
    Ok((trace, parent.filter(|&p| p != span), span))
}

fn parse_line(bytes: &[u8]) -> Result<Event<'_>, (WarningKind, String)> {
    let line: Line<'_> =
        serde_json::from_slice(bytes).map_err(|e| (json_error_kind(&e), e.to_string()))?;
    let Some(ctx) = line.ctx.map(|c| c.0).filter(|c| !c.is_empty()) else {
        return Err((
            WarningKind::MissingTraceId,
            "a line without a ctx".to_owned(),
        ));
    };
    let ctx = parse_ctx(&ctx).map_err(|e| (WarningKind::BadId, e))?;
    let Some(value) = line.value.map(|v| v.0).filter(|v| !v.is_empty()) else {
        return Err((WarningKind::BadRecord, "a line without a value".to_owned()));
    };
    let timestamp_micros = match line.ts {
        Some(Num(Some(ns))) if ns / 1000 > 0 => ns / 1000,
        _ => {
            return Err((
                WarningKind::BadTimestamp,
                "a line without a positive ts (ns)".to_owned(),
            ));
        }
    };
    Ok(Event {
        ctx,
        host: line.host.map(|h| h.0).filter(|h| !h.is_empty()),
        imposition: line.imposition.map(|i| i.0).filter(|i| !i.is_empty()),
        timestamp_micros,
        value,
    })
}

/// Reads the file: lines in parallel, then grouped by ctx (in order of first appearance) and converted.
pub(super) fn read(bytes: &[u8], report: &mut Report) -> Batch {
    let mut batch = Batch::default();
    let Some(split) = split_records(bytes) else {
        report.warn(WarningKind::BadRecord, || {
            "the content is not JSON lines".to_owned()
        });
        return batch;
    };
    report_split(&split, report);
    let parsed = super::parse_records(bytes, &split.ranges, parse_line);
    let mut index: FxHashMap<Ctx, usize> = FxHashMap::default();
    let mut groups: Vec<(Ctx, Vec<V1Annotation<'_>>)> = Vec::new();
    for event in &parsed {
        let event = match event {
            Ok(event) => event,
            Err((kind, detail)) => {
                report.warn(*kind, || detail.clone());
                continue;
            }
        };
        let annotation = V1Annotation {
            timestamp_micros: event.timestamp_micros,
            value: &event.value,
            service: event.host.as_deref().and_then(|h| batch.service_sym(h)),
            imposition: event.imposition.as_deref(),
        };
        let group = *index.entry(event.ctx).or_insert_with(|| {
            groups.push((event.ctx, Vec::new()));
            groups.len() - 1
        });
        if let Some((_, annotations)) = groups.get_mut(group) {
            annotations.push(annotation);
        }
    }
    for (ctx, annotations) in groups {
        convert(ctx, annotations, &mut batch);
    }
    batch
}

/// One annotation of a v1 span.
struct V1Annotation<'a> {
    timestamp_micros: i64,
    value: &'a str,
    /// The host's service name, lower-cased; `None` when the line has no host (no endpoint).
    service: Option<Sym>,
    imposition: Option<&'a str>,
}

/// The v2 spans of one v1 span: the first, then one per further service.
struct Halves {
    spans: Vec<SpanBuilder>,
    ctx: Ctx,
    name: Option<Sym>,
}

impl Halves {
    fn new(ctx: Ctx, name: Option<Sym>) -> Self {
        let mut halves = Self {
            spans: Vec::new(),
            ctx,
            name,
        };
        halves.spans.push(halves.builder(Endpoint::default()));
        halves
    }

    fn builder(&self, local: Endpoint) -> SpanBuilder {
        let (trace_id, parent_id, id) = self.ctx;
        let mut b = SpanBuilder::new(trace_id, id);
        b.parent_id = parent_id;
        b.name = self.name;
        b.local = local;
        b
    }

    /// Zipkin's `forEndpoint`: the span of this service, the first span if it has none yet, or a new one.
    fn for_endpoint(&mut self, service: Option<Sym>) -> usize {
        let Some(service) = service else {
            return 0;
        };
        for (i, b) in self.spans.iter_mut().enumerate() {
            match b.local.service {
                None => {
                    b.local.service = Some(service);
                    return i;
                }
                Some(local) if local == service => return i,
                Some(_) => {}
            }
        }
        self.push(service)
    }

    /// Zipkin's `newSpanBuilder`.
    fn push(&mut self, service: Sym) -> usize {
        let b = self.builder(Endpoint {
            service: Some(service),
            ..Endpoint::default()
        });
        self.spans.push(b);
        self.spans.len() - 1
    }

    /// Changes span `i` (always an index `for_endpoint` or `push` returned).
    fn with(&mut self, i: usize, change: impl FnOnce(&mut SpanBuilder)) {
        if let Some(b) = self.spans.get_mut(i) {
            change(b);
        }
    }

    /// Zipkin's `maybeTimestampDuration` for a v1 span without its own timestamp and duration.
    fn timestamp_duration(&mut self, begin: (i64, Sym), end: Option<(i64, Sym)>) {
        let i = self.for_endpoint(Some(begin.1));
        self.with(i, |b| {
            b.timestamp(begin.0);
            if let Some(end) = end {
                b.duration(Some(end.0 - begin.0));
            }
        });
    }
}

/// Converts one v1 span (the annotations of one ctx) as Zipkin's `V1SpanConverter.processAnnotations`
/// does, for a span with no span-level timestamp, no duration and no binary annotations. The one
/// addition: a CLIENT with a matching `sr` gets the server's service as its remote endpoint, since
/// this form has no `sa` to say so.
fn convert(ctx: Ctx, mut annotations: Vec<V1Annotation<'_>>, batch: &mut Batch) {
    // Zipkin sorts a v1 span's annotations by timestamp, then value.
    annotations.sort_by(|a, b| {
        a.timestamp_micros
            .cmp(&b.timestamp_micros)
            .then_with(|| a.value.cmp(b.value))
    });
    let name = annotations
        .first()
        .and_then(|a| a.imposition)
        .and_then(|n| batch.name_sym_bytes(n.as_bytes()));
    let mut halves = Halves::new(ctx, name);
    let (mut cs, mut sr, mut ss, mut cr) = (None, None, None, None);
    for a in &annotations {
        let i = halves.for_endpoint(a.service);
        let core = a.service.and_then(|service| match a.value {
            "cs" => Some((Kind::Client, &mut cs, service)),
            "cr" => Some((Kind::Client, &mut cr, service)),
            "sr" => Some((Kind::Server, &mut sr, service)),
            "ss" => Some((Kind::Server, &mut ss, service)),
            _ => None,
        });
        match core {
            Some((kind, slot, service)) => {
                halves.with(i, |b| b.kind = Some(kind));
                *slot = Some((a.timestamp_micros, service));
            }
            None => {
                let value = batch.sym(a.value);
                halves.with(i, |b| {
                    b.annotations.push(Annotation {
                        timestamp_micros: a.timestamp_micros,
                        value,
                    });
                });
            }
        }
    }
    match (cs, sr) {
        (Some(cs), Some(sr)) => {
            // The client owns the span's timing; the server side gets its own, shared.
            halves.timestamp_duration(cs, cr);
            let client = halves.for_endpoint(Some(cs.1));
            let server = if cs.1 == sr.1 {
                // Loopback: fork a second span for the server side.
                halves.with(client, |b| b.kind = Some(Kind::Client));
                let server = halves.push(sr.1);
                halves.with(server, |b| b.kind = Some(Kind::Server));
                server
            } else {
                halves.for_endpoint(Some(sr.1))
            };
            halves.with(server, |b| {
                b.shared = Some(true);
                b.timestamp(sr.0);
                if let Some(ss) = ss {
                    b.duration(Some(ss.0 - sr.0));
                }
            });
            halves.with(client, |b| {
                if cr.is_none() {
                    b.duration(None);
                }
                b.remote.service = Some(sr.1);
            });
        }
        (Some(cs), None) if cr.is_some() => halves.timestamp_duration(cs, cr),
        (None, Some(sr)) if ss.is_some() => halves.timestamp_duration(sr, ss),
        _ => {
            // Incomplete RPC: starts become timestamps, ends plain annotations.
            let cr_value = cr.map(|_| batch.sym("cr"));
            let ss_value = ss.map(|_| batch.sym("ss"));
            for b in &mut halves.spans {
                let (start, end, end_value) = match b.kind {
                    Some(Kind::Client) => (cs, cr, cr_value),
                    Some(Kind::Server) => (sr, ss, ss_value),
                    _ => continue,
                };
                if let Some(start) = start {
                    b.timestamp(start.0);
                }
                if let (Some(end), Some(value)) = (end, end_value) {
                    b.annotations.push(Annotation {
                        timestamp_micros: end.0,
                        value,
                    });
                }
            }
        }
    }
    // A server side seen without its client was, by v1 convention, not the span's owner.
    if cs.is_none()
        && let Some(sr) = sr
    {
        let i = halves.for_endpoint(Some(sr.1));
        halves.with(i, |b| b.shared = Some(true));
    }
    for b in halves.spans {
        b.build_into(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    const WWW: &str = "migration.*.*.www0....www.denominator";
    const ELB: &str = "migration.us-east-1.*.www-elb0....www-elb.elb";
    const PROXY: &str = "migration.us-east-1.zoneA.wwwProxy6....wwwProxy.zuul";

    fn line(ctx: &str, host: &str, imposition: &str, ts_nanos: i64, value: &str) -> String {
        format!(
            r#"{{"ctx":"{ctx}","host":"{host}","imposition":"{imposition}","intention":"why?","ts":{ts_nanos},"value":"{value}"}}"#
        )
    }

    fn read_lines(lines: &[String]) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read(lines.join("\n").as_bytes(), &mut report);
        (batch, report)
    }

    fn service(b: &Batch, e: Endpoint) -> Option<&str> {
        e.service.map(|s| b.interner.resolve(s))
    }

    fn kinds(b: &Batch) -> Vec<(Option<Kind>, bool, Option<&str>)> {
        b.spans
            .iter()
            .map(|s| (s.kind, s.shared, service(b, s.local)))
            .collect()
    }

    /// A complete hop: CLIENT (cs→cr, remote = the server) and a shared SERVER (sr→ss), ns → µs.
    #[test]
    fn a_complete_hop_is_a_client_and_a_shared_server() {
        let (b, r) = read_lines(&[
            line("t1p0s1", WWW, "GetRequest", 1_000_000, "cs"),
            line("t1p0s1", ELB, "GetRequest", 1_200_999, "sr"),
            line("t1p0s1", ELB, "GetResponse", 1_700_000, "ss"),
            line("t1p0s1", WWW, "GetResponse", 2_000_000, "cr"),
        ]);
        assert_eq!(r.total(), 0);
        let [client, server]: [Span; 2] = b.spans.clone().try_into().unwrap();
        assert_eq!(client.trace_id(), TraceId::Hex64(1));
        assert_eq!((client.id(), client.parent_id()), (SpanId::Hex(1), None));
        assert_eq!(b.interner.resolve(client.name.unwrap()), "getrequest");
        assert_eq!((client.kind, client.shared), (Some(Kind::Client), false));
        assert_eq!(service(&b, client.local), Some(WWW));
        assert_eq!(service(&b, client.remote), Some(ELB));
        assert_eq!(
            (client.timestamp_micros(), client.duration_micros()),
            (Some(1000), Some(1000))
        );
        assert_eq!((server.kind, server.shared), (Some(Kind::Server), true));
        assert_eq!(service(&b, server.local), Some(ELB));
        assert_eq!(
            (server.timestamp_micros(), server.duration_micros()),
            (Some(1200), Some(500))
        );
        assert!(b.annotations.is_empty());
    }

    /// Put has no response (no durations); a lone cs is a CLIENT, a lone sr a shared SERVER.
    #[test]
    fn one_way_and_incomplete_spans() {
        let (b, _) = read_lines(&[
            line("t5p4s6", WWW, "Put", 1_000_000, "cs"),
            line("t5p4s6", ELB, "Put", 2_000_000, "sr"),
            line("t5p6s7", ELB, "Put", 3_000_000, "cs"),
            line("t5p0s9", ELB, "Goodbye", 4_000_000, "sr"),
        ]);
        assert_eq!(
            kinds(&b),
            vec![
                (Some(Kind::Client), false, Some(WWW)),
                (Some(Kind::Server), true, Some(ELB)),
                (Some(Kind::Client), false, Some(ELB)),
                (Some(Kind::Server), true, Some(ELB)),
            ]
        );
        assert!(b.spans.iter().all(|s| s.duration_micros().is_none()));
        assert_eq!(b.spans[2].timestamp_micros(), Some(3000));
        assert_eq!(b.spans[2].parent_id(), Some(SpanId::Hex(6)));
        assert_eq!(b.spans[3].timestamp_micros(), Some(4000));
    }

    /// A call within one instance is loopback: two spans anyway. Spigo names keep their case.
    #[test]
    fn loopback_forks_a_server_span() {
        let (b, _) = read_lines(&[
            line("t1p1s2", PROXY, "GetRequest", 1_000_000, "cs"),
            line("t1p1s2", PROXY, "GetRequest", 2_000_000, "sr"),
        ]);
        assert_eq!(
            kinds(&b),
            vec![
                (Some(Kind::Client), false, Some(PROXY)),
                (Some(Kind::Server), true, Some(PROXY))
            ]
        );
    }

    /// A request forwarded with the same ctx (cs A, sr B, cs B, sr C) splits by host exactly as
    /// Zipkin's converter does: the last cs and sr win, so A keeps only its kind.
    #[test]
    fn forwarded_ctx_splits_by_host_like_zipkin() {
        let (b, _) = read_lines(&[
            line("t1p1s2", WWW, "Replicate", 1_000_000, "cs"),
            line("t1p1s2", ELB, "Replicate", 2_000_000, "sr"),
            line("t1p1s2", ELB, "Replicate", 3_000_000, "cs"),
            line("t1p1s2", PROXY, "Replicate", 4_000_000, "sr"),
        ]);
        let proxy = PROXY;
        assert_eq!(
            kinds(&b),
            vec![
                (Some(Kind::Client), false, Some(WWW)),
                (Some(Kind::Client), false, Some(ELB)),
                (Some(Kind::Server), true, Some(proxy)),
            ]
        );
        let ts: Vec<_> = b
            .spans
            .iter()
            .map(crate::model::Span::timestamp_micros)
            .collect();
        assert_eq!(ts, vec![None, Some(3000), Some(4000)]);
    }

    /// Ids: the decimal digits are read as hex; parent 0 is a root; a parent equal to the id is dropped.
    #[test]
    fn ctx_ids_read_as_hex() {
        assert_eq!(
            parse_ctx("t368p0s368"),
            Ok((TraceId::Hex64(0x368), None, SpanId::Hex(0x368)))
        );
        assert_eq!(
            parse_ctx("t98p895s896"),
            Ok((
                TraceId::Hex64(0x98),
                Some(SpanId::Hex(0x895)),
                SpanId::Hex(0x896)
            ))
        );
        assert_eq!(
            parse_ctx("t1p5s5"),
            Ok((TraceId::Hex64(1), None, SpanId::Hex(5)))
        );
        for bad in [
            "x1p0s1",
            "t1s1",
            "t-1p0s1",
            "t0p0s1",
            "t1p0s",
            "t1p0s11111111111111111",
        ] {
            assert!(parse_ctx(bad).is_err(), "{bad}");
        }
    }

    /// Other annotation values are kept as annotations; bad lines are counted and skipped.
    #[test]
    fn other_values_and_bad_lines() {
        let (b, r) = read_lines(&[
            line("t1p0s1", WWW, "GetRequest", 1_000_000, "cs"),
            line("t1p0s1", WWW, "GetRequest", 1_500_000, "retry"),
            line("t1p0s1", WWW, "GetResponse", 2_000_000, "cr"),
            line("t1p0sX", WWW, "GetRequest", 1_000_000, "cs"),
            line("t1p0s3", WWW, "GetRequest", -5, "cs"),
            r#"{"host":"a","ts":1000,"value":"cs"}"#.to_owned(),
            r#"{"ctx":"t1p0s4","ts":1000}"#.to_owned(),
            r#"{"ctx":"t1p0s4","ts":1000,"value":"cs""#.to_owned(),
        ]);
        assert_eq!(b.spans.len(), 1);
        let span = b.spans[0];
        assert_eq!(span.duration_micros(), Some(1000));
        let values: Vec<_> = b
            .annotations_of(span.annotations)
            .iter()
            .map(|a| (a.timestamp_micros, b.interner.resolve(a.value)))
            .collect();
        assert_eq!(values, vec![(1500, "retry")]);
        assert_eq!(r.count(WarningKind::BadId), 1);
        assert_eq!(r.count(WarningKind::BadTimestamp), 1);
        assert_eq!(r.count(WarningKind::MissingTraceId), 1);
        assert_eq!(r.count(WarningKind::BadRecord), 1);
        assert_eq!(r.count(WarningKind::TruncatedJson), 1, "{:?}", r.examples);
    }
}
