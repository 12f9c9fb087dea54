//! Packs disconnected components next to each other. A force layout pushes unconnected pieces
//! apart without end, so a picture fitted to all of them shows the main component as a dot;
//! packing keeps the largest component where it is and shelves the others beside it.

use super::graph::LayoutGraph;

/// Union-find root of `x`, halving paths on the way.
fn find(parent: &mut [usize], mut x: usize) -> usize {
    while let Some(&p) = parent.get(x) {
        if p == x {
            break;
        }
        let grand = parent.get(p).copied().unwrap_or(p);
        if let Some(slot) = parent.get_mut(x) {
            *slot = grand;
        }
        x = p;
    }
    x
}

/// Connected components (undirected), largest first; each a list of node indices.
pub fn components(graph: &LayoutGraph) -> Vec<Vec<usize>> {
    let n = graph.len();
    let mut parent: Vec<usize> = (0..n).collect();
    for (a, b) in graph.edges() {
        let (ra, rb) = (find(&mut parent, a as usize), find(&mut parent, b as usize));
        if ra != rb
            && let Some(slot) = parent.get_mut(ra.max(rb))
        {
            *slot = ra.min(rb);
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        by_root.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_values().collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.first().cmp(&b.first())));
    out
}

fn bounds(positions: &[[f32; 2]], nodes: &[usize]) -> Option<[f32; 4]> {
    let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    let mut any = false;
    for p in nodes.iter().filter_map(|&i| positions.get(i)) {
        if p[0].is_finite() && p[1].is_finite() {
            b = [
                b[0].min(p[0]),
                b[1].min(p[1]),
                b[2].max(p[0]),
                b[3].max(p[1]),
            ];
            any = true;
        }
    }
    any.then_some(b)
}

/// Moves every component but the largest into rows below it, `gap` layout units apart
/// (positions are in units of the natural edge length, so a gap of 2–3 reads as "separate").
pub fn pack_components(positions: &mut [[f32; 2]], graph: &LayoutGraph, gap: f32) {
    let comps = components(graph);
    let Some((main, rest)) = comps.split_first() else {
        return;
    };
    if rest.is_empty() {
        return;
    }
    let Some(main_box) = bounds(positions, main) else {
        return;
    };
    let area: f32 = rest
        .iter()
        .filter_map(|c| bounds(positions, c))
        .map(|b| (b[2] - b[0] + gap) * (b[3] - b[1] + gap))
        .sum();
    let row_width = (main_box[2] - main_box[0]).max(area.sqrt()).max(gap);
    let mut x = main_box[0];
    let mut y = main_box[3] + 2.0 * gap;
    let mut row_height = 0.0f32;
    for comp in rest {
        let Some(b) = bounds(positions, comp) else {
            continue;
        };
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        if x > main_box[0] && x + w > main_box[0] + row_width {
            x = main_box[0];
            y += row_height + gap;
            row_height = 0.0;
        }
        let (dx, dy) = (x - b[0], y - b[1]);
        for &i in comp {
            if let Some(p) = positions.get_mut(i)
                && p[0].is_finite()
                && p[1].is_finite()
            {
                p[0] += dx;
                p[1] += dy;
            }
        }
        x += w + gap;
        row_height = row_height.max(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_pieces_come_close_and_the_main_one_stays() {
        // A triangle and two pairs flung far away.
        let graph = LayoutGraph::new(7, [(0, 1), (1, 2), (2, 0), (3, 4), (5, 6)]);
        let mut pos = vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [0.5, 1.0],
            [500.0, 500.0],
            [501.0, 500.0],
            [-900.0, 40.0],
            [-900.0, 41.0],
        ];
        pack_components(&mut pos, &graph, 2.0);
        assert!(pos[0][0].abs() < 1e-6 && pos[0][1].abs() < 1e-6);
        for p in &pos {
            assert!(p[0].abs() < 20.0 && p[1].abs() < 20.0, "{p:?}");
        }
        // Pieces keep their shape.
        assert!(((pos[4][0] - pos[3][0]) - 1.0).abs() < 1e-6);
        assert_eq!(components(&graph).len(), 3);
    }
}
