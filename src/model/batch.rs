//! [`Batch`]: spans and declared graph elements with their own interner and arenas, as one parser produces them.

use super::ids::{SpanId, TraceId};
use super::intern::{Interner, Sym, SymMap};
use super::span::{Annotation, Endpoint, FileId, Slice, Span, Tag};

/// Whether a declared name is an instance (Spigo graph/arch) or a service (dependency links).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NameLevel {
    /// An instance name (Spigo 4- or 9-field).
    Instance,
    /// A service name.
    Service,
}

/// A node a file declares directly (Spigo graph `node` record, an arch expansion, a link endpoint).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeclaredNode {
    /// The name as written in the file.
    pub name: Sym,
    /// What the name names.
    pub level: NameLevel,
    /// Spigo package (elb, karyon, …) when known.
    pub package: Option<Sym>,
    /// Address metadata, when known.
    pub ip: Option<Sym>,
    /// A `done` record was seen for it (it stopped, e.g. the chaos-monkey victim).
    pub done: bool,
    /// When it stopped, epoch microseconds, if the record said.
    pub done_micros: Option<i64>,
    /// When the node appeared, epoch microseconds.
    pub timestamp_micros: Option<i64>,
    /// The file it came from.
    pub file: FileId,
}

/// An edge a file declares directly, caller → callee.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeclaredEdge {
    /// Caller name.
    pub source: Sym,
    /// Callee name.
    pub target: Sym,
    /// What the names name.
    pub level: NameLevel,
    /// Calls (1 for a Spigo edge record).
    pub calls: u64,
    /// Errors.
    pub errors: u64,
    /// The file it came from.
    pub file: FileId,
}

/// One reference of a span (Jaeger's `references`): the span it points at, by id.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpanRef {
    /// Index in [`Batch::spans`] of the span holding the reference.
    pub span: u32,
    /// The id of the span referred to (in the same trace or not).
    pub to: SpanId,
}

/// Everything read from one or more inputs: spans, declared nodes and edges, and the arenas they point into.
#[derive(Default, Debug, Clone)]
pub struct Batch {
    /// Strings.
    pub interner: Interner,
    /// Spans, in file order.
    pub spans: Vec<Span>,
    /// Tag arena.
    pub tags: Vec<Tag>,
    /// Annotation arena.
    pub annotations: Vec<Annotation>,
    /// The references of spans whose references are more than their parent (several, or one to
    /// another trace), in span order; see [`Batch::refs_of`].
    pub refs: Vec<SpanRef>,
    /// Declared nodes.
    pub nodes: Vec<DeclaredNode>,
    /// Declared edges.
    pub edges: Vec<DeclaredEdge>,
    /// What parsers remember between records (tied to this batch's interner).
    pub memo: Memo,
    /// Runs of one trace id over the first spans, kept as batches are appended.
    pub runs: TraceRuns,
    /// The tag runs sealed so far, by content, so spans with the same tags share one run.
    pub tag_runs: TagRuns,
}

/// The runs of the tag arena sealed so far, found by their content ([`Batch::seal_tags`]): most
/// spans repeat another span's tags exactly (a method, a route, a status), and a span whose tags
/// were seen before points at the earlier run instead of adding its own, which keeps the arena
/// a fraction of its size. The table is bounded; past its size it starts afresh (runs already
/// shared stay shared).
#[derive(Default, Debug, Clone)]
pub struct TagRuns {
    table: hashbrown::HashTable<Slice>,
}

impl TagRuns {
    /// Runs remembered before the table starts afresh.
    const MAX_RUNS: usize = 1 << 16;

    fn hash(tags: &[Tag]) -> u64 {
        use std::hash::BuildHasher as _;
        rustc_hash::FxBuildHasher.hash_one(tags)
    }

    /// Forgets every run.
    pub fn clear(&mut self) {
        self.table.clear();
    }
}

/// Runs of consecutive spans with one trace id, covering the first spans of a batch. Appending a
/// batch ([`Batch::append_from`]) extends them while it copies the spans, so indexing the spans
/// into traces need not read every span again from memory ([`crate::model::TraceStore::index`]).
/// Spans pushed by other means are not covered; the index finds their runs itself.
#[derive(Default, Debug, Clone)]
pub struct TraceRuns {
    /// Trace id, first span and number of spans of each run, in span order.
    pub runs: Vec<(TraceId, u32, u32)>,
    /// How many of the first spans the runs cover.
    pub covered: usize,
}

impl TraceRuns {
    /// Extends the runs with the span at position `at`, which must be the first one not covered.
    #[inline]
    pub fn push(&mut self, id: TraceId, at: usize) {
        match self.runs.last_mut() {
            Some(run) if run.0 == id => run.2 += 1,
            _ => self.runs.push((id, at as u32, 1)),
        }
        self.covered = at + 1;
    }
}

/// What parsers remember between the records of one batch: endpoints already converted, by the
/// exact text they were read from. Endpoints repeat in nearly every span (one per instance), and
/// converting one (lower-casing, interning, reading addresses) costs more than reading it, so an
/// endpoint written as one before is converted once. The values hold the batch's symbols, so the
/// memo is emptied with its interner.
#[derive(Default, Debug, Clone)]
pub struct Memo {
    endpoints: hashbrown::HashTable<Remembered>,
    /// The remembered texts, back to back.
    text: Vec<u8>,
}

/// One remembered endpoint: its text's hash and place in [`Memo::text`], and the endpoint.
#[derive(Clone, Copy, Debug)]
struct Remembered {
    hash: u64,
    start: u32,
    len: u32,
    endpoint: Endpoint,
}

impl Memo {
    /// Longest text remembered. Longer ones (never a real endpoint) are converted every time, so
    /// a string cut to the interner's limit is counted every time it is read.
    pub const MAX_TEXT: usize = 256;
    /// Endpoints remembered before the memo starts afresh.
    const MAX_ENDPOINTS: usize = 1 << 14;

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.endpoints.clear();
        self.text.clear();
    }

    fn hash(text: &[u8]) -> u64 {
        use std::hash::Hasher as _;
        let mut h = rustc_hash::FxHasher::default();
        h.write(text);
        h.finish()
    }

    fn find(&self, hash: u64, text: &[u8]) -> Option<Endpoint> {
        let stored = &self.text;
        self.endpoints
            .find(hash, |r| {
                r.hash == hash
                    && stored.get(r.start as usize..(r.start + r.len) as usize) == Some(text)
            })
            .map(|r| r.endpoint)
    }

    fn remember(&mut self, hash: u64, text: &[u8], endpoint: Endpoint) {
        if self.endpoints.len() >= Self::MAX_ENDPOINTS {
            self.clear();
        }
        let start = self.text.len() as u32;
        self.text.extend_from_slice(text);
        self.endpoints.insert_unique(
            hash,
            Remembered {
                hash,
                start,
                len: text.len() as u32,
                endpoint,
            },
            |r| r.hash,
        );
    }
}

impl Batch {
    /// The endpoint read from `text`: the one remembered for the same text, or `convert`'s,
    /// which is then remembered (`convert` must depend on nothing but the text).
    pub fn endpoint_for_text(
        &mut self,
        text: &[u8],
        convert: impl FnOnce(&mut Batch) -> Endpoint,
    ) -> Endpoint {
        if text.len() > Memo::MAX_TEXT {
            return convert(self);
        }
        let hash = Memo::hash(text);
        if let Some(endpoint) = self.memo.find(hash, text) {
            return endpoint;
        }
        let endpoint = convert(self);
        self.memo.remember(hash, text, endpoint);
        endpoint
    }

    /// An empty batch with room for the records of `bytes` of input, so parsing a block does not
    /// grow (and copy) its arrays. Room that is never used costs no memory: pages are only taken
    /// when written.
    pub fn for_bytes(bytes: usize) -> Self {
        Self {
            spans: Vec::with_capacity(bytes / 128),
            tags: Vec::with_capacity(bytes / 64),
            ..Self::default()
        }
    }

    /// Empties the batch and keeps its arrays' room, so a batch can be parsed into again without
    /// taking (and faulting in) fresh memory.
    pub fn clear(&mut self) {
        self.interner.clear();
        self.memo.clear();
        self.clear_records();
    }

    /// [`Batch::clear`], but the strings stay interned.
    pub fn clear_records(&mut self) {
        self.runs = TraceRuns::default();
        self.spans.clear();
        self.tags.clear();
        self.tag_runs.clear();
        self.annotations.clear();
        self.refs.clear();
        self.nodes.clear();
        self.edges.clear();
    }

    /// Makes room for `times` more batches the size of `like`, so appending them does not grow
    /// (copy and fault in) the arrays again and again. Room is only asked for: if the system will
    /// not give that much (an estimate from an unusual first block can be far too high), the
    /// arrays grow as they fill instead.
    pub fn reserve_like(&mut self, like: &Batch, times: usize) {
        self.spans
            .try_reserve(like.spans.len().saturating_mul(times))
            .ok();
        self.tags
            .try_reserve(like.tags.len().saturating_mul(times))
            .ok();
        self.annotations
            .try_reserve(like.annotations.len().saturating_mul(times))
            .ok();
    }

    /// Interns a string.
    pub fn sym(&mut self, s: &str) -> Sym {
        self.interner.intern(s)
    }

    /// Interns raw bytes; `None` when they are not UTF-8.
    pub fn sym_bytes(&mut self, b: &[u8]) -> Option<Sym> {
        self.interner.intern_bytes(b)
    }

    /// [`Batch::service_sym`] on raw bytes; `None` also when they are not UTF-8.
    pub fn service_sym_bytes(&mut self, b: &[u8]) -> Option<Sym> {
        if b.is_empty() {
            None
        } else if is_lower_ascii(b) {
            self.interner.intern_bytes(b)
        } else {
            let s = std::str::from_utf8(b).ok()?.to_owned();
            self.service_sym(&s)
        }
    }

    /// Zipkin's span-name rule on raw bytes: lower-cased (`Locale.ROOT`), empty means absent.
    pub fn name_sym_bytes(&mut self, b: &[u8]) -> Option<Sym> {
        if b.is_empty() {
            None
        } else if is_lower_ascii(b) {
            self.interner.intern_bytes(b)
        } else {
            let lower = std::str::from_utf8(b).ok()?.to_lowercase();
            Some(self.interner.intern(&lower))
        }
    }

    /// Interns a string, `None` when it is empty.
    pub fn sym_nonempty(&mut self, s: &str) -> Option<Sym> {
        (!s.is_empty()).then(|| self.interner.intern(s))
    }

    /// Interns a service name lower-cased (Zipkin's `Locale.ROOT` lower-casing), `None` when empty.
    /// Spigo instance names keep their case (`zoneA`, `cassTurtle`), so flows name the same
    /// instances as graph and architecture files.
    pub fn service_sym(&mut self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            None
        } else if (s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii()) && !is_spigo_name(s)
        {
            Some(self.interner.intern(&s.to_lowercase()))
        } else {
            Some(self.interner.intern(s))
        }
    }

    /// Appends tags, sorted by key with later duplicates of a key dropped, and returns their slice.
    pub fn push_tags(&mut self, tags: &[Tag]) -> Slice {
        let start = self.tags.len();
        self.tags.extend_from_slice(tags);
        self.seal_tags(start)
    }

    /// Puts a tag into the open run of tags from `start` to the arena's end, as
    /// `Builder.putTag` does: a key already in the run gets the new value.
    pub fn put_open_tag(&mut self, start: usize, tag: Tag) {
        let open = self.tags.get_mut(start..).unwrap_or_default();
        match open.iter_mut().find(|t| t.key == tag.key) {
            Some(t) => t.value = tag.value,
            None => self.tags.push(tag),
        }
    }

    /// Closes the run of tags from `start` to the arena's end: sorted by key, later duplicates
    /// of a key dropped (as [`Batch::push_tags`]), and returns its slice.
    pub fn seal_tags(&mut self, start: usize) -> Slice {
        let start = start.min(self.tags.len());
        let interner = &self.interner;
        let run = self.tags.get_mut(start..).unwrap_or_default();
        let sorted = run
            .windows(2)
            .all(|w| matches!(w, [a, b] if interner.resolve(a.key) < interner.resolve(b.key)));
        let mut len = run.len();
        if !sorted {
            // Stable sort keeps the first occurrence of each key first; then later ones go.
            run.sort_by(|a, b| interner.resolve(a.key).cmp(interner.resolve(b.key)));
            len = 0;
            for i in 0..run.len() {
                let (Some(&tag), previous) =
                    (run.get(i), len.checked_sub(1).and_then(|p| run.get(p)))
                else {
                    continue;
                };
                if previous.is_none_or(|p| p.key != tag.key) {
                    if let Some(slot) = run.get_mut(len) {
                        *slot = tag;
                    }
                    len += 1;
                }
            }
        }
        self.tags.truncate(start + len);
        self.share_tag_run(start)
    }

    /// The slice of the sealed run from `start` to the arena's end: an earlier run with the same
    /// tags, the new run being dropped, or this one, now remembered.
    fn share_tag_run(&mut self, start: usize) -> Slice {
        let Self { tags, tag_runs, .. } = self;
        let Some(run) = tags.get(start..).filter(|r| !r.is_empty()) else {
            return Slice {
                start: start as u32,
                len: 0,
            };
        };
        let hash = TagRuns::hash(run);
        // Content is compared as it is now, and only runs before this one can match, so a
        // remembered run whose tags were since dropped (a span refused after its tags were
        // sealed) can never be handed out wrongly.
        let earlier = |s: &Slice| {
            s.start as usize + s.len as usize <= start && tags.get(s.range()) == Some(run)
        };
        if let Some(&shared) = tag_runs.table.find(hash, earlier) {
            tags.truncate(start);
            return shared;
        }
        let slice = Slice {
            start: start as u32,
            len: run.len() as u32,
        };
        if tag_runs.table.len() >= TagRuns::MAX_RUNS {
            tag_runs.table.clear();
        }
        tag_runs.table.insert_unique(hash, slice, |s| {
            TagRuns::hash(tags.get(s.range()).unwrap_or_default())
        });
        slice
    }

    /// Appends annotations sorted by time and returns their slice.
    pub fn push_annotations(&mut self, mut annotations: Vec<Annotation>) -> Slice {
        annotations.sort_by_key(|a| a.timestamp_micros);
        let start = self.annotations.len() as u32;
        self.annotations.extend_from_slice(&annotations);
        Slice {
            start,
            len: annotations.len() as u32,
        }
    }

    /// Records the references of the span about to be pushed (at index `spans.len()`), when they
    /// are more than its parent: several, or one that is not `parent`.
    pub fn push_refs(&mut self, parent: Option<SpanId>, refs: &[SpanId]) {
        if refs.len() == 1 && parent == refs.first().copied() || refs.is_empty() {
            return;
        }
        let span = self.spans.len() as u32;
        self.refs
            .extend(refs.iter().map(|&to| SpanRef { span, to }));
    }

    /// The references [`Batch::push_refs`] kept for span `index` (empty when its parent is its
    /// only reference, or it has none).
    pub fn refs_of(&self, index: u32) -> &[SpanRef] {
        let start = self.refs.partition_point(|r| r.span < index);
        let len = self
            .refs
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|r| r.span == index)
            .count();
        self.refs.get(start..start + len).unwrap_or_default()
    }

    /// The tags of a slice.
    pub fn tags_of(&self, slice: Slice) -> &[Tag] {
        self.tags.get(slice.range()).unwrap_or(&[])
    }

    /// The annotations of a slice.
    pub fn annotations_of(&self, slice: Slice) -> &[Annotation] {
        self.annotations.get(slice.range()).unwrap_or(&[])
    }

    /// The value of tag `key` in a slice, if present.
    pub fn tag(&self, slice: Slice, key: &str) -> Option<&str> {
        let key = self.interner.get(key)?;
        self.tags_of(slice)
            .iter()
            .find(|t| t.key == key)
            .map(|t| self.interner.resolve(t.value))
    }

    /// Sets the file of everything in the batch.
    pub fn set_file(&mut self, file: FileId) {
        for s in &mut self.spans {
            s.file = file;
        }
        for n in &mut self.nodes {
            n.file = file;
        }
        for e in &mut self.edges {
            e.file = file;
        }
    }

    /// A copy with only the spans `keep` says yes to (asked once per span, in order), their
    /// tags, annotations and references, and every declared node and edge; the strings are
    /// kept whole. Cheaper than a clone when few spans are kept (a time window of a large load).
    #[must_use]
    pub fn subset(&self, mut keep: impl FnMut(&Span) -> bool) -> Self {
        let mut out = Self {
            interner: self.interner.clone(),
            nodes: self.nodes.clone(),
            edges: self.edges.clone(),
            ..Self::default()
        };
        // Runs shared by many spans (most are) are copied once.
        let mut moved: rustc_hash::FxHashMap<(u32, u32), Slice> = rustc_hash::FxHashMap::default();
        let mut new_index: Vec<Option<u32>> = Vec::with_capacity(self.spans.len());
        for s in &self.spans {
            if !keep(s) {
                new_index.push(None);
                continue;
            }
            let mut copy_run = |out: &mut Self, run: Slice| -> Slice {
                *moved.entry((run.start, run.len)).or_insert_with(|| {
                    let start = out.tags.len() as u32;
                    out.tags.extend_from_slice(self.tags_of(run));
                    Slice {
                        start,
                        len: run.len,
                    }
                })
            };
            let tags = copy_run(&mut out, s.tags);
            let resource = copy_run(&mut out, s.resource);
            let start = out.annotations.len() as u32;
            out.annotations
                .extend_from_slice(self.annotations_of(s.annotations));
            let annotations = Slice {
                start,
                len: s.annotations.len,
            };
            new_index.push(Some(out.spans.len() as u32));
            out.spans.push(Span {
                tags,
                annotations,
                resource,
                ..*s
            });
        }
        out.refs = self
            .refs
            .iter()
            .filter_map(|r| {
                let span = new_index.get(r.span as usize).copied().flatten()?;
                Some(SpanRef { span, to: r.to })
            })
            .collect();
        out
    }

    /// Moves everything from `other` into `self`, remapping its symbols and arena offsets.
    pub fn append(&mut self, other: Batch) {
        if self.spans.is_empty()
            && self.nodes.is_empty()
            && self.edges.is_empty()
            && self.interner.is_empty()
        {
            *self = other;
            return;
        }
        self.append_from(&other);
    }

    /// Copies everything from `other` into `self`, remapping its symbols and arena offsets.
    pub fn append_from(&mut self, other: &Batch) {
        self.append_mapped(other, &mut SymMap::default());
    }

    /// [`Batch::append_from`] with a map from `other`'s symbols to `self`'s that was made when
    /// `other`'s interner held fewer strings (or none): only its new strings are added.
    pub fn append_mapped(&mut self, other: &Batch, map: &mut SymMap) {
        self.interner.absorb_new(&other.interner, map);
        let map = &*map;
        let ann_offset = self.annotations.len() as u32;
        // Tag runs are shared with this batch's runs of the same tags: each of `other`'s runs
        // (already shared within it) is mapped and looked up once.
        let mut moved: rustc_hash::FxHashMap<(u32, u32), Slice> = rustc_hash::FxHashMap::default();
        let mut move_run = |this: &mut Self, run: Slice| -> Slice {
            if run.len == 0 {
                return Slice {
                    start: this.tags.len() as u32,
                    len: 0,
                };
            }
            *moved.entry((run.start, run.len)).or_insert_with(|| {
                let start = this.tags.len();
                this.tags.extend(other.tags_of(run).iter().map(|t| Tag {
                    key: map.map(t.key),
                    value: map.map(t.value),
                }));
                this.share_tag_run(start)
            })
        };
        self.annotations
            .extend(other.annotations.iter().map(|a| Annotation {
                timestamp_micros: a.timestamp_micros,
                value: map.map(a.value),
            }));
        let span_offset = self.spans.len() as u32;
        self.refs.extend(other.refs.iter().map(|r| SpanRef {
            span: r.span + span_offset,
            to: map_span_id(map, r.to),
        }));
        self.spans.reserve(other.spans.len());
        // The runs follow along while every span so far is covered.
        let track = self.runs.covered == self.spans.len();
        for s in &other.spans {
            let trace_id = map_trace_id(map, s.trace_id());
            if track {
                self.runs.push(trace_id, self.spans.len());
            }
            let tags = move_run(self, s.tags);
            let resource = move_run(self, s.resource);
            let mut span = Span {
                name: map.map_opt(s.name),
                local: map_endpoint(map, s.local),
                remote: map_endpoint(map, s.remote),
                tags,
                annotations: s.annotations.offset(ann_offset),
                resource,
                ..*s
            };
            span.set_trace_id(trace_id);
            span.set_id(map_span_id(map, s.id()));
            span.set_parent_id(s.parent_id().map(|p| map_span_id(map, p)));
            self.spans.push(span);
        }
        self.nodes.extend(other.nodes.iter().map(|n| DeclaredNode {
            name: map.map(n.name),
            package: map.map_opt(n.package),
            ip: map.map_opt(n.ip),
            ..*n
        }));
        self.edges.extend(other.edges.iter().map(|e| DeclaredEdge {
            source: map.map(e.source),
            target: map.map(e.target),
            ..*e
        }));
    }
}

/// True when every byte is ASCII and none is an upper-case letter (so lower-casing changes
/// nothing); eight bytes at a time.
#[inline]
fn is_lower_ascii(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        // With the high bits clear, x + (0x80 - lo) sets a byte's high bit iff the byte >= lo.
        let upper = w.wrapping_add(ONES * u64::from(0x80 - b'A'))
            & !w.wrapping_add(ONES * u64::from(0x80 - b'Z' - 1));
        if (w | upper) & HIGH != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|c| c.is_ascii() && !c.is_ascii_uppercase())
}

/// The Go packages Spigo names end with.
pub const SPIGO_PACKAGES: [&str; 13] = [
    "eureka",
    "pirate",
    "elb",
    "denominator",
    "zuul",
    "karyon",
    "monolith",
    "staash",
    "priamCassandra",
    "store",
    "riak",
    "volume",
    "cache",
];

/// A full Spigo name: 9 dot-separated fields ending in a Spigo package.
fn is_spigo_name(s: &str) -> bool {
    s.bytes().filter(|&b| b == b'.').count() == 8
        && s.rsplit('.')
            .next()
            .is_some_and(|p| SPIGO_PACKAGES.contains(&p))
}

fn map_trace_id(map: &SymMap, id: TraceId) -> TraceId {
    match id {
        TraceId::Opaque(s) => TraceId::Opaque(map.map(s)),
        other => other,
    }
}

fn map_span_id(map: &SymMap, id: SpanId) -> SpanId {
    match id {
        SpanId::Opaque(s) => SpanId::Opaque(map.map(s)),
        other @ SpanId::Hex(_) => other,
    }
}

fn map_endpoint(map: &SymMap, e: Endpoint) -> Endpoint {
    Endpoint {
        service: map.map_opt(e.service),
        ipv4: map.map_opt(e.ipv4),
        ipv6: map.map_opt(e.ipv6),
        port: e.port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tags_share_one_run_and_dropped_tags_are_never_shared() {
        let mut b = Batch::default();
        let (k1, k2, v1, v2) = (b.sym("a"), b.sym("b"), b.sym("x"), b.sym("y"));
        let one = [Tag { key: k1, value: v1 }, Tag { key: k2, value: v2 }];
        let first = b.push_tags(&one);
        // Unsorted input seals to the same run.
        let again = b.push_tags(&[one[1], one[0]]);
        assert_eq!(again, first);
        assert_eq!(b.tags.len(), 2);
        // A different list gets its own run.
        let other = b.push_tags(&[Tag { key: k1, value: v2 }]);
        assert_ne!(other, first);
        assert_eq!(b.tags_of(other), &[Tag { key: k1, value: v2 }]);
        // Tags sealed for a span that is then refused are cut off the arena...
        let mark = b.tags.len();
        b.push_tags(&[Tag { key: k2, value: v1 }]);
        b.tags.truncate(mark);
        // ...and the same tags later get a run that holds them, not the dropped one's place.
        let later = b.push_tags(&[Tag { key: k2, value: v1 }]);
        assert_eq!(b.tags_of(later), &[Tag { key: k2, value: v1 }]);
        assert_eq!(b.push_tags(&[Tag { key: k2, value: v1 }]), later);
        assert_eq!(b.tags_of(first), &one);
        // Empty lists take nothing.
        assert_eq!(b.push_tags(&[]).len, 0);
    }

    #[test]
    fn room_beyond_what_the_system_gives_is_not_fatal() {
        let mut like = Batch::default();
        like.spans
            .push(Span::new(TraceId::Hex64(1), SpanId::Hex(1)));
        let mut batch = Batch::default();
        batch.reserve_like(&like, usize::MAX / 2);
        batch.reserve_like(&like, 1 << 40);
        batch.append_from(&like);
        assert_eq!(batch.spans.len(), 1);
    }

    #[test]
    fn lower_ascii_is_checked_like_byte_by_byte() {
        for b in 0..=255u8 {
            for at in 0..12 {
                let mut s = b"abcdefghijkl".to_vec();
                s[at] = b;
                let naive = s.iter().all(|c| c.is_ascii() && !c.is_ascii_uppercase());
                assert_eq!(super::is_lower_ascii(&s), naive, "{b} at {at}");
            }
        }
    }

    #[test]
    fn append_remaps_symbols_and_arenas() {
        let mut a = Batch::default();
        let k = a.sym("k");
        let v = a.sym("v");
        let tags = a.push_tags(&[Tag { key: k, value: v }]);
        let mut s = Span::new(TraceId::Hex64(1), SpanId::Hex(1));
        s.tags = tags;
        a.spans.push(s);

        let mut b = Batch::default();
        let z = b.sym("zzz");
        let k2 = b.sym("k");
        let tags = b.push_tags(&[Tag { key: k2, value: z }]);
        let mut s = Span::new(TraceId::Hex64(2), SpanId::Opaque(z));
        s.tags = tags;
        s.local.service = Some(z);
        b.spans.push(s);

        a.append(b);
        let s = a.spans[1];
        assert_eq!(a.interner.resolve(s.local.service.unwrap()), "zzz");
        assert_eq!(a.tag(s.tags, "k"), Some("zzz"));
        assert_eq!(a.tag(a.spans[0].tags, "k"), Some("v"));
        assert_eq!(s.id().display(&a.interner), "zzz");
    }
}
