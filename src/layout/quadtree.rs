//! A Barnes–Hut quadtree built flat (Morton order, cells in depth-first order with skip links) into reused arrays.

use rayon::prelude::*;

/// Points per leaf at most (unless the points coincide down to the deepest level).
const LEAF_POINTS: usize = 32;
/// Levels of the tree at most (16 bits of Morton code per axis).
const MAX_DEPTH: u32 = 16;

/// One cell of the tree.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cell {
    /// Centre of mass of the points below.
    pub com: [f32; 2],
    /// Number of points below.
    pub mass: f32,
    /// Side length of the cell's square.
    pub size: f32,
    /// Index of the first cell after this cell's subtree.
    pub next: u32,
    /// First point of the cell in [`QuadTree::order`].
    pub start: u32,
    /// One past the last point of the cell in [`QuadTree::order`].
    pub end: u32,
    /// Whether the cell has no children (its points are interacted with one by one).
    pub leaf: bool,
}

/// A quadtree over a set of points, rebuilt every step into the same buffers.
#[derive(Clone, Debug, Default)]
pub struct QuadTree {
    /// `(morton code << 32) | point`, sorted.
    keys: Vec<u64>,
    /// Scratch of the radix sort of `keys`.
    keys_tmp: Vec<u64>,
    /// Scratch of the radix sort: a histogram per pass.
    radix_counts: Vec<[u32; RADIX_BUCKETS]>,
    /// Points in Morton order.
    order: Vec<u32>,
    /// Positions of the points in Morton order (`points[k] = pos[order[k]]`), read sequentially
    /// by the force loops.
    points: Vec<[f32; 2]>,
    /// Cells in depth-first order; cell 0 is the root.
    cells: Vec<Cell>,
    /// Leaf cells, in Morton order.
    leaves: Vec<u32>,
    /// For each point in Morton order, its leaf's position in `leaves`.
    leaf_of: Vec<u32>,
}

/// Spreads the low 16 bits of `v` to the even bits.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v & 0xFFFF);
    x = (x | (x << 8)) & 0x00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333;
    x = (x | (x << 1)) & 0x5555_5555;
    x
}

/// Buckets of each pass of the radix sort (11 bits: three passes over a 32-bit Morton code).
const RADIX_BUCKETS: usize = 1 << 11;

/// Sorts `keys` (`(morton code << 32) | point`, points ascending) by their Morton code, stably,
/// with an LSD radix sort over the code's 32 bits: the same order as sorting the whole keys.
/// `counts` and `tmp` are reused buffers.
fn radix_sort(keys: &mut Vec<u64>, tmp: &mut Vec<u64>, counts: &mut Vec<[u32; RADIX_BUCKETS]>) {
    const BITS: u32 = RADIX_BUCKETS.trailing_zeros();
    const BUCKETS: usize = RADIX_BUCKETS;
    const SHIFTS: [u32; 3] = [32, 32 + BITS, 32 + 2 * BITS];
    let digit = |k: u64, shift: u32| ((k >> shift) as usize) & (BUCKETS - 1);
    // The histograms of all digits in one pass (they do not depend on the order).
    counts.clear();
    counts.resize(SHIFTS.len(), [0; BUCKETS]);
    for &k in keys.iter() {
        for (count, &shift) in counts.iter_mut().zip(&SHIFTS) {
            if let Some(c) = count.get_mut(digit(k, shift)) {
                *c += 1;
            }
        }
    }
    tmp.clear();
    tmp.resize(keys.len(), 0);
    for (count, &shift) in counts.iter_mut().zip(&SHIFTS) {
        // A digit all keys share leaves the order as it is.
        if count.iter().any(|&c| c as usize == keys.len()) {
            continue;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &k in keys.iter() {
            if let Some(c) = count.get_mut(digit(k, shift)) {
                if let Some(t) = tmp.get_mut(*c as usize) {
                    *t = k;
                }
                *c += 1;
            }
        }
        std::mem::swap(keys, tmp);
    }
}

impl QuadTree {
    /// Rebuilds the tree over `pos` (non-finite points are left out).
    pub fn build(&mut self, pos: &[[f32; 2]]) {
        self.keys.clear();
        self.order.clear();
        self.points.clear();
        self.cells.clear();
        self.leaves.clear();
        self.leaf_of.clear();
        // Bounds and the number of finite points (min and max are exact in any order).
        let (lo, hi, finite) = pos
            .par_iter()
            .with_min_len(4096)
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .fold(
                || ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2], 0usize),
                |(lo, hi, n), p| {
                    (
                        [lo[0].min(p[0]), lo[1].min(p[1])],
                        [hi[0].max(p[0]), hi[1].max(p[1])],
                        n + 1,
                    )
                },
            )
            .reduce(
                || ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2], 0usize),
                |a, b| {
                    (
                        [a.0[0].min(b.0[0]), a.0[1].min(b.0[1])],
                        [a.1[0].max(b.1[0]), a.1[1].max(b.1[1])],
                        a.2 + b.2,
                    )
                },
            );
        if lo[0] > hi[0] {
            return;
        }
        let side = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-6) * 1.0001;
        let scale = 65535.0 / side;
        let key = |(i, p): (usize, &[f32; 2])| {
            let x = ((p[0] - lo[0]) * scale) as u32;
            let y = ((p[1] - lo[1]) * scale) as u32;
            ((spread(x) | (spread(y) << 1)) << 32) | i as u64
        };
        if finite == pos.len() {
            // The usual case: an indexed iterator writes the keys in place.
            self.keys
                .par_extend(pos.par_iter().enumerate().with_min_len(4096).map(key));
        } else {
            self.keys.extend(
                pos.iter()
                    .enumerate()
                    .filter(|(_, p)| p[0].is_finite() && p[1].is_finite())
                    .map(key),
            );
        }
        radix_sort(&mut self.keys, &mut self.keys_tmp, &mut self.radix_counts);
        self.order.extend(self.keys.iter().map(|k| *k as u32));
        self.points.extend(
            self.order
                .iter()
                .map(|&i| pos.get(i as usize).copied().unwrap_or([0.0; 2])),
        );
        self.cell(0, self.keys.len(), 0, side);
    }

    /// Builds the cell of sorted points `lo..hi` at `depth`, then its children; returns its index.
    fn cell(&mut self, lo: usize, hi: usize, depth: u32, size: f32) -> usize {
        let index = self.cells.len();
        self.cells.push(Cell {
            size,
            start: lo as u32,
            end: hi as u32,
            ..Cell::default()
        });
        let (mut mass, mut sum) = (0.0f32, [0.0f32; 2]);
        if hi - lo <= LEAF_POINTS || depth >= MAX_DEPTH {
            for p in self.points.get(lo..hi).unwrap_or(&[]) {
                mass += 1.0;
                sum = [sum[0] + p[0], sum[1] + p[1]];
            }
            if let Some(c) = self.cells.get_mut(index) {
                c.leaf = true;
            }
            let leaf = self.leaves.len() as u32;
            self.leaves.push(index as u32);
            self.leaf_of.resize(hi, leaf);
        } else {
            let shift = 32 + 2 * (MAX_DEPTH - 1 - depth);
            let mut start = lo;
            for quadrant in 0..4u64 {
                let range = self.keys.get(start..hi).unwrap_or(&[]);
                let end = start + range.partition_point(|k| (k >> shift) & 3 <= quadrant);
                if end > start {
                    let child = self.cell(start, end, depth + 1, size * 0.5);
                    if let Some(c) = self.cells.get(child) {
                        mass += c.mass;
                        sum = [sum[0] + c.com[0] * c.mass, sum[1] + c.com[1] * c.mass];
                    }
                }
                start = end;
            }
        }
        let next = self.cells.len() as u32;
        if let Some(c) = self.cells.get_mut(index) {
            c.mass = mass;
            c.com = if mass > 0.0 {
                [sum[0] / mass, sum[1] / mass]
            } else {
                [0.0; 2]
            };
            c.next = next;
        }
        index
    }

    /// The cells, root first, in depth-first order.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The points in Morton order (a cell's points are `order[start..end]`).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Positions of the points in Morton order: `points()[k]` is `pos[order()[k]]`.
    pub fn points(&self) -> &[[f32; 2]] {
        &self.points
    }

    /// The leaf cells (indices into [`Self::cells`]), in Morton order.
    pub fn leaves(&self) -> &[u32] {
        &self.leaves
    }

    /// For each point in Morton order, the position of its leaf in [`Self::leaves`].
    pub fn leaf_of(&self) -> &[u32] {
        &self.leaf_of
    }

    /// Bytes held by the buffers.
    pub fn heap_bytes(&self) -> usize {
        (self.keys.capacity() + self.keys_tmp.capacity() + self.points.capacity()) * 8
            + (self.order.capacity() + self.leaves.capacity() + self.leaf_of.capacity()) * 4
            + self.cells.capacity() * 36
    }
}

#[cfg(test)]
#[expect(clippy::float_cmp, reason = "the expected values are exact")]
mod tests {
    use super::QuadTree;

    #[test]
    fn root_holds_all_points_and_skip_links_cover_subtrees() {
        let pos: Vec<[f32; 2]> = (0..100)
            .map(|i| [(i % 10) as f32, (i / 10) as f32 * 2.0])
            .collect();
        let mut t = QuadTree::default();
        t.build(&pos);
        let root = t.cells()[0];
        assert_eq!(root.mass, 100.0);
        assert!((root.com[0] - 4.5).abs() < 1e-4 && (root.com[1] - 9.0).abs() < 1e-4);
        assert_eq!(root.next as usize, t.cells().len());
        // Leaves partition the points.
        let leaf_points: u32 = t
            .cells()
            .iter()
            .filter(|c| c.leaf)
            .map(|c| c.end - c.start)
            .sum();
        assert_eq!(leaf_points, 100);
        assert_eq!(t.leaf_of().len(), 100);
        for (j, &l) in t.leaf_of().iter().enumerate() {
            let c = t.cells()[t.leaves()[l as usize] as usize];
            assert!(c.leaf && (c.start as usize..c.end as usize).contains(&j));
        }
        for (k, &i) in t.order().iter().enumerate() {
            assert_eq!(t.points()[k], pos[i as usize]);
        }
        let mut order = t.order().to_vec();
        order.sort_unstable();
        assert_eq!(order, (0..100).collect::<Vec<u32>>());
        // Each cell's children lie between it and its skip link.
        for (i, c) in t.cells().iter().enumerate() {
            assert!(c.next as usize > i);
            if !c.leaf {
                assert!(t.cells()[i + 1].next <= c.next);
            }
        }
    }

    #[test]
    fn radix_sort_matches_a_full_sort() {
        // Codes over all 32 bits, and codes whose top digit is shared (that pass is skipped).
        for code_bits in [32u32, 18] {
            let mut state = 7u64;
            let mut keys: Vec<u64> = (0..5000u64)
                .map(|i| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    ((state >> (64 - code_bits)) << 32) | i
                })
                .collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            super::radix_sort(&mut keys, &mut Vec::new(), &mut Vec::new());
            assert_eq!(keys, expected);
        }
    }

    #[test]
    fn coincident_and_non_finite_points_do_not_break_the_build() {
        let mut pos = vec![[1.0, 1.0]; 50];
        pos.push([f32::NAN, 0.0]);
        let mut t = QuadTree::default();
        t.build(&pos);
        assert_eq!(t.cells()[0].mass, 50.0);
        t.build(&[]);
        assert!(t.cells().is_empty());
    }
}
