//! What a scene is built from: the camera, the view state, the stamp, and the request that borrows them.

use super::{EdgeEnd, GroupKey, Px, Theme};
use crate::derive::ServiceGraph;
use crate::derive::filter::Filter;
use crate::model::{Level, Resolve};

/// A lit flow: nodes and edges named at the graph's level.
pub type Highlight = crate::derive::flow::FlowPath;

/// Where the view looks: layout coordinates at the canvas centre, and pixels per layout unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Layout point shown at the centre.
    pub center: [f32; 2],
    /// Pixels per layout unit.
    pub zoom: f32,
}

/// The view state the scene depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Canvas size, px.
    pub size: Px,
    /// Theme.
    pub theme: Theme,
    /// Which nodes are shown.
    pub filter: Filter,
    /// The lit flow.
    pub highlight: Highlight,
    /// The selected node.
    pub selected: Option<u32>,
    /// The selected edge (graph edge index).
    pub selected_edge: Option<u32>,
    /// The selected collapsed region or zone.
    pub selected_group: Option<GroupKey>,
    /// The selected summed edge, by its ends.
    pub selected_sum: Option<[EdgeEnd; 2]>,
    /// Nodes held in place by the user, sorted.
    pub pinned: Vec<u32>,
    /// Regions and zones drawn as one node each, sorted.
    pub collapsed: Vec<GroupKey>,
    /// `None` fits everything visible.
    pub camera: Option<Camera>,
    /// Draw the legend and stamp.
    pub legend: bool,
    /// A comparison with a baseline: what the filter's change fields read, and, when it says
    /// so, the encoding of the difference the scene is drawn with.
    pub compared: Option<Compared>,
}

/// A difference the view knows about ([`View::compared`]).
#[derive(Clone, Debug)]
pub struct Compared {
    /// The difference at the graph's level, by name.
    pub diff: std::sync::Arc<crate::derive::diff::GraphDiff>,
    /// Draw the scene as the difference (the graph is the union of both runs').
    pub restyle: bool,
}

impl PartialEq for Compared {
    /// The same difference (not a copy of it) drawn the same way.
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.diff, &other.diff) && self.restyle == other.restyle
    }
}

impl Default for View {
    fn default() -> Self {
        Self {
            size: [1600.0, 1000.0],
            theme: Theme::Dark,
            filter: Filter::All,
            highlight: Highlight::default(),
            selected: None,
            selected_edge: None,
            selected_group: None,
            selected_sum: None,
            pinned: Vec::new(),
            collapsed: Vec::new(),
            camera: None,
            legend: true,
            compared: None,
        }
    }
}

/// What the stamp says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    /// Source files.
    pub files: Vec<String>,
    /// Level.
    pub level: Level,
    /// Filter text.
    pub filter: String,
    /// First and last span start, epoch µs.
    pub time_range: Option<(i64, i64)>,
    /// The lit trace, if any.
    pub trace: Option<String>,
    /// A difference's baseline files (`files` are then the run compared with it).
    pub baseline: Vec<String>,
}

impl Stamp {
    /// How a stamp names a file: its file name (the whole path when it has none).
    pub fn file_label(path: &std::path::Path) -> String {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// How a stamp names two runs' files (before, after): by file name, or, when both runs'
    /// files have the same names (two runs' `flow.json`), with their folders too.
    pub fn run_labels(
        before: &[std::path::PathBuf],
        after: &[std::path::PathBuf],
    ) -> (Vec<String>, Vec<String>) {
        let same_names = before
            .iter()
            .map(|p| p.file_name())
            .eq(after.iter().map(|p| p.file_name()));
        let labels = |paths: &[std::path::PathBuf]| {
            paths
                .iter()
                .map(
                    |p| match (same_names, p.parent().and_then(|d| d.file_name())) {
                        (true, Some(dir)) => {
                            format!("{}/{}", dir.to_string_lossy(), Self::file_label(p))
                        }
                        _ => Self::file_label(p),
                    },
                )
                .collect()
        };
        (labels(before), labels(after))
    }
}

/// Everything the builder reads.
pub struct SceneRequest<'a> {
    /// The graph.
    pub graph: &'a ServiceGraph,
    /// Its strings: the interner, or a [`crate::model::NameTable`] of the graph's names.
    pub interner: &'a dyn Resolve,
    /// Layout positions by `NodeIndex::index()`.
    pub positions: &'a [[f32; 2]],
    /// View state.
    pub view: &'a View,
    /// Stamp.
    pub stamp: &'a Stamp,
    /// Text width in px for a string at a font size (the painter's font metrics).
    pub measure: &'a dyn Fn(&str, f32) -> f32,
}
