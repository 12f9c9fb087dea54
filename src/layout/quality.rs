//! Layout quality measures: sampled normalised stress, node overlaps and group separation.

use std::collections::VecDeque;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::graph::LayoutGraph;
use super::rng::Rng;

/// BFS sources of the sampled stress.
pub const STRESS_SOURCES: usize = 64;
/// Seed choosing the BFS sources.
pub const STRESS_SEED: u64 = 64;

/// Quality of one layout of one graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quality {
    /// Sampled normalised stress (0 is a perfect distance embedding; a random layout is ~0.35).
    pub stress: f64,
    /// Pairs of nodes closer than twice the node radius.
    pub overlaps: usize,
    /// Share of nodes nearer their own zone's centroid than any other zone's.
    pub zone_separation: f64,
    /// Share of nodes nearer their own region's centroid than any other region's.
    pub region_separation: f64,
    /// Mean edge length.
    pub mean_edge: f64,
}

/// Every measure; overlaps counted with a node radius of a quarter of the mean edge length.
pub fn measure(pos: &[[f32; 2]], graph: &LayoutGraph) -> Quality {
    let mean_edge = mean_edge_length(pos, graph);
    let zones: Vec<u32> = (0..graph.len()).map(|i| graph.zone(i)).collect();
    let regions: Vec<u32> = (0..graph.len()).map(|i| graph.region(i)).collect();
    Quality {
        stress: stress(pos, graph, STRESS_SOURCES, STRESS_SEED),
        overlaps: overlaps(pos, (mean_edge * 0.25) as f32),
        zone_separation: separation(pos, &zones),
        region_separation: separation(pos, &regions),
        mean_edge,
    }
}

/// Mean length of the graph's edges (0 without edges).
pub fn mean_edge_length(pos: &[[f32; 2]], graph: &LayoutGraph) -> f64 {
    let (sum, count) = graph
        .edges()
        .filter_map(|(a, b)| Some((pos.get(a as usize)?, pos.get(b as usize)?)))
        .fold((0.0f64, 0usize), |(s, c), (p, q)| {
            (s + f64::from((p[0] - q[0]).hypot(p[1] - q[1])), c + 1)
        });
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Hop distances from `source` (`u32::MAX` where unreachable), into a reused buffer.
fn bfs(graph: &LayoutGraph, source: usize, dist: &mut Vec<u32>, queue: &mut VecDeque<u32>) {
    dist.clear();
    dist.resize(graph.len(), u32::MAX);
    queue.clear();
    if let Some(d) = dist.get_mut(source) {
        *d = 0;
        queue.push_back(source as u32);
    }
    while let Some(u) = queue.pop_front() {
        let du = dist.get(u as usize).copied().unwrap_or(u32::MAX);
        for &v in graph.neighbours(u as usize) {
            if let Some(dv) = dist.get_mut(v as usize)
                && *dv == u32::MAX
            {
                *dv = du + 1;
                queue.push_back(v);
            }
        }
    }
}

/// Sampled normalised stress: from `sources` seeded BFS sources (all nodes when fewer), over
/// every reachable pair `(s, t)` with hop distance `d` and layout distance `e`,
/// `Σ ((α·e − d)/d)² / pairs` with the scale `α` that minimises it. 0 for fewer than 2 nodes,
/// 1 when every pair coincides.
pub fn stress(pos: &[[f32; 2]], graph: &LayoutGraph, sources: usize, seed: u64) -> f64 {
    let n = graph.len().min(pos.len());
    if n < 2 {
        return 0.0;
    }
    let mut picked: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    let take = sources.min(n);
    for i in 0..take {
        let j = i + rng.below(n - i);
        picked.swap(i, j);
    }
    picked.truncate(take);
    let sums: Vec<[f64; 3]> = picked
        .par_iter()
        .map_init(
            || (Vec::new(), VecDeque::new()),
            |(dist, queue), &s| {
                bfs(graph, s, dist, queue);
                let Some(ps) = pos.get(s) else {
                    return [0.0; 3];
                };
                dist.iter()
                    .zip(pos)
                    .filter(|(d, _)| **d != 0 && **d != u32::MAX)
                    .fold([0.0f64; 3], |acc, (&d, q)| {
                        let e = f64::from((ps[0] - q[0]).hypot(ps[1] - q[1]));
                        let r = e / f64::from(d);
                        [acc[0] + r, acc[1] + r * r, acc[2] + 1.0]
                    })
            },
        )
        .collect();
    let [a, b, c] = sums
        .iter()
        .fold([0.0f64; 3], |t, s| [t[0] + s[0], t[1] + s[1], t[2] + s[2]]);
    if c == 0.0 {
        return 0.0;
    }
    if b <= 0.0 {
        return 1.0;
    }
    // With α = a/b, Σ(α·r − 1)² = c − a²/b.
    ((c - a * a / b) / c).max(0.0)
}

/// Pairs of nodes closer than `2·radius` (a grid of cells `2·radius` wide).
pub fn overlaps(pos: &[[f32; 2]], radius: f32) -> usize {
    let cell = 2.0 * radius;
    if !(cell > 0.0 && cell.is_finite()) {
        return 0;
    }
    let key = |p: &[f32; 2]| ((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64);
    let mut grid: FxHashMap<(i64, i64), Vec<u32>> = FxHashMap::default();
    for (i, p) in pos.iter().enumerate() {
        if p[0].is_finite() && p[1].is_finite() {
            grid.entry(key(p)).or_default().push(i as u32);
        }
    }
    let limit = cell * cell;
    pos.par_iter()
        .enumerate()
        .filter(|(_, p)| p[0].is_finite() && p[1].is_finite())
        .map(|(i, p)| {
            let (x, y) = key(p);
            let mut count = 0;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    let Some(others) = grid.get(&(x + dx, y + dy)) else {
                        continue;
                    };
                    count += others
                        .iter()
                        .filter(|&&j| j as usize > i)
                        .filter_map(|&j| pos.get(j as usize))
                        .filter(|q| {
                            let d = [p[0] - q[0], p[1] - q[1]];
                            d[0].mul_add(d[0], d[1] * d[1]) < limit
                        })
                        .count();
                }
            }
            count
        })
        .sum()
}

/// Share of nodes strictly nearer the centroid of their own group (`group[i]`) than any other
/// group's centroid. 1 when there is only one group; 0 without nodes. Costs nodes × groups.
pub fn separation(pos: &[[f32; 2]], group: &[u32]) -> f64 {
    let mut sums: FxHashMap<u32, [f64; 3]> = FxHashMap::default();
    for (p, g) in pos.iter().zip(group) {
        let s = sums.entry(*g).or_insert([0.0; 3]);
        *s = [s[0] + f64::from(p[0]), s[1] + f64::from(p[1]), s[2] + 1.0];
    }
    let mut centroids: Vec<(u32, [f64; 2])> = sums
        .iter()
        .map(|(g, s)| (*g, [s[0] / s[2], s[1] / s[2]]))
        .collect();
    centroids.sort_by_key(|(g, _)| *g);
    let n = pos.len().min(group.len());
    if n == 0 {
        return 0.0;
    }
    let good = pos
        .par_iter()
        .zip(group.par_iter())
        .filter(|(p, g)| {
            let d2 = |c: &[f64; 2]| {
                let d = [f64::from(p[0]) - c[0], f64::from(p[1]) - c[1]];
                d[0] * d[0] + d[1] * d[1]
            };
            let own = centroids
                .iter()
                .find(|(h, _)| h == *g)
                .map_or(f64::INFINITY, |(_, c)| d2(c));
            centroids
                .iter()
                .filter(|(h, _)| h != *g)
                .all(|(_, c)| own < d2(c))
        })
        .count();
    good as f64 / n as f64
}

#[cfg(test)]
#[expect(clippy::float_cmp, reason = "the expected values are exact")]
mod tests {
    use super::*;

    #[test]
    fn a_path_on_a_line_has_zero_stress_at_any_scale() {
        let g = LayoutGraph::new(10, (0..9).map(|i| (i, i + 1)));
        let pos: Vec<[f32; 2]> = (0..10).map(|i| [i as f32 * 3.0, 5.0]).collect();
        assert!(stress(&pos, &g, 64, 1) < 1e-9);
        // Folded in half, distances lie: stress rises.
        let folded: Vec<[f32; 2]> = (0..10).map(|i| [(i as f32 - 4.5).abs(), 0.0]).collect();
        assert!(stress(&folded, &g, 64, 1) > 0.1);
    }

    #[test]
    fn stress_of_a_known_triangle() {
        // Path 0–1–2 drawn as an equilateral triangle: e = 1 for every pair, d = 1, 1, 2.
        // r = e/d over ordered pairs: four 1s and two ½s; a = 5, b = 4.5, c = 6;
        // stress = (6 − 25/4.5)/6 = 2/27.
        let g = LayoutGraph::new(3, [(0, 1), (1, 2)]);
        let h = 3.0f32.sqrt() / 2.0;
        let pos = [[0.0, 0.0], [0.5, h], [1.0, 0.0]];
        assert!((stress(&pos, &g, 64, 1) - 2.0 / 27.0).abs() < 1e-6);
        assert_eq!(stress(&[[0.0, 0.0]; 3], &g, 64, 1), 1.0);
        assert_eq!(stress(&[[0.0, 0.0]], &LayoutGraph::new(1, []), 64, 1), 0.0);
    }

    #[test]
    fn overlaps_count_close_pairs() {
        let pos = [
            [0.0, 0.0],
            [0.5, 0.0],
            [0.0, 0.9],
            [5.0, 5.0],
            [5.1, 5.0],
            [f32::NAN, 0.0],
        ];
        // Radius 0.5: pairs closer than 1: (0,1), (0,2), (1,2) at 1.03 no, (3,4).
        assert_eq!(overlaps(&pos, 0.5), 3);
        assert_eq!(overlaps(&pos, 0.0), 0);
    }

    #[test]
    fn separation_of_clean_and_mixed_groups() {
        let pos = [[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]];
        assert_eq!(separation(&pos, &[0, 0, 1, 1]), 1.0);
        // Node 1 sits in group 1 but is far nearer group 0's side.
        let s = separation(&pos, &[0, 1, 1, 1]);
        assert!((s - 0.75).abs() < 1e-9, "{s}");
        assert_eq!(separation(&pos, &[3, 3, 3, 3]), 1.0);
        assert_eq!(separation(&[], &[]), 0.0);
    }
}
