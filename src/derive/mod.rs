//! Derives graphs from the model: Zipkin's dependency links, and a petgraph graph at each level.

pub mod critical_path;
pub mod diff;
pub mod filter;
pub mod flow;
pub mod graph;
pub mod jaeger;
pub mod latency;
pub mod levels;
pub mod links;
pub(crate) mod names;
pub(crate) mod relink;
pub mod sets;
pub mod sketch;
pub mod skew;
pub mod summary;
pub mod timeline;
pub mod tree;
pub mod window;
pub mod window_index;

pub use graph::{EdgeStats, NodeInfo, ServiceGraph};
pub use links::{Link, dependency_links};
