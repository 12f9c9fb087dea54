//! Spigo graph files (`-j`): a header object whose `graph` array holds node / edge / done / forget records.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::super::json::{CowStr, Str, rfc3339_micros};
use super::super::report::{Report, WarningKind};
use super::super::split::{report_split, skip_ws, split_array, value_end};
use super::super::zipkin_v2::json_error_kind;
use crate::model::{Batch, DeclaredEdge, DeclaredNode, FileId, NameLevel, Sym};

/// One element of the `graph` array, any version (0.1 `{node,name}`, 0.3 `{node,service}`, 0.4).
#[derive(Deserialize)]
struct Element<'a> {
    #[serde(borrow, default)]
    node: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    package: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    service: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    metadata: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    edge: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    source: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    target: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    forget: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    done: Option<CowStr<'a>>,
}

/// A parsed record, still borrowing from the input.
enum Record<'a> {
    Node {
        name: Str<'a>,
        package: Option<Str<'a>>,
        ip: Option<Str<'a>>,
        timestamp_micros: Option<i64>,
        bad_timestamp: bool,
    },
    Edge {
        id: Option<Str<'a>>,
        source: Str<'a>,
        target: Str<'a>,
    },
    Done {
        name: Str<'a>,
        timestamp_micros: Option<i64>,
    },
    Forget {
        id: Str<'a>,
    },
    Unknown,
    Bad(WarningKind, String),
}

fn text(s: Option<CowStr<'_>>) -> Option<Str<'_>> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

fn parse_record(bytes: &[u8]) -> Record<'_> {
    let e: Element<'_> = match serde_json::from_slice(bytes) {
        Ok(e) => e,
        Err(err) => return Record::Bad(json_error_kind(&err), err.to_string()),
    };
    if let Some(node) = e.node {
        let Some(name) = text(Some(node)) else {
            return Record::Bad(
                WarningKind::BadRecord,
                "a node record with an empty name".to_owned(),
            );
        };
        let (timestamp_micros, bad_timestamp) = match text(e.timestamp) {
            None => (None, false),
            Some(ts) => match rfc3339_micros(&ts) {
                Some(t) => (Some(t), false),
                None => (None, true),
            },
        };
        let ip = text(e.metadata).and_then(|m| match m {
            Str::Borrowed(m) => m.strip_prefix("IP/").map(Str::Borrowed),
            Str::Owned(m) => m.strip_prefix("IP/").map(|ip| Str::Owned(ip.to_owned())),
        });
        return Record::Node {
            name,
            package: text(e.package).or_else(|| text(e.service)),
            ip: ip.filter(|ip| !ip.is_empty()),
            timestamp_micros,
            bad_timestamp,
        };
    }
    if let Some(id) = e.edge {
        return match (text(e.source), text(e.target)) {
            (Some(source), Some(target)) => Record::Edge {
                id: text(Some(id)),
                source,
                target,
            },
            _ => Record::Bad(
                WarningKind::BadRecord,
                format!("edge {} lacks a source or target", id.0),
            ),
        };
    }
    if let Some(id) = e.forget {
        return match text(Some(id)) {
            Some(id) => Record::Forget { id },
            None => Record::Bad(
                WarningKind::BadRecord,
                "a forget record without an edge id".to_owned(),
            ),
        };
    }
    if let Some(done) = e.done {
        let timestamp_micros = e.timestamp.as_ref().and_then(|t| rfc3339_micros(&t.0));
        return match text(Some(done)) {
            Some(name) => Record::Done {
                name,
                timestamp_micros,
            },
            None => Record::Bad(
                WarningKind::BadRecord,
                "a done record with an empty name".to_owned(),
            ),
        };
    }
    Record::Unknown
}

/// Where the `graph` array opens: the position of its `[`. Only the header's structure is followed.
fn find_graph(b: &[u8], report: &mut Report) -> Option<usize> {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        report.warn(WarningKind::BadRecord, || {
            "a Spigo graph file must be an object with a \"graph\" array".to_owned()
        });
        return None;
    }
    i += 1;
    let ended = loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'"') => {
                let Some(key_end) = value_end(b, i) else {
                    break true;
                };
                let key = b.get(i + 1..key_end.saturating_sub(1)).unwrap_or_default();
                i = skip_ws(b, key_end);
                match b.get(i) {
                    Some(b':') => i = skip_ws(b, i + 1),
                    Some(_) => break false,
                    None => break true,
                }
                if key == b"graph" && b.get(i) == Some(&b'[') {
                    return Some(i);
                }
                match value_end(b, i) {
                    Some(end) if end > i => i = end,
                    Some(_) => break false,
                    None => break true,
                }
            }
            None => break true,
            Some(_) => break false,
        }
    };
    if ended {
        report.warn(WarningKind::TruncatedJson, || {
            "the input ends before the \"graph\" array".to_owned()
        });
    } else {
        report.warn(WarningKind::BadRecord, || {
            "no \"graph\" array in the file".to_owned()
        });
    }
    None
}

/// Reads a graph file. Nodes keep their names as written (the 4-field `arch.region.zone.instance`
/// form at HEAD); edges are caller → callee with one call each.
pub(super) fn read(bytes: &[u8], report: &mut Report) -> Batch {
    let mut batch = Batch::default();
    let Some(open) = find_graph(bytes, report) else {
        return batch;
    };
    let split = split_array(bytes, open);
    report_split(&split, report);
    let records = super::parse_records(bytes, &split.ranges, parse_record);
    apply(&records, &mut batch, report);
    batch
}

/// Applies the records in file order: the first node record of a name wins, `done` marks a node,
/// `forget` removes the latest earlier edge with its id, and edges naming unknown nodes are kept
/// but counted.
fn apply(records: &[Record<'_>], batch: &mut Batch, report: &mut Report) {
    let mut node_index: FxHashMap<Sym, usize> = FxHashMap::default();
    let mut dones: Vec<(&str, Option<i64>)> = Vec::new();
    // Edge ids (and where they stand among the records) only matter when something is forgotten.
    let any_forget = records.iter().any(|r| matches!(r, Record::Forget { .. }));
    let mut edge_ids: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    let mut forgotten: Vec<bool> = Vec::new();
    for record in records {
        match record {
            Record::Node {
                name,
                package,
                ip,
                timestamp_micros,
                bad_timestamp,
            } => {
                if *bad_timestamp {
                    report.warn(WarningKind::BadTimestamp, || {
                        format!("node {name} has a timestamp that is not RFC 3339")
                    });
                }
                let node = DeclaredNode {
                    name: batch.sym(name),
                    level: NameLevel::Instance,
                    package: package.as_deref().map(|p| batch.sym(p)),
                    ip: ip.as_deref().map(|ip| batch.sym(ip)),
                    done: false,
                    done_micros: None,
                    timestamp_micros: *timestamp_micros,
                    file: FileId(0),
                };
                if let Some(&first) = node_index.get(&node.name) {
                    let differs = batch
                        .nodes
                        .get(first)
                        .is_some_and(|n| n.package != node.package || n.ip != node.ip);
                    if differs {
                        report.warn(WarningKind::Duplicate, || {
                            format!("node {name} is declared again differently; the first is kept")
                        });
                    }
                } else {
                    node_index.insert(node.name, batch.nodes.len());
                    batch.nodes.push(node);
                }
            }
            Record::Edge { id, source, target } => {
                if any_forget && let Some(id) = id {
                    edge_ids.entry(id).or_default().push(batch.edges.len());
                }
                let edge = DeclaredEdge {
                    source: batch.sym(source),
                    target: batch.sym(target),
                    level: NameLevel::Instance,
                    calls: 1,
                    errors: 0,
                    file: FileId(0),
                };
                batch.edges.push(edge);
                forgotten.push(false);
            }
            Record::Done {
                name,
                timestamp_micros,
            } => dones.push((name, *timestamp_micros)),
            Record::Forget { id } => {
                let earlier = edge_ids.get(id.as_ref()).and_then(|edges| {
                    edges
                        .iter()
                        .rev()
                        .find(|&&e| forgotten.get(e) == Some(&false))
                        .copied()
                });
                match earlier.and_then(|e| forgotten.get_mut(e)) {
                    Some(flag) => *flag = true,
                    None => report.warn(WarningKind::DanglingReference, || {
                        format!("forget names edge {id}, which is not an earlier edge")
                    }),
                }
            }
            Record::Unknown => report.warn(WarningKind::UnknownRecord, || {
                "a graph record that is not a node, edge, done or forget".to_owned()
            }),
            Record::Bad(kind, detail) => report.warn(*kind, || detail.clone()),
        }
    }
    for (name, done_micros) in dones {
        let node = batch
            .interner
            .get(name)
            .and_then(|sym| node_index.get(&sym))
            .and_then(|&i| batch.nodes.get_mut(i));
        match node {
            Some(node) => {
                node.done = true;
                node.done_micros = done_micros;
            }
            None => report.warn(WarningKind::DanglingReference, || {
                format!("done names {name}, which has no node record")
            }),
        }
    }
    if forgotten.contains(&true) {
        let mut keep = forgotten.iter().map(|f| !f);
        batch.edges.retain(|_| keep.next().unwrap_or(true));
    }
    for edge in &batch.edges {
        let missing: Vec<&str> = [edge.source, edge.target]
            .into_iter()
            .filter(|s| !node_index.contains_key(s))
            .map(|s| batch.interner.resolve(s))
            .collect();
        if !missing.is_empty() {
            report.warn(WarningKind::DanglingReference, || {
                format!(
                    "an edge names {}, which has no node record",
                    missing.join(" and ")
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read(s.as_bytes(), &mut report);
        (batch, report)
    }

    fn names(batch: &Batch) -> Vec<&str> {
        batch
            .nodes
            .iter()
            .map(|n| batch.interner.resolve(n.name))
            .collect()
    }

    fn pairs(batch: &Batch) -> Vec<(&str, &str)> {
        batch
            .edges
            .iter()
            .map(|e| {
                (
                    batch.interner.resolve(e.source),
                    batch.interner.resolve(e.target),
                )
            })
            .collect()
    }

    /// A 0.4 file in the shape Spigo writes: node fields, edge direction, done marking, no warnings.
    #[test]
    fn reads_a_spigo_0_4_graph() {
        let (b, r) = read_str(
            r#"{
  "arch":"lamp",
  "version":"spigo-0.4",
  "args":"[spigo -a lamp -j]",
  "date":"2026-11-21T23:04:02.506574263Z",
  "graph":[
    {"node":"lamp.us-east-1.zoneA.webserver00","package":"monolith","timestamp":"2026-11-21T23:04:02.501620133Z","metadata":"IP/54.198.0.1"},
    {"node":"lamp.us-east-1.zoneA.rds-mysql00","package":"store","timestamp":"2026-11-21T23:04:02.5Z","metadata":"IP/54.198.0.2"},
    {"edge":"e1","source":"lamp.us-east-1.zoneA.webserver00","target":"lamp.us-east-1.zoneA.rds-mysql00","timestamp":"2026-11-21T23:04:02.6Z"},
    {"done":"lamp.us-east-1.zoneA.webserver00","exit":"normal","timestamp":"2026-11-21T23:04:07.5Z"}
  ]
}
"#,
        );
        assert_eq!(r.total(), 0, "{:?}", r.examples);
        assert_eq!(
            names(&b),
            vec![
                "lamp.us-east-1.zoneA.webserver00",
                "lamp.us-east-1.zoneA.rds-mysql00"
            ]
        );
        let web = b.nodes[0];
        assert_eq!(b.interner.resolve(web.package.unwrap()), "monolith");
        assert_eq!(b.interner.resolve(web.ip.unwrap()), "54.198.0.1");
        assert_eq!(
            web.timestamp_micros,
            rfc3339_micros("2026-11-21T23:04:02.501620Z")
        );
        assert!(web.done);
        assert!(!b.nodes[1].done);
        assert_eq!(web.level, NameLevel::Instance);
        assert_eq!(
            pairs(&b),
            vec![(
                "lamp.us-east-1.zoneA.webserver00",
                "lamp.us-east-1.zoneA.rds-mysql00"
            )]
        );
        assert_eq!((b.edges[0].calls, b.edges[0].errors), (1, 0));
    }

    /// spigo-0.3 names the package `service` and has no timestamps; 0.1 has `name` and no package.
    #[test]
    fn reads_older_versions() {
        let (b, r) = read_str(
            r#"{"arch":"fsm","version":"spigo-0.3","args":"","graph":[
{"node":"Pirate67","service":"pirate"},{"node":"Pirate5","name":"Pirate5"},
{"edge":"e1","source":"Pirate67","target":"Pirate5"}]}"#,
        );
        assert_eq!(r.total(), 0);
        assert_eq!(b.interner.resolve(b.nodes[0].package.unwrap()), "pirate");
        assert_eq!(b.nodes[1].package, None);
        assert_eq!(b.nodes[0].timestamp_micros, None);
        assert_eq!(b.edges.len(), 1);
    }

    /// Repeated nodes: an identical repeat is silent, a different one is a duplicate; the first wins.
    #[test]
    fn duplicate_nodes_keep_the_first() {
        let (b, r) = read_str(
            r#"{"graph":[{"node":"a","package":"store","metadata":"IP/1.1.1.1"},
{"node":"a","package":"store","metadata":"IP/1.1.1.1","timestamp":"2020-01-01T00:00:00Z"},
{"node":"a","package":"elb"}]}"#,
        );
        assert_eq!(b.nodes.len(), 1);
        assert_eq!(b.interner.resolve(b.nodes[0].package.unwrap()), "store");
        assert_eq!(r.count(WarningKind::Duplicate), 1);
        assert_eq!(r.total(), 1);
    }

    /// Edges and dones that name unknown nodes are counted; the edges are still kept.
    #[test]
    fn dangling_references_are_counted() {
        let (b, r) = read_str(
            r#"{"graph":[{"node":"a"},{"edge":"e1","source":"a","target":"ghost"},
{"edge":"e2","source":"ghost","target":"ghost2"},{"done":"nobody"}]}"#,
        );
        assert_eq!(b.edges.len(), 2);
        assert_eq!(r.count(WarningKind::DanglingReference), 3);
        assert!(!b.nodes[0].done);
    }

    /// `forget` removes the edge its id names (the latest earlier one); an unknown id is dangling.
    #[test]
    fn forget_removes_the_named_edge() {
        let (b, r) = read_str(
            r#"{"graph":[{"node":"a"},{"node":"b"},{"node":"c"},
{"edge":"e1","source":"a","target":"b"},{"edge":"e2","source":"a","target":"c"},
{"forget":"e1","source":"a","target":"b"},{"forget":"e9"},{"forget":"e1"}]}"#,
        );
        assert_eq!(pairs(&b), vec![("a", "c")]);
        assert_eq!(r.count(WarningKind::DanglingReference), 2);
    }

    /// Unknown, malformed and invalid records are counted and skipped; the rest loads.
    #[test]
    fn bad_records_are_skipped() {
        let (b, r) = read_str(
            r#"{"graph":[{"node":"a","timestamp":"yesterday"},{"colour":"red"},{"node":{"x":1}},
{"edge":"e1","source":"a"},{"node":"b" "package":"x"},7,{"node":"c"}]}"#,
        );
        assert_eq!(names(&b), vec!["a", "c"]);
        assert_eq!(b.nodes[0].timestamp_micros, None);
        assert_eq!(r.count(WarningKind::BadTimestamp), 1);
        assert_eq!(r.count(WarningKind::UnknownRecord), 1);
        assert_eq!(r.count(WarningKind::BadRecord), 3, "{:?}", r.examples);
        assert_eq!(r.count(WarningKind::InvalidJson), 1);
    }

    /// A run cut short (no closing `]`) keeps its complete records; a file without a graph is empty.
    #[test]
    fn truncated_and_headerless_files() {
        let (b, r) = read_str("{\"arch\":\"x\",\"graph\":[\n{\"node\":\"a\"},\n{\"node\":\"b\"");
        assert_eq!(names(&b), vec!["a"]);
        assert_eq!(r.count(WarningKind::TruncatedJson), 1);

        let (b, r) = read_str(r#"{"arch":"x","nodes":[]}"#);
        assert!(b.nodes.is_empty());
        assert_eq!(r.count(WarningKind::BadRecord), 1);

        let (b, r) = read_str(r#"{"arch":"x","#);
        assert!(b.nodes.is_empty());
        assert_eq!(r.count(WarningKind::TruncatedJson), 1);

        let (_, r) = read_str("[]");
        assert_eq!(r.count(WarningKind::BadRecord), 1);
    }
}
