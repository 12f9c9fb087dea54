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

/// Reads `file` (whose first `head` bytes were already read) and parses its records.
pub fn stream_records(
    mut file: File,
    head: Vec<u8>,
    framing: Framing,
    parse: RecordParser,
    path: &Path,
) -> std::io::Result<(Batch, Report, u64)> {
    let (block_tx, block_rx): (SyncSender<std::io::Result<Vec<u8>>>, Receiver<_>) = sync_channel(2);
    let reader = std::thread::Builder::new()
        .name("ingest-reader".to_owned())
        .spawn(move || {
            loop {
                let mut block = Vec::with_capacity(BLOCK_BYTES);
                match (&mut file).take(BLOCK_BYTES as u64).read_to_end(&mut block) {
                    Ok(0) => return,
                    Ok(_) => {
                        if block_tx.send(Ok(block)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        block_tx.send(Err(e)).ok();
                        return;
                    }
                }
            }
        })?;

    let (result_tx, result_rx) = sync_channel::<(usize, Batch, Report)>(IN_FLIGHT);
    let mut joiner = Joiner::default();
    let mut splitter = Splitter::new(framing);
    let mut total_bytes = head.len() as u64;
    let mut next = Some(head);
    let mut seq = 0usize;
    let mut io_error = None;
    while let Some(chunk) = next.take() {
        let (buf, ranges) = splitter.feed(chunk);
        if !ranges.is_empty() {
            if seq - joiner.next >= IN_FLIGHT {
                joiner.receive(&result_rx);
            }
            let tx = result_tx.clone();
            let this = seq;
            rayon::spawn(move || {
                let mut batch = Batch::default();
                let mut report = Report::default();
                for r in ranges {
                    if let Some(record) = buf.get(r) {
                        parse(record, &mut batch, &mut report);
                    }
                }
                tx.send((this, batch, report)).ok();
            });
            seq += 1;
        }
        match block_rx.recv() {
            Ok(Ok(block)) => {
                total_bytes += block.len() as u64;
                next = Some(block);
            }
            Ok(Err(e)) => io_error = Some(e),
            Err(_) => {}
        }
    }
    drop(result_tx);
    while joiner.next < seq {
        if !joiner.receive(&result_rx) {
            break;
        }
    }
    reader.join().ok();
    if let Some(e) = io_error {
        return Err(e);
    }
    let mut report = joiner.report;
    splitter.finish(&mut report, path);
    Ok((joiner.batch, report, total_bytes))
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

/// Finds complete records across block boundaries, carrying a partial record to the next block.
struct Splitter {
    framing: Framing,
    carry: Vec<u8>,
    started: bool,
    closed: bool,
    stray: usize,
}

impl Splitter {
    fn new(framing: Framing) -> Self {
        Self {
            framing,
            carry: Vec::new(),
            started: framing == Framing::Lines,
            closed: false,
            stray: 0,
        }
    }

    /// Adds a block; returns the buffer and the ranges of the complete records in it.
    fn feed(&mut self, block: Vec<u8>) -> (Vec<u8>, Vec<Range<usize>>) {
        let mut buf = std::mem::take(&mut self.carry);
        if buf.is_empty() {
            buf = block;
        } else {
            buf.extend_from_slice(&block);
        }
        let mut ranges = Vec::new();
        let mut i = 0;
        if self.closed {
            return (buf, ranges);
        }
        if !self.started {
            i = skip_ws(&buf, i);
            match buf.get(i) {
                Some(b'[') => {
                    self.started = true;
                    i += 1;
                }
                Some(_) => {
                    self.closed = true;
                    self.stray += 1;
                    return (buf, ranges);
                }
                None => return (buf, ranges),
            }
        }
        loop {
            i = skip_ws(&buf, i);
            match buf.get(i) {
                None => break,
                Some(b',') => i += 1,
                Some(b']') if self.framing == Framing::Array => {
                    self.closed = true;
                    break;
                }
                Some(b'{') => match value_end(&buf, i) {
                    Some(end) => {
                        ranges.push(i..end);
                        i = end;
                    }
                    None => {
                        self.carry = buf.get(i..).unwrap_or_default().to_vec();
                        buf.truncate(i);
                        break;
                    }
                },
                Some(_) => {
                    // Not a record: skip to the next line.
                    self.stray += 1;
                    match memchr::memchr(b'\n', buf.get(i..).unwrap_or_default()) {
                        Some(k) => i += k + 1,
                        None => {
                            i = buf.len();
                        }
                    }
                }
            }
        }
        (buf, ranges)
    }

    fn finish(&self, report: &mut Report, path: &Path) {
        if !self.carry.is_empty()
            || (self.framing == Framing::Array && !self.closed && self.started)
        {
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
    fn records_split_across_blocks_are_joined() {
        let text = br#"[{"a":"x,}"},{"b":2} , {"c":[3]}]"#;
        // Feed the text in every pair of pieces; the same three records come out.
        for cut in 1..text.len() {
            let mut s = Splitter::new(Framing::Array);
            let mut out = Vec::new();
            for piece in [text[..cut].to_vec(), text[cut..].to_vec()] {
                let (buf, ranges) = s.feed(piece);
                out.extend(
                    ranges
                        .into_iter()
                        .map(|r| String::from_utf8(buf[r].to_vec()).unwrap()),
                );
            }
            assert_eq!(
                out,
                vec![r#"{"a":"x,}"}"#, r#"{"b":2}"#, r#"{"c":[3]}"#],
                "cut at {cut}"
            );
            assert!(s.carry.is_empty() && s.closed);
        }
    }
}
