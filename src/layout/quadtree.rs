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
    /// Points in Morton order.
    order: Vec<u32>,
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

impl QuadTree {
    /// Rebuilds the tree over `pos` (non-finite points are left out).
    pub fn build(&mut self, pos: &[[f32; 2]]) {
        self.keys.clear();
        self.order.clear();
        self.cells.clear();
        self.leaves.clear();
        self.leaf_of.clear();
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for p in pos.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
            lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
        if lo[0] > hi[0] {
            return;
        }
        let side = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-6) * 1.0001;
        let scale = 65535.0 / side;
        self.keys.par_extend(
            pos.par_iter()
                .enumerate()
                .filter(|(_, p)| p[0].is_finite() && p[1].is_finite())
                .map(|(i, p)| {
                    let x = ((p[0] - lo[0]) * scale) as u32;
                    let y = ((p[1] - lo[1]) * scale) as u32;
                    ((spread(x) | (spread(y) << 1)) << 32) | i as u64
                }),
        );
        self.keys.par_sort_unstable();
        self.order.extend(self.keys.iter().map(|k| *k as u32));
        self.cell(pos, 0, self.keys.len(), 0, side);
    }

    /// Builds the cell of sorted points `lo..hi` at `depth`, then its children; returns its index.
    fn cell(&mut self, pos: &[[f32; 2]], lo: usize, hi: usize, depth: u32, size: f32) -> usize {
        let index = self.cells.len();
        self.cells.push(Cell {
            size,
            start: lo as u32,
            end: hi as u32,
            ..Cell::default()
        });
        let (mut mass, mut sum) = (0.0f32, [0.0f32; 2]);
        if hi - lo <= LEAF_POINTS || depth >= MAX_DEPTH {
            let points = self.order.get(lo..hi).unwrap_or(&[]);
            for p in points.iter().filter_map(|&i| pos.get(i as usize)) {
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
                    let child = self.cell(pos, start, end, depth + 1, size * 0.5);
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
        self.keys.capacity() * 8
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
