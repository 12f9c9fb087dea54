//! Streams a large record-oriented file (an array of spans, or NDJSON) in blocks: one thread reads,
//! the caller splits records, the rayon pool parses blocks, and results are joined in file order.
//! The file is never held in memory whole.

use std::fs::File;
use std::io::Read as _;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::report::{Report, WarningKind};
use super::split::{skip_ws, value_end};
use crate::model::Batch;

/// Bytes read at a time.
pub const BLOCK_BYTES: usize = 8 << 20;
/// Blocks being parsed at once (bounds memory).
const IN_FLIGHT: usize = 4;

/// Parses one record into a batch.
pub type RecordParser = fn(&[u8], &mut Batch, &mut Report);

/// Where the records sit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Framing {
    /// Inside one top-level array: `[ {…}, {…} ]`.
    Array,
    /// Top-level objects one after another (NDJSON).
    Lines,
}

/// A block of complete records: the bytes and the records' ranges in them.
type Block = (Vec<u8>, Vec<Range<usize>>);

/// Reads `file` (whose first `head` bytes were already read) and parses its records.
pub fn stream_records(
    file: File,
    head: Vec<u8>,
    framing: Framing,
    parse: RecordParser,
    path: &Path,
) -> std::io::Result<(Batch, Report, u64)> {
    stream_records_in_blocks(file, head, framing, parse, path, BLOCK_BYTES)
}

/// [`stream_records`] with a chosen block size (tests use small blocks to cut records often).
pub fn stream_records_in_blocks(
    file: File,
    head: Vec<u8>,
    framing: Framing,
    parse: RecordParser,
    path: &Path,
    block_bytes: usize,
) -> std::io::Result<(Batch, Report, u64)> {
    // Buffers go back to the reader after parsing, so pages are not faulted in again.
    let (pool_tx, pool_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    let (block_tx, block_rx) = sync_channel::<std::io::Result<Block>>(2);
    let reader = std::thread::Builder::new()
        .name("ingest-reader".to_owned())
        .spawn(move || read_blocks(file, head, framing, block_bytes, &pool_rx, &block_tx))?;

    let (result_tx, result_rx) = sync_channel::<(usize, Batch, Report)>(IN_FLIGHT);
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
            joiner.receive(&result_rx);
        }
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
            tx.send((this, batch, report)).ok();
        });
        seq += 1;
    }
    drop(result_tx);
    while joiner.next < seq {
        if !joiner.receive(&result_rx) {
            break;
        }
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
fn read_blocks(
    mut file: File,
    head: Vec<u8>,
    framing: Framing,
    block_bytes: usize,
    pool: &Receiver<Vec<u8>>,
    out: &SyncSender<std::io::Result<Block>>,
) -> (Splitter, u64) {
    let mut splitter = Splitter::new(framing);
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
                splitter.carry_left =
                    !carry.is_empty() && carry.iter().any(|b| !b.is_ascii_whitespace());
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

/// Joins block results in block order as they arrive.
#[derive(Default)]
struct Joiner {
    batch: Batch,
    report: Report,
    next: usize,
    pending: std::collections::BTreeMap<usize, (Batch, Report)>,
}

impl Joiner {
    /// Waits for one result and joins whatever is now in order. False when no more can come.
    fn receive(&mut self, rx: &Receiver<(usize, Batch, Report)>) -> bool {
        let Ok((seq, batch, report)) = rx.recv() else {
            return false;
        };
        self.pending.insert(seq, (batch, report));
        while let Some((batch, report)) = self.pending.remove(&self.next) {
            self.batch.append(batch);
            self.report.merge(report);
            self.next += 1;
        }
        true
    }
}

/// Finds complete records across block boundaries; what follows the last complete record is
/// carried over by the caller.
struct Splitter {
    framing: Framing,
    started: bool,
    closed: bool,
    stray: usize,
    /// The input ended inside a record.
    carry_left: bool,
}

impl Splitter {
    fn new(framing: Framing) -> Self {
        Self {
            framing,
            started: framing == Framing::Lines,
            closed: false,
            stray: 0,
            carry_left: false,
        }
    }

    /// The ranges of the complete records in `buf`, and where the incomplete rest begins.
    fn scan(&mut self, buf: &[u8]) -> (Vec<Range<usize>>, usize) {
        let mut ranges = Vec::new();
        let mut i = 0;
        if self.closed {
            return (ranges, buf.len());
        }
        if !self.started {
            i = skip_ws(buf, i);
            match buf.get(i) {
                Some(b'[') => {
                    self.started = true;
                    i += 1;
                }
                Some(_) => {
                    self.closed = true;
                    self.stray += 1;
                    return (ranges, buf.len());
                }
                None => return (ranges, buf.len()),
            }
        }
        loop {
            i = skip_ws(buf, i);
            match buf.get(i) {
                None => return (ranges, buf.len()),
                Some(b',') => i += 1,
                Some(b']') if self.framing == Framing::Array => {
                    self.closed = true;
                    return (ranges, buf.len());
                }
                Some(b'{') => match value_end(buf, i) {
                    Some(end) => {
                        ranges.push(i..end);
                        i = end;
                    }
                    None => return (ranges, i),
                },
                Some(_) => {
                    // Not a record: skip to the next line.
                    self.stray += 1;
                    match memchr::memchr(b'\n', buf.get(i..).unwrap_or_default()) {
                        Some(k) => i += k + 1,
                        None => return (ranges, buf.len()),
                    }
                }
            }
        }
    }

    fn finish(&self, report: &mut Report, path: &Path) {
        if self.carry_left || (self.framing == Framing::Array && !self.closed && self.started) {
            report.warn(WarningKind::TruncatedJson, || {
                format!(
                    "{} ends inside a record; the records before it were read",
                    path.display()
                )
            });
        }
        for _ in 0..self.stray {
            report.warn(WarningKind::BadRecord, || {
                "a value that is not an object was skipped".to_owned()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_reading_whole() {
        // A Zipkin v2 array and NDJSON, streamed in 97-byte blocks (cutting records everywhere),
        // give the same spans as a one-shot parse.
        let spans: Vec<String> = (1..=200)
            .map(|i| {
                format!(
                    r#"{{"traceId":"{:x}","id":"{:x}","name":"op {i}","kind":"SERVER","localEndpoint":{{"serviceName":"svc{}"}},"tags":{{"k":"v\"{i}"}}}}"#,
                    i % 7 + 1,
                    i,
                    i % 5
                )
            })
            .collect();
        let array = format!("[\n{}\n]", spans.join(",\n"));
        let lines = spans.join("\n");
        for (text, framing) in [(array, Framing::Array), (lines, Framing::Lines)] {
            let mut whole_report = Report::default();
            let whole = crate::ingest::zipkin_v2::read(text.as_bytes(), &mut whole_report);
            let dir = std::env::temp_dir().join(format!(
                "flowscope-stream-{}-{framing:?}",
                std::process::id()
            ));
            std::fs::write(&dir, &text).unwrap();
            let mut file = File::open(&dir).unwrap();
            let mut head = Vec::new();
            (&mut file).take(97).read_to_end(&mut head).unwrap();
            let (streamed, report, bytes) = stream_records_in_blocks(
                file,
                head,
                framing,
                crate::ingest::zipkin_v2::parse_record,
                &dir,
                97,
            )
            .unwrap();
            std::fs::remove_file(&dir).ok();
            assert_eq!(bytes, text.len() as u64);
            assert_eq!(report, whole_report);
            assert_eq!(streamed.spans.len(), 200);
            let names = |b: &Batch| -> Vec<String> {
                b.spans
                    .iter()
                    .map(|s| b.interner.resolve(s.name.unwrap()).to_owned())
                    .collect()
            };
            assert_eq!(names(&streamed), names(&whole));
            let ids: Vec<_> = streamed.spans.iter().map(|s| (s.trace_id, s.id)).collect();
            let whole_ids: Vec<_> = whole.spans.iter().map(|s| (s.trace_id, s.id)).collect();
            assert_eq!(ids, whole_ids);
        }
    }

    #[test]
    fn records_split_across_blocks_are_joined() {
        let text = br#"[{"a":"x,}"},{"b":2} , {"c":[3]}]"#;
        // Feed the text in every pair of pieces; the same three records come out.
        for cut in 1..text.len() {
            let mut s = Splitter::new(Framing::Array);
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
            assert!(carry.is_empty() && s.closed);
        }
    }
}
