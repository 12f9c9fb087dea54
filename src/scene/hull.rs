//! Convex hulls for region and zone outlines, padded so the outline clears the nodes inside.

/// The convex hull of `points` (Andrew's monotone chain), counter-clockwise, no repeated point.
pub fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut pts: Vec<[f32; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    // Equal points are the same point: no need for a stable sort.
    pts.sort_unstable_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut lower: Vec<[f32; 2]> = Vec::new();
    for &p in &pts {
        while let [.., a, b] = lower.as_slice() {
            if cross(*a, *b, p) <= 0.0 {
                lower.pop();
            } else {
                break;
            }
        }
        lower.push(p);
    }
    let mut upper: Vec<[f32; 2]> = Vec::new();
    for &p in pts.iter().rev() {
        while let [.., a, b] = upper.as_slice() {
            if cross(*a, *b, p) <= 0.0 {
                upper.pop();
            } else {
                break;
            }
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// The hull's candidate corners among many points, in one pass: in each horizontal band the
/// left-most and right-most point, in each vertical band the top-most and bottom-most, with
/// bands about `band` px wide (at most 128 each way). Every corner of the hull is among them or
/// within one band's width of one that is.
fn band_extremes(points: &[[f32; 2]], band: f32) -> Vec<[f32; 2]> {
    let finite = || {
        points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
    };
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in finite() {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if lo[0] > hi[0] {
        return Vec::new();
    }
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let bands = ((extent / band.max(0.1)).ceil() as usize).clamp(4, 128);
    let scale = [
        bands as f32 / (hi[0] - lo[0]).max(1e-6),
        bands as f32 / (hi[1] - lo[1]).max(1e-6),
    ];
    // Per band: the point with the least and the greatest coordinate across it.
    let mut rows: Vec<Option<([f32; 2], [f32; 2])>> = vec![None; bands];
    let mut columns: Vec<Option<([f32; 2], [f32; 2])>> = vec![None; bands];
    for &p in finite() {
        let row = (((p[1] - lo[1]) * scale[1]) as usize).min(bands - 1);
        let column = (((p[0] - lo[0]) * scale[0]) as usize).min(bands - 1);
        if let Some(slot) = rows.get_mut(row) {
            let (a, b) = slot.get_or_insert((p, p));
            if p[0] < a[0] {
                *a = p;
            }
            if p[0] > b[0] {
                *b = p;
            }
        }
        if let Some(slot) = columns.get_mut(column) {
            let (a, b) = slot.get_or_insert((p, p));
            if p[1] < a[1] {
                *a = p;
            }
            if p[1] > b[1] {
                *b = p;
            }
        }
    }
    rows.into_iter()
        .chain(columns)
        .flatten()
        .flat_map(|(a, b)| [a, b])
        .collect()
}

/// A hull around `points` that keeps `pad` pixels away from every point, with rounded corners
/// (the hull grown by a disc: each corner an arc, a full turn in about 12 segments).
pub fn padded_hull(points: &[[f32; 2]], pad: f32) -> Vec<[f32; 2]> {
    padded(&hull_core(points), pad)
}

/// The convex hull of `points`, counter-clockwise. Large sets keep only the extreme points of
/// bands 2 px wide (at most 128 each way) before the hull is taken (off by at most a band, under
/// any padding).
pub fn hull_core(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    if points.len() > 512 {
        convex_hull(&band_extremes(points, 2.0))
    } else {
        convex_hull(points)
    }
}

/// A convex hull (as [`hull_core`] gives it) grown by `pad` pixels with rounded corners, a full
/// turn in about 12 segments.
pub fn padded(core: &[[f32; 2]], pad: f32) -> Vec<[f32; 2]> {
    grown(core, pad, 12)
}

/// A convex polygon (counter-clockwise, as [`convex_hull`] gives it) grown by `pad`: its edges
/// pushed out, its corners joined by arcs of about `steps` segments per full turn.
fn grown(core: &[[f32; 2]], pad: f32, steps: usize) -> Vec<[f32; 2]> {
    use std::f32::consts::TAU;
    let n = core.len();
    let step = TAU / steps.max(3) as f32;
    let arc = |out: &mut Vec<[f32; 2]>, p: [f32; 2], from: f32, sweep: f32| {
        let k = ((sweep / step).ceil() as usize).max(1);
        for j in 0..=k {
            let a = from + sweep * j as f32 / k as f32;
            out.push([p[0] + pad * a.cos(), p[1] + pad * a.sin()]);
        }
    };
    let mut out = Vec::with_capacity(n * 2 + steps + 2);
    match core {
        [] => {}
        [p] => {
            // A full circle (the last point would repeat the first).
            arc(&mut out, *p, 0.0, TAU);
            out.pop();
        }
        _ => {
            // The outward normal of edge a → b of a counter-clockwise polygon, as an angle.
            let normal = |a: [f32; 2], b: [f32; 2]| (-(b[0] - a[0])).atan2(b[1] - a[1]);
            for i in 0..n {
                let (Some(&prev), Some(&p), Some(&next)) = (
                    core.get((i + n - 1) % n),
                    core.get(i),
                    core.get((i + 1) % n),
                ) else {
                    continue;
                };
                let from = normal(prev, p);
                let to = normal(p, next);
                let sweep = (to - from).rem_euclid(TAU);
                arc(&mut out, p, from, sweep);
            }
        }
    }
    out
}

/// The area of a polygon (positive when counter-clockwise in a y-up frame).
pub fn area(poly: &[[f32; 2]]) -> f32 {
    let n = poly.len();
    let mut sum = 0.0;
    for i in 0..n {
        if let (Some(a), Some(b)) = (poly.get(i), poly.get((i + 1) % n)) {
            sum += a[0] * b[1] - b[0] * a[1];
        }
    }
    sum / 2.0
}

/// True when `p` is inside the convex polygon `poly` (either winding).
pub fn contains(poly: &[[f32; 2]], p: [f32; 2]) -> bool {
    let n = poly.len();
    if n < 3 {
        return false;
    }
    let (mut left, mut right) = (false, false);
    for i in 0..n {
        let (Some(a), Some(b)) = (poly.get(i), poly.get((i + 1) % n)) else {
            return false;
        };
        let c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
        left |= c > 0.0;
        right |= c < 0.0;
    }
    !(left && right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hull_of_a_square_with_inside_points() {
        let pts = [
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.5, 0.5],
            [0.2, 0.7],
        ];
        let hull = convex_hull(&pts);
        assert_eq!(hull.len(), 4);
        assert!((area(&hull).abs() - 1.0).abs() < 1e-6);
        let padded = padded_hull(&pts, 2.0);
        for p in pts {
            assert!(contains(&padded, p));
        }
        assert!(contains(&padded, [-1.5, 0.5]));
        assert!(!contains(&padded, [-2.5, 0.5]));
        // One point gives a circle; no points give nothing.
        assert!(padded_hull(&[[5.0, 5.0]], 3.0).len() > 6);
        assert!(padded_hull(&[], 3.0).is_empty());
        // Many points: traced by extremes, still around every point.
        let many: Vec<[f32; 2]> = (0..2000)
            .map(|i| {
                let a = i as f32 * 0.618_034 * std::f32::consts::TAU;
                let r = 100.0 * ((i % 97) as f32 / 97.0).sqrt();
                [a.cos() * r, a.sin() * r]
            })
            .collect();
        let hull = padded_hull(&many, 6.0);
        assert!(many.iter().all(|p| contains(&hull, *p)));
    }
}
