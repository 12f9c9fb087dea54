//! OTLP protobuf files as the collector's file exporter writes them (`format: proto`): each shared
//! OTLP/JSON file's protobuf form (`fixtures/otlp-proto/`, encoded by the official protobuf classes
//! with `scripts/otlp-to-proto.py`) reads as its JSON form does, plain, with each message
//! zstd-compressed (the exporter's `compression: zstd`) and compressed as a whole; damage is a
//! counted warning and what came before it still loads. See: #16

use std::path::{Path, PathBuf};

use flowscope::cli::{count, links_json};
use flowscope::ingest::{self, Compression, Format, WarningKind};
use flowscope::model::{Batch, Level, TraceStore};

use crate::common::{fixture, read};

/// The shared OTLP files and their protobuf forms.
const PAIRS: [(&str, &str); 5] = [
    ("jaeger-otel-traces-01.json", "jaeger-otel-traces-01.pb"),
    ("jaeger-ui-otlp-in.json", "jaeger-ui-otlp-in.pb"),
    ("jaeger-ui-otlp-lines.jsonl", "jaeger-ui-otlp-lines.pb"),
    ("otlp-proto-example.json", "otlp-proto-example.pb"),
    ("tempo-batches-uppercase.json", "tempo-batches-uppercase.pb"),
];

/// Every span as text: ids, parent, kind, name, times, endpoints, tags and events, resolved.
fn spans_as_text(batch: &Batch) -> Vec<String> {
    let s = |sym: Option<flowscope::model::Sym>| sym.map(|x| batch.interner.resolve(x).to_owned());
    batch
        .spans
        .iter()
        .map(|span| {
            let tags: Vec<(String, String)> = batch
                .tags_of(span.tags)
                .iter()
                .chain(batch.tags_of(span.resource))
                .map(|t| {
                    (
                        batch.interner.resolve(t.key).to_owned(),
                        batch.interner.resolve(t.value).to_owned(),
                    )
                })
                .collect();
            let events: Vec<(i64, String)> = batch
                .annotations_of(span.annotations)
                .iter()
                .map(|a| {
                    (
                        a.timestamp_micros,
                        batch.interner.resolve(a.value).to_owned(),
                    )
                })
                .collect();
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {tags:?} {events:?}",
                span.trace_id(),
                span.id(),
                span.parent_id(),
                span.kind,
                s(span.name),
                span.timestamp_micros(),
                span.duration_micros(),
                s(span.local.service),
                s(span.remote.service),
            )
        })
        .collect()
}

/// `stats` counts and `deps` at every level of one file, as the CLI reads it.
fn what_it_holds(path: &Path) -> Vec<String> {
    let read = ingest::read_path(path).unwrap();
    let mut store = TraceStore::default();
    store.append(read.batch);
    store.index();
    let mut out = vec![format!("{:?}", count(&mut store))];
    for level in Level::ALL {
        out.push(format!("{level:?} {:?}", links_json(&mut store, level)));
    }
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn issue_16_otlp_protobuf_reads_as_its_json_form() {
    for (json, pb) in PAIRS {
        let (json_path, pb_path) = (
            fixture(&format!("otlp/{json}")),
            fixture(&format!("otlp-proto/{pb}")),
        );
        let (format, proto, report) = read(&pb_path);
        assert_eq!(format, Format::OtlpProto, "{pb}");
        assert_eq!(format.as_str(), "otlp-proto");
        let (_, plain, plain_report) = read(&json_path);
        assert!(!proto.spans.is_empty(), "{pb}");
        assert_eq!(spans_as_text(&proto), spans_as_text(&plain), "{pb}");
        assert_eq!(report.total(), plain_report.total(), "{pb}: {report:?}");
        assert_eq!(what_it_holds(&pb_path), what_it_holds(&json_path), "{pb}");
    }
}

#[test]
fn issue_16_otlp_protobuf_compressed_per_message_and_as_a_whole() {
    let json = fixture("otlp/jaeger-otel-traces-01.json");
    let want = what_it_holds(&json);
    // The exporter's `compression: zstd`: every message a zstd frame inside the framing.
    let each = fixture("otlp-proto/jaeger-otel-traces-01-zstd-each.pb");
    let (format, _, report) = read(&each);
    assert_eq!(format, Format::OtlpProto);
    assert_eq!(report.total(), 0, "{report:?}");
    assert_eq!(what_it_holds(&each), want);
    // The whole file compressed (a `.pb.zst` dump).
    let dir = temp_dir("otlp-proto-zst");
    let whole = dir.join("traces.pb.zst");
    let plain = std::fs::read(fixture("otlp-proto/jaeger-otel-traces-01.pb")).unwrap();
    std::fs::write(&whole, zstd::encode_all(plain.as_slice(), 3).unwrap()).unwrap();
    let read = ingest::read_path(&whole).unwrap();
    assert_eq!(
        (read.format, read.compression),
        (Format::OtlpProto, Some(Compression::Zstd))
    );
    assert_eq!(
        ingest::layout_name(read.format, read.compression),
        "otlp-proto+zstd"
    );
    assert_eq!(what_it_holds(&whole), want);
    std::fs::remove_dir_all(&dir).ok();
}

/// The messages of a framed file, each with its 4-byte length.
fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push(&bytes[at..at + 4 + n]);
        at += 4 + n;
    }
    out
}

#[test]
fn issue_16_damaged_otlp_protobuf_keeps_the_rest_and_says_where() {
    let dir = temp_dir("otlp-proto-damage");
    // Four requests, one per line of the NDJSON, each a span of one trace.
    let plain = std::fs::read(fixture("otlp-proto/jaeger-ui-otlp-lines.pb")).unwrap();
    let messages = frames(&plain);
    assert_eq!(messages.len(), 4);

    // Cut inside the last message: the first three load, one warning names the byte.
    let cut = dir.join("cut.pb");
    let end = plain.len() - 10;
    std::fs::write(&cut, &plain[..end]).unwrap();
    let (format, batch, report) = read(&cut);
    assert_eq!(format, Format::OtlpProto);
    assert_eq!(batch.spans.len(), 3);
    assert_eq!(report.count(WarningKind::BadRecord), 1, "{report:?}");
    let at = plain.len() - messages[3].len();
    let line = format!("{report:?}");
    assert!(
        line.contains(&format!("at byte {at} runs past the end")),
        "{line}"
    );

    // A damaged zstd message among good ones: it is a warning, the other three load.
    let mut mixed = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let body = if i == 1 {
            let mut z = zstd::encode_all(&m[4..], 3).unwrap();
            let mid = z.len() / 2;
            z[mid] ^= 0xff;
            z.truncate(z.len() - 3);
            z
        } else {
            zstd::encode_all(&m[4..], 3).unwrap()
        };
        mixed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        mixed.extend_from_slice(&body);
    }
    let bad = dir.join("bad-zstd.pb");
    std::fs::write(&bad, &mixed).unwrap();
    let (_, batch, report) = read(&bad);
    assert_eq!(batch.spans.len(), 3);
    assert_eq!(report.count(WarningKind::BadCompression), 1, "{report:?}");

    // A span whose name claims more bytes than its message holds: that span is left out and
    // counted, the good span beside it loads.
    let field = |n: u8, body: &[u8]| {
        let mut out = vec![n << 3 | 2, u8::try_from(body.len()).unwrap()];
        out.extend_from_slice(body);
        out
    };
    let trace = [7u8; 16];
    let good = [field(1, &trace), field(2, &[1; 8]), field(5, b"ok")].concat();
    let bad = [
        field(1, &trace),
        field(2, &[2; 8]),
        vec![5 << 3 | 2, 32, b'x'],
    ]
    .concat();
    let service = field(
        1,
        &[field(1, b"service.name"), field(2, &field(1, b"svc"))].concat(),
    );
    let resource_spans = [
        field(1, &service),
        field(2, &[field(2, &good), field(2, &bad)].concat()),
    ]
    .concat();
    let message = field(1, &resource_spans);
    let mut framed = (message.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(&message);
    let broken = dir.join("broken-span.pb");
    std::fs::write(&broken, &framed).unwrap();
    let (format, batch, report) = read(&broken);
    assert_eq!(format, Format::OtlpProto);
    assert_eq!(batch.spans.len(), 1);
    assert_eq!(
        batch
            .interner
            .resolve(batch.spans[0].local.service.unwrap()),
        "svc"
    );
    assert_eq!(report.count(WarningKind::BadRecord), 1, "{report:?}");
    assert!(format!("{report:?}").contains("an OTLP span: field 5 runs past the end"));
    std::fs::remove_dir_all(&dir).ok();
}
