//! The window opens an aggregate directory (`flowscope aggregate`'s OUT) like a trace file: its graph at every level, the trace list from its summaries, and a trace's waterfall read from its spans table on demand. See: #18

use std::path::PathBuf;

use flowscope::cli::{graph_links, links_json};
use flowscope::model::Level;
use flowscope::ui::actions::Action;

use crate::common::{fixture, fresh_temp, run_flowscope, store_of_readable};
use crate::ui::{critical_service_edges, has_label, opened, wait};

/// The inputs: a Zipkin trace file (whose critical path `tests/ui.rs` knows) and a Spigo run
/// (places in regions and zones, a declared architecture).
fn inputs() -> Vec<PathBuf> {
    [
        "zipkin/smartthings-mobile-web-install.json",
        "spigo/runs/netflixoss/graph.json",
        "spigo/flow/lamp_flow.json",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect()
}

fn aggregate_of(inputs: &[PathBuf], what: &str) -> PathBuf {
    let out = fresh_temp(what);
    let mut args = vec!["aggregate".to_owned()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["-o".to_owned(), out.display().to_string()]);
    let made = run_flowscope(&args);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    out
}

#[test]
fn issue_18_the_window_opens_an_aggregate_and_reads_a_trace_on_demand() {
    let inputs = inputs();
    let out = aggregate_of(&inputs, "ui-aggregate");
    let store = store_of_readable(&inputs);
    let mut h = opened(out.clone());
    {
        let model = h.state().model().expect("the aggregate opened");
        assert!(model.aggregate.is_some());
        // The graph at every level is the derivation's.
        let interner = &model.store.data.interner;
        for level in Level::ALL {
            assert_eq!(
                graph_links(model.graph(level).unwrap(), interner),
                links_json(&mut store.clone(), level),
                "{level:?}"
            );
        }
        // The trace list holds every trace, by id.
        let mut want: Vec<String> = store
            .traces()
            .iter()
            .map(|t| t.id.display(&store.data.interner))
            .collect();
        want.sort();
        let got: Vec<String> = (0..model.traces.len())
            .map(|t| model.trace_id(t).unwrap())
            .collect();
        assert_eq!(got, want);
        assert!(has_label(&h, &format!("Traces ({})", want.len())));
    }
    let status = h.state().status();
    assert_eq!(status.spans, store.spans().len());
    assert_eq!(status.files, inputs.len());
    // The smartthings trace: its spans are read from the spans table, its waterfall opens and
    // its path is lit with the critical path tests/ui.rs checks on the file itself.
    let zipkin = crate::common::store_of(&inputs[..1]);
    let id = zipkin.traces()[0].id.display(&zipkin.data.interner);
    let t = h.state().model().unwrap().find_trace(&id).expect("listed");
    let spans = h.state().model().unwrap().traces[t].spans as usize;
    h.state_mut().push_action(Action::SetLevel(Level::Service));
    h.state_mut().push_action(Action::SelectTrace(Some(t)));
    wait(&mut h, "the trace's spans", |app| {
        !app.waterfall().rows().is_empty()
    });
    assert_eq!(h.state().waterfall().rows().len(), spans);
    assert!(has_label(&h, &format!("Trace {id}")));
    assert!(has_label(&h, "4 spans on the critical path"));
    let scene = h.state().canvas().scene().unwrap();
    assert_eq!(
        critical_service_edges(&h),
        [
            ("auth".to_owned(), "auth".to_owned()),
            ("coresrv".to_owned(), "auth".to_owned())
        ]
    );
    assert!(scene.nodes.iter().any(|n| n.highlighted));
    // The trace stays lit at another level (its store is kept, not read again).
    h.state_mut().push_action(Action::SetLevel(Level::Instance));
    h.run_steps(5);
    assert!(
        h.state()
            .canvas()
            .scene()
            .unwrap()
            .nodes
            .iter()
            .any(|n| n.highlighted)
    );
    std::fs::remove_dir_all(&out).ok();
}

/// An aggregate written without its spans (by an older flowscope): the traces are listed, and
/// opening one says in one line why there is no waterfall.
#[test]
fn issue_18_an_aggregate_without_spans_lists_traces_and_says_why_none_opens() {
    let inputs = [fixture("zipkin/smartthings-mobile-web-install.json")];
    let out = fresh_temp("ui-aggregate-no-spans");
    let mut store = store_of_readable(&inputs);
    let aggregate = flowscope::aggregate::Aggregate::of(&mut store, Vec::new());
    flowscope::aggregate::parquet::write(&aggregate, None, &out, false).unwrap();
    let mut h = opened(out.clone());
    assert_eq!(
        h.state().model().unwrap().traces.len(),
        store.traces().len()
    );
    h.state_mut().push_action(Action::SelectTrace(Some(0)));
    wait(&mut h, "the banner", |app| app.banner().is_some());
    let banner = h.state().banner().unwrap().to_owned();
    assert!(banner.contains("keeps no spans"), "{banner}");
    assert!(h.state().waterfall().trace().is_none());
    std::fs::remove_dir_all(&out).ok();
}
