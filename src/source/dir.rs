//! [`DirTail`]: follows every trace file under some directories (and single files) with one [`FileTail`] each: new files, appended bytes, truncation, rotation.
//!
//! Each [`DirTail::scan`] lists the trace-looking files (as [`crate::ingest::expand_paths`]
//! does), matches them to the files already followed by identity (device and inode on Unix, so a
//! renamed file is followed under its new name), and reads what each open file gained since the
//! last scan through the handle it keeps (so a file rotated away is read to its end). A file
//! shorter than what was read, or whose first bytes changed, was truncated or rewritten: it is
//! read again from its start and replaces what it gave. A file that disappears keeps what it gave.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use super::tail::{FileTail, TailOutput};
use crate::ingest::{self, Format};
use crate::model::FileId;

/// Most bytes read from one file in one go.
const READ_BYTES: u64 = 16 << 20;
/// Bytes from a file's start compared on every scan to notice a rewrite.
const SAMPLE_BYTES: usize = 64;

/// What one file gave in a scan.
#[derive(Debug)]
pub struct FileUpdate {
    /// The file's number, stable while it is followed (renames included), in order of discovery.
    pub file: FileId,
    /// Its path now.
    pub path: PathBuf,
    /// Its format, once known.
    pub format: Option<Format>,
    /// Its size as read so far.
    pub bytes: u64,
    /// What to do with the model.
    pub output: TailOutput,
}

/// A file or directory that could not be read, and why (one line naming the path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailFailure {
    /// The path.
    pub path: PathBuf,
    /// Why, with the path at the end.
    pub reason: String,
}

/// What one scan found.
#[derive(Debug, Default)]
pub struct ScanResult {
    /// Updates, in file order.
    pub updates: Vec<FileUpdate>,
    /// New failures (each reported once).
    pub failures: Vec<TailFailure>,
    /// Bytes read in this scan.
    pub bytes_read: u64,
}

/// The identity of a file on disk: device and inode (Unix only; elsewhere files are matched by
/// path, and a renamed file is a new one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Identity(u64, u64);

/// One file being followed.
#[derive(Debug)]
struct Followed {
    id: FileId,
    identity: Option<Identity>,
    file: File,
    tail: FileTail,
    /// The first bytes read, to notice a rewrite.
    sample: Vec<u8>,
    /// Size at the last scan.
    last_len: u64,
    /// Seen in the latest listing.
    listed: bool,
    /// Its failure was reported.
    failure_reported: bool,
}

/// Follows the trace files under a set of roots.
#[derive(Debug)]
pub struct DirTail {
    roots: Vec<PathBuf>,
    files: Vec<Followed>,
    next_id: u32,
    /// Roots whose listing failed, so each failure is reported once.
    failed_roots: Vec<PathBuf>,
}

#[cfg(unix)]
#[expect(
    clippy::unnecessary_wraps,
    reason = "None where inodes are not known (not Unix)"
)]
fn identity_of(meta: &std::fs::Metadata) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt as _;
    Some(Identity(meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity_of(_meta: &std::fs::Metadata) -> Option<Identity> {
    None
}

impl DirTail {
    /// Follows the files under `roots` (directories recursively; files as given).
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self {
            roots,
            files: Vec::new(),
            next_id: 0,
            failed_roots: Vec::new(),
        }
    }

    /// The roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Files followed now (those that disappeared and were read to their end are dropped).
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Files found so far, including those no longer followed.
    pub fn files_seen(&self) -> usize {
        self.next_id as usize
    }

    /// Lists the files, then reads what each gained.
    pub fn scan(&mut self) -> ScanResult {
        let mut result = ScanResult::default();
        for f in &mut self.files {
            f.listed = false;
        }
        let mut listed: Vec<PathBuf> = Vec::new();
        for root in &self.roots {
            match ingest::expand_paths(std::slice::from_ref(root)) {
                Ok(found) => {
                    self.failed_roots.retain(|r| r != root);
                    listed.extend(found);
                }
                Err(e) => {
                    if !self.failed_roots.contains(root) {
                        self.failed_roots.push(root.clone());
                        result.failures.push(TailFailure {
                            path: root.clone(),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        for path in listed {
            self.match_path(&path, &mut result);
        }
        for f in &mut self.files {
            read_new(f, &mut result);
        }
        // A file no longer listed (deleted, or rotated away under a name that is not followed)
        // was read to its end through its handle above; what it gave stays.
        self.files.retain(|f| f.listed);
        result
    }

    /// Finds the followed file `path` is, or starts following it.
    fn match_path(&mut self, path: &Path, result: &mut ScanResult) {
        // Gone between the listing and now: the next scan sees what happened.
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let identity = identity_of(&meta);
        let known = self
            .files
            .iter_mut()
            .position(|f| match (identity, f.identity) {
                (Some(a), Some(b)) => a == b,
                _ => f.tail.path() == path,
            });
        if let Some(i) = known {
            if let Some(f) = self.files.get_mut(i) {
                if f.tail.path() != path {
                    f.tail.set_path(path);
                }
                f.listed = true;
            }
            return;
        }
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => {
                result.failures.push(TailFailure {
                    path: path.to_owned(),
                    reason: format!("cannot open ({e}): {}", path.display()),
                });
                return;
            }
        };
        let id = FileId(self.next_id);
        self.next_id += 1;
        self.files.push(Followed {
            id,
            identity,
            file,
            tail: FileTail::new(path),
            sample: Vec::new(),
            last_len: 0,
            listed: true,
            failure_reported: false,
        });
    }
}

/// Reports that a followed file cannot be read, once per file.
fn report_once(f: &mut Followed, path: &Path, e: &std::io::Error, result: &mut ScanResult) {
    if !f.failure_reported {
        f.failure_reported = true;
        result.failures.push(TailFailure {
            path: path.to_owned(),
            reason: format!("cannot read ({e}): {}", path.display()),
        });
    }
}

/// Reads what one file gained since the last scan.
fn read_new(f: &mut Followed, result: &mut ScanResult) {
    let path = f.tail.path().to_owned();
    let len = match f.file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return report_once(f, &path, &e, result),
    };
    let rewritten = len < f.tail.offset() || (len != f.last_len && !same_start(f));
    f.last_len = len;
    if rewritten {
        f.sample.clear();
        let output = f.tail.restart();
        result.updates.push(FileUpdate {
            file: f.id,
            path: path.clone(),
            format: None,
            bytes: 0,
            output,
        });
    }
    while f.tail.offset() < len {
        let offset = f.tail.offset();
        let want = (len - offset).min(READ_BYTES);
        let mut buf = Vec::with_capacity(want as usize);
        let read = f
            .file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| (&mut f.file).take(want).read_to_end(&mut buf));
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return report_once(f, &path, &e, result),
        }
        result.bytes_read += buf.len() as u64;
        if f.sample.len() < SAMPLE_BYTES && offset as usize == f.sample.len() {
            let more = SAMPLE_BYTES - f.sample.len();
            f.sample
                .extend_from_slice(buf.get(..more.min(buf.len())).unwrap_or_default());
        }
        let output = f.tail.feed(offset, &buf);
        if let Some(output) = output {
            result.updates.push(FileUpdate {
                file: f.id,
                path: path.clone(),
                format: f.tail.format(),
                bytes: f.tail.offset(),
                output,
            });
        }
        if let Some(reason) = f.tail.failure()
            && !f.failure_reported
        {
            f.failure_reported = true;
            result.failures.push(TailFailure {
                path: path.clone(),
                reason: reason.to_owned(),
            });
        }
    }
}

/// Whether the file still starts with the bytes first read from it.
fn same_start(f: &mut Followed) -> bool {
    if f.sample.is_empty() {
        return true;
    }
    let mut now = Vec::with_capacity(f.sample.len());
    let read = f.file.seek(SeekFrom::Start(0)).and_then(|_| {
        (&mut f.file)
            .take(f.sample.len() as u64)
            .read_to_end(&mut now)
    });
    // When the start cannot be read, the size check alone decides.
    read.is_err() || now == f.sample
}
