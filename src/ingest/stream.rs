//! Streams a large record-oriented file (an array of spans, or NDJSON) in blocks: one thread reads,
//! the rayon pool parses blocks, and results are joined in file order. The file is never held in
//! memory whole.
//!
//! Files written a record per line (almost all of them) are cut at line ends, and each block is
//! parsed record after record by its worker, so no thread scans the bytes twice. A raw line end is
//! never inside a JSON string, so a cut is always between tokens; if a cut falls inside a record
//! (pretty-printed files), the block before it ends in a partial record and the next block is
//! parsed again, joined to that partial record, in order. Files without line ends are split into
//! records by the reader thread instead.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use std::sync::Arc;

use parking_lot::Mutex;

use super::limits;
use super::report::{Report, WarningKind};
use super::split::skip_ws;
use crate::model::Batch;
use crate::model::intern::SymMap;

/// Bytes read at a time.
pub const BLOCK_BYTES: usize = 2 << 20;
/// Blocks being parsed at once (bounds memory).
const IN_FLIGHT: usize = 4;
/// The smallest first block the whole file's size is estimated from.
const MIN_ESTIMATE_BYTES: usize = 64 << 10;

/// Parses one record into a batch.
pub type RecordParser = fn(&[u8], &mut Batch, &mut Report);

/// Parses the record that starts at `pos` in a buffer and returns where it ends, or `None` (having
/// added nothing) when the buffer ends inside it.
pub type RecordAtParser = fn(&[u8], usize, &mut Batch, &mut Report) -> Option<usize>;

/// How a format parses its records.
#[derive(Clone, Copy, Debug)]
pub struct Parsers {
    /// A record given as its own slice.
    pub record: RecordParser,
    /// A record found at a position, its end found while parsing.
    pub at: RecordAtParser,
}

pub use super::split::Framing;
use super::split::Scanner as Splitter;

/// A block of complete records: the bytes and the records' ranges in them.
type Block = (Vec<u8>, Vec<Range<usize>>);

/// Watches a streamed read: called after each block is joined with the records so far and the
/// bytes they came from; false stops the read.
pub type OnBlock<'a> = Option<&'a mut dyn FnMut(&Batch, u64) -> bool>;

/// How a file is cut and watched while it streams.
pub struct Blocks<'a> {
    /// Bytes read at a time.
    pub bytes: usize,
    /// What watches the blocks as they are joined.
    pub on_block: OnBlock<'a>,
    /// About how many bytes the input holds (the file's size; 0 when unknown), to make room.
    pub expected_bytes: u64,
}

/// Reads `file` (whose first `head` bytes were already read) and parses its records, in blocks
/// of the chosen size (tests use small ones to cut records often), watched block by block.
pub fn stream_records_in_blocks<R: Read + Send + 'static>(
    file: R,
    head: Vec<u8>,
    framing: Framing,
    parsers: Parsers,
    path: &Path,
    blocks: Blocks<'_>,
) -> std::io::Result<(Batch, Report, u64)> {
    // A file written a record per line has line ends well inside its first block.
    let lines = head.len() > 1024 && memchr::memchr_iter(b'\n', &head).nth(1).is_some();
    let Blocks {
        bytes,
        on_block,
        expected_bytes,
    } = blocks;
    if lines {
        stream_lines(
            file,
            head,
            framing,
            parsers,
            path,
            bytes,
            expected_bytes,
            on_block,
        )
    } else {
        stream_presplit(file, head, framing, parsers.record, path, bytes, on_block)
    }
}

/// The error of a read its watcher stopped.
fn stopped() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "the read was stopped")
}

/// How a block of lines ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// After a complete record (or nothing).
    Clean,
    /// Inside a record that starts at this position.
    Tail(usize),
    /// At the array's closing `]`.
    Closed,
}

/// Parses the records of `buf` one after another. `first` is the file's first block (it holds
/// the opening `[` of an array).
fn parse_block(
    buf: &[u8],
    first: bool,
    framing: Framing,
    at: RecordAtParser,
    batch: &mut Batch,
    report: &mut Report,
) -> End {
    let mut i = 0;
    if first && framing == Framing::Array {
        i = skip_ws(buf, 0);
        match buf.get(i) {
            Some(b'[') => i += 1,
            Some(_) => {
                report.warn(WarningKind::BadRecord, || {
                    "the file does not start with '['".to_owned()
                });
            }
            None => return End::Clean,
        }
    }
    loop {
        i = skip_ws(buf, i);
        match buf.get(i) {
            None => return End::Clean,
            Some(b',') => i += 1,
            Some(b']') if framing == Framing::Array => return End::Closed,
            Some(b'{') => match at(buf, i, batch, report) {
                Some(end) => i = end.max(i + 1),
                None => return End::Tail(i),
            },
            Some(_) => {
                // Not a record: skip to the next line.
                report.warn(WarningKind::BadRecord, || {
                    "a value that is not an object was skipped".to_owned()
                });
                match memchr::memchr(b'\n', buf.get(i..).unwrap_or_default()) {
                    Some(k) => i += k + 1,
                    None => return End::Clean,
                }
            }
        }
    }
}

/// A parsed block: its number, what it gave, how it ended, and its bytes.
type Done = (usize, Part, Report, End, Vec<u8>);

/// A batch being parsed into, with the map from its symbols to the joined batch's. Parts go back
/// to the workers once joined, keeping their arrays' room (not faulted in again) and their
/// strings (a block's strings are mostly the last block's): a join maps only the strings new
/// since the part's last join.
#[derive(Default)]
struct Part {
    batch: Batch,
    map: SymMap,
    /// The pool thread that parsed into it last: a worker takes its own parts first, whose
    /// strings are still in its core's cache.
    worker: Option<usize>,
}

impl Part {
    /// Empties the part for the next block: its records go; its strings (and their map) stay
    /// unless there are more than `max_strings`.
    fn recycle(&mut self, max_strings: usize) {
        if self.batch.interner.len() > max_strings {
            self.batch.clear();
            self.map.0.clear();
        } else {
            self.batch.clear_records();
        }
    }
}

/// Strings a part keeps between blocks; past this it starts afresh, so parts of a file with
/// endless distinct strings do not each hold them all.
const MAX_KEPT_STRINGS: usize = 1 << 16;

/// What the join knows about the block before the next one.
enum Before {
    /// It ended between records: the next block starts at a record.
    Aligned,
    /// It ended inside a record: these bytes start it.
    Tail(Vec<u8>),
    /// The array was closed.
    Closed,
}

/// Streams a file cut at line ends, each block parsed by one worker.
#[expect(
    clippy::too_many_arguments,
    reason = "the streaming state is these parts; a struct would only rename them"
)]
fn stream_lines<R: Read + Send + 'static>(
    file: R,
    head: Vec<u8>,
    framing: Framing,
    parsers: Parsers,
    path: &Path,
    block_bytes: usize,
    file_bytes: u64,
    mut on_block: OnBlock<'_>,
) -> std::io::Result<(Batch, Report, u64)> {
    let (pool_tx, pool_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    let (block_tx, block_rx) = sync_channel::<std::io::Result<Vec<u8>>>(2);
    let parts: Arc<Mutex<Vec<Part>>> = Arc::default();
    let reader = std::thread::Builder::new()
        .name("ingest-reader".to_owned())
        .spawn(move || read_lines(file, head, block_bytes, &pool_rx, &block_tx))?;
    let (result_tx, result_rx) = sync_channel::<Done>(IN_FLIGHT);
    let mut batch = Batch::default();
    let mut report = Report::default();
    let mut before = Before::Aligned;
    let mut pending: std::collections::BTreeMap<usize, Done> = std::collections::BTreeMap::new();
    let mut next = 0usize;
    let mut seq = 0usize;
    let mut io_error = None;
    let mut joined_bytes = 0u64;
    let mut go_on = true;
    let at = parsers.at;
    // Joins the results that are next in order.
    let mut join = |pending: &mut std::collections::BTreeMap<usize, Done>, next: &mut usize| {
        while let Some((_, part, part_report, end, buf)) = pending.remove(next) {
            joined_bytes += buf.len() as u64;
            *next += 1;
            let (mut part, part_report, end, data) =
                match std::mem::replace(&mut before, Before::Aligned) {
                    Before::Aligned => (part, part_report, end, buf),
                    Before::Tail(mut tail) => {
                        // This block started inside a record: parse it again after that record's start.
                        tail.extend_from_slice(&buf);
                        pool_tx.try_send(buf).ok();
                        let mut part = part;
                        part.batch.clear();
                        part.map.0.clear();
                        let mut part_report = Report::default();
                        let b = &mut part.batch;
                        let end = parse_block(&tail, false, framing, at, b, &mut part_report);
                        limits::settle(b, &mut part_report);
                        (part, part_report, end, tail)
                    }
                    Before::Closed => {
                        if data_has_content(&buf) {
                            report.warn(WarningKind::BadRecord, || {
                                "content after the closing ']' was skipped".to_owned()
                            });
                        }
                        before = Before::Closed;
                        pool_tx.try_send(buf).ok();
                        continue;
                    }
                };
            if batch.spans.is_empty() && data.len() >= MIN_ESTIMATE_BYTES {
                // Room for the whole file, estimated from its first block.
                let blocks = file_bytes.div_ceil(data.len() as u64) as usize;
                batch.reserve_like(&part.batch, blocks + blocks / 16);
            }
            batch.append_mapped(&part.batch, &mut part.map);
            report.merge(part_report);
            part.recycle(MAX_KEPT_STRINGS);
            let mut spare = parts.lock();
            if spare.len() < IN_FLIGHT + 2 {
                spare.push(part);
            }
            drop(spare);
            before = match end {
                End::Clean => Before::Aligned,
                End::Closed => Before::Closed,
                End::Tail(pos) => Before::Tail(data.get(pos..).unwrap_or_default().to_vec()),
            };
            pool_tx.try_send(data).ok();
            if let Some(watch) = on_block.as_mut()
                && !watch(&batch, joined_bytes)
            {
                go_on = false;
            }
        }
        go_on
    };
    for message in &block_rx {
        let buf = match message {
            Ok(buf) => buf,
            Err(e) => {
                io_error = Some(e);
                break;
            }
        };
        let mut stop = false;
        while seq - next >= IN_FLIGHT {
            let Ok(done) = result_rx.recv() else { break };
            pending.insert(done.0, done);
            stop |= !join(&mut pending, &mut next);
        }
        if stop {
            io_error = Some(stopped());
            break;
        }
        let tx = result_tx.clone();
        let this = seq;
        let spare = Arc::clone(&parts);
        rayon::spawn(move || {
            let worker = rayon::current_thread_index();
            let mut spare = spare.lock();
            let own = spare.iter().rposition(|p| p.worker == worker);
            let part = own.map(|i| spare.swap_remove(i)).or_else(|| spare.pop());
            drop(spare);
            let mut part = part.unwrap_or_else(|| Part {
                batch: Batch::for_bytes(buf.len()),
                ..Part::default()
            });
            part.worker = worker;
            let mut part_report = Report::default();
            let b = &mut part.batch;
            let end = parse_block(&buf, this == 0, framing, at, b, &mut part_report);
            limits::settle(b, &mut part_report);
            tx.send((this, part, part_report, end, buf)).ok();
        });
        seq += 1;
    }
    drop(result_tx);
    // A stopped read still waits for the blocks in flight (their workers hold its buffers).
    drop(block_rx);
    while next < seq {
        let Ok(done) = result_rx.recv() else { break };
        pending.insert(done.0, done);
        if !join(&mut pending, &mut next) && io_error.is_none() {
            io_error = Some(stopped());
        }
    }
    let total_bytes = reader
        .join()
        .map_err(|_| std::io::Error::other("the reader thread panicked"))?;
    if let Some(e) = io_error {
        return Err(e);
    }
    let unfinished = match &before {
        Before::Tail(tail) => data_has_content(tail),
        Before::Aligned => framing == Framing::Array,
        Before::Closed => false,
    };
    if unfinished {
        report.warn(WarningKind::TruncatedJson, || {
            format!(
                "{} ends inside a record; the records before it were read",
                path.display()
            )
        });
    }
    Ok((batch, report, total_bytes))
}

fn data_has_content(b: &[u8]) -> bool {
    b.iter().any(|c| !c.is_ascii_whitespace())
}

/// The reader thread for [`stream_lines`]: sends blocks that end at a line end (the last block
/// ends where the file does). Returns the bytes read.
fn read_lines<R: Read>(
    mut file: R,
    head: Vec<u8>,
    block_bytes: usize,
    pool: &Receiver<Vec<u8>>,
    out: &SyncSender<std::io::Result<Vec<u8>>>,
) -> u64 {
    let mut total = head.len() as u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = head;
    loop {
        // With no line end yet (a very long line), keep reading into the same buffer.
        if let Some(k) = memchr::memrchr(b'\n', &buf) {
            carry.clear();
            carry.extend_from_slice(buf.get(k + 1..).unwrap_or_default());
            buf.truncate(k + 1);
            if out.send(Ok(buf)).is_err() {
                return total;
            }
            buf = pool
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(block_bytes + (64 << 10)));
            buf.clear();
            buf.extend_from_slice(&carry);
        }
        match (&mut file).take(block_bytes as u64).read_to_end(&mut buf) {
            Ok(0) => {
                if !buf.is_empty() {
                    out.send(Ok(buf)).ok();
                }
                return total;
            }
            Ok(n) => total += n as u64,
            Err(e) => {
                out.send(Err(e)).ok();
                return total;
            }
        }
    }
}

/// Streams a file without line ends: the reader splits records, workers parse them.
fn stream_presplit<R: Read + Send + 'static>(
    file: R,
    head: Vec<u8>,
    framing: Framing,
    parse: RecordParser,
    path: &Path,
    block_bytes: usize,
    mut on_block: OnBlock<'_>,
) -> std::io::Result<(Batch, Report, u64)> {
    // Buffers go back to the reader after parsing, so pages are not faulted in again.
    let (pool_tx, pool_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    let (block_tx, block_rx) = sync_channel::<std::io::Result<Block>>(2);
    let reader = std::thread::Builder::new()
        .name("ingest-reader".to_owned())
        .spawn(move || read_blocks(file, head, framing, block_bytes, &pool_rx, &block_tx))?;

    let (result_tx, result_rx) = sync_channel::<Parsed>(IN_FLIGHT);
    let mut joiner = Joiner::default();
    let mut seq = 0usize;
    let mut io_error = None;
    for message in &block_rx {
        let (buf, ranges) = match message {
            Ok(block) => block,
            Err(e) => {
                io_error = Some(e);
                break;
            }
        };
        if seq - joiner.next >= IN_FLIGHT {
            joiner.receive(&result_rx, &mut on_block);
            if joiner.stopped {
                io_error = Some(stopped());
                break;
            }
        }
        let bytes = buf.len() as u64;
        let tx = result_tx.clone();
        let pool = pool_tx.clone();
        let this = seq;
        rayon::spawn(move || {
            let mut batch = Batch::default();
            let mut report = Report::default();
            for r in ranges {
                if let Some(record) = buf.get(r) {
                    parse(record, &mut batch, &mut report);
                }
            }
            pool.try_send(buf).ok();
            limits::settle(&mut batch, &mut report);
            tx.send((this, batch, report, bytes)).ok();
        });
        seq += 1;
    }
    drop(result_tx);
    drop(block_rx);
    while joiner.next < seq {
        if !joiner.receive(&result_rx, &mut on_block) {
            break;
        }
    }
    if joiner.stopped && io_error.is_none() {
        io_error = Some(stopped());
    }
    let (splitter, total_bytes) = reader
        .join()
        .map_err(|_| std::io::Error::other("the reader thread panicked"))?;
    if let Some(e) = io_error {
        return Err(e);
    }
    let mut report = joiner.report;
    splitter.finish(&mut report, path);
    Ok((joiner.batch, report, total_bytes))
}

/// The reader thread: reads blocks, finds the complete records in each, carries a partial record
/// over to the next block, and sends each block on. Returns the splitter (for its warnings) and the
/// bytes read.
fn read_blocks<R: Read>(
    mut file: R,
    head: Vec<u8>,
    framing: Framing,
    block_bytes: usize,
    pool: &Receiver<Vec<u8>>,
    out: &SyncSender<std::io::Result<Block>>,
) -> (Splitter, u64) {
    let mut splitter = Splitter::with_framing(framing);
    let mut total = head.len() as u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = head;
    loop {
        let (ranges, end) = splitter.scan(&buf);
        carry.clear();
        carry.extend_from_slice(buf.get(end..).unwrap_or_default());
        buf.truncate(end);
        if !ranges.is_empty() && out.send(Ok((buf, ranges))).is_err() {
            return (splitter, total);
        }
        buf = pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(block_bytes + (64 << 10)));
        buf.clear();
        buf.extend_from_slice(&carry);
        match (&mut file).take(block_bytes as u64).read_to_end(&mut buf) {
            Ok(0) => {
                splitter.set_carry_left(carry.iter().any(|b| !b.is_ascii_whitespace()));
                return (splitter, total);
            }
            Ok(n) => total += n as u64,
            Err(e) => {
                out.send(Err(e)).ok();
                return (splitter, total);
            }
        }
    }
}

/// A parsed block of records: its number, what it gave, and the bytes it was read from.
type Parsed = (usize, Batch, Report, u64);

/// Joins block results in block order as they arrive.
#[derive(Default)]
struct Joiner {
    batch: Batch,
    report: Report,
    next: usize,
    pending: std::collections::BTreeMap<usize, (Batch, Report, u64)>,
    /// Bytes of the blocks joined.
    bytes: u64,
    /// The watcher asked to stop.
    stopped: bool,
}

impl Joiner {
    /// Waits for one result and joins whatever is now in order, showing each join to `watch`.
    /// False when no more can come.
    fn receive(&mut self, rx: &Receiver<Parsed>, watch: &mut OnBlock<'_>) -> bool {
        let Ok((seq, batch, report, bytes)) = rx.recv() else {
            return false;
        };
        self.pending.insert(seq, (batch, report, bytes));
        while let Some((batch, report, bytes)) = self.pending.remove(&self.next) {
            self.batch.append(batch);
            self.report.merge(report);
            self.bytes += bytes;
            self.next += 1;
            if let Some(watch) = watch.as_mut() {
                self.stopped |= !watch(&self.batch, self.bytes);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn spans_text() -> Vec<String> {
        (1..=200)
            .map(|i| {
                // Every third span has an escaped quote (the serde path); the rest take the fast one.
                let tag = if i % 3 == 0 { format!("v\\\"{i}") } else { format!("v{i}") };
                format!(
                    r#"{{"traceId":"{:x}","id":"{:x}","name":"op {i}","kind":"SERVER","localEndpoint":{{"serviceName":"svc{}"}},"tags":{{"k":"{tag}"}}}}"#,
                    i % 7 + 1,
                    i,
                    i % 5
                )
            })
            .collect()
    }

    type Streamer =
        fn(File, Vec<u8>, Framing, Parsers, &Path, usize) -> std::io::Result<(Batch, Report, u64)>;

    /// Writes `text` to a temporary file, reads its first `block` bytes, and hands the rest of the
    /// file, that head and Zipkin v2's parsers to `stream`.
    fn with_file<R>(
        text: &str,
        block: usize,
        stream: impl FnOnce(File, Vec<u8>, Parsers, &Path) -> R,
    ) -> R {
        let path = std::env::temp_dir().join(format!(
            "flowscope-stream-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::write(&path, text).unwrap();
        let mut file = File::open(&path).unwrap();
        let mut head = Vec::new();
        (&mut file)
            .take(block as u64)
            .read_to_end(&mut head)
            .unwrap();
        let parsers = Parsers {
            record: crate::ingest::zipkin_v2::parse_record,
            at: crate::ingest::zipkin_v2::parse_record_at,
        };
        let out = stream(file, head, parsers, &path);
        std::fs::remove_file(&path).ok();
        out
    }

    fn stream_text(
        text: &str,
        framing: Framing,
        block: usize,
        streamer: Streamer,
    ) -> (Batch, Report, u64) {
        with_file(text, block, |file, head, parsers, path| {
            streamer(file, head, framing, parsers, path, block).unwrap()
        })
    }

    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn presplit(
        f: File,
        h: Vec<u8>,
        fr: Framing,
        p: Parsers,
        path: &Path,
        b: usize,
    ) -> std::io::Result<(Batch, Report, u64)> {
        stream_presplit(f, h, fr, p.record, path, b, None)
    }

    fn by_lines(
        f: File,
        h: Vec<u8>,
        fr: Framing,
        p: Parsers,
        path: &Path,
        b: usize,
    ) -> std::io::Result<(Batch, Report, u64)> {
        stream_lines(f, h, fr, p, path, b, 0, None)
    }

    #[test]
    fn streaming_equals_reading_whole() {
        // Arrays (a span per line, and pretty-printed so cuts fall inside records) and NDJSON,
        // streamed both ways in blocks of many sizes, give the same spans and warnings as a
        // one-shot parse; so does a file cut off in the middle of a span.
        let spans = spans_text();
        let array = format!("[\n{}\n]", spans.join(",\n"));
        let pretty = format!(
            "[\n{}\n]",
            spans
                .iter()
                .map(|s| s.replace(",\"", ",\n  \""))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        let lines = spans.join("\n");
        let cut = array.get(..array.len() * 2 / 3).unwrap().to_owned();
        let cases = [
            (array, Framing::Array, true),
            (pretty, Framing::Array, true),
            (lines, Framing::Lines, true),
            (cut, Framing::Array, false),
        ];
        for (text, framing, complete) in cases {
            let mut whole_report = Report::default();
            let whole = crate::ingest::zipkin_v2::read(text.as_bytes(), &mut whole_report);
            for block in [97, 1000, 4096, 1 << 20] {
                for (name, streamer) in [
                    ("lines", by_lines as Streamer),
                    ("presplit", presplit as Streamer),
                ] {
                    let (streamed, report, bytes) = stream_text(&text, framing, block, streamer);
                    let what = format!("{name}, {framing:?}, {block}-byte blocks");
                    assert_eq!(bytes, text.len() as u64, "{what}");
                    assert_eq!(report.counts, whole_report.counts, "{what}");
                    let names = |b: &Batch| -> Vec<String> {
                        b.spans
                            .iter()
                            .map(|s| b.interner.resolve(s.name.unwrap()).to_owned())
                            .collect()
                    };
                    assert_eq!(names(&streamed), names(&whole), "{what}");
                    let tags = |b: &Batch| -> Vec<String> {
                        b.spans
                            .iter()
                            .map(|s| b.tag(s.tags, "k").unwrap_or_default().to_owned())
                            .collect()
                    };
                    assert_eq!(tags(&streamed), tags(&whole), "{what}");
                    // Symbols are numbered in input order however blocks fell to workers. (A file
                    // cut inside its last span keeps the strings read from that span's start.)
                    let strings = |b: &Batch| -> Vec<String> {
                        b.interner.iter().map(str::to_owned).collect()
                    };
                    let (streamed, whole) = (strings(&streamed), strings(&whole));
                    if complete {
                        assert_eq!(streamed, whole, "{what}");
                    } else {
                        assert!(streamed.starts_with(&whole), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_recycled_part_maps_only_its_new_strings() {
        let mut joined = Batch::default();
        joined.sym("already");
        let mut part = Part::default();
        let mut report = Report::default();
        let first = br#"{"traceId":"1","id":"1","name":"a","localEndpoint":{"serviceName":"s"}}"#;
        crate::ingest::zipkin_v2::parse_record(first, &mut part.batch, &mut report);
        joined.append_mapped(&part.batch, &mut part.map);
        part.recycle(10);
        assert!(part.batch.spans.is_empty());
        assert_eq!(part.map.0.len(), 2, "the strings and their map stay");
        let second = br#"{"traceId":"1","id":"2","name":"b","localEndpoint":{"serviceName":"s"}}"#;
        crate::ingest::zipkin_v2::parse_record(second, &mut part.batch, &mut report);
        joined.append_mapped(&part.batch, &mut part.map);
        let names: Vec<_> = joined
            .spans
            .iter()
            .map(|s| joined.interner.resolve(s.name.unwrap()))
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            joined.interner.iter().collect::<Vec<_>>(),
            ["already", "s", "a", "b"]
        );
        // Past the limit the part starts afresh.
        part.recycle(2);
        assert_eq!((part.batch.interner.len(), part.map.0.len()), (0, 0));
        assert_eq!(report.total(), 0);
    }

    /// Streams `text` in `block`-byte blocks, watched by `watch`.
    fn stream_watched(
        text: &str,
        block: usize,
        watch: &mut dyn FnMut(&Batch, u64) -> bool,
    ) -> std::io::Result<(Batch, Report, u64)> {
        with_file(text, block, |file, head, parsers, path| {
            let blocks = Blocks {
                bytes: block,
                on_block: Some(watch),
                expected_bytes: 0,
            };
            stream_records_in_blocks(file, head, Framing::Array, parsers, path, blocks)
        })
    }

    #[test]
    fn the_watcher_sees_the_records_grow_in_file_order_and_can_stop_the_read() {
        let spans = spans_text();
        for text in [
            format!("[\n{}\n]", spans.join(",\n")),
            // No line ends: the reader thread splits the records.
            format!("[{}]", spans.join(",")),
        ] {
            let mut seen: Vec<(usize, u64)> = Vec::new();
            let (batch, _, bytes) = stream_watched(&text, 2048, &mut |b, n| {
                seen.push((b.spans.len(), n));
                true
            })
            .unwrap();
            assert_eq!(batch.spans.len(), 200);
            assert_eq!(bytes, text.len() as u64);
            assert!(seen.len() > 3, "{} blocks watched", seen.len());
            assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
            assert_eq!(seen.last().map(|s| s.0), Some(200));
            // The spans seen at a block are the first spans of the file, in order.
            let mut prefix_ids = Vec::new();
            let mut calls = 0;
            stream_watched(&text, 2048, &mut |b, _| {
                calls += 1;
                if calls == 2 {
                    prefix_ids = b.spans.iter().map(crate::model::Span::id).collect();
                }
                true
            })
            .unwrap();
            let all: Vec<_> = batch.spans.iter().map(crate::model::Span::id).collect();
            assert!(!prefix_ids.is_empty() && all.starts_with(&prefix_ids));

            let mut calls = 0;
            let stopped = stream_watched(&text, 2048, &mut |_, _| {
                calls += 1;
                calls < 2
            });
            let err = stopped.expect_err("a stopped read fails");
            assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
        }
    }

    #[test]
    fn records_split_across_blocks_are_joined() {
        let text = br#"[{"a":"x,}"},{"b":2} , {"c":[3]}]"#;
        // Feed the text in every pair of pieces; the same three records come out.
        for cut in 1..text.len() {
            let mut s = Splitter::with_framing(Framing::Array);
            let mut out = Vec::new();
            let mut carry = Vec::new();
            for piece in [&text[..cut], &text[cut..]] {
                let mut buf = std::mem::take(&mut carry);
                buf.extend_from_slice(piece);
                let (ranges, end) = s.scan(&buf);
                out.extend(
                    ranges
                        .into_iter()
                        .map(|r| String::from_utf8(buf[r].to_vec()).unwrap()),
                );
                carry = buf[end..].to_vec();
            }
            assert_eq!(
                out,
                vec![r#"{"a":"x,}"}"#, r#"{"b":2}"#, r#"{"c":[3]}"#],
                "cut at {cut}"
            );
            assert!(carry.is_empty() && s.is_closed());
        }
    }
}
