//! The requests: each trace starts at the traffic source and walks the dependencies with the
//! behaviour of each package (Spigo README §5), timed by a seeded latency model.
//!
//! - elb, zuul, karyon, monolith (and a denominator in the middle) forward a request to one random
//!   connected dependency instance; a `GetRequest` is answered once the answer comes back, a leaf
//!   drops it (no answer travels back, as in Spigo's `edge` runs).
//! - staash tries its dependencies by package, cache → volume → priamCassandra/riak → store →
//!   staash, falling through on a miss; a Put writes to each.
//! - priamCassandra and riak pass a request to the ring owner in their zone half of the time
//!   (Spigo's `AddSpan`: a sibling span, the owner answers the original caller directly).
//! - priamCassandra, riak, store, cache and volume answer a `GetRequest`; a Put replicates to one
//!   peer in each other zone and, for a service depending on `eureka`, each other region.
//! - Put and Replicate are one-way (`cs`, `sr`); an answered `GetRequest` has `cs`, `sr`, `ss`, `cr`.

use super::rng::SplitMix64;
use super::router::Router;
use crate::ingest::spigo::Expansion;

/// Hops beyond this depth are dropped (cyclic dependencies would otherwise never end).
const MAX_DEPTH: usize = 40;
/// Probability that a staash lookup misses and falls through to the next kind of store.
const MISS: f64 = 0.5;
/// Probability that a ring node is not the owner of a key and passes the request on.
const NOT_OWNER: f64 = 0.5;

/// The message type of a span (Spigo's imposition), its Zipkin span name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// A read, answered by a store.
    GetRequest,
    /// A write, one-way.
    Put,
    /// A store's copy of a write to a peer, one-way.
    Replicate,
    /// The chaos monkey's kill, a lone `sr`.
    Goodbye,
}

impl Message {
    /// The span name Spigo writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetRequest => "GetRequest",
            Self::Put => "Put",
            Self::Replicate => "Replicate",
            Self::Goodbye => "Goodbye",
        }
    }

    /// The span name lower-cased, as Zipkin v2 writes names.
    pub fn as_lower_str(self) -> &'static str {
        match self {
            Self::GetRequest => "getrequest",
            Self::Put => "put",
            Self::Replicate => "replicate",
            Self::Goodbye => "goodbye",
        }
    }
}

/// A Zipkin v1 core annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Client send.
    Cs,
    /// Server receive.
    Sr,
    /// Server send.
    Ss,
    /// Client receive.
    Cr,
}

impl Value {
    /// The annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cs => "cs",
            Self::Sr => "sr",
            Self::Ss => "ss",
            Self::Cr => "cr",
        }
    }
}

/// One annotation: who, when (µs since the epoch) and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Note {
    /// The instance (index into the expansion).
    pub instance: usize,
    /// Microseconds since the Unix epoch.
    pub micros: i64,
    /// cs, sr, ss or cr.
    pub value: Value,
}

/// One simulated span, as Spigo's flow records it.
#[derive(Clone, Debug)]
pub struct SimSpan {
    /// Trace id (the id of its root span).
    pub trace: u64,
    /// Span id.
    pub id: u64,
    /// Parent span id, 0 for a root.
    pub parent: u64,
    /// Its message type.
    pub message: Message,
    notes: [Note; 4],
    len: u8,
}

impl SimSpan {
    fn new(trace: u64, id: u64, parent: u64, message: Message) -> Self {
        let blank = Note {
            instance: 0,
            micros: 0,
            value: Value::Cs,
        };
        Self {
            trace,
            id,
            parent,
            message,
            notes: [blank; 4],
            len: 0,
        }
    }

    fn push(&mut self, instance: usize, micros: i64, value: Value) {
        if let Some(slot) = self.notes.get_mut(usize::from(self.len)) {
            *slot = Note {
                instance,
                micros,
                value,
            };
            self.len += 1;
        }
    }

    /// Its annotations in the order they happened.
    pub fn notes(&self) -> &[Note] {
        self.notes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Whether any annotation is by `instance`.
    pub fn touches(&self, instance: usize) -> bool {
        self.notes().iter().any(|n| n.instance == instance)
    }
}

/// How a package handles a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// elb, zuul, karyon, monolith, denominator: forward to one dependency.
    Forward,
    /// staash: look up by kind, falling through.
    Staash,
    /// priamCassandra, riak: ring owner, replication.
    Ring,
    /// store, cache, volume: answer, replicate.
    Store,
    /// eureka, pirate: nothing.
    Silent,
}

fn behaviour(package: &str) -> Behaviour {
    match package {
        "elb" | "zuul" | "karyon" | "monolith" | "denominator" => Behaviour::Forward,
        "staash" => Behaviour::Staash,
        "priamCassandra" | "riak" => Behaviour::Ring,
        "store" | "cache" | "volume" => Behaviour::Store,
        _ => Behaviour::Silent,
    }
}

/// Mean service time of a package in µs.
fn service_micros(package: &str) -> i64 {
    match package {
        "denominator" => 20,
        "elb" => 40,
        "zuul" => 200,
        "karyon" => 1000,
        "monolith" => 3000,
        "staash" => 300,
        "priamCassandra" | "riak" => 800,
        "store" => 500,
        "cache" => 100,
        "volume" => 2000,
        _ => 50,
    }
}

/// staash's lookup order by package.
fn staash_rank(package: &str) -> u8 {
    match package {
        "cache" => 0,
        "volume" => 1,
        "priamCassandra" | "riak" => 2,
        "store" => 3,
        "staash" => 4,
        _ => 5,
    }
}

/// What a server did with a request.
enum Outcome {
    /// It answered at this time (µs): the span gets `ss`, `cr`.
    Answer(i64),
    /// Another instance answered the caller directly, which got the answer at this time.
    Direct(i64),
    /// No answer.
    Nothing,
}

/// Generates traces one at a time; the spans of the last one are kept until the next.
#[derive(Debug)]
pub struct Traffic<'a> {
    router: Router<'a>,
    rng: SplitMix64,
    behaviours: Vec<Behaviour>,
    service_micros: Vec<i64>,
    /// Each staash service's dependencies in lookup order.
    lookup_order: Vec<Vec<usize>>,
    next_id: u64,
    trace: u64,
    dead: Option<usize>,
    spans: Vec<SimSpan>,
}

impl<'a> Traffic<'a> {
    /// Traffic over `router`'s connections, seeded with `seed`.
    pub fn new(router: Router<'a>, seed: u64) -> Self {
        let expansion = router.expansion;
        let lookup_order = expansion
            .services
            .iter()
            .map(|s| {
                let mut deps = s.dependencies.clone();
                deps.sort_by_key(|&d| {
                    expansion
                        .services
                        .get(d)
                        .map_or(5, |dep| staash_rank(&dep.package))
                });
                deps
            })
            .collect();
        Self {
            behaviours: expansion
                .services
                .iter()
                .map(|s| behaviour(&s.package))
                .collect(),
            service_micros: expansion
                .services
                .iter()
                .map(|s| service_micros(&s.package))
                .collect(),
            lookup_order,
            router,
            rng: SplitMix64::new(seed),
            next_id: 0,
            trace: 0,
            dead: None,
            spans: Vec::new(),
        }
    }

    fn expansion(&self) -> &'a Expansion {
        self.router.expansion
    }

    /// The random stream (shared, so that every choice follows from the seed).
    pub fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    /// Gives the router back (its fan-out decides the graph's edges as well).
    pub fn into_router(self) -> Router<'a> {
        self.router
    }

    /// From now on `victim` is gone: no request is routed to it.
    pub fn kill(&mut self, victim: usize) {
        self.dead = Some(victim);
    }

    /// Span ids handed out so far (the last id).
    pub fn last_id(&self) -> u64 {
        self.next_id
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// One-way network latency between two instances in µs: same zone, across zones, across
    /// regions, or to and from a global node (the internet side).
    fn network_micros(&mut self, a: usize, b: usize) -> i64 {
        let e = self.expansion();
        let (Some(x), Some(y)) = (e.instances.get(a), e.instances.get(b)) else {
            return 100;
        };
        match (x.region, y.region) {
            (None, _) | (_, None) => 5_000 + self.rng.below_i64(20_000),
            (Some(r), Some(s)) if r != s => 20_000 + self.rng.below_i64(60_000),
            _ if x.zone != y.zone || x.zone.is_none() => 300 + self.rng.below_i64(500),
            _ => 50 + self.rng.below_i64(150),
        }
    }

    /// Service time of an instance in µs: its package's mean, ±50 %, and a 1 % slow tail.
    fn service_time(&mut self, instance: usize) -> i64 {
        let mean = self
            .expansion()
            .instances
            .get(instance)
            .and_then(|i| self.service_micros.get(i.service))
            .copied()
            .unwrap_or(50);
        let jitter = 0.5 + self.rng.unit();
        let tail = if self.rng.chance(0.01) { 10.0 } else { 1.0 };
        ((mean as f64 * jitter * tail) as i64).max(1)
    }

    /// A small gap between two sends by one instance, µs.
    fn gap(&mut self) -> i64 {
        2 + self.rng.below_i64(8)
    }

    /// A random live callee of `caller` among `dep`'s instances that also passes `extra`.
    fn pick(&mut self, caller: usize, dep: usize, extra: impl Fn(usize) -> bool) -> Option<usize> {
        let dead = self.dead;
        self.router
            .pick(caller, dep, &mut self.rng, |x| Some(x) != dead && extra(x))
    }

    /// A random dependency of `caller`'s service with a live connected instance, and that instance.
    fn pick_any_dependency(&mut self, caller: usize) -> Option<usize> {
        let e = self.expansion();
        let service = e.instances.get(caller)?.service;
        let deps = &e.services.get(service)?.dependencies;
        let start = self.rng.below(deps.len());
        for k in 0..deps.len() {
            let Some(&dep) = deps.get((start + k) % deps.len()) else {
                continue;
            };
            if let Some(callee) = self.pick(caller, dep, |_| true) {
                return Some(callee);
            }
        }
        None
    }

    /// One trace from `root` starting at `start_micros`; its spans sorted as Spigo writes them
    /// (by the `t<trace>p<parent>s<span>` string, then time). Empty when the root reaches nobody.
    pub fn trace(&mut self, root: usize, start_micros: i64) -> &[SimSpan] {
        self.spans.clear();
        if let Some(callee) = self.pick_any_dependency(root) {
            let message = if self.rng.below(3) == 2 {
                Message::Put
            } else {
                Message::GetRequest
            };
            let id = self.new_id();
            self.trace = id;
            self.call(root, callee, message, 0, id, start_micros, 0);
        }
        self.spans.sort_by_cached_key(|s| {
            (
                format!("p{}s{}", s.parent, s.id),
                s.notes().first().map_or(0, |n| n.micros),
            )
        });
        &self.spans
    }

    /// The chaos monkey's Goodbye to `victim`: a trace of one span with a lone `sr`.
    pub fn goodbye(&mut self, victim: usize, micros: i64) -> &[SimSpan] {
        self.spans.clear();
        let id = self.new_id();
        let mut span = SimSpan::new(id, id, 0, Message::Goodbye);
        span.push(victim, micros, Value::Sr);
        self.spans.push(span);
        &self.spans
    }

    /// Sends `message` from `caller` to `callee` as span `id` (child of `parent`) at `t`, lets the
    /// callee serve it, and returns when the caller got the answer, if it did.
    #[expect(clippy::too_many_arguments, reason = "one hop's whole context")]
    fn call(
        &mut self,
        caller: usize,
        callee: usize,
        message: Message,
        parent: u64,
        id: u64,
        t: i64,
        depth: usize,
    ) -> Option<i64> {
        let arrive = t + self.network_micros(caller, callee);
        let mut span = SimSpan::new(self.trace, id, parent, message);
        span.push(caller, t, Value::Cs);
        span.push(callee, arrive, Value::Sr);
        let index = self.spans.len();
        self.spans.push(span);
        match self.serve(callee, message, id, parent, caller, arrive, depth + 1) {
            Outcome::Answer(sent) if message == Message::GetRequest => {
                let back = sent + self.network_micros(callee, caller);
                if let Some(span) = self.spans.get_mut(index) {
                    span.push(callee, sent, Value::Ss);
                    span.push(caller, back, Value::Cr);
                }
                Some(back)
            }
            Outcome::Direct(received) if message == Message::GetRequest => Some(received),
            _ => None,
        }
    }

    /// `instance` handles `message` (span `id`, whose parent is `parent`, sent by `requester`),
    /// arriving at `t`.
    #[expect(clippy::too_many_arguments, reason = "one hop's whole context")]
    fn serve(
        &mut self,
        instance: usize,
        message: Message,
        id: u64,
        parent: u64,
        requester: usize,
        t: i64,
        depth: usize,
    ) -> Outcome {
        let e = self.expansion();
        let Some(service) = e.instances.get(instance).map(|i| i.service) else {
            return Outcome::Nothing;
        };
        if depth > MAX_DEPTH || message == Message::Replicate {
            return Outcome::Nothing;
        }
        let work = self.service_time(instance);
        let before = work / 2;
        let after = work - before;
        let t = t + before;
        match self.behaviours.get(service).copied() {
            Some(Behaviour::Forward) => {
                let Some(callee) = self.pick_any_dependency(instance) else {
                    return Outcome::Nothing;
                };
                let child = self.new_id();
                match self.call(instance, callee, message, id, child, t, depth) {
                    Some(back) => Outcome::Answer(back + after),
                    None => Outcome::Nothing,
                }
            }
            Some(Behaviour::Staash) => self.staash(instance, service, message, id, t, after, depth),
            Some(Behaviour::Ring) => {
                let owner = if self.rng.chance(NOT_OWNER) {
                    self.ring_owner(instance, service)
                } else {
                    None
                };
                if message == Message::Put {
                    self.replicate(instance, service, id, t);
                }
                let Some(owner) = owner else {
                    return Outcome::Answer(t + after);
                };
                // Spigo's `AddSpan`: a sibling span to the owner, who answers the requester.
                let sibling = self.new_id();
                let sent = t + self.gap();
                let arrive = sent + self.network_micros(instance, owner);
                let mut span = SimSpan::new(self.trace, sibling, parent, message);
                span.push(instance, sent, Value::Cs);
                span.push(owner, arrive, Value::Sr);
                if message == Message::Put {
                    self.spans.push(span);
                    self.replicate(owner, service, sibling, arrive);
                    return Outcome::Nothing;
                }
                let answered = arrive + self.service_time(owner);
                let back = answered + self.network_micros(owner, requester);
                span.push(owner, answered, Value::Ss);
                span.push(requester, back, Value::Cr);
                self.spans.push(span);
                Outcome::Direct(back)
            }
            Some(Behaviour::Store) => {
                if message == Message::Put {
                    self.replicate(instance, service, id, t);
                }
                Outcome::Answer(t + after)
            }
            Some(Behaviour::Silent) | None => Outcome::Nothing,
        }
    }

    /// staash: a `GetRequest` tries the dependencies in lookup order until one hits; a Put writes
    /// to one instance of each.
    #[expect(clippy::too_many_arguments, reason = "one hop's whole context")]
    fn staash(
        &mut self,
        instance: usize,
        service: usize,
        message: Message,
        id: u64,
        mut t: i64,
        after: i64,
        depth: usize,
    ) -> Outcome {
        let order = self.lookup_order.get(service).cloned().unwrap_or_default();
        let mut answered = false;
        for (k, &dep) in order.iter().enumerate() {
            let Some(callee) = self.pick(instance, dep, |_| true) else {
                continue;
            };
            let child = self.new_id();
            let back = self.call(instance, callee, message, id, child, t, depth);
            match (message, back) {
                (Message::GetRequest, Some(back)) => {
                    answered = true;
                    t = back + self.gap();
                    if k + 1 == order.len() || !self.rng.chance(MISS) {
                        break;
                    }
                }
                _ => t += self.gap(),
            }
        }
        if answered {
            Outcome::Answer(t + after)
        } else {
            Outcome::Nothing
        }
    }

    /// A live peer of `instance` in its own zone and region (its ring's owner of some key).
    fn ring_owner(&mut self, instance: usize, service: usize) -> Option<usize> {
        let e = self.expansion();
        let me = *e.instances.get(instance)?;
        self.pick(instance, service, |x| {
            e.instances
                .get(x)
                .is_some_and(|p| p.region == me.region && p.zone == me.zone)
        })
    }

    /// A write at `instance` is copied to one connected peer in each other zone of its region and,
    /// when its service depends on `eureka`, in each other region: one-way Replicate spans.
    fn replicate(&mut self, instance: usize, service: usize, parent: u64, mut t: i64) {
        let e = self.expansion();
        let Some(me) = e.instances.get(instance).copied() else {
            return;
        };
        let Some(spec) = e.services.get(service) else {
            return;
        };
        if !spec.dependencies.contains(&service) {
            return;
        }
        let mut targets = Vec::new();
        for zone in 0..3 {
            if me.zone.is_some() && me.zone != Some(zone) {
                let peer = self.pick(instance, service, |x| {
                    e.instances
                        .get(x)
                        .is_some_and(|p| p.region == me.region && p.zone == Some(zone))
                });
                targets.extend(peer);
            }
        }
        if spec.cross_region {
            for region in 0..e.used_regions {
                if me.region != Some(region) {
                    let peer = self.pick(instance, service, |x| {
                        e.instances.get(x).is_some_and(|p| p.region == Some(region))
                    });
                    targets.extend(peer);
                }
            }
        }
        for peer in targets {
            t += self.gap();
            let id = self.new_id();
            let arrive = t + self.network_micros(instance, peer);
            let mut span = SimSpan::new(self.trace, id, parent, Message::Replicate);
            span.push(instance, t, Value::Cs);
            span.push(peer, arrive, Value::Sr);
            self.spans.push(span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Report;
    use crate::ingest::spigo::{ArchOptions, ExpandLimits, expand_arch};

    fn expansion(arch: &str, regions: usize) -> Expansion {
        let path = format!(
            "{}/tests/fixtures/spigo/runs/{arch}/arch.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(path).unwrap();
        let options = ArchOptions {
            scale_percent: 100,
            regions,
        };
        let limits = ExpandLimits {
            max_regions: 64,
            max_instances: 10_000,
        };
        expand_arch(&bytes, &options, &limits, &mut Report::default())
    }

    /// Waterfalls nest: cs < sr < ss < cr in a span, a forwarded request starts after its parent
    /// was received, and an answer comes back before the parent answers.
    #[test]
    fn timings_nest_like_a_waterfall() {
        let e = expansion("netflixoss", 2);
        let root = e.services.last().unwrap().instances.start;
        let mut traffic = Traffic::new(Router::new(&e), 3);
        let (mut answered, mut puts) = (0, 0);
        for k in 0..300 {
            let spans = traffic.trace(root, 1_000_000 + k * 10_000).to_vec();
            assert!(!spans.is_empty());
            let root_span = spans.iter().find(|s| s.parent == 0).unwrap();
            assert_eq!(root_span.id, root_span.trace);
            for s in &spans {
                let t: Vec<i64> = s.notes().iter().map(|n| n.micros).collect();
                assert!(t.windows(2).all(|w| w[0] < w[1]), "{s:?}");
                match s.message {
                    Message::GetRequest if t.len() == 4 => answered += 1,
                    Message::Put | Message::Replicate => {
                        assert_eq!(t.len(), 2);
                        puts += 1;
                    }
                    _ => {}
                }
                let Some(parent) = spans.iter().find(|p| p.id == s.parent) else {
                    continue;
                };
                let (p, c) = (parent.notes(), s.notes());
                // The child is sent by the parent's server after it received the request, or
                // (a ring passing a request to the owner) by a sibling's server after it did.
                let received = if c[0].instance == p[1].instance {
                    p[1].micros
                } else {
                    let sibling = spans
                        .iter()
                        .find(|b| b.parent == s.parent && b.notes()[1].instance == c[0].instance)
                        .unwrap();
                    sibling.notes()[1].micros
                };
                assert!(c[0].micros > received);
                if p.len() == 4 && c.len() == 4 && c[3].instance == p[1].instance {
                    assert!(c[3].micros < p[2].micros, "{parent:?} {s:?}");
                }
            }
        }
        assert!(answered > 100 && puts > 100, "{answered} {puts}");
    }

    /// A dead instance is never routed to.
    #[test]
    fn the_dead_are_routed_around() {
        let e = expansion("lamp", 1);
        let root = e.services.last().unwrap().instances.start;
        let webservers = e.services[2].instances.clone();
        let mut traffic = Traffic::new(Router::new(&e), 9);
        traffic.kill(webservers.start);
        for k in 0..200 {
            for s in traffic.trace(root, k * 10_000) {
                assert!(!s.touches(webservers.start));
            }
        }
    }
}
