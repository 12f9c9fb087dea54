//! Reads trace files of every supported format into [`Batch`]es of one [`Span`](crate::model::Span) type.
//!
//! The format is sniffed from the content ([`detect`]). Record-oriented layouts are split without
//! parsing ([`split`]) and parsed in parallel; bad records become counted warnings ([`Report`]).

pub mod deps;
pub mod detect;
pub mod jaeger;
pub mod json;
pub mod otlp;
pub mod report;
pub mod spigo;
pub mod split;
pub mod zipkin;
pub mod zipkin_v1;
pub mod zipkin_v2;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// OpenTelemetry OTLP/JSON (also NDJSON and Tempo's `batches`).
    Otlp,
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
            Self::Otlp => "otlp",
            Self::DependencyLinks => "dependency-links",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
    /// What was read.
    pub batch: Batch,
    /// Warnings.
    pub report: Report,
    /// Size in bytes.
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
        Format::JaegerUi => jaeger::read_ui(bytes, &mut report),
        Format::JaegerProto => jaeger::read_proto(bytes, &mut report),
        Format::Otlp => otlp::read(bytes, &mut report),
        Format::DependencyLinks => deps::read(bytes, &mut report),
    };
    (batch, report)
}

/// Sniffs and parses bytes.
pub fn parse_bytes(bytes: &[u8]) -> Result<(Format, Batch, Report), SniffError> {
    let format = detect::sniff(bytes)?;
    let (batch, report) = parse_format(format, bytes);
    Ok((format, batch, report))
}

/// Reads one file.
pub fn read_path(path: &Path) -> Result<FileRead, IngestError> {
    let started = Instant::now();
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
        source,
        path: path.to_owned(),
    })?;
    let (format, batch, report) = parse_bytes(&bytes).map_err(|reason| IngestError::NotTraces {
        reason,
        path: path.to_owned(),
    })?;
    Ok(FileRead {
        path: path.to_owned(),
        format,
        batch,
        report,
        bytes: bytes.len() as u64,
        elapsed: started.elapsed(),
    })
}

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
                walk(&p, out)?;
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "json" | "jsonl" | "ndjson"))
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
