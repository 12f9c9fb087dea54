//! Spigo architecture definitions (`*_arch.json`), expanded into the instances and edges a Spigo run would produce.
//!
//! The rules follow `asgard.Create`, `asgard.StartNode`, eureka and `handlers.NameDrop` (README §1):
//! - a service has `count*p/100` instances per region, numbered on across regions, zone `i % 3`;
//!   `count 0` is one zone-`*` node per region, `regions 0` one global node (region and zone `*`);
//! - every instance registers with the eureka of its zone (zone-`*`: all of its region; global or
//!   depending on `"eureka"`: all of them), and eureka replicates within a region;
//! - an instance connects to each dependency instance registered in a region whose eureka it knows,
//!   except itself; karyon and zuul (and any package not listed as cross-zone) only in their own zone.
//!
//! Checked against every shipped and generated graph file without `-f`: the node and edge sets are equal.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::super::json::{CowStr, Num};
use super::super::report::{Report, WarningKind};
use super::super::zipkin_v2::json_error_kind;
use crate::model::{Batch, DeclaredEdge, DeclaredNode, FileId, NameLevel, Sym};

/// Spigo's region names (`archaius.Conf.RegionNames`); `-w N` uses the first N.
pub const REGION_NAMES: [&str; 6] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// Spigo's zone names: always three per region.
pub const ZONE_NAMES: [&str; 3] = ["zoneA", "zoneB", "zoneC"];

/// The packages Spigo knows (`actors/packagenames`).
pub const PACKAGES: [&str; 13] = crate::model::batch::SPIGO_PACKAGES;

/// Packages whose `NameDrop` handler passes `crosszone`: they connect to dependency instances in
/// every zone they can see. riak, cache and volume run the priamCassandra and store code.
const CROSS_ZONE: [&str; 9] = [
    "denominator",
    "elb",
    "monolith",
    "staash",
    "store",
    "priamCassandra",
    "riak",
    "volume",
    "cache",
];

/// More instances than this are not created (Spigo would try; a viewer should not run out of memory).
const MAX_INSTANCES: usize = 200_000;
/// More edges than this are not created.
const MAX_EDGES: usize = 10_000_000;
/// More instance pairs than this are not examined (most may be refused, e.g. by zone).
const MAX_PAIRS: usize = 100_000_000;

/// Spigo's scaling controls for an expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchOptions {
    /// `-p`: every `count` becomes `count * scale_percent / 100` (integer division).
    pub scale_percent: u32,
    /// `-w`: how many of [`REGION_NAMES`] are used, 1–6 (other values are clamped).
    pub regions: usize,
}

impl Default for ArchOptions {
    fn default() -> Self {
        Self {
            scale_percent: 100,
            regions: 1,
        }
    }
}

/// Reads an architecture file and expands it with explicit scaling (`-p`, `-w`).
pub fn read_arch_with(bytes: &[u8], options: &ArchOptions, report: &mut Report) -> Batch {
    read(bytes, options, report)
}

#[derive(Deserialize)]
struct ArchFile<'a> {
    #[serde(borrow, default)]
    arch: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    services: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct ServiceDef<'a> {
    #[serde(borrow, default)]
    name: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    package: Option<CowStr<'a>>,
    #[serde(default)]
    regions: Option<Num>,
    #[serde(default)]
    count: Option<Num>,
    #[serde(borrow, default)]
    dependencies: Option<Vec<CowStr<'a>>>,
}

/// A service that passed the checks.
struct Service<'a> {
    def: &'a ServiceDef<'a>,
    name: &'a str,
    package: &'a str,
    count: i64,
    regions: i64,
    /// Dependency names as written, `"eureka"` and repeats removed.
    dependencies: Vec<&'a str>,
    /// Depends on `"eureka"`: registers with, and looks up in, every region.
    cross_region: bool,
    /// Instances, as a range of the instance list.
    instances: std::ops::Range<usize>,
}

/// Which regions' eurekas an instance talks to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reach {
    /// Every region's.
    All,
    /// One region's (by index).
    Region(usize),
    /// None: the region has no eureka (a service's `regions` beyond `-w`).
    Nowhere,
}

impl Reach {
    fn meets(self, other: Self) -> bool {
        match (self, other) {
            (Self::Nowhere, _) | (_, Self::Nowhere) => false,
            (Self::All, _) | (_, Self::All) => true,
            (Self::Region(a), Self::Region(b)) => a == b,
        }
    }
}

/// One expanded instance.
struct Instance {
    name: Sym,
    /// Zone index; `None` for `*`.
    zone: Option<usize>,
    reach: Reach,
}

/// The arch name as a safe first name field: the `arch` value, or for compose2arch's file paths
/// (`../compose/compose_yaml/test.yml`) the file's stem, since a dot would break the 9-field name.
fn arch_name(arch: Option<&str>) -> String {
    let raw = arch.unwrap_or_default();
    let stem = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let stem = stem.split('.').next().unwrap_or(stem).trim();
    if stem.is_empty() {
        "arch".to_owned()
    } else {
        stem.to_owned()
    }
}

fn int(n: Option<Num>, what: &str, service: &str, report: &mut Report) -> Option<i64> {
    match n {
        None => Some(0),
        Some(Num(Some(v))) if v >= 0 => Some(v),
        Some(_) => {
            report.warn(WarningKind::BadArchitecture, || {
                format!("service {service} has a {what} that is not a count; it is skipped")
            });
            None
        }
    }
}

/// Checks the services as Spigo's `ReadArch` does (there each failure is fatal; here the broken
/// part is skipped with a warning).
fn check_services<'a>(defs: &'a [ServiceDef<'a>], report: &mut Report) -> Vec<Service<'a>> {
    // Every name declared, even of a service skipped for its package, as `ReadArch` checks it.
    let mut declared: Vec<&str> = vec!["eureka"];
    let mut services = Vec::new();
    for def in defs {
        let name = def.name.as_ref().map_or("", |n| n.0.as_ref());
        if name.is_empty() || name.contains(['.', ' ']) {
            report.warn(WarningKind::BadArchitecture, || {
                format!("service name {name:?} is empty or has a dot or space; it is skipped")
            });
            continue;
        }
        if declared.contains(&name) {
            report.warn(WarningKind::BadArchitecture, || {
                format!("duplicate service name {name}; the first is kept")
            });
            continue;
        }
        declared.push(name);
        let package = def.package.as_ref().map_or("", |p| p.0.as_ref());
        if !PACKAGES.contains(&package) {
            report.warn(WarningKind::BadArchitecture, || {
                format!("service {name} has unknown package {package:?}; it is skipped")
            });
            continue;
        }
        let (Some(count), Some(regions)) = (
            int(def.count, "count", name, report),
            int(def.regions, "regions", name, report),
        ) else {
            continue;
        };
        services.push(Service {
            def,
            name,
            package,
            count,
            regions,
            dependencies: Vec::new(),
            cross_region: false,
            instances: 0..0,
        });
    }
    // Dependencies, once every name is known.
    for service in &mut services {
        for dep in service.def.dependencies.iter().flatten() {
            let dep = dep.0.as_ref();
            if dep == "eureka" {
                service.cross_region = true;
            } else if !declared.contains(&dep) {
                report.warn(WarningKind::BadArchitecture, || {
                    format!(
                        "service {} depends on unknown service {dep:?}",
                        service.name
                    )
                });
            } else if !service.dependencies.contains(&dep) {
                service.dependencies.push(dep);
            }
        }
    }
    services
}

/// Reads and expands an architecture file.
pub(super) fn read(bytes: &[u8], options: &ArchOptions, report: &mut Report) -> Batch {
    let mut batch = Batch::default();
    let file: ArchFile<'_> = match serde_json::from_slice(bytes) {
        Ok(f) => f,
        Err(e) => {
            report.warn(json_error_kind(&e), || {
                format!("not a Spigo architecture: {e}")
            });
            return batch;
        }
    };
    let mut defs = Vec::new();
    for raw in file.services.iter().flatten() {
        match serde_json::from_str::<ServiceDef<'_>>(raw.get()) {
            Ok(def) => defs.push(def),
            Err(e) => report.warn(WarningKind::BadArchitecture, || {
                format!("a service that cannot be read ({e}) is skipped")
            }),
        }
    }
    if file.services.is_none() {
        report.warn(WarningKind::BadArchitecture, || {
            "the architecture has no services".to_owned()
        });
    }
    let arch = arch_name(file.arch.as_ref().map(|a| a.0.as_ref()));
    let mut services = check_services(&defs, report);
    let instances = expand(&arch, &mut services, options, &mut batch, report);
    connect(&services, &instances, &mut batch, report);
    batch
}

/// Creates the instances, service by service in file order, and declares those Spigo would register.
fn expand(
    arch: &str,
    services: &mut [Service<'_>],
    options: &ArchOptions,
    batch: &mut Batch,
    report: &mut Report,
) -> Vec<Instance> {
    let used_regions = options.regions.clamp(1, REGION_NAMES.len());
    let scale = i64::from(options.scale_percent);
    let mut instances: Vec<Instance> = Vec::new();
    let mut capped = false;
    for service in services.iter_mut() {
        let start = instances.len();
        let count = service.count.saturating_mul(scale) / 100;
        let mut regions = service.regions.saturating_mul(used_regions as i64);
        if regions > REGION_NAMES.len() as i64 {
            report.warn(WarningKind::BadArchitecture, || {
                format!(
                    "service {} asks for {regions} regions; Spigo has {}",
                    service.name,
                    REGION_NAMES.len()
                )
            });
            regions = REGION_NAMES.len() as i64;
        }
        let package = batch.sym(service.package);
        // A package-eureka service runs as an extra registry, which is never in the graph.
        let hidden = service.package == "eureka";
        let reach = |region: Option<usize>| match region {
            None => Reach::All,
            Some(_) if service.cross_region => Reach::All,
            Some(r) if r < used_regions => Reach::Region(r),
            Some(_) => Reach::Nowhere,
        };
        // (region, zone, index) of each instance: one global node, or per region one zone-`*`
        // node or `count` numbered on across regions.
        let regions = regions.max(0) as usize;
        let global = (regions == 0).then_some((None, None, 0));
        let per_region = if count == 0 { 1 } else { count };
        let regional = (0..regions).flat_map(|r| {
            (0..per_region).map(move |k| {
                if count == 0 {
                    (Some(r), None, 0)
                } else {
                    let index = r as i64 * count + k;
                    (Some(r), Some((index % 3) as usize), index)
                }
            })
        });
        let total = if regions == 0 {
            1
        } else {
            (regions as i64).saturating_mul(per_region)
        };
        let room = MAX_INSTANCES.saturating_sub(instances.len());
        if total > room as i64 {
            capped = true;
        }
        let slots = global.into_iter().chain(regional).take(room);
        for (region, zone, index) in slots {
            let region_name = region.and_then(|r| REGION_NAMES.get(r)).unwrap_or(&"*");
            let zone_name = zone.and_then(|z| ZONE_NAMES.get(z)).unwrap_or(&"*");
            let name = format!(
                "{arch}.{region_name}.{zone_name}..{}{index:02}...{}.{}",
                service.name, service.name, service.package
            );
            let instance = Instance {
                name: batch.sym(&name),
                zone,
                reach: if hidden {
                    Reach::Nowhere
                } else {
                    reach(region)
                },
            };
            if instance.reach != Reach::Nowhere {
                batch.nodes.push(DeclaredNode {
                    name: instance.name,
                    level: NameLevel::Instance,
                    package: Some(package),
                    ip: None,
                    done: false,
                    timestamp_micros: None,
                    file: FileId(0),
                });
            }
            instances.push(instance);
        }
        service.instances = start..instances.len();
    }
    if capped {
        report.warn(WarningKind::BadArchitecture, || {
            format!("the expansion stops at {MAX_INSTANCES} instances")
        });
    }
    instances
}

/// Adds an edge for every instance pair Spigo's discovery would connect, caller → callee.
fn connect(
    services: &[Service<'_>],
    instances: &[Instance],
    batch: &mut Batch,
    report: &mut Report,
) {
    let mut capped = false;
    let mut pairs = 0usize;
    'services: for service in services {
        let cross_zone = CROSS_ZONE.contains(&service.package);
        // A pirate logs its dependencies by service name instead of looking them up.
        if service.package == "pirate" {
            continue;
        }
        let deps: Vec<&Service<'_>> = service
            .dependencies
            .iter()
            .filter_map(|d| services.iter().find(|s| s.name == *d))
            .collect();
        for c in service.instances.clone() {
            let Some(caller) = instances.get(c) else {
                continue;
            };
            if caller.reach == Reach::Nowhere {
                continue;
            }
            for dep in &deps {
                pairs += dep.instances.len();
                if pairs > MAX_PAIRS {
                    capped = true;
                    break 'services;
                }
                for x in dep.instances.clone() {
                    let Some(callee) = instances.get(x) else {
                        continue;
                    };
                    if x == c
                        || !caller.reach.meets(callee.reach)
                        || !(cross_zone || caller.zone == callee.zone)
                    {
                        continue;
                    }
                    if batch.edges.len() >= MAX_EDGES {
                        capped = true;
                        break 'services;
                    }
                    batch.edges.push(DeclaredEdge {
                        source: caller.name,
                        target: callee.name,
                        level: NameLevel::Instance,
                        calls: 1,
                        errors: 0,
                        file: FileId(0),
                    });
                }
            }
        }
    }
    if capped {
        report.warn(WarningKind::BadArchitecture, || {
            format!("the expansion stops at {MAX_EDGES} edges or {MAX_PAIRS} instance pairs")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(json: &str, options: &ArchOptions) -> (Batch, Report) {
        let mut report = Report::default();
        let batch = read(json.as_bytes(), options, &mut report);
        (batch, report)
    }

    fn one_region(json: &str) -> (Batch, Report) {
        expand_str(json, &ArchOptions::default())
    }

    fn names(b: &Batch) -> Vec<&str> {
        b.nodes.iter().map(|n| b.interner.resolve(n.name)).collect()
    }

    fn pairs(b: &Batch) -> Vec<(String, String)> {
        let short = |s| {
            let n = crate::model::SpigoName::parse_full(b.interner.resolve(s)).unwrap();
            format!("{}.{}", n.zone, n.instance)
        };
        b.edges
            .iter()
            .map(|e| (short(e.source), short(e.target)))
            .collect()
    }

    /// Instance names, zone round-robin, numbering that continues across regions, `*` nodes.
    #[test]
    fn instances_are_numbered_and_zoned_as_spigo_does() {
        let (b, r) = expand_str(
            r#"{"arch":"t","services":[
                {"name":"db","package":"store","count":4,"regions":1},
                {"name":"lb","package":"elb","count":0,"regions":1},
                {"name":"dns","package":"denominator","count":0,"regions":0}]}"#,
            &ArchOptions {
                scale_percent: 100,
                regions: 2,
            },
        );
        assert_eq!(r.total(), 0);
        assert_eq!(
            names(&b),
            vec![
                "t.us-east-1.zoneA..db00...db.store",
                "t.us-east-1.zoneB..db01...db.store",
                "t.us-east-1.zoneC..db02...db.store",
                "t.us-east-1.zoneA..db03...db.store",
                "t.us-west-2.zoneB..db04...db.store",
                "t.us-west-2.zoneC..db05...db.store",
                "t.us-west-2.zoneA..db06...db.store",
                "t.us-west-2.zoneB..db07...db.store",
                "t.us-east-1.*..lb00...lb.elb",
                "t.us-west-2.*..lb00...lb.elb",
                "t.*.*..dns00...dns.denominator",
            ]
        );
        assert_eq!(b.interner.resolve(b.nodes[0].package.unwrap()), "store");
    }

    /// karyon and zuul call only dependency instances in their own zone; monolith calls every zone.
    #[test]
    fn zone_local_and_cross_zone_packages() {
        let (b, _) = one_region(
            r#"{"arch":"t","services":[
                {"name":"db","package":"store","count":3,"regions":1},
                {"name":"k","package":"karyon","count":3,"regions":1,"dependencies":["db"]},
                {"name":"m","package":"monolith","count":3,"regions":1,"dependencies":["db"]}]}"#,
        );
        let edges = pairs(&b);
        assert_eq!(edges.len(), 3 + 9);
        assert!(edges.contains(&("zoneB.k01".to_owned(), "zoneB.db01".to_owned())));
        assert!(!edges.contains(&("zoneB.k01".to_owned(), "zoneA.db00".to_owned())));
        assert!(edges.contains(&("zoneB.m01".to_owned(), "zoneA.db00".to_owned())));
    }

    /// A zone-`*` elb is not in any one zone, so a karyon never reaches it; a denominator does.
    #[test]
    fn cross_zone_nodes_and_zone_local_callers() {
        let (b, _) = one_region(
            r#"{"arch":"t","services":[
                {"name":"lb","package":"elb","count":0,"regions":1},
                {"name":"k","package":"karyon","count":3,"regions":1,"dependencies":["lb"]},
                {"name":"www","package":"denominator","count":0,"regions":0,"dependencies":["lb"]}]}"#,
        );
        assert_eq!(pairs(&b), vec![("*.www00".to_owned(), "*.lb00".to_owned())]);
    }

    /// A self-dependency links peers, never an instance to itself.
    #[test]
    fn self_dependencies_are_peer_edges() {
        let (b, _) = one_region(
            r#"{"arch":"t","services":[
                {"name":"db","package":"store","count":3,"regions":1,"dependencies":["db","db"]}]}"#,
        );
        assert_eq!(b.edges.len(), 6);
        assert!(b.edges.iter().all(|e| e.source != e.target));
    }

    /// `"eureka"` makes a service see (and be seen) in every region; otherwise regions are apart.
    #[test]
    fn eureka_dependency_crosses_regions() {
        let two = ArchOptions {
            scale_percent: 100,
            regions: 2,
        };
        let ring = |deps: &str| {
            let json = format!(
                r#"{{"arch":"t","services":[{{"name":"c","package":"priamCassandra","count":3,"regions":1,"dependencies":{deps}}}]}}"#
            );
            expand_str(&json, &two).0.edges.len()
        };
        assert_eq!(ring(r#"["c"]"#), 2 * 3 * 2);
        assert_eq!(ring(r#"["c","eureka"]"#), 6 * 5);
    }

    /// `-p` scales counts with integer division; a count that rounds to 0 becomes one zone-`*` node.
    #[test]
    fn scaling_rounds_down() {
        let json =
            r#"{"arch":"t","services":[{"name":"db","package":"store","count":2,"regions":1}]}"#;
        let scaled = |scale_percent| {
            let options = ArchOptions {
                scale_percent,
                regions: 1,
            };
            let (b, _) = expand_str(json, &options);
            names(&b).into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(scaled(30), vec!["t.us-east-1.*..db00...db.store"]);
        assert_eq!(scaled(150).len(), 3);
    }

    /// compose2arch writes file paths into `arch`; the name field keeps only the file's stem.
    #[test]
    fn arch_names_are_safe_name_fields() {
        assert_eq!(arch_name(Some("../compose/compose_yaml/test.yml")), "test");
        assert_eq!(arch_name(Some("simpleV2.yml")), "simpleV2");
        assert_eq!(arch_name(Some("netflixoss")), "netflixoss");
        assert_eq!(arch_name(None), "arch");
    }

    /// Instances in a region without a eureka (`regions` beyond `-w`) never register, unless they
    /// depend on `"eureka"`; package-eureka services are registries, never nodes; pirates log no edges.
    #[test]
    fn what_spigo_never_shows() {
        let (b, r) = one_region(
            r#"{"arch":"t","services":[
                {"name":"db","package":"store","count":1,"regions":2},
                {"name":"ring","package":"riak","count":1,"regions":2,"dependencies":["eureka"]},
                {"name":"reg","package":"eureka","count":3,"regions":1},
                {"name":"p","package":"pirate","count":1,"regions":1,"dependencies":["db"]}]}"#,
        );
        assert_eq!(r.total(), 0);
        assert_eq!(
            names(&b),
            vec![
                "t.us-east-1.zoneA..db00...db.store",
                "t.us-east-1.zoneA..ring00...ring.riak",
                "t.us-west-2.zoneB..ring01...ring.riak",
                "t.us-east-1.zoneA..p00...p.pirate",
            ]
        );
        assert!(b.edges.is_empty());
    }

    /// Broken services are skipped with a warning each; the rest expands.
    #[test]
    fn architecture_errors_skip_the_broken_part() {
        let (b, r) = one_region(
            r#"{"arch":"t","services":[
                {"name":"db","package":"store","count":1,"regions":1},
                {"name":"db","package":"store","count":1,"regions":1},
                {"name":"eureka","package":"store","count":1,"regions":1},
                {"name":"x","package":"Store","count":1,"regions":1},
                {"name":"a.b","package":"store","count":1,"regions":1},
                {"name":"neg","package":"store","count":-1,"regions":1},
                {"name":"app","package":"monolith","count":1,"regions":1,"dependencies":["db","x","nope"]},
                {"name":"y","package":"store","count":1,"dependencies":[1]},
                "not a service"]}"#,
        );
        // Duplicate db, "eureka" taken, unknown package Store, a dot, a negative count, unknown
        // dependencies nope and 1 (a number read as a name), and a service that is not an object.
        assert_eq!(r.count(WarningKind::BadArchitecture), 8, "{:?}", r.examples);
        assert_eq!(names(&b)[2], "t.*.*..y00...y.store");
        assert_eq!(
            pairs(&b),
            vec![("zoneA.app00".to_owned(), "zoneA.db00".to_owned())]
        );

        let (b, r) = one_region(r#"{"arch":"t"}"#);
        assert!(b.nodes.is_empty());
        assert_eq!(r.count(WarningKind::BadArchitecture), 1);
        let (_, r) = one_region(r#"{"arch":"t","services":["#);
        assert_eq!(r.total(), 1);
    }

    /// Huge counts stop at the instance limit instead of exhausting memory.
    #[test]
    fn huge_counts_are_capped() {
        let (b, r) = one_region(
            r#"{"arch":"t","services":[{"name":"db","package":"store","count":9000000000000000000,"regions":1}]}"#,
        );
        assert_eq!(b.nodes.len(), MAX_INSTANCES);
        assert_eq!(r.count(WarningKind::BadArchitecture), 1);
    }
}
