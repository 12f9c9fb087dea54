//! How spans name nodes: [`Names`] (a span side's service and instance key), what each service name says ([`NameInfo`], Spigo names carry their place), and the tag keys naming a region, zone or host.

use indexmap::IndexSet;
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::links::Side;
use super::tree::TreeSpan;
use crate::model::topology::{HOST_KEYS, REGION_KEYS, ZONE_KEYS};
use crate::model::{Batch, Endpoint, NameLevel, Slice, SpigoName, Sym};

/// What a service name says about its node, worked out once per distinct name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NameInfo {
    /// Service-level name.
    pub(crate) service: Sym,
    /// Spigo: the instance in the 4-field form; `None` for other names.
    pub(crate) spigo_instance: Option<Sym>,
    pub(crate) region: Option<Sym>,
    pub(crate) zone: Option<Sym>,
    pub(crate) package: Option<Sym>,
}

/// Identifies an instance in span data.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct InstanceKey {
    /// The endpoint's service name as written.
    pub(crate) name: Sym,
    pub(crate) host: Option<Sym>,
    pub(crate) region: Option<Sym>,
    pub(crate) zone: Option<Sym>,
}

/// Tag keys naming a region, zone or host, as interned in this store.
pub(crate) struct AttrKeys {
    pub(crate) region: Vec<Sym>,
    pub(crate) zone: Vec<Sym>,
    pub(crate) host: Vec<Sym>,
}

/// Read-only lookups shared by the linking threads.
pub(crate) struct Names<'a> {
    pub(crate) data: &'a Batch,
    pub(crate) info: FxHashMap<Sym, NameInfo>,
    pub(crate) keys: AttrKeys,
}

impl Names<'_> {
    fn lookup(&self, slices: [Slice; 2], keys: &[Sym]) -> Option<Sym> {
        keys.iter().find_map(|k| {
            slices.iter().find_map(|s| {
                self.data
                    .tags_of(*s)
                    .iter()
                    .find(|t| t.key == *k)
                    .map(|t| t.value)
            })
        })
    }

    pub(crate) fn service(&self, endpoint: &Endpoint) -> Option<Sym> {
        let name = endpoint.service?;
        Some(self.info.get(&name).map_or(name, |i| i.service))
    }

    fn instance(&self, endpoint: &Endpoint, attrs: Option<[Slice; 2]>) -> Option<InstanceKey> {
        let name = endpoint.service?;
        if self
            .info
            .get(&name)
            .is_some_and(|i| i.spigo_instance.is_some())
        {
            return Some(InstanceKey {
                name,
                host: None,
                region: None,
                zone: None,
            });
        }
        let (region, zone, host) = match attrs {
            Some(a) => (
                self.lookup(a, &self.keys.region),
                self.lookup(a, &self.keys.zone),
                self.lookup(a, &self.keys.host),
            ),
            None => (None, None, None),
        };
        Some(InstanceKey {
            name,
            host: host.or(endpoint.ipv4).or(endpoint.ipv6),
            region,
            zone,
        })
    }

    fn span_attrs(&self, index: u32) -> Option<[Slice; 2]> {
        self.data
            .spans
            .get(index as usize)
            .map(|s| [s.tags, s.resource])
    }

    pub(crate) fn instance_of(&self, span: &TreeSpan, side: Side) -> Option<InstanceKey> {
        match side {
            Side::Local => self.instance(&span.local, self.span_attrs(span.index)),
            Side::Remote => self.instance(&span.remote, None),
        }
    }

    /// Every instance `spans` name, in first-seen order.
    pub(crate) fn span_keys(
        &self,
        spans: &[crate::model::Span],
    ) -> IndexSet<InstanceKey, FxBuildHasher> {
        let mut set: IndexSet<InstanceKey, FxBuildHasher> = IndexSet::default();
        for s in spans {
            set.extend(self.instance(&s.local, Some([s.tags, s.resource])));
            set.extend(self.instance(&s.remote, None));
        }
        set
    }

    /// Every instance the store's spans name, in first-seen order (found in parallel).
    pub(crate) fn all_span_keys(&self) -> IndexSet<InstanceKey, FxBuildHasher> {
        self.data
            .spans
            .par_chunks(1 << 16)
            .map(|spans| self.span_keys(spans))
            .reduce(IndexSet::default, |mut a, b| {
                a.extend(b);
                a
            })
    }
}

/// Works out, once per distinct service name, what it says (Spigo names carry their place).
pub(crate) fn name_infos(batch: &mut Batch) -> FxHashMap<Sym, NameInfo> {
    let distinct: IndexSet<Sym, FxBuildHasher> = batch
        .spans
        .iter()
        .flat_map(|s| [s.local.service, s.remote.service])
        .flatten()
        .collect();
    // A Spigo instance is named as the spans spell it (Zipkin prints the 9-field name whole),
    // unless a graph or architecture in the same load declares it: then by its 4-field
    // declared form, so that the files name one instance alike.
    let declared: rustc_hash::FxHashSet<String> = batch
        .nodes
        .iter()
        .filter(|n| n.level == NameLevel::Instance)
        .filter_map(|n| {
            let s = SpigoName::parse_graph(batch.interner.resolve(n.name))?;
            Some(s.graph_name())
        })
        .collect();
    let mut out = FxHashMap::default();
    for name in distinct {
        let text = batch.interner.resolve(name);
        let info = match SpigoName::parse_full(text) {
            Some(s) => {
                let filtered = s.graph_name();
                let filtered = if declared.contains(&filtered) {
                    filtered
                } else {
                    text.to_owned()
                };
                let owned = [
                    s.service.to_owned(),
                    s.region.to_owned(),
                    s.zone.to_owned(),
                    s.package.unwrap_or_default().to_owned(),
                ];
                let [service, region, zone, package] = owned;
                NameInfo {
                    service: batch.sym(&service),
                    spigo_instance: Some(batch.sym(&filtered)),
                    region: Some(batch.sym(&region)),
                    zone: Some(batch.sym(&zone)),
                    package: batch.sym_nonempty(&package),
                }
            }
            None => NameInfo {
                service: name,
                spigo_instance: None,
                region: None,
                zone: None,
                package: None,
            },
        };
        out.insert(name, info);
    }
    out
}

pub(crate) fn attr_keys(batch: &Batch) -> AttrKeys {
    let get = |keys: &[&str]| keys.iter().filter_map(|k| batch.interner.get(k)).collect();
    AttrKeys {
        region: get(&REGION_KEYS),
        zone: get(&ZONE_KEYS),
        host: get(&HOST_KEYS),
    }
}
