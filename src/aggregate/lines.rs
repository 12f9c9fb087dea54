//! Spans as lines of text, keyed by trace id, for a cluster to shuffle: what `flowscope spans` prints of a file (after its format was read) and `flowscope partial` reads back into the same store.
//!
//! A line is `S<TAB>KEY<TAB>JSON` for a span (KEY is its trace id as Zipkin prints it; a
//! shuffle by KEY brings a trace's spans from every file together) or `D<TAB><TAB>JSON` for a
//! declared node or edge (a Spigo graph's records, which belong to no trace). A `C` line is a
//! declared element given to a partition of traces as context: Spigo spans are named by the
//! declared instances of the whole load, so every partition needs them, but only the partition
//! of `D` lines counts them ([`super::Aggregate::without`]). `flowscope spans` starts with an
//! `F<TAB><TAB>JSON` line saying the file's format, bytes and warnings. The JSON holds
//! every field the derivation reads, with the strings spelled out, and where the span was: its
//! file's number in the whole load and its place in that file, so the store built back from
//! lines in any order is the store the whole load builds ([`store_of_lines`]).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::model::batch::{DeclaredEdge, DeclaredNode, NameLevel, SpanRef};
use crate::model::{
    Annotation, Batch, Endpoint, FileId, Interner, Kind, LinkRule, Slice, Span, SpanId, Sym, Tag,
    TraceId, TraceStore,
};

/// A trace or span id, spelled out.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
enum IdLine {
    /// 64-bit hex.
    H(u64),
    /// 128-bit hex (high, low).
    W(u64, u64),
    /// As written.
    O(String),
}

/// An endpoint, spelled out.
#[derive(Serialize, Deserialize, Default, Debug)]
struct EndpointLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipv6: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

/// One span, spelled out.
#[derive(Serialize, Deserialize, Debug)]
struct SpanLine {
    /// File number in the load.
    file: u32,
    /// Place in that file.
    at: u32,
    trace: IdLine,
    id: IdLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<IdLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    shared: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    debug: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    jaeger: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration: Option<u64>,
    #[serde(default)]
    local: EndpointLine,
    #[serde(default)]
    remote: EndpointLine,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resource: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<(i64, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    refs: Vec<IdLine>,
}

/// A declared node or edge, spelled out.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "declared", rename_all = "lowercase")]
enum DeclaredLine {
    Node {
        file: u32,
        at: u32,
        name: String,
        instance: bool,
        #[serde(default)]
        package: Option<String>,
        #[serde(default)]
        ip: Option<String>,
        #[serde(default)]
        done: bool,
        #[serde(default)]
        done_micros: Option<i64>,
        #[serde(default)]
        timestamp_micros: Option<i64>,
    },
    Edge {
        file: u32,
        at: u32,
        source: String,
        target: String,
        instance: bool,
        calls: u64,
        errors: u64,
    },
}

fn trace_line(id: TraceId, names: &Interner) -> IdLine {
    match id {
        TraceId::Hex64(v) => IdLine::H(v),
        TraceId::Hex128 { high, low } => IdLine::W(high, low),
        TraceId::Opaque(s) => IdLine::O(names.resolve(s).to_owned()),
    }
}

fn span_id_line(id: SpanId, names: &Interner) -> IdLine {
    match id {
        SpanId::Hex(v) => IdLine::H(v),
        SpanId::Opaque(s) => IdLine::O(names.resolve(s).to_owned()),
    }
}

fn endpoint_line(e: &Endpoint, names: &Interner) -> EndpointLine {
    let text = |s: Option<Sym>| s.map(|s| names.resolve(s).to_owned());
    EndpointLine {
        service: text(e.service),
        ipv4: text(e.ipv4),
        ipv6: text(e.ipv6),
        port: e.port,
    }
}

/// Writes `batch` (one file's spans and declared elements, as read) as lines; `file` is the
/// file's number in the whole load.
pub fn write_lines(batch: &Batch, file: u32, out: &mut impl Write) -> std::io::Result<()> {
    for at in 0..batch.spans.len() {
        let (key, json) = span_line(batch, at, file, at as u32)?;
        writeln!(out, "S\t{key}\t{json}")?;
    }
    for line in declared_lines(batch, |_| file) {
        writeln!(out, "{}", line?)?;
    }
    Ok(())
}

/// Span `index` of `batch` as a line's key (its trace id as Zipkin prints it) and JSON, for
/// file number `file` at place `at` in it. A store's spans are written the same way, each
/// with its own file's number and its index in the store as its place (the order is what
/// counts: [`store_of_lines`] sorts each file's spans by it).
pub fn span_line(
    batch: &Batch,
    index: usize,
    file: u32,
    at: u32,
) -> serde_json::Result<(String, String)> {
    let names = &batch.interner;
    let text = |s: Sym| names.resolve(s).to_owned();
    let pairs = |slice: Slice| -> Vec<(String, String)> {
        batch
            .tags_of(slice)
            .iter()
            .map(|t| (text(t.key), text(t.value)))
            .collect()
    };
    let Some(s) = batch.spans.get(index) else {
        return Ok((String::new(), String::new()));
    };
    let line = SpanLine {
        file,
        at,
        trace: trace_line(s.trace_id(), names),
        id: span_id_line(s.id(), names),
        parent: s.parent_id().map(|p| span_id_line(p, names)),
        kind: s.kind.map(|k| k.as_str().to_owned()),
        shared: s.shared,
        debug: s.debug,
        jaeger: s.rule == LinkRule::Jaeger,
        name: s.name.map(text),
        start: s.timestamp_micros(),
        duration: s.duration_micros(),
        local: endpoint_line(&s.local, names),
        remote: endpoint_line(&s.remote, names),
        tags: pairs(s.tags),
        resource: pairs(s.resource),
        annotations: batch
            .annotations_of(s.annotations)
            .iter()
            .map(|a| (a.timestamp_micros, text(a.value)))
            .collect(),
        refs: batch
            .refs_of(index as u32)
            .iter()
            .map(|r| span_id_line(r.to, names))
            .collect(),
    };
    Ok((s.trace_id().display(names), serde_json::to_string(&line)?))
}

/// `batch`'s declared nodes and edges as `D` lines, each with the number `file_of` gives its
/// file and its index in the batch as its place.
pub fn declared_lines(
    batch: &Batch,
    file_of: impl Fn(FileId) -> u32,
) -> impl Iterator<Item = serde_json::Result<String>> {
    let names = &batch.interner;
    let text = |s: Sym| names.resolve(s).to_owned();
    let level = |l: NameLevel| l == NameLevel::Instance;
    let nodes = batch.nodes.iter().enumerate().map(move |(at, n)| {
        let line = DeclaredLine::Node {
            file: 0,
            at: at as u32,
            name: text(n.name),
            instance: level(n.level),
            package: n.package.map(text),
            ip: n.ip.map(text),
            done: n.done,
            done_micros: n.done_micros,
            timestamp_micros: n.timestamp_micros,
        };
        (line, n.file)
    });
    let edges = batch.edges.iter().enumerate().map(move |(at, e)| {
        let line = DeclaredLine::Edge {
            file: 0,
            at: at as u32,
            source: text(e.source),
            target: text(e.target),
            instance: level(e.level),
            calls: e.calls,
            errors: e.errors,
        };
        (line, e.file)
    });
    nodes.chain(edges).map(move |(mut line, file)| {
        match &mut line {
            DeclaredLine::Node { file: f, .. } | DeclaredLine::Edge { file: f, .. } => {
                *f = file_of(file);
            }
        }
        Ok(format!("D\t\t{}", serde_json::to_string(&line)?))
    })
}

/// One file's lines while a store is built back.
#[derive(Default)]
struct FileLines {
    spans: Vec<SpanLine>,
    nodes: Vec<(u32, DeclaredLine)>,
    edges: Vec<(u32, DeclaredLine)>,
}

/// What [`store_of_lines`] read.
#[derive(Debug, Default)]
pub struct LinesRead {
    /// The store, indexed.
    pub store: TraceStore,
    /// The declared elements given as context (`C` lines) alone, when there were any: `store`
    /// holds them too, so its spans are named as in the whole load, and what they add is this
    /// store's derivation.
    pub context: Option<TraceStore>,
    /// Lines that were not lines of [`write_lines`], with the first one's number.
    pub bad: (u64, Option<u64>),
}

/// Builds back, from lines in any order, the store the files they came from make when read
/// together: each file's spans and declared elements in their order, the files in theirs.
pub fn store_of_lines(input: impl BufRead) -> LinesRead {
    store_of_lines_named(input, Interner::default())
}

/// [`store_of_lines`] into a store whose strings start as `names`: a symbol of `names` stands
/// for the same string in the store (what a trace loaded on demand needs to be lit on a graph
/// named in `names`).
pub fn store_of_lines_named(input: impl BufRead, names: Interner) -> LinesRead {
    let mut files: BTreeMap<u32, FileLines> = BTreeMap::default();
    let mut context_files: BTreeMap<u32, FileLines> = BTreeMap::default();
    let mut bad = (0u64, None);
    for (number, line) in input.lines().enumerate() {
        let parsed = line.ok().and_then(|line| {
            let mut parts = line.splitn(3, '\t');
            let (kind, _key, json) = (parts.next()?, parts.next()?, parts.next()?);
            match kind {
                "S" => {
                    let span: SpanLine = serde_json::from_str(json).ok()?;
                    files.entry(span.file).or_default().spans.push(span);
                    Some(())
                }
                "D" | "C" => {
                    let declared: DeclaredLine = serde_json::from_str(json).ok()?;
                    let (file, at) = match &declared {
                        DeclaredLine::Node { file, at, .. }
                        | DeclaredLine::Edge { file, at, .. } => (*file, *at),
                    };
                    if kind == "C" {
                        push_declared(context_files.entry(file).or_default(), at, declared.clone());
                    }
                    push_declared(files.entry(file).or_default(), at, declared);
                    Some(())
                }
                // The file line (`F`) of `flowscope spans`: for the cluster's manifest.
                "F" => Some(()),
                _ => None,
            }
        });
        if parsed.is_none() {
            bad.0 += 1;
            bad.1.get_or_insert(number as u64 + 1);
        }
    }
    let context =
        (!context_files.is_empty()).then(|| store_of_files(context_files, Interner::default()));
    LinesRead {
        store: store_of_files(files, names),
        context,
        bad,
    }
}

/// Adds a declared element at its place in its file.
fn push_declared(lines: &mut FileLines, at: u32, declared: DeclaredLine) {
    match declared {
        DeclaredLine::Node { .. } => lines.nodes.push((at, declared)),
        DeclaredLine::Edge { .. } => lines.edges.push((at, declared)),
    }
}

/// The indexed store of files' lines, each file's in its order, the files in theirs.
fn store_of_files(files: BTreeMap<u32, FileLines>, names: Interner) -> TraceStore {
    let mut store = TraceStore::default();
    store.data.interner = names;
    for (file, mut lines) in files {
        lines.spans.sort_by_key(|s| s.at);
        lines.nodes.sort_by_key(|n| n.0);
        lines.edges.sort_by_key(|e| e.0);
        store.append(batch_of(FileId(file), lines));
    }
    store.index();
    store
}

/// One file's batch from its lines.
fn batch_of(file: FileId, lines: FileLines) -> Batch {
    let mut b = Batch::default();
    let sym = |b: &mut Batch, s: &str| b.interner.intern(s);
    let mut refs: Vec<SpanRef> = Vec::new();
    for line in lines.spans {
        let id = |b: &mut Batch, id: &IdLine| match id {
            IdLine::H(v) => SpanId::Hex(*v),
            IdLine::W(_, low) => SpanId::Hex(*low),
            IdLine::O(s) => SpanId::Opaque(b.interner.intern(s)),
        };
        let trace_id = match &line.trace {
            IdLine::H(v) => TraceId::Hex64(*v),
            IdLine::W(high, low) => TraceId::Hex128 {
                high: *high,
                low: *low,
            },
            IdLine::O(s) => TraceId::Opaque(sym(&mut b, s)),
        };
        let endpoint = |b: &mut Batch, e: &EndpointLine| Endpoint {
            service: e.service.as_deref().map(|s| b.interner.intern(s)),
            ipv4: e.ipv4.as_deref().map(|s| b.interner.intern(s)),
            ipv6: e.ipv6.as_deref().map(|s| b.interner.intern(s)),
            port: e.port,
        };
        let run = |b: &mut Batch, pairs: &[(String, String)]| {
            let start = b.tags.len() as u32;
            for (k, v) in pairs {
                let tag = Tag {
                    key: b.interner.intern(k),
                    value: b.interner.intern(v),
                };
                b.tags.push(tag);
            }
            Slice {
                start,
                len: pairs.len() as u32,
            }
        };
        let tags = run(&mut b, &line.tags);
        let resource = run(&mut b, &line.resource);
        let start = b.annotations.len() as u32;
        for (t, v) in &line.annotations {
            let value = b.interner.intern(v);
            b.annotations.push(Annotation {
                timestamp_micros: *t,
                value,
            });
        }
        let annotations = Slice {
            start,
            len: line.annotations.len() as u32,
        };
        let index = b.spans.len() as u32;
        for r in &line.refs {
            let to = id(&mut b, r);
            refs.push(SpanRef { span: index, to });
        }
        let span_id = id(&mut b, &line.id);
        let parent_id = line.parent.as_ref().map(|p| id(&mut b, p));
        let mut span = Span {
            kind: line.kind.as_deref().and_then(Kind::parse),
            shared: line.shared,
            debug: line.debug,
            rule: if line.jaeger {
                LinkRule::Jaeger
            } else {
                LinkRule::Zipkin
            },
            name: line.name.as_deref().map(|s| b.interner.intern(s)),
            local: endpoint(&mut b, &line.local),
            remote: endpoint(&mut b, &line.remote),
            tags,
            annotations,
            resource,
            file,
            ..Span::new(trace_id, span_id)
        };
        span.set_parent_id(parent_id);
        span.set_timestamp_micros(line.start);
        span.set_duration_micros(line.duration);
        b.spans.push(span);
    }
    b.refs = refs;
    let level = |instance: bool| {
        if instance {
            NameLevel::Instance
        } else {
            NameLevel::Service
        }
    };
    for (_, node) in lines.nodes {
        if let DeclaredLine::Node {
            name,
            instance,
            package,
            ip,
            done,
            done_micros,
            timestamp_micros,
            ..
        } = node
        {
            let node = DeclaredNode {
                name: sym(&mut b, &name),
                level: level(instance),
                package: package.as_deref().map(|p| b.interner.intern(p)),
                ip: ip.as_deref().map(|p| b.interner.intern(p)),
                done,
                done_micros,
                timestamp_micros,
                file,
            };
            b.nodes.push(node);
        }
    }
    for (_, edge) in lines.edges {
        if let DeclaredLine::Edge {
            source,
            target,
            instance,
            calls,
            errors,
            ..
        } = edge
        {
            let edge = DeclaredEdge {
                source: sym(&mut b, &source),
                target: sym(&mut b, &target),
                level: level(instance),
                calls,
                errors,
                file,
            };
            b.edges.push(edge);
        }
    }
    b
}
