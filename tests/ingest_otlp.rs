//! Reading OTLP/JSON files: every file in `fixtures/otlp/` with its format, counts, ids and
//! warnings, and the variants (NDJSON, upper-case ids, Tempo's `batches`, status and kind enums).

use std::collections::BTreeSet;

use flowscope::ingest::{Format, WarningKind};
use flowscope::model::{Batch, Kind, SpanId, TraceId};

use crate::common::{fixture, read, shared_traces, store_of};

/// What one file must read as.
struct Expect {
    file: &'static str,
    spans: usize,
    traces: usize,
    services: usize,
    /// Spans carrying an `error` tag.
    errors: usize,
    /// Warnings by kind; every other kind must be zero.
    warnings: &'static [(WarningKind, u64)],
}

const FILES: [Expect; 5] = [
    Expect {
        file: "jaeger-otel-traces-01.json",
        spans: 4,
        traces: 2,
        services: 1,
        errors: 4,
        warnings: &[],
    },
    // The same span is written twice.
    Expect {
        file: "jaeger-ui-otlp-in.json",
        spans: 2,
        traces: 1,
        services: 1,
        errors: 0,
        warnings: &[(WarningKind::Duplicate, 1)],
    },
    Expect {
        file: "jaeger-ui-otlp-lines.jsonl",
        spans: 4,
        traces: 1,
        services: 1,
        errors: 0,
        warnings: &[],
    },
    Expect {
        file: "otlp-proto-example.json",
        spans: 1,
        traces: 1,
        services: 1,
        errors: 0,
        warnings: &[],
    },
    Expect {
        file: "tempo-batches-uppercase.json",
        spans: 1,
        traces: 1,
        services: 1,
        errors: 0,
        warnings: &[],
    },
];

fn path(file: &str) -> std::path::PathBuf {
    fixture(&format!("otlp/{file}"))
}

fn services(batch: &Batch) -> BTreeSet<&str> {
    batch
        .spans
        .iter()
        .filter_map(|s| s.local.service)
        .map(|s| batch.interner.resolve(s))
        .collect()
}

#[test]
fn every_otlp_file_reads_with_its_counts_and_warnings() {
    for e in &FILES {
        let p = path(e.file);
        let (format, batch, report) = read(&p);
        assert_eq!(format, Format::Otlp, "{}", e.file);
        assert_eq!(batch.spans.len(), e.spans, "{} spans", e.file);
        assert_eq!(
            store_of(std::slice::from_ref(&p)).traces().len(),
            e.traces,
            "{} traces",
            e.file
        );
        assert_eq!(services(&batch).len(), e.services, "{} services", e.file);
        let errors = batch
            .spans
            .iter()
            .filter(|s| batch.tag(s.tags, "error").is_some())
            .count();
        assert_eq!(errors, e.errors, "{} error spans", e.file);
        let expected: u64 = e.warnings.iter().map(|(_, n)| n).sum();
        assert_eq!(report.total(), expected, "{}: {:?}", e.file, report);
        for (kind, n) in e.warnings {
            assert_eq!(report.count(*kind), *n, "{} {kind}", e.file);
        }
    }
}

#[test]
fn every_fixture_has_a_row() {
    let listed: BTreeSet<&str> = FILES.iter().map(|e| e.file).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixture("otlp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
    assert_eq!(listed, on_disk);
}

#[test]
fn upper_case_ids_are_read_the_same_with_and_without_tempo_batches() {
    let (_, a, _) = read(&path("otlp-proto-example.json"));
    let (_, b, _) = read(&path("tempo-batches-uppercase.json"));
    for batch in [&a, &b] {
        let i = &batch.interner;
        let s = batch.spans[0];
        assert_eq!(s.trace_id().display(i), "5b8efff798038103d269b633813fc60c");
        assert_eq!(s.id(), SpanId::Hex(0xeee1_9b7e_c3c1_b174));
        assert_eq!(s.parent_id(), Some(SpanId::Hex(0xeee1_9b7e_c3c1_b173)));
        assert_eq!(s.kind, Some(Kind::Server));
        assert_eq!(s.name.map(|n| i.resolve(n)), Some("I'm a server span"));
        assert_eq!(s.timestamp_micros(), Some(1_544_712_660_000_000));
        assert_eq!(s.duration_micros(), Some(1_000_000));
        assert_eq!(s.local.service.map(|n| i.resolve(n)), Some("my.service"));
        assert_eq!(batch.tag(s.tags, "my.span.attr"), Some("some value"));
        assert_eq!(batch.tag(s.resource, "service.name"), Some("my.service"));
    }
}

#[test]
fn ids_differing_only_in_the_high_half_are_two_traces() {
    let (_, batch, _) = read(&path("jaeger-otel-traces-01.json"));
    let i = &batch.interner;
    let traces: BTreeSet<TraceId> = batch
        .spans
        .iter()
        .map(flowscope::model::Span::trace_id)
        .collect();
    assert_eq!(
        traces,
        BTreeSet::from([
            TraceId::Hex128 { high: 1, low: 0 },
            TraceId::Hex128 { high: 2, low: 0 },
        ])
    );
    let kinds: Vec<_> = batch.spans.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(Kind::Server),
            Some(Kind::Client),
            Some(Kind::Producer),
            Some(Kind::Consumer)
        ]
    );
    let s = batch.spans[0];
    // Status code 2 without a message: an empty error tag.
    assert_eq!(batch.tag(s.tags, "error"), Some(""));
    assert_eq!(s.remote.service.map(|n| i.resolve(n)), Some("service-y"));
    assert_eq!(batch.tag(s.tags, "peer.ipv4"), Some("23456"));
    assert_eq!(batch.tag(s.tags, "temperature"), Some("72.5"));
    assert_eq!(batch.tag(s.tags, "blob"), Some("AAAwOQ=="));
    assert_eq!(s.duration_micros(), Some(5));
    // Events are annotations; one without a name is "event".
    let events: Vec<&str> = batch
        .annotations_of(s.annotations)
        .iter()
        .map(|a| i.resolve(a.value))
        .collect();
    assert_eq!(events, ["testing-event", "event"]);
}

#[test]
fn ndjson_requests_form_one_trace_with_an_empty_parent_as_root() {
    let (_, batch, _) = read(&path("jaeger-ui-otlp-lines.jsonl"));
    let i = &batch.interner;
    let roots: Vec<String> = batch
        .spans
        .iter()
        .filter(|s| s.parent_id().is_none())
        .map(|s| s.id().display(i))
        .collect();
    assert_eq!(roots, ["eff3153be6b1fb93"]);
    assert!(batch.spans.iter().all(|s| s.kind.is_none()));
    let root = batch.spans[3];
    assert_eq!(root.timestamp_micros(), Some(1_711_138_246_940_000));
    // 1711138247116321958 − 1711138246940000000 ns.
    assert_eq!(root.duration_micros(), Some(176_321));
    assert_eq!(
        batch.tag(root.resource, "telemetry.sdk.language"),
        Some("nodejs")
    );
}

/// The fixtures are byte-exact copies of `../shared/traces/otlp/` (checked when it is present).
#[test]
fn fixtures_are_copies_of_shared_traces() {
    let Some(shared) = shared_traces() else {
        return;
    };
    for entry in std::fs::read_dir(fixture("otlp")).unwrap() {
        let entry = entry.unwrap();
        let ours = std::fs::read(entry.path()).unwrap();
        let theirs = std::fs::read(shared.join("otlp").join(entry.file_name())).unwrap();
        assert!(
            ours == theirs,
            "{:?} differs from ../shared/traces",
            entry.path()
        );
    }
}

/// Jaeger's query API v3 streams OTLP under `{"result": …}`: sniffed as its own layout, read
/// with exactly the spans, traces and links of the plain OTLP file it wraps. See: #16
#[test]
fn issue_16_a_jaeger_api_v3_response_reads_as_the_otlp_it_wraps() {
    let (format, v3, report) = read(&fixture("handmade/jaeger-api-v3.json"));
    assert_eq!(format, Format::JaegerApiV3);
    assert_eq!(format.as_str(), "jaeger-api-v3");
    assert_eq!(report.total(), 0, "{report:?}");
    let (_, plain, _) = read(&path("jaeger-otel-traces-01.json"));
    assert_eq!(v3.spans.len(), 4);
    assert_eq!(services(&v3), services(&plain));
    let links = |p: std::path::PathBuf| {
        let mut store = store_of(&[p]);
        assert_eq!(store.traces().len(), 2);
        flowscope::model::Level::ALL.map(|level| flowscope::cli::links_json(&mut store, level))
    };
    let wrapped = links(fixture("handmade/jaeger-api-v3.json"));
    assert_eq!(wrapped, links(path("jaeger-otel-traces-01.json")));
    assert_eq!(wrapped[1].len(), 2);
    // A result that holds no request is a counted warning, not an empty silence.
    let mut report = flowscope::ingest::Report::default();
    let batch = flowscope::ingest::otlp::read(br#"{"result":{"spans":[]}}"#, &mut report);
    assert!(batch.spans.is_empty());
    assert_eq!(report.count(WarningKind::BadRecord), 1);
}
