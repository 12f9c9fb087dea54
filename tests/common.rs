//! Helpers shared by the integration tests: fixture paths and loading.

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::path::{Path, PathBuf};

use flowscope::ingest::{self, Format, Report};
use flowscope::model::{Batch, TraceStore};

/// A file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `../shared/traces` beside the project, if present. Under CI its absence is a failure.
pub fn shared_traces() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    if p.is_dir() {
        Some(p)
    } else if std::env::var_os("CI").is_some() {
        panic!("../shared/traces is missing under CI");
    } else {
        eprintln!("skipping: ../shared/traces is not beside the project");
        None
    }
}

/// Reads one file, panicking if it is not a trace file.
pub fn read(path: &Path) -> (Format, Batch, Report) {
    let read = ingest::read_path(path).unwrap_or_else(|e| panic!("{e}"));
    (read.format, read.batch, read.report)
}

/// Reads files into one indexed store.
pub fn store_of(paths: &[PathBuf]) -> TraceStore {
    let mut store = TraceStore::default();
    for p in paths {
        let (_, batch, _) = read(p);
        store.append(batch);
    }
    store.index();
    store
}
