//! Measures one ingest run for `scripts/bench-ingest`: `bench_ingest flowscope|baseline FILE`.
//!
//! `flowscope` reads, parses and stores the file as the app does; `baseline` is a plain
//! `serde_json::from_slice::<Vec<SpanStruct>>` of the same bytes. Prints one JSON line with the
//! throughput and the process's peak resident memory (`VmHWM`), so each mode runs in its own process.
//! With `PHASES` set, `flowscope` also prints the time to read and parse and the time to index.
//! `bench_ingest gzip|zstd FILE OUT` writes a compressed copy of FILE (for the compressed rows);
//! `flowscope` on a compressed file counts its MB/s in decompressed bytes.

use std::collections::BTreeMap;
use std::time::Instant;

use flowscope::cli::peak_rss_kb;
use flowscope::model::TraceStore;

/// The baseline's idea of a Zipkin v2 span: owned strings, as a typical serde user writes it.
#[derive(serde::Deserialize)]
#[expect(dead_code, reason = "fields are parsed to be measured, never read")]
struct SpanStruct {
    #[serde(rename = "traceId")]
    trace_id: String,
    id: String,
    #[serde(rename = "parentId")]
    parent_id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    timestamp: Option<u64>,
    duration: Option<u64>,
    #[serde(rename = "localEndpoint")]
    local_endpoint: Option<EndpointStruct>,
    #[serde(rename = "remoteEndpoint")]
    remote_endpoint: Option<EndpointStruct>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[expect(dead_code, reason = "fields are parsed to be measured, never read")]
struct EndpointStruct {
    #[serde(rename = "serviceName")]
    service_name: Option<String>,
    ipv4: Option<String>,
    port: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(path)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bench_ingest flowscope|baseline FILE | gzip|zstd FILE OUT");
    };
    if mode == "gzip" || mode == "zstd" {
        let out = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{mode} needs OUT"))?;
        let input = std::io::BufReader::new(std::fs::File::open(&path)?);
        let output = std::io::BufWriter::new(std::fs::File::create(&out)?);
        compress(&mode, input, output)?;
        return Ok(());
    }
    let mut bytes = std::fs::metadata(&path)?.len();
    let started = Instant::now();
    let spans = match mode.as_str() {
        "baseline" => {
            let data = std::fs::read(&path)?;
            let spans: Vec<SpanStruct> = serde_json::from_slice(&data)?;
            spans.len()
        }
        "flowscope" => {
            let read = flowscope::ingest::read_path(std::path::Path::new(&path))?;
            // Decompressed bytes: what was parsed.
            bytes = read.bytes;
            let parsed = started.elapsed();
            let mut store = TraceStore::default();
            store.append(read.batch);
            store.index();
            if std::env::var_os("PHASES").is_some() {
                eprintln!(
                    "read and parse {parsed:?}, store and index {:?}",
                    started.elapsed().saturating_sub(parsed)
                );
            }
            store.spans().len()
        }
        other => anyhow::bail!("unknown mode {other}"),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"mode\":\"{mode}\",\"bytes\":{bytes},\"spans\":{spans},\"secs\":{secs:.3},\"mb_per_s\":{:.1},\"peak_rss_kb\":{}}}",
        bytes as f64 / 1e6 / secs,
        peak_rss_kb()
    );
    Ok(())
}

/// Writes `input` compressed with `how` (gzip at level 6, zstd at level 3: the tools' defaults).
fn compress(
    how: &str,
    mut input: impl std::io::Read,
    output: impl std::io::Write,
) -> anyhow::Result<()> {
    match how {
        "gzip" => {
            let mut enc = flate2::write::GzEncoder::new(output, flate2::Compression::default());
            std::io::copy(&mut input, &mut enc)?;
            enc.finish()?;
        }
        _ => {
            let mut enc = zstd::stream::write::Encoder::new(output, 3)?;
            std::io::copy(&mut input, &mut enc)?;
            enc.finish()?;
        }
    }
    Ok(())
}
