//! [`Action`]: what panels ask for; `app.rs` applies them at the end of the frame.

use std::path::PathBuf;

use crate::model::Level;
use crate::scene::{EdgeEnd, GroupKey};

/// One thing a panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Read these files or directories, merged with what is loaded.
    Open(Vec<PathBuf>),
    /// Show a native dialog to pick files (`folder: false`) or a folder.
    OpenDialog {
        /// Pick a folder rather than files.
        folder: bool,
    },
    /// Stop the running load.
    CancelLoad,
    /// Forget everything loaded.
    CloseAll,
    /// Show the graph at another level.
    SetLevel(Level),
    /// Use this filter expression (already checked to parse).
    SetFilter(String),
    /// Find the first node whose name contains this text, select it and centre on it.
    Search(String),
    /// Select a node (by graph index) or nothing.
    SelectNode(Option<u32>),
    /// Select an edge (by graph edge index) or nothing.
    SelectEdge(Option<u32>),
    /// Select a collapsed region or zone.
    SelectGroup(GroupKey),
    /// Select an edge drawn for several, by its ends.
    SelectSum([EdgeEnd; 2]),
    /// Hold a node (by graph index) at a layout position.
    PinNode(u32, [f32; 2]),
    /// Let a pinned node move again.
    UnpinNode(u32),
    /// Let every pinned node move again.
    UnpinAll,
    /// Draw a region or zone as one node, or expand it again.
    ToggleCollapse(GroupKey),
    /// Select a trace (by index in the store) or nothing.
    SelectTrace(Option<usize>),
    /// Fit the graph into the canvas.
    Fit,
    /// Show a native dialog for where to save a PNG of the view (`whole: false`) or of the
    /// whole graph.
    ExportDialog {
        /// The whole graph rather than the view.
        whole: bool,
    },
    /// Write the current view as a PNG here.
    ExportPng(PathBuf),
    /// Write the whole graph (fitted, at the view's size) as a PNG here.
    ExportWholePng(PathBuf),
    /// Hide the failure banner.
    DismissBanner,
    /// Pause or resume showing what a watched directory gains.
    ToggleLivePause,
    /// Show the graph of the traces that start in `[from, to)` (epoch µs); `None`: all of them.
    SetWindow(Option<(i64, i64)>),
    /// Show a native dialog to pick a baseline to compare with: files (`folder: false`) or a
    /// folder.
    CompareDialog {
        /// Pick a folder rather than files.
        folder: bool,
    },
    /// Compare what is loaded (after) with the traces of these files or directories (before).
    CompareWith(Vec<PathBuf>),
    /// Show the comparison's after, before or difference.
    ShowCompared(CompareView),
    /// Stop comparing and show what is loaded.
    StopComparing,
}

/// What the canvas shows while comparing with a baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareView {
    /// What is loaded.
    After,
    /// The baseline.
    Before,
    /// Both runs' graphs in one, drawn by what changed.
    Difference,
}
