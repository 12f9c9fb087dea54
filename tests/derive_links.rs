//! Zipkin fidelity: the links derived from each real Zipkin file equal what Zipkin's own code derives.

use std::path::Path;

use flowscope::cli::links_json;
use flowscope::model::Level;

use crate::common::{fixture, store_of};

fn expected_links(name: &str) -> Vec<(String, String, u64, u64)> {
    let text = std::fs::read_to_string(fixture(&format!("expected-zipkin-deps/{name}"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut links: Vec<_> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["parent"].as_str().unwrap().to_owned(),
                l["child"].as_str().unwrap().to_owned(),
                l["callCount"].as_u64().unwrap(),
                l["errorCount"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    links.sort();
    links
}

fn derived_links(path: &Path) -> Vec<(String, String, u64, u64)> {
    let mut store = store_of(&[path.to_owned()]);
    links_json(&mut store, Level::Service)
        .into_iter()
        .map(|l| (l.parent, l.child, l.call_count, l.error_count))
        .collect()
}

#[test]
fn every_expected_file_matches_zipkin_exactly() {
    let dir = fixture("expected-zipkin-deps");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 15);
    for name in names {
        let got = derived_links(&fixture(&format!("zipkin/{name}")));
        assert_eq!(got, expected_links(&name), "{name}");
    }
}

#[test]
fn smartthings_self_links_and_errors() {
    // FORMATS.md §1.5: loopback RPCs give self-links; errors are counted.
    let links = derived_links(&fixture("zipkin/smartthings-oauth-authorization.json"));
    assert!(links.contains(&("auth".to_owned(), "auth".to_owned(), 50, 0)));
    assert!(links.contains(&("stlogin".to_owned(), "auth".to_owned(), 2, 1)));
}

#[test]
fn yelp_backfilled_and_placeholder_links() {
    // FORMATS.md §1.5: a client named "unknown" and a port mismatch give back-filled links.
    let links = derived_links(&fixture("zipkin/yelp.json"));
    let pairs: Vec<_> = links
        .iter()
        .map(|(p, c, _, _)| (p.as_str(), c.as_str()))
        .collect();
    assert!(pairs.contains(&("unknown", "yelp-main")), "{pairs:?}");
    assert!(pairs.contains(&("yelp-main", "mobile_api")), "{pairs:?}");
    assert!(pairs.contains(&("yelp-main", "mysql")), "{pairs:?}");
}
