//! Scenes and PNG export: the picture is decoded and checked against what the scene says.

use flowscope::derive::ServiceGraph;
use flowscope::derive::flow::{find_trace, flow_path};
use flowscope::model::{Level, TraceStore};
use flowscope::render::png;
use flowscope::scene::{self, Rgba, Scene, Stamp, Swatch, Theme, View};
use tiny_skia::Pixmap;

use crate::common::{fixture, grouped_circle_positions, store_of};

fn scene_of(store: &mut TraceStore, level: Level, view: &View, stamp: &Stamp) -> Scene {
    let graph = ServiceGraph::build(store, level);
    let positions = grouped_circle_positions(&graph, &store.data.interner);
    scene::build(&scene::SceneRequest {
        graph: &graph,
        interner: &store.data.interner,
        positions: &positions,
        view,
        stamp,
        measure: &png::measure,
    })
}

fn pixel(p: &Pixmap, at: [f32; 2]) -> [u8; 4] {
    let c = p.pixel(at[0].round() as u32, at[1].round() as u32).unwrap();
    [c.red(), c.green(), c.blue(), c.alpha()]
}

fn decode(scene: &Scene) -> Pixmap {
    let dir = std::env::temp_dir().join(format!(
        "flowscope-render-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.png");
    png::write(scene, &path, false).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    Pixmap::decode_png(&bytes).unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn rects_overlap(a: [f32; 4], b: [f32; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

#[test]
fn spigo_netflix_picture_matches_its_scene() {
    let mut store = store_of(&[fixture("spigo/runs/netflix/graph.json")]);
    let view = View {
        size: [1200.0, 800.0],
        ..View::default()
    };
    let stamp = Stamp {
        files: vec!["netflix/graph.json".to_owned()],
        level: Level::Instance,
        ..Stamp::default()
    };
    let scene = scene_of(&mut store, Level::Instance, &view, &stamp);
    assert_eq!(scene.nodes.len(), 98);
    // 371 edges; 24 are shorter than their ends' radii (under the discs) and left out.
    assert_eq!(scene.edges.len(), 347);
    // Region hulls: us-east-1 and the global denominators; zone hulls inside.
    let regions: Vec<&str> = scene
        .hulls
        .iter()
        .filter(|h| h.kind == scene::HullKind::Region)
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(regions, vec!["global", "us-east-1"]);
    let picture = decode(&scene);
    assert_eq!((picture.width(), picture.height()), (1200, 800));
    // Not blank: many colours.
    let colours: std::collections::BTreeSet<[u8; 4]> = picture
        .pixels()
        .iter()
        .step_by(7)
        .map(|c| [c.red(), c.green(), c.blue(), c.alpha()])
        .collect();
    assert!(colours.len() > 50, "{} colours", colours.len());
    // Each region's colour appears where the legend puts its swatch.
    let legend = scene.legend.as_ref().unwrap();
    let mut areas = 0;
    for item in &legend.items {
        if let Swatch::Area(c) = item.swatch {
            assert_eq!(pixel(&picture, item.at), c.0, "{}", item.text.text);
            areas += 1;
        }
    }
    assert_eq!(areas, 2);
    // Nodes are drawn in their colour at their centre.
    for node in scene
        .nodes
        .iter()
        .filter(|n| n.cross.is_none() && n.radius > 4.0)
        .take(20)
    {
        assert_eq!(pixel(&picture, node.center), node.fill.0);
    }
    // Legend and stamp text: in the scene, and drawn (the stamp's box is not all background).
    let texts: Vec<&str> = legend.items.iter().map(|i| i.text.text.as_str()).collect();
    for want in [
        "load balancer (elb)",
        "calls with errors",
        "us-east-1",
        "global",
    ] {
        assert!(texts.contains(&want), "{texts:?}");
    }
    let stamp_text: Vec<&str> = scene.stamp.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        stamp_text,
        vec![
            "netflix/graph.json",
            "level instance",
            concat!("flowscope ", env!("CARGO_PKG_VERSION"))
        ]
    );
    let line = &scene.stamp[2];
    let background = scene.style.background.0;
    let inked = (0..png::measure(&line.text, line.size) as u32)
        .flat_map(|dx| (0..line.size as u32).map(move |dy| (dx, dy)))
        .filter(|(dx, dy)| {
            pixel(
                &picture,
                [line.pos[0] + *dx as f32, line.pos[1] + *dy as f32],
            ) != background
        })
        .count();
    assert!(inked > 20, "stamp text not drawn ({inked} px)");
    // No label overlaps another label or a node.
    let rects: Vec<[f32; 4]> = scene
        .labels
        .iter()
        .map(|l| {
            [
                l.pos[0],
                l.pos[1],
                l.pos[0] + png::measure(&l.text, l.size),
                l.pos[1] + l.size * 1.25,
            ]
        })
        .collect();
    for (i, a) in rects.iter().enumerate() {
        for b in rects.iter().skip(i + 1) {
            assert!(!rects_overlap(*a, *b), "labels overlap: {a:?} {b:?}");
        }
        for n in &scene.nodes {
            let r = [
                n.center[0] - n.radius,
                n.center[1] - n.radius,
                n.center[0] + n.radius,
                n.center[1] + n.radius,
            ];
            assert!(!rects_overlap(*a, r), "a label covers a node");
        }
    }
    assert!(scene.labels.len() > 20);
}

#[test]
fn a_lit_trace_is_drawn_in_the_highlight_colour() {
    let mut store = store_of(&[fixture("zipkin/smartthings-mobile-web-install.json")]);
    let trace = find_trace(&store, &store.traces()[0].id.display(&store.data.interner)).unwrap();
    let path = flow_path(&mut store, Level::Service, trace);
    assert_eq!(path.nodes.len(), 16);
    for theme in [Theme::Dark, Theme::Light] {
        let view = View {
            size: [1000.0, 700.0],
            theme,
            highlight: path.clone(),
            ..View::default()
        };
        let scene = scene_of(&mut store, Level::Service, &view, &Stamp::default());
        let lit: Vec<_> = scene.nodes.iter().filter(|n| n.highlighted).collect();
        assert_eq!(lit.len(), 16);
        let picture = decode(&scene);
        for node in lit {
            assert_eq!(pixel(&picture, node.center), scene.style.highlight.0);
        }
        assert!(
            scene
                .edges
                .iter()
                .any(|e| e.highlighted && e.color == scene.style.highlight)
        );
    }
}

#[test]
fn filters_hide_nodes_and_their_edges() {
    let mut store = store_of(&[fixture("spigo/runs/netflix/graph.json")]);
    let view = View {
        filter: flowscope::derive::filter::Filter::parse("zone=zoneA or package=elb").unwrap(),
        ..View::default()
    };
    let scene = scene_of(&mut store, Level::Instance, &view, &Stamp::default());
    assert_eq!(scene.nodes.len(), 32 + 2);
    assert!(scene.edges.len() < 371 && !scene.edges.is_empty());
}

#[test]
fn sizes_and_overwrites_are_checked() {
    let mut store = store_of(&[fixture("zipkin/yelp.json")]);
    for size in [[0.0, 10.0], [20_000.0, 10.0]] {
        let view = View {
            size,
            ..View::default()
        };
        let scene = scene_of(&mut store, Level::Service, &view, &Stamp::default());
        assert!(matches!(
            png::rasterize(&scene),
            Err(png::RenderError::Size(..))
        ));
    }
    let scene = scene_of(
        &mut store,
        Level::Service,
        &View::default(),
        &Stamp::default(),
    );
    let path = std::env::temp_dir().join(format!("flowscope-exists-{}.png", std::process::id()));
    std::fs::write(&path, b"keep me").unwrap();
    let err = png::write(&scene, &path, false).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    png::write(&scene, &path, true).unwrap();
    assert!(Pixmap::decode_png(&std::fs::read(&path).unwrap()).is_ok());
    std::fs::remove_file(&path).ok();
    let _ = Rgba::rgb(0, 0, 0);
}

/// Zoomed out on Spigo's netflix at 6 regions × 400 % (2,270 instances, 114,060 edges),
/// the scene draws points and summed edges, far fewer shapes than nodes plus edges, and picking
/// still finds every node at its own centre; a lit flow and a selected edge are drawn on their
/// own on top of the sums.
#[test]
fn zoomed_out_netflix_draws_fewer_shapes_and_picking_finds_every_node() {
    use flowscope::ingest::Report;
    use flowscope::ingest::spigo::{ArchOptions, read_arch_with};
    use flowscope::layout::{LayoutEngine, LayoutGraph, LayoutParams};
    use flowscope::scene::Lod;
    use flowscope::scene::pick::{self, Hit};
    use petgraph::visit::{EdgeRef as _, NodeIndexable as _};

    let bytes = std::fs::read(fixture("spigo/arch/netflix_arch.json")).unwrap();
    let options = ArchOptions {
        scale_percent: 400,
        regions: 6,
    };
    let mut report = Report::default();
    let mut store = TraceStore::default();
    store.append(read_arch_with(&bytes, &options, &mut report));
    store.index();
    let graph = ServiceGraph::build(&mut store, Level::Instance);
    assert_eq!(
        (graph.graph.node_count(), graph.graph.edge_count()),
        (2270, 114_060)
    );
    // The real layout, as the window runs it.
    let unknown = store.data.interner.get(flowscope::model::topology::UNKNOWN);
    let (layout_graph, nodes) = LayoutGraph::from_service_graph(&graph, unknown);
    let mut engine = LayoutEngine::new(layout_graph, LayoutParams::default());
    engine.run();
    let mut positions = vec![[0.0f32; 2]; graph.graph.node_bound()];
    for (p, n) in engine.positions().into_iter().zip(&nodes) {
        positions[n.index()] = p;
    }
    // Zoomed out to a quarter of the fitted zoom.
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in &positions {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let size = [1280.0, 800.0];
    let fitted = (size[0] / (hi[0] - lo[0])).min(size[1] / (hi[1] - lo[1]));
    let view = View {
        size,
        camera: Some(scene::Camera {
            center: [f32::midpoint(lo[0], hi[0]), f32::midpoint(lo[1], hi[1])],
            zoom: fitted / 4.0,
        }),
        ..View::default()
    };
    let scene = scene::build(&scene::SceneRequest {
        graph: &graph,
        interner: &store.data.interner,
        positions: &positions,
        view: &view,
        stamp: &Stamp::default(),
        measure: &png::measure,
    });
    assert_eq!(scene.lod, Lod::Points);
    assert_eq!(scene.nodes.len(), 2270, "every node is drawn, as a point");
    let shapes = scene.nodes.len() + scene.edges.len() + scene.hulls.len() + scene.labels.len();
    assert!(
        shapes < (graph.graph.node_count() + graph.graph.edge_count()) / 10,
        "{shapes} shapes for {} nodes and {} edges",
        graph.graph.node_count(),
        graph.graph.edge_count()
    );
    assert!(
        scene
            .edges
            .iter()
            .all(|e| e.edge.is_none() && e.sum.is_some())
    );

    // Nodes by their centre: where two round to the same one at this zoom (the layout keeps them
    // apart, a little), the pick is one of them.
    let mut at: std::collections::HashMap<[u32; 2], Vec<u32>> = std::collections::HashMap::new();
    for n in &scene.nodes {
        at.entry([n.center[0].to_bits(), n.center[1].to_bits()])
            .or_default()
            .push(n.node);
    }
    assert!(
        at.len() * 100 >= scene.nodes.len() * 99,
        "{} centres",
        at.len()
    );
    for n in &scene.nodes {
        let hit = pick::hit(&scene, n.center, 1.0);
        let there = &at[&[n.center[0].to_bits(), n.center[1].to_bits()]];
        assert!(
            matches!(hit, Some(Hit::Node(m)) if there.contains(&m)),
            "node {} at {:?}: {hit:?}",
            n.node,
            n.center
        );
    }

    // A lit flow (a chain of three calls) and a selected edge: each drawn on its own, on top.
    let mut highlight = scene::Highlight::default();
    let mut n = graph
        .graph
        .node_indices()
        .find(|&n| graph.graph.edges(n).count() > 0)
        .unwrap();
    let mut chain = Vec::new();
    for _ in 0..3 {
        let Some(e) = graph.graph.edges(n).find(|e| e.target() != n) else {
            break;
        };
        let (a, b) = (graph.graph[e.source()].name, graph.graph[e.target()].name);
        highlight.nodes.extend([a, b]);
        highlight.edges.insert((a, b));
        chain.push(e.id().index() as u32);
        n = e.target();
    }
    assert!(chain.len() >= 2, "a chain of calls");
    let selected = graph
        .graph
        .edge_indices()
        .map(|e| e.index() as u32)
        .find(|e| !chain.contains(e))
        .unwrap();
    let lit_view = View {
        highlight,
        selected_edge: Some(selected),
        ..view.clone()
    };
    let lit_scene = scene::build(&scene::SceneRequest {
        graph: &graph,
        interner: &store.data.interner,
        positions: &positions,
        view: &lit_view,
        stamp: &Stamp::default(),
        measure: &png::measure,
    });
    assert_eq!(lit_scene.lod, Lod::Points);
    let own: Vec<_> = lit_scene
        .edges
        .iter()
        .filter(|e| e.edge.is_some())
        .collect();
    let mut drawn: Vec<u32> = own.iter().filter_map(|e| e.edge).collect();
    drawn.sort_unstable();
    let mut expected = chain.clone();
    expected.push(selected);
    expected.sort_unstable();
    // Parallel calls between the same two lit nodes are lit too.
    assert!(
        expected.iter().all(|e| drawn.contains(e)),
        "{drawn:?} ⊇ {expected:?}"
    );
    assert!(own.iter().all(|e| e.highlighted || e.selected));
    let first_own = lit_scene
        .edges
        .iter()
        .position(|e| e.edge.is_some())
        .unwrap();
    assert!(
        lit_scene.edges[first_own..]
            .iter()
            .all(|e| e.edge.is_some()),
        "on top"
    );
    let last = lit_scene.edges.last().unwrap();
    assert_eq!(
        (last.edge, last.color),
        (Some(selected), lit_scene.style.selection)
    );
    assert!(
        lit_scene.edges[..first_own]
            .iter()
            .all(|e| e.color != lit_scene.style.edge_for(0.0)),
        "the sums are dimmed under a lit flow"
    );
}
