//! Painters that need no window: a [`Scene`](crate::scene::Scene) rasterised to PNG.

pub mod png;
