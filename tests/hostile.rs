//! Hostile input: every shared trace file truncated at many points, with bytes flipped and with
//! a stretch duplicated, must read without a panic; each outcome is data, counted warnings, or a
//! one-line refusal.

use std::fmt::Write as _;

use flowscope::derive::ServiceGraph;
use flowscope::ingest;
use flowscope::model::{Level, TraceStore};

use crate::common::shared_traces;

/// A small deterministic generator for cut points and flipped bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn files() -> Vec<std::path::PathBuf> {
    let Some(root) = shared_traces() else {
        return Vec::new();
    };
    ingest::expand_paths(&[root]).unwrap()
}

/// Reads the bytes and, when they are traces, builds the graph too: nothing may panic.
fn survive(bytes: &[u8]) {
    if let Ok((_, batch, _report)) = ingest::parse_bytes(bytes)
        && batch.spans.len() + batch.nodes.len() < 5_000
    {
        let mut store = TraceStore::default();
        store.append(batch);
        store.index();
        let graph = ServiceGraph::build(&mut store, Level::Service);
        assert!(graph.graph.node_count() <= store.data.interner.len());
    }
}

#[test]
fn truncated_flipped_and_duplicated_files_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut variants = 0;
    for path in files() {
        let bytes = std::fs::read(&path).unwrap();
        if bytes.is_empty() {
            continue;
        }
        let tries = if bytes.len() < 64 << 10 { 8 } else { 2 };
        for _ in 0..tries {
            // Truncated anywhere.
            survive(&bytes[..rng.below(bytes.len())]);
            // A byte flipped to something JSON cares about.
            let mut flipped = bytes.clone();
            let at = rng.below(flipped.len());
            let specials = b"{}[]\",:\\0x\n";
            flipped[at] = specials[rng.below(specials.len())];
            survive(&flipped);
            // A stretch duplicated in place.
            let a = rng.below(bytes.len());
            let b = (a + rng.below(4096)).min(bytes.len());
            let mut doubled = bytes[..b].to_vec();
            doubled.extend_from_slice(&bytes[a..]);
            survive(&doubled);
            variants += 3;
        }
    }
    if shared_traces().is_some() {
        assert!(variants > 500, "{variants} variants");
    }
}

/// Writes `bytes` to a fresh file under the temp directory and loads it as `stats` does.
fn load_written(name: &str, bytes: &[u8]) -> flowscope::cli::Loaded {
    let dir = std::env::temp_dir().join(format!("flowscope-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let loaded = flowscope::cli::load(std::slice::from_ref(&path), true).unwrap();
    std::fs::remove_file(&path).ok();
    loaded
}

/// The warnings of the one file loaded, by kind name.
fn warnings(loaded: &flowscope::cli::Loaded) -> Vec<(&'static str, u64)> {
    loaded.files[0]
        .report
        .counts
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect()
}

#[test]
fn deep_nesting_long_strings_and_parent_cycles_each_give_a_warning() {
    // 100 and 100,000 levels of nesting in a tag: tags are flat, so the tag is skipped with a
    // warning and the span kept. Nothing recurses on skipped values, so depth cannot overflow
    // the stack.
    for levels in [100, 100_000] {
        let deep = format!(
            r#"[{{"traceId":"1","id":"2","tags":{{"a":{}1{},"b":"c"}}}},
{{"traceId":"1","id":"3","localEndpoint":{{"serviceName":"a"}}}}]"#,
            "[".repeat(levels),
            "]".repeat(levels)
        );
        let loaded = load_written("deep.json", deep.as_bytes());
        assert_eq!(warnings(&loaded), vec![("bad_record", 1)], "{levels}");
        let data = &loaded.store.data;
        assert_eq!(data.spans.len(), 2);
        assert_eq!(data.tag(data.spans[0].tags, "b"), Some("c"));
    }
    // A 50 MB string as a tag value: the span loads with the value cut to the limit.
    let long = format!(
        r#"[{{"traceId":"1","id":"2","localEndpoint":{{"serviceName":"a"}},"tags":{{"k":"{}"}}}}]"#,
        "x".repeat(50 << 20)
    );
    let loaded = load_written("long.json", long.as_bytes());
    assert_eq!(warnings(&loaded), vec![("limit", 1)]);
    let data = &loaded.store.data;
    let span = data.spans[0];
    assert_eq!(
        data.tag(span.tags, "k").map(str::len),
        Some(ingest::limits::MAX_STRING_BYTES)
    );
    // Spans that are each other's parent: counted, linked to nothing, and nothing hangs.
    let cycle = br#"[{"traceId":"1","id":"a","parentId":"b","kind":"SERVER","localEndpoint":{"serviceName":"x"},"remoteEndpoint":{"serviceName":"y"}},
                    {"traceId":"1","id":"b","parentId":"a","kind":"SERVER","localEndpoint":{"serviceName":"y"},"remoteEndpoint":{"serviceName":"x"}},
                    {"traceId":"1","id":"c","parentId":"a","kind":"SERVER","localEndpoint":{"serviceName":"z"}}]"#;
    survive(cycle);
    let mut loaded = load_written("cycle.json", cycle);
    assert_eq!(warnings(&loaded), vec![("parent_cycle", 3)]);
    assert!(flowscope::cli::links_json(&mut loaded.store, Level::Service).is_empty());
}

#[test]
fn absurd_times_and_endlessly_repeated_ids_are_limited() {
    // A start after 2200 and a duration of a thousand years are dropped; the spans stay.
    let times = br#"[{"traceId":"1","id":"2","timestamp":9000000000000000,"duration":5,"localEndpoint":{"serviceName":"a"}},
{"traceId":"1","id":"3","parentId":"2","timestamp":1700000000000000,"duration":31536000000000000,"localEndpoint":{"serviceName":"a"}}]"#;
    let loaded = load_written("times.json", times);
    assert_eq!(warnings(&loaded), vec![("bad_timestamp", 2)]);
    let spans = loaded.store.spans();
    assert_eq!(spans.len(), 2);
    assert_eq!(
        (spans[0].timestamp_micros(), spans[0].duration_micros()),
        (None, Some(5))
    );
    assert_eq!(
        (spans[1].timestamp_micros(), spans[1].duration_micros()),
        (Some(1_700_000_000_000_000), None)
    );
    // One span id repeated past the limit in one trace: the copies beyond it are left out.
    let limit = ingest::limits::MAX_SPANS_PER_ID;
    let mut repeated = String::from("[");
    for i in 0..limit + 10 {
        write!(
            repeated,
            r#"{{"traceId":"1","id":"2","kind":"SERVER","localEndpoint":{{"serviceName":"s{i}"}}}},"#
        )
        .unwrap();
    }
    repeated.push_str(
        r#"{"traceId":"1","id":"3","parentId":"2","localEndpoint":{"serviceName":"t"}}]"#,
    );
    let loaded = load_written("repeated.json", repeated.as_bytes());
    assert_eq!(warnings(&loaded), vec![("limit", 10)]);
    let trace = &loaded.store.traces()[0];
    assert_eq!(loaded.store.trace_indices(trace).count(), limit + 1);
}
