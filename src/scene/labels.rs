//! Greedy label placement: the most important labels first, each in the first of a few spots
//! around its anchor that overlaps no label or node already placed.

/// An axis-aligned rectangle `[min_x, min_y, max_x, max_y]`.
pub type Rect = [f32; 4];

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Occupied space, bucketed in a grid for fast overlap tests.
pub struct Occupancy {
    cell: f32,
    cells: rustc_hash::FxHashMap<(i32, i32), Vec<u32>>,
    rects: Vec<Rect>,
    bounds: Rect,
}

impl Occupancy {
    /// Empty space of `size` px, bucketed by `cell` px.
    pub fn new(size: [f32; 2], cell: f32) -> Self {
        Self {
            cell: cell.max(4.0),
            cells: rustc_hash::FxHashMap::default(),
            rects: Vec::new(),
            bounds: [0.0, 0.0, size[0], size[1]],
        }
    }

    fn keys(&self, r: &Rect) -> impl Iterator<Item = (i32, i32)> + use<> {
        let c = self.cell;
        let (x0, y0) = ((r[0] / c).floor() as i32, (r[1] / c).floor() as i32);
        let (x1, y1) = ((r[2] / c).floor() as i32, (r[3] / c).floor() as i32);
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
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
        self.keys(r).all(|k| {
            self.cells.get(&k).is_none_or(|ids| {
                ids.iter()
                    .all(|&i| self.rects.get(i as usize).is_none_or(|o| !overlaps(o, r)))
            })
        })
    }

    /// Marks `r` as taken.
    pub fn take(&mut self, r: Rect) {
        let id = self.rects.len() as u32;
        let keys: Vec<_> = self.keys(&r).collect();
        for k in keys {
            self.cells.entry(k).or_default().push(id);
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
}
