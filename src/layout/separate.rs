//! Group separation as a final projection: each grouped node that lies nearer another region's or zone's centroid than its own is moved just inside its own group's Voronoi cell, so group hulls do not overlap.
//!
//! The cells of the group centroids partition the plane, and a convex hull of points inside a
//! convex cell stays inside it: once every node sits in its own cell, no two zone hulls (and no
//! two region hulls) overlap. Nodes already inside stay where they are; the others move the
//! least distance across the bisectors that they are on the wrong side of (cyclic projection
//! onto half-planes), so the layout's distances barely change.

use rayon::prelude::*;

use super::graph::LayoutGraph;

/// Above this many groups of a kind, that kind is left alone (the check costs nodes × groups).
pub const MAX_GROUPS: usize = 512;

/// Rounds of projection (centroids recomputed between rounds).
const ROUNDS: usize = 3;
/// Passes over the bisectors in one round.
const PASSES: usize = 4;

/// Centroids of the groups `group[i]` (`count` groups) of `pos`; summed sequentially in f64 so
/// they do not depend on threads. Nodes for which `skip(i)` holds are left out.
fn centroids(
    pos: &[[f32; 2]],
    group: impl Fn(usize) -> u32,
    count: usize,
    skip: impl Fn(usize) -> bool,
) -> Vec<Option<[f32; 2]>> {
    let mut sums = vec![[0.0f64; 3]; count];
    for (i, p) in pos.iter().enumerate() {
        if skip(i) {
            continue;
        }
        if let Some(s) = sums.get_mut(group(i) as usize) {
            *s = [s[0] + f64::from(p[0]), s[1] + f64::from(p[1]), s[2] + 1.0];
        }
    }
    sums.iter()
        .map(|s| (s[2] > 0.0).then(|| [(s[0] / s[2]) as f32, (s[1] / s[2]) as f32]))
        .collect()
}

/// Moves `p`, of the group whose centroid is `own`, to the near side of the bisector between
/// `own` and every centroid in `others`, by `margin` × their distance; `true` when it moved.
fn project(mut p: [f32; 2], own: [f32; 2], others: &[[f32; 2]], margin: f32) -> ([f32; 2], bool) {
    let mut any = false;
    for _ in 0..PASSES {
        let mut moved = false;
        for b in others {
            let u = [b[0] - own[0], b[1] - own[1]];
            let len = u[0].hypot(u[1]);
            if len.is_nan() || len <= 1e-9 {
                continue;
            }
            let u = [u[0] / len, u[1] / len];
            let m = [(own[0] + b[0]) * 0.5, (own[1] + b[1]) * 0.5];
            let s = (p[0] - m[0]).mul_add(u[0], (p[1] - m[1]) * u[1]) + margin * len;
            if s > 0.0 {
                p = [s.mul_add(-u[0], p[0]), s.mul_add(-u[1], p[1])];
                moved = true;
            }
        }
        any |= moved;
        if !moved {
            break;
        }
    }
    (p, any)
}

/// Every centroid but `own`'s.
fn others(centroids: &[Option<[f32; 2]>], own: usize) -> Vec<[f32; 2]> {
    centroids
        .iter()
        .enumerate()
        .filter(|(g, _)| *g != own)
        .filter_map(|(_, c)| *c)
        .collect()
}

/// Moves grouped nodes into their own region's and zone's Voronoi cell (see the module doc);
/// nodes for which `fixed(i)` holds stay. `margin` is the share of the distance between two
/// centroids kept clear on each side of their bisector. Returns the number of nodes moved.
pub fn separate_groups(
    pos: &mut [[f32; 2]],
    graph: &LayoutGraph,
    margin: f32,
    fixed: impl Fn(usize) -> bool + Sync,
) -> usize {
    let n = pos.len().min(graph.len());
    let zones = graph.zone_count();
    let regions = graph.region_count();
    let ungrouped = |i: usize| !graph.grouped(i);
    let zone_regions = graph.zone_regions();
    let region_of = |i: usize| {
        zone_regions
            .get(graph.zone(i) as usize)
            .copied()
            .unwrap_or(0)
    };
    let mut moved = vec![false; n];
    for _ in 0..ROUNDS {
        let region_c = if (2..=MAX_GROUPS).contains(&regions) {
            centroids(pos, region_of, regions, ungrouped)
        } else {
            Vec::new()
        };
        let zone_c = if (2..=MAX_GROUPS).contains(&zones) {
            centroids(pos, |i| graph.zone(i), zones, ungrouped)
        } else {
            Vec::new()
        };
        if region_c.is_empty() && zone_c.is_empty() {
            break;
        }
        // For each zone, the centroids of the other zones of its region; for each region, the
        // other regions' centroids.
        let zone_others: Vec<Vec<[f32; 2]>> = (0..zone_c.len())
            .map(|z| {
                let r = zone_regions.get(z).copied();
                zone_c
                    .iter()
                    .enumerate()
                    .filter(|(y, _)| *y != z && zone_regions.get(*y).copied() == r)
                    .filter_map(|(_, c)| *c)
                    .collect()
            })
            .collect();
        let region_others: Vec<Vec<[f32; 2]>> =
            (0..region_c.len()).map(|r| others(&region_c, r)).collect();
        let changed = pos
            .par_iter_mut()
            .zip(moved.par_iter_mut())
            .enumerate()
            .with_min_len(256)
            .map(|(i, (p, m))| {
                if i >= n || ungrouped(i) || fixed(i) {
                    return false;
                }
                let mut q = *p;
                let mut shifted = false;
                // Zones within the region first; the region bisectors last, so they win.
                let z = graph.zone(i) as usize;
                if let (Some(Some(own)), Some(o)) = (zone_c.get(z), zone_others.get(z)) {
                    let (to, moved) = project(q, *own, o, margin);
                    (q, shifted) = (to, moved);
                }
                let r = region_of(i) as usize;
                if let (Some(Some(own)), Some(o)) = (region_c.get(r), region_others.get(r)) {
                    let (to, moved) = project(q, *own, o, margin);
                    q = to;
                    shifted |= moved;
                }
                // NaN guard: a non-finite move is dropped.
                if shifted && q[0].is_finite() && q[1].is_finite() {
                    *p = q;
                    *m = true;
                    true
                } else {
                    false
                }
            })
            .filter(|c| *c)
            .count();
        if changed == 0 {
            break;
        }
    }
    moved.iter().filter(|m| **m).count()
}

#[cfg(test)]
#[expect(clippy::float_cmp, reason = "nodes that stay keep their exact bits")]
mod tests {
    use super::*;
    use crate::layout::quality::separation;

    #[test]
    fn intruders_move_into_their_own_cell_and_others_stay() {
        // Two zones of one region; node 2 (zone 0) sits deep in zone 1's side.
        let graph = LayoutGraph::with_zones(6, [], &[0, 0, 0, 1, 1, 1], &[0, 0]);
        let mut pos = vec![
            [-10.0, 0.0],
            [-9.0, 1.0],
            [6.0, 0.0],
            [10.0, 0.0],
            [9.0, 1.0],
            [11.0, -1.0],
        ];
        let before = pos.clone();
        let zones: Vec<u32> = (0..6).map(|i| graph.zone(i)).collect();
        assert!(separation(&pos, &zones) < 1.0);
        let moved = separate_groups(&mut pos, &graph, 0.02, |_| false);
        assert!(moved >= 1);
        assert!((separation(&pos, &zones) - 1.0).abs() < 1e-9, "{pos:?}");
        assert_eq!(pos[0], before[0]);
        assert_eq!(pos[3], before[3]);
    }

    #[test]
    fn one_group_and_fixed_nodes_are_left_alone() {
        let graph = LayoutGraph::new(3, [(0, 1)]);
        let mut pos = vec![[0.0, 0.0], [5.0, 0.0], [1.0, 1.0]];
        assert_eq!(separate_groups(&mut pos, &graph, 0.02, |_| false), 0);
        let graph = LayoutGraph::with_zones(4, [], &[0, 0, 1, 1], &[0, 1]);
        let mut pos = vec![[0.0, 0.0], [9.0, 0.0], [10.0, 0.0], [11.0, 0.0]];
        assert_eq!(separate_groups(&mut pos, &graph, 0.02, |i| i == 1), 0);
        assert_eq!(pos[1], [9.0, 0.0]);
    }
}
