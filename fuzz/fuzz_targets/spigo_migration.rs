//! The SpigoMigration reader on arbitrary bytes, then everything derived from what it read.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::parse_and_derive(Some(flowscope::ingest::Format::SpigoMigration), data);
});
