//! The filter expression parser on arbitrary text, and the parsed filter applied to a node.
#![no_main]

use flowscope::derive::filter::{Filter, NodeFacts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Filter::parse(text) {
        Ok(filter) => {
            let node = NodeFacts {
                name: "api-7",
                service: Some("api"),
                region: Some("us-east-1"),
                zone: Some("zoneA"),
                package: Some("karyon"),
                calls: 12,
                errors: 1,
                p50_micros: Some(1_500),
                p99_micros: Some(90_000),
                mean_micros: Some(4_000),
            };
            let _ = filter.matches(&node);
        }
        Err(e) => assert!(e.column >= 1 && e.column <= text.len() + 1, "{e:?}"),
    }
});
