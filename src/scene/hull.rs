//! Convex hulls for region and zone outlines, padded so the outline clears the nodes inside.

/// The convex hull of `points` (Andrew's monotone chain), counter-clockwise, no repeated point.
pub fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut pts: Vec<[f32; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
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

/// The points extreme in each of `directions` evenly spread directions: a subset of the hull's
/// corners that traces it closely, found in one pass (no sort of every point).
fn extremes(points: &[[f32; 2]], directions: usize) -> Vec<[f32; 2]> {
    let dirs: Vec<[f32; 2]> = (0..directions)
        .map(|k| {
            let a = k as f32 / directions as f32 * std::f32::consts::TAU;
            [a.cos(), a.sin()]
        })
        .collect();
    let mut best: Vec<Option<([f32; 2], f32)>> = vec![None; directions];
    for p in points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
    {
        for (d, b) in dirs.iter().zip(best.iter_mut()) {
            let dot = p[0] * d[0] + p[1] * d[1];
            if b.is_none_or(|(_, v)| dot > v) {
                *b = Some((*p, dot));
            }
        }
    }
    best.into_iter().flatten().map(|(p, _)| p).collect()
}

/// A hull around `points` that keeps `pad` pixels away from every point, with rounded corners
/// (each corner becomes an arc of `steps` segments). Large sets are traced by their extreme
/// points in 96 directions (off by well under the padding).
pub fn padded_hull(points: &[[f32; 2]], pad: f32) -> Vec<[f32; 2]> {
    let core = if points.len() > 512 {
        convex_hull(&extremes(points, 96))
    } else {
        convex_hull(points)
    };
    let steps = 12;
    let mut ring = Vec::with_capacity(core.len() * steps);
    for p in &core {
        for k in 0..steps {
            let a = k as f32 / steps as f32 * std::f32::consts::TAU;
            ring.push([p[0] + pad * a.cos(), p[1] + pad * a.sin()]);
        }
    }
    convex_hull(&ring)
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
