//! Where every node sits: region → zone → service → instance, from Spigo names or from tags and resource attributes.

use rustc_hash::FxHashMap;

use super::batch::{Batch, NameLevel};
use super::intern::{Interner, Sym};

/// The level a graph is drawn at; each is an aggregation of the instance graph.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub enum Level {
    /// One node per instance (host, Spigo instance).
    Instance,
    /// One node per service (Zipkin's dependency graph).
    #[default]
    Service,
    /// One node per availability zone.
    Zone,
    /// One node per region.
    Region,
}

impl Level {
    /// All levels, finest first.
    pub const ALL: [Self; 4] = [Self::Instance, Self::Service, Self::Zone, Self::Region];

    /// Lower-case name as used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instance => "instance",
            Self::Service => "service",
            Self::Zone => "zone",
            Self::Region => "region",
        }
    }
}

/// What the region or zone field says when nothing in the data names one.
pub const UNKNOWN: &str = "unknown";

/// Tag / resource keys that name a region, most specific first.
pub const REGION_KEYS: [&str; 4] = [
    "cloud.region",
    "region",
    "aws.region",
    "topology.kubernetes.io/region",
];
/// Tag / resource keys that name a zone.
pub const ZONE_KEYS: [&str; 4] = [
    "cloud.availability_zone",
    "zone",
    "availability_zone",
    "topology.kubernetes.io/zone",
];
/// Tag / resource keys that name a host or instance.
pub const HOST_KEYS: [&str; 5] = ["service.instance.id", "host.name", "hostname", "host", "ip"];

/// A Spigo instance name split into its fields (see spigo/README.md §2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SpigoName<'a> {
    /// Architecture.
    pub arch: &'a str,
    /// Region; `*` for a global node.
    pub region: &'a str,
    /// Zone; `*` for a cross-zone node.
    pub zone: &'a str,
    /// Instance (service name + index).
    pub instance: &'a str,
    /// Service.
    pub service: &'a str,
    /// Go package (elb, karyon, …), absent in 4-field graph names.
    pub package: Option<&'a str>,
}

impl<'a> SpigoName<'a> {
    /// Parses a full name: 9 fields (`arch.region.zone.machine.instance.container.process.service.package`,
    /// with the instance in the machine slot for 2015–16 files) or the 6-field 2015 form.
    pub fn parse_full(name: &'a str) -> Option<Self> {
        let fields: Vec<&str> = name.split('.').collect();
        match fields.as_slice() {
            [
                arch,
                region,
                zone,
                machine,
                instance,
                _container,
                _process,
                service,
                package,
            ] => {
                let instance = if instance.is_empty() {
                    machine
                } else {
                    instance
                };
                if service.is_empty() || instance.is_empty() || region.is_empty() {
                    return None;
                }
                Some(Self {
                    arch,
                    region,
                    zone,
                    instance,
                    service,
                    package: (!package.is_empty()).then_some(*package),
                })
            }
            [arch, region, zone, service, package, instance]
                if !service.is_empty() && instance.starts_with(service) =>
            {
                Some(Self {
                    arch,
                    region,
                    zone,
                    instance,
                    service,
                    package: Some(package),
                })
            }
            _ => None,
        }
    }

    /// The 4-field form graph files name the instance by (`arch.region.zone.instance`).
    pub fn graph_name(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.arch, self.region, self.zone, self.instance
        )
    }

    /// Parses the 4-field filtered form of graph files (`arch.region.zone.instance`), or a full name.
    pub fn parse_graph(name: &'a str) -> Option<Self> {
        if let Some(full) = Self::parse_full(name) {
            return Some(full);
        }
        let mut it = name.splitn(4, '.');
        let (arch, region, zone, instance) = (it.next()?, it.next()?, it.next()?, it.next()?);
        if instance.is_empty() {
            return None;
        }
        let service = instance.trim_end_matches(|c: char| c.is_ascii_digit());
        let service = if service.is_empty() {
            instance
        } else {
            service
        };
        Some(Self {
            arch,
            region,
            zone,
            instance,
            service,
            package: None,
        })
    }
}

/// One instance's place in the hierarchy. Interned strings.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Place {
    /// Region (`unknown` when nothing says; `*` for a Spigo global node).
    pub region: Sym,
    /// Zone (`unknown` when nothing says; `*` for a Spigo cross-zone node).
    pub zone: Sym,
    /// Service name.
    pub service: Sym,
    /// Instance name, unique: the Spigo name as written, or `service@host`, or the service.
    pub instance: Sym,
    /// Spigo package or service kind, when known.
    pub package: Option<Sym>,
}

/// Index of an instance in a [`Topology`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct InstanceId(pub u32);

/// The set of instances, each with its [`Place`].
#[derive(Default, Debug, Clone)]
pub struct Topology {
    places: Vec<Place>,
    by_instance: FxHashMap<Sym, InstanceId>,
}

impl Topology {
    /// Adds (or finds) an instance. An instance is identified by its name: the first place seen
    /// for a name wins, except that a package learnt later is kept.
    pub fn insert(&mut self, place: Place) -> InstanceId {
        if let Some(&id) = self.by_instance.get(&place.instance) {
            if let Some(existing) = self.places.get_mut(id.0 as usize)
                && existing.package.is_none()
            {
                existing.package = place.package;
            }
            return id;
        }
        let id = InstanceId(self.places.len() as u32);
        self.places.push(place);
        self.by_instance.insert(place.instance, id);
        id
    }

    /// The place of an instance.
    pub fn place(&self, id: InstanceId) -> Option<&Place> {
        self.places.get(id.0 as usize)
    }

    /// All places, by instance id.
    pub fn places(&self) -> impl Iterator<Item = &Place> {
        self.places.iter()
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// True when there are no instances.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The node name of `place` at `level` (zone names are `region/zone`).
    pub fn node_name(interner: &mut Interner, place: &Place, level: Level) -> Sym {
        match level {
            Level::Instance => place.instance,
            Level::Service => place.service,
            Level::Region => place.region,
            Level::Zone => {
                let name = format!(
                    "{}/{}",
                    interner.resolve(place.region),
                    interner.resolve(place.zone)
                );
                interner.intern(&name)
            }
        }
    }
}

/// Works out the places of declared names (Spigo graph nodes, link endpoints), interning what it
/// needs. Span endpoints are placed where graphs are built (`derive::graph`).
pub struct Placer<'a> {
    interner: &'a mut Interner,
    unknown: Sym,
}

impl<'a> Placer<'a> {
    /// A placer over a batch's strings.
    pub fn new(batch: &'a mut Batch) -> Self {
        let interner = &mut batch.interner;
        let unknown = interner.intern(UNKNOWN);
        Self { interner, unknown }
    }

    /// The place of a declared name (Spigo graph node, link endpoint).
    pub fn declared(&mut self, name: Sym, level: NameLevel, package: Option<Sym>) -> Place {
        let text = self.interner.resolve(name);
        match (level, SpigoName::parse_graph(text)) {
            (NameLevel::Instance, Some(spigo)) => {
                let spigo = spigo_owned(&spigo);
                self.spigo_place(name, &spigo, package)
            }
            _ => Place {
                region: self.unknown,
                zone: self.unknown,
                service: name,
                instance: name,
                package,
            },
        }
    }

    fn spigo_place(&mut self, name: Sym, spigo: &[String; 4], package: Option<Sym>) -> Place {
        let [region, zone, service, pkg] = spigo;
        Place {
            region: self.interner.intern(region),
            zone: self.interner.intern(zone),
            service: self.interner.intern(service),
            instance: name,
            package: package.or_else(|| (!pkg.is_empty()).then(|| self.interner.intern(pkg))),
        }
    }
}

fn spigo_owned(s: &SpigoName<'_>) -> [String; 4] {
    [
        s.region.to_owned(),
        s.zone.to_owned(),
        s.service.to_owned(),
        s.package.unwrap_or_default().to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spigo_names_in_every_era() {
        let n = SpigoName::parse_full("lamp.us-east-1.zoneC..webserver02...webserver.monolith")
            .unwrap();
        assert_eq!(
            (n.region, n.zone, n.instance, n.service, n.package),
            (
                "us-east-1",
                "zoneC",
                "webserver02",
                "webserver",
                Some("monolith")
            )
        );
        let n = SpigoName::parse_full("migration.us-east-1.*.www-elb0....www-elb.elb").unwrap();
        assert_eq!(
            (n.zone, n.instance, n.service),
            ("*", "www-elb0", "www-elb")
        );
        let n =
            SpigoName::parse_full("netflixoss.us-east-1.zoneB.homepage.karyon.homepage4").unwrap();
        assert_eq!(
            (n.service, n.instance, n.package),
            ("homepage", "homepage4", Some("karyon"))
        );
        let n = SpigoName::parse_graph("netflix.us-east-1.zoneA.cassSubscriber00").unwrap();
        assert_eq!(
            (n.region, n.zone, n.service, n.package),
            ("us-east-1", "zoneA", "cassSubscriber", None)
        );
        assert!(SpigoName::parse_full("frontend").is_none());
    }
}
