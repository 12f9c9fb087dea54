//! Spigo: graph files, architecture expansion checked against real runs, and the 2015 flow form.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use flowscope::ingest::spigo::{self, ArchOptions};
use flowscope::ingest::{Format, Report, WarningKind};
use flowscope::model::{Batch, Kind, SpanId, SpigoName, TraceId};

use crate::common::{fixture, read, shared_traces, store_of};

/// The four architectures with a run of Spigo's final code: (name, instances, edges, done records).
const RUNS: [(&str, usize, usize, usize); 4] = [
    ("lamp", 23, 73, 18),
    ("netflixoss", 65, 259, 54),
    ("netflix", 98, 371, 72),
    ("edge", 83, 152, 82),
];

fn run(arch: &str, file: &str) -> std::path::PathBuf {
    fixture(&format!("spigo/runs/{arch}/{file}"))
}

/// A full 9-field instance name in the graph's filtered form, `arch.region.zone.instance`.
fn four_fields(name: &str) -> String {
    let n = SpigoName::parse_full(name).unwrap_or_else(|| panic!("not a Spigo name: {name}"));
    format!("{}.{}.{}.{}", n.arch, n.region, n.zone, n.instance)
}

/// `region.zone.instance`: the name without the arch field, which Spigo takes from `-a`.
fn without_arch(name: &str) -> String {
    name.split_once('.')
        .map_or(name, |(_, rest)| rest)
        .to_owned()
}

/// Node name → package, with names mapped by `map`.
fn nodes(batch: &Batch, map: impl Fn(&str) -> String) -> BTreeMap<String, String> {
    batch
        .nodes
        .iter()
        .map(|n| {
            (
                map(batch.interner.resolve(n.name)),
                batch.interner.resolve(n.package.unwrap()).to_owned(),
            )
        })
        .collect()
}

/// Edges as (source, target), with names mapped by `map`.
fn edges(batch: &Batch, map: impl Fn(&str) -> String) -> BTreeSet<(String, String)> {
    batch
        .edges
        .iter()
        .map(|e| {
            (
                map(batch.interner.resolve(e.source)),
                map(batch.interner.resolve(e.target)),
            )
        })
        .collect()
}

fn expand(path: &Path, options: &ArchOptions) -> (Batch, Report) {
    let bytes = std::fs::read(path).unwrap();
    let mut report = Report::default();
    let batch = spigo::read_arch_with(&bytes, options, &mut report);
    (batch, report)
}

#[test]
fn netflix_run_graph_has_98_nodes_371_edges_and_72_done() {
    let (format, batch, report) = read(&run("netflix", "graph.json"));
    assert_eq!(format, Format::SpigoGraph);
    assert_eq!(report.total(), 0, "{:?}", report.examples);
    assert_eq!(batch.nodes.len(), 98);
    assert_eq!(batch.edges.len(), 371);
    assert_eq!(batch.nodes.iter().filter(|n| n.done).count(), 72);
    // Only karyon, monolith, staash and zuul send Delete, so only they are done.
    for n in &batch.nodes {
        let package = batch.interner.resolve(n.package.unwrap());
        assert_eq!(
            n.done,
            matches!(package, "karyon" | "staash" | "zuul" | "monolith"),
            "{package}"
        );
        assert!(n.ip.is_some() && n.timestamp_micros.is_some());
    }
    let www = batch
        .nodes
        .iter()
        .find(|n| batch.interner.resolve(n.name) == "netflix.*.*.www00")
        .unwrap();
    assert_eq!(batch.interner.resolve(www.package.unwrap()), "denominator");
}

#[test]
fn every_run_graph_reads_without_warnings() {
    for (arch, instances, edge_count, done) in RUNS {
        let (format, batch, report) = read(&run(arch, "graph.json"));
        assert_eq!(format, Format::SpigoGraph, "{arch}");
        assert_eq!(report.total(), 0, "{arch}: {:?}", report.examples);
        assert_eq!(batch.nodes.len(), instances, "{arch}");
        assert_eq!(batch.edges.len(), edge_count, "{arch}");
        assert_eq!(
            batch.nodes.iter().filter(|n| n.done).count(),
            done,
            "{arch}"
        );
    }
    // fsm: pirates only, no done records.
    let (_, batch, report) = read(&run("fsm", "graph.json"));
    assert_eq!(report.total(), 0);
    assert_eq!((batch.nodes.len(), batch.edges.len()), (100, 216));
    assert!(batch.nodes.iter().all(|n| !n.done));
}

#[test]
fn arch_expansions_equal_the_runs_graphs() {
    for (arch, instances, edge_count, _) in RUNS {
        let (format, expanded, report) = read(&run(arch, "arch.json"));
        assert_eq!(format, Format::SpigoArch, "{arch}");
        assert_eq!(report.total(), 0, "{arch}: {:?}", report.examples);
        assert_eq!(expanded.nodes.len(), instances, "{arch}");
        assert_eq!(expanded.edges.len(), edge_count, "{arch}");

        let (_, graph, _) = read(&run(arch, "graph.json"));
        let identity = |s: &str| s.to_owned();
        assert_eq!(
            nodes(&expanded, four_fields),
            nodes(&graph, identity),
            "{arch}: instances and packages"
        );
        assert_eq!(
            edges(&expanded, four_fields),
            edges(&graph, identity),
            "{arch}: edges"
        );
    }
}

#[test]
fn expanded_names_have_nine_fields() {
    let (_, batch, _) = read(&run("lamp", "arch.json"));
    let names: BTreeSet<&str> = batch
        .nodes
        .iter()
        .map(|n| batch.interner.resolve(n.name))
        .collect();
    for name in [
        "lamp.*.*..www00...www.denominator",
        "lamp.us-east-1.*..webserver-elb00...webserver-elb.elb",
        "lamp.us-east-1.zoneA..rds-mysql00...rds-mysql.store",
        "lamp.us-east-1.zoneB..rds-mysql01...rds-mysql.store",
        "lamp.us-east-1.zoneC..webserver17...webserver.monolith",
    ] {
        assert!(names.contains(name), "{name}");
    }
    assert!(batch.nodes.iter().all(|n| n.ip.is_none() && !n.done));
}

/// The README's instance counts for the shipped architectures at `-p 100 -w 1`.
#[test]
fn shipped_architectures_expand_to_the_readme_counts() {
    for (file, instances) in [
        ("lamp", 23),
        ("netflixoss", 65),
        ("netflix", 98),
        ("cassandra", 32),
        ("aws_ac_ra_web", 25),
        ("riak", 51),
        ("yogi", 34),
        ("yow", 34),
        ("container", 22),
        ("edge", 83),
        ("storage", 6),
        ("test", 19),
        ("composeV2", 16),
        ("simpleV2", 10),
        ("testyaml", 9),
    ] {
        let path = fixture(&format!("spigo/arch/{file}_arch.json"));
        let (format, batch, report) = read(&path);
        assert_eq!(format, Format::SpigoArch, "{file}");
        assert_eq!(report.total(), 0, "{file}: {:?}", report.examples);
        assert_eq!(batch.nodes.len(), instances, "{file}");
    }
}

/// Scaled, multi-region runs: lamp at `-p 300 -w 2`, riak (cross-region rings) at `-w 2`, and
/// container (whose `arch` field is not its `-a` name) at `-p 150 -w 2`.
#[test]
fn scaled_multi_region_expansions_equal_shipped_graphs() {
    for (arch, graph, scale_percent, regions, node_count, edge_count) in [
        ("lamp", "lamp4", 300, 2, 129, 1082),
        ("riak", "riak1", 100, 2, 99, 474),
        ("container", "container3", 150, 2, 59, 204),
    ] {
        let options = ArchOptions {
            scale_percent,
            regions,
        };
        let (expanded, report) =
            expand(&fixture(&format!("spigo/arch/{arch}_arch.json")), &options);
        assert_eq!(report.total(), 0, "{arch}");
        let (_, shipped, report) = read(&fixture(&format!("spigo/graph/{graph}.json")));
        assert_eq!(report.total(), 0, "{graph}");
        assert_eq!(
            (shipped.nodes.len(), shipped.edges.len()),
            (node_count, edge_count)
        );
        let short = |s: &str| without_arch(&four_fields(s));
        assert_eq!(
            nodes(&expanded, short),
            nodes(&shipped, without_arch),
            "{graph}"
        );
        assert_eq!(
            edges(&expanded, short),
            edges(&shipped, without_arch),
            "{graph}"
        );
    }
    // Numbering continues across regions: us-west-2 starts at rds-mysql06 (README §1).
    let (expanded, _) = expand(
        &fixture("spigo/arch/lamp_arch.json"),
        &ArchOptions {
            scale_percent: 300,
            regions: 2,
        },
    );
    assert!(
        expanded
            .interner
            .get("lamp.us-west-2.zoneA..rds-mysql06...rds-mysql.store")
            .is_some()
    );
}

/// The README's big run: netflix at `-p 400 -w 6` has 2,270 nodes and 114,060 edges.
#[test]
fn netflix_at_400_percent_in_six_regions() {
    let options = ArchOptions {
        scale_percent: 400,
        regions: 6,
    };
    let (expanded, report) = expand(&run("netflix", "arch.json"), &options);
    assert_eq!(report.total(), 0);
    assert_eq!(
        (expanded.nodes.len(), expanded.edges.len()),
        (2270, 114_060)
    );
}

/// `-p 30` collapses lamp's rds-mysql (count 2) to a single zone-`*` node.
#[test]
fn scaling_to_zero_collapses_to_a_cross_zone_node() {
    let (expanded, report) = expand(
        &fixture("spigo/arch/lamp_arch.json"),
        &ArchOptions {
            scale_percent: 30,
            regions: 1,
        },
    );
    assert_eq!(report.total(), 0);
    assert!(
        expanded
            .interner
            .get("lamp.us-east-1.*..rds-mysql00...rds-mysql.store")
            .is_some()
    );
}

#[test]
fn migration_flow_groups_into_2405_spans_in_200_traces() {
    let path = fixture("spigo/flow/migration_flow.json");
    let (format, batch, report) = read(&path);
    assert_eq!(format, Format::SpigoMigration);
    assert_eq!(report.total(), 0, "{:?}", report.examples);
    assert_eq!(batch.spans.len(), 2405);
    let clients = batch
        .spans
        .iter()
        .filter(|s| s.kind == Some(Kind::Client) && !s.shared)
        .count();
    let shared_servers = batch
        .spans
        .iter()
        .filter(|s| s.kind == Some(Kind::Server) && s.shared)
        .count();
    assert_eq!((clients, shared_servers), (1295, 1110));

    let store = store_of(&[path]);
    assert_eq!(store.traces().len(), 200);

    // The first hop, t1p0s1: www0 (denominator) → www-elb0.
    let svc = |s: Option<flowscope::model::Sym>| batch.interner.resolve(s.unwrap());
    let first: Vec<_> = batch
        .spans
        .iter()
        .filter(|s| s.trace_id() == TraceId::Hex64(1) && s.id() == SpanId::Hex(1))
        .collect();
    assert_eq!(first.len(), 2);
    let (client, server) = (first[0], first[1]);
    assert_eq!(client.kind, Some(Kind::Client));
    assert_eq!(client.parent_id(), None);
    assert_eq!(svc(client.name), "getrequest");
    assert_eq!(
        svc(client.local.service),
        "migration.*.*.www0....www.denominator"
    );
    assert_eq!(
        svc(client.remote.service),
        "migration.us-east-1.*.www-elb0....www-elb.elb"
    );
    assert_eq!(client.timestamp_micros(), Some(1_445_106_638_743_842));
    assert_eq!(server.kind, Some(Kind::Server));
    assert!(server.shared);
    assert_eq!(svc(server.local.service), svc(client.remote.service));
    assert_eq!(server.timestamp_micros(), Some(1_445_106_638_744_672));

    // t1p1s2: parent 1; decimal digits are read as hex, as in Spigo's Zipkin output.
    assert!(
        batch
            .spans
            .iter()
            .any(|s| s.id() == SpanId::Hex(2) && s.parent_id() == Some(SpanId::Hex(1)))
    );
}

/// Every shipped graph file reads cleanly, and every one made without `-f` from an architecture
/// that is in `arch/` equals that architecture's expansion at the run's `-p` and `-w`.
#[test]
fn shipped_graphs_equal_their_expansions() {
    let Some(traces) = shared_traces() else {
        return;
    };
    let dir = traces.join("spigo/graph");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut compared = 0;
    for path in &files {
        let (format, graph, report) = read(path);
        let file = path.file_name().unwrap().to_string_lossy();
        assert_eq!(format, Format::SpigoGraph, "{file}");
        assert_eq!(report.total(), 0, "{file}: {:?}", report.examples);

        let text = std::fs::read_to_string(path).unwrap();
        let header: serde_json::Value = serde_json::from_str(&text).unwrap();
        let args = header["args"].as_str().unwrap();
        let arch_path = traces.join(format!(
            "spigo/arch/{}_arch.json",
            header["arch"].as_str().unwrap()
        ));
        if args.contains(" -f") || !arch_path.exists() {
            continue;
        }
        let flag = |name: &str, default: usize| {
            let words: Vec<&str> = args.trim_matches(['[', ']']).split(' ').collect();
            words
                .iter()
                .position(|w| *w == name)
                .map_or(default, |i| words[i + 1].parse().unwrap())
        };
        let options = ArchOptions {
            scale_percent: flag("-p", 100) as u32,
            regions: flag("-w", 1),
        };
        let (expanded, report) = expand(&arch_path, &options);
        assert_eq!(report.total(), 0, "{file}");
        let short = |s: &str| without_arch(&four_fields(s));
        assert_eq!(
            nodes(&expanded, short),
            nodes(&graph, without_arch),
            "{file}"
        );
        assert_eq!(
            edges(&expanded, short),
            edges(&graph, without_arch),
            "{file}"
        );
        compared += 1;
    }
    assert_eq!(compared, 51);
}

#[test]
fn broken_architectures_keep_what_works() {
    let arch = br#"{"arch":"bad","services":[
        {"name":"db","package":"store","count":1,"regions":1},
        {"name":"db","package":"karyon","count":1,"regions":1},
        {"name":"odd","package":"nosuch","count":1,"regions":1},
        {"name":"app","package":"monolith","count":2,"regions":1,"dependencies":["db","odd","ghost"]},
        {"name":"web","package":"elb","count":"many","regions":1}
    ]}"#;
    let mut report = Report::default();
    let batch = spigo::read_arch(arch, &mut report);
    // Duplicate db, unknown package, unknown dependency ghost, bad count.
    assert_eq!(
        report.count(WarningKind::BadArchitecture),
        4,
        "{:?}",
        report.examples
    );
    assert_eq!(batch.nodes.len(), 3);
    assert_eq!(batch.edges.len(), 2);
}

/// A graph file with a ',' missing between two records is read whole, as the valid file is, and
/// says where the JSON broke. See: #16
#[test]
fn issue_16_a_missing_comma_is_read_and_reported_with_its_byte_offset() {
    let path = fixture("spigo/graph/container3.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find("},\n").unwrap() + 1;
    let broken = format!("{}{}", &text[..cut], &text[cut + 1..]);
    let next = cut + broken[cut..].find('{').unwrap();
    let mut report = Report::default();
    let batch = spigo::read_graph(broken.as_bytes(), &mut report);
    let (_, whole, whole_report) = read(&path);
    assert_eq!(whole_report.total(), 0);
    assert_eq!(report.total(), 1, "{report:?}");
    assert_eq!(report.count(WarningKind::InvalidJson), 1);
    assert_eq!(
        report.examples,
        [format!(
            "invalid_json: not valid JSON at byte {next}: a ',' is missing there or has no record before it; read as if the JSON were valid"
        )]
    );
    assert_eq!(batch.nodes.len(), whole.nodes.len());
    assert_eq!(batch.edges.len(), whole.edges.len());
    // A trailing ',' and a doubled one are read and reported alike.
    let mut report = Report::default();
    let spans = br#"[{"traceId":"a","id":"1","name":"x","localEndpoint":{"serviceName":"s"}},,{"traceId":"a","id":"2","name":"y","localEndpoint":{"serviceName":"s"}},]"#;
    let batch = flowscope::ingest::zipkin_v2::read(spans, &mut report);
    assert_eq!(batch.spans.len(), 2);
    assert_eq!(report.count(WarningKind::InvalidJson), 2, "{report:?}");
}
