//! [`FileTail`]: the pure state machine that turns the bytes of one growing file, fed in any pieces, into complete records parsed into [`Batch`]es.
//!
//! It does no I/O and keeps no clock: the caller says "these bytes at this offset", "the file was
//! truncated" or "the file was replaced", and gets back what to add to (or replace in) the model.
//! The records found are those [`crate::ingest::split`] finds in the whole file, whatever the
//! pieces: a partial record at the end is kept until it completes; an NDJSON line completes at
//! its end, a Spigo-style array (`[`, then `{…},` lines, `]` only at the end) at each balanced
//! object, a pretty-printed array at each balanced object (strings and escapes respected).
//!
//! Zipkin v1 and v2 files (Spigo flows are v1) are parsed record by record, so each piece adds
//! only its new spans. Other formats (Jaeger, OTLP, Spigo graphs and architectures, dependency
//! links) are read as a whole: when new complete records arrive the whole file is parsed again
//! and replaces what it gave before.

use std::path::{Path, PathBuf};

use crate::ingest::split::{Scanner, parse_parallel};
use crate::ingest::stream::Parsers;
use crate::ingest::{Format, Report, WarningKind, detect, parse_format, record_parser};
use crate::model::Batch;

/// Bytes from the start of a file used to sniff its format.
const SNIFF_BYTES: usize = 1 << 20;

/// What one piece of a file gave.
#[derive(Debug)]
pub enum TailOutput {
    /// Records that follow everything given before.
    Append {
        /// Their spans and declared elements.
        batch: Batch,
        /// Their warnings.
        report: Report,
    },
    /// Everything the file holds now: replaces all it gave before (a truncated or replaced
    /// file, or a format read as a whole).
    Replace {
        /// Its spans and declared elements.
        batch: Batch,
        /// Its warnings.
        report: Report,
    },
}

/// How the file's records are read.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Not sniffed yet: bytes are kept until the first record completes.
    Unknown,
    /// Zipkin: record by record.
    Records(Parsers),
    /// Every other format: the whole file, again, whenever a record completes.
    Document,
    /// The content is not a trace file; further bytes are ignored until the file restarts.
    NotTraces,
}

/// One file being followed: how far it was read, the partial record at its end, its format.
#[derive(Debug)]
pub struct FileTail {
    path: PathBuf,
    /// Bytes fed so far (the file offset the next piece should start at).
    offset: u64,
    /// Bytes after the last complete record.
    pending: Vec<u8>,
    /// Every byte of the file, while its format is unknown or it is read as a whole.
    all: Vec<u8>,
    scanner: Scanner,
    format: Option<Format>,
    mode: Mode,
    /// Why the file is not read, once it is known not to be a trace file.
    failure: Option<String>,
}

impl FileTail {
    /// A file followed from its first byte; `path` names it in warnings.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            offset: 0,
            pending: Vec::new(),
            all: Vec::new(),
            scanner: Scanner::new(),
            format: None,
            mode: Mode::Unknown,
            failure: None,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Follows the file under a new name (after a rename).
    pub fn set_path(&mut self, path: &Path) {
        path.clone_into(&mut self.path);
    }

    /// The offset the next piece starts at: the bytes fed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The format, once sniffed.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Why the file is not read as traces, if it is not.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Bytes held back: a partial record, or the whole file while it is read as a whole.
    pub fn held_bytes(&self) -> usize {
        self.pending.len() + self.all.len()
    }

    /// The file was truncated or replaced by another: start again from its first byte. What it
    /// gave before is withdrawn (an empty [`TailOutput::Replace`]).
    pub fn restart(&mut self) -> TailOutput {
        *self = Self::new(&self.path);
        TailOutput::Replace {
            batch: Batch::default(),
            report: Report::default(),
        }
    }

    /// Feeds the bytes found at `offset`. Bytes already fed are skipped; a gap (bytes never fed)
    /// is counted as a warning and the partial record before it dropped.
    pub fn feed(&mut self, offset: u64, bytes: &[u8]) -> Option<TailOutput> {
        let mut report = Report::default();
        let bytes = if offset > self.offset {
            let missing = offset - self.offset;
            report.warn(WarningKind::TruncatedJson, || {
                format!(
                    "{missing} bytes were never read; the record they cut was dropped: {}",
                    self.path.display()
                )
            });
            self.pending.clear();
            self.offset = offset;
            bytes
        } else {
            let skip = usize::try_from(self.offset - offset).unwrap_or(usize::MAX);
            bytes.get(skip..).unwrap_or_default()
        };
        if bytes.is_empty() {
            return (report.total() > 0).then(|| TailOutput::Append {
                batch: Batch::default(),
                report,
            });
        }
        self.offset += bytes.len() as u64;
        if matches!(self.mode, Mode::NotTraces) {
            return None;
        }
        if matches!(self.mode, Mode::Unknown | Mode::Document) {
            self.all.extend_from_slice(bytes);
        }
        self.pending.extend_from_slice(bytes);
        let (ranges, end) = self.scanner.scan(&self.pending);
        let out = match self.mode {
            // A document is parsed again on any new bytes: its reader may find records where
            // the record splitter does not (a Jaeger file's spans nest inside one object).
            Mode::Unknown if ranges.is_empty() && !self.scanner.is_closed() => None,
            Mode::Unknown => self.sniff(&ranges, report),
            Mode::Records(parsers) => Some(self.parse_records(parsers, &ranges, report)),
            Mode::Document => self.parse_document(report),
            Mode::NotTraces => None,
        };
        self.pending.drain(..end.min(self.pending.len()));
        out
    }

    /// Decides the format from the bytes so far, then reads them.
    fn sniff(&mut self, ranges: &[std::ops::Range<usize>], report: Report) -> Option<TailOutput> {
        let head = self.all.get(..SNIFF_BYTES).unwrap_or(&self.all);
        match detect::sniff(head) {
            Ok(format) => {
                self.format = Some(format);
                if let Some(parsers) = record_parser(format) {
                    self.mode = Mode::Records(parsers);
                    self.all = Vec::new();
                    Some(self.parse_records(parsers, ranges, report))
                } else {
                    self.mode = Mode::Document;
                    self.parse_document(report)
                }
            }
            Err(e) => {
                self.mode = Mode::NotTraces;
                self.failure = Some(format!("{e}: {}", self.path.display()));
                self.all = Vec::new();
                self.pending = Vec::new();
                None
            }
        }
    }

    fn parse_records(
        &self,
        parsers: Parsers,
        ranges: &[std::ops::Range<usize>],
        mut report: Report,
    ) -> TailOutput {
        let (mut batch, mut r) = parse_parallel(&self.pending, ranges, parsers.record);
        crate::ingest::limits::settle(&mut batch, &mut r);
        report.merge(r);
        TailOutput::Append { batch, report }
    }

    fn parse_document(&self, mut report: Report) -> Option<TailOutput> {
        let format = self.format?;
        let (batch, r) = parse_format(format, &self.all);
        report.merge(r);
        Some(TailOutput::Replace { batch, report })
    }
}

/// What a sequence of [`TailOutput`]s adds up to: the file's batch and warnings.
#[derive(Debug, Default)]
pub struct Followed {
    /// Everything read, in file order.
    pub batch: Batch,
    /// Warnings.
    pub report: Report,
}

impl Followed {
    /// Applies one output.
    pub fn apply(&mut self, out: TailOutput) {
        match out {
            TailOutput::Append { batch, report } => {
                self.batch.append(batch);
                self.report.merge(report);
            }
            TailOutput::Replace { batch, report } => {
                self.batch = batch;
                self.report = report;
            }
        }
    }
}

/// The fuzzing entry point: feeds `bytes` to a [`FileTail`] cut at `splits` (offsets into
/// `bytes`; out-of-range and unsorted ones are clamped and sorted) and returns what it read. For
/// any cuts, the spans equal those of a one-shot parse of `bytes` with its sniffed format.
pub fn follow_in_pieces(bytes: &[u8], splits: &[usize]) -> Followed {
    let mut cuts: Vec<usize> = splits.iter().map(|&s| s.min(bytes.len())).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut tail = FileTail::new(Path::new("fuzz"));
    let mut followed = Followed::default();
    let mut from = 0;
    for cut in cuts {
        if let Some(piece) = bytes.get(from..cut)
            && let Some(out) = tail.feed(from as u64, piece)
        {
            followed.apply(out);
        }
        from = cut;
    }
    followed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(b: &Batch) -> Vec<String> {
        b.spans
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    s.id().display(&b.interner),
                    s.name.map_or("", |n| b.interner.resolve(n))
                )
            })
            .collect()
    }

    fn span(i: usize) -> String {
        format!(
            r#"{{"traceId":"{:x}","id":"{:x}","name":"op \"{i}\" }}","kind":"SERVER","localEndpoint":{{"serviceName":"s{}"}}}}"#,
            i % 3 + 1,
            i + 1,
            i % 4
        )
    }

    #[test]
    fn every_two_piece_cut_gives_the_whole_files_records() {
        let spans: Vec<String> = (0..6).map(span).collect();
        let ndjson = spans.join("\n") + "\n";
        let spigo = format!("[\n{}", spans.join(",\n"));
        let closed = format!("[\n{}\n]\n", spans.join(",\n"));
        let pretty = format!(
            "[\n{}\n]",
            spans
                .iter()
                .map(|s| s.replace(",\"", ",\n  \""))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        let nested = format!("[[{}],[{}]]", spans[..2].join(","), spans[2..].join(","));
        for text in [ndjson, spigo, closed, pretty, nested] {
            let (_, whole, _) = crate::ingest::parse_bytes(text.as_bytes()).unwrap();
            assert_eq!(whole.spans.len(), 6, "{text}");
            for cut in 0..=text.len() {
                let got = follow_in_pieces(text.as_bytes(), &[cut]);
                assert_eq!(names(&got.batch), names(&whole), "cut at {cut} of {text}");
            }
            let every_byte: Vec<usize> = (0..text.len()).collect();
            let got = follow_in_pieces(text.as_bytes(), &every_byte);
            assert_eq!(names(&got.batch), names(&whole));
        }
    }

    #[test]
    fn documents_are_read_when_complete_and_restart_withdraws() {
        let text = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"get","kind":2}]}]}]}"#;
        let mut tail = FileTail::new(Path::new("otlp.json"));
        assert!(tail.feed(0, &text[..40]).is_none());
        let out = tail.feed(40, &text[40..]).unwrap();
        let TailOutput::Replace { batch, .. } = out else {
            panic!("a document replaces");
        };
        assert_eq!(batch.spans.len(), 1);
        assert_eq!(tail.format(), Some(Format::Otlp));
        assert!(
            matches!(tail.restart(), TailOutput::Replace { batch, .. } if batch.spans.is_empty())
        );
        assert_eq!(tail.offset(), 0);
    }

    #[test]
    fn overlaps_are_skipped_gaps_warned_and_garbage_named() {
        let text = format!("{}\n{}\n", span(0), span(1));
        let mut tail = FileTail::new(Path::new("a.ndjson"));
        let mut f = Followed::default();
        f.apply(
            tail.feed(0, &text.as_bytes()[..30])
                .unwrap_or(TailOutput::Append {
                    batch: Batch::default(),
                    report: Report::default(),
                }),
        );
        // The same bytes again, then the rest overlapping them.
        assert!(tail.feed(0, &text.as_bytes()[..30]).is_none());
        if let Some(o) = tail.feed(10, &text.as_bytes()[10..]) {
            f.apply(o);
        }
        assert_eq!(f.batch.spans.len(), 2);
        assert!(tail.feed(tail.offset() + 5, b"{}").is_some());

        let mut junk = FileTail::new(Path::new("notes.json"));
        assert!(junk.feed(0, b"hello world\n").is_none());
        assert!(junk.failure().unwrap().contains("notes.json"));
        assert!(junk.feed(12, b"more\n").is_none());
    }

    /// A document format (here Jaeger's protobuf JSON) is parsed again whenever bytes arrive,
    /// not only when the record splitter sees a new record: its reader can find spans the
    /// splitter cannot (found by fuzzing: the tail's splitter waits for the unclosed object on
    /// the second line to end, while a one-shot read skips that line and takes the third).
    #[test]
    fn a_document_is_read_again_on_any_new_bytes() {
        let span = |id: &str| {
            format!(
                r#"{{"trace_id":"AAAAAAAAAAB74v2Y0Jc74w==","span_id":"{id}","operation_name":"op","start_time":"2019-12-20T07:41:44.953864Z","duration":"1s","process":{{"service_name":"svc"}}}}"#
            )
        };
        let first = format!("{{\"spans\":[{}]}}\n", span("e+L9mNCXO+M="));
        let file = format!(
            "{first},{{\"x\":[}}\n{{\"spans\":[{}]}}\n",
            span("AAAAAAAAAAE=")
        );
        let whole = follow_in_pieces(file.as_bytes(), &[]);
        let pieces = follow_in_pieces(file.as_bytes(), &[first.len()]);
        assert_eq!(whole.batch.spans.len(), 2);
        assert_eq!(pieces.batch.spans.len(), 2);
    }

    /// A line that is not a record is skipped whole, even when a piece ends inside it: the rest
    /// of the line must not be read as a record of its own.
    #[test]
    fn a_stray_line_cut_in_two_is_skipped_whole() {
        let good = r#"{"traceId":"1","id":"1","name":"a"}"#;
        let file = format!("{good}\nnot a span {good}\n{good}\n");
        let whole = follow_in_pieces(file.as_bytes(), &[]);
        assert_eq!(whole.batch.spans.len(), 2);
        for cut in good.len()..file.len() {
            let pieces = follow_in_pieces(file.as_bytes(), &[cut]);
            assert_eq!(pieces.batch.spans.len(), 2, "cut at {cut}");
        }
    }
}
