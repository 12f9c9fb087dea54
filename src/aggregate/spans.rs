//! An aggregate's spans, kept so that one trace is cheap to find: the span lines of [`super::lines`] in Parquet, bucketed by a hash of the trace id that Rust and the Spark job compute alike.
//!
//! ```text
//! OUT/spans/bucket=K/*.parquet   trace, line   (every span line of the traces whose id hashes to K)
//! OUT/declared/*.parquet         line          (the declared elements' `D` lines, when there are any)
//! ```
//!
//! The bucket of a trace is the CRC-32 (IEEE, as zlib and Python's `zlib.crc32` compute it)
//! of its id as Zipkin prints it, modulo the manifest's `span_buckets`. The Spark job shuffles
//! span lines with exactly that partition function, so each of its partitions is one bucket
//! and is written as one directory (`partitionBy("bucket")` names them `bucket=K`), the way
//! `flowscope aggregate` writes them in-process. Finding a trace reads one bucket, about
//! [`SPANS_PER_BUCKET`] spans, whatever the size of the aggregate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use arrow_array::{ArrayRef, StringArray};
use rayon::prelude::*;

use super::lines::{declared_lines, span_line, store_of_lines_named};
use super::parquet::{read_batches, texts, write_file};
use crate::model::{Interner, TraceId, TraceStore};

/// The spans table's directory in an aggregate.
pub const SPANS: &str = "spans";

/// The declared elements' table.
pub const DECLARED: &str = "declared";

/// About this many spans go to one bucket when `flowscope aggregate` chooses their number.
pub const SPANS_PER_BUCKET: u64 = 16_384;

/// At most this many buckets (a bucket is a directory).
pub const MAX_BUCKETS: u32 = 4096;

/// The bucket of the trace whose id prints as `id`, of `buckets`.
pub fn bucket_of(id: &str, buckets: u32) -> u32 {
    crc32fast::hash(id.as_bytes()) % buckets.max(1)
}

/// How many buckets an aggregate of `spans` spans gets.
pub fn buckets_for(spans: u64) -> u32 {
    u32::try_from(spans.div_ceil(SPANS_PER_BUCKET))
        .unwrap_or(MAX_BUCKETS)
        .clamp(1, MAX_BUCKETS)
}

/// A bucket's directory.
fn bucket_dir(dir: &Path, bucket: u32) -> PathBuf {
    dir.join(SPANS).join(format!("bucket={bucket}"))
}

/// A text column.
fn text_column(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

/// Writes `store`'s spans, by trace, into `buckets` buckets of `dir`, and its declared
/// elements; each span's file number is its [`crate::model::FileId`].
pub fn write(store: &TraceStore, dir: &Path, buckets: u32) -> anyhow::Result<()> {
    let names = &store.data.interner;
    let buckets = buckets.max(1);
    let mut by_bucket: Vec<Vec<usize>> = vec![Vec::new(); buckets as usize];
    let ids: Vec<String> = store
        .traces()
        .par_iter()
        .map(|t| t.id.display(names))
        .collect();
    for (t, id) in ids.iter().enumerate() {
        if let Some(b) = by_bucket.get_mut(bucket_of(id, buckets) as usize) {
            b.push(t);
        }
    }
    by_bucket
        .par_iter()
        .enumerate()
        .filter(|(_, traces)| !traces.is_empty())
        .try_for_each(|(bucket, traces)| {
            let (mut keys, mut lines) = (Vec::new(), Vec::new());
            for &t in traces {
                let Some(entry) = store.traces().get(t) else {
                    continue;
                };
                for i in store.trace_indices(entry) {
                    let Some(span) = store.spans().get(i as usize) else {
                        continue;
                    };
                    let (key, json) = span_line(&store.data, i as usize, span.file.0, i)?;
                    lines.push(format!("S\t{key}\t{json}"));
                    keys.push(key);
                }
            }
            let path = bucket_dir(dir, bucket as u32).join("part-0.parquet");
            write_file(
                &path,
                vec![("trace", text_column(keys)), ("line", text_column(lines))],
            )
        })?;
    if !store.data.nodes.is_empty() || !store.data.edges.is_empty() {
        let lines = declared_lines(&store.data, |f| f.0).collect::<Result<Vec<_>, _>>()?;
        write_file(
            &dir.join(DECLARED).join("part-0.parquet"),
            vec![("line", text_column(lines))],
        )?;
    }
    Ok(())
}

/// The spans table of an aggregate, opened: finds a trace's spans and builds its store.
#[derive(Clone, Debug)]
pub struct SpanTable {
    dir: PathBuf,
    buckets: u32,
}

/// One text column of the Parquet files in the directory `dir` (none when `dir` is missing),
/// of the rows whose column `keep.0` is `keep.1`, when `keep` is given.
fn read_lines(dir: &Path, column: &str, keep: Option<(&str, &str)>) -> anyhow::Result<Vec<String>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for batch in read_batches(dir)? {
        let values = texts(&batch, column);
        match keep {
            Some((name, want)) => out.extend(
                texts(&batch, name)
                    .into_iter()
                    .zip(values)
                    .filter(|(key, _)| key.as_deref() == Some(want))
                    .filter_map(|(_, v)| v),
            ),
            None => out.extend(values.into_iter().flatten()),
        }
    }
    Ok(out)
}

impl SpanTable {
    /// The spans table of the aggregate in `dir`, written with `buckets` buckets.
    pub fn new(dir: PathBuf, buckets: u32) -> Self {
        Self { dir, buckets }
    }

    /// The span lines of the trace whose id prints as `id` (none if it has none here).
    pub fn lines_of(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let bucket = bucket_dir(&self.dir, bucket_of(id, self.buckets));
        read_lines(&bucket, "line", Some(("trace", id)))
    }

    /// The declared elements' lines (`D` lines).
    pub fn declared(&self) -> anyhow::Result<Vec<String>> {
        read_lines(&self.dir.join(DECLARED), "line", None)
    }

    /// The store of the trace `id` alone, its strings starting as `names` (so the graph's
    /// symbols name its nodes), with `context` (the [`SpanTable::declared`] lines) naming its
    /// spans as the whole load named them. Returns the store and the trace's index in it; an
    /// error names the table when the trace is not there.
    pub fn trace_store(
        &self,
        id: &str,
        names: Interner,
        context: &[String],
    ) -> anyhow::Result<(TraceStore, usize)> {
        let lines = self.lines_of(id)?;
        anyhow::ensure!(
            !lines.is_empty(),
            "{}: trace {id} is not in the spans table",
            self.dir.join(SPANS).display()
        );
        let mut text = String::new();
        for line in context.iter().chain(&lines) {
            text.push_str(line);
            text.push('\n');
        }
        let read = store_of_lines_named(text.as_bytes(), names);
        let store = read.store;
        let interner = &store.data.interner;
        let index = store
            .traces()
            .iter()
            .position(|t| t.id.display(interner) == id)
            .or_else(|| {
                let parsed = TraceId::parse_hex(id).ok()?;
                store.traces().iter().position(|t| t.id == parsed)
            })
            .with_context(|| {
                format!(
                    "{}: trace {id}'s lines hold no trace",
                    self.dir.join(SPANS).display()
                )
            })?;
        Ok((store, index))
    }
}
