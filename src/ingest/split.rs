//! Finds record boundaries in JSON without parsing it, so records can be parsed one by one and in parallel.

use std::ops::Range;

use rayon::prelude::*;

use super::report::{Report, WarningKind};
use crate::model::Batch;

/// How the records of a file are laid out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layout {
    /// Nothing but whitespace.
    Empty,
    /// One object.
    SingleObject,
    /// An array of objects.
    Array,
    /// An array of arrays of objects (Zipkin's list of traces).
    ArrayOfArrays,
    /// Several top-level objects (NDJSON, or objects one after another).
    Lines,
}

/// Records (objects) found in a buffer.
#[derive(Clone, Debug)]
pub struct Records {
    /// Byte ranges of the objects.
    pub ranges: Vec<Range<usize>>,
    /// The layout they were found in.
    pub layout: Layout,
    /// The input ended inside a record.
    pub truncated: bool,
    /// Values that are not objects (numbers, strings, garbage lines), skipped.
    pub stray: usize,
    /// Places where the array is not valid JSON but is still read: a missing `,` between two
    /// elements, or a `,` with no element before it: the byte offset of each.
    pub lenient: Vec<usize>,
}

/// Index of the first non-whitespace byte at or after `i`.
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !c.is_ascii_whitespace() {
            break;
        }
        i += 1;
    }
    i
}

/// End (exclusive) of the string whose opening quote is at `i`; `None` if the input ends first.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    // Most strings are short: a plain loop beats a vectorised search's setup for them.
    for _ in 0..24 {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    loop {
        let rest = b.get(j..)?;
        let k = memchr::memchr2(b'"', b'\\', rest)?;
        j += k;
        if b.get(j) == Some(&b'\\') {
            j += 2;
        } else {
            return Some(j + 1);
        }
    }
}

/// End (exclusive) of the JSON value starting at `i`; `None` if the input ends inside it.
/// Only the structure is followed; the value's validity is left to the parser.
pub fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        b'"' => string_end(b, i),
        _ => {
            let mut j = i;
            while let Some(&c) = b.get(j) {
                if matches!(c, b',' | b']' | b'}') || c.is_ascii_whitespace() {
                    break;
                }
                j += 1;
            }
            Some(j)
        }
    }
}

/// The elements of the array whose `[` is at `open`: pushes object ranges, returns the position after
/// the closing `]`, or `None` if the input ends first. Nested arrays are descended into when `nested`.
pub fn array_elements(b: &[u8], open: usize, nested: bool, out: &mut Records) -> Option<usize> {
    let mut i = open + 1;
    // After an element a `,` (or the `]`) must come; after `[` or `,` an element (or, after `[`,
    // the `]`).
    let mut after_element = false;
    let mut after_comma = false;
    let fault = |out: &mut Records, at: usize| out.lenient.push(at);
    loop {
        i = skip_ws(b, i);
        let &c = b.get(i)?;
        match c {
            b']' | b',' if after_comma => fault(out, i),
            b',' | b']' => {}
            _ if after_element => fault(out, i),
            _ => {}
        }
        after_comma = c == b',';
        after_element = !matches!(c, b',' | b']');
        match c {
            b']' => return Some(i + 1),
            b',' => i += 1,
            b'{' => {
                let Some(end) = value_end(b, i) else {
                    out.truncated = true;
                    return None;
                };
                out.ranges.push(i..end);
                i = end;
            }
            b'[' if nested => {
                i = array_elements(b, i, false, out)?;
            }
            _ => {
                let Some(end) = value_end(b, i) else {
                    out.truncated = true;
                    return None;
                };
                out.stray += 1;
                i = end.max(i + 1);
            }
        }
    }
}

/// The records of the array that opens at `b[open]` (a member's array inside a larger object),
/// counted as [`split_records`] counts them; report them with [`report_split`].
pub fn split_array(b: &[u8], open: usize) -> Records {
    let mut out = Records::new(Layout::Array);
    if array_elements(b, open, false, &mut out).is_none() {
        out.truncated = true;
    }
    out
}

impl Records {
    /// None yet, in `layout`.
    fn new(layout: Layout) -> Self {
        Self {
            ranges: Vec::new(),
            layout,
            truncated: false,
            stray: 0,
            lenient: Vec::new(),
        }
    }
}

/// Splits a whole file into its records. `None` when the content does not start like JSON.
pub fn split_records(b: &[u8]) -> Option<Records> {
    let mut out = Records::new(Layout::Empty);
    let start = skip_ws(b, 0);
    match b.get(start) {
        None => Some(out),
        Some(b'[') => {
            let inner = skip_ws(b, start + 1);
            let of_arrays = b.get(inner) == Some(&b'[');
            out.layout = if of_arrays {
                Layout::ArrayOfArrays
            } else {
                Layout::Array
            };
            if array_elements(b, start, of_arrays, &mut out).is_none() {
                out.truncated = true;
            }
            Some(out)
        }
        Some(b'{') => {
            let mut i = start;
            let mut count = 0usize;
            while i < b.len() {
                i = skip_ws(b, i);
                match b.get(i) {
                    None => break,
                    Some(b'{') => match value_end(b, i) {
                        Some(end) => {
                            out.ranges.push(i..end);
                            count += 1;
                            i = end;
                        }
                        None => {
                            out.truncated = true;
                            break;
                        }
                    },
                    Some(_) => {
                        // A line that is not an object: skip to the next line.
                        out.stray += 1;
                        i = memchr::memchr(b'\n', b.get(i..).unwrap_or(&[]))
                            .map_or(b.len(), |k| i + k + 1);
                    }
                }
            }
            out.layout = if count > 1 || out.stray > 0 {
                Layout::Lines
            } else {
                Layout::SingleObject
            };
            Some(out)
        }
        Some(_) => None,
    }
}

/// Parses records in parallel chunks with `parse`, then joins the results in input order, so the
/// outcome does not depend on the number of threads.
pub fn parse_parallel<F>(b: &[u8], ranges: &[Range<usize>], parse: F) -> (Batch, Report)
where
    F: Fn(&[u8], &mut Batch, &mut Report) + Sync,
{
    const CHUNK_BYTES: usize = 1 << 20;
    let mut chunks: Vec<&[Range<usize>]> = Vec::new();
    let mut first = 0;
    let mut bytes = 0;
    for (i, r) in ranges.iter().enumerate() {
        bytes += r.len();
        if bytes >= CHUNK_BYTES {
            chunks.push(ranges.get(first..=i).unwrap_or(&[]));
            first = i + 1;
            bytes = 0;
        }
    }
    if first < ranges.len() {
        chunks.push(ranges.get(first..).unwrap_or(&[]));
    }
    let parts: Vec<(Batch, Report)> = chunks
        .par_iter()
        .map(|chunk| {
            let mut batch = Batch::default();
            let mut report = Report::default();
            for r in *chunk {
                if let Some(record) = b.get(r.clone()) {
                    parse(record, &mut batch, &mut report);
                }
            }
            (batch, report)
        })
        .collect();
    let mut batch = Batch::default();
    let mut report = Report::default();
    for (b, r) in parts {
        batch.append(b);
        report.merge(r);
    }
    (batch, report)
}

/// [`split_records`] with the splitter's warnings counted in `report`; `None`, with an
/// `InvalidJson` warning, when the input does not start like JSON.
pub fn split_reported(bytes: &[u8], report: &mut Report) -> Option<Records> {
    let Some(records) = split_records(bytes) else {
        report.warn(WarningKind::InvalidJson, || {
            "the input does not start like JSON".to_owned()
        });
        return None;
    };
    report_split(&records, report);
    Some(records)
}

/// Reads a file of independent records (array, list of arrays, single object, NDJSON): splits
/// it, counts the splitter's warnings, and parses the records in parallel with `parse`.
pub fn read_records<F>(bytes: &[u8], report: &mut Report, parse: F) -> Batch
where
    F: Fn(&[u8], &mut Batch, &mut Report) + Sync,
{
    let Some(records) = split_reported(bytes, report) else {
        return Batch::default();
    };
    let (batch, r) = parse_parallel(bytes, &records.ranges, parse);
    report.merge(r);
    batch
}

/// Counts the warnings the splitter itself found (a truncated end, stray values).
pub fn report_split(records: &Records, report: &mut Report) {
    if records.truncated {
        report.warn(WarningKind::TruncatedJson, || {
            "the input ends inside a record; the records before it were read".to_owned()
        });
    }
    for &at in &records.lenient {
        report.warn(WarningKind::InvalidJson, || {
            format!(
                "not valid JSON at byte {at}: a ',' is missing there or has no record before it; read as if the JSON were valid"
            )
        });
    }
    for _ in 0..records.stray {
        report.warn(WarningKind::BadRecord, || {
            "a value that is not an object was skipped".to_owned()
        });
    }
}

/// Where the records of a file sit, for splitters that see the file a piece at a time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Framing {
    /// Inside one top-level array: `[ {…}, {…} ]` (or Zipkin's list of arrays `[[{…}],[{…}]]`).
    Array,
    /// Top-level objects one after another (NDJSON).
    Lines,
}

/// Finds complete records in a file that arrives in pieces (blocks of a large file, bytes
/// appended to a growing one). The caller keeps what follows the last complete record and hands
/// it back, joined to the next piece. The records found equal [`split_records`]' on the whole
/// file, whatever the pieces.
#[derive(Clone, Debug)]
pub struct Scanner {
    /// `None` until the first non-blank byte says.
    framing: Option<Framing>,
    /// Before the opening `[` (or first object), inside, or past the closing `]`.
    phase: Phase,
    /// Whether the array holds arrays of records; decided by its first element.
    nested: Option<bool>,
    /// Inside one of those inner arrays.
    inner: bool,
    /// Values that are not objects, skipped.
    stray: usize,
    /// The input ended inside a record.
    carry_left: bool,
}

/// Where a [`Scanner`] is in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing but blanks yet.
    Before,
    /// Among the records.
    Inside,
    /// The array was closed (or the input does not start like JSON): nothing more is read.
    Closed,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// A scanner that learns the framing from the first non-blank byte (`[` or `{`).
    pub fn new() -> Self {
        Self {
            framing: None,
            phase: Phase::Before,
            nested: None,
            inner: false,
            stray: 0,
            carry_left: false,
        }
    }

    /// A scanner for a known framing; an array's elements are not descended into.
    pub fn with_framing(framing: Framing) -> Self {
        Self {
            framing: Some(framing),
            phase: if framing == Framing::Lines {
                Phase::Inside
            } else {
                Phase::Before
            },
            nested: Some(false),
            ..Self::new()
        }
    }

    /// The framing, once known.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Whether the array was closed (or the input cannot be records).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Non-object values skipped so far.
    pub fn stray(&self) -> usize {
        self.stray
    }

    /// Says whether the input ended with an incomplete record left over.
    pub fn set_carry_left(&mut self, left: bool) {
        self.carry_left = left;
    }

    /// The ranges of the complete records in `buf`, and where the incomplete rest begins.
    pub fn scan(&mut self, buf: &[u8]) -> (Vec<Range<usize>>, usize) {
        let mut ranges = Vec::new();
        let mut i = 0;
        if self.phase == Phase::Closed {
            return (ranges, buf.len());
        }
        if self.phase == Phase::Before {
            i = skip_ws(buf, i);
            match (buf.get(i), self.framing) {
                (Some(b'['), None | Some(Framing::Array)) => {
                    self.framing = Some(Framing::Array);
                    self.phase = Phase::Inside;
                    i += 1;
                }
                (Some(b'{'), None) => {
                    self.framing = Some(Framing::Lines);
                    self.phase = Phase::Inside;
                }
                (Some(_), _) => {
                    self.phase = Phase::Closed;
                    self.stray += 1;
                    return (ranges, buf.len());
                }
                (None, _) => return (ranges, buf.len()),
            }
        }
        let array = self.framing == Some(Framing::Array);
        loop {
            i = skip_ws(buf, i);
            let Some(&c) = buf.get(i) else {
                return (ranges, buf.len());
            };
            if array && self.nested.is_none() && c != b',' {
                self.nested = Some(c == b'[');
            }
            match c {
                b',' => i += 1,
                b']' if array && self.inner => {
                    self.inner = false;
                    i += 1;
                }
                b']' if array => {
                    self.phase = Phase::Closed;
                    return (ranges, buf.len());
                }
                b'[' if array && !self.inner && self.nested == Some(true) => {
                    self.inner = true;
                    i += 1;
                }
                b'{' => match value_end(buf, i) {
                    Some(end) => {
                        ranges.push(i..end);
                        i = end;
                    }
                    None => return (ranges, i),
                },
                _ if array => {
                    // A value that is not an object: skipped whole, as `array_elements` does.
                    let Some(end) = value_end(buf, i) else {
                        return (ranges, i);
                    };
                    self.stray += 1;
                    i = end.max(i + 1);
                }
                _ => {
                    // Not a record: skip to the next line. Without a line end yet, the bytes
                    // wait for more (a growing file's next piece may end the line), as a partial
                    // record does.
                    match memchr::memchr(b'\n', buf.get(i..).unwrap_or_default()) {
                        Some(k) => {
                            self.stray += 1;
                            i += k + 1;
                        }
                        None => return (ranges, i),
                    }
                }
            }
        }
    }

    /// Whether the input, now ended, stopped inside a record or an unclosed array.
    pub fn ended_early(&self) -> bool {
        self.carry_left || (self.framing == Some(Framing::Array) && self.phase == Phase::Inside)
    }

    /// Counts the warnings found: an input that ended inside a record or an unclosed array, and
    /// skipped values. Call once, when the input has ended.
    pub fn finish(&self, report: &mut Report, path: &std::path::Path) {
        if self.ended_early() {
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

    fn texts<'a>(b: &'a str, r: &Records) -> Vec<&'a str> {
        r.ranges.iter().map(|x| &b[x.clone()]).collect()
    }

    #[test]
    fn arrays_arrays_of_arrays_and_lines() {
        let b = r#" [ {"a":"}"} , {"b":[1,{"c":2}]} ] "#;
        let r = split_records(b.as_bytes()).unwrap();
        assert_eq!(r.layout, Layout::Array);
        assert_eq!(texts(b, &r), vec![r#"{"a":"}"}"#, r#"{"b":[1,{"c":2}]}"#]);

        let b = r#"[[{"a":1}],[{"b":"\"x"},{"c":3}]]"#;
        let r = split_records(b.as_bytes()).unwrap();
        assert_eq!(r.layout, Layout::ArrayOfArrays);
        assert_eq!(r.ranges.len(), 3);

        let b = "{\"a\":1}\n{\"b\":2}\nnot json\n";
        let r = split_records(b.as_bytes()).unwrap();
        assert_eq!((r.layout, r.ranges.len(), r.stray), (Layout::Lines, 2, 1));

        let b = r#"{"single":true}"#;
        assert_eq!(
            split_records(b.as_bytes()).unwrap().layout,
            Layout::SingleObject
        );
        assert!(split_records(b"hello").is_none());
    }

    #[test]
    fn truncation_keeps_complete_records() {
        let b = r#"[{"a":1},{"b":"unterminated"#;
        let r = split_records(b.as_bytes()).unwrap();
        assert!(r.truncated);
        assert_eq!(texts(b, &r), vec![r#"{"a":1}"#]);
        // An array that is never closed (Spigo writing one span per line) keeps every record.
        let b = "[\n{\"a\":1},\n{\"b\":2}";
        let r = split_records(b.as_bytes()).unwrap();
        assert_eq!(r.ranges.len(), 2);
    }
}
