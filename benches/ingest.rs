//! Criterion benchmarks: parsing Zipkin v2, indexing traces, deriving Zipkin's service links.
//!
//! The 200 MB / 1 GB end-to-end table (with the `serde_json` baseline and peak memory) is
//! `scripts/bench-ingest`; these measure the same stages on in-memory inputs for quick comparison.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flowscope::cli::links_json;
use flowscope::ingest::{self, Format};
use flowscope::model::{Level, TraceStore};

/// A deterministic Zipkin v2 array of about `spans` spans: traces of a server and its clients.
fn synthetic_zipkin(spans: usize) -> Vec<u8> {
    let mut out = String::from("[\n");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut i = 0;
    while i < spans {
        let trace = next();
        let root = next() | 1;
        let service = next() % 40;
        write!(
            out,
            r#"{{"traceId":"{trace:016x}","id":"{root:016x}","name":"get /api/v{service}","kind":"SERVER","timestamp":{},"duration":{},"localEndpoint":{{"serviceName":"svc{service}","ipv4":"10.0.{}.{}","port":8080}},"tags":{{"http.method":"GET","http.path":"/api/v{service}","http.status_code":"200"}}}},"#,
            1_700_000_000_000_000u64 + i as u64,
            next() % 50_000,
            service,
            next() % 250
        )
        .ok();
        out.push('\n');
        for _ in 0..3 {
            let child = next() % 40;
            write!(
                out,
                r#"{{"traceId":"{trace:016x}","id":"{:016x}","parentId":"{root:016x}","name":"call svc{child}","kind":"CLIENT","timestamp":{},"duration":{},"localEndpoint":{{"serviceName":"svc{service}","ipv4":"10.0.{service}.1"}},"remoteEndpoint":{{"serviceName":"svc{child}"}},"tags":{{"http.method":"POST","http.path":"/api/v{child}"}}}},"#,
                next() | 1,
                1_700_000_000_000_100u64 + i as u64,
                next() % 20_000
            )
            .ok();
            out.push('\n');
        }
        i += 4;
    }
    out.pop();
    out.pop();
    out.push_str("\n]\n");
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zipkin/smartthings-mobile-web-install.json");
    let smartthings = std::fs::read(fixture).unwrap_or_default();
    let synthetic = synthetic_zipkin(40_000);

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(synthetic.len() as u64));
    group.bench_function("zipkin v2 synthetic 40k spans", |b| {
        b.iter(|| ingest::parse_format(Format::ZipkinV2, black_box(&synthetic)));
    });
    group.throughput(Throughput::Bytes(smartthings.len() as u64));
    group.bench_function("zipkin v2 smartthings 1041 spans", |b| {
        b.iter(|| ingest::parse_format(Format::ZipkinV2, black_box(&smartthings)));
    });
    group.finish();

    let (batch, _) = ingest::parse_format(Format::ZipkinV2, &synthetic);
    c.bench_function("index 40k spans into traces", |b| {
        b.iter(|| {
            let mut store = TraceStore::default();
            store.append(batch.clone());
            store.index();
            black_box(store.traces().len())
        });
    });

    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    c.bench_function("zipkin service links of 40k spans", |b| {
        b.iter(|| black_box(links_json(&mut store, Level::Service).len()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
