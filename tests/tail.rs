//! Live tail (issue 7): real trace files written in random pieces (records cut in half), a
//! Spigo-style array closed only at the end, a rotated and a truncated file, followed while they
//! are written; at the end the live model equals a one-shot load of the final files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flowscope::cli::{LinkJson, links_json};
use flowscope::ingest::split::split_records;
use flowscope::model::{Level, TraceStore};
use flowscope::source::{
    DirTail, DirWatcher, LiveModel, TailBatch, WatchOptions, follow_in_pieces,
};

use crate::common::fixture;

/// xorshift64*: chunk sizes and pauses, the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// A span as text, independent of interning and input order.
fn canonical_spans(store: &TraceStore) -> Vec<String> {
    let i = &store.data.interner;
    let sym = |s: Option<flowscope::model::Sym>| s.map_or("", |s| i.resolve(s));
    let mut out: Vec<String> = store
        .spans()
        .iter()
        .map(|s| {
            let tags: Vec<String> = store
                .data
                .tags_of(s.tags)
                .iter()
                .map(|t| format!("{}={}", i.resolve(t.key), i.resolve(t.value)))
                .collect();
            format!(
                "{} {} {:?} {:?} {} {:?} {:?} {} {} {}",
                s.trace_id().display(i),
                s.id().display(i),
                s.parent_id().map(|p| p.display(i)),
                s.kind,
                sym(s.name),
                s.timestamp_micros(),
                s.duration_micros(),
                sym(s.local.service),
                sym(s.remote.service),
                tags.join(",")
            )
        })
        .collect();
    out.sort();
    out
}

/// What a model must equal: its spans and its links at the service and instance levels.
#[derive(Debug, PartialEq)]
struct Summary {
    spans: Vec<String>,
    traces: usize,
    service_links: Vec<LinkJson>,
    instance_links: Vec<LinkJson>,
}

fn summary(store: &mut TraceStore) -> Summary {
    Summary {
        spans: canonical_spans(store),
        traces: store.traces().len(),
        service_links: links_json(store, Level::Service),
        instance_links: links_json(store, Level::Instance),
    }
}

fn one_shot(dir: &Path) -> Summary {
    let mut loaded = flowscope::cli::load(&[dir.to_owned()], false).unwrap();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    summary(&mut loaded.store)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-tail-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The records of a real (pretty-printed) Zipkin array, one per line.
fn ndjson_of(rel: &str) -> Vec<u8> {
    let bytes = std::fs::read(fixture(rel)).unwrap();
    let records = split_records(&bytes).unwrap();
    let mut out = Vec::new();
    for r in &records.ranges {
        // Raw line ends are never inside JSON strings: joining lines keeps each record valid.
        out.extend(
            bytes[r.clone()]
                .iter()
                .map(|&b| if b == b'\n' { b' ' } else { b }),
        );
        out.push(b'\n');
    }
    out
}

/// Appends `bytes` to `path` in random pieces, calling `step` after each.
fn append_in_pieces(path: &Path, bytes: &[u8], rng: &mut Rng, step: &mut dyn FnMut()) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut at = 0;
    while at < bytes.len() {
        let n = (1 + rng.below(700)).min(bytes.len() - at);
        file.write_all(&bytes[at..at + n]).unwrap();
        file.flush().unwrap();
        at += n;
        step();
    }
}

/// The writer's script: NDJSON in pieces, a Spigo flow without its `]` until the end, a
/// collector file rotated half-way, a file truncated and rewritten with other spans.
fn write_scenario(dir: &Path, seed: u64, step: &mut dyn FnMut()) {
    let mut rng = Rng(seed);
    let oauth = ndjson_of("zipkin/smartthings-oauth-authorization.json");
    let lamp = std::fs::read(fixture("spigo/flow/lamp_flow.json")).unwrap();
    let close = lamp.iter().rposition(|&b| b == b']').unwrap();
    let (lamp_open, lamp_close) = lamp.split_at(close);
    let yelp = ndjson_of("zipkin/yelp.json");
    let half = yelp
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .nth(7)
        .unwrap();
    let kafka = std::fs::read(fixture("zipkin/messaging-kafka.json")).unwrap();
    let skew = std::fs::read(fixture("zipkin/skew.json")).unwrap();

    let collector = dir.join("collector.ndjson");
    append_in_pieces(&collector, &yelp[..half], &mut rng, step);
    append_in_pieces(
        &dir.join("oauth.ndjson"),
        &oauth[..oauth.len() / 2],
        &mut rng,
        step,
    );
    append_in_pieces(&dir.join("lamp_flow.json"), lamp_open, &mut rng, step);
    append_in_pieces(&dir.join("kafka.json"), &kafka, &mut rng, step);
    // Rotation: the collector renames its file and starts a new one under the old name.
    std::fs::rename(&collector, dir.join("collector-1.ndjson")).unwrap();
    step();
    append_in_pieces(&collector, &yelp[half..], &mut rng, step);
    append_in_pieces(
        &dir.join("oauth.ndjson"),
        &oauth[oauth.len() / 2..],
        &mut rng,
        step,
    );
    // Truncation: the file starts again with other spans.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.join("kafka.json"))
        .unwrap();
    step();
    append_in_pieces(&dir.join("kafka.json"), &skew, &mut rng, step);
    append_in_pieces(&dir.join("lamp_flow.json"), lamp_close, &mut rng, step);
}

fn batch_of(result: flowscope::source::ScanResult) -> TailBatch {
    TailBatch {
        updates: result.updates,
        failures: result.failures,
        seen_at: Instant::now(),
        files_seen: 0,
        bytes_read: result.bytes_read,
    }
}

#[test]
fn scans_between_random_pieces_end_equal_to_a_one_shot_load() {
    // Deterministic: a scan after every piece (and so records cut in half on every scan).
    let dir = temp_dir("scan");
    let tail = std::cell::RefCell::new((DirTail::new(vec![dir.clone()]), LiveModel::new()));
    let mut step = || {
        let (t, m) = &mut *tail.borrow_mut();
        let result = t.scan();
        assert!(result.failures.is_empty(), "{:?}", result.failures);
        m.apply(batch_of(result));
    };
    write_scenario(&dir, 7, &mut step);
    step();
    let (_, mut model) = tail.into_inner();
    let expected = one_shot(&dir);
    // oauth 175 + yelp 16 + skew 4 + lamp's flow.
    assert!(
        expected.spans.len() > 175 + 16 + 4,
        "{}",
        expected.spans.len()
    );
    assert_eq!(summary(model.store_mut()), expected);
    let counts = model.counts();
    assert_eq!(counts.files, 5);
    assert_eq!(counts.spans, expected.spans.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_writer_thread_and_the_watcher_end_equal_to_a_one_shot_load() {
    for (name, force_polling) in [("notify", false), ("poll", true)] {
        let dir = temp_dir(name);
        let options = WatchOptions {
            force_polling,
            poll: Duration::from_millis(20),
            ..WatchOptions::default()
        };
        let watcher = DirWatcher::start(vec![dir.clone()], options, || {}).unwrap();
        let writer = {
            let dir = dir.clone();
            std::thread::Builder::new()
                .name("test_writer".into())
                .spawn(move || {
                    let mut rng = Rng(99);
                    let mut step = || {
                        if rng.below(4) == 0 {
                            std::thread::sleep(Duration::from_micros(rng.below(3000) as u64));
                        }
                    };
                    write_scenario(&dir, 11, &mut step);
                })
                .unwrap()
        };
        let mut model = LiveModel::new();
        writer.join().unwrap();
        let expected = one_shot(&dir);
        // Poll (never a fixed sleep) until the model holds as many spans as the files, with a
        // generous deadline; a lost or doubled span shows as a mismatch below.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(batch) = watcher.recv_timeout(Duration::from_millis(50)) {
                assert!(batch.failures.is_empty(), "{:?}", batch.failures);
                model.apply(batch);
            } else if model.store().spans().len() == expected.spans.len()
                && canonical_spans(model.store()) == expected.spans
            {
                break;
            }
        }
        assert_eq!(summary(model.store_mut()), expected, "{name}");
        drop(watcher);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn every_cut_of_real_files_reads_like_the_whole() {
    // The fuzzing entry point on real files: random cuts (many per file) give the spans of a
    // one-shot parse.
    let mut rng = Rng(3);
    for rel in [
        "zipkin/smartthings-oauth-authorization.json",
        "zipkin/v1-multiple-batches.json",
        "zipkin/zipkin2-chinese.json",
        "spigo/flow/lamp_flow.json",
        "otlp/jaeger-otel-traces-01.json",
    ] {
        let bytes = std::fs::read(fixture(rel)).unwrap();
        let (_, whole, _) = flowscope::ingest::parse_bytes(&bytes).unwrap();
        let mut expected = TraceStore::default();
        expected.append(whole);
        expected.index();
        for _ in 0..5 {
            let cuts: Vec<usize> = (0..rng.below(40))
                .map(|_| rng.below(bytes.len() + 1))
                .collect();
            let got = follow_in_pieces(&bytes, &cuts);
            let mut store = TraceStore::default();
            store.append(got.batch);
            store.index();
            assert_eq!(
                canonical_spans(&store),
                canonical_spans(&expected),
                "{rel} cut at {cuts:?}"
            );
        }
    }
}
