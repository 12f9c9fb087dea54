//! Zipkin v1/v2 reading: formats, layouts, counts and warnings on the real files.

use flowscope::ingest::{Format, WarningKind};
use flowscope::model::{Kind, SpanId, TraceId};

use crate::common::{fixture, read, store_of};

#[test]
fn formats_are_sniffed_from_content_not_names() {
    let cases = [
        (
            "zipkin/smartthings-mobile-web-install.json",
            Format::ZipkinV2,
        ),
        ("zipkin/zipkin2-chinese.json", Format::ZipkinV2),
        ("zipkin/v2-with-v1-annotations.json", Format::ZipkinV2),
        // Named v2, really v1.
        ("zipkin/v1-notimestamp.json", Format::ZipkinV1),
        ("zipkin/v1-multiple-batches.json", Format::ZipkinV1),
        ("zipkin/v1-span-rpc.json", Format::ZipkinV1),
    ];
    for (file, format) in cases {
        assert_eq!(read(&fixture(file)).0, format, "{file}");
    }
}

#[test]
fn span_counts_match_the_files() {
    // (file, spans after decoding, traces, warnings)
    let cases = [
        ("smartthings-mobile-web-install.json", 1041, 1, 0),
        ("smartthings-oauth-authorization.json", 175, 1, 0),
        ("yelp.json", 16, 1, 0),
        ("ascend.json", 8, 1, 0),
        ("envoy.json", 1, 1, 0),
        ("messaging-kafka.json", 28, 1, 0),
        ("kong-malformed.json", 7, 1, 0),
        ("otelcol-sample1.json", 9, 1, 0),
        ("zipkin2-chinese.json", 1, 1, 0),
        ("v1-multiple-batches.json", 5, 1, 0),
        ("v1-single-batch.json", 5, 1, 0),
        // One v1 span holding both sides becomes a CLIENT and a shared SERVER.
        ("v1-span-rpc.json", 2, 1, 0),
        // The span whose parentId is "BADID" is dropped with a warning; the rest loads.
        ("v1-error-batch.json", 1, 1, 1),
    ];
    for (file, spans, traces, warnings) in cases {
        let path = fixture(&format!("zipkin/{file}"));
        let (_, batch, report) = read(&path);
        assert_eq!(batch.spans.len(), spans, "{file} spans");
        assert_eq!(
            report.total(),
            warnings,
            "{file} warnings: {:?}",
            report.examples
        );
        assert_eq!(store_of(&[path]).traces().len(), traces, "{file} traces");
    }
}

#[test]
fn bad_parent_id_is_one_counted_warning() {
    let (_, _, report) = read(&fixture("zipkin/v1-error-batch.json"));
    assert_eq!(report.count(WarningKind::BadId), 1);
    assert!(
        report.examples[0].contains("BADID"),
        "{:?}",
        report.examples
    );
}

#[test]
fn ids_are_normalised_as_zipkin_does() {
    // "1"/"2" are left-padded; shared=true on a CLIENT is cleared.
    let (_, batch, _) = read(&fixture("zipkin/v2-short-ids.json"));
    let s = batch.spans[0];
    assert_eq!(s.id(), SpanId::Hex(2));
    assert_eq!(s.parent_id(), Some(SpanId::Hex(1)));
    assert_eq!(s.id().display(&batch.interner), "0000000000000002");
    assert_eq!(s.kind, Some(Kind::Client));
    assert!(!s.shared);
    // A 15-char parent id is padded.
    let (_, batch, _) = read(&fixture("zipkin/v2-producer-kafka.json"));
    let parent = batch.spans[0].parent_id().unwrap();
    assert_eq!(parent.display(&batch.interner), "0c26551047c72d19");
    // 128-bit ids stay 128-bit.
    assert_eq!(
        s.trace_id().display(&batch.interner),
        "bd7a974555f6b982bd71977555f6b981"
    );
    assert!(matches!(s.trace_id(), TraceId::Hex128 { .. }));
}

#[test]
fn v1_client_and_server_split() {
    let (_, batch, _) = read(&fixture("zipkin/v1-span-rpc.json"));
    let kinds: Vec<_> = batch.spans.iter().map(|s| (s.kind, s.shared)).collect();
    assert_eq!(
        kinds,
        vec![(Some(Kind::Client), false), (Some(Kind::Server), true)]
    );
    assert_eq!(batch.spans[0].id(), batch.spans[1].id());
}

#[test]
fn unicode_service_names_survive() {
    let (_, batch, _) = read(&fixture("zipkin/zipkin2-chinese.json"));
    let s = batch.spans[0];
    let local = batch.interner.resolve(s.local.service.unwrap());
    assert_eq!(local, "订单维护服务");
}
