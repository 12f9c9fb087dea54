//! What Zipkin v1 and v2 reading share: the endpoint reader and a span builder with `zipkin2.Span.Builder`'s rules.

use std::net::IpAddr;

use serde::Deserialize;

use super::json::{Num, Text};
use crate::model::{Annotation, Batch, Endpoint, Kind, Slice, Span, SpanId, Sym, Tag, TraceId};

/// An endpoint as JSON writes it (v1 and v2 alike).
#[derive(Deserialize, Debug, Default)]
pub struct JsonEndpoint<'a> {
    /// Service name (lower-cased when read).
    #[serde(rename = "serviceName", borrow, default)]
    pub service_name: Option<Text<'a>>,
    /// IPv4 address.
    #[serde(borrow, default)]
    pub ipv4: Option<Text<'a>>,
    /// IPv6 address.
    #[serde(borrow, default)]
    pub ipv6: Option<Text<'a>>,
    /// Port.
    #[serde(default)]
    pub port: Option<Num>,
}

impl JsonEndpoint<'_> {
    /// Converts with Zipkin's `Endpoint.Builder` rules: lower-cased service name, empty → absent,
    /// addresses parsed (invalid ones dropped, IPv4-mapped IPv6 becomes IPv4), port 0 → absent.
    pub fn to_endpoint(&self, batch: &mut Batch) -> Endpoint {
        let service = self
            .service_name
            .as_ref()
            .and_then(|s| batch.service_sym_bytes(s.as_bytes()));
        let mut ipv4 = None;
        let mut ipv6 = None;
        for text in [&self.ipv4, &self.ipv6].into_iter().flatten() {
            let bytes = text.as_bytes();
            if ipv4.is_none() && is_dotted_quad(bytes) {
                ipv4 = batch.sym_bytes(bytes);
                continue;
            }
            let Some(text) = text.to_str() else { continue };
            match text.parse::<IpAddr>() {
                // std accepts only the canonical dotted-quad form, so the text is kept as written.
                Ok(IpAddr::V4(_)) => ipv4 = ipv4.or_else(|| Some(batch.sym(&text))),
                Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                    Some(v4) => ipv4 = ipv4.or_else(|| Some(batch.sym(&v4.to_string()))),
                    None => ipv6 = ipv6.or_else(|| Some(batch.sym(&v6.to_string()))),
                },
                Err(_) => {}
            }
        }
        let port = self
            .port
            .and_then(|p| p.0)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0);
        Endpoint {
            service,
            ipv4,
            ipv6,
            port,
        }
    }
}

/// True when `b` is an IPv4 address in the dotted-quad form std's parser accepts: four decimal
/// parts of at most 255, without leading zeros. Anything else goes to the full parser.
fn is_dotted_quad(b: &[u8]) -> bool {
    let mut parts = 0;
    for part in b.split(|&c| c == b'.') {
        parts += 1;
        let ok = match *part {
            [d] | [b'1'..=b'9', d] => d.is_ascii_digit(),
            [b'1', d, e] => d.is_ascii_digit() && e.is_ascii_digit(),
            [b'2', b'0'..=b'4', e] => e.is_ascii_digit(),
            [b'2', b'5', b'0'..=b'5'] => true,
            _ => false,
        };
        if !ok || parts > 4 {
            return false;
        }
    }
    parts == 4
}

/// A span under construction, with `zipkin2.Span.Builder` semantics (tags are a map, later puts win).
#[derive(Clone, Debug)]
pub struct SpanBuilder {
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub id: SpanId,
    /// Parent id.
    pub parent_id: Option<SpanId>,
    /// Kind.
    pub kind: Option<Kind>,
    /// Name, already lower-cased.
    pub name: Option<Sym>,
    /// Start (0 = absent, as in Zipkin).
    pub timestamp: i64,
    /// Duration (0 = absent).
    pub duration: i64,
    /// Local endpoint (empty = null).
    pub local: Endpoint,
    /// Remote endpoint (empty = null).
    pub remote: Endpoint,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Tags, keys unique.
    pub tags: Vec<Tag>,
    /// Tags already sealed in the batch's arena ([`Batch::seal_tags`]); used when `tags` is empty.
    pub arena_tags: Option<Slice>,
    /// Shared flag: `None` = unset.
    pub shared: Option<bool>,
    /// Debug flag.
    pub debug: bool,
}

impl SpanBuilder {
    /// A builder with ids only.
    pub fn new(trace_id: TraceId, id: SpanId) -> Self {
        Self {
            trace_id,
            id,
            parent_id: None,
            kind: None,
            name: None,
            timestamp: 0,
            duration: 0,
            local: Endpoint::default(),
            remote: Endpoint::default(),
            annotations: Vec::new(),
            tags: Vec::new(),
            arena_tags: None,
            shared: None,
            debug: false,
        }
    }

    /// `Builder.timestamp`: negative becomes absent.
    pub fn timestamp(&mut self, t: i64) -> &mut Self {
        self.timestamp = t.max(0);
        self
    }

    /// `Builder.duration`: negative becomes absent.
    pub fn duration(&mut self, d: Option<i64>) -> &mut Self {
        self.duration = d.unwrap_or(0).max(0);
        self
    }

    /// `Builder.putTag`: replaces an existing key.
    pub fn put_tag(&mut self, key: Sym, value: Sym) {
        match self.tags.iter_mut().find(|t| t.key == key) {
            Some(t) => t.value = value,
            None => self.tags.push(Tag { key, value }),
        }
    }

    /// Finishes the span with `Builder.build`'s rules and appends it to the batch.
    pub fn build_into(self, batch: &mut Batch) {
        let Self {
            trace_id,
            id,
            mut parent_id,
            kind,
            name,
            timestamp,
            duration,
            local,
            remote,
            mut annotations,
            tags,
            arena_tags,
            shared,
            debug,
        } = self;
        if parent_id == Some(id) {
            parent_id = None;
        }
        let shared = shared == Some(true) && kind != Some(Kind::Client);
        annotations.sort_by_key(|a| (a.timestamp_micros, a.value));
        annotations.dedup();
        let tags = match arena_tags {
            Some(sealed) if tags.is_empty() => sealed,
            _ => batch.push_tags(&tags),
        };
        let annotations = batch.push_annotations(annotations);
        let mut span = Span {
            kind,
            shared,
            debug,
            name,
            local,
            remote,
            tags,
            annotations,
            ..Span::new(trace_id, id)
        };
        span.set_parent_id(parent_id);
        span.set_timestamp_micros((timestamp > 0).then_some(timestamp));
        span.set_duration_micros((duration > 0).then_some(duration as u64));
        batch.spans.push(span);
    }
}

#[cfg(test)]
mod tests {
    use super::is_dotted_quad;

    #[test]
    fn dotted_quads_as_std_reads_them() {
        let cases = [
            "10.0.8.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..2.3",
            "",
            "1.2.3.4 ",
            "199.249.250.251",
            "200.100.0.9",
            "1.2.3.a",
            "::1",
            "::ffff:1.2.3.4",
            "1000.1.1.1",
            "260.0.0.1",
            "249.0.0.1",
        ];
        for case in cases {
            assert_eq!(
                is_dotted_quad(case.as_bytes()),
                case.parse::<std::net::Ipv4Addr>().is_ok(),
                "{case}"
            );
        }
    }
}
