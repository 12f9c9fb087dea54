//! flowscope's integration tests: one binary, a module per area, reading real trace files.
//!
//! Fixtures copied from `../shared/traces` live in `tests/fixtures/` (see its NOTICE). Tests that
//! walk the whole of `../shared/traces` skip with a message when it is absent, except under CI.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed unwrap is a failed test"
)]

mod common;

// Reading each format. New format? Add a module here.
mod ingest_compressed;
mod ingest_jaeger;
mod ingest_otlp;
mod ingest_otlp_proto;
mod ingest_spigo;
mod ingest_zipkin;

// Deriving graphs.
mod aggregate;
mod cluster;
mod derive_flow;
mod derive_graph;
mod derive_levels;
mod derive_links;
mod diff;
mod window_index;

// Hostile input.
mod hostile;

// Scenes and pictures.
mod render;

// Layout.
mod layout;

// The window's loader: streaming, first picture, cancel.
mod loader;

// The command line.
mod cli;

// The window, driven through egui_kittest.
mod ui;
mod ui_aggregate;
mod ui_canvas;
mod ui_compare;
mod ui_timeline;

// Writing Spigo-compatible architectures, graphs and flows.
mod simulate;

// Following a directory live: files growing in pieces, rotated, truncated.
mod tail;
