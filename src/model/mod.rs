//! The in-memory model: spans in flat arrays with interned strings, traces, and each node's place in the topology.

pub mod batch;
pub mod ids;
pub mod intern;
pub mod names;
pub mod span;
pub mod store;
pub mod time;
pub mod topology;

pub use batch::{Batch, DeclaredEdge, DeclaredNode, Memo, NameLevel, SpanRef, TraceRuns};
pub use ids::{IdError, IdRules, SpanId, TraceId};
pub use intern::{Interner, Sym};
pub use names::{NameTable, Resolve};
pub use span::{Annotation, Endpoint, FileId, Kind, LinkRule, Slice, Span, Tag};
pub use store::{TraceEntry, TraceStore};
pub use topology::{InstanceId, Level, Place, Placer, SpigoName, Topology};
