//! Multilevel coarsening: merges neighbours of the same zone (matching, then folding leftovers into the smallest neighbouring cluster).

use super::graph::LayoutGraph;
use super::rng::Rng;

/// A node not yet in a cluster.
const FREE: u32 = u32::MAX;
/// Coarsening stops when a pass keeps more than this share of the nodes.
const MIN_SHRINK: f32 = 0.8;

/// A coarser graph and, for each node of the finer one, the coarse node it went into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coarse {
    /// The coarser graph.
    pub graph: LayoutGraph,
    /// Coarse node of each fine node.
    pub parent: Vec<u32>,
    /// Fine nodes in each coarse node.
    pub size: Vec<u32>,
}

/// One coarsening pass, or `None` when it would not shrink the graph by a fifth.
pub fn coarsen(graph: &LayoutGraph, seed: u64) -> Option<Coarse> {
    let n = graph.len();
    if n < 2 {
        return None;
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = Rng::new(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut parent = vec![FREE; n];
    let mut size: Vec<u32> = Vec::new();
    // Pass 1: match each free node with its free same-zone neighbour of least degree.
    for &u in &order {
        let u = u as usize;
        if parent.get(u) != Some(&FREE) {
            continue;
        }
        let zone = graph.zone(u);
        let best = graph
            .neighbours(u)
            .iter()
            .map(|&v| v as usize)
            .filter(|&v| parent.get(v) == Some(&FREE) && graph.zone(v) == zone)
            .min_by_key(|&v| (graph.neighbours(v).len(), v));
        if let Some(v) = best {
            let id = size.len() as u32;
            size.push(2);
            for w in [u, v] {
                if let Some(p) = parent.get_mut(w) {
                    *p = id;
                }
            }
        }
    }
    // Pass 2: fold each node left over into its smallest same-zone neighbouring cluster.
    for &u in &order {
        let u = u as usize;
        if parent.get(u) != Some(&FREE) {
            continue;
        }
        let zone = graph.zone(u);
        let best = graph
            .neighbours(u)
            .iter()
            .filter(|&&v| graph.zone(v as usize) == zone)
            .filter_map(|&v| parent.get(v as usize).copied())
            .filter(|&c| c != FREE)
            .min_by_key(|&c| (size.get(c as usize).copied().unwrap_or(u32::MAX), c));
        let id = match best {
            Some(c) => {
                if let Some(s) = size.get_mut(c as usize) {
                    *s += 1;
                }
                c
            }
            None => {
                size.push(1);
                size.len() as u32 - 1
            }
        };
        if let Some(p) = parent.get_mut(u) {
            *p = id;
        }
    }
    let m = size.len();
    if m as f32 > MIN_SHRINK * n as f32 {
        return None;
    }
    let mut zone_of = vec![0u32; m];
    for (&c, &z) in parent.iter().zip(graph.zones()) {
        if let Some(slot) = zone_of.get_mut(c as usize) {
            *slot = z;
        }
    }
    let coarse = LayoutGraph::quotient(graph, &parent, m, zone_of);
    Some(Coarse {
        graph: coarse,
        parent,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::coarsen;
    use crate::layout::graph::LayoutGraph;

    #[test]
    fn a_path_halves_and_a_star_collapses() {
        let path = LayoutGraph::new(100, (0..99).map(|i| (i, i + 1)));
        let c = coarsen(&path, 1).unwrap();
        assert!(c.graph.len() <= 60, "{}", c.graph.len());
        assert_eq!(c.size.iter().sum::<u32>(), 100);
        assert!(c.graph.edge_count() >= c.graph.len() - 1);
        let star = LayoutGraph::new(50, (1..50).map(|i| (0, i)));
        let c = coarsen(&star, 1).unwrap();
        assert_eq!(c.graph.len(), 1);
    }

    #[test]
    fn the_coarse_graph_links_clusters_whose_members_are_linked() {
        let zones: Vec<u32> = (0..60).map(|i| i % 3).collect();
        let edges: Vec<(u32, u32)> = (0..60)
            .flat_map(|i| [(i, (i + 3) % 60), (i, (i * 7 + 1) % 60)])
            .collect();
        let g = LayoutGraph::with_zones(60, edges.iter().copied(), &zones, &[0, 0, 1]);
        let c = coarsen(&g, 4).unwrap();
        let expected: std::collections::BTreeSet<(u32, u32)> = g
            .edges()
            .map(|(a, b)| (c.parent[a as usize], c.parent[b as usize]))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        let got: std::collections::BTreeSet<(u32, u32)> = c.graph.edges().collect();
        assert_eq!(got, expected);
        for i in 0..c.graph.len() {
            assert!(c.graph.neighbours(i).windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(c.graph.zone_regions(), g.zone_regions());
    }

    #[test]
    fn zones_are_never_merged_and_edgeless_graphs_stop() {
        // A path alternating between two zones has no same-zone edge to merge.
        let zones: Vec<u32> = (0..10).map(|i| i % 2).collect();
        let g = LayoutGraph::with_zones(10, (0..9).map(|i| (i, i + 1)), &zones, &[0, 0]);
        assert!(coarsen(&g, 1).is_none());
        assert!(coarsen(&LayoutGraph::new(10, []), 1).is_none());
        // Two zones, each a path: clusters stay within a zone.
        let zones: Vec<u32> = (0..20).map(|i| u32::from(i >= 10)).collect();
        let g = LayoutGraph::with_zones(20, (0..19).map(|i| (i, i + 1)), &zones, &[0, 1]);
        let c = coarsen(&g, 2).unwrap();
        let mut zone_of_cluster = vec![None; c.graph.len()];
        for (i, &p) in c.parent.iter().enumerate() {
            let z = zone_of_cluster[p as usize].get_or_insert(g.zone(i));
            assert_eq!(*z, g.zone(i));
        }
        assert_eq!(c.graph.region_count(), 2);
    }
}
