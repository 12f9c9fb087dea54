//! flowscope: reads trace files (Zipkin, Jaeger, OTLP, Spigo), builds the service dependency graph in
//! memory, and (in later layers) lays it out and draws it.
//!
//! The data flows one way: [`ingest`] (sniff, parse, normalise) → [`model`] (spans, traces,
//! topology) → [`derive`](mod@derive) (Zipkin's dependency links, graphs at each level) → [`layout`]
//! (positions). [`cli`] holds the command-line subcommands.

pub mod cli;
pub mod derive;
pub mod ingest;
pub mod layout;
pub mod model;
