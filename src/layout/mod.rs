//! Force-directed layout: a group-aware, multilevel Barnes–Hut spring–electrical model on rayon, seeded and deterministic, run on a worker thread.
//!
//! [`LayoutGraph`] is the flat input (from a [`ServiceGraph`](crate::derive::ServiceGraph) or
//! from edges), [`LayoutEngine`] runs iterations, [`LayoutWorker`] runs an engine on a thread and
//! streams positions, [`quality`] measures the result.

pub mod coarsen;
pub mod engine;
pub mod forces;
pub mod graph;
pub mod pack;
pub mod quadtree;
pub mod quality;
pub mod rng;
pub mod separate;
pub mod worker;

pub use engine::{LayoutEngine, LayoutParams, LayoutStats, carry_over};
pub use forces::ForceParams;
pub use graph::LayoutGraph;
pub use quality::Quality;
pub use worker::{LayoutWorker, Snapshot};
