//! Zipkin's trace tree: `Trace.merge` (fold pieces, backfill `shared`) and `SpanNode.Builder` (keys, roots, orphans).
