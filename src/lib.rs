//! flowscope: reads trace files (Zipkin, Jaeger, OTLP, Spigo), builds the service dependency graph in
//! memory, and draws it.
//!
//! The data flows one way: [`ingest`] (sniff, parse, normalise) → [`model`] (spans, traces,
//! topology) → [`derive`](mod@derive) (Zipkin's dependency links, graphs at each level, filters,
//! flows) → [`layout`] (positions) → [`scene`] (what to draw) → [`render`] (PNG). [`simulate`]
//! writes Spigo-compatible architectures, graphs and flows; [`source`] follows a directory
//! of trace files as they grow; [`cli`] holds the command-line
//! subcommands; [`ui`] is the window.

pub mod aggregate;
pub mod cli;
pub mod derive;
pub mod heap;
pub mod ingest;
pub mod layout;
pub mod model;
pub mod render;
pub mod scene;
pub mod simulate;
pub mod source;
#[cfg(feature = "ui")]
pub mod ui;
