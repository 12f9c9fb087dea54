//! The one [`Span`] type every format is read into: Zipkin v2's model, with strings interned and lists in flat arenas.

use super::ids::{SpanId, TraceId};
use super::intern::Sym;

/// What role a span plays in an RPC or messaging exchange. `None` on a span means local/unknown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Kind {
    /// The caller side of an RPC.
    Client,
    /// The callee side of an RPC.
    Server,
    /// Sends a message to a broker.
    Producer,
    /// Receives a message from a broker.
    Consumer,
}

impl Kind {
    /// Zipkin's upper-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "CLIENT",
            Self::Server => "SERVER",
            Self::Producer => "PRODUCER",
            Self::Consumer => "CONSUMER",
        }
    }

    /// Parses Zipkin's spelling, any case (also Jaeger's `span.kind` values).
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_bytes(s.as_bytes())
    }

    /// [`Kind::parse`] on bytes.
    pub fn parse_bytes(s: &[u8]) -> Option<Self> {
        if s.eq_ignore_ascii_case(b"client") {
            Some(Self::Client)
        } else if s.eq_ignore_ascii_case(b"server") {
            Some(Self::Server)
        } else if s.eq_ignore_ascii_case(b"producer") {
            Some(Self::Producer)
        } else if s.eq_ignore_ascii_case(b"consumer") {
            Some(Self::Consumer)
        } else {
            None
        }
    }
}

/// Which project's rules derive a span's dependency links.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub enum LinkRule {
    /// Zipkin's `DependencyLinker`, on the trace tree (every format but Jaeger's own documents).
    #[default]
    Zipkin,
    /// Jaeger's dependency job (spark-dependencies' `SpansToDependencyLinks`), on the spans as
    /// read: for spans from Jaeger's own documents (UI JSON, protobuf-JSON, storage model JSON,
    /// Elasticsearch documents).
    Jaeger,
}

/// A network endpoint. `Endpoint::default()` is Zipkin's null endpoint. Equality is Zipkin's
/// exact `Endpoint.equals` (service name, ipv4, ipv6 and port).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Endpoint {
    /// Lower-cased service name.
    pub service: Option<Sym>,
    /// IPv4 address as written.
    pub ipv4: Option<Sym>,
    /// IPv6 address as written.
    pub ipv6: Option<Sym>,
    /// Port, absent when 0.
    pub port: Option<u16>,
}

impl Endpoint {
    /// True for the null endpoint.
    pub fn is_empty(&self) -> bool {
        self.service.is_none() && self.ipv4.is_none() && self.ipv6.is_none() && self.port.is_none()
    }

    /// Zipkin's `closeEnoughEndpoint`: no field set on both sides with different values.
    pub fn compatible(&self, other: &Self) -> bool {
        fn same<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
        }
        same(self.service, other.service)
            && same(self.ipv4, other.ipv4)
            && same(self.ipv6, other.ipv6)
            && same(self.port, other.port)
    }
}

/// A range in one of the store's flat arenas (tags, annotations).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Slice {
    /// First element.
    pub start: u32,
    /// Number of elements.
    pub len: u32,
}

impl Slice {
    /// As a `usize` range.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start as usize + self.len as usize)
    }

    /// Shifted by `offset` (when arenas are appended).
    #[must_use]
    pub fn offset(self, offset: u32) -> Self {
        Self {
            start: self.start + offset,
            len: self.len,
        }
    }
}

/// A key/value tag (or resource attribute), both interned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Tag {
    /// Key.
    pub key: Sym,
    /// Value as a string (numbers and booleans are written as JSON would).
    pub value: Sym,
}

/// A timestamped event on a span.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Annotation {
    /// Epoch microseconds.
    pub timestamp_micros: i64,
    /// The event.
    pub value: Sym,
}

/// Index of an input file in the store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct FileId(pub u32);

/// One span, normalised to Zipkin v2's model whatever format it came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The trace id ([`Span::trace_id`]), packed: a hex id's high and low halves, or an opaque
    /// id's symbol in the low one. The enums' tags (8 bytes each with their padding) are the bits
    /// of `ids` instead: 24 bytes less a span, 64 MB of 2.7 million spans in a gigabyte.
    pub(crate) trace_high: u64,
    /// See `trace_high`.
    pub(crate) trace_low: u64,
    /// The span id ([`Span::id`]): its hex value or its opaque symbol.
    pub(crate) id_word: u64,
    /// The parent id ([`Span::parent_id`]), 0 on a root.
    pub(crate) parent_word: u64,
    /// What the id words hold ([`ids`]).
    pub(crate) ids: u8,
    /// RPC/messaging role; `None` for local or unknown.
    pub kind: Option<Kind>,
    /// Server side that reuses the client's span id.
    pub shared: bool,
    /// Debug flag.
    pub debug: bool,
    /// The rules its links follow.
    pub rule: LinkRule,
    /// Lower-cased operation name.
    pub name: Option<Sym>,
    /// Start, epoch microseconds, [`NO_START`] when unknown ([`Span::timestamp_micros`]): an
    /// `Option` would take 8 bytes more, of 2.7 million spans in a gigabyte.
    pub(crate) start: i64,
    /// Duration in microseconds, [`NO_DURATION`] when unknown ([`Span::duration_micros`]).
    pub(crate) duration: u64,
    /// Where the span was recorded.
    pub local: Endpoint,
    /// The other side (server for a client, client for a server, broker for messaging).
    pub remote: Endpoint,
    /// Tags, sorted by key, in the tag arena.
    pub tags: Slice,
    /// Annotations, sorted by time, in the annotation arena.
    pub annotations: Slice,
    /// Resource / process attributes (OTLP resource, Jaeger process tags), in the tag arena.
    pub resource: Slice,
    /// The file the span came from.
    pub file: FileId,
}

/// [`Span`]'s mark for an unknown start (no reader keeps a start that early: see
/// `ingest::limits`).
const NO_START: i64 = i64::MIN;

/// [`Span`]'s mark for an unknown duration (longer than any duration a reader keeps).
const NO_DURATION: u64 = u64::MAX;

/// The bits of [`Span`]'s `ids`: what its id words hold. Every word a bit does not use is 0, so
/// two spans with the same ids are equal field by field.
mod ids {
    /// The trace id is 128-bit (`trace_high` is its high half).
    pub(super) const TRACE_128: u8 = 1;
    /// The trace id is opaque (`trace_low` is its symbol).
    pub(super) const TRACE_OPAQUE: u8 = 1 << 1;
    /// The span id is opaque.
    pub(super) const SPAN_OPAQUE: u8 = 1 << 2;
    /// The span has a parent.
    pub(super) const PARENT: u8 = 1 << 3;
    /// The parent id is opaque.
    pub(super) const PARENT_OPAQUE: u8 = 1 << 4;
}

/// A span id as a word and whether it is opaque.
#[inline]
fn span_id_bits(id: SpanId) -> (u64, bool) {
    match id {
        SpanId::Hex(v) => (v, false),
        SpanId::Opaque(sym) => (u64::from(sym.bits()), true),
    }
}

/// [`span_id_bits`] back.
#[inline]
fn span_id_of(word: u64, opaque: bool) -> SpanId {
    if opaque {
        SpanId::Opaque(Sym::of_bits(word as u32))
    } else {
        SpanId::Hex(word)
    }
}

impl Span {
    /// Normalised trace id.
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        if self.ids & ids::TRACE_OPAQUE != 0 {
            TraceId::Opaque(Sym::of_bits(self.trace_low as u32))
        } else if self.ids & ids::TRACE_128 != 0 {
            TraceId::Hex128 {
                high: self.trace_high,
                low: self.trace_low,
            }
        } else {
            TraceId::Hex64(self.trace_low)
        }
    }

    /// Sets the trace id.
    #[inline]
    pub fn set_trace_id(&mut self, trace_id: TraceId) {
        self.ids &= !(ids::TRACE_128 | ids::TRACE_OPAQUE);
        (self.trace_high, self.trace_low) = match trace_id {
            TraceId::Hex64(low) => (0, low),
            TraceId::Hex128 { high, low } => {
                self.ids |= ids::TRACE_128;
                (high, low)
            }
            TraceId::Opaque(sym) => {
                self.ids |= ids::TRACE_OPAQUE;
                (0, u64::from(sym.bits()))
            }
        };
    }

    /// Span id.
    #[inline]
    pub fn id(&self) -> SpanId {
        span_id_of(self.id_word, self.ids & ids::SPAN_OPAQUE != 0)
    }

    /// Sets the span id.
    #[inline]
    pub fn set_id(&mut self, id: SpanId) {
        let (word, opaque) = span_id_bits(id);
        self.id_word = word;
        self.ids = (self.ids & !ids::SPAN_OPAQUE) | if opaque { ids::SPAN_OPAQUE } else { 0 };
    }

    /// Parent span id; `None` on a root.
    #[inline]
    pub fn parent_id(&self) -> Option<SpanId> {
        (self.ids & ids::PARENT != 0)
            .then(|| span_id_of(self.parent_word, self.ids & ids::PARENT_OPAQUE != 0))
    }

    /// Sets the parent span id (`None`: a root).
    #[inline]
    pub fn set_parent_id(&mut self, parent_id: Option<SpanId>) {
        self.ids &= !(ids::PARENT | ids::PARENT_OPAQUE);
        self.parent_word = match parent_id.map(span_id_bits) {
            None => 0,
            Some((word, opaque)) => {
                self.ids |= ids::PARENT | if opaque { ids::PARENT_OPAQUE } else { 0 };
                word
            }
        };
    }

    /// Start, epoch microseconds.
    #[inline]
    pub fn timestamp_micros(&self) -> Option<i64> {
        (self.start != NO_START).then_some(self.start)
    }

    /// Sets the start (`None`: unknown).
    #[inline]
    pub fn set_timestamp_micros(&mut self, start: Option<i64>) {
        self.start = start.unwrap_or(NO_START);
    }

    /// Duration in microseconds.
    #[inline]
    pub fn duration_micros(&self) -> Option<u64> {
        (self.duration != NO_DURATION).then_some(self.duration)
    }

    /// Sets the duration (`None`: unknown).
    #[inline]
    pub fn set_duration_micros(&mut self, duration: Option<u64>) {
        self.duration = duration.unwrap_or(NO_DURATION);
    }

    /// A span with only its ids set.
    pub fn new(trace_id: TraceId, id: SpanId) -> Self {
        let mut span = Self {
            trace_high: 0,
            trace_low: 0,
            id_word: 0,
            parent_word: 0,
            ids: 0,
            kind: None,
            shared: false,
            debug: false,
            rule: LinkRule::Zipkin,
            name: None,
            start: NO_START,
            duration: NO_DURATION,
            local: Endpoint::default(),
            remote: Endpoint::default(),
            tags: Slice::default(),
            annotations: Slice::default(),
            resource: Slice::default(),
            file: FileId(0),
        };
        span.set_trace_id(trace_id);
        span.set_id(id);
        span
    }
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Span")
            .field("trace_id", &self.trace_id())
            .field("id", &self.id())
            .field("parent_id", &self.parent_id())
            .field("kind", &self.kind)
            .field("shared", &self.shared)
            .field("debug", &self.debug)
            .field("rule", &self.rule)
            .field("name", &self.name)
            .field("timestamp_micros", &self.timestamp_micros())
            .field("duration_micros", &self.duration_micros())
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("tags", &self.tags)
            .field("annotations", &self.annotations)
            .field("resource", &self.resource)
            .field("file", &self.file)
            // The packed words are the ids above.
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_stays_small_and_keeps_unknown_times_unknown() {
        // 2.7 million spans in a gigabyte: every 8 bytes here is 21 MB resident.
        assert!(size_of::<Span>() <= 120, "{}", size_of::<Span>());
        let mut s = Span::new(TraceId::Hex64(1), SpanId::Hex(2));
        assert_eq!((s.timestamp_micros(), s.duration_micros()), (None, None));
        s.set_timestamp_micros(Some(-5));
        s.set_duration_micros(Some(0));
        assert_eq!(
            (s.timestamp_micros(), s.duration_micros()),
            (Some(-5), Some(0))
        );
        s.set_timestamp_micros(None);
        assert_eq!(s.timestamp_micros(), None);
    }

    #[test]
    fn packed_ids_read_back_as_set() {
        let mut strings = crate::model::Interner::default();
        let opaque = strings.intern("not-hex");
        let traces = [
            TraceId::Hex64(u64::MAX),
            TraceId::Hex128 { high: 0, low: 7 },
            TraceId::Hex128 {
                high: u64::MAX,
                low: 1,
            },
            TraceId::Opaque(opaque),
        ];
        let spans = [
            SpanId::Hex(u64::MAX),
            SpanId::Hex(1),
            SpanId::Opaque(opaque),
        ];
        let parents = [None, Some(SpanId::Hex(3)), Some(SpanId::Opaque(opaque))];
        for trace in traces {
            for id in spans {
                for parent in parents {
                    let mut s = Span::new(TraceId::Opaque(opaque), SpanId::Opaque(opaque));
                    s.set_parent_id(Some(SpanId::Hex(9)));
                    s.set_trace_id(trace);
                    s.set_id(id);
                    s.set_parent_id(parent);
                    assert_eq!((s.trace_id(), s.id(), s.parent_id()), (trace, id, parent));
                    // The same ids set on a fresh span give an equal span.
                    let mut fresh = Span::new(trace, id);
                    fresh.set_parent_id(parent);
                    assert_eq!(s, fresh);
                }
            }
        }
    }
}
