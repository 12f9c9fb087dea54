//! The window's loader (`ui::loader`): a file read block by block, with a first picture on the
//! way, ends in the same model as the file read at once; a cancelled load gives nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flowscope::ingest;
use flowscope::model::{FileId, Level, TraceStore};
use flowscope::ui::loader::{LoadOptions, LoadOutcome, Loader};
use flowscope::ui::model::{FileInfo, Model};

use crate::common::{fixture, shared_traces};
use crate::derive_levels::{Spelled, spell};

/// Small blocks, so a few hundred kilobytes stream in many pieces and show a first picture.
const SMALL: LoadOptions = LoadOptions {
    block_bytes: 4096,
    preview_bytes: 64 << 10,
};

/// Runs a load to its end (at most a minute), taking its first picture on the way.
fn load(paths: Vec<PathBuf>, options: LoadOptions) -> (Option<Model>, LoadOutcome) {
    let loader = Loader::start_with(paths, options, || {}).unwrap();
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut preview = None;
    loop {
        if preview.is_none() {
            preview = loader.take_preview();
        }
        if let Some(outcome) = loader.poll() {
            // The loader waits for its first picture before the whole graph.
            return (preview.or_else(|| loader.take_preview()), outcome);
        }
        assert!(Instant::now() < deadline, "the load did not finish");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The model of files read whole, at once, as the window would derive it.
fn read_at_once(paths: &[PathBuf]) -> Model {
    let mut store = TraceStore::default();
    let mut files = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let bytes = std::fs::read(p).unwrap();
        let (format, mut batch, report) = ingest::parse_bytes(&bytes).unwrap();
        batch.set_file(FileId(i as u32));
        store.append(batch);
        files.push(FileInfo {
            path: p.clone(),
            format,
            compression: None,
            bytes: bytes.len() as u64,
            warnings: Vec::new(),
            warning_count: report.total(),
        });
    }
    store.index();
    Model::derive(paths.to_vec(), files, store)
}

/// Every level spelled out, and the trace list with its services by name.
fn spelled(model: &Model) -> (Vec<Spelled>, Vec<String>) {
    let interner = &model.store.data.interner;
    let graphs = Level::ALL
        .into_iter()
        .map(|l| spell(model.graph(l).unwrap(), interner, model.traces.len()))
        .collect();
    let rows = model
        .traces
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {} {} {} {}",
                model.trace_id(r.trace()).unwrap(),
                r.start_micros,
                r.duration_micros,
                r.spans,
                r.errors,
                r.root_service(interner)
            )
        })
        .collect();
    (graphs, rows)
}

fn check_streamed_equals_at_once(paths: &[PathBuf]) {
    let what = format!("{paths:?}");
    let (preview, outcome) = load(paths.to_vec(), SMALL);
    assert!(!outcome.cancelled && outcome.failures.is_empty(), "{what}");
    let streamed = outcome.model.expect("a model");
    let whole = read_at_once(paths);
    assert_eq!(
        streamed.store.spans().len(),
        whole.store.spans().len(),
        "{what}"
    );
    assert_eq!(
        streamed
            .files
            .iter()
            .map(|f| f.warning_count)
            .collect::<Vec<_>>(),
        whole
            .files
            .iter()
            .map(|f| f.warning_count)
            .collect::<Vec<_>>(),
        "{what}"
    );
    assert!(
        spelled(&streamed) == spelled(&whole),
        "{what}: the streamed model differs"
    );
    // The first picture came from the first blocks: fewer spans, but something to see.
    let preview = preview.unwrap_or_else(|| panic!("{what}: no first picture"));
    let shown = preview.store.spans().len();
    assert!(
        shown > 0 && shown < whole.store.spans().len(),
        "{what}: {shown} spans"
    );
    assert!(preview.graph(Level::Service).unwrap().graph.node_count() > 0);
}

/// `text` with its line ends taken out (none is inside a JSON string), so the reader thread
/// must split its records itself.
fn one_line_copy(path: &Path) -> PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let out = std::env::temp_dir().join(format!(
        "flowscope-one-line-{}-{}",
        std::process::id(),
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&out, text.replace('\n', "")).unwrap();
    out
}

#[test]
fn a_file_streamed_block_by_block_ends_in_the_model_read_at_once() {
    // Pretty-printed (blocks end inside records), and the same on one line.
    let pretty = fixture("zipkin/smartthings-mobile-web-install.json");
    check_streamed_equals_at_once(std::slice::from_ref(&pretty));
    let one_line = one_line_copy(&pretty);
    check_streamed_equals_at_once(std::slice::from_ref(&one_line));
    std::fs::remove_file(one_line).ok();
    // Several files, the first picture taken between them or inside one.
    check_streamed_equals_at_once(&[
        fixture("zipkin/smartthings-oauth-authorization.json"),
        fixture("zipkin/yelp.json"),
        pretty,
    ]);
    let Some(shared) = shared_traces() else {
        return;
    };
    // Spigo flows: Zipkin v1, a span per line, traces spread over the file.
    for run in ["netflix", "netflixoss", "lamp"] {
        check_streamed_equals_at_once(&[shared.join(format!("spigo/runs/{run}/flow.json"))]);
    }
}

#[test]
fn a_cancelled_load_hands_back_no_model() {
    let loader = Loader::start_with(
        vec![fixture("zipkin/smartthings-mobile-web-install.json")],
        LoadOptions {
            block_bytes: 512,
            preview_bytes: u64::MAX,
        },
        || {},
    )
    .unwrap();
    loader.cancel();
    let deadline = Instant::now() + Duration::from_mins(1);
    let outcome = loop {
        if let Some(outcome) = loader.poll() {
            break outcome;
        }
        assert!(Instant::now() < deadline, "the load did not stop");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(outcome.cancelled);
    assert!(outcome.model.is_none());
}

/// A compressed file loads as its plain form does, and the progress counts the files' own
/// bytes: it never passes the total and ends on it. See: #16
#[test]
fn issue_16_a_compressed_file_loads_with_progress_in_file_bytes() {
    use std::io::Write as _;
    let pretty = fixture("zipkin/smartthings-mobile-web-install.json");
    let gz = std::env::temp_dir().join(format!("flowscope-loader-{}.json.gz", std::process::id()));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(&pretty).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let paths = vec![gz.clone(), fixture("zipkin/yelp.json")];
    let loader = Loader::start_with(paths.clone(), SMALL, || {}).unwrap();
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut seen = Vec::new();
    let outcome = loop {
        let p = loader.progress();
        seen.push((p.bytes_done, p.bytes_total));
        if let Some(outcome) = loader.poll() {
            break outcome;
        }
        assert!(Instant::now() < deadline, "the load did not finish");
        std::thread::sleep(Duration::from_millis(1));
    };
    let end = loader.progress();
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum::<u64>();
    std::fs::remove_file(&gz).ok();
    assert_eq!((end.bytes_done, end.bytes_total), (total, total));
    assert!(seen.iter().all(|&(done, all)| done <= all), "{seen:?}");
    let model = outcome.model.unwrap();
    assert_eq!(
        model.files[0].compression,
        Some(flowscope::ingest::Compression::Gzip)
    );
    let plain = read_at_once(&[pretty, fixture("zipkin/yelp.json")]);
    assert_eq!(model.store.spans().len(), plain.store.spans().len());
    assert_eq!(model.traces.len(), plain.traces.len());
}
