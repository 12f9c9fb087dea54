//! The writer of `scripts/bench-tail`: appends Zipkin v2 NDJSON spans to `DIR/spans.ndjson` at a
//! steady rate, rotating the file every 10 s, and prints how many spans it wrote.
//!
//! usage: `tail_writer DIR [SPANS_PER_SEC] [SECS]` (defaults 10000 and 30)

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark tool: fail loudly"
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// Spans per trace: a chain of server spans through services.
const DEPTH: u64 = 5;
/// Distinct services.
const SERVICES: u64 = 20;
/// Writes per second.
const TICKS_PER_SEC: u64 = 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: tail_writer DIR [RATE] [SECS]"));
    let rate: u64 = args.next().map_or(10_000, |a| a.parse().unwrap());
    let secs: u64 = args.next().map_or(30, |a| a.parse().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spans.ndjson");
    let mut file = std::fs::File::create(&path).unwrap();
    let started = Instant::now();
    let ticks = secs * TICKS_PER_SEC;
    let per_tick = rate / TICKS_PER_SEC;
    let mut written = 0u64;
    let mut rotations = 0u64;
    let mut line = String::new();
    for tick in 0..ticks {
        // Rotate every 10 s: rename, then start a new file under the old name.
        if tick > 0 && tick % (10 * TICKS_PER_SEC) == 0 {
            rotations += 1;
            std::fs::rename(&path, dir.join(format!("spans-{rotations}.ndjson"))).unwrap();
            file = std::fs::File::create(&path).unwrap();
        }
        line.clear();
        for _ in 0..per_tick {
            let trace = written / DEPTH + 1;
            let depth = written % DEPTH;
            let service = (trace * 7 + depth * 3) % SERVICES;
            let parent = if depth == 0 {
                String::new()
            } else {
                format!(r#""parentId":"{:016x}","#, trace * 8 + depth - 1)
            };
            let micros = 1_700_000_000_000_000 + written * 100;
            write!(
                line,
                r#"{{"traceId":"{trace:016x}",{parent}"id":"{:016x}","kind":"SERVER","name":"op{depth}","timestamp":{micros},"duration":{},"localEndpoint":{{"serviceName":"svc{service}"}}}}"#,
                trace * 8 + depth,
                1000 - depth * 100
            )
            .unwrap();
            line.push('\n');
            written += 1;
        }
        file.write_all(line.as_bytes()).unwrap();
        let due = started + Duration::from_micros((tick + 1) * 1_000_000 / TICKS_PER_SEC);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    file.flush().unwrap();
    println!(
        "{{\"written\":{written},\"secs\":{:.2},\"rotations\":{rotations}}}",
        started.elapsed().as_secs_f64()
    );
}
