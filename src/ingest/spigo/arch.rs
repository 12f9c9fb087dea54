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

use std::ops::Range;

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

/// More instances than this are not created by the reader (Spigo would try; a viewer should not
/// run out of memory).
const MAX_INSTANCES: usize = 200_000;
/// More edges than this are not created.
const MAX_EDGES: usize = 2_000_000;
/// More instance pairs than this are not examined (most may be refused, e.g. by zone).
const MAX_PAIRS: usize = 20_000_000;

/// Region names used after Spigo's six when more regions are asked for (`flowscope simulate`):
/// further real AWS regions, then `region-NN`.
const EXTRA_REGION_NAMES: [&str; 12] = [
    "us-west-1",
    "us-east-2",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "sa-east-1",
    "ca-central-1",
    "ap-east-1",
    "me-south-1",
];

/// The name of region `r` (0-based): Spigo's six, then twelve further AWS regions, then `region-NN`.
pub fn region_name(r: usize) -> String {
    if let Some(name) = REGION_NAMES.get(r) {
        return (*name).to_owned();
    }
    match EXTRA_REGION_NAMES.get(r.saturating_sub(REGION_NAMES.len())) {
        Some(name) => (*name).to_owned(),
        None => format!("region-{:02}", r + 1),
    }
}

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

/// How far an expansion may go: the reader keeps Spigo's six regions, the simulator goes beyond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpandLimits {
    /// Most regions (`-w` is clamped to this, and so is each service's `regions * -w`).
    pub max_regions: usize,
    /// Most instances; the expansion stops there with a warning.
    pub max_instances: usize,
}

impl ExpandLimits {
    /// Spigo's own limits: six regions, and the reader's instance cap.
    pub const SPIGO: Self = Self {
        max_regions: REGION_NAMES.len(),
        max_instances: MAX_INSTANCES,
    };
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
    victim: Option<CowStr<'a>>,
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
}

/// Which regions' eurekas an instance talks to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reach {
    /// Every region's.
    All,
    /// One region's (by index).
    Region(usize),
    /// None: the region has no eureka (a service's `regions` beyond `-w`), or a registry itself.
    Nowhere,
}

impl Reach {
    /// Whether two instances with these reaches learn of each other through some eureka.
    pub fn meets(self, other: Self) -> bool {
        match (self, other) {
            (Self::Nowhere, _) | (_, Self::Nowhere) => false,
            (Self::All, _) | (_, Self::All) => true,
            (Self::Region(a), Self::Region(b)) => a == b,
        }
    }
}

/// One service of an expanded architecture.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// Service name (8th name field).
    pub name: String,
    /// Package (9th name field).
    pub package: String,
    /// Dependencies as service indices, in file order, repeats and `"eureka"` removed (may hold itself).
    pub dependencies: Vec<usize>,
    /// Depends on `"eureka"`: sees and is seen in every region.
    pub cross_region: bool,
    /// Its package connects to dependency instances in every zone (not only its own).
    pub cross_zone: bool,
    /// `regions 0`: one global node (region and zone `*`).
    pub global: bool,
    /// Its instances, a range of [`Expansion::instances`].
    pub instances: Range<usize>,
    /// Its instances per region index (empty for a global service).
    pub region_ranges: Vec<Range<usize>>,
}

/// One expanded instance.
#[derive(Clone, Copy, Debug)]
pub struct InstanceSpec {
    /// Index of its service in [`Expansion::services`].
    pub service: usize,
    /// Region index; `None` for `*`.
    pub region: Option<usize>,
    /// Zone index into [`ZONE_NAMES`]; `None` for `*`.
    pub zone: Option<usize>,
    /// The number in its instance name (`webserver07` → 7).
    pub index: i64,
    /// Which eurekas it registers with.
    pub reach: Reach,
}

/// An architecture expanded into instances as `asgard.Create` does; the connection rule is
/// [`Expansion::connects`].
#[derive(Clone, Debug, Default)]
pub struct Expansion {
    /// The arch name (first name field).
    pub arch: String,
    /// The chaos-monkey victim service, if the file names one.
    pub victim: Option<String>,
    /// Services that passed the checks, in file order.
    pub services: Vec<ServiceSpec>,
    /// Instances, service by service.
    pub instances: Vec<InstanceSpec>,
    /// Names of the regions by index: the `-w` regions used, then any a service's `regions`
    /// reaches beyond them (whose instances have no eureka).
    pub region_names: Vec<String>,
    /// How many regions `-w` uses (each has its eurekas).
    pub used_regions: usize,
}

impl Expansion {
    /// The region field of an instance's name (`*` when not regional).
    pub fn region_field(&self, instance: &InstanceSpec) -> &str {
        instance
            .region
            .and_then(|r| self.region_names.get(r))
            .map_or("*", String::as_str)
    }

    /// What names of instance `i` are made of: its service, region field and zone field.
    fn name_parts(&self, i: usize) -> Option<(&ServiceSpec, &str, &str)> {
        let instance = self.instances.get(i)?;
        let service = self.services.get(instance.service)?;
        let zone = instance
            .zone
            .and_then(|z| ZONE_NAMES.get(z))
            .copied()
            .unwrap_or("*");
        Some((service, self.region_field(instance), zone))
    }

    /// The full 9-field name of instance `i`, as flows write it.
    pub fn full_name(&self, i: usize) -> String {
        let (Some((service, region, zone)), Some(instance)) =
            (self.name_parts(i), self.instances.get(i))
        else {
            return String::new();
        };
        format!(
            "{}.{region}.{zone}..{}{:02}...{}.{}",
            self.arch, service.name, instance.index, service.name, service.package
        )
    }

    /// The filtered 4-field name of instance `i` (`arch.region.zone.instance`), as graph files write it.
    pub fn short_name(&self, i: usize) -> String {
        let (Some((service, region, zone)), Some(instance)) =
            (self.name_parts(i), self.instances.get(i))
        else {
            return String::new();
        };
        format!(
            "{}.{region}.{zone}.{}{:02}",
            self.arch, service.name, instance.index
        )
    }

    /// Whether instance `i` registers with a eureka, i.e. appears in the graph.
    pub fn visible(&self, i: usize) -> bool {
        self.instances
            .get(i)
            .is_some_and(|x| x.reach != Reach::Nowhere)
    }

    /// Whether `caller` connects to `callee` once it knows of it (NameDrop): both registered where
    /// the other looks, not itself, and in the same zone unless the caller's package is cross-zone.
    /// Whether `callee`'s service is one of the caller's dependencies is not checked here.
    pub fn connects(&self, caller: usize, callee: usize) -> bool {
        caller != callee && self.rule(caller, callee)
    }

    /// [`Expansion::connects`] without the check that the two differ: the rule depends only on
    /// the caller's service and both instances' regions, zones and reaches.
    pub fn rule(&self, caller: usize, callee: usize) -> bool {
        let (Some(c), Some(x)) = (self.instances.get(caller), self.instances.get(callee)) else {
            return false;
        };
        let Some(service) = self.services.get(c.service) else {
            return false;
        };
        service.package != "pirate"
            && c.reach.meets(x.reach)
            && (service.cross_zone || c.zone == x.zone)
    }

    /// The instances of service `dep` that `caller` may connect to lie in this range: its region's
    /// instances unless either side sees every region.
    pub fn candidate_range(&self, caller: usize, dep: usize) -> Range<usize> {
        let Some(service) = self.services.get(dep) else {
            return 0..0;
        };
        let Some(c) = self.instances.get(caller) else {
            return 0..0;
        };
        match c.reach {
            Reach::Nowhere => 0..0,
            Reach::All => service.instances.clone(),
            Reach::Region(_) if service.cross_region || service.global => service.instances.clone(),
            Reach::Region(r) => service.region_ranges.get(r).cloned().unwrap_or(0..0),
        }
    }
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

/// Parses an architecture file and expands it into instances as Spigo's `asgard.Create` does,
/// within `limits` (the reader uses [`ExpandLimits::SPIGO`]; the simulator lifts the region cap).
pub fn expand_arch(
    bytes: &[u8],
    options: &ArchOptions,
    limits: &ExpandLimits,
    report: &mut Report,
) -> Expansion {
    let file: ArchFile<'_> = match serde_json::from_slice(bytes) {
        Ok(f) => f,
        Err(e) => {
            report.warn(json_error_kind(&e), || {
                format!("not a Spigo architecture: {e}")
            });
            return Expansion::default();
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
    let services = check_services(&defs, report);
    let mut expansion = expand(arch, &services, options, limits, report);
    expansion.victim = file
        .victim
        .map(|v| v.0.trim().to_owned())
        .filter(|v| !v.is_empty());
    expansion
}

/// Reads and expands an architecture file.
pub(super) fn read(bytes: &[u8], options: &ArchOptions, report: &mut Report) -> Batch {
    let expansion = expand_arch(bytes, options, &ExpandLimits::SPIGO, report);
    let mut batch = Batch::default();
    let mut names: Vec<Option<Sym>> = vec![None; expansion.instances.len()];
    // Interned in the order the reader always used: each service's package, then its instances.
    for service in &expansion.services {
        let package = batch.sym(&service.package);
        for i in service.instances.clone() {
            let name = batch.sym(&expansion.full_name(i));
            if let Some(slot) = names.get_mut(i) {
                *slot = Some(name);
            }
            if expansion.visible(i) {
                batch.nodes.push(DeclaredNode {
                    name,
                    level: NameLevel::Instance,
                    package: Some(package),
                    ip: None,
                    done: false,
                    done_micros: None,
                    timestamp_micros: None,
                    file: FileId(0),
                });
            }
        }
    }
    connect(&expansion, &names, &mut batch, report);
    batch
}

/// Creates the instances, service by service in file order.
fn expand(
    arch: String,
    services: &[Service<'_>],
    options: &ArchOptions,
    limits: &ExpandLimits,
    report: &mut Report,
) -> Expansion {
    let max_regions = limits.max_regions.max(1);
    let used_regions = options.regions.clamp(1, max_regions);
    let scale = i64::from(options.scale_percent);
    let mut out = Expansion {
        arch,
        used_regions,
        ..Expansion::default()
    };
    let mut capped = false;
    for service in services {
        let start = out.instances.len();
        let count = service.count.saturating_mul(scale) / 100;
        let mut regions = service.regions.saturating_mul(used_regions as i64);
        if regions > max_regions as i64 {
            report.warn(WarningKind::BadArchitecture, || {
                format!(
                    "service {} asks for {regions} regions; Spigo has {max_regions}",
                    service.name
                )
            });
            regions = max_regions as i64;
        }
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
        let room = limits.max_instances.saturating_sub(out.instances.len());
        if total > room as i64 {
            capped = true;
        }
        let service_index = out.services.len();
        let mut region_ranges: Vec<Range<usize>> = Vec::new();
        for (region, zone, index) in global.into_iter().chain(regional).take(room) {
            if let Some(r) = region {
                let here = out.instances.len();
                while region_ranges.len() <= r {
                    region_ranges.push(here..here);
                }
                if let Some(range) = region_ranges.get_mut(r) {
                    range.end = here + 1;
                }
            }
            out.instances.push(InstanceSpec {
                service: service_index,
                region,
                zone,
                index,
                reach: if hidden {
                    Reach::Nowhere
                } else {
                    reach(region)
                },
            });
        }
        out.services.push(ServiceSpec {
            name: service.name.to_owned(),
            package: service.package.to_owned(),
            dependencies: Vec::new(),
            cross_region: service.cross_region,
            cross_zone: CROSS_ZONE.contains(&service.package),
            global: regions == 0,
            instances: start..out.instances.len(),
            region_ranges,
        });
    }
    let regions_named = out
        .instances
        .iter()
        .filter_map(|i| i.region)
        .max()
        .map_or(0, |r| r + 1)
        .max(used_regions);
    out.region_names = (0..regions_named).map(region_name).collect();
    // Dependencies as indices: the first checked service of that name (a name declared by a
    // service skipped for its package resolves to nothing).
    for (spec, service) in out.services.iter_mut().zip(services) {
        spec.dependencies = service
            .dependencies
            .iter()
            .filter_map(|d| services.iter().position(|s| s.name == *d))
            .collect();
    }
    if capped {
        report.warn(WarningKind::BadArchitecture, || {
            format!("the expansion stops at {} instances", limits.max_instances)
        });
    }
    out
}

/// Adds an edge for every instance pair Spigo's discovery would connect, caller → callee.
fn connect(expansion: &Expansion, names: &[Option<Sym>], batch: &mut Batch, report: &mut Report) {
    let mut capped = false;
    let mut pairs = 0usize;
    'services: for service in &expansion.services {
        // A pirate logs its dependencies by service name instead of looking them up.
        if service.package == "pirate" {
            continue;
        }
        for c in service.instances.clone() {
            if !expansion.visible(c) {
                continue;
            }
            for &dep in &service.dependencies {
                let Some(dep) = expansion.services.get(dep) else {
                    continue;
                };
                pairs += dep.instances.len();
                if pairs > MAX_PAIRS {
                    capped = true;
                    break 'services;
                }
                for x in dep.instances.clone() {
                    if !expansion.connects(c, x) {
                        continue;
                    }
                    let (Some(Some(source)), Some(Some(target))) = (names.get(c), names.get(x))
                    else {
                        continue;
                    };
                    if batch.edges.len() >= MAX_EDGES {
                        capped = true;
                        break 'services;
                    }
                    batch.edges.push(DeclaredEdge {
                        source: *source,
                        target: *target,
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

    /// Two large services, one calling the other, stop at the edge limit: a 200-byte file must
    /// not ask for billions of edges (the fuzzer found this shape).
    #[test]
    fn huge_fan_out_is_capped() {
        let (b, r) = one_region(
            r#"{"arch":"t","services":[
            {"name":"a","package":"store","regions":1,"count":99000,"dependencies":["b"]},
            {"name":"b","package":"store","regions":1,"count":99000}]}"#,
        );
        assert_eq!(b.nodes.len(), 198_000);
        assert_eq!(b.edges.len(), MAX_EDGES);
        assert_eq!(r.count(WarningKind::BadArchitecture), 1);
    }

    /// The reader keeps Spigo's six regions; an expansion with a higher limit names further ones.
    #[test]
    fn regions_beyond_six_for_the_simulator() {
        assert_eq!(region_name(0), "us-east-1");
        assert_eq!(region_name(5), "ap-southeast-2");
        assert_eq!(region_name(6), "us-west-1");
        assert_eq!(region_name(17), "me-south-1");
        assert_eq!(region_name(18), "region-19");
        let json =
            r#"{"arch":"t","services":[{"name":"db","package":"store","count":3,"regions":1}]}"#;
        let options = ArchOptions {
            scale_percent: 100,
            regions: 20,
        };
        let mut report = Report::default();
        let spigo = expand_arch(json.as_bytes(), &options, &ExpandLimits::SPIGO, &mut report);
        assert_eq!(spigo.instances.len(), 18);
        let wide = ExpandLimits {
            max_regions: 100,
            max_instances: 1000,
        };
        let more = expand_arch(json.as_bytes(), &options, &wide, &mut report);
        assert_eq!(report.total(), 0);
        assert_eq!(more.instances.len(), 60);
        assert_eq!(more.full_name(59), "t.region-20.zoneC..db59...db.store");
        assert_eq!(more.short_name(18), "t.us-west-1.zoneA.db18");
        assert_eq!(more.services[0].region_ranges[19], 57..60);
    }
}
