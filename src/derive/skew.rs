//! Zipkin UI's clock-skew correction (`zipkin-lens/src/zipkin/clock-skew.js`, FORMATS.md §1.7): span starts of one trace tree, shifted where a server seems to answer before its client called.
//!
//! Skew is found only across a CLIENT parent → SERVER child on different hosts (IPv6 equal, or
//! IPv4 equal when either has one). No skew when the server starts after the client. One-way (a
//! duration missing or zero) or async (client shorter than server): skew = server − client − 1.
//! Otherwise latency = (client duration − server duration) / 2 and skew = server − latency −
//! client. The skew is subtracted from the server and from every descendant on the server's host;
//! a span without its own skew passes its parent's on to its children. Nothing is corrected when
//! the root span is missing or a child of the root is a second root (no parent id, not shared).
//!
//! One difference from the JavaScript: times stay whole microseconds, so a half-microsecond
//! latency (odd duration difference) is truncated toward zero.

use super::tree::{NodeIndex, TraceTree, TreeSpan};
use crate::model::{Endpoint, Kind};

/// A skew found at a server, applied to spans on the same host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSkew {
    /// The server's endpoint (its host is what later spans are matched on).
    pub endpoint: Endpoint,
    /// Microseconds to subtract.
    pub skew_micros: i64,
}

/// Zipkin's `ipsMatch`: the same IPv6 address, or the same IPv4 address where either has one.
pub fn ips_match(a: &Endpoint, b: &Endpoint) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.ipv6.is_some() && a.ipv6 == b.ipv6 {
        return true;
    }
    if a.ipv4.is_none() && b.ipv4.is_none() {
        return false;
    }
    a.ipv4 == b.ipv4
}

/// A timestamp as JavaScript tests it: absent and zero are both "not set".
fn set(t: Option<i64>) -> Option<i64> {
    t.filter(|&t| t != 0)
}

/// Zipkin's `getClockSkew` for a child span under a parent, with their (already corrected) starts.
pub fn clock_skew(
    parent: &TreeSpan,
    parent_start: Option<i64>,
    child: &TreeSpan,
    child_start: Option<i64>,
) -> Option<ClockSkew> {
    if parent.kind != Some(Kind::Client) || child.kind != Some(Kind::Server) {
        return None;
    }
    let client_ts = set(parent_start)?;
    let server_ts = set(child_start)?;
    if server_ts > client_ts {
        return None;
    }
    let client_dur = parent.duration_micros.filter(|&d| d != 0);
    let server_dur = child.duration_micros.filter(|&d| d != 0);
    let server = child.local;
    let client = parent.local;
    if server.is_empty() || client.is_empty() || ips_match(&server, &client) {
        return None;
    }
    let skew_micros = match (client_dur, server_dur) {
        (Some(cd), Some(sd)) if cd >= sd => {
            let latency = ((cd - sd) / 2) as i64;
            let skew = server_ts - latency - client_ts;
            if skew == 0 {
                return None;
            }
            skew
        }
        // One-way, or async (the client finished before the server): push the server 1 µs after.
        _ => server_ts - client_ts - 1,
    };
    Some(ClockSkew {
        endpoint: server,
        skew_micros,
    })
}

/// The start of every span of `tree` (by position in `tree.spans`) after clock-skew correction.
/// Spans the correction does not reach keep their own start.
pub fn corrected_starts(tree: &TraceTree) -> Vec<Option<i64>> {
    let mut starts: Vec<Option<i64>> = tree.spans.iter().map(|s| s.timestamp_micros).collect();
    let root = tree.root();
    if tree.span(root).is_none() {
        return starts;
    }
    // A second parent-less span under the root: Zipkin skips the correction.
    let redundant_root = tree.children(root).iter().any(|&c| {
        tree.span(c)
            .is_some_and(|s| s.parent_id.is_none() && !s.shared)
    });
    if redundant_root {
        return starts;
    }
    let position = |node: NodeIndex| tree.span_position(node);
    // Depth first without recursion (traces can nest thousands deep).
    let mut stack: Vec<(NodeIndex, Option<ClockSkew>)> = vec![(root, None)];
    let mut visited = vec![false; tree.spans.len() + 1];
    while let Some((node, from_parent)) = stack.pop() {
        match visited.get_mut(node as usize) {
            Some(v) if !*v => *v = true,
            _ => continue,
        }
        let Some(i) = position(node) else {
            continue;
        };
        let Some(span) = tree.spans.get(i) else {
            continue;
        };
        let shift = |starts: &mut Vec<Option<i64>>, skew: &ClockSkew| {
            if ips_match(&skew.endpoint, &span.local)
                && let Some(Some(t)) = starts.get_mut(i)
                && *t != 0
            {
                *t -= skew.skew_micros;
            }
        };
        if let Some(skew) = &from_parent {
            shift(&mut starts, skew);
        }
        let own = tree.parent(node).and_then(|p| {
            let pi = position(p)?;
            let parent = tree.spans.get(pi)?;
            clock_skew(
                parent,
                starts.get(pi).copied().flatten(),
                span,
                starts.get(i).copied().flatten(),
            )
        });
        if let Some(skew) = &own {
            shift(&mut starts, skew);
        }
        let passed = own.or(from_parent);
        for &c in tree.children(node).iter().rev() {
            stack.push((c, passed));
        }
    }
    starts
}
