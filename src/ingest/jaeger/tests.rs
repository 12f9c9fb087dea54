//! Tests of both Jaeger readers and their shared helpers.

use std::borrow::Cow;

use crate::ingest::json::{Scalar, ScalarType};
use crate::ingest::report::{Report, WarningKind};
use crate::model::{Batch, Kind, Span, SpanId, Sym, TraceId};

use super::common::{SPANS_PER_CHUNK, ipv4_text, member};
use super::proto::proto_duration_micros;
use super::{read_proto, read_ui};

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
        .find(|s| s.id().display(&batch.interner) == id)
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
        assert_eq!(s.trace_id(), TraceId::Hex64(0xabc), "{json}");
        assert_eq!(s.id(), SpanId::Hex(1));
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
    let parent = |id| span_by(&batch, id).parent_id();
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
    let ids: Vec<SpanId> = batch.spans.iter().map(Span::id).collect();
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
    assert_eq!(batch.spans[0].trace_id().display(i), "trace-1");
    assert!(matches!(batch.spans[0].id(), SpanId::Opaque(_)));
    assert_eq!(batch.spans[1].id().display(i), "0000000000000abc");
    assert_eq!(batch.spans[1].parent_id(), Some(batch.spans[0].id()));
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
        assert_eq!(s.id(), SpanId::Hex(i));
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
    assert_eq!(root.trace_id(), TraceId::Hex64(0x7be2_fd98_d097_3be3));
    assert_eq!(root.id(), SpanId::Hex(0x7be2_fd98_d097_3be3));
    assert_eq!(root.kind, Some(Kind::Server));
    assert!(root.debug);
    assert_eq!(root.timestamp_micros(), Some(1_576_827_704_953_864));
    assert_eq!(root.duration_micros(), Some(243_417));
    assert_eq!(batch.tag(root.tags, "error"), None);
    assert_eq!(text(&batch, root.local.service), Some("driver"));
    assert_eq!(text(&batch, root.local.ipv4), Some("10.0.0.13"));
    let child = batch.spans[1];
    assert_eq!(child.parent_id(), Some(root.id()));
    assert_eq!(text(&batch, child.name), Some("child"));
    assert_eq!(child.duration_micros(), Some(500_000));
    assert_eq!(child.timestamp_micros(), Some(1_576_827_705_000_000));
    assert_eq!(text(&batch, child.local.service), Some("redis"));
    assert_eq!(child.resource.len, 0);
    assert_eq!(batch.tag(child.tags, "error"), Some("true"));
    assert_eq!(batch.tag(child.tags, "n"), Some("12"));
    let third = batch.spans[2];
    assert_eq!(third.parent_id(), Some(child.id()));
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
    for (text, micros) in [
        ("22938000ns", 22_938),
        ("115ms", 115_000),
        ("7us", 7),
        ("7µs", 7),
    ] {
        assert_eq!(
            proto_duration_micros(&s(text, ScalarType::String)),
            Ok(Some(micros)),
            "{text}"
        );
    }
    assert_eq!(
        proto_duration_micros(&s("22.938ms", ScalarType::String)),
        Ok(Some(22_938))
    );
    assert_eq!(proto_duration_micros(&s("ms", ScalarType::String)), Err(()));
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
