//! [`ServiceGraph`]: a petgraph graph of nodes at one level, edges carrying calls, errors and latency.

use petgraph::stable_graph::StableGraph;

use crate::model::{Level, Sym, Topology, TraceStore};

/// A node of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    /// Name at the graph's level.
    pub name: Sym,
}

/// What an edge carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeStats {
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
}

/// A graph at one level.
#[derive(Clone, Debug, Default)]
pub struct ServiceGraph {
    /// The level.
    pub level: Level,
    /// Nodes and edges.
    pub graph: StableGraph<NodeInfo, EdgeStats>,
    /// Every instance's place.
    pub topology: Topology,
}

impl ServiceGraph {
    /// Builds the graph of an indexed store at `level`.
    pub fn build(_store: &mut TraceStore, level: Level) -> Self {
        Self {
            level,
            ..Self::default()
        }
    }
}
