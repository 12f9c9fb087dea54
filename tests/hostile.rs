//! Hostile input: every shared trace file truncated at many points, with bytes flipped and with
//! a stretch duplicated, must read without a panic; each outcome is data, counted warnings, or a
//! one-line refusal.

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

#[test]
fn deep_nesting_long_strings_and_parent_cycles_are_survived() {
    // 100 levels of nesting inside a span.
    let deep = format!(
        r#"[{{"traceId":"1","id":"2","tags":{{"a":{}1{}}}}}]"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let (_, batch, report) = ingest::parse_bytes(deep.as_bytes()).unwrap();
    assert_eq!(batch.spans.len() + report.total() as usize, 1);
    // A 50 MB string as a tag value.
    let long = format!(
        r#"[{{"traceId":"1","id":"2","localEndpoint":{{"serviceName":"a"}},"tags":{{"k":"{}"}}}}]"#,
        "x".repeat(50 << 20)
    );
    let (_, batch, _) = ingest::parse_bytes(long.as_bytes()).unwrap();
    assert_eq!(batch.spans.len(), 1);
    // Spans that are each other's parent: the tree must not loop.
    let cycle = br#"[{"traceId":"1","id":"a","parentId":"b","kind":"SERVER","localEndpoint":{"serviceName":"x"},"remoteEndpoint":{"serviceName":"y"}},
                    {"traceId":"1","id":"b","parentId":"a","kind":"SERVER","localEndpoint":{"serviceName":"y"},"remoteEndpoint":{"serviceName":"x"}}]"#;
    survive(cycle);
    let (_, batch, _) = ingest::parse_bytes(cycle).unwrap();
    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    // Neither span is reachable from a root, so Zipkin's rules link nothing, and nothing hangs.
    assert!(flowscope::cli::links_json(&mut store, Level::Service).is_empty());
}
