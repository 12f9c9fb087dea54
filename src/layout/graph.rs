//! [`LayoutGraph`]: the flat, undirected view of a graph that the layout works on (CSR adjacency plus zone and region groups).

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef as _, IntoEdgeReferences as _};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::derive::ServiceGraph;
use crate::model::Sym;

/// An undirected graph in compressed sparse rows, each node in one zone and each zone in one region.
///
/// Zones and regions are dense ids in first-seen order. A graph without grouping has every node in
/// zone 0 of region 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayoutGraph {
    /// `offsets[i]..offsets[i + 1]` is node `i`'s range in `neighbours`; `n + 1` entries.
    offsets: Vec<u32>,
    /// Neighbours of every node, both directions, sorted, without self loops or repeats.
    neighbours: Vec<u32>,
    /// Zone of each node.
    zone: Vec<u32>,
    /// Region of each zone.
    zone_region: Vec<u32>,
    /// Number of regions.
    regions: u32,
    /// The zone of nodes whose place is unknown: no group forces pull them.
    ungrouped: Option<u32>,
}

impl LayoutGraph {
    /// A graph of `n` nodes with no grouping. Self loops, repeats and out-of-range ends are dropped.
    pub fn new(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Self {
        Self::with_zones(n, edges, &vec![0; n], &[0])
    }

    /// A graph whose node `i` sits in zone `zone_of[i]` and zone `z` in region `region_of_zone[z]`.
    /// Ids need not be dense; they are renumbered in first-seen order. Nodes missing from `zone_of`
    /// and zones missing from `region_of_zone` go to an extra "unknown" group.
    pub fn with_zones(
        n: usize,
        edges: impl IntoIterator<Item = (u32, u32)>,
        zone_of: &[u32],
        region_of_zone: &[u32],
    ) -> Self {
        let mut zone_ids: FxHashMap<u32, u32> = FxHashMap::default();
        let mut region_ids: FxHashMap<u32, u32> = FxHashMap::default();
        let mut zone_region = Vec::new();
        let mut zone = Vec::with_capacity(n);
        for i in 0..n {
            let z = zone_of.get(i).copied().unwrap_or(u32::MAX);
            let next = zone_ids.len() as u32;
            let id = *zone_ids.entry(z).or_insert_with(|| {
                let r = region_of_zone.get(z as usize).copied().unwrap_or(u32::MAX);
                let next_region = region_ids.len() as u32;
                zone_region.push(*region_ids.entry(r).or_insert(next_region));
                next
            });
            zone.push(id);
        }
        let mut pairs: Vec<(u32, u32)> = edges
            .into_iter()
            .filter(|&(a, b)| a != b && (a as usize) < n && (b as usize) < n)
            .flat_map(|(a, b)| [(a, b), (b, a)])
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut offsets = vec![0u32; n + 1];
        for &(a, _) in &pairs {
            if let Some(o) = offsets.get_mut(a as usize + 1) {
                *o += 1;
            }
        }
        let mut sum = 0;
        for o in &mut offsets {
            sum += *o;
            *o = sum;
        }
        Self {
            offsets,
            neighbours: pairs.into_iter().map(|(_, b)| b).collect(),
            zone,
            zone_region,
            regions: region_ids.len().max(1) as u32,
            ungrouped: None,
        }
    }

    /// Marks zone `zone` (as numbered by this graph, see [`Self::zones`]) as the nodes of unknown
    /// place: group forces do not pull them, and their edges are not weakened.
    #[must_use]
    pub fn with_ungrouped_zone(mut self, zone: Option<u32>) -> Self {
        self.ungrouped = zone;
        self
    }

    /// Whether node `i` has a known zone.
    pub fn grouped(&self, i: usize) -> bool {
        self.ungrouped.is_none_or(|u| self.zone(i) != u)
    }

    /// The zone of nodes of unknown place, if any.
    pub fn ungrouped_zone(&self) -> Option<u32> {
        self.ungrouped
    }

    /// The layout graph of a [`ServiceGraph`], and the petgraph node of each layout node. Nodes are
    /// grouped by their (region, zone); nodes whose region and zone are both mixed or `unknown`
    /// (the symbol of [`UNKNOWN`](crate::model::topology::UNKNOWN), when interned) form the
    /// ungrouped zone.
    pub fn from_service_graph(g: &ServiceGraph, unknown: Option<Sym>) -> (Self, Vec<NodeIndex>) {
        let known = |s: Option<Sym>| s.filter(|s| Some(*s) != unknown);
        let nodes: Vec<NodeIndex> = g.graph.node_indices().collect();
        let slot: FxHashMap<NodeIndex, u32> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let mut zone_keys = FxHashMap::default();
        let mut region_keys = FxHashMap::default();
        let mut region_of_zone = Vec::new();
        let zone_of: Vec<u32> = nodes
            .iter()
            .map(|n| {
                let (r, z) = g
                    .graph
                    .node_weight(*n)
                    .map_or((None, None), |w| (known(w.region), known(w.zone)));
                let next_region = region_keys.len() as u32;
                let region = *region_keys.entry(r).or_insert(next_region);
                let next_zone = zone_keys.len() as u32;
                *zone_keys.entry((r, z)).or_insert_with(|| {
                    region_of_zone.push(region);
                    next_zone
                })
            })
            .collect();
        let edges = (&g.graph)
            .edge_references()
            .filter_map(|e| Some((*slot.get(&e.source())?, *slot.get(&e.target())?)));
        let ungrouped = zone_keys.get(&(None, None)).copied();
        let graph = Self::with_zones(nodes.len(), edges, &zone_of, &region_of_zone);
        // `with_zones` renumbers zones in first-seen order: find the ungrouped one's new id.
        let ungrouped = ungrouped.and_then(|old| {
            zone_of
                .iter()
                .position(|&z| z == old)
                .map(|i| graph.zone(i))
        });
        (graph.with_ungrouped_zone(ungrouped), nodes)
    }

    /// The graph of `m` clusters, node `i` of `fine` in cluster `parent[i]` and cluster `c` in
    /// zone `zone_of[c]` (a zone id of `fine`). Clusters are linked when any of their members are;
    /// built in one pass over the edges with a stamp per cluster, without sorting all of them.
    pub fn quotient(fine: &Self, parent: &[u32], m: usize, zone_of: Vec<u32>) -> Self {
        // Members of each cluster (a counting sort of the nodes by cluster).
        let mut start = vec![0u32; m + 1];
        for &c in parent {
            if let Some(s) = start.get_mut(c as usize + 1) {
                *s += 1;
            }
        }
        let mut sum = 0;
        for s in &mut start {
            sum += *s;
            *s = sum;
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; parent.len()];
        for (i, &c) in parent.iter().enumerate() {
            if let Some(f) = fill.get_mut(c as usize)
                && let Some(slot) = members.get_mut(*f as usize)
            {
                *slot = i as u32;
                *f += 1;
            }
        }
        let mut offsets = Vec::with_capacity(m + 1);
        offsets.push(0u32);
        let mut neighbours = Vec::new();
        let mut stamp = vec![u32::MAX; m];
        for c in 0..m {
            let first = neighbours.len();
            let (Some(&a), Some(&b)) = (start.get(c), start.get(c + 1)) else {
                offsets.push(neighbours.len() as u32);
                continue;
            };
            for &u in members.get(a as usize..b as usize).unwrap_or(&[]) {
                for &v in fine.neighbours(u as usize) {
                    let Some(&pv) = parent.get(v as usize) else {
                        continue;
                    };
                    if pv as usize != c
                        && let Some(s) = stamp.get_mut(pv as usize)
                        && *s != c as u32
                    {
                        *s = c as u32;
                        neighbours.push(pv);
                    }
                }
            }
            if let Some(list) = neighbours.get_mut(first..) {
                list.sort_unstable();
            }
            offsets.push(neighbours.len() as u32);
        }
        Self {
            offsets,
            neighbours,
            zone: zone_of,
            zone_region: fine.zone_region.clone(),
            regions: fine.regions,
            ungrouped: fine.ungrouped,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.zone.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.zone.is_empty()
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.neighbours.len() / 2
    }

    /// Neighbours of node `i` (empty when out of range).
    pub fn neighbours(&self, i: usize) -> &[u32] {
        let (Some(&a), Some(&b)) = (self.offsets.get(i), self.offsets.get(i + 1)) else {
            return &[];
        };
        self.neighbours.get(a as usize..b as usize).unwrap_or(&[])
    }

    /// Where node `i`'s neighbours lie in the adjacency of all nodes (empty when out of range):
    /// lets per-entry data such as edge weights sit in one flat array aligned with it.
    pub fn neighbour_range(&self, i: usize) -> std::ops::Range<usize> {
        let (Some(&a), Some(&b)) = (self.offsets.get(i), self.offsets.get(i + 1)) else {
            return 0..0;
        };
        a as usize..b as usize
    }

    /// Every undirected edge once, as `(a, b)` with `a < b`.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.len()).flat_map(move |i| {
            self.neighbours(i)
                .iter()
                .filter(move |&&j| j as usize > i)
                .map(move |&j| (i as u32, j))
        })
    }

    /// Zone of each node.
    pub fn zones(&self) -> &[u32] {
        &self.zone
    }

    /// Zone of node `i`.
    pub fn zone(&self, i: usize) -> u32 {
        self.zone.get(i).copied().unwrap_or(0)
    }

    /// Region of each zone.
    pub fn zone_regions(&self) -> &[u32] {
        &self.zone_region
    }

    /// Number of zones.
    pub fn zone_count(&self) -> usize {
        self.zone_region.len().max(1)
    }

    /// Number of regions.
    pub fn region_count(&self) -> usize {
        self.regions as usize
    }

    /// Region of node `i`.
    pub fn region(&self, i: usize) -> u32 {
        self.zone_region
            .get(self.zone(i) as usize)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::LayoutGraph;

    #[test]
    fn edges_are_undirected_deduplicated_and_checked() {
        let g = LayoutGraph::new(4, [(0, 1), (1, 0), (1, 1), (2, 3), (3, 9), (1, 2)]);
        assert_eq!(g.len(), 4);
        assert_eq!(g.edge_count(), 3);
        assert_eq!(g.neighbours(1), &[0, 2]);
        assert_eq!(g.neighbours(9), &[] as &[u32]);
        assert_eq!(g.edges().collect::<Vec<_>>(), vec![(0, 1), (1, 2), (2, 3)]);
        assert_eq!(g.zone_count(), 1);
        assert_eq!(g.region_count(), 1);
    }

    #[test]
    fn the_ungrouped_zone_is_marked() {
        let g = LayoutGraph::with_zones(3, [], &[4, 5, 4], &[0, 0, 0, 0, 1, 2]);
        assert!(g.grouped(0) && g.grouped(1));
        let g = g.with_ungrouped_zone(Some(1));
        assert!(g.grouped(0) && !g.grouped(1) && g.grouped(2));
        assert_eq!(g.ungrouped_zone(), Some(1));
    }

    #[test]
    fn zones_and_regions_are_renumbered_in_first_seen_order() {
        let g = LayoutGraph::with_zones(5, [], &[7, 7, 3, 5, 3], &[0, 0, 0, 9, 0, 1, 0, 2]);
        assert_eq!(g.zones(), &[0, 0, 1, 2, 1]);
        assert_eq!(g.zone_regions(), &[0, 1, 2]);
        assert_eq!(g.region(3), 2);
        assert_eq!(g.region_count(), 3);
    }
}
