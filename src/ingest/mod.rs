//! Reads trace files of every supported format into [`Batch`]es of one [`Span`](crate::model::Span) type.
//!
//! The format is sniffed from the content ([`detect`]). Record-oriented layouts are split without
//! parsing ([`split`]) and parsed in parallel; bad records become counted warnings ([`Report`]).

pub mod compress;
pub mod deps;
pub mod detect;
pub mod fastjson;
pub mod jaeger;
pub mod json;
pub mod limits;
pub mod otlp;
pub(crate) mod protobuf;
pub mod report;
pub mod spigo;
pub mod split;
pub mod stream;
pub mod zipkin;
pub mod zipkin_v1;
pub mod zipkin_v2;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use compress::Compression;
pub use detect::SniffError;
pub use report::{Report, WarningKind};

use crate::model::Batch;

/// A trace file format.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Format {
    /// Zipkin v2 JSON (`/api/v2/spans`).
    ZipkinV2,
    /// Zipkin v1 JSON (annotations with endpoints). Spigo flow files are this format.
    ZipkinV1,
    /// Spigo graph file (`-j`): node / edge / done / forget records.
    SpigoGraph,
    /// Spigo architecture definition (`*_arch.json`), expanded into instances.
    SpigoArch,
    /// The 2015 Spigo flow form: one annotation per line (`migration_flow.json`).
    SpigoMigration,
    /// Jaeger UI / query-API JSON.
    JaegerUi,
    /// Jaeger protobuf-JSON (`model.Batch`).
    JaegerProto,
    /// Jaeger's Elasticsearch/OpenSearch span documents: UI-like spans with an inline `process`,
    /// `startTimeMillis`, and `tag` maps whose keys write dots as `@`.
    JaegerEs,
    /// Jaeger's storage model (`model.Span`) in its protobuf-JSON form, as `{"spans":[…]}`:
    /// camelCase, base64 ids, RFC 3339 start times, inline `process`.
    JaegerModelJson,
    /// OpenTelemetry OTLP/JSON (also NDJSON and Tempo's `batches`).
    Otlp,
    /// OTLP protobuf as the collector's file exporter writes it (`format: proto`): each message
    /// a 4-byte big-endian length and a `TracesData`, or a zstd frame of one.
    OtlpProto,
    /// Jaeger's query API v3 (`/api/v3/traces/…`): OTLP/JSON under `{"result": …}`, one object
    /// per streamed chunk.
    JaegerApiV3,
    /// Dependency links `[{parent, child, callCount, errorCount}]`.
    DependencyLinks,
}

impl Format {
    /// Short name used in `stats`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ZipkinV2 => "zipkin-v2",
            Self::ZipkinV1 => "zipkin-v1",
            Self::SpigoGraph => "spigo-graph",
            Self::SpigoArch => "spigo-arch",
            Self::SpigoMigration => "spigo-migration",
            Self::JaegerUi => "jaeger-ui",
            Self::JaegerProto => "jaeger-proto",
            Self::JaegerEs => "jaeger-es",
            Self::JaegerModelJson => "jaeger-model-json",
            Self::Otlp => "otlp",
            Self::OtlpProto => "otlp-proto",
            Self::JaegerApiV3 => "jaeger-api-v3",
            Self::DependencyLinks => "dependency-links",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How `stats` and the window name what a file was read as: its format, and its compression
/// after a `+` (`zipkin-v2+gzip`).
pub fn layout_name(format: Format, compression: Option<Compression>) -> String {
    match compression {
        Some(c) => format!("{format}+{c}"),
        None => format.as_str().to_owned(),
    }
}

/// A file that could not be read at all. Files with bad records still load, with a [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("cannot read file ({source}): {path}")]
    Io {
        /// The OS error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// The content is not a trace file.
    #[error("{reason}: {path}")]
    NotTraces {
        /// Why.
        reason: SniffError,
        /// The file.
        path: PathBuf,
    },
}

/// What reading one file gave.
#[derive(Debug)]
pub struct FileRead {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// How it was compressed, if it was.
    pub compression: Option<Compression>,
    /// What was read.
    pub batch: Batch,
    /// Warnings.
    pub report: Report,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Time to read and parse.
    pub elapsed: Duration,
}

/// Parses bytes of a known format.
pub fn parse_format(format: Format, bytes: &[u8]) -> (Batch, Report) {
    let mut report = Report::default();
    let batch = match format {
        Format::ZipkinV2 => zipkin_v2::read(bytes, &mut report),
        Format::ZipkinV1 => zipkin_v1::read(bytes, &mut report),
        Format::SpigoGraph => spigo::read_graph(bytes, &mut report),
        Format::SpigoArch => spigo::read_arch(bytes, &mut report),
        Format::SpigoMigration => spigo::read_migration(bytes, &mut report),
        Format::JaegerUi | Format::JaegerEs => jaeger::read_ui(bytes, &mut report),
        Format::JaegerProto | Format::JaegerModelJson => jaeger::read_proto(bytes, &mut report),
        Format::Otlp | Format::JaegerApiV3 => otlp::read(bytes, &mut report),
        Format::OtlpProto => otlp::read_proto(bytes, &mut report),
        Format::DependencyLinks => deps::read(bytes, &mut report),
    };
    let mut batch = batch;
    limits::settle(&mut batch, &mut report);
    (batch, report)
}

/// Sniffs and parses bytes.
pub fn parse_bytes(bytes: &[u8]) -> Result<(Format, Batch, Report), SniffError> {
    let format = detect::sniff(bytes)?;
    let (batch, report) = parse_format(format, bytes);
    Ok((format, batch, report))
}

/// The per-record parser of formats whose files are a list of independent records (Zipkin v1
/// and v2); `None` for formats read as a whole.
pub fn record_parser(format: Format) -> Option<stream::Parsers> {
    match format {
        Format::ZipkinV2 => Some(stream::Parsers {
            record: zipkin_v2::parse_record,
            at: zipkin_v2::parse_record_at,
        }),
        Format::ZipkinV1 => Some(stream::Parsers {
            record: zipkin_v1::parse_record,
            at: zipkin_v1::parse_record_at,
        }),
        _ => None,
    }
}

/// What watches a streamed file's blocks: its format and compression, the records so far, their
/// bytes; false stops.
pub type WatchBlocks<'a> = dyn FnMut(Format, Option<Compression>, &Batch, u64) -> bool + 'a;

/// How [`read_path_with`] reads a file.
pub struct ReadOptions<'a> {
    /// Bytes read at a time when a file is streamed; the format is sniffed from the first block.
    pub block_bytes: usize,
    /// Called after each block of a streamed file is joined, in file order, with the file's
    /// format and compression, the records read so far and the bytes they came from. Returning false stops the
    /// read there; it then fails with [`std::io::ErrorKind::Interrupted`].
    pub on_block: Option<&'a mut WatchBlocks<'a>>,
}

impl Default for ReadOptions<'_> {
    fn default() -> Self {
        Self {
            block_bytes: stream::BLOCK_BYTES,
            on_block: None,
        }
    }
}

impl fmt::Debug for ReadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOptions")
            .field("block_bytes", &self.block_bytes)
            .field("on_block", &self.on_block.is_some())
            .finish()
    }
}

/// Reads one file. Files larger than one block in a record-oriented layout are streamed (never
/// held in memory whole); others are read and parsed at once.
pub fn read_path(path: &Path) -> Result<FileRead, IngestError> {
    read_path_with(path, ReadOptions::default())
}

/// [`read_path`] with a chosen block size, watched block by block (the window draws a first
/// picture from a large file's first blocks).
pub fn read_path_with(path: &Path, options: ReadOptions<'_>) -> Result<FileRead, IngestError> {
    use std::io::Read as _;
    let started = Instant::now();
    let io = |source| IngestError::Io {
        source,
        path: path.to_owned(),
    };
    let block_bytes = options.block_bytes.max(1);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let file_bytes = file.metadata().map_or(0, |m| m.len());
    let mut head = Vec::with_capacity(block_bytes);
    (&mut file)
        .take(block_bytes as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    // A compressed file is read through its decoder: the format is sniffed from what it decodes
    // to, and the watcher is told how far into the file (compressed) the read has come.
    let compression = Compression::sniff(&head);
    let damage = compress::Damage::default();
    let consumed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut source: Box<dyn std::io::Read + Send> = match compression {
        None => Box::new(file),
        Some(c) => {
            let raw = std::io::Cursor::new(std::mem::take(&mut head)).chain(file);
            let counted = compress::Counted::new(raw, std::sync::Arc::clone(&consumed));
            let mut decoded = c.decoder(counted, &damage).map_err(io)?;
            (&mut decoded)
                .take(block_bytes as u64)
                .read_to_end(&mut head)
                .map_err(io)?;
            decoded
        }
    };
    let format = detect::sniff(&head).map_err(|reason| IngestError::NotTraces {
        reason,
        path: path.to_owned(),
    })?;
    let framing = {
        let i = split::skip_ws(&head, 0);
        match (head.get(i), head.get(split::skip_ws(&head, i + 1))) {
            (Some(b'['), Some(b'{')) => Some(stream::Framing::Array),
            (Some(b'{'), _) => Some(stream::Framing::Lines),
            _ => None,
        }
    };
    let (batch, mut report, bytes) = match (record_parser(format), framing) {
        (Some(parse), Some(framing)) if head.len() == block_bytes => {
            let mut watch = options.on_block;
            let mut with_format = |batch: &Batch, bytes: u64| {
                let bytes = match compression {
                    Some(_) => consumed.load(std::sync::atomic::Ordering::Relaxed),
                    None => bytes,
                };
                watch
                    .as_mut()
                    .is_none_or(|watch| watch(format, compression, batch, bytes))
            };
            let blocks = stream::Blocks {
                bytes: block_bytes,
                on_block: Some(&mut with_format),
                // Room is made from the file's size only where that is the data's size.
                expected_bytes: if compression.is_some() { 0 } else { file_bytes },
            };
            stream::stream_records_in_blocks(source, head, framing, parse, path, blocks)
                .map_err(io)?
        }
        _ => {
            source.read_to_end(&mut head).map_err(io)?;
            let (batch, report) = parse_format(format, &head);
            (batch, report, head.len() as u64)
        }
    };
    if let Some(fault) = damage.take() {
        report.warn(WarningKind::BadCompression, || fault);
    }
    Ok(FileRead {
        path: path.to_owned(),
        format,
        compression,
        batch,
        report,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// The file that marks a directory as an aggregate (see `crate::aggregate::parquet`).
pub const AGGREGATE_MANIFEST: &str = "flowscope-aggregate.json";

/// Expands the command line's paths: files as given, directories recursively (trace-looking files
/// only: `.json`, `.jsonl`, `.ndjson`), sorted for a stable order.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
        let io = |source| IngestError::Io {
            source,
            path: dir.to_owned(),
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                // An aggregate (`flowscope aggregate`'s directory) holds no trace files.
                if p.join(AGGREGATE_MANIFEST).is_file() {
                    continue;
                }
                walk(&p, out)?;
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "json" | "jsonl" | "ndjson" | "gz" | "zst"))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
