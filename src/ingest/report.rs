//! [`Report`]: warnings counted by kind while a file is read, so one bad record never aborts the rest.

use std::collections::BTreeMap;
use std::fmt;

/// How many example messages a report keeps (the counts are always complete).
const MAX_EXAMPLES: usize = 8;

/// What was wrong with a record that was skipped or repaired.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum WarningKind {
    /// An id that is not valid (not hex where hex is required, all zeros, too long).
    BadId,
    /// A span without a trace id.
    MissingTraceId,
    /// A span without a span id.
    MissingSpanId,
    /// A record that is valid JSON but not the shape the format expects.
    BadRecord,
    /// A record that is not valid JSON.
    InvalidJson,
    /// The input ends in the middle of a record.
    TruncatedJson,
    /// A timestamp or duration that cannot be read or is out of range.
    BadTimestamp,
    /// A record of a kind this reader does not know (e.g. a Spigo record type).
    UnknownRecord,
    /// A name that refers to something missing (an edge to an unknown node, a missing process).
    DanglingReference,
    /// A duplicate that was dropped or renamed.
    Duplicate,
    /// An architecture rule was broken (unknown package, missing dependency, duplicate service).
    BadArchitecture,
    /// Spans whose parent ids form a loop: they hang from no root and are linked to nothing.
    ParentCycle,
    /// A limit that protects the machine was hit (nesting, string length, repeated span ids);
    /// see [`limits`](super::limits).
    Limit,
    /// A compressed file whose stream is cut short or corrupt: what came before it is read.
    BadCompression,
}

impl WarningKind {
    /// The `snake_case` name used in `stats --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadId => "bad_id",
            Self::MissingTraceId => "missing_trace_id",
            Self::MissingSpanId => "missing_span_id",
            Self::BadRecord => "bad_record",
            Self::InvalidJson => "invalid_json",
            Self::TruncatedJson => "truncated_json",
            Self::BadTimestamp => "bad_timestamp",
            Self::UnknownRecord => "unknown_record",
            Self::DanglingReference => "dangling_reference",
            Self::Duplicate => "duplicate",
            Self::BadArchitecture => "bad_architecture",
            Self::ParentCycle => "parent_cycle",
            Self::Limit => "limit",
            Self::BadCompression => "bad_compression",
        }
    }
}

impl WarningKind {
    /// What the kind means and what flowscope did about it, in one line (`stats` prints it
    /// under the table; the window shows it next to the count).
    pub fn explain(self) -> &'static str {
        match self {
            Self::BadId => {
                "an id that is not valid (not hex, all zeros, too long); left out, and a span without its own id skipped"
            }
            Self::MissingTraceId => "a span without a trace id; it was skipped",
            Self::MissingSpanId => "a span without a span id; it was skipped",
            Self::BadRecord => {
                "valid JSON, but not the shape this format has; that record was skipped"
            }
            Self::InvalidJson => {
                "not valid JSON; what a lenient reader could still use was read, the rest skipped"
            }
            Self::TruncatedJson => {
                "the input ends inside a record; the records before it were read"
            }
            Self::BadTimestamp => {
                "a time or duration that cannot be read or is out of range; it was left out"
            }
            Self::UnknownRecord => "a record of a kind this reader does not know; it was skipped",
            Self::DanglingReference => {
                "a name that refers to something missing (a node, a process); kept, linked to nothing"
            }
            Self::Duplicate => "a repeated record; the repeat was dropped or renamed",
            Self::BadArchitecture => {
                "a broken architecture rule (unknown package, missing dependency); expanded as far as it goes"
            }
            Self::ParentCycle => {
                "spans whose parents form a loop; they hang from no root and are linked to nothing"
            }
            Self::Limit => {
                "a limit that protects the machine (nesting, string length, repeated ids) was hit"
            }
            Self::BadCompression => {
                "a compressed stream that is cut short or corrupt; what came before it was read"
            }
        }
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Warnings counted by kind, with the first few messages kept as examples.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Report {
    /// Count per kind.
    pub counts: BTreeMap<WarningKind, u64>,
    /// The first messages, for showing to a person.
    pub examples: Vec<String>,
}

impl Report {
    /// Counts one warning; `detail` is only built for the first few.
    pub fn warn(&mut self, kind: WarningKind, detail: impl FnOnce() -> String) {
        *self.counts.entry(kind).or_insert(0) += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!("{kind}: {}", detail()));
        }
    }

    /// Counts `n` warnings of one kind at once, with one example.
    pub fn warn_n(&mut self, kind: WarningKind, n: u64, detail: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        *self.counts.entry(kind).or_insert(0) += n;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!("{kind}: {}", detail()));
        }
    }

    /// Adds another report's counts and examples.
    pub fn merge(&mut self, other: Report) {
        for (kind, n) in other.counts {
            *self.counts.entry(kind).or_insert(0) += n;
        }
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    /// The counts by kind in one line: `1 dangling_reference, 2 duplicate`.
    pub fn counts_line(&self) -> String {
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        kinds.join(", ")
    }

    /// Total warnings.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Count of one kind.
    pub fn count(&self, kind: WarningKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }
}
