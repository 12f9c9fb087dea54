//! Comparing with a baseline in the window (through the app's own actions, `egui_kittest`): the
//! difference equals `flowscope diff`'s at every level, the canvas shows after, before and the
//! difference, the inspector before → after, the filter selects by change. See: #17

use egui_kittest::kittest::Queryable as _;
use flowscope::derive::ServiceGraph;
use flowscope::derive::diff::{Change, GraphDiff};
use flowscope::ingest::spigo::ArchOptions;
use flowscope::model::Level;
use flowscope::simulate::{SimOptions, simulate};
use flowscope::ui::actions::{Action, CompareView};

use crate::common::{fixture, store_of};
use crate::ui::{has_label, opened, wait};

#[test]
fn issue_17_compare_with_a_baseline_shows_after_before_and_the_difference() {
    let arch = fixture("spigo/runs/netflixoss/arch.json");
    let options = |victim| SimOptions {
        arch: ArchOptions {
            scale_percent: 100,
            regions: 1,
        },
        traces: 600,
        seed: 4,
        victim,
        ..SimOptions::default()
    };
    let base = std::env::temp_dir().join(format!("flowscope-ui-compare-{}", std::process::id()));
    let (with, without) = (base.join("victim"), base.join("no-victim"));
    std::fs::remove_dir_all(&base).ok();
    simulate(&arch, &with, &options(true)).unwrap();
    simulate(&arch, &without, &options(false)).unwrap();
    let (after, before) = (with.join("flow.json"), without.join("flow.json"));

    let mut h = opened(after.clone());
    let after_traces = h.state().model().unwrap().traces.len();
    h.state_mut()
        .push_action(Action::CompareWith(vec![before.clone()]));
    wait(&mut h, "the comparison", |app| {
        app.compare_view() == Some(CompareView::Difference) && !app.is_busy()
    });
    // Both runs' files are flow.json: the bar names the baseline's folder too.
    assert!(has_label(&h, "Compared with no-victim/flow.json:"));

    // The difference at every level is the command line's.
    for (k, level) in Level::ALL.into_iter().enumerate() {
        h.state_mut().push_action(Action::SetLevel(level));
        h.run_steps(2);
        let mut b = store_of(std::slice::from_ref(&before));
        let mut a = store_of(std::slice::from_ref(&after));
        let want = GraphDiff::between(
            &ServiceGraph::build(&mut b, level),
            &b.data.interner,
            &ServiceGraph::build(&mut a, level),
            &a.data.interner,
        );
        assert_eq!(h.state().difference(), Some(&want), "{level:?} ({k})");
    }

    // At the instance level the kill changed the victim's calls: the difference is drawn with
    // its legend, and the union graph holds every node of both runs.
    h.state_mut().push_action(Action::SetLevel(Level::Instance));
    wait(&mut h, "the instance level's difference", |app| {
        !app.is_busy() && !app.layout_running()
    });
    let diff = h.state().difference().unwrap().clone();
    let changed = diff
        .nodes
        .iter()
        .filter(|n| n.change == Change::Changed)
        .count();
    assert!(changed > 0 && changed < diff.nodes.len(), "{changed}");
    // The difference is drawn on the union of both graphs: each of its nodes and edges once.
    let shown = h.state().model().unwrap();
    let union = shown.graph(Level::Instance).unwrap();
    let interner = &shown.store.data.interner;
    let mut nodes: Vec<&str> = union
        .graph
        .node_weights()
        .map(|n| interner.resolve(n.name))
        .collect();
    nodes.sort_unstable();
    let mut want: Vec<&str> = diff.nodes.iter().map(|n| n.name.as_str()).collect();
    want.sort_unstable();
    assert_eq!(nodes, want);
    let mut edges: Vec<(&str, &str)> = union
        .graph
        .edge_indices()
        .map(|e| {
            let (a, b) = union.graph.edge_endpoints(e).unwrap();
            let name = |n: petgraph::stable_graph::NodeIndex| interner.resolve(union.graph[n].name);
            (name(a), name(b))
        })
        .collect();
    edges.sort_unstable();
    let mut want: Vec<(&str, &str)> = diff
        .edges
        .iter()
        .map(|e| (e.name.as_str(), e.child.as_deref().unwrap()))
        .collect();
    want.sort_unstable();
    assert_eq!(edges, want);
    assert!(has_label(
        &h,
        "The difference lists no traces: show After or Before for theirs"
    ));
    let scene = h.state().canvas().scene().unwrap();
    let legend: Vec<&str> = scene
        .legend
        .as_ref()
        .unwrap()
        .items
        .iter()
        .map(|i| i.text.text.as_str())
        .collect();
    assert!(legend.contains(&"removed (dashed)"), "{legend:?}");

    // The filter selects by change: only the changed nodes stay.
    h.state_mut()
        .push_action(Action::SetFilter("change=changed".to_owned()));
    wait(&mut h, "the filtered scene", |app| {
        app.canvas()
            .scene()
            .is_some_and(|s| s.nodes.len() == changed)
    });

    // The inspector shows the selected node's before → after.
    let graph = h
        .state()
        .model()
        .unwrap()
        .graph(Level::Instance)
        .unwrap()
        .clone();
    let interner = h.state().model().unwrap().store.data.interner.clone();
    let item = diff
        .nodes
        .iter()
        .find(|n| n.change == Change::Changed)
        .unwrap();
    let node = graph
        .graph
        .node_indices()
        .find(|&n| interner.resolve(graph.graph[n].name) == item.name)
        .unwrap();
    h.state_mut()
        .push_action(Action::SelectNode(Some(node.index() as u32)));
    h.run_steps(3);
    assert!(has_label(&h, "Changed since the baseline"));
    let calls = |f: Option<flowscope::derive::diff::Figures>| f.unwrap().calls;
    let line = format!("Calls {} → {}", calls(item.before), calls(item.after));
    assert!(
        h.query_all_by_label_contains(&line).next().is_some(),
        "{line}"
    );

    // Before shows the baseline, After what is loaded; Stop shows what is loaded.
    h.state_mut().push_action(Action::SetFilter(String::new()));
    h.state_mut()
        .push_action(Action::ShowCompared(CompareView::Before));
    h.run_steps(3);
    let before_traces = store_of(std::slice::from_ref(&before)).traces().len();
    assert_eq!(h.state().model().unwrap().traces.len(), before_traces);
    h.state_mut()
        .push_action(Action::ShowCompared(CompareView::After));
    h.run_steps(3);
    assert_eq!(h.state().model().unwrap().traces.len(), after_traces);
    h.state_mut()
        .push_action(Action::ShowCompared(CompareView::Difference));
    h.state_mut().push_action(Action::StopComparing);
    h.run_steps(3);
    assert_eq!(h.state().compare_view(), None);
    assert_eq!(h.state().model().unwrap().traces.len(), after_traces);
    assert!(h.state().difference().is_none());
    std::fs::remove_dir_all(&base).ok();
}
