//! Measures one ingest run for `scripts/bench-ingest`: `bench_ingest flowscope|baseline FILE`.
//!
//! `flowscope` reads, parses and stores the file as the app does; `baseline` is a plain
//! `serde_json::from_slice::<Vec<SpanStruct>>` of the same bytes. Prints one JSON line with the
//! throughput and the process's peak resident memory (`VmHWM`), so each mode runs in its own process.
//! With `PHASES` set, `flowscope` also prints the time to read and parse and the time to index.
//! `bench_ingest gzip|zstd FILE OUT` writes a compressed copy of FILE (for the compressed rows);
//! `flowscope` on a compressed file counts its MB/s in decompressed bytes.
//! `bench_ingest otlp FILE OUT.jsonl OUT.pb` writes FILE's spans as OTLP/JSON (one request per
//! line) and as OTLP protobuf framed as the collector's file exporter frames it (a 4-byte
//! big-endian length per request), so the two forms of the same spans can be compared.

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
    if mode == "otlp" {
        let (Some(json), Some(pb)) = (args.next(), args.next()) else {
            anyhow::bail!("otlp needs OUT.jsonl OUT.pb");
        };
        return write_otlp(&path, &json, &pb);
    }
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

/// Spans per OTLP request written by `write_otlp` (a collector batch is of this order).
const SPANS_PER_REQUEST: usize = 512;

/// Writes the spans of `input` (any format flowscope reads) as OTLP/JSON lines and as framed OTLP
/// protobuf: requests of [`SPANS_PER_REQUEST`] spans, one resource per run of one service.
fn write_otlp(input: &str, json_out: &str, pb_out: &str) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let read = flowscope::ingest::read_path(std::path::Path::new(input))?;
    let batch = read.batch;
    let name = |s: Option<flowscope::model::Sym>| s.map_or("", |s| batch.interner.resolve(s));
    let mut json = std::io::BufWriter::new(std::fs::File::create(json_out)?);
    let mut pb = std::io::BufWriter::new(std::fs::File::create(pb_out)?);
    for request in batch.spans.chunks(SPANS_PER_REQUEST) {
        let mut line = String::from("{\"resourceSpans\":[");
        let mut message = Vec::new();
        for (r, resource) in request
            .chunk_by(|a, b| a.local.service == b.local.service)
            .enumerate()
        {
            let service = name(resource[0].local.service);
            if r > 0 {
                line.push(',');
            }
            write!(
                line,
                "{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":{}}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"bench\"}},\"spans\":[",
                serde_json::to_string(service)?
            )?;
            let mut spans = Vec::new();
            for (i, span) in resource.iter().enumerate() {
                let trace = trace_hex(span.trace_id(), &batch);
                let id = span_hex(span.id(), &batch);
                let parent = span.parent_id().map(|p| span_hex(p, &batch));
                let start = span.timestamp_micros().unwrap_or(0).max(0) as u64 * 1000;
                let end = start + span.duration_micros().unwrap_or(0) * 1000;
                let kind = match span.kind {
                    Some(flowscope::model::Kind::Server) => 2,
                    Some(flowscope::model::Kind::Client) => 3,
                    Some(flowscope::model::Kind::Producer) => 4,
                    Some(flowscope::model::Kind::Consumer) => 5,
                    None => 1,
                };
                let tags: Vec<(&str, &str)> = batch
                    .tags_of(span.tags)
                    .iter()
                    .map(|t| {
                        (
                            batch.interner.resolve(t.key),
                            batch.interner.resolve(t.value),
                        )
                    })
                    .collect();
                if i > 0 {
                    line.push(',');
                }
                write!(
                    line,
                    "{{\"traceId\":\"{trace}\",\"spanId\":\"{id}\",\"parentSpanId\":\"{}\",\"name\":{},\"kind\":{kind},\"startTimeUnixNano\":\"{start}\",\"endTimeUnixNano\":\"{end}\",\"attributes\":[",
                    parent.as_deref().unwrap_or(""),
                    serde_json::to_string(name(span.name))?
                )?;
                let mut proto_span = Vec::new();
                proto_bytes(&mut proto_span, 1, &hex_bytes(&trace));
                proto_bytes(&mut proto_span, 2, &hex_bytes(&id));
                if let Some(p) = &parent {
                    proto_bytes(&mut proto_span, 4, &hex_bytes(p));
                }
                proto_bytes(&mut proto_span, 5, name(span.name).as_bytes());
                proto_varint(&mut proto_span, 6, kind);
                proto_fixed64(&mut proto_span, 7, start);
                proto_fixed64(&mut proto_span, 8, end);
                for (t, (key, value)) in tags.iter().enumerate() {
                    if t > 0 {
                        line.push(',');
                    }
                    write!(
                        line,
                        "{{\"key\":{},\"value\":{{\"stringValue\":{}}}}}",
                        serde_json::to_string(key)?,
                        serde_json::to_string(value)?
                    )?;
                    let mut kv = Vec::new();
                    proto_bytes(&mut kv, 1, key.as_bytes());
                    let mut any = Vec::new();
                    proto_bytes(&mut any, 1, value.as_bytes());
                    proto_bytes(&mut kv, 2, &any);
                    proto_bytes(&mut proto_span, 9, &kv);
                }
                line.push_str("]}");
                spans.push(proto_span);
            }
            line.push_str("]}]}");
            let mut kv = Vec::new();
            proto_bytes(&mut kv, 1, b"service.name");
            let mut any = Vec::new();
            proto_bytes(&mut any, 1, service.as_bytes());
            proto_bytes(&mut kv, 2, &any);
            let mut res = Vec::new();
            proto_bytes(&mut res, 1, &kv);
            let mut scope = Vec::new();
            let mut scope_info = Vec::new();
            proto_bytes(&mut scope_info, 1, b"bench");
            proto_bytes(&mut scope, 1, &scope_info);
            for span in &spans {
                proto_bytes(&mut scope, 2, span);
            }
            let mut rs = Vec::new();
            proto_bytes(&mut rs, 1, &res);
            proto_bytes(&mut rs, 2, &scope);
            proto_bytes(&mut message, 1, &rs);
        }
        line.push_str("]}\n");
        json.write_all(line.as_bytes())?;
        pb.write_all(&u32::try_from(message.len())?.to_be_bytes())?;
        pb.write_all(&message)?;
    }
    json.flush()?;
    pb.flush()?;
    Ok(())
}

fn trace_hex(id: flowscope::model::TraceId, batch: &flowscope::model::Batch) -> String {
    match id {
        flowscope::model::TraceId::Hex64(low) => format!("{:016x}{low:016x}", 0),
        flowscope::model::TraceId::Hex128 { high, low } => format!("{high:016x}{low:016x}"),
        flowscope::model::TraceId::Opaque(s) => batch.interner.resolve(s).to_owned(),
    }
}

fn span_hex(id: flowscope::model::SpanId, batch: &flowscope::model::Batch) -> String {
    match id {
        flowscope::model::SpanId::Hex(v) => format!("{v:016x}"),
        flowscope::model::SpanId::Opaque(s) => batch.interner.resolve(s).to_owned(),
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn proto_varint(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3);
    varint(out, value);
}

fn proto_fixed64(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3 | 1);
    out.extend_from_slice(&value.to_le_bytes());
}

fn proto_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}
