//! The critical path of one trace: the chain of spans that sets its end-to-end latency.
//!
//! From the root, repeatedly step to the child that finishes last among the children that finish
//! no later than their parent (a child still running after its parent is asynchronous work the
//! caller did not wait for). Ties go to the child that started first, then to the first in the
//! tree's order. With a synthetic root (the root span is missing), the walk starts at the root's
//! child that finishes last.

use super::tree::{NodeIndex, TraceTree};

/// Start and end of a node's span, µs, when both are known.
fn interval(tree: &TraceTree, starts: &[Option<i64>], node: NodeIndex) -> Option<(i64, i64)> {
    let i = tree.span_position(node)?;
    let start = starts.get(i).copied().flatten()?;
    let duration = tree.spans.get(i)?.duration_micros?;
    Some((start, start.saturating_add(duration as i64)))
}

/// The child of `node` that finishes last, no later than `until` when given.
fn last_to_finish(
    tree: &TraceTree,
    starts: &[Option<i64>],
    node: NodeIndex,
    until: Option<i64>,
) -> Option<NodeIndex> {
    let mut best: Option<(NodeIndex, i64, i64)> = None;
    for &c in tree.children(node) {
        let Some((start, end)) = interval(tree, starts, c) else {
            continue;
        };
        if until.is_some_and(|u| end > u) {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, best_start, best_end)) => {
                end > best_end || (end == best_end && start < best_start)
            }
        };
        if better {
            best = Some((c, start, end));
        }
    }
    best.map(|(c, _, _)| c)
}

/// The critical path of `tree`, root first, as tree nodes. `starts` holds each span's start by
/// position in `tree.spans` (e.g. from [`super::skew::corrected_starts`]). Spans without a start
/// or a duration are never on it; an empty result means no span had both.
pub fn critical_path(tree: &TraceTree, starts: &[Option<i64>]) -> Vec<NodeIndex> {
    let root = tree.root();
    let first = if tree.span(root).is_some() {
        interval(tree, starts, root).map(|_| root)
    } else {
        last_to_finish(tree, starts, root, None)
    };
    let Some(mut node) = first else {
        return Vec::new();
    };
    let mut path = vec![node];
    // A parent cycle cannot make the walk longer than the tree.
    while path.len() <= tree.spans.len() {
        let until = interval(tree, starts, node).map(|(_, end)| end);
        let Some(next) = last_to_finish(tree, starts, node, until) else {
            break;
        };
        path.push(next);
        node = next;
    }
    path
}
