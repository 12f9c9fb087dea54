//! One flow: Zipkin's clock-skew correction and the critical path, on real traces.

use flowscope::derive::critical_path::critical_path;
use flowscope::derive::links::trace_tree;
use flowscope::derive::skew::{clock_skew, corrected_starts};
use flowscope::derive::tree::TraceTree;
use flowscope::model::{Kind, TraceStore};

use crate::common::{fixture, store_of};

/// The tree of the store's only (or first) trace.
fn tree_of(store: &TraceStore) -> TraceTree {
    let entry = store.traces().first().expect("a trace");
    trace_tree(store, entry)
}

/// `id kind service` of a tree span, for readable assertions.
fn describe(store: &TraceStore, tree: &TraceTree, position: usize) -> String {
    let interner = &store.data.interner;
    let s = &tree.spans[position];
    format!(
        "{} {} {}",
        s.id.display(interner),
        s.kind.map_or("-", |k| k.as_str()),
        s.local.service.map_or("?", |n| interner.resolve(n))
    )
}

/// Starts by span, as `id kind service → start`, sorted.
fn starts_of(store: &TraceStore, tree: &TraceTree, starts: &[Option<i64>]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = (0..tree.spans.len())
        .map(|i| (describe(store, tree, i), starts[i].unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn skew_json_moves_serviceb_after_its_client() {
    // Zipkin's own test case: serviceb's server (192.0.0.0) starts 65 ms before servicea's
    // client (127.0.0.0) calls it.
    let store = store_of(&[fixture("zipkin/skew.json")]);
    let tree = tree_of(&store);
    let starts = corrected_starts(&tree);
    assert_eq!(
        starts_of(&store, &tree, &starts),
        vec![
            // Local span on serviceb's host: moved with its server.
            (
                "43210ae0c10d1234 - serviceb".to_owned(),
                1_470_150_004_074_684
            ),
            // The CLIENT keeps its time.
            (
                "74280ae0c10d8062 CLIENT servicea".to_owned(),
                1_470_150_004_074_202
            ),
            // latency = (94539 − 93577) / 2 = 481; skew = 8761 − 481 − 74202 = −65922.
            (
                "74280ae0c10d8062 SERVER serviceb".to_owned(),
                1_470_150_004_074_683
            ),
            // The root keeps its time.
            (
                "bf396325699c84bf SERVER servicea".to_owned(),
                1_470_150_004_071_068
            ),
        ]
    );
    // The skew itself, between the client and its shared server.
    let position = |kind| {
        tree.spans
            .iter()
            .position(|s| s.kind == Some(kind) && s.id == tree.spans[1].id)
            .unwrap()
    };
    let (client, server) = (position(Kind::Client), position(Kind::Server));
    let skew = clock_skew(
        &tree.spans[client],
        tree.spans[client].timestamp_micros,
        &tree.spans[server],
        tree.spans[server].timestamp_micros,
    )
    .unwrap();
    assert_eq!(skew.skew_micros, -65_922);
    assert_eq!(skew.endpoint, tree.spans[server].local);
}

#[test]
fn skew_is_left_alone_where_servers_start_after_their_clients() {
    // Every server in this trace starts after its client: nothing moves.
    let store = store_of(&[fixture("zipkin/smartthings-oauth-authorization.json")]);
    let tree = tree_of(&store);
    let corrected = corrected_starts(&tree);
    let original: Vec<Option<i64>> = tree.spans.iter().map(|s| s.timestamp_micros).collect();
    assert_eq!(corrected, original);
}

#[test]
fn critical_path_of_skew_json_runs_root_to_the_async_span() {
    let store = store_of(&[fixture("zipkin/skew.json")]);
    let tree = tree_of(&store);
    let starts = corrected_starts(&tree);
    let path: Vec<String> = critical_path(&tree, &starts)
        .into_iter()
        .map(|n| describe(&store, &tree, tree.span_position(n).unwrap()))
        .collect();
    assert_eq!(
        path,
        [
            "bf396325699c84bf SERVER servicea",
            "74280ae0c10d8062 CLIENT servicea",
            "74280ae0c10d8062 SERVER serviceb",
            "43210ae0c10d1234 - serviceb",
        ]
    );
}

#[test]
fn critical_path_of_smartthings_follows_the_last_child_to_finish() {
    let store = store_of(&[fixture("zipkin/smartthings-mobile-web-install.json")]);
    let tree = tree_of(&store);
    let starts = corrected_starts(&tree);
    let path = critical_path(&tree, &starts);
    let names: Vec<String> = path
        .iter()
        .map(|&n| describe(&store, &tree, tree.span_position(n).unwrap()))
        .collect();
    assert_eq!(names, EXPECTED_SMARTTHINGS_PATH);
    // Each step is the child that ends last without outliving its parent.
    let end = |n: u32| {
        let i = tree.span_position(n).unwrap();
        starts[i].unwrap() + tree.spans[i].duration_micros.unwrap() as i64
    };
    for pair in path.windows(2) {
        let (parent, child) = (pair[0], pair[1]);
        assert_eq!(tree.parent(child), Some(parent));
        assert!(end(child) <= end(parent));
        for &sibling in tree.children(parent) {
            let i = tree.span_position(sibling).unwrap();
            if let (Some(s), Some(d)) = (starts[i], tree.spans[i].duration_micros) {
                let e = s + d as i64;
                assert!(e > end(parent) || e <= end(child), "{sibling} ends later");
            }
        }
    }
}

/// The root (coreSrv, ends at …602655) waits for `/implicit-tokens/access` (ends …601751; the
/// redirect client has no duration), answered by auth, whose last query ends at …597571.
const EXPECTED_SMARTTHINGS_PATH: &[&str] = &[
    "14b60fd9ae504820 SERVER coresrv",
    "a97b767e8ad89b9f CLIENT coresrv",
    "a97b767e8ad89b9f SERVER auth",
    "21fd692195b4e958 CLIENT auth",
];
