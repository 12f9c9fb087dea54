//! Format detection and whichever reader it picks, on arbitrary bytes, then everything derived.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_derive(None, data);
});
