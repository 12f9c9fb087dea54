//! Pure force steps over flat position slices: Barnes–Hut repulsion, edge attraction and group forces, each node writing only its own slot.

use rayon::prelude::*;

use super::graph::LayoutGraph;
use super::quadtree::QuadTree;

/// The force model's constants (the spring–electrical model of Hu 2005 with group terms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForceParams {
    /// Natural edge length.
    pub k: f32,
    /// Strength of the node–node repulsion `C·k²/d` (Hu's `C`).
    pub repulsion: f32,
    /// Barnes–Hut opening angle: a cell of side `s` at distance `d` counts as one body when `s < θ·d`.
    pub theta: f32,
    /// Linear pull of each node towards its zone's centroid, × (1 + the stiffness of its springs),
    /// when there are several zones (keeps a zone compact and apart from the others).
    pub zone_pull: f32,
    /// The same pull that acts even with one zone: a weak gravity that keeps disconnected parts
    /// together.
    pub gravity: f32,
    /// Linear pull of each zone, as a whole, towards its region's centroid.
    pub region_pull: f32,
    /// Linear pull of each region, as a whole, towards the centroid of all nodes.
    pub centre_pull: f32,
    /// Weight of an edge between two zones of one region (1 within a zone).
    pub cross_zone_edge: f32,
    /// Weight of an edge between two regions.
    pub cross_region_edge: f32,
    /// Extra repulsion between the centroids of zones of one region (× the node–node repulsion).
    pub zone_push: f32,
    /// Extra repulsion between region centroids (× the node–node repulsion).
    pub region_push: f32,
}

impl Default for ForceParams {
    fn default() -> Self {
        Self {
            k: 1.0,
            repulsion: 0.2,
            theta: 2.0,
            zone_pull: 0.5,
            gravity: 0.02,
            region_pull: 0.1,
            centre_pull: 0.05,
            cross_zone_edge: 0.3,
            cross_region_edge: 0.05,
            zone_push: 0.0,
            region_push: 0.0,
        }
    }
}

impl ForceParams {
    /// The plain spring–electrical model: groups ignored but for a weak pull to the middle that
    /// keeps disconnected parts together. Lower stress, no group separation; a finer opening
    /// angle (1.5), as stress is what this preset is for.
    pub fn plain() -> Self {
        Self {
            theta: 1.5,
            zone_pull: 0.0,
            region_pull: 0.0,
            centre_pull: 0.0,
            cross_zone_edge: 1.0,
            cross_region_edge: 1.0,
            zone_push: 0.0,
            region_push: 0.0,
            ..Self::default()
        }
    }
}

/// Above this many zones (or regions), the pairwise repulsion between them is left out.
const MAX_PAIRWISE_GROUPS: usize = 512;

/// Centroids and sizes of zones and regions, and each zone's share of the group repulsion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups {
    /// Centroid of each zone.
    pub zone_centroid: Vec<[f32; 2]>,
    /// Nodes in each zone.
    pub zone_size: Vec<f32>,
    /// Centroid of each region.
    pub region_centroid: Vec<[f32; 2]>,
    /// Nodes in each region.
    pub region_size: Vec<f32>,
    /// Force moving every node of each zone alike: group repulsion and the pulls of zones
    /// towards their region and of regions towards the middle.
    pub zone_push: Vec<[f32; 2]>,
}

/// Repulsion between two bodies at offset `d = a − b`: `C·k²·mass/|d|` along `d`.
#[inline]
fn push(d: [f32; 2], ck2_mass: f32) -> [f32; 2] {
    let d2 = d[0] * d[0] + d[1] * d[1];
    if d2 > 1e-12 {
        [d[0] * ck2_mass / d2, d[1] * ck2_mass / d2]
    } else {
        [0.0; 2]
    }
}

/// A fixed direction for two coincident nodes, opposite for the other one of the pair.
fn apart(i: usize, j: usize) -> [f32; 2] {
    let (lo, hi) = (i.min(j) as u64, i.max(j) as u64);
    let h = (lo.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ hi).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let angle = (h >> 40) as f32 / (1u64 << 24) as f32 * std::f32::consts::TAU;
    let sign = if i < j { 1.0 } else { -1.0 };
    [sign * angle.cos(), sign * angle.sin()]
}

/// Barnes–Hut repulsion on node `i` at `p` from every other node.
pub fn repulsion_on(
    i: usize,
    p: [f32; 2],
    pos: &[[f32; 2]],
    tree: &QuadTree,
    params: &ForceParams,
) -> [f32; 2] {
    let ck2 = params.repulsion * params.k * params.k;
    let theta2 = params.theta * params.theta;
    let cells = tree.cells();
    let order = tree.order();
    let mut f = [0.0f32; 2];
    let mut c = 0usize;
    while let Some(cell) = cells.get(c) {
        let d = [p[0] - cell.com[0], p[1] - cell.com[1]];
        let d2 = d[0] * d[0] + d[1] * d[1];
        if cell.size * cell.size < theta2 * d2 {
            // Far enough: the cell acts as one body at its centre of mass.
            let m = ck2 * cell.mass / d2;
            f = [f[0] + d[0] * m, f[1] + d[1] * m];
            c = cell.next as usize;
        } else if cell.leaf {
            let points = order
                .get(cell.start as usize..cell.end as usize)
                .unwrap_or(&[]);
            for &j in points {
                let j = j as usize;
                let Some(q) = pos.get(j) else { continue };
                let dj = [p[0] - q[0], p[1] - q[1]];
                let dj2 = dj[0] * dj[0] + dj[1] * dj[1];
                if dj2 > 1e-12 {
                    let m = ck2 / dj2;
                    f = [f[0] + dj[0] * m, f[1] + dj[1] * m];
                } else if j != i {
                    let a = apart(i, j);
                    let m = ck2 * 100.0 / params.k;
                    f = [f[0] + a[0] * m, f[1] + a[1] * m];
                }
            }
            c = cell.next as usize;
        } else {
            c += 1;
        }
    }
    f
}

/// Spring attraction on node `i` at `p` from its neighbours: `w·|d|²/k` along each edge, the
/// weight `w` lower for edges that leave the node's zone or region. Also returns the springs'
/// stiffness `Σ w·|d|/k`, which scales the node's pull towards its zone.
pub fn attraction_on(
    i: usize,
    p: [f32; 2],
    pos: &[[f32; 2]],
    graph: &LayoutGraph,
    params: &ForceParams,
) -> ([f32; 2], f32) {
    let inv_k = 1.0 / params.k;
    let zone = graph.zone(i);
    let region = graph.region(i);
    let zones = graph.zones();
    let zone_regions = graph.zone_regions();
    let ungrouped = graph.ungrouped_zone();
    let free = ungrouped == Some(zone);
    graph
        .neighbours(i)
        .iter()
        .filter_map(|&j| Some((zones.get(j as usize)?, pos.get(j as usize)?)))
        .fold(([0.0f32; 2], 0.0f32), |(f, s), (&zj, q)| {
            let w = if zj == zone || free || ungrouped == Some(zj) {
                1.0
            } else if zone_regions.get(zj as usize) == Some(&region) {
                params.cross_zone_edge
            } else {
                params.cross_region_edge
            };
            let d = [q[0] - p[0], q[1] - p[1]];
            let len = (d[0] * d[0] + d[1] * d[1]).sqrt() * inv_k * w;
            ([d[0] * len + f[0], d[1] * len + f[1]], s + len)
        })
}

/// The weight of every entry of `graph`'s adjacency (aligned with its neighbour lists, see
/// [`LayoutGraph::neighbour_range`]), as [`attraction_on`] weighs edges: 1 within a zone or
/// when either end is ungrouped, `cross_zone_edge` between zones of one region, else
/// `cross_region_edge`. Depends only on the graph and the parameters, so it is computed once.
pub fn edge_weights(graph: &LayoutGraph, params: &ForceParams) -> Vec<f32> {
    let zones = graph.zones();
    let zone_regions = graph.zone_regions();
    let ungrouped = graph.ungrouped_zone();
    let mut out = Vec::with_capacity(graph.edge_count() * 2);
    for i in 0..graph.len() {
        let zone = graph.zone(i);
        let region = graph.region(i);
        let free = ungrouped == Some(zone);
        out.extend(graph.neighbours(i).iter().map(|&j| {
            let zj = zones.get(j as usize).copied().unwrap_or(0);
            if zj == zone || free || ungrouped == Some(zj) {
                1.0
            } else if zone_regions.get(zj as usize) == Some(&region) {
                params.cross_zone_edge
            } else {
                params.cross_region_edge
            }
        }));
    }
    out
}

/// [`attraction_on`] with the weights of [`edge_weights`] of node `i`'s neighbours: the same
/// sums in the same order, without looking up zones.
#[inline]
fn weighted_attraction_on(
    p: [f32; 2],
    pos: &[[f32; 2]],
    neighbours: &[u32],
    weights: &[f32],
    inv_k: f32,
) -> ([f32; 2], f32) {
    let (mut f, mut s) = ([0.0f32; 2], 0.0f32);
    for (&j, &w) in neighbours.iter().zip(weights) {
        let Some(q) = pos.get(j as usize) else {
            continue;
        };
        let d = [q[0] - p[0], q[1] - p[1]];
        let len = (d[0] * d[0] + d[1] * d[1]).sqrt() * inv_k * w;
        f = [d[0] * len + f[0], d[1] * len + f[1]];
        s += len;
    }
    (f, s)
}

impl Groups {
    /// Computes centroids (sequentially, in f64, so the sums do not depend on thread scheduling)
    /// and each zone's group repulsion.
    pub fn compute(&mut self, pos: &[[f32; 2]], graph: &LayoutGraph, params: &ForceParams) {
        let zones = graph.zone_count();
        let regions = graph.region_count();
        let mut zsum = vec![[0.0f64; 3]; zones];
        for (p, &z) in pos.iter().zip(graph.zones()) {
            if let Some(s) = zsum.get_mut(z as usize) {
                *s = [s[0] + f64::from(p[0]), s[1] + f64::from(p[1]), s[2] + 1.0];
            }
        }
        let mut rsum = vec![[0.0f64; 3]; regions];
        for (s, &r) in zsum.iter().zip(graph.zone_regions()) {
            if let Some(t) = rsum.get_mut(r as usize) {
                *t = [t[0] + s[0], t[1] + s[1], t[2] + s[2]];
            }
        }
        let centre = |s: &[f64; 3]| {
            if s[2] > 0.0 {
                [(s[0] / s[2]) as f32, (s[1] / s[2]) as f32]
            } else {
                [0.0; 2]
            }
        };
        self.zone_centroid = zsum.iter().map(centre).collect();
        self.zone_size = zsum.iter().map(|s| s[2] as f32).collect();
        self.region_centroid = rsum.iter().map(centre).collect();
        self.region_size = rsum.iter().map(|s| s[2] as f32).collect();
        let ck2 = params.repulsion * params.k * params.k;
        let total: f64 = rsum.iter().map(|s| s[2]).sum();
        let middle = if total > 0.0 {
            let x: f64 = rsum.iter().map(|s| s[0]).sum();
            let y: f64 = rsum.iter().map(|s| s[1]).sum();
            [(x / total) as f32, (y / total) as f32]
        } else {
            [0.0; 2]
        };
        // Pairwise group repulsion is quadratic in the groups: only when asked for and while the
        // groups are few (a graph at zone level has one zone per node).
        let region_pairs = params.region_push != 0.0 && regions <= MAX_PAIRWISE_GROUPS;
        let zone_pairs = params.zone_push != 0.0 && zones <= MAX_PAIRWISE_GROUPS;
        let region_push: Vec<[f32; 2]> = self
            .region_centroid
            .iter()
            .enumerate()
            .map(|(a, ca)| {
                self.region_centroid
                    .iter()
                    .zip(&self.region_size)
                    .enumerate()
                    .filter(|(b, _)| region_pairs && *b != a)
                    .fold(
                        [
                            params.centre_pull * (middle[0] - ca[0]),
                            params.centre_pull * (middle[1] - ca[1]),
                        ],
                        |f, (_, (cb, nb))| {
                            let g = push(
                                [ca[0] - cb[0], ca[1] - cb[1]],
                                params.region_push * ck2 * nb,
                            );
                            [f[0] + g[0], f[1] + g[1]]
                        },
                    )
            })
            .collect();
        let zone_regions = graph.zone_regions();
        self.zone_push = self
            .zone_centroid
            .iter()
            .enumerate()
            .map(|(a, ca)| {
                let ra = zone_regions.get(a).copied().unwrap_or(0);
                let same_region = self
                    .zone_centroid
                    .iter()
                    .zip(&self.zone_size)
                    .zip(zone_regions)
                    .enumerate()
                    .filter(|(b, (_, rb))| zone_pairs && *b != a && **rb == ra)
                    .fold([0.0f32; 2], |f, (_, ((cb, nb), _))| {
                        let g = push([ca[0] - cb[0], ca[1] - cb[1]], params.zone_push * ck2 * nb);
                        [f[0] + g[0], f[1] + g[1]]
                    });
                let r = region_push.get(ra as usize).copied().unwrap_or([0.0; 2]);
                let cr = self
                    .region_centroid
                    .get(ra as usize)
                    .copied()
                    .unwrap_or(*ca);
                [
                    params
                        .region_pull
                        .mul_add(cr[0] - ca[0], same_region[0] + r[0]),
                    params
                        .region_pull
                        .mul_add(cr[1] - ca[1], same_region[1] + r[1]),
                ]
            })
            .collect();
    }

    /// Group force on node `i` at `p`: its pull towards its zone's centroid, as stiff as
    /// `(gravity + zone_pull) × (1 + stiffness)` of its springs, plus the force moving its whole zone.
    pub fn force_on(
        &self,
        i: usize,
        p: [f32; 2],
        stiffness: f32,
        graph: &LayoutGraph,
        params: &ForceParams,
    ) -> [f32; 2] {
        let z = graph.zone(i) as usize;
        let cz = self.zone_centroid.get(z).copied().unwrap_or(p);
        let extra = self.zone_push.get(z).copied().unwrap_or([0.0; 2]);
        let grouped = if graph.zone_count() > 1 && graph.grouped(i) {
            params.zone_pull
        } else {
            0.0
        };
        let pull = (params.gravity + grouped) * (1.0 + stiffness);
        [
            pull * (cz[0] - p[0]) + extra[0],
            pull * (cz[1] - p[1]) + extra[1],
        ]
    }
}

/// Terms of the local expansions of the far field.
const TERMS: usize = 4;

/// Reused buffers of [`forces`]: per leaf of the tree, the local expansion of the repulsion of
/// all well-separated cells and the list of cells too near for it.
#[derive(Clone, Debug, Default)]
pub struct ForceScratch {
    /// Forces in the tree's (Morton) order.
    sorted: Vec<[f32; 2]>,
    /// Per leaf: expansion centre.
    centre: Vec<[f32; 2]>,
    /// Per leaf: coefficients `a_k` (complex) of `F(z) = C·k²·Σ a_k·conj(z − c)^k`.
    coeffs: Vec<[[f32; 2]; TERMS]>,
    /// Per leaf: cells interacted with point by point.
    near: Vec<Vec<u32>>,
}

impl ForceScratch {
    /// Bytes held by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * 8
            + self.centre.capacity() * 8
            + self.coeffs.capacity() * 8 * TERMS
            + self
                .near
                .iter()
                .map(|n| n.capacity() * 4 + 24)
                .sum::<usize>()
    }
}

#[inline]
fn cmul(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]]
}

/// The far-field expansion of leaf `leaf` and its near list. A cell of side `s` whose centre of
/// mass `w` lies at `|c − w| > (s + 2r)/θ` from the leaf's centre `c` (radius `r`) adds
/// `m·(−1)^k / conj(c − w)^(k+1)` to `a_k`; since `m·(z − w)/|z − w|² = m / conj(z − w)` and
/// `1/(u + v) = Σ (−1)^k u^k / v^(k+1)`, the leaf's points then feel `Σ a_k·conj(z − c)^k`.
fn expand_leaf(
    index: u32,
    leaf: &super::quadtree::Cell,
    tree: &QuadTree,
    theta: f32,
    coeffs: &mut [[f32; 2]; TERMS],
    near: &mut Vec<u32>,
) -> [f32; 2] {
    let cells = tree.cells();
    let c = leaf.com;
    let r2 = tree
        .points()
        .get(leaf.start as usize..leaf.end as usize)
        .unwrap_or(&[])
        .iter()
        .map(|q| (q[0] - c[0]) * (q[0] - c[0]) + (q[1] - c[1]) * (q[1] - c[1]))
        .fold(0.0f32, f32::max);
    let r = r2.sqrt();
    *coeffs = [[0.0; 2]; TERMS];
    near.clear();
    let mut i = 0usize;
    while let Some(cell) = cells.get(i) {
        let d = [c[0] - cell.com[0], c[1] - cell.com[1]];
        let d2 = d[0] * d[0] + d[1] * d[1];
        let reach = cell.size + 2.0 * r;
        if reach * reach < theta * theta * d2 {
            // q = 1 / conj(d) = d / |d|².
            let q = [d[0] / d2, d[1] / d2];
            let mut term = [q[0] * cell.mass, q[1] * cell.mass];
            for a in coeffs.iter_mut() {
                *a = [a[0] + term[0], a[1] + term[1]];
                let t = cmul(term, q);
                term = [-t[0], -t[1]];
            }
            i = cell.next as usize;
        } else if cell.leaf {
            near.push(i as u32);
            i = cell.next as usize;
        } else {
            i += 1;
        }
    }
    // A cell holding the leaf can count as one far body when its centre of mass lies far from a
    // leaf at its edge; the leaf's own points then still push each other apart point by point
    // (else two nodes at the edge of a layout could sit on top of each other for good).
    if !near.contains(&index) {
        near.push(index);
    }
    c
}

/// Repulsion on node `i` at `p` from the cells of its leaf's near list: one body per cell when
/// far enough from `p`, else point by point (read in Morton order from [`QuadTree::points`]).
/// The node's own leaf (`own`) is always taken point by point.
fn near_repulsion(
    i: usize,
    p: [f32; 2],
    tree: &QuadTree,
    near: &[u32],
    own: usize,
    params: &ForceParams,
) -> [f32; 2] {
    let cells = tree.cells();
    let order = tree.order();
    let points = tree.points();
    let theta2 = params.theta * params.theta;
    let mut f = [0.0f32; 2];
    for (c, cell) in near
        .iter()
        .filter_map(|&c| Some((c as usize, cells.get(c as usize)?)))
    {
        let d = [p[0] - cell.com[0], p[1] - cell.com[1]];
        let d2 = d[0] * d[0] + d[1] * d[1];
        if c != own && cell.size * cell.size < theta2 * d2 {
            let m = cell.mass / d2;
            f = [f[0] + d[0] * m, f[1] + d[1] * m];
            continue;
        }
        let (start, end) = (cell.start as usize, cell.end as usize);
        for (k, q) in points.get(start..end).unwrap_or(&[]).iter().enumerate() {
            let dj = [p[0] - q[0], p[1] - q[1]];
            let dj2 = dj[0] * dj[0] + dj[1] * dj[1];
            if dj2 > 1e-12 {
                f = [f[0] + dj[0] / dj2, f[1] + dj[1] / dj2];
            } else if let Some(&j) = order.get(start + k)
                && j as usize != i
            {
                let a = apart(i, j as usize);
                let m = 100.0 / params.k;
                f = [f[0] + a[0] * m, f[1] + a[1] * m];
            }
        }
    }
    f
}

/// The total force on every node, written into `out`. `tree` and `groups` must have been built
/// from `pos`, and `weights` be the [`edge_weights`] of `graph` and `params`.
///
/// Repulsion is computed per leaf of the tree: one traversal per leaf gathers a local expansion
/// of the far field and a near list (in parallel, each leaf writing its own slot); then each
/// node (in Morton order, in parallel, each writing its own slot) evaluates its leaf's expansion
/// and its near cells, adds springs and group forces; the result is scattered to `out`.
#[expect(
    clippy::too_many_arguments,
    reason = "the step's inputs, each reused across steps"
)]
pub fn forces(
    pos: &[[f32; 2]],
    graph: &LayoutGraph,
    weights: &[f32],
    tree: &QuadTree,
    groups: &Groups,
    params: &ForceParams,
    scratch: &mut ForceScratch,
    out: &mut [[f32; 2]],
) {
    let leaves = tree.leaves();
    let cells = tree.cells();
    scratch.centre.resize(leaves.len(), [0.0; 2]);
    scratch.coeffs.resize(leaves.len(), [[0.0; 2]; TERMS]);
    scratch.near.resize_with(leaves.len(), Vec::new);
    let theta = params.theta;
    scratch
        .centre
        .par_iter_mut()
        .zip(scratch.coeffs.par_iter_mut())
        .zip(scratch.near.par_iter_mut())
        .zip(leaves.par_iter())
        .with_min_len(16)
        .for_each(|(((centre, coeffs), near), &leaf)| {
            if let Some(cell) = cells.get(leaf as usize) {
                *centre = expand_leaf(leaf, cell, tree, theta, coeffs, near);
            }
        });

    let order = tree.order();
    let points = tree.points();
    let leaf_of = tree.leaf_of();
    let inv_k = 1.0 / params.k;
    let ck2 = params.repulsion * params.k * params.k;
    let (centres, coeffs, nears) = (&scratch.centre, &scratch.coeffs, &scratch.near);
    scratch.sorted.clear();
    scratch.sorted.resize(order.len(), [0.0; 2]);
    scratch
        .sorted
        .par_iter_mut()
        .zip(order.par_iter())
        .zip(points.par_iter())
        .zip(leaf_of.par_iter())
        .with_min_len(256)
        .for_each(|(((f, &i), &p), &leaf)| {
            let i = i as usize;
            let leaf = leaf as usize;
            let (Some(c), Some(a), Some(near)) =
                (centres.get(leaf), coeffs.get(leaf), nears.get(leaf))
            else {
                return;
            };
            // Far field: Σ a_k·u^k with u = conj(p − c), by Horner's rule.
            let u = [p[0] - c[0], c[1] - p[1]];
            let far = a.iter().rev().fold([0.0f32; 2], |acc, ak| {
                let t = cmul(acc, u);
                [t[0] + ak[0], t[1] + ak[1]]
            });
            let own = leaves.get(leaf).map_or(usize::MAX, |&l| l as usize);
            let nearf = near_repulsion(i, p, tree, near, own, params);
            let range = graph.neighbour_range(i);
            let (spring, stiffness) = weighted_attraction_on(
                p,
                pos,
                graph.neighbours(i),
                weights.get(range).unwrap_or(&[]),
                inv_k,
            );
            let g = groups.force_on(i, p, stiffness, graph, params);
            *f = [
                ck2 * (far[0] + nearf[0]) + spring[0] + g[0],
                ck2 * (far[1] + nearf[1]) + spring[1] + g[1],
            ];
        });
    out.fill([0.0; 2]);
    for (f, &i) in scratch.sorted.iter().zip(order) {
        if let Some(o) = out.get_mut(i as usize) {
            *o = *f;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_forces(pos: &[[f32; 2]], graph: &LayoutGraph, params: &ForceParams) -> Vec<[f32; 2]> {
        let mut tree = QuadTree::default();
        tree.build(pos);
        let mut groups = Groups::default();
        groups.compute(pos, graph, params);
        let mut out = vec![[0.0; 2]; pos.len()];
        forces(
            pos,
            graph,
            &edge_weights(graph, params),
            &tree,
            &groups,
            params,
            &mut ForceScratch::default(),
            &mut out,
        );
        out
    }

    #[test]
    fn barnes_hut_is_close_to_the_exact_sum() {
        let mut rng = crate::layout::rng::Rng::new(3);
        let pos: Vec<[f32; 2]> = (0..2000).map(|_| rng.in_disc([0.0, 0.0], 40.0)).collect();
        let params = ForceParams {
            theta: 0.8,
            ..ForceParams::default()
        };
        let mut tree = QuadTree::default();
        tree.build(&pos);
        let mut worst = 0.0f32;
        for i in (0..pos.len()).step_by(97) {
            let p = pos[i];
            let bh = repulsion_on(i, p, &pos, &tree, &params);
            let exact =
                pos.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .fold([0.0; 2], |f, (_, q)| {
                        let g = push([p[0] - q[0], p[1] - q[1]], 0.2);
                        [f[0] + g[0], f[1] + g[1]]
                    });
            let err =
                (bh[0] - exact[0]).hypot(bh[1] - exact[1]) / exact[0].hypot(exact[1]).max(1.0);
            worst = worst.max(err);
        }
        assert!(worst < 0.05, "relative error {worst}");
    }

    #[test]
    fn leaf_expansions_are_close_to_the_exact_sum() {
        let mut rng = crate::layout::rng::Rng::new(5);
        let pos: Vec<[f32; 2]> = (0..3000)
            .map(|i| rng.in_disc([(i % 3) as f32 * 30.0, 0.0], 25.0))
            .collect();
        let graph = LayoutGraph::new(pos.len(), []);
        let params = ForceParams {
            gravity: 0.0,
            theta: 1.0,
            ..ForceParams::default()
        };
        let got = all_forces(&pos, &graph, &params);
        let mut worst = 0.0f32;
        let mut total = 0.0f32;
        for i in (0..pos.len()).step_by(37) {
            let p = pos[i];
            let exact =
                pos.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .fold([0.0; 2], |f, (_, q)| {
                        let g = push([p[0] - q[0], p[1] - q[1]], 0.2);
                        [f[0] + g[0], f[1] + g[1]]
                    });
            let err = (got[i][0] - exact[0]).hypot(got[i][1] - exact[1])
                / exact[0].hypot(exact[1]).max(1.0);
            worst = worst.max(err);
            total += err;
        }
        let mean = total / (pos.len() / 37) as f32;
        assert!(
            mean < 0.03 && worst < 0.15,
            "relative error: mean {mean}, worst {worst}"
        );
    }

    #[test]
    fn two_nodes_at_the_edge_push_each_other_apart() {
        // Two nodes a hundredth apart, far out from the rest: the tree as a whole is far enough
        // from their leaf to count as one body, yet they must feel each other (they used not
        // to, and sat on top of each other for good: SmartThings' `dove` and `oreck`).
        let mut rng = crate::layout::rng::Rng::new(4);
        let mut pos: Vec<[f32; 2]> = (0..40).map(|_| rng.in_disc([0.0, 0.0], 2.0)).collect();
        pos.push([30.0, 0.0]);
        pos.push([30.0, 0.01]);
        let graph = LayoutGraph::new(pos.len(), []);
        let params = ForceParams {
            gravity: 0.0,
            ..ForceParams::default()
        };
        let f = all_forces(&pos, &graph, &params);
        let ck2 = params.repulsion * params.k * params.k;
        // Each pushes the other with ck²/0.01 = 100·ck² along y.
        assert!(
            f[40][1] < -50.0 * ck2 && f[41][1] > 50.0 * ck2,
            "{:?}",
            &f[40..]
        );
    }

    #[test]
    fn weighted_attraction_is_exactly_attraction_on() {
        let mut rng = crate::layout::rng::Rng::new(9);
        let n = 300u32;
        let edges: Vec<(u32, u32)> = (0..n * 3)
            .map(|_| (rng.below(n as usize) as u32, rng.below(n as usize) as u32))
            .collect();
        let zone_of: Vec<u32> = (0..n).map(|i| i % 5).collect();
        let graph = LayoutGraph::with_zones(n as usize, edges, &zone_of, &[0, 0, 1, 1, 2])
            .with_ungrouped_zone(Some(4));
        let pos: Vec<[f32; 2]> = (0..n).map(|_| rng.in_disc([0.0, 0.0], 20.0)).collect();
        let params = ForceParams::default();
        let weights = edge_weights(&graph, &params);
        for (i, &p) in pos.iter().enumerate() {
            let w = &weights[graph.neighbour_range(i)];
            let got = weighted_attraction_on(p, &pos, graph.neighbours(i), w, 1.0 / params.k);
            assert_eq!(got, attraction_on(i, p, &pos, &graph, &params), "node {i}");
        }
    }

    #[test]
    fn two_linked_nodes_balance_at_the_model_distance() {
        // |d|²/k = C·k²/|d|  ⇒  |d| = C^(1/3)·k.
        let graph = LayoutGraph::new(2, [(0, 1)]);
        let params = ForceParams {
            gravity: 0.0,
            ..ForceParams::default()
        };
        let d = 0.2f32.cbrt();
        let f = all_forces(&[[0.0, 0.0], [d, 0.0]], &graph, &params);
        assert!(f[0][0].abs() < 1e-4 && f[1][0].abs() < 1e-4, "{f:?}");
        let f = all_forces(&[[0.0, 0.0], [2.0, 0.0]], &graph, &params);
        assert!(f[0][0] > 0.0 && f[1][0] < 0.0, "a long edge pulls: {f:?}");
    }

    #[test]
    fn coincident_nodes_are_pushed_apart_and_forces_stay_finite() {
        let graph = LayoutGraph::new(3, []);
        let f = all_forces(&[[1.0, 1.0]; 3], &graph, &ForceParams::default());
        assert!(f.iter().flatten().all(|x| x.is_finite()));
        assert!(f.iter().all(|v| v[0].hypot(v[1]) > 1.0), "{f:?}");
    }

    #[test]
    fn zones_pull_together_and_push_apart() {
        // Two zones in one region, each a single node off its centroid.
        let graph = LayoutGraph::with_zones(4, [], &[0, 0, 1, 1], &[0, 0]);
        let params = ForceParams {
            region_pull: 0.0,
            zone_push: 1.0,
            ..ForceParams::default()
        };
        let pos = [[-10.0, 0.0], [-8.0, 0.0], [8.0, 0.0], [10.0, 0.0]];
        let mut groups = Groups::default();
        groups.compute(&pos, &graph, &params);
        assert_eq!(groups.zone_centroid, vec![[-9.0, 0.0], [9.0, 0.0]]);
        assert_eq!(groups.zone_size, vec![2.0, 2.0]);
        assert_eq!(groups.region_centroid, vec![[0.0, 0.0]]);
        // Zone 0 is pushed left, zone 1 right.
        assert!(groups.zone_push[0][0] < 0.0 && groups.zone_push[1][0] > 0.0);
        // The node at -10 is pulled right towards its zone's centroid, more than the push.
        let params_no_push = ForceParams {
            zone_push: 0.0,
            region_pull: 0.0,
            centre_pull: 0.0,
            ..params
        };
        groups.compute(&pos, &graph, &params_no_push);
        let f = groups.force_on(0, pos[0], 0.0, &graph, &params_no_push);
        assert!(
            (f[0] - params.zone_pull - params.gravity).abs() < 1e-6,
            "{f:?}"
        );
    }
}
