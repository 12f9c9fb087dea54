//! `flowscope simulate`: Spigo-compatible output checked against real Spigo runs, read back with
//! flowscope's own readers, deterministic, with the chaos-monkey victim routed around.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use flowscope::cli::links_json;
use flowscope::ingest::spigo::{ArchOptions, ExpandLimits, expand_arch};
use flowscope::ingest::{Format, Report};
use flowscope::model::{Batch, Level, SpigoName, TraceStore};
use flowscope::simulate::{FlowFormat, SimOptions, Summary, simulate};

use crate::common::{fixture, read};

/// The four architectures with a run of Spigo's final code: (name, instances, edges, done records).
const RUNS: [(&str, usize, usize, usize); 4] = [
    ("lamp", 23, 73, 18),
    ("netflixoss", 65, 259, 54),
    ("netflix", 98, 371, 72),
    ("edge", 83, 152, 82),
];

fn arch_file(arch: &str) -> PathBuf {
    fixture(&format!("spigo/runs/{arch}/arch.json"))
}

/// A fresh empty directory under the system temp directory.
fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowscope-sim-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn options(regions: usize, scale_percent: u32, traces: u64, seed: u64) -> SimOptions {
    SimOptions {
        arch: ArchOptions {
            scale_percent,
            regions,
        },
        traces,
        seed,
        ..SimOptions::default()
    }
}

fn run(arch: &str, name: &str, options: &SimOptions) -> (PathBuf, Summary) {
    let dir = out_dir(name);
    let summary = simulate(&arch_file(arch), &dir, options).unwrap();
    (dir, summary)
}

/// Node name → (package, done).
type Nodes = BTreeMap<String, (String, bool)>;

/// Node name → (package, done), and edges, of a graph file read by flowscope's reader.
fn graph_of(path: &Path) -> (Nodes, BTreeSet<(String, String)>) {
    let (format, batch, report) = read(path);
    assert_eq!(format, Format::SpigoGraph);
    assert_eq!(report.total(), 0, "{:?}", report.examples);
    let name = |b: &Batch, s| b.interner.resolve(s).to_owned();
    let nodes = batch
        .nodes
        .iter()
        .map(|n| {
            (
                name(&batch, n.name),
                (name(&batch, n.package.unwrap()), n.done),
            )
        })
        .collect();
    let edges = batch
        .edges
        .iter()
        .map(|e| (name(&batch, e.source), name(&batch, e.target)))
        .collect();
    (nodes, edges)
}

/// The zone field of a 4-field name.
fn zone(name: &str) -> &str {
    name.split('.').nth(2).unwrap()
}

/// At `--regions 1 --scale 100` the graph has Spigo's instances (4-field names, packages, zones),
/// edges and done records, exactly as the real run.
#[test]
fn graphs_equal_the_real_spigo_runs() {
    for (arch, instances, edges, done) in RUNS {
        let (dir, summary) = run(arch, &format!("runs-{arch}"), &options(1, 100, 50, 1));
        let (ours, our_edges) = graph_of(&dir.join("graph.json"));
        let (spigo, spigo_edges) = graph_of(&fixture(&format!("spigo/runs/{arch}/graph.json")));
        assert_eq!(ours.len(), instances, "{arch}");
        assert_eq!(summary.instances as usize, instances, "{arch}");
        let packages = |m: &BTreeMap<String, (String, bool)>| -> BTreeMap<String, String> {
            m.iter().map(|(k, (p, _))| (k.clone(), p.clone())).collect()
        };
        assert_eq!(packages(&ours), packages(&spigo), "{arch}");
        let zones = |m: &BTreeMap<String, (String, bool)>| -> BTreeMap<String, usize> {
            let mut z = BTreeMap::new();
            for k in m.keys() {
                *z.entry(zone(k).to_owned()).or_insert(0) += 1;
            }
            z
        };
        assert_eq!(zones(&ours), zones(&spigo), "{arch}");
        assert_eq!(our_edges.len(), edges, "{arch}");
        assert_eq!(our_edges, spigo_edges, "{arch}");
        let done_count = |m: &BTreeMap<String, (String, bool)>| m.values().filter(|v| v.1).count();
        assert_eq!(done_count(&ours), done, "{arch}");
        assert_eq!(done_count(&spigo), done, "{arch}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// The exact text layout of Spigo's `-j` file and flow file.
#[test]
fn files_have_spigos_layout() {
    let (dir, summary) = run("lamp", "layout", &options(1, 100, 40, 3));
    let graph = std::fs::read_to_string(dir.join("graph.json")).unwrap();
    let lines: Vec<&str> = graph.lines().collect();
    assert_eq!(lines[0], "{");
    assert_eq!(lines[1], r#"  "arch":"lamp","#);
    assert_eq!(lines[2], r#"  "version":"spigo-0.4","#);
    assert!(lines[3].starts_with(r#"  "args":"[flowscope simulate -a lamp -p 100 -w 1"#));
    assert!(lines[4].starts_with(r#"  "date":"2016-12-"#) && lines[4].ends_with(r#"Z","#));
    assert_eq!(lines[5], r#"  "graph":["#);
    assert!(graph.ends_with("}\n  ]\n}\n"));
    let elements = &lines[6..lines.len() - 2];
    assert_eq!(elements.len(), 23 + 73 + 18);
    for (k, line) in elements.iter().enumerate() {
        let json = line.trim_start_matches("    ").trim_end_matches(',');
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        if k < 23 {
            assert!(
                v["node"].as_str().unwrap().starts_with("lamp.us-east-1.")
                    || v["node"] == "lamp.*.*.www00"
            );
            assert!(v["metadata"].as_str().unwrap().starts_with("IP/"));
        } else if k < 23 + 73 {
            assert_eq!(v["edge"], format!("e{}", k - 22));
        } else {
            assert_eq!(v["exit"], "normal");
        }
    }
    // Spigo's dhcp: the first node in us-east-1 zoneA is 54.198.0.1.
    assert!(
        elements[0].contains(r#""metadata":"IP/54.198.0.1""#),
        "{}",
        elements[0]
    );

    let flow = std::fs::read_to_string(dir.join("flow.json")).unwrap();
    assert!(flow.starts_with("[\n{\"traceId\":\"00000000000000"));
    assert!(flow.ends_with("]}\n]\n"));
    let spans: Vec<serde_json::Value> = serde_json::from_str(&flow).unwrap();
    assert_eq!(spans.len() as u64, summary.spans);
    assert_eq!(flow.lines().count(), spans.len() + 2);
    for span in &spans {
        for id in ["traceId", "id"] {
            let s = span[id].as_str().unwrap();
            assert!(
                s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()),
                "{span}"
            );
        }
        let values: Vec<&str> = span["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["endpoint"]["port"], 8080);
                assert_eq!(
                    a["endpoint"]["serviceName"]
                        .as_str()
                        .unwrap()
                        .split('.')
                        .count(),
                    9
                );
                a["value"].as_str().unwrap()
            })
            .collect();
        match span["name"].as_str().unwrap() {
            "Put" | "Replicate" => assert_eq!(values, ["cs", "sr"], "{span}"),
            "GetRequest" => assert!(
                values == ["cs", "sr", "ss", "cr"] || values == ["cs", "sr"],
                "{span}"
            ),
            other => panic!("unexpected span name {other}"),
        }
    }
    // lamp has a store at the end of every path: every read is answered.
    assert!(
        spans
            .iter()
            .any(|s| s["annotations"].as_array().unwrap().len() == 4)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Same seed → byte-identical files; another seed → another flow (same graph nodes).
#[test]
fn same_seed_same_bytes() {
    let opts = options(2, 100, 60, 42);
    let (a, _) = run("netflixoss", "seed-a", &opts);
    let (b, _) = run("netflixoss", "seed-b", &opts);
    let (c, _) = run("netflixoss", "seed-c", &SimOptions { seed: 43, ..opts });
    for file in ["arch.json", "graph.json", "flow.json"] {
        let bytes = |d: &Path| std::fs::read(d.join(file)).unwrap();
        assert_eq!(bytes(&a), bytes(&b), "{file}");
    }
    let flow = |d: &Path| std::fs::read(d.join("flow.json")).unwrap();
    assert_ne!(flow(&a), flow(&c));
    for d in [a, b, c] {
        std::fs::remove_dir_all(&d).ok();
    }
}

/// The architecture's dependencies, (service, dependency), `eureka` left out.
fn arch_dependencies(arch: &str) -> BTreeSet<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(arch_file(arch)).unwrap()).unwrap();
    let mut deps = BTreeSet::new();
    for s in v["services"].as_array().unwrap() {
        for d in s["dependencies"].as_array().into_iter().flatten() {
            if d != "eureka" {
                deps.insert((
                    s["name"].as_str().unwrap().to_owned(),
                    d.as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    deps
}

/// Service-level links of a flow file read by flowscope, with 0 warnings.
fn service_links(path: &Path, format: Format) -> BTreeSet<(String, String)> {
    let (read_format, batch, report) = read(path);
    assert_eq!(read_format, format);
    assert_eq!(
        report.total(),
        0,
        "{}: {:?}",
        path.display(),
        report.examples
    );
    let mut store = TraceStore::default();
    store.append(batch);
    store.index();
    links_json(&mut store, Level::Service)
        .into_iter()
        .map(|l| (l.parent, l.child))
        .collect()
}

/// Flows read back with 0 warnings; their service links are the arch file's dependencies that
/// traffic reaches: all of them for lamp and netflixoss.
fn flows_read_back_and_links_are_the_dependencies(format: FlowFormat) {
    for (arch, _, _, _) in RUNS {
        let deps = arch_dependencies(arch);
        {
            let opts = SimOptions {
                format,
                ..options(1, 100, 300, 7)
            };
            let (dir, _) = run(arch, &format!("links-{arch}-{format:?}"), &opts);
            let read_format = match format {
                FlowFormat::ZipkinV1 => Format::ZipkinV1,
                FlowFormat::ZipkinV2 => Format::ZipkinV2,
            };
            let links = service_links(&dir.join("flow.json"), read_format);
            assert!(!links.is_empty(), "{arch}");
            assert!(
                links.is_subset(&deps),
                "{arch} {format:?}: {:?}",
                links.difference(&deps)
            );
            if arch == "lamp" || arch == "netflixoss" {
                assert_eq!(links, deps, "{arch} {format:?}");
            }
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

#[test]
fn zipkin_v1_flows_read_back_and_links_are_the_dependencies() {
    flows_read_back_and_links_are_the_dependencies(FlowFormat::ZipkinV1);
}

#[test]
fn zipkin_v2_flows_read_back_and_links_are_the_dependencies() {
    flows_read_back_and_links_are_the_dependencies(FlowFormat::ZipkinV2);
}

/// Every hop of the flow (cs instance → sr instance) is an edge of the graph, also when the
/// edges are capped by a fan-out.
#[test]
fn every_hop_follows_a_graph_edge() {
    for (max_edges, capped) in [(u64::MAX, false), (3_000, true)] {
        let opts = SimOptions {
            max_edges,
            ..options(2, 300, 150, 5)
        };
        let (dir, summary) = run("netflixoss", &format!("hops-{capped}"), &opts);
        assert_eq!(summary.fanout.is_some(), capped);
        assert!(summary.edges <= max_edges);
        let (_, edges) = graph_of(&dir.join("graph.json"));
        assert_eq!(edges.len() as u64, summary.edges);
        let flow: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(dir.join("flow.json")).unwrap()).unwrap();
        let short = |name: &str| {
            let n = SpigoName::parse_full(name).unwrap();
            format!("{}.{}.{}.{}", n.arch, n.region, n.zone, n.instance)
        };
        let mut hops = 0;
        for span in &flow {
            let notes = span["annotations"].as_array().unwrap();
            let who = |v: &str| {
                notes
                    .iter()
                    .find(|a| a["value"] == v)
                    .map(|a| short(a["endpoint"]["serviceName"].as_str().unwrap()))
            };
            if let (Some(cs), Some(sr)) = (who("cs"), who("sr")) {
                assert!(edges.contains(&(cs.clone(), sr.clone())), "{cs} → {sr}");
                hops += 1;
            }
        }
        assert!(hops > 500, "{hops}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// The victim is killed half-way: its done record is in the graph, a Goodbye span in the flow,
/// no span after that touches it, and traffic goes on; `--no-victim` keeps everyone.
#[test]
fn the_victim_is_killed_half_way_and_routed_around() {
    let (dir, summary) = run("netflixoss", "victim", &options(1, 100, 400, 11));
    let victim = summary.victim.clone().unwrap();
    assert!(victim.starts_with("netflixoss.us-east-1.zone") && victim.contains(".homepage"));
    let killed = summary.victim_killed_micros.unwrap();
    let (nodes, _) = graph_of(&dir.join("graph.json"));
    assert!(nodes[&victim].1, "no done record for {victim}");
    let graph = std::fs::read_to_string(dir.join("graph.json")).unwrap();
    let done_line = graph
        .lines()
        .find(|l| l.contains(&format!(r#"{{"done":"{victim}""#)))
        .unwrap();
    // The victim's done comes before the shutdown's.
    let first_done = graph.lines().find(|l| l.contains(r#"{"done":"#)).unwrap();
    assert_eq!(done_line, first_done);

    let flow: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.join("flow.json")).unwrap()).unwrap();
    let victim_full = |name: &str| {
        let n = SpigoName::parse_full(name).unwrap();
        format!("{}.{}.{}.{}", n.arch, n.region, n.zone, n.instance) == victim
    };
    let (mut before, mut after, mut goodbyes) = (0, 0, 0);
    for span in &flow {
        let notes = span["annotations"].as_array().unwrap();
        let touches = notes
            .iter()
            .any(|a| victim_full(a["endpoint"]["serviceName"].as_str().unwrap()));
        let last = notes
            .iter()
            .map(|a| a["timestamp"].as_i64().unwrap())
            .max()
            .unwrap();
        if span["name"] == "Goodbye" {
            goodbyes += 1;
            assert!(touches);
            assert_eq!(last, killed);
            continue;
        }
        if touches {
            assert!(last < killed, "a span touches {victim} after it was killed");
            before += 1;
        } else if notes
            .iter()
            .all(|a| a["timestamp"].as_i64().unwrap() > killed)
        {
            after += 1;
        }
    }
    assert_eq!(goodbyes, 1);
    assert!(before > 0 && after > 100, "{before} {after}");
    std::fs::remove_dir_all(&dir).ok();

    let opts = SimOptions {
        victim: false,
        ..options(1, 100, 100, 11)
    };
    let (dir, summary) = run("netflixoss", "no-victim", &opts);
    assert_eq!(summary.victim, None);
    let flow = std::fs::read_to_string(dir.join("flow.json")).unwrap();
    assert!(!flow.contains("Goodbye"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Past Spigo's six regions: made-up region names, and netflix at 12 regions × 10000 % expands
/// to 112,826 instances (12 × 9,400 + 24 elbs + 2 denominators).
#[test]
fn regions_past_six() {
    let bytes = std::fs::read(arch_file("netflix")).unwrap();
    let mut report = Report::default();
    let limits = ExpandLimits {
        max_regions: 1000,
        max_instances: 2_000_000,
    };
    let big = ArchOptions {
        scale_percent: 10_000,
        regions: 12,
    };
    let e = expand_arch(&bytes, &big, &limits, &mut report);
    assert_eq!(report.total(), 0);
    let visible = (0..e.instances.len()).filter(|&i| e.visible(i)).count();
    assert_eq!(visible, 112_826);
    assert_eq!(e.region_names.len(), 12);

    let (dir, summary) = run("netflix", "regions", &options(8, 100, 30, 2));
    assert_eq!(summary.instances, 8 * 96 + 2);
    let (nodes, _) = graph_of(&dir.join("graph.json"));
    let regions: BTreeSet<&str> = nodes.keys().map(|n| n.split('.').nth(1).unwrap()).collect();
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        [
            "*",
            "ap-southeast-1",
            "ap-southeast-2",
            "eu-central-1",
            "eu-west-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2"
        ]
    );
    let graph = std::fs::read_to_string(dir.join("graph.json")).unwrap();
    assert!(graph.contains(r#""node":"netflix.us-west-1.zoneA."#));
    assert!(graph.contains(r#""metadata":"IP/10.0."#));
    std::fs::remove_dir_all(&dir).ok();
}

/// The command line: `simulate` writes the three files, `stats` reads them with no warnings and
/// `deps --level service` gives lamp's four dependencies.
#[test]
fn command_line_simulate_then_stats() {
    let dir = out_dir("cli");
    let bin = env!("CARGO_BIN_EXE_flowscope");
    let arch = arch_file("lamp");
    let out = Command::new(bin)
        .args([
            "simulate",
            arch.to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
        ])
        .args(["--traces", "30", "--seed", "9"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("23 instances, 73 edges"), "{said}");
    let stats = Command::new(bin)
        .args(["stats", "--json", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(stats.status.success());
    let v: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 3);
    assert_eq!(v["total"]["warnings"], serde_json::json!({}));
    assert_eq!(v["total"]["instances"], 23);
    let deps = Command::new(bin)
        .args(["deps", "--level", "service"])
        .arg(dir.join("flow.json"))
        .output()
        .unwrap();
    assert!(deps.status.success());
    let links: Vec<serde_json::Value> = serde_json::from_slice(&deps.stdout).unwrap();
    let pairs: BTreeSet<(String, String)> = links
        .iter()
        .map(|l| {
            (
                l["parent"].as_str().unwrap().to_owned(),
                l["child"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(pairs, arch_dependencies("lamp"));
    let bad = Command::new(bin)
        .args([
            "simulate",
            "/nonexistent/arch.json",
            "-o",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/arch.json"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Every architecture shipped with Spigo simulates: as many instances and edges as the reader's
/// expansion, and flows (where the last service sends any) that read back with no warnings.
#[test]
fn every_shipped_architecture_simulates() {
    let Some(shared) = crate::common::shared_traces() else {
        return;
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(shared.join("spigo/arch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 15);
    for path in paths {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let dir = out_dir(&format!("shipped-{name}"));
        let summary = simulate(&path, &dir, &options(1, 100, 40, 1)).unwrap();
        let (_, expanded, _) = read(&path);
        assert_eq!(summary.instances as usize, expanded.nodes.len(), "{name}");
        assert_eq!(summary.edges as usize, expanded.edges.len(), "{name}");
        if summary.spans > 0 {
            let (format, _, report) = read(&dir.join("flow.json"));
            assert_eq!(format, Format::ZipkinV1, "{name}");
            assert_eq!(report.total(), 0, "{name}: {:?}", report.examples);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
