//! Greedy label placement: the most important labels first, each in the first of a few spots
//! around its anchor that overlaps no label or node already placed.

/// An axis-aligned rectangle `[min_x, min_y, max_x, max_y]`.
pub type Rect = [f32; 4];

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Occupied space, bucketed in a flat grid for fast overlap tests.
pub struct Occupancy {
    cell: f32,
    columns: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
    rects: Vec<Rect>,
    bounds: Rect,
    /// Rectangles taken in bulk ([`Occupancy::take_all`]), by cell: `bulk_ids[bulk_start[k]..
    /// bulk_start[k + 1]]` index `bulk` for cell `k`.
    bulk: Vec<Rect>,
    bulk_start: Vec<u32>,
    bulk_ids: Vec<u32>,
    /// Small discs taken as points ([`Occupancy::take_points`]): a bit per `FINE` px cell.
    fine: Vec<bool>,
    fine_columns: usize,
}

/// The cell size (px) of the bitmap points are marked in.
const FINE: f32 = 4.0;

impl Occupancy {
    /// Empty space of `size` px, bucketed by `cell` px.
    pub fn new(size: [f32; 2], cell: f32) -> Self {
        let cell = cell.max(4.0);
        let columns = ((size[0].max(0.0) / cell).ceil() as usize).clamp(1, 4096);
        let rows = ((size[1].max(0.0) / cell).ceil() as usize).clamp(1, 4096);
        Self {
            cell,
            columns,
            rows,
            cells: vec![Vec::new(); columns * rows],
            rects: Vec::new(),
            bounds: [0.0, 0.0, size[0], size[1]],
            bulk: Vec::new(),
            bulk_start: Vec::new(),
            bulk_ids: Vec::new(),
            fine: Vec::new(),
            fine_columns: 0,
        }
    }

    /// Marks many small discs (points of radius `r`) as taken: each marks the `FINE` px cells
    /// its box touches, in a bitmap (no rectangle kept per point).
    pub fn take_points(&mut self, points: impl Iterator<Item = [f32; 2]>, r: f32) {
        let columns = (self.bounds[2] / FINE).ceil().max(1.0) as usize;
        let rows = (self.bounds[3] / FINE).ceil().max(1.0) as usize;
        if self.fine.is_empty() {
            self.fine = vec![false; columns * rows];
            self.fine_columns = columns;
        }
        for p in points {
            if !(p[0] + r >= 0.0
                && p[1] + r >= 0.0
                && p[0] - r < self.bounds[2]
                && p[1] - r < self.bounds[3])
            {
                continue;
            }
            let x0 = ((p[0] - r).max(0.0) / FINE) as usize;
            let x1 = (((p[0] + r).max(0.0) / FINE) as usize).min(columns - 1);
            let y0 = ((p[1] - r).max(0.0) / FINE) as usize;
            let y1 = (((p[1] + r).max(0.0) / FINE) as usize).min(rows - 1);
            for y in y0..=y1 {
                if let Some(row) = self.fine.get_mut(y * columns + x0..=y * columns + x1) {
                    row.fill(true);
                }
            }
        }
    }

    /// Whether a rectangle (inside the canvas) touches a cell a point took.
    fn fine_taken(&self, r: &Rect) -> bool {
        if self.fine.is_empty() {
            return false;
        }
        let columns = self.fine_columns;
        let rows = self.fine.len() / columns.max(1);
        let x0 = (r[0].max(0.0) / FINE) as usize;
        let x1 = ((r[2].max(0.0) / FINE) as usize).min(columns.saturating_sub(1));
        let y0 = (r[1].max(0.0) / FINE) as usize;
        let y1 = ((r[3].max(0.0) / FINE) as usize).min(rows.saturating_sub(1));
        (y0..=y1).any(|y| {
            self.fine
                .get(y * columns + x0..=y * columns + x1)
                .is_some_and(|row| row.contains(&true))
        })
    }

    /// Marks many rectangles as taken at once (thousands of nodes): bucketed by counting, no
    /// per-cell arrays. Replaces what an earlier `take_all` took.
    pub fn take_all(&mut self, rects: &[Rect]) {
        let cells = self.columns * self.rows;
        let mut start = vec![0u32; cells + 1];
        for r in rects {
            for k in self.cells_of(r) {
                if let Some(c) = start.get_mut(k + 1) {
                    *c += 1;
                }
            }
        }
        for k in 0..cells {
            let before = start.get(k).copied().unwrap_or(0);
            if let Some(c) = start.get_mut(k + 1) {
                *c += before;
            }
        }
        let mut fill = start.clone();
        let mut ids = vec![0u32; start.last().copied().unwrap_or(0) as usize];
        for (i, r) in rects.iter().enumerate() {
            for k in self.cells_of(r) {
                if let Some(at) = fill.get_mut(k)
                    && let Some(slot) = ids.get_mut(*at as usize)
                {
                    *slot = i as u32;
                    *at += 1;
                }
            }
        }
        self.bulk = rects.to_vec();
        self.bulk_start = start;
        self.bulk_ids = ids;
    }

    /// The grid cells a rectangle touches (clamped to the grid).
    fn cells_of(&self, r: &Rect) -> impl Iterator<Item = usize> + use<> {
        let c = self.cell;
        // A cast truncates, which is the floor for the non-negative values `max` leaves (and
        // is not a libm call, as `floor` is without SSE4.1).
        let clamp_x = |v: f32| ((v / c).max(0.0) as usize).min(self.columns - 1);
        let clamp_y = |v: f32| ((v / c).max(0.0) as usize).min(self.rows - 1);
        let (x0, x1, y0, y1) = (clamp_x(r[0]), clamp_x(r[2]), clamp_y(r[1]), clamp_y(r[3]));
        let columns = self.columns;
        (y0..=y1).flat_map(move |y| (x0..=x1).map(move |x| y * columns + x))
    }

    /// True when `r` is inside the canvas and overlaps nothing placed.
    pub fn free(&self, r: &Rect) -> bool {
        if r[0] < self.bounds[0]
            || r[1] < self.bounds[1]
            || r[2] > self.bounds[2]
            || r[3] > self.bounds[3]
        {
            return false;
        }
        if self.fine_taken(r) {
            return false;
        }
        self.cells_of(r).all(|k| {
            let bulk = match (self.bulk_start.get(k), self.bulk_start.get(k + 1)) {
                (Some(&a), Some(&b)) => self.bulk_ids.get(a as usize..b as usize).unwrap_or(&[]),
                _ => &[],
            };
            bulk.iter()
                .all(|&i| self.bulk.get(i as usize).is_none_or(|o| !overlaps(o, r)))
                && self.cells.get(k).is_none_or(|ids| {
                    ids.iter()
                        .all(|&i| self.rects.get(i as usize).is_none_or(|o| !overlaps(o, r)))
                })
        })
    }

    /// Marks `r` as taken.
    pub fn take(&mut self, r: Rect) {
        let id = self.rects.len() as u32;
        for k in self.cells_of(&r) {
            if let Some(cell) = self.cells.get_mut(k) {
                cell.push(id);
            }
        }
        self.rects.push(r);
    }

    /// Places a `w`×`h` label near a circle at `c` of radius `r`: right, left, below, above.
    /// Returns the label's top-left corner, or `None` when every spot is taken.
    pub fn place_beside(&mut self, c: [f32; 2], r: f32, w: f32, h: f32) -> Option<[f32; 2]> {
        let gap = 3.0;
        let spots = [
            [c[0] + r + gap, c[1] - h / 2.0],
            [c[0] - r - gap - w, c[1] - h / 2.0],
            [c[0] - w / 2.0, c[1] + r + gap],
            [c[0] - w / 2.0, c[1] - r - gap - h],
        ];
        for s in spots {
            let rect = [s[0], s[1], s[0] + w, s[1] + h];
            if self.free(&rect) {
                self.take(rect);
                return Some(s);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_overlap() {
        let mut occ = Occupancy::new([200.0, 100.0], 16.0);
        let a = occ.place_beside([50.0, 50.0], 5.0, 40.0, 12.0).unwrap();
        let b = occ.place_beside([50.0, 50.0], 5.0, 40.0, 12.0).unwrap();
        let ra = [a[0], a[1], a[0] + 40.0, a[1] + 12.0];
        let rb = [b[0], b[1], b[0] + 40.0, b[1] + 12.0];
        assert!(!overlaps(&ra, &rb));
        // Outside the canvas is never free.
        assert!(occ.place_beside([199.0, 50.0], 1.0, 300.0, 12.0).is_none());
    }

    #[test]
    fn rectangles_taken_in_bulk_block_labels_as_single_ones_do() {
        let discs = [[10.0, 10.0, 20.0, 20.0], [30.0, 5.0, 70.0, 45.0]];
        let mut bulk = Occupancy::new([200.0, 100.0], 16.0);
        bulk.take_all(&discs);
        let mut single = Occupancy::new([200.0, 100.0], 16.0);
        for d in discs {
            single.take(d);
        }
        for x in 0..20 {
            for y in 0..10 {
                let r = [
                    x as f32 * 10.0,
                    y as f32 * 10.0,
                    x as f32 * 10.0 + 25.0,
                    y as f32 * 10.0 + 8.0,
                ];
                assert_eq!(bulk.free(&r), single.free(&r), "{r:?}");
            }
        }
        assert!(!bulk.free(&[35.0, 10.0, 40.0, 15.0]));
        assert!(bulk.free(&[100.0, 60.0, 120.0, 70.0]));
    }

    #[test]
    fn points_block_the_cells_they_touch_and_nothing_far_from_them() {
        let mut occ = Occupancy::new([200.0, 100.0], 16.0);
        occ.take_points([[50.0, 50.0], [-10.0, 5.0], [190.0, 95.0]].into_iter(), 1.5);
        assert!(!occ.free(&[45.0, 45.0, 60.0, 52.0]));
        assert!(!occ.free(&[185.0, 90.0, 199.0, 99.0]));
        assert!(occ.free(&[60.0, 40.0, 100.0, 48.0]));
        assert!(occ.free(&[0.0, 0.0, 20.0, 10.0]));
    }
}
