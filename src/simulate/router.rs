//! Who talks to whom: Spigo's connection rule over an [`Expansion`], with an optional fan-out cap
//! (client-side subsetting) so that architectures of 100,000 instances keep a writable edge count.
//!
//! Instances of one service in the same region, zone and reach are interchangeable for the rule,
//! so candidate counts are computed per such class, not per instance pair.

use std::collections::BTreeMap;
use std::ops::Range;

use super::rng::{SplitMix64, mix};
use crate::ingest::spigo::Expansion;
use crate::ingest::spigo::arch::Reach;

/// No fan-out cap.
pub const UNLIMITED: usize = usize::MAX;

/// Instances of one service that the connection rule cannot tell apart.
#[derive(Clone, Debug)]
struct Class {
    /// Its service.
    service: usize,
    /// A member, to evaluate the rule with.
    example: usize,
    /// How many members.
    members: usize,
}

/// The connection rule with candidate counts per class and a fan-out cap.
#[derive(Debug)]
pub struct Router<'a> {
    /// The expanded architecture.
    pub expansion: &'a Expansion,
    class_of: Vec<u32>,
    classes: Vec<Class>,
    /// For each class, the candidate count for each dependency of its service (same order).
    candidates: Vec<Vec<usize>>,
    /// Most callees a caller connects to per dependency; [`UNLIMITED`] means Spigo's rule exactly.
    fanout: usize,
    scratch: Vec<usize>,
}

fn reach_key(reach: Reach) -> (u8, usize) {
    match reach {
        Reach::All => (0, 0),
        Reach::Region(r) => (1, r),
        Reach::Nowhere => (2, 0),
    }
}

impl<'a> Router<'a> {
    /// Groups the instances into classes and counts each class's candidates per dependency.
    pub fn new(expansion: &'a Expansion) -> Self {
        let mut class_of = Vec::with_capacity(expansion.instances.len());
        let mut classes: Vec<Class> = Vec::new();
        let mut service_classes: Vec<Vec<usize>> = vec![Vec::new(); expansion.services.len()];
        let mut keys = BTreeMap::new();
        for (i, instance) in expansion.instances.iter().enumerate() {
            let key = (
                instance.service,
                instance.region,
                instance.zone,
                reach_key(instance.reach),
            );
            let id = *keys.entry(key).or_insert_with(|| {
                classes.push(Class {
                    service: instance.service,
                    example: i,
                    members: 0,
                });
                if let Some(list) = service_classes.get_mut(instance.service) {
                    list.push(classes.len() - 1);
                }
                classes.len() - 1
            });
            if let Some(class) = classes.get_mut(id) {
                class.members += 1;
            }
            class_of.push(id as u32);
        }
        let candidates = classes
            .iter()
            .map(|k| {
                let Some(service) = expansion.services.get(k.service) else {
                    return Vec::new();
                };
                service
                    .dependencies
                    .iter()
                    .map(|&dep| {
                        let mut n = 0;
                        for &l in service_classes.get(dep).into_iter().flatten() {
                            let Some(class) = classes.get(l) else {
                                continue;
                            };
                            // Members of a class are alike, so one stands for all; a caller
                            // never connects to itself.
                            if expansion.rule(k.example, class.example) {
                                n += if class.example == k.example {
                                    class.members - 1
                                } else {
                                    class.members
                                };
                            }
                        }
                        n
                    })
                    .collect()
            })
            .collect();
        Self {
            expansion,
            class_of,
            classes,
            candidates,
            fanout: UNLIMITED,
            scratch: Vec::new(),
        }
    }

    /// Edges written with fan-out `fanout`: over callers, the candidates per dependency, capped.
    pub fn edge_count(&self, fanout: usize) -> u64 {
        self.classes
            .iter()
            .zip(&self.candidates)
            .map(|(k, per_dep)| {
                k.members as u64 * per_dep.iter().map(|&n| n.min(fanout) as u64).sum::<u64>()
            })
            .sum()
    }

    /// Sets the fan-out to the largest that keeps the edges within `max_edges` (Spigo's full rule,
    /// [`UNLIMITED`], when it fits), and returns it.
    pub fn limit_edges(&mut self, max_edges: u64) -> usize {
        self.fanout = if self.edge_count(UNLIMITED) <= max_edges {
            UNLIMITED
        } else {
            let most = self.candidates.iter().flatten().copied().max().unwrap_or(1);
            let (mut lo, mut hi) = (1usize, most);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if self.edge_count(mid) <= max_edges {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            lo
        };
        self.fanout
    }

    /// The fan-out in use.
    pub fn fanout(&self) -> usize {
        self.fanout
    }

    /// How many instances of dependency `dep` the caller may connect to (before the fan-out cap);
    /// 0 when `dep` is not one of its service's dependencies.
    pub fn candidate_count(&self, caller: usize, dep: usize) -> usize {
        let Some(instance) = self.expansion.instances.get(caller) else {
            return 0;
        };
        let Some(service) = self.expansion.services.get(instance.service) else {
            return 0;
        };
        let Some(slot) = service.dependencies.iter().position(|&d| d == dep) else {
            return 0;
        };
        self.class_of
            .get(caller)
            .and_then(|&k| self.candidates.get(k as usize))
            .and_then(|per_dep| per_dep.get(slot))
            .copied()
            .unwrap_or(0)
    }

    /// The callees of `caller` among `dep`'s instances, in a fixed order, into `out`: every
    /// connected instance, or when there are more than the fan-out, that many of them, starting at
    /// a place that depends on the caller (so callers spread over the callees).
    fn callees_into(&self, caller: usize, dep: usize, out: &mut Vec<usize>) {
        out.clear();
        let range = self.expansion.candidate_range(caller, dep);
        let len = range.len();
        if len == 0 {
            return;
        }
        let capped = self.candidate_count(caller, dep) > self.fanout;
        let offset = if capped {
            (mix(((caller as u64) << 32) ^ dep as u64) % len as u64) as usize
        } else {
            0
        };
        for k in 0..len {
            let x = range.start + (offset + k) % len;
            if self.expansion.connects(caller, x) {
                out.push(x);
                if out.len() >= self.fanout {
                    break;
                }
            }
        }
    }

    /// Calls `edge(caller, callee)` for every connection, caller by caller in instance order, then
    /// by dependency, then callee order.
    pub fn for_each_edge<E>(
        &mut self,
        mut edge: impl FnMut(usize, usize) -> Result<(), E>,
    ) -> Result<(), E> {
        let expansion = self.expansion;
        let mut callees = std::mem::take(&mut self.scratch);
        for service in &expansion.services {
            for caller in service.instances.clone() {
                if !expansion.visible(caller) {
                    continue;
                }
                for &dep in &service.dependencies {
                    if self.candidate_count(caller, dep) == 0 {
                        continue;
                    }
                    self.callees_into(caller, dep, &mut callees);
                    for &callee in &callees {
                        edge(caller, callee)?;
                    }
                }
            }
        }
        self.scratch = callees;
        Ok(())
    }

    /// A random callee of `caller` among `dep`'s instances that it is connected to and that
    /// `accept` takes; `None` when there is none.
    pub fn pick(
        &mut self,
        caller: usize,
        dep: usize,
        rng: &mut SplitMix64,
        accept: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = self.candidate_count(caller, dep);
        if n == 0 {
            return None;
        }
        if n <= self.fanout {
            // Rejection sampling over the candidate range first: cheap when most are candidates.
            let range: Range<usize> = self.expansion.candidate_range(caller, dep);
            for _ in 0..32 {
                let x = range.start + rng.below(range.len());
                if self.expansion.connects(caller, x) && accept(x) {
                    return Some(x);
                }
            }
        }
        let mut callees = std::mem::take(&mut self.scratch);
        self.callees_into(caller, dep, &mut callees);
        callees.retain(|&x| accept(x));
        let picked = callees.get(rng.below(callees.len())).copied();
        self.scratch = callees;
        picked
    }

    /// How many classes the instances fall into (for tests and progress).
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Report;
    use crate::ingest::spigo::{ArchOptions, ExpandLimits, expand_arch};

    fn expansion(json: &str, regions: usize) -> Expansion {
        let mut report = Report::default();
        let options = ArchOptions {
            scale_percent: 100,
            regions,
        };
        let limits = ExpandLimits {
            max_regions: 64,
            max_instances: 100_000,
        };
        let e = expand_arch(json.as_bytes(), &options, &limits, &mut report);
        assert_eq!(report.total(), 0);
        e
    }

    fn brute_edges(e: &Expansion) -> u64 {
        let mut n = 0;
        for s in &e.services {
            for c in s.instances.clone() {
                for &d in &s.dependencies {
                    let Some(dep) = e.services.get(d) else {
                        continue;
                    };
                    n += dep
                        .instances
                        .clone()
                        .filter(|&x| e.visible(c) && e.connects(c, x))
                        .count() as u64;
                }
            }
        }
        n
    }

    const RING: &str = r#"{"arch":"t","services":[
        {"name":"db","package":"priamCassandra","count":6,"regions":1,"dependencies":["db","eureka"]},
        {"name":"k","package":"karyon","count":9,"regions":1,"dependencies":["db"]},
        {"name":"lb","package":"elb","count":0,"regions":1,"dependencies":["k"]},
        {"name":"www","package":"denominator","count":0,"regions":0,"dependencies":["lb"]}]}"#;

    /// Class counting gives exactly the pairs the instance-by-instance rule gives.
    #[test]
    fn class_counts_equal_the_pairwise_rule() {
        for regions in [1, 2, 7] {
            let e = expansion(RING, regions);
            let mut router = Router::new(&e);
            let mut written = 0u64;
            router
                .for_each_edge(|_, _| {
                    written += 1;
                    Ok::<(), ()>(())
                })
                .unwrap();
            assert_eq!(router.edge_count(UNLIMITED), brute_edges(&e));
            assert_eq!(written, brute_edges(&e));
            // db: 3 zones per region (all reach), k: 3 per region, lb: 1 per region, www: 1.
            assert_eq!(router.class_count(), 7 * regions + 1);
        }
    }

    /// A fan-out cap keeps at most that many callees per caller and dependency, and picks stay
    /// within the written edges.
    #[test]
    fn fanout_caps_edges_and_picks_follow_them() {
        let e = expansion(RING, 3);
        let mut router = Router::new(&e);
        let full = router.edge_count(UNLIMITED);
        assert_eq!(router.limit_edges(full), UNLIMITED);
        let fanout = router.limit_edges(full / 4);
        assert!(fanout < UNLIMITED);
        let mut edges = Vec::new();
        router
            .for_each_edge(|c, x| {
                edges.push((c, x));
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(edges.len() as u64, router.edge_count(fanout));
        assert!(edges.len() as u64 <= full / 4);
        let mut rng = SplitMix64::new(1);
        let db0 = e.services[0].instances.start;
        for _ in 0..200 {
            let x = router.pick(db0, 0, &mut rng, |_| true).unwrap();
            assert!(edges.contains(&(db0, x)));
        }
        // Nothing accepted, nothing picked.
        assert_eq!(router.pick(db0, 0, &mut rng, |_| false), None);
        // Not a dependency.
        assert_eq!(router.pick(db0, 2, &mut rng, |_| true), None);
    }
}
