//! Where bytes come from while they are still being written: a directory followed live ([`watch`]), its files read as they grow ([`dir`], [`tail`]) into a model kept up to date ([`live`]).
//!
//! The core, [`tail::FileTail`], is a pure state machine (bytes at an offset in, complete records
//! out), separate from the notify watcher so that it can be tested and fuzzed with any cuts
//! ([`tail::follow_in_pieces`]).

pub mod dir;
pub mod live;
pub mod tail;
pub mod watch;

pub use dir::{DirTail, FileUpdate, ScanResult, TailFailure};
pub use live::{LiveCounts, LiveModel};
pub use tail::{FileTail, TailOutput, follow_in_pieces};
pub use watch::{DirWatcher, TailBatch, WatchMode, WatchOptions};
