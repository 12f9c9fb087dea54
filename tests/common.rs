//! Helpers shared by the integration tests: fixture paths and loading.

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
    for (i, p) in paths.iter().enumerate() {
        let (_, mut batch, _) = read(p);
        batch.set_file(flowscope::model::FileId(i as u32));
        store.append(batch);
    }
    store.index();
    store
}

/// Fixed positions for scene tests (as rerun does for snapshots): each (region, zone) group on
/// a big circle, its nodes on a small circle around the group's centre.
pub fn grouped_circle_positions(
    graph: &flowscope::derive::ServiceGraph,
    interner: &flowscope::model::Interner,
) -> Vec<[f32; 2]> {
    use petgraph::visit::NodeIndexable as _;
    let mut groups: std::collections::BTreeMap<(String, String), Vec<usize>> =
        std::collections::BTreeMap::new();
    for n in graph.graph.node_indices() {
        let info = &graph.graph[n];
        let name = |s: Option<flowscope::model::Sym>| {
            s.map(|s| interner.resolve(s).to_owned())
                .unwrap_or_default()
        };
        groups
            .entry((name(info.region), name(info.zone)))
            .or_default()
            .push(n.index());
    }
    let mut pos = vec![[0.0f32; 2]; graph.graph.node_bound()];
    let count = groups.len() as f32;
    for (gi, members) in groups.values().enumerate() {
        let a = gi as f32 / count * std::f32::consts::TAU;
        let centre = [a.cos() * 400.0, a.sin() * 400.0];
        let m = members.len() as f32;
        let radius = 20.0 + m.sqrt() * 12.0;
        for (k, &n) in members.iter().enumerate() {
            let b = k as f32 / m * std::f32::consts::TAU;
            pos[n] = [centre[0] + b.cos() * radius, centre[1] + b.sin() * radius];
        }
    }
    pos
}

/// Reads the files that read (others are left out, as the command line leaves them) into one
/// indexed store, each with its file number.
pub fn store_of_readable(paths: &[PathBuf]) -> TraceStore {
    let mut store = TraceStore::default();
    for (i, p) in paths.iter().enumerate() {
        if let Ok(read) = ingest::read_path(p) {
            let mut batch = read.batch;
            batch.set_file(flowscope::model::FileId(i as u32));
            store.append(batch);
        }
    }
    store.index();
    store
}

/// The totals `flowscope stats --json` prints that an aggregate must keep.
pub const COUNT_KEYS: [&str; 8] = [
    "spans",
    "traces",
    "services",
    "instances",
    "regions",
    "zones",
    "edges",
    "links",
];

/// Runs the flowscope binary with `args`.
pub fn run_flowscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowscope"))
        .args(args)
        .output()
        .expect("the flowscope binary runs")
}

/// A fresh temporary path for `what` of this test process (removed if it was there).
pub fn fresh_temp(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-{what}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}
