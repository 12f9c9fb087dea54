//! The timeline in the window (through the app's own actions, `egui_kittest`): a time window's
//! graph equals the command line's, Play replays the run, Follow keeps the newest minute of a
//! live tail. See: #17

use std::path::Path;

use egui_kittest::kittest::Queryable as _;
use flowscope::model::Level;
use flowscope::ui::FlowscopeApp;
use flowscope::ui::actions::Action;

use crate::common::fixture;
use crate::ui::{harness, opened, wait};

/// A time window chosen on the timeline (through the app's own action) shows the graph of the
/// traces that start in it, equal to `deps --from --to` at every level; clearing it shows every
/// trace again. See: #17
#[test]
fn issue_17_a_time_window_shows_the_graph_of_its_traces() {
    use flowscope::cli::{TimeArgs, apply_window, graph_links, links_json};
    use flowscope::derive::window::TimeBound;
    let dir = std::env::temp_dir().join(format!("flowscope-ui-window-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let options = flowscope::simulate::SimOptions {
        traces: 300,
        seed: 9,
        ..flowscope::simulate::SimOptions::default()
    };
    flowscope::simulate::simulate(&fixture("spigo/runs/netflixoss/arch.json"), &dir, &options)
        .unwrap();
    let flow = dir.join("flow.json");
    let mut h = opened(flow.clone());
    let all_traces = h.state().model().unwrap().store.traces().len();
    let first = h.state().model().unwrap().timeline.as_ref().unwrap().start;
    let window = (first + 1_000_000, first + 2_000_000);
    h.state_mut().push_action(Action::SetWindow(Some(window)));
    wait(&mut h, "the window's graph", |app| {
        app.window() == Some(window) && !app.is_busy()
    });
    // What the command line derives for the same window.
    let mut cli_store = crate::common::store_of(std::slice::from_ref(&flow));
    apply_window(
        &mut cli_store,
        TimeArgs {
            from: Some(TimeBound::At(window.0)),
            to: Some(TimeBound::At(window.1)),
        },
    );
    let shown = h.state().model().unwrap();
    assert_eq!(shown.traces.len(), cli_store.traces().len());
    assert!(shown.traces.len() < all_traces / 2);
    // The trace list holds the window's traces, by their ids.
    let mut listed: Vec<String> = shown
        .traces
        .iter()
        .map(|r| shown.trace_id(r.trace()).unwrap())
        .collect();
    let mut cli_ids: Vec<String> = cli_store
        .traces()
        .iter()
        .map(|t| t.id.display(&cli_store.data.interner))
        .collect();
    listed.sort();
    cli_ids.sort();
    assert_eq!(listed, cli_ids);
    // The graph on screen at every level is the command line's.
    for level in Level::ALL {
        assert_eq!(
            graph_links(shown.graph(level).unwrap(), &shown.store.data.interner),
            links_json(&mut cli_store, level),
            "{level:?}"
        );
    }
    // The strip still spans every trace.
    assert_eq!(
        shown.timeline.as_ref().map(|t| t.start),
        Some(first),
        "the strip is the whole run's"
    );
    // A trace of the window opens its waterfall and lights its path (the window's model shares
    // its store with every trace's).
    h.query_all_by_label_contains(" sp ")
        .next()
        .expect("a trace row")
        .click();
    wait(&mut h, "the trace's path lit", |app| {
        app.waterfall().trace().is_some()
            && app
                .canvas()
                .scene()
                .is_some_and(|s| s.nodes.iter().any(|n| n.highlighted))
    });
    let picked = h.state().waterfall().trace().unwrap();
    let shown = h.state().model().unwrap();
    let row = shown.traces.iter().find(|r| r.trace() == picked).unwrap();
    assert_eq!(h.state().waterfall().rows().len(), row.spans as usize);
    // The waterfall follows the window: a later window without that trace closes it.
    let later = (first + 5_000_000, first + 6_000_000);
    h.state_mut().push_action(Action::SetWindow(Some(later)));
    wait(&mut h, "the later window", |app| {
        app.window() == Some(later) && !app.is_busy()
    });
    assert!(!h.state().model().unwrap().lists(picked));
    assert_eq!(h.state().waterfall().trace(), None);
    h.state_mut().push_action(Action::SetWindow(None));
    wait(&mut h, "every trace again", |app| {
        app.window().is_none() && app.model().is_some_and(|m| m.traces.len() == all_traces)
    });
    std::fs::remove_dir_all(&dir).ok();
}

/// Play on the timeline moves the window along the run (at the chosen speed), each step showing
/// that moment's graph; Stop holds it. See: #17
#[test]
fn issue_17_play_replays_the_run_through_the_window() {
    let dir = std::env::temp_dir().join(format!("flowscope-ui-play-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let options = flowscope::simulate::SimOptions {
        // A 20 s run: each step waits for the last window's graph, so it must outlast a few.
        traces: 2_000,
        seed: 3,
        ..flowscope::simulate::SimOptions::default()
    };
    flowscope::simulate::simulate(&fixture("spigo/runs/lamp/arch.json"), &dir, &options).unwrap();
    let mut h = opened(dir.join("flow.json"));
    let start = h.state().model().unwrap().timeline.as_ref().unwrap().start;
    h.get_by_label("Play").click();
    // The first window is the run's first tenth; then it moves on.
    wait(&mut h, "a window that has moved", |app| {
        app.window().is_some_and(|(from, _)| from > start)
    });
    let moved = h.state().window().unwrap();
    assert!(h.state().replaying(), "{moved:?} from {start}");
    h.get_by_label("Stop").click();
    wait(&mut h, "the stopped window's graph", |app| !app.is_busy());
    let held = h.state().window();
    h.run_steps(30);
    assert_eq!(h.state().window(), held);
    assert!(held.unwrap().0 >= moved.0);
    // The graph shown is the window's: fewer traces than the whole run.
    assert!(h.state().model().unwrap().traces.len() < 2_000 / 2);
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes a Zipkin v2 file of one two-span trace per start (epoch µs): `front` calls `back`.
fn write_traces(path: &Path, starts: &[i64]) {
    let spans: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let trace = format!("{:016x}", t as u64 ^ 0x5eed);
            let k = k + 1;
            format!(
                r#"{{"traceId":"{trace}","id":"{k:016x}","name":"get","kind":"CLIENT","timestamp":{t},"duration":900,"localEndpoint":{{"serviceName":"front"}},"remoteEndpoint":{{"serviceName":"back"}}}},
{{"traceId":"{trace}","id":"{k:016x}","name":"get","kind":"SERVER","shared":true,"timestamp":{},"duration":700,"localEndpoint":{{"serviceName":"back"}}}}"#,
                t + 100
            )
        })
        .collect();
    std::fs::write(path, format!("[{}]", spans.join(",\n"))).unwrap();
}

/// While tailing a directory, Follow keeps the window on the newest minute: a file with later
/// traces moves it, and the graph shows only the traces that start in it. See: #17
#[test]
fn issue_17_follow_keeps_the_window_on_the_newest_minute_of_a_live_tail() {
    let dir = std::env::temp_dir().join(format!("flowscope-ui-follow-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let t0: i64 = 1_700_000_000_000_000;
    // Three traces over two minutes: the newest minute holds the last two.
    write_traces(
        &dir.join("a.json"),
        &[t0, t0 + 70_000_000, t0 + 120_000_000],
    );
    let mut app = FlowscopeApp::with_paths(Vec::new());
    app.push_action(Action::Open(vec![dir.clone()]));
    let mut h = harness(app);
    wait(&mut h, "the watched directory's model", |app| {
        app.model().is_some_and(|m| m.traces.len() == 3)
    });
    h.get_by_label("Follow").click();
    let newest = |end: i64| (end - 60_000_000, end + 1);
    wait(&mut h, "the newest minute", |app| {
        app.window() == Some(newest(t0 + 120_000_000 + 100)) && !app.is_busy()
    });
    assert_eq!(h.state().model().unwrap().traces.len(), 2);

    // Ten minutes later: the strip grows and the window moves with it.
    write_traces(&dir.join("b.json"), &[t0 + 600_000_000, t0 + 630_000_000]);
    wait(&mut h, "the window on the new newest minute", |app| {
        app.window() == Some(newest(t0 + 630_000_000 + 100))
            && !app.is_busy()
            && app.model().is_some_and(|m| m.traces.len() == 2)
    });
    let shown = h.state().model().unwrap();
    let calls: u64 = shown
        .graph(Level::Service)
        .unwrap()
        .graph
        .edge_weights()
        .map(|e| e.calls)
        .sum();
    assert_eq!(calls, 2, "one front → back call per trace of the window");
    assert!(h.state().timeline_following());

    // Follow off: every trace again.
    h.get_by_label("Follow").click();
    wait(&mut h, "every trace", |app| {
        app.window().is_none() && app.model().is_some_and(|m| m.traces.len() == 5)
    });
    std::fs::remove_dir_all(&dir).ok();
}
