//! An aggregate on disk: a directory of Parquet tables and a manifest, written by `flowscope aggregate` (or a Spark job) and read by every command that reads traces.
//!
//! Parquet because both sides read and write it natively: Spark's `DataFrame`s write it in
//! parallel as directories of part files (snappy-compressed by default) and the `parquet` crate
//! reads those without a JVM; its columns compress repeated names well and a reader takes only
//! the columns it needs. The layout:
//!
//! ```text
//! OUT/flowscope-aggregate.json   {"format":"flowscope-aggregate","version":1,"spans":N,"inputs":[…],"span_buckets":B}
//! OUT/links/*.parquet            level, parent, child, calls, errors, duration_sum
//! OUT/latency/*.parquet          level, parent, child, bucket, count   (the sketches, one row per bucket)
//! OUT/places/*.parquet           instance, region, zone, service, package
//! OUT/traces/*.parquet           id, stored_spans, spans, errors, root, start_micros, duration_micros
//! OUT/spans/bucket=K/*.parquet   trace, line   (every span, bucketed by trace id: [`super::spans`])
//! OUT/declared/*.parquet         line          (declared elements, where there are any)
//! ```
//!
//! Levels are spelled as on the command line (`instance`, `service`, `zone`, `region`). Integer
//! columns are 64-bit (Spark's `long`); 32-bit ones are read too. Rows that repeat a link add up
//! (partial aggregates may be written unmerged), so do latency rows. A row with an unknown level
//! or a missing value is skipped and counted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::spans::{self, SpanTable};
use super::{Aggregate, InputRow, LinkRow, Merger, PlaceRow, TraceSummary};
use crate::model::Level;

/// The manifest's file name: a directory holding it is an aggregate.
pub const MANIFEST: &str = crate::ingest::AGGREGATE_MANIFEST;

/// The manifest's `format` value.
const FORMAT: &str = "flowscope-aggregate";

/// The layout's version.
const VERSION: u32 = 1;

/// What the manifest says.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    spans: u64,
    #[serde(default)]
    inputs: Vec<ManifestInput>,
    /// Buckets of the spans table ([`super::spans`]); 0 when the aggregate keeps no spans.
    #[serde(default)]
    span_buckets: u32,
}

/// One input file in the manifest.
#[derive(serde::Serialize, serde::Deserialize)]
struct ManifestInput {
    path: String,
    format: String,
    bytes: u64,
    warnings: u64,
}

/// An aggregate read back, and the rows that could not be used.
#[derive(Debug, Default)]
pub struct ReadAggregate {
    /// The aggregate.
    pub aggregate: Aggregate,
    /// Rows skipped (an unknown level, a missing value), by table, with an example.
    pub skipped: Vec<(String, u64, String)>,
    /// Its spans, where it keeps them: a trace's are found on demand.
    pub spans: Option<SpanTable>,
}

/// Whether `path` is a directory holding an aggregate.
pub fn is_aggregate(path: &Path) -> bool {
    path.join(MANIFEST).is_file()
}

fn text_column(rows: impl IntoIterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(rows.into_iter().collect::<StringArray>())
}

fn int_column(rows: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(rows.into_iter().collect::<Int64Array>())
}

/// Saturates a count into Parquet's signed 64 bits.
fn long(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Writes one table as `dir/name/part-0.parquet`.
fn write_table(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) -> anyhow::Result<()> {
    write_file(&dir.join(name).join("part-0.parquet"), columns)
}

/// Writes one Parquet file (snappy, as Spark writes them) of `columns`, making its directory.
pub(super) fn write_file(path: &Path, columns: Vec<(&str, ArrayRef)>) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    }
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .with_context(|| format!("{}: building the table", path.display()))?;
    let file = File::create(path).with_context(|| format!("{}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))
        .with_context(|| format!("{}", path.display()))?;
    writer
        .write(&batch)
        .and_then(|()| writer.close().map(|_| ()))
        .with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Writes `aggregate` into the directory `dir` (made if missing), with the spans of `store`
/// (the store it was derived from) when given. An aggregate already there is replaced only
/// with `force`; any other non-empty directory is refused.
pub fn write(
    aggregate: &Aggregate,
    store: Option<&crate::model::TraceStore>,
    dir: &Path,
    force: bool,
) -> anyhow::Result<()> {
    prepare(dir, force)?;
    let buckets = match store {
        Some(store) => {
            let buckets = spans::buckets_for(store.spans().len() as u64);
            spans::write(store, dir, buckets)?;
            buckets
        }
        None => 0,
    };
    write_tables(aggregate, dir, buckets)
}

/// Makes `dir` ready for an aggregate: made if missing; an aggregate there is cleared only with
/// `force`; any other non-empty directory is refused.
pub fn prepare(dir: &Path, force: bool) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("{}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            anyhow::ensure!(
                is_aggregate(dir),
                "{}: not empty and not an aggregate; choose another directory",
                dir.display()
            );
            anyhow::ensure!(
                force,
                "{}: an aggregate is already there (--force replaces it)",
                dir.display()
            );
            for table in [
                "links",
                "latency",
                "places",
                "traces",
                spans::SPANS,
                spans::DECLARED,
            ] {
                let t = dir.join(table);
                if t.exists() {
                    std::fs::remove_dir_all(&t).with_context(|| format!("{}", t.display()))?;
                }
            }
            std::fs::remove_file(dir.join(MANIFEST)).ok();
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))
}

/// Writes the tables and the manifest into a prepared `dir`.
fn write_tables(aggregate: &Aggregate, dir: &Path, span_buckets: u32) -> anyhow::Result<()> {
    let links = &aggregate.links;
    let level = |l: &LinkRow| Some(l.level.as_str().to_owned());
    write_table(
        dir,
        "links",
        vec![
            ("level", text_column(links.iter().map(level))),
            (
                "parent",
                text_column(links.iter().map(|l| Some(l.parent.clone()))),
            ),
            (
                "child",
                text_column(links.iter().map(|l| Some(l.child.clone()))),
            ),
            (
                "calls",
                int_column(links.iter().map(|l| Some(long(l.calls)))),
            ),
            (
                "errors",
                int_column(links.iter().map(|l| Some(long(l.errors)))),
            ),
            (
                "duration_sum",
                int_column(links.iter().map(|l| Some(long(l.latency.sum())))),
            ),
        ],
    )?;
    let buckets: Vec<(&LinkRow, u16, u64)> = links
        .iter()
        .flat_map(|l| l.latency.buckets().iter().map(move |&(b, n)| (l, b, n)))
        .collect();
    write_table(
        dir,
        "latency",
        vec![
            (
                "level",
                text_column(buckets.iter().map(|(l, _, _)| level(l))),
            ),
            (
                "parent",
                text_column(buckets.iter().map(|(l, _, _)| Some(l.parent.clone()))),
            ),
            (
                "child",
                text_column(buckets.iter().map(|(l, _, _)| Some(l.child.clone()))),
            ),
            (
                "bucket",
                int_column(buckets.iter().map(|&(_, b, _)| Some(i64::from(b)))),
            ),
            (
                "count",
                int_column(buckets.iter().map(|&(_, _, n)| Some(long(n)))),
            ),
        ],
    )?;
    let places = &aggregate.places;
    write_table(
        dir,
        "places",
        vec![
            (
                "instance",
                text_column(places.iter().map(|p| Some(p.instance.clone()))),
            ),
            (
                "region",
                text_column(places.iter().map(|p| Some(p.region.clone()))),
            ),
            (
                "zone",
                text_column(places.iter().map(|p| Some(p.zone.clone()))),
            ),
            (
                "service",
                text_column(places.iter().map(|p| Some(p.service.clone()))),
            ),
            (
                "package",
                text_column(places.iter().map(|p| p.package.clone())),
            ),
        ],
    )?;
    let traces = &aggregate.traces;
    write_table(
        dir,
        "traces",
        vec![
            ("id", text_column(traces.iter().map(|t| Some(t.id.clone())))),
            (
                "stored_spans",
                int_column(traces.iter().map(|t| Some(i64::from(t.stored_spans)))),
            ),
            (
                "spans",
                int_column(traces.iter().map(|t| Some(i64::from(t.spans)))),
            ),
            (
                "errors",
                int_column(traces.iter().map(|t| Some(i64::from(t.errors)))),
            ),
            ("root", text_column(traces.iter().map(|t| t.root.clone()))),
            (
                "start_micros",
                int_column(traces.iter().map(|t| t.start_micros)),
            ),
            (
                "duration_micros",
                int_column(traces.iter().map(|t| Some(long(t.duration_micros)))),
            ),
        ],
    )?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        spans: aggregate.spans,
        inputs: aggregate
            .inputs
            .iter()
            .map(|i| ManifestInput {
                path: i.path.clone(),
                format: i.format.clone(),
                bytes: i.bytes,
                warnings: i.warnings,
            })
            .collect(),
        span_buckets,
    };
    let path = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// One table's record batches, from every `*.parquet` file of `dir/name` (in name order).
fn read_table(dir: &Path, name: &str) -> anyhow::Result<Vec<RecordBatch>> {
    read_batches(&dir.join(name))
}

/// The record batches of every `*.parquet` file in the directory `table` (in name order, as
/// Spark numbers its part files). An error names the file.
pub(super) fn read_batches(table: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(table)
        .with_context(|| format!("{}", table.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = File::open(&path).with_context(|| format!("{}", path.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(ParquetRecordBatchReaderBuilder::<File>::build)
            .with_context(|| format!("{}: not a Parquet file", path.display()))?;
        for batch in reader {
            out.push(batch.with_context(|| format!("{}: damaged", path.display()))?);
        }
    }
    Ok(out)
}

/// A column as text values (`None` for a null or a missing column).
pub(super) fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let n = batch.num_rows();
    let Some(column) = batch.column_by_name(name) else {
        return vec![None; n];
    };
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return (0..n)
            .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
            .collect();
    }
    if let Some(a) = any.downcast_ref::<arrow_array::LargeStringArray>() {
        return (0..n)
            .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
            .collect();
    }
    if let Some(a) = any.downcast_ref::<arrow_array::StringViewArray>() {
        return (0..n)
            .map(|i| a.is_valid(i).then(|| a.value(i).to_owned()))
            .collect();
    }
    vec![None; n]
}

/// A column as integers, 64- or 32-bit (`None` for a null, a missing or another column).
fn ints(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let n = batch.num_rows();
    let Some(column) = batch.column_by_name(name) else {
        return vec![None; n];
    };
    let any = column.as_any();
    match column.data_type() {
        DataType::Int64 => match any.downcast_ref::<Int64Array>() {
            Some(a) => (0..n).map(|i| a.is_valid(i).then(|| a.value(i))).collect(),
            None => vec![None; n],
        },
        DataType::Int32 => match any.downcast_ref::<arrow_array::Int32Array>() {
            Some(a) => (0..n)
                .map(|i| a.is_valid(i).then(|| i64::from(a.value(i))))
                .collect(),
            None => vec![None; n],
        },
        _ => vec![None; n],
    }
}

/// Counts skipped rows by table, keeping the first reason.
#[derive(Default)]
struct Skips(Vec<(String, u64, String)>);

impl Skips {
    fn skip(&mut self, table: &str, why: impl FnOnce() -> String) {
        match self.0.iter_mut().find(|(t, _, _)| t == table) {
            Some((_, n, _)) => *n += 1,
            None => self.0.push((table.to_owned(), 1, why())),
        }
    }
}

fn level_of(text: Option<&str>) -> Option<Level> {
    Level::ALL.into_iter().find(|l| Some(l.as_str()) == text)
}

/// A count read back (a negative one is a damaged row).
fn count(v: Option<i64>) -> Option<u64> {
    u64::try_from(v?).ok()
}

/// Reads the aggregate in the directory `dir`: repeated links and latency rows add up, damaged
/// rows are skipped and counted. An error names the file.
pub fn read(dir: &Path) -> anyhow::Result<ReadAggregate> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("{}", manifest_path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: not an aggregate manifest", manifest_path.display()))?;
    anyhow::ensure!(
        manifest.format == FORMAT && manifest.version == VERSION,
        "{}: format {} version {} (this flowscope reads {FORMAT} version {VERSION})",
        manifest_path.display(),
        manifest.format,
        manifest.version
    );
    let mut skips = Skips::default();
    let mut merger = Merger::default();
    for batch in read_table(dir, "links")? {
        let (level, parent, child) = (
            texts(&batch, "level"),
            texts(&batch, "parent"),
            texts(&batch, "child"),
        );
        let (calls, errors, sum) = (
            ints(&batch, "calls"),
            ints(&batch, "errors"),
            ints(&batch, "duration_sum"),
        );
        for i in 0..batch.num_rows() {
            let row = (|| {
                let l = level_of(level.get(i)?.as_deref())?;
                Some((
                    (l, parent.get(i)?.clone()?, child.get(i)?.clone()?),
                    count(*calls.get(i)?)?,
                    count(*errors.get(i)?)?,
                    count(*sum.get(i)?).unwrap_or(0),
                ))
            })();
            let Some((key, c, e, s)) = row else {
                skips.skip("links", || {
                    format!("row {i}: an unknown level or a missing value")
                });
                continue;
            };
            merger.link(key, c, e, s);
        }
    }
    for batch in read_table(dir, "latency")? {
        let (level, parent, child) = (
            texts(&batch, "level"),
            texts(&batch, "parent"),
            texts(&batch, "child"),
        );
        let (bucket, n) = (ints(&batch, "bucket"), ints(&batch, "count"));
        for i in 0..batch.num_rows() {
            let row = (|| {
                let l = level_of(level.get(i)?.as_deref())?;
                let key = (l, parent.get(i)?.clone()?, child.get(i)?.clone()?);
                let b = u16::try_from((*bucket.get(i)?)?).ok()?;
                Some((key, b, count(*n.get(i)?)?))
            })();
            match row {
                Some((key, b, n)) => merger.bucket(key, b, n),
                None => skips.skip("latency", || {
                    format!("row {i}: an unknown level, bucket or a missing value")
                }),
            }
        }
    }
    for batch in read_table(dir, "places")? {
        let cols = ["instance", "region", "zone", "service", "package"].map(|c| texts(&batch, c));
        for i in 0..batch.num_rows() {
            let get = |k: usize| cols.get(k).and_then(|c| c.get(i)).cloned().flatten();
            let (Some(instance), Some(region), Some(zone), Some(service)) =
                (get(0), get(1), get(2), get(3))
            else {
                skips.skip("places", || format!("row {i}: a missing value"));
                continue;
            };
            merger.place(PlaceRow {
                instance,
                region,
                zone,
                service,
                package: get(4),
            });
        }
    }
    let mut traces = Vec::new();
    for batch in read_table(dir, "traces")? {
        let id = texts(&batch, "id");
        let root = texts(&batch, "root");
        let [stored, spans, errors, start, duration] = [
            "stored_spans",
            "spans",
            "errors",
            "start_micros",
            "duration_micros",
        ]
        .map(|c| ints(&batch, c));
        for i in 0..batch.num_rows() {
            let small = |v: &[Option<i64>]| -> Option<u32> { u32::try_from((*v.get(i)?)?).ok() };
            let row = (|| {
                Some(TraceSummary {
                    id: id.get(i)?.clone()?,
                    stored_spans: small(&stored)?,
                    spans: small(&spans)?,
                    errors: small(&errors)?,
                    root: root.get(i)?.clone(),
                    start_micros: *start.get(i)?,
                    duration_micros: count(*duration.get(i)?)?,
                })
            })();
            match row {
                Some(t) => traces.push(t),
                None => skips.skip("traces", || format!("row {i}: a missing value")),
            }
        }
    }
    let (links, places) = merger.finish();
    Ok(ReadAggregate {
        aggregate: Aggregate {
            links,
            places,
            traces,
            inputs: manifest
                .inputs
                .into_iter()
                .map(|i| InputRow {
                    path: i.path,
                    format: i.format,
                    bytes: i.bytes,
                    warnings: i.warnings,
                })
                .collect(),
            spans: manifest.spans,
        },
        skipped: skips.0,
        spans: (manifest.span_buckets > 0)
            .then(|| SpanTable::new(dir.to_path_buf(), manifest.span_buckets)),
    })
}
