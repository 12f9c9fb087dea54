//! The window driven through `egui_kittest` (AccessKit labels, no GPU): open, count, filter, level keys, export, trace waterfall.

use std::path::PathBuf;
use std::time::Duration;

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use flowscope::model::Level;
use flowscope::ui::FlowscopeApp;
use flowscope::ui::actions::Action;
use flowscope::ui::inspector::Selection;

use crate::common::fixture;

pub(crate) fn harness(app: FlowscopeApp) -> Harness<'static, FlowscopeApp> {
    harness_with(app, false)
}

/// `tofu`: data names with glyphs the bundled fonts lack (CJK service names) draw as boxes, as
/// in the real window, instead of failing the test; UI strings are checked by the other tests.
fn harness_with(app: FlowscopeApp, tofu: bool) -> Harness<'static, FlowscopeApp> {
    // Frames 1/60 s apart, as on a screen (double-clicks need two clicks within 0.3 s).
    let builder = Harness::builder()
        .with_size([1400.0, 900.0])
        .with_step_dt(1.0 / 60.0);
    let builder = if tofu {
        builder.allow_missing_glyphs()
    } else {
        builder
    };
    let h = builder.build_ui_state(|ui, app: &mut FlowscopeApp| app.ui(ui), app);
    // Set up as the window's context is (fonts with the arrow glyphs egui's own lack).
    flowscope::ui::app::configure(&h.ctx);
    h
}

/// Steps frames until `done` holds (background threads finish on their own time).
pub(crate) fn wait(
    h: &mut Harness<'_, FlowscopeApp>,
    what: &str,
    done: impl Fn(&FlowscopeApp) -> bool,
) {
    for _ in 0..1500 {
        h.step();
        if done(h.state()) {
            // A few more frames so panels show what the last one applied.
            h.run_steps(3);
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Opens `path` through the app's own open action and waits for the load.
pub(crate) fn opened(path: PathBuf) -> Harness<'static, FlowscopeApp> {
    opened_with(path, false)
}

fn opened_with(path: PathBuf, tofu: bool) -> Harness<'static, FlowscopeApp> {
    let mut app = FlowscopeApp::with_paths(Vec::new());
    app.push_action(Action::Open(vec![path]));
    let mut h = harness_with(app, tofu);
    wait(&mut h, "the load and the layout", |app| {
        app.model().is_some() && !app.is_busy() && !app.layout_running()
    });
    h
}

/// The service-level edges the scene marks as the selected trace's critical path, by name,
/// sorted.
pub(crate) fn critical_service_edges(h: &Harness<'_, FlowscopeApp>) -> Vec<(String, String)> {
    let scene = h.state().canvas().scene().unwrap();
    let model = h.state().model().unwrap();
    let interner = &model.store.data.interner;
    let graph = model.graph(Level::Service).unwrap();
    let mut critical: Vec<(String, String)> = scene
        .edges
        .iter()
        .filter(|e| e.critical)
        .map(|e| {
            let (a, b) = graph
                .graph
                .edge_endpoints(petgraph::stable_graph::EdgeIndex::new(
                    e.edge.unwrap() as usize
                ))
                .unwrap();
            let name = |n: petgraph::stable_graph::NodeIndex| {
                interner.resolve(graph.graph[n].name).to_owned()
            };
            (name(a), name(b))
        })
        .collect();
    critical.sort();
    critical
}

pub(crate) fn has_label(h: &Harness<'_, FlowscopeApp>, text: &str) -> bool {
    h.query_all_by_label(text).next().is_some()
}

#[test]
fn empty_window_says_how_to_open_something() {
    let mut h = harness(FlowscopeApp::with_paths(Vec::new()));
    h.run_steps(2);
    assert!(has_label(&h, "Open trace files to see their flows"));
    assert!(has_label(&h, "Open…"));
    assert!(has_label(&h, "0 files"));
}

#[test]
fn opening_a_fixture_shows_its_counts_in_the_status_bar() {
    let h = opened(fixture("spigo/runs/netflix/graph.json"));
    let status = h.state().status();
    assert_eq!(status.files, 1);
    assert!(status.nodes > 10, "{status:?}");
    assert!(has_label(&h, "1 files"));
    assert!(has_label(&h, &format!("{} nodes", status.nodes)));
    assert!(has_label(&h, &format!("{} edges", status.edges)));
    assert!(has_label(&h, "Level service"));
    // The force layout ran on its thread and stopped.
    assert!(
        h.query_all_by_label_contains("Layout converged")
            .chain(h.query_all_by_label_contains("Layout done"))
            .next()
            .is_some()
    );
    // The canvas drew every node.
    let scene = h.state().canvas().scene().expect("a scene");
    assert_eq!(scene.nodes.len(), status.nodes);
}

#[test]
fn typing_a_filter_drops_the_node_count() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let all = h.state().status().nodes;
    let filter = h.get_by_label("Filter");
    filter.focus();
    filter.type_text("package=staash");
    h.run_steps(3);
    let status = h.state().status();
    assert!(
        status.visible_nodes > 0 && status.visible_nodes < all,
        "{status:?}"
    );
    assert!(has_label(
        &h,
        &format!("{} of {all} nodes", status.visible_nodes)
    ));

    // A bad expression is shown inline and keeps the last good filter.
    let filter = h.get_by_label("Filter");
    filter.type_text(" and (");
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("bad filter at column")
            .next()
            .is_some()
    );
    assert_eq!(h.state().status().visible_nodes, status.visible_nodes);
}

#[test]
fn level_keys_switch_the_level() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let service_nodes = h.state().status().nodes;
    h.key_press(Key::Num1);
    h.run_steps(3);
    assert_eq!(h.state().level(), Level::Instance);
    assert!(has_label(&h, "Level instance"));
    assert!(h.state().status().nodes > service_nodes);
    h.key_press(Key::Num3);
    h.run_steps(3);
    assert_eq!(h.state().level(), Level::Zone);
    assert!(has_label(&h, "Level zone"));
    h.key_press(Key::Num4);
    h.run_steps(3);
    assert!(has_label(&h, "Level region"));
    // The selector does the same.
    h.get_by_label("Service").click();
    h.run_steps(3);
    assert_eq!(h.state().level(), Level::Service);
    assert_eq!(h.state().status().nodes, service_nodes);
}

#[test]
fn export_writes_a_png() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let dir = std::env::temp_dir().join(format!("flowscope-ui-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("view.png");
    h.state_mut().push_action(Action::ExportPng(path.clone()));
    wait(&mut h, "the export", |app| !app.is_busy());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    let pixmap = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
    let scene = h.state().canvas().scene().unwrap();
    assert_eq!(
        (pixmap.width(), pixmap.height()),
        (scene.size[0].round() as u32, scene.size[1].round() as u32)
    );
    assert!(has_label(&h, &format!("Exported {}", path.display())));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn selecting_a_trace_opens_its_waterfall_and_lights_its_path() {
    let mut h = opened(fixture("zipkin/smartthings-mobile-web-install.json"));
    let traces = h.state().model().unwrap().traces.clone();
    assert!(!traces.is_empty());
    assert!(has_label(&h, &format!("Traces ({})", traces.len())));
    // Click the first row of the list.
    let row = h
        .query_all_by_label_contains(" sp ")
        .next()
        .expect("a trace row");
    row.click();
    h.run_steps(3);
    let shown = h.state().waterfall().trace().expect("a waterfall");
    let row = traces.iter().find(|r| r.trace() == shown).unwrap();
    assert_eq!(h.state().waterfall().rows().len(), row.spans as usize);
    let id = h.state().model().unwrap().trace_id(shown).unwrap();
    assert!(has_label(&h, &format!("Trace {id}")));
    assert!(has_label(&h, &format!("{} spans", row.spans)));
    // Its path is lit on the graph, its critical path (coresrv → auth, see derive_flow) marked.
    let scene = h.state().canvas().scene().unwrap();
    assert!(scene.nodes.iter().any(|n| n.highlighted));
    assert_eq!(
        critical_service_edges(&h),
        [
            ("auth".to_owned(), "auth".to_owned()),
            ("coresrv".to_owned(), "auth".to_owned())
        ]
    );
    // The waterfall marks the same four spans.
    assert_eq!(
        h.state()
            .waterfall()
            .rows()
            .iter()
            .filter(|r| r.critical)
            .count(),
        4
    );
    assert!(has_label(&h, "4 spans on the critical path"));
    // Escape closes it.
    h.key_press(Key::Escape);
    h.run_steps(3);
    assert!(h.state().waterfall().trace().is_none());
}

#[test]
fn an_unreadable_file_shows_a_banner_and_keeps_what_was_loaded() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let nodes = h.state().status().nodes;
    let missing = fixture("no-such-file.json");
    h.state_mut()
        .push_action(Action::Open(vec![missing.clone()]));
    wait(&mut h, "the second load", |app| !app.is_busy());
    let banner = h.state().banner().expect("a banner").to_owned();
    assert!(banner.contains("no-such-file.json"), "{banner}");
    assert_eq!(h.state().status().nodes, nodes);
    assert!(has_label(&h, &banner));
}

#[test]
fn selecting_a_node_lists_the_traces_through_its_service() {
    let mut h = opened_with(fixture("zipkin"), true);
    let rows = h.state().model().unwrap().traces.clone();
    let model = h.state().model().unwrap();
    let interner = &model.store.data.interner;
    let service = rows.first().unwrap().root_service(interner).to_owned();
    // Traces with a span naming the service on either side.
    let expected = model
        .store
        .traces()
        .iter()
        .filter(|t| {
            model.store.trace_spans(t).any(|s| {
                [s.local.service, s.remote.service]
                    .into_iter()
                    .flatten()
                    .any(|sym| interner.resolve(sym) == service)
            })
        })
        .count();
    assert!(
        expected >= 1 && expected < rows.len(),
        "{expected} of {}",
        rows.len()
    );
    // Search selects the node (exact names first) and narrows the list.
    let search = h.get_by_label("Search");
    search.focus();
    search.type_text(&service);
    h.run_steps(1);
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert!(
        h.state().status().notice.is_none(),
        "{:?}",
        h.state().status()
    );
    assert!(has_label(
        &h,
        &format!("{expected} through service {service}")
    ));
    // Show all widens it again.
    h.get_by_label("Show all").click();
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("through service")
            .next()
            .is_none()
    );
}

#[test]
fn issue_7_an_opened_directory_is_watched_shows_its_rate_and_pauses() {
    // See: issue 7 (live tail).
    let dir = std::env::temp_dir().join(format!("flowscope-ui-live-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("zipkin/yelp.json"), dir.join("yelp.json")).unwrap();
    let mut app = FlowscopeApp::with_paths(Vec::new());
    app.push_action(Action::Open(vec![dir.clone()]));
    let mut h = harness(app);
    wait(&mut h, "the watched directory's first model", |app| {
        app.model().is_some_and(|m| m.store.spans().len() == 16)
    });
    let live = h.state().status().live.expect("watching");
    assert!(!live.paused);
    assert!(has_label(&h, "Live"));
    assert!(has_label(&h, "Pause"));
    assert!(h.query_all_by_label_contains("spans/s").next().is_some());

    // A file written into the directory joins the model; the nodes already placed stay.
    std::fs::copy(fixture("zipkin/skew.json"), dir.join("skew.json")).unwrap();
    wait(&mut h, "the new file", |app| {
        app.model().is_some_and(|m| m.store.spans().len() == 20)
    });
    assert_eq!(h.state().status().files, 2);

    // Paused: the view holds still while the files are still read; resumed, it catches up.
    h.get_by_label("Pause").click();
    h.run_steps(2);
    assert!(h.state().status().live.unwrap().paused);
    assert!(has_label(&h, "Resume"));
    std::fs::copy(fixture("zipkin/ascend.json"), dir.join("ascend.json")).unwrap();
    wait(&mut h, "the paused source to read the third file", |app| {
        app.status().live.is_some_and(|l| l.spans == 28)
    });
    assert_eq!(h.state().model().unwrap().store.spans().len(), 20);
    h.get_by_label("Resume").click();
    wait(&mut h, "the update held back", |app| {
        app.model().is_some_and(|m| m.store.spans().len() == 28)
    });
    std::fs::remove_dir_all(&dir).ok();
}

/// Clicks at a ui point (press and release), then lets the app apply what it asked for.
fn click_at(h: &mut Harness<'_, FlowscopeApp>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.step();
    h.drag_at(pos);
    h.step();
    h.event(egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
}

/// Two clicks in quick succession.
fn double_click_at(h: &mut Harness<'_, FlowscopeApp>, pos: egui::Pos2) {
    click_at(h, pos);
    click_at(h, pos);
    // Half a second, so the next click is not taken for a third one.
    h.run_steps(30);
}

/// Whether a scene point is clear of every node (by `clearance` px) and of every edge but
/// `except` (by 6 px, or by 1 px when an edge is to be hit there, the nearest edge winning): a
/// click there hits that edge, or nothing.
fn clear_of(
    scene: &flowscope::scene::Scene,
    p: [f32; 2],
    clearance: f32,
    except: Option<u32>,
) -> bool {
    let edge_clearance = if except.is_some() { 1.0 } else { 6.0 };
    let d = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let segment = |a: [f32; 2], b: [f32; 2]| {
        let ab = [b[0] - a[0], b[1] - a[1]];
        let len2 = (ab[0] * ab[0] + ab[1] * ab[1]).max(1e-9);
        let t = (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / len2).clamp(0.0, 1.0);
        d(p, [a[0] + ab[0] * t, a[1] + ab[1] * t])
    };
    scene
        .nodes
        .iter()
        .all(|n| d(p, n.center) > n.radius + clearance)
        && scene
            .edges
            .iter()
            .filter(|e| e.edge != except || except.is_none())
            .all(|e| segment(e.from, e.to) > edge_clearance + e.width)
}

/// The distance from `p` to the segment `a`–`b`.
fn segment_distance(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let len2 = (ab[0] * ab[0] + ab[1] * ab[1]).max(1e-9);
    let t = (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / len2).clamp(0.0, 1.0);
    let q = [a[0] + ab[0] * t, a[1] + ab[1] * t];
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
}

/// Traces whose own graph at `level` has an edge `a → b` (named), counted the slow way.
fn traces_across(
    store: &mut flowscope::model::TraceStore,
    level: Level,
    a: flowscope::model::Sym,
    b: flowscope::model::Sym,
) -> usize {
    (0..store.traces().len())
        .filter(|&t| {
            flowscope::derive::flow::flow_path(store, level, t)
                .edges
                .contains(&(a, b))
        })
        .count()
}

#[test]
fn clicking_an_edge_selects_it_and_lists_the_traces_that_cross_it() {
    let mut h = opened_with(fixture("zipkin"), true);
    let total = h.state().model().unwrap().traces.len();
    // An edge some but not all traces cross, whose middle is clear of nodes and other edges.
    let scene = h.state().canvas().scene().unwrap().clone();
    let mut store = flowscope::model::TraceStore::default();
    {
        let model = h.state().model().unwrap();
        for f in &model.files {
            let read = flowscope::ingest::read_path(&f.path).unwrap();
            store.append(read.batch);
        }
        store.index();
    }
    // Edges whose middle is clear of nodes and other edges, named in the test's own store.
    let candidates: Vec<(
        u32,
        [f32; 2],
        (flowscope::model::Sym, flowscope::model::Sym),
    )> = {
        let model = h.state().model().unwrap();
        let g = &model.graph(Level::Service).unwrap().graph;
        let interner = &model.store.data.interner;
        let sym = |n: petgraph::stable_graph::NodeIndex| {
            store
                .data
                .interner
                .get(interner.resolve(g[n].name))
                .unwrap()
        };
        scene
            .edges
            .iter()
            .filter_map(|e| {
                let id = e.edge?;
                let mid = [
                    f32::midpoint(e.from[0], e.to[0]),
                    f32::midpoint(e.from[1], e.to[1]),
                ];
                let (a, b) =
                    g.edge_endpoints(petgraph::stable_graph::EdgeIndex::new(id as usize))?;
                (e.self_loop.is_none() && clear_of(&scene, mid, 4.0, Some(id)))
                    .then(|| (id, mid, (sym(a), sym(b))))
            })
            .collect()
    };
    // One that some but not all traces cross.
    let (edge, mid, expected) = candidates
        .into_iter()
        .find_map(|(id, mid, (a, b))| {
            let n = traces_across(&mut store, Level::Service, a, b);
            (n >= 1 && n < total).then_some((id, mid, n))
        })
        .expect("an edge to click");
    let at = h.state().canvas().ui_pos(mid);
    click_at(&mut h, at);
    h.run_steps(3);
    assert_eq!(h.state().selected_edge(), Some(edge));
    assert_eq!(h.state().selected_node(), None);
    let model = h.state().model().unwrap();
    let interner = &model.store.data.interner;
    let g = &model.graph(Level::Service).unwrap().graph;
    let (a, b) = g
        .edge_endpoints(petgraph::stable_graph::EdgeIndex::new(edge as usize))
        .unwrap();
    let (a, b) = (interner.resolve(g[a].name), interner.resolve(g[b].name));
    let w = g
        .edge_weight(petgraph::stable_graph::EdgeIndex::new(edge as usize))
        .unwrap();
    assert!(has_label(&h, &format!("{expected} across {a} → {b}")));
    // The inspector shows the edge.
    assert!(has_label(&h, &format!("{a} → {b}")));
    assert!(has_label(&h, &format!("Calls {}", w.calls)));
    // The scene draws it selected.
    let scene = h.state().canvas().scene().unwrap();
    assert!(
        scene
            .edges
            .iter()
            .any(|e| e.edge == Some(edge) && e.selected)
    );
}

#[test]
fn selecting_an_instance_lists_the_traces_through_that_instance_not_its_service() {
    let mut h = opened_with(fixture("zipkin"), true);
    h.key_press(Key::Num1);
    h.run_steps(2);
    wait(&mut h, "the instance layout", |app| !app.layout_running());
    let mut store = flowscope::model::TraceStore::default();
    for f in &h.state().model().unwrap().files {
        store.append(flowscope::ingest::read_path(&f.path).unwrap().batch);
    }
    store.index();
    let graph = flowscope::derive::ServiceGraph::build(&mut store, Level::Instance);
    // Each trace's own instance graph, the slow way.
    let paths: Vec<_> = (0..store.traces().len())
        .map(|t| flowscope::derive::flow::flow_path(&mut store, Level::Instance, t))
        .collect();
    let interner = &store.data.interner;
    // An instance some traces run through, but fewer than run through its service.
    let (node, name, expected) = graph
        .graph
        .node_indices()
        .find_map(|n| {
            let info = &graph.graph[n];
            let through = |pred: &dyn Fn(flowscope::model::Sym) -> bool| {
                paths
                    .iter()
                    .filter(|p| p.nodes.iter().any(|&s| pred(s)))
                    .count()
            };
            let instance = through(&|s| s == info.name);
            let service = info.service?;
            let same_service = |s: flowscope::model::Sym| {
                graph
                    .index
                    .get(&s)
                    .is_some_and(|&m| graph.graph[m].service == Some(service))
            };
            let by_service = through(&same_service);
            (instance >= 1 && instance < by_service).then(|| {
                (
                    n.index() as u32,
                    interner.resolve(info.name).to_owned(),
                    instance,
                )
            })
        })
        .expect("an instance narrower than its service");
    h.state_mut().push_action(Action::SelectNode(Some(node)));
    h.run_steps(3);
    assert_eq!(h.state().selected_node(), Some(node));
    assert!(has_label(
        &h,
        &format!("{expected} through instance {name}")
    ));
}

#[test]
fn dragging_a_node_pins_it_the_pin_outlives_a_level_switch_and_double_clicking_unpins_it() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let scene = h.state().canvas().scene().unwrap().clone();
    // A node with room around it.
    let node = scene
        .nodes
        .iter()
        .find(|n| {
            scene.nodes.iter().filter(|m| m.node != n.node).all(|m| {
                ((m.center[0] - n.center[0]).powi(2) + (m.center[1] - n.center[1]).powi(2)).sqrt()
                    > 30.0
            })
        })
        .expect("a lone node")
        .clone();
    let from = h.state().canvas().ui_pos(node.center);
    let to = from + egui::vec2(40.0, 25.0);
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    for k in 1..=5 {
        h.hover_at(from + (to - from) * (k as f32 / 5.0));
        h.step();
    }
    h.drop_at(to);
    h.run_steps(3);
    assert_eq!(h.state().pinned(), vec![node.node]);
    // Drawn where it was dropped, with the pin mark.
    let scene = h.state().canvas().scene().unwrap();
    let shown = scene.nodes.iter().find(|n| n.node == node.node).unwrap();
    assert!(shown.pinned);
    let at = h.state().canvas().ui_pos(shown.center);
    assert!((at - to).length() < 1.0, "{at:?} vs {to:?}");
    // The pin outlives a trip to another level and back: same node, same place.
    let held = h.state().positions()[node.node as usize];
    h.key_press(Key::Num1);
    h.run_steps(3);
    assert!(h.state().pinned().is_empty());
    h.key_press(Key::Num2);
    wait(&mut h, "the layout", |app| !app.layout_running());
    assert_eq!(h.state().pinned(), vec![node.node]);
    let now = h.state().positions()[node.node as usize];
    assert!(
        (now[0] - held[0]).abs() < 1e-3 && (now[1] - held[1]).abs() < 1e-3,
        "{now:?} vs {held:?}"
    );
    let scene = h.state().canvas().scene().unwrap();
    let shown = scene.nodes.iter().find(|n| n.node == node.node).unwrap();
    assert!(shown.pinned);
    let at = h.state().canvas().ui_pos(shown.center);
    // Double-click lets it go.
    double_click_at(&mut h, at);
    assert!(h.state().pinned().is_empty());
    let scene = h.state().canvas().scene().unwrap();
    assert!(!scene.nodes.iter().any(|n| n.pinned));
}

#[test]
fn double_clicking_a_zone_hull_collapses_it_into_one_node_whose_click_selects_the_group() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let scene = h.state().canvas().scene().unwrap().clone();
    let nodes_before = scene.nodes.len();
    // A zone hull with a spot inside clear of nodes and edges.
    let (hull, spot) = scene
        .hulls
        .iter()
        .filter(|hull| hull.kind == flowscope::scene::HullKind::Zone)
        .find_map(|hull| {
            let (lo, hi) =
                hull.points
                    .iter()
                    .fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| {
                        (
                            [lo[0].min(p[0]), lo[1].min(p[1])],
                            [hi[0].max(p[0]), hi[1].max(p[1])],
                        )
                    });
            (0..400).find_map(|k| {
                let p = [
                    lo[0] + (hi[0] - lo[0]) * ((k % 20) as f32 + 0.5) / 20.0,
                    lo[1] + (hi[1] - lo[1]) * ((k / 20) as f32 + 0.5) / 20.0,
                ];
                (flowscope::scene::hull::contains(&hull.points, p)
                    && scene
                        .hulls
                        .iter()
                        .filter(|o| {
                            o.kind == flowscope::scene::HullKind::Zone && o.group != hull.group
                        })
                        .all(|o| !flowscope::scene::hull::contains(&o.points, p))
                    && clear_of(&scene, p, 8.0, None))
                .then_some((hull.clone(), p))
            })
        })
        .expect("a zone hull with room inside");
    let members = h
        .state()
        .model()
        .unwrap()
        .graph(Level::Service)
        .unwrap()
        .graph
        .node_weights()
        .filter(|n| Some(n.region) == Some(Some(hull.group.region)) && n.zone == hull.group.zone)
        .count();
    assert!(members >= 2, "{members}");
    let at = h.state().canvas().ui_pos(spot);
    double_click_at(&mut h, at);
    assert_eq!(h.state().collapsed(), &[hull.group]);
    let scene = h.state().canvas().scene().unwrap();
    let group = scene
        .nodes
        .iter()
        .find(|n| n.group == Some(hull.group))
        .expect("the zone as one node");
    assert_eq!(group.members as usize, members);
    assert_eq!(scene.nodes.len(), nodes_before - members + 1);
    assert!(!scene.hulls.iter().any(|x| x.group == hull.group));
    assert!(
        scene
            .labels
            .iter()
            .any(|l| l.text == format!("{} ({members} nodes)", hull.name))
    );
    // A click on the group node selects the group (not one of its members).
    let group = group.clone();
    let at = h.state().canvas().ui_pos(group.center);
    click_at(&mut h, at);
    h.run_steps(30);
    assert_eq!(h.state().selected(), Some(Selection::Group(hull.group)));
    assert!(
        h.state()
            .canvas()
            .scene()
            .unwrap()
            .nodes
            .iter()
            .any(|n| n.group == Some(hull.group) && n.selected)
    );
    assert!(has_label(&h, &format!("{members} nodes, collapsed")));
    // An edge into or out of the group sums several; a click on it selects them all.
    let scene = h.state().canvas().scene().unwrap().clone();
    let (ends, spot) = scene
        .edges
        .iter()
        .filter(|e| e.sum.is_some() && e.self_loop.is_none())
        .find_map(|e| {
            (1..10).find_map(|k| {
                let t = k as f32 / 10.0;
                let p = [
                    e.from[0] + (e.to[0] - e.from[0]) * t,
                    e.from[1] + (e.to[1] - e.from[1]) * t,
                ];
                let clear = scene.nodes.iter().all(|n| {
                    ((p[0] - n.center[0]).powi(2) + (p[1] - n.center[1]).powi(2)).sqrt()
                        > n.radius + 8.0
                }) && scene
                    .edges
                    .iter()
                    .filter(|o| o.sum != e.sum)
                    .all(|o| segment_distance(p, o.from, o.to) > 6.0 + o.width);
                clear.then_some((e.sum.unwrap(), p))
            })
        })
        .expect("a summed edge with room around it");
    let at = h.state().canvas().ui_pos(spot);
    click_at(&mut h, at);
    h.run_steps(30);
    assert_eq!(h.state().selected(), Some(Selection::Sum(ends)));
    let graph = h.state().model().unwrap().graph(Level::Service).unwrap();
    let summed = flowscope::scene::pick::summed_edges(graph, ends);
    assert!(!summed.is_empty());
    assert!(has_label(&h, &format!("{} edges summed", summed.len())));
    let shown = h.state().canvas().scene().unwrap();
    assert!(
        shown
            .edges
            .iter()
            .any(|e| e.sum == Some(ends) && e.selected)
    );
    // Double-clicking the group node expands it again.
    let at = h.state().canvas().ui_pos(group.center);
    double_click_at(&mut h, at);
    assert!(h.state().collapsed().is_empty());
    // What was selected in the group is no longer drawn: nothing is selected.
    assert_eq!(h.state().selected(), None);
    assert_eq!(
        h.state().canvas().scene().unwrap().nodes.len(),
        nodes_before
    );
}

#[test]
fn export_of_the_whole_graph_draws_every_node_while_the_view_is_zoomed_in() {
    let mut h = opened(fixture("spigo/runs/netflix/graph.json"));
    let all = h.state().status().nodes;
    // Zoom in until the view shows only part of the graph.
    for _ in 0..6 {
        h.key_press(Key::Plus);
        h.step();
    }
    h.run_steps(20);
    std::thread::sleep(Duration::from_millis(200));
    h.run_steps(3);
    let in_view = h.state().canvas().scene().unwrap().nodes.len();
    assert!(in_view < all, "{in_view} of {all}");
    let dir = std::env::temp_dir().join(format!("flowscope-ui-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (view, whole) = (dir.join("view.png"), dir.join("whole.png"));
    h.state_mut().push_action(Action::ExportPng(view.clone()));
    wait(&mut h, "the view export", |app| !app.is_busy());
    h.state_mut()
        .push_action(Action::ExportWholePng(whole.clone()));
    wait(&mut h, "the whole-graph export", |app| !app.is_busy());
    assert!(has_label(&h, &format!("Exported {}", whole.display())));
    let size = h.state().canvas().scene().unwrap().size;
    let decode =
        |p: &std::path::Path| tiny_skia::Pixmap::decode_png(&std::fs::read(p).unwrap()).unwrap();
    let (v, w) = (decode(&view), decode(&whole));
    assert_eq!(
        (w.width(), w.height()),
        (size[0].round() as u32, size[1].round() as u32)
    );
    assert_eq!((v.width(), v.height()), (w.width(), w.height()));
    assert_ne!(v.data(), w.data());
    // The whole graph's scene has every node.
    assert_eq!(h.state().whole_scene().unwrap().nodes.len(), all);
    std::fs::remove_dir_all(&dir).ok();
}

/// The service-level node names of the graph on screen.
fn service_names(app: &FlowscopeApp) -> Vec<String> {
    let model = app.model().expect("a model");
    let graph = model.graph(Level::Service).expect("a service graph");
    let mut names: Vec<String> = graph
        .graph
        .node_weights()
        .map(|w| model.store.data.interner.resolve(w.name).to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn issue_15_a_load_shows_a_first_picture_while_it_reads_and_cancel_brings_back_the_graph_before() {
    use std::io::Write as _;
    let mut h = opened(fixture("zipkin/yelp.json"));
    let before = service_names(h.state());
    let spans_before = h.state().model().unwrap().store.spans().len();
    // A pipe that gives the first half of a file, then waits: the load cannot end on its own.
    let fifo = std::env::temp_dir().join(format!("flowscope-fifo-{}.json", std::process::id()));
    std::fs::remove_file(&fifo).ok();
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let text = std::fs::read(fixture("zipkin/smartthings-mobile-web-install.json")).unwrap();
    let (release, released) = std::sync::mpsc::sync_channel::<()>(1);
    let writer = {
        let fifo = fifo.clone();
        std::thread::Builder::new()
            .name("pipe-writer".to_owned())
            .spawn(move || {
                let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
                let half = text.len() / 2;
                pipe.write_all(&text[..half]).ok();
                released.recv().ok();
                pipe.write_all(&text[half..]).ok();
            })
            .unwrap()
    };
    h.state_mut()
        .set_load_options(flowscope::ui::loader::LoadOptions {
            block_bytes: 4096,
            preview_bytes: 64 << 10,
        });
    h.state_mut().push_action(Action::Open(vec![fifo.clone()]));
    wait(&mut h, "the first picture", FlowscopeApp::showing_preview);
    // The picture holds both files' services so far, while the pipe still holds the rest.
    let shown = service_names(h.state());
    assert!(shown.len() > before.len(), "{shown:?}");
    assert!(before.iter().all(|n| shown.contains(n)), "{shown:?}");
    assert!(h.state().is_busy());
    assert!(h.query_all_by_label_contains("shown").next().is_some());
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(!h.state().showing_preview());
    assert!(!h.state().is_busy());
    assert_eq!(service_names(h.state()), before);
    assert_eq!(h.state().model().unwrap().store.spans().len(), spans_before);
    assert!(has_label(&h, "Loading cancelled"));
    let scene = h.state().canvas().scene().expect("a scene");
    assert_eq!(scene.nodes.len(), before.len());
    release.send(()).ok();
    writer.join().unwrap();
    std::fs::remove_file(&fifo).ok();
}
