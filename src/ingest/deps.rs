//! Reads dependency-link files (`[{parent, child, callCount, errorCount}]`, Zipkin and Jaeger) as declared service edges.
//!
//! Each link becomes a [`DeclaredEdge`] between services (names lower-cased as Zipkin does), and each
//! distinct name one [`DeclaredNode`], in first-seen order. Jaeger's query API wraps the list as
//! `{"data":[…]}`, and Zipkin fixtures as `{"links":[…]}`; both are read too.

use rustc_hash::FxHashSet;
use serde::Deserialize;

use super::jaeger::{inner_array, json_warning};
use super::json::{CowStr, Num};
use super::report::{Report, WarningKind};
use super::split::{self, Layout};
use crate::model::{Batch, DeclaredEdge, DeclaredNode, FileId, NameLevel};

/// One dependency link.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Link<'a> {
    #[serde(borrow)]
    parent: Option<CowStr<'a>>,
    #[serde(borrow)]
    child: Option<CowStr<'a>>,
    #[serde(rename = "callCount", alias = "call_count")]
    call_count: Num,
    #[serde(rename = "errorCount", alias = "error_count")]
    error_count: Num,
}

/// Reads a dependency-link file: an array of links, NDJSON of links, or `{"data":[…]}`.
pub fn read(bytes: &[u8], report: &mut Report) -> Batch {
    let Some(records) = split::split_reported(bytes, report) else {
        return Batch::default();
    };
    let ranges = match (records.layout, records.ranges.as_slice()) {
        (Layout::SingleObject, [only]) => inner_array(bytes, only, &["data", "links"], report)
            .unwrap_or_else(|| records.ranges.clone()),
        _ => records.ranges.clone(),
    };
    let (mut batch, r) = split::parse_parallel(bytes, &ranges, read_link);
    report.merge(r);
    declare_nodes(&mut batch);
    batch
}

/// Reads one link into an edge.
fn read_link(record: &[u8], batch: &mut Batch, report: &mut Report) {
    let link: Link<'_> = match serde_json::from_slice(record) {
        Ok(l) => l,
        Err(e) => return json_warning(report, &e, "a dependency link"),
    };
    let parent = link
        .parent
        .as_ref()
        .and_then(|p| batch.service_sym(p.0.trim()));
    let child = link
        .child
        .as_ref()
        .and_then(|c| batch.service_sym(c.0.trim()));
    let (Some(source), Some(target)) = (parent, child) else {
        report.warn(WarningKind::BadRecord, || {
            format!(
                "a dependency link without {}",
                if parent.is_none() { "parent" } else { "child" }
            )
        });
        return;
    };
    let count = |n: Num| n.0.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    batch.edges.push(DeclaredEdge {
        source,
        target,
        level: NameLevel::Service,
        calls: count(link.call_count),
        errors: count(link.error_count),
        file: FileId(0),
    });
}

/// One service node per distinct name of the edges, in first-seen order (parent before child).
fn declare_nodes(batch: &mut Batch) {
    let mut seen = FxHashSet::default();
    let mut nodes = Vec::new();
    for e in &batch.edges {
        for name in [e.source, e.target] {
            if seen.insert(name) {
                nodes.push(DeclaredNode {
                    name,
                    level: NameLevel::Service,
                    package: None,
                    ip: None,
                    done: false,
                    done_micros: None,
                    timestamp_micros: None,
                    file: FileId(0),
                });
            }
        }
    }
    batch.nodes = nodes;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(batch: &Batch) -> Vec<&str> {
        batch
            .nodes
            .iter()
            .map(|n| batch.interner.resolve(n.name))
            .collect()
    }

    /// Links become service edges with their counts; nodes are distinct names, lower-cased, in
    /// first-seen order.
    #[test]
    fn links_become_edges_and_nodes() {
        let json = br#"[
            {"parent":"Front","child":"api","callCount":3},
            {"parent":"api","child":"db","callCount":"7","errorCount":2},
            {"parent":"front","child":"db","callCount":1}
        ]"#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(report.total(), 0);
        assert_eq!(names(&batch), vec!["front", "api", "db"]);
        let edges: Vec<_> = batch
            .edges
            .iter()
            .map(|e| {
                (
                    batch.interner.resolve(e.source),
                    batch.interner.resolve(e.target),
                    e.calls,
                    e.errors,
                    e.level,
                )
            })
            .collect();
        assert_eq!(
            edges,
            vec![
                ("front", "api", 3, 0, NameLevel::Service),
                ("api", "db", 7, 2, NameLevel::Service),
                ("front", "db", 1, 0, NameLevel::Service),
            ]
        );
    }

    /// A link without parent or child, or of the wrong shape, is skipped with a warning; the
    /// others still load. Jaeger's `{"data":[…]}` wrapper is read.
    #[test]
    fn bad_links_are_counted_and_skipped() {
        let json = br#"{"data":[
            {"parent":"a","child":"b","callCount":1},
            {"child":"b","callCount":1},
            {"parent":"a","child":"","callCount":1},
            {"parent":["x"],"child":"b"},
            42
        ]}"#;
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(batch.edges.len(), 1);
        assert_eq!(names(&batch), vec!["a", "b"]);
        assert_eq!(report.count(WarningKind::BadRecord), 4);
    }

    /// NDJSON of links reads like an array.
    #[test]
    fn ndjson_links() {
        let json = b"{\"parent\":\"a\",\"child\":\"b\",\"callCount\":1}\n{\"parent\":\"b\",\"child\":\"a\",\"callCount\":2}\n";
        let mut report = Report::default();
        let batch = read(json, &mut report);
        assert_eq!(report.total(), 0);
        assert_eq!(batch.edges.len(), 2);
        assert_eq!(batch.nodes.len(), 2);
    }
}
