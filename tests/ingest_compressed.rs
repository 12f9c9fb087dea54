//! Compressed input: every shared trace file, gzip- and zstd-compressed here, reads as its plain
//! form does (format, spans, warnings, `stats` counts and `deps` at every level); a streamed
//! file decodes block by block; a cut-short stream keeps what came before with a warning.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use flowscope::cli::{count, links_json};
use flowscope::ingest::{self, Compression, ReadOptions, WarningKind};
use flowscope::model::{Level, TraceStore};

use crate::common::{fixture, shared_traces};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// A fresh directory for this test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What `stats` and `deps` print for one file, read as the CLI reads it.
fn what_it_holds(read: ingest::FileRead) -> (ingest::Format, u64, ingest::Report, Vec<String>) {
    let format = read.format;
    let report = read.report.clone();
    let mut store = TraceStore::default();
    store.append(read.batch);
    store.index();
    let counts = count(&mut store);
    let mut out = vec![format!("{counts:?}")];
    for level in Level::ALL {
        out.push(format!("{level:?} {:?}", links_json(&mut store, level)));
    }
    (format, counts.spans, report, out)
}

fn compressed_copies(plain: &Path, dir: &Path, n: usize) -> [(Compression, PathBuf); 2] {
    let bytes = std::fs::read(plain).unwrap();
    let gz = dir.join(format!("{n}.json.gz"));
    let zst = dir.join(format!("{n}.json.zst"));
    std::fs::write(&gz, gzip(&bytes)).unwrap();
    std::fs::write(&zst, zstd(&bytes)).unwrap();
    [(Compression::Gzip, gz), (Compression::Zstd, zst)]
}

#[test]
fn every_shared_file_compressed_reads_as_the_plain_one() {
    let Some(dir) = shared_traces() else {
        return;
    };
    let out = temp_dir("compressed");
    let files = ingest::expand_paths(&[dir]).unwrap();
    let mut compared = 0;
    let mut spans = 0;
    for (n, file) in files.iter().enumerate() {
        let Ok(plain) = ingest::read_path(file) else {
            continue;
        };
        assert_eq!(plain.compression, None);
        let want = what_it_holds(plain);
        for (compression, path) in compressed_copies(file, &out, n) {
            let read = ingest::read_path(&path).unwrap();
            assert_eq!(read.compression, Some(compression), "{}", file.display());
            let got = what_it_holds(read);
            assert_eq!(got.0, want.0, "{} as {compression}", file.display());
            assert_eq!(
                got.2.counts,
                want.2.counts,
                "{} as {compression}",
                file.display()
            );
            assert_eq!(got.3, want.3, "{} as {compression}", file.display());
        }
        compared += 1;
        spans += want.1;
    }
    std::fs::remove_dir_all(&out).ok();
    assert!(compared >= 100, "only {compared} shared files compared");
    assert!(spans > 10_000, "{spans}");
}

#[test]
fn a_compressed_file_streams_block_by_block_with_the_files_own_progress() {
    let plain_path = fixture("zipkin/smartthings-mobile-web-install.json");
    let out = temp_dir("compressed-stream");
    let [_, (_, zst)] = compressed_copies(&plain_path, &out, 0);
    let compressed_size = std::fs::metadata(&zst).unwrap().len();
    let options = |watch| ReadOptions {
        block_bytes: 4096,
        on_block: Some(watch),
    };
    let mut plain_blocks = 0;
    let mut plain_watch = |_, compression, _: &_, _| {
        assert_eq!(compression, None);
        plain_blocks += 1;
        true
    };
    let plain = ingest::read_path_with(&plain_path, options(&mut plain_watch)).unwrap();
    let mut seen = Vec::new();
    let mut watch = |format, compression, _: &_, bytes| {
        assert_eq!(format, ingest::Format::ZipkinV2);
        assert_eq!(compression, Some(Compression::Zstd));
        seen.push(bytes);
        true
    };
    let read = ingest::read_path_with(&zst, options(&mut watch)).unwrap();
    std::fs::remove_dir_all(&out).ok();
    assert!(
        plain_blocks > 10 && seen.len() > 10,
        "{plain_blocks} {}",
        seen.len()
    );
    // Progress counts the file's (compressed) bytes, growing to its size.
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen.iter().all(|&b| b <= compressed_size));
    assert_eq!(read.bytes, plain.bytes);
    assert_eq!(read.batch.spans.len(), plain.batch.spans.len());
    assert_eq!(
        what_it_holds(read).3,
        what_it_holds(ingest::read_path(&plain_path).unwrap()).3
    );
}

#[test]
fn a_cut_short_gzip_file_keeps_what_came_before_and_says_so() {
    let plain_path = fixture("zipkin/smartthings-mobile-web-install.json");
    let bytes = std::fs::read(&plain_path).unwrap();
    let mut gz = gzip(&bytes);
    gz.truncate(gz.len() * 2 / 3);
    let out = temp_dir("compressed-cut");
    let path = out.join("cut.json.gz");
    std::fs::write(&path, &gz).unwrap();
    let read = ingest::read_path(&path).unwrap();
    std::fs::remove_dir_all(&out).ok();
    let whole = ingest::read_path(&plain_path).unwrap();
    assert_eq!(
        read.report.counts.get(&WarningKind::BadCompression),
        Some(&1)
    );
    assert!(
        read.report
            .examples
            .iter()
            .any(|e| e.starts_with("bad_compression: the gzip stream breaks after ")),
        "{:?}",
        read.report.examples
    );
    let (got, all) = (read.batch.spans.len(), whole.batch.spans.len());
    assert!(got > 0 && got < all, "{got} of {all}");
}

#[test]
fn stats_names_the_layout_with_its_compression() {
    let plain = fixture("zipkin/messaging-kafka.json");
    let out = temp_dir("compressed-stats");
    let [(_, gz), (_, zst)] = compressed_copies(&plain, &out, 0);
    let stats = |path: &Path| {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_flowscope"))
            .args(["stats", "--json"])
            .arg(path)
            .output()
            .unwrap();
        assert!(run.status.success());
        let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let file = json["files"][0].clone();
        (
            file["format"].as_str().unwrap().to_owned(),
            file["spans"].clone(),
        )
    };
    let (plain_format, plain_spans) = stats(&plain);
    assert_eq!(plain_format, "zipkin-v2");
    assert_eq!(
        stats(&gz),
        ("zipkin-v2+gzip".to_owned(), plain_spans.clone())
    );
    assert_eq!(stats(&zst), ("zipkin-v2+zstd".to_owned(), plain_spans));
    std::fs::remove_dir_all(&out).ok();
}
