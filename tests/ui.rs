//! The window driven through `egui_kittest` (AccessKit labels, no GPU): open, count, filter, level keys, export, trace waterfall.

use std::path::PathBuf;
use std::time::Duration;

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use flowscope::model::Level;
use flowscope::ui::FlowscopeApp;
use flowscope::ui::actions::Action;

use crate::common::fixture;

fn harness(app: FlowscopeApp) -> Harness<'static, FlowscopeApp> {
    harness_with(app, false)
}

/// `tofu`: data names with glyphs the bundled fonts lack (CJK service names) draw as boxes, as
/// in the real window, instead of failing the test; UI strings are checked by the other tests.
fn harness_with(app: FlowscopeApp, tofu: bool) -> Harness<'static, FlowscopeApp> {
    let builder = Harness::builder().with_size([1400.0, 900.0]);
    let builder = if tofu {
        builder.allow_missing_glyphs()
    } else {
        builder
    };
    builder.build_ui_state(|ui, app: &mut FlowscopeApp| app.ui(ui), app)
}

/// Steps frames until `done` holds (background threads finish on their own time).
fn wait(h: &mut Harness<'_, FlowscopeApp>, what: &str, done: impl Fn(&FlowscopeApp) -> bool) {
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
fn opened(path: PathBuf) -> Harness<'static, FlowscopeApp> {
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

fn has_label(h: &Harness<'_, FlowscopeApp>, text: &str) -> bool {
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
    let row = traces.iter().find(|r| r.index == shown).unwrap();
    assert_eq!(h.state().waterfall().rows().len(), row.spans);
    assert!(has_label(&h, &format!("Trace {}", row.id)));
    assert!(has_label(&h, &format!("{} spans", row.spans)));
    // Its path is lit on the graph.
    let scene = h.state().canvas().scene().unwrap();
    assert!(scene.nodes.iter().any(|n| n.highlighted));
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
    let service = rows.first().unwrap().root_service.clone();
    let expected = rows
        .iter()
        .filter(|r| {
            let interner = &h.state().model().unwrap().store.data.interner;
            r.services.iter().any(|&s| interner.resolve(s) == service)
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
