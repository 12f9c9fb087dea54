//! `flowscope simulate`: expands a Spigo architecture and writes the graph and flows Spigo would.
//!
//! Output in a directory: `arch.json` (the definition used, as read), `graph.json` (Spigo's `-j`
//! layout) and `flow.json` (Zipkin v1 as Spigo writes it, or Zipkin v2). The same seed gives
//! byte-identical files: every choice comes from one seeded generator, nothing from the clock.
//!
//! Where it differs from a Spigo run: records are in a fixed order (nodes, edges, the victim's
//! `done`, the shutdown's `done`s) with made-up but monotonic timestamps; the last service sends
//! traffic whatever its package (Spigo only sends from a denominator); no setup messages (`Hello`,
//! `NameDrop`) use span ids; and past `max_edges` each instance keeps only some callees per
//! dependency, which the flows then also use.

pub mod rng;
pub mod router;
pub mod time;
pub mod traffic;
pub mod write;

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::ingest::Report;
use crate::ingest::spigo::{ArchOptions, ExpandLimits, Expansion, expand_arch};
use rng::{SplitMix64, mix};
use router::{Router, UNLIMITED};
use traffic::Traffic;
pub use write::FlowFormat;
use write::{FlowWriter, GraphWriter, json_string};

/// Most regions the simulator makes.
pub const MAX_REGIONS: usize = 1000;
/// Most instances the simulator makes.
pub const MAX_INSTANCES: usize = 2_000_000;
/// Default cap on the graph's edge records (see [`SimOptions::max_edges`]).
pub const DEFAULT_MAX_EDGES: u64 = 2_000_000;

/// Spigo's per-region, per-zone /16 prefixes (`archaius.Conf.IPRanges`).
const IP_RANGES: [[&str; 3]; 6] = [
    ["54.198.", "54.221.", "50.19."],
    ["54.245.", "54.244.", "54.214."],
    ["54.247.", "54.246.", "54.288."],
    ["54.93.", "54.28.", "54.78."],
    ["54.251.", "54.254.", "54.255."],
    ["54.252.", "54.253.", "54.206."],
];

/// 2016-12-04T00:00:00Z in µs, the week of Spigo's last commit; runs start on that day.
const BASE_MICROS: i64 = 1_480_809_600_000_000;
/// Spigo's default chat interval of the traffic source (`-kv chat:10ms`).
const INTERVAL_MICROS: i64 = 10_000;

/// What to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// `-p` and `-w`: scale of every count and number of regions (any number, past Spigo's six).
    pub arch: ArchOptions,
    /// Requests sent by the traffic source.
    pub traces: u64,
    /// Seed of every random choice and of the start time.
    pub seed: u64,
    /// Format of `flow.json`.
    pub format: FlowFormat,
    /// Kill the arch file's chaos-monkey victim half-way.
    pub victim: bool,
    /// Most edge records in `graph.json`: when Spigo's rule would give more, each instance keeps
    /// connections to at most N instances of each dependency (N as large as fits).
    pub max_edges: u64,
    /// Print progress on stderr for runs over a second.
    pub progress: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            arch: ArchOptions::default(),
            traces: 500,
            seed: 1,
            format: FlowFormat::ZipkinV1,
            victim: true,
            max_edges: DEFAULT_MAX_EDGES,
            progress: false,
        }
    }
}

/// What a simulation wrote.
#[derive(Debug, Default)]
pub struct Summary {
    /// Instances in the graph (eureka and unregistered ones left out).
    pub instances: u64,
    /// Edge records.
    pub edges: u64,
    /// The fan-out cap used, `None` when Spigo's rule was written in full.
    pub fanout: Option<usize>,
    /// Traces in the flow (the Goodbye included).
    pub traces: u64,
    /// Spans in the flow (in Zipkin v2, CLIENT and SERVER halves counted apart).
    pub spans: u64,
    /// The victim's 4-field name, when one was killed.
    pub victim: Option<String>,
    /// When the victim was killed (µs since the epoch).
    pub victim_killed_micros: Option<i64>,
    /// Bytes of `graph.json`.
    pub graph_bytes: u64,
    /// Bytes of `flow.json`.
    pub flow_bytes: u64,
    /// Problems with the architecture file.
    pub report: Report,
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The architecture file could not be read.
    #[error("cannot read the architecture ({source}): {path}")]
    Read {
        /// The OS error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// The architecture gives nothing to simulate.
    #[error("{reason}: {path}")]
    Arch {
        /// Why.
        reason: String,
        /// The file.
        path: PathBuf,
    },
    /// An output file could not be written.
    #[error("cannot write ({source}): {path}")]
    Write {
        /// The OS error.
        source: std::io::Error,
        /// The file or directory.
        path: PathBuf,
    },
}

/// The per-instance strings the writers need.
struct Labels {
    /// 4-field names as JSON literals.
    short: Vec<String>,
    /// Packages as JSON literals, per service.
    packages: Vec<String>,
    /// IPs of the graph records (keyed by the filtered name in Spigo).
    graph_ip: Vec<String>,
    /// Endpoint objects of the flows (full name, its own IP).
    endpoints: Vec<String>,
}

/// Spigo's dhcp: a counter per (region, zone) after its /16 prefix; `*` and unknown names fall
/// back to index 0; regions past Spigo's six get `10.<n>.` prefixes.
struct Dhcp {
    allocated: Vec<[u32; 3]>,
}

impl Dhcp {
    fn lookup(&mut self, region: Option<usize>, zone: Option<usize>) -> String {
        let (ri, zi) = (region.unwrap_or(0), zone.unwrap_or(0).min(2));
        if self.allocated.len() <= ri {
            self.allocated.resize(ri + 1, [0; 3]);
        }
        let node = self
            .allocated
            .get_mut(ri)
            .and_then(|r| r.get_mut(zi))
            .map_or(0, |n| {
                *n += 1;
                *n
            });
        let prefix = match IP_RANGES.get(ri).and_then(|r| r.get(zi)) {
            Some(p) => (*p).to_owned(),
            None => format!("10.{}.", ((ri - IP_RANGES.len()) * 3 + zi) % 256),
        };
        format!("{prefix}{}.{}", node / 256, node % 256)
    }
}

fn labels(e: &Expansion) -> Labels {
    let mut dhcp = Dhcp {
        allocated: Vec::new(),
    };
    let n = e.instances.len();
    let mut graph_ip = vec![String::new(); n];
    let mut endpoints = vec![String::new(); n];
    let mut short = vec![String::new(); n];
    for (i, instance) in e.instances.iter().enumerate() {
        if e.visible(i) {
            if let Some(slot) = graph_ip.get_mut(i) {
                *slot = dhcp.lookup(instance.region, instance.zone);
            }
            if let Some(slot) = short.get_mut(i) {
                *slot = json_string(&e.short_name(i));
            }
        }
    }
    for (i, instance) in e.instances.iter().enumerate() {
        if e.visible(i)
            && let Some(slot) = endpoints.get_mut(i)
        {
            *slot = format!(
                "{{\"serviceName\":{},\"ipv4\":\"{}\",\"port\":8080}}",
                json_string(&e.full_name(i)),
                dhcp.lookup(instance.region, instance.zone)
            );
        }
    }
    Labels {
        short,
        packages: e.services.iter().map(|s| json_string(&s.package)).collect(),
        graph_ip,
        endpoints,
    }
}

/// Prints a progress line at most once a second, starting after the first second.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        let now = Instant::now();
        Self {
            enabled,
            started: now,
            last: now,
        }
    }

    fn tick(&mut self, line: impl FnOnce() -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started) >= Duration::from_secs(1)
            && now.duration_since(self.last) >= Duration::from_secs(1)
        {
            self.last = now;
            eprintln!(
                "flowscope: simulate: {} ({:.1} s)",
                line(),
                now.duration_since(self.started).as_secs_f64()
            );
        }
    }
}

/// Packages whose instances send `Delete` on Goodbye, so a `done` record appears for them.
fn sends_done(package: &str) -> bool {
    matches!(package, "karyon" | "monolith" | "staash" | "zuul")
}

/// Reads `arch_path`, expands it and writes `arch.json`, `graph.json` and `flow.json` into `out_dir`.
pub fn simulate(
    arch_path: &Path,
    out_dir: &Path,
    options: &SimOptions,
) -> Result<Summary, SimulateError> {
    let bytes = std::fs::read(arch_path).map_err(|source| SimulateError::Read {
        source,
        path: arch_path.to_path_buf(),
    })?;
    let mut summary = Summary::default();
    let limits = ExpandLimits {
        max_regions: MAX_REGIONS,
        max_instances: MAX_INSTANCES,
    };
    let expansion = expand_arch(&bytes, &options.arch, &limits, &mut summary.report);
    let visible: Vec<usize> = (0..expansion.instances.len())
        .filter(|&i| expansion.visible(i))
        .collect();
    if visible.is_empty() {
        let reason = summary.report.examples.first().map_or_else(
            || "the architecture expands to no instances".to_owned(),
            |first| format!("the architecture expands to no instances ({first})"),
        );
        return Err(SimulateError::Arch {
            reason,
            path: arch_path.to_path_buf(),
        });
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimulateError::Write { source, path }
    };
    std::fs::create_dir_all(out_dir).map_err(write_err(out_dir))?;
    let arch_out = out_dir.join("arch.json");
    std::fs::write(&arch_out, &bytes).map_err(write_err(&arch_out))?;

    let mut progress = Progress::new(options.progress);
    let mut router = Router::new(&expansion);
    let fanout = router.limit_edges(options.max_edges);
    summary.fanout = (fanout != UNLIMITED).then_some(fanout);
    summary.edges = router.edge_count(fanout);
    summary.instances = visible.len() as u64;
    let mut labels = labels(&expansion);

    // Timeline: registrations, then connections, then traffic every 10 ms.
    let start_micros = BASE_MICROS + (mix(options.seed) % 86_400_000_000) as i64;
    let nodes_nanos = start_micros * 1000 + 1_000_000;
    let node_step = 50_000;
    let edges_nanos = nodes_nanos + visible.len() as i64 * node_step + 1_000_000;
    let edge_step = 2_000;
    let traffic_micros =
        (edges_nanos + summary.edges as i64 * edge_step) / 1000 + 100_000 + INTERVAL_MICROS;

    // Flows.
    let flow_path = out_dir.join("flow.json");
    let file = File::create(&flow_path).map_err(write_err(&flow_path))?;
    let mut flow = FlowWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        options.format,
        std::mem::take(&mut labels.endpoints),
    )
    .map_err(write_err(&flow_path))?;
    let mut traffic = Traffic::new(router, mix(options.seed ^ 0x5EED));
    let victim = if options.victim {
        expansion
            .victim
            .as_deref()
            .and_then(|name| expansion.services.iter().position(|s| s.name == name))
            .and_then(|s| {
                let members: Vec<usize> = visible
                    .iter()
                    .copied()
                    .filter(|&i| expansion.instances.get(i).is_some_and(|x| x.service == s))
                    .collect();
                let k = traffic.rng().below(members.len());
                members.get(k).copied()
            })
    } else {
        None
    };
    let roots: Vec<usize> = expansion.services.last().map_or_else(Vec::new, |root| {
        root.instances
            .clone()
            .filter(|&i| expansion.visible(i) && Some(i) != victim)
            .collect()
    });
    let kill_at = options.traces / 2;
    let mut victim_last_micros = i64::MIN;
    let mut last_micros = traffic_micros;
    let mut killed: Option<i64> = None;
    for k in 0..=options.traces {
        let start = traffic_micros
            + k as i64 * INTERVAL_MICROS
            + traffic.rng().below_i64(INTERVAL_MICROS / 2);
        if k == kill_at
            && let Some(v) = victim
        {
            let at = start.max(victim_last_micros + 1);
            for span in traffic.goodbye(v, at) {
                summary.spans += flow.span(span).map_err(write_err(&flow_path))?;
            }
            summary.traces += 1;
            traffic.kill(v);
            killed = Some(at);
            last_micros = last_micros.max(at);
        }
        if k == options.traces {
            break;
        }
        let Some(&root) = roots.get(traffic.rng().below(roots.len())) else {
            continue;
        };
        let spans = traffic.trace(root, start);
        if !spans.is_empty() {
            summary.traces += 1;
        }
        for span in spans {
            for note in span.notes() {
                last_micros = last_micros.max(note.micros);
                if killed.is_none() && Some(note.instance) == victim {
                    victim_last_micros = victim_last_micros.max(note.micros);
                }
            }
            summary.spans += flow.span(span).map_err(write_err(&flow_path))?;
        }
        if k % 1024 == 0 {
            progress.tick(|| {
                format!(
                    "{k}/{} traces, {} spans written",
                    options.traces, summary.spans
                )
            });
        }
    }
    let mut out = flow.finish().map_err(write_err(&flow_path))?;
    out.flush().map_err(write_err(&flow_path))?;
    drop(out);
    summary.flow_bytes = file_len(&flow_path);
    summary.victim = victim.map(|v| expansion.short_name(v));
    summary.victim_killed_micros = killed;

    // The graph.
    let graph_path = out_dir.join("graph.json");
    let file = File::create(&graph_path).map_err(write_err(&graph_path))?;
    let args = format!(
        "[flowscope simulate -a {} -p {} -w {} --traces {} --seed {}{}{}]",
        expansion.arch,
        options.arch.scale_percent,
        options.arch.regions,
        options.traces,
        options.seed,
        if options.victim { "" } else { " --no-victim" },
        match options.format {
            FlowFormat::ZipkinV1 => "",
            FlowFormat::ZipkinV2 => " --format zipkin-v2",
        }
    );
    let mut graph = GraphWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        &expansion.arch,
        &args,
        start_micros * 1000,
    )
    .map_err(write_err(&graph_path))?;
    let mut jitter = SplitMix64::new(mix(options.seed ^ 0x6EA9));
    let package_of = |i: usize| {
        expansion
            .instances
            .get(i)
            .and_then(|x| labels.packages.get(x.service))
            .map_or("\"\"", String::as_str)
    };
    let short = |i: usize| labels.short.get(i).map_or("\"\"", String::as_str);
    for (n, &i) in visible.iter().enumerate() {
        let nanos = nodes_nanos + n as i64 * node_step + jitter.below_i64(node_step / 2);
        let ip = labels.graph_ip.get(i).map_or("", String::as_str);
        graph
            .node(short(i), package_of(i), nanos, ip)
            .map_err(write_err(&graph_path))?;
    }
    let mut traffic_router_edges = 0i64;
    let mut router = traffic.into_router();
    router
        .for_each_edge(|c, x| {
            let nanos =
                edges_nanos + traffic_router_edges * edge_step + jitter.below_i64(edge_step);
            traffic_router_edges += 1;
            if traffic_router_edges % 65_536 == 0 {
                progress.tick(|| format!("{traffic_router_edges} edges written"));
            }
            graph.edge(short(c), short(x), nanos)
        })
        .map_err(write_err(&graph_path))?;
    let service_package = |i: usize| {
        expansion
            .instances
            .get(i)
            .and_then(|x| expansion.services.get(x.service))
            .map_or("", |s| s.package.as_str())
    };
    if let (Some(v), Some(at)) = (victim, killed)
        && sends_done(service_package(v))
    {
        graph
            .done(short(v), at * 1000 + 14_000 + jitter.below_i64(1000))
            .map_err(write_err(&graph_path))?;
    }
    let end_nanos = (last_micros + 100_000) * 1000;
    let mut n = 0i64;
    for &i in &visible {
        if Some(i) != victim && sends_done(service_package(i)) {
            graph
                .done(short(i), end_nanos + n * 15_000 + jitter.below_i64(5_000))
                .map_err(write_err(&graph_path))?;
            n += 1;
        }
    }
    let mut out = graph.finish().map_err(write_err(&graph_path))?;
    out.flush().map_err(write_err(&graph_path))?;
    drop(out);
    summary.graph_bytes = file_len(&graph_path);
    Ok(summary)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
