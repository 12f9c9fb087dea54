//! The legend panel and the stamp lines of a scene.

use std::fmt::Write as _;

use rustc_hash::FxHashSet;

use super::style::{PACKAGE_LEGEND, Style};
use super::{Highlight, Legend, LegendItem, Px, Stamp, Swatch, TextShape};

/// The legend entry a package is listed under.
fn canonical_package(p: &str) -> &str {
    match p {
        "riak" => "priamCassandra",
        "cache" | "volume" => "store",
        "denominator" => "monolith",
        other => other,
    }
}

/// The legend: packages present, edge meanings, the lit flow, regions.
pub(super) fn legend(
    style: &Style,
    packages: &FxHashSet<&str>,
    regions: &[(usize, String)],
    lit: &Highlight,
    stopped: bool,
    measure: &dyn Fn(&str, f32) -> f32,
    size: Px,
) -> Legend {
    let mut rows: Vec<(Swatch, String)> = Vec::new();
    let present: FxHashSet<&str> = packages.iter().map(|p| canonical_package(p)).collect();
    for (package, label) in PACKAGE_LEGEND {
        if present.contains(package) {
            rows.push((Swatch::Dot(style.package(Some(package))), label.to_owned()));
        }
    }
    if packages.is_empty() {
        rows.push((Swatch::Dot(style.package(None)), "service".to_owned()));
    }
    rows.push((
        Swatch::Line(style.edge_for(0.0), 2.0),
        "calls (width: count)".to_owned(),
    ));
    rows.push((
        Swatch::Line(style.edge_for(1.0), 2.0),
        "calls with errors".to_owned(),
    ));
    if !lit.is_empty() {
        rows.push((
            Swatch::Line(style.highlight, 3.0),
            "the selected flow".to_owned(),
        ));
    }
    if !lit.critical_edges.is_empty() {
        rows.push((
            Swatch::Line(style.critical, 4.0),
            "its critical path".to_owned(),
        ));
    }
    if stopped {
        rows.push((
            Swatch::Cross(style.done_cross),
            "stopped during the run".to_owned(),
        ));
    }
    for (i, name) in regions.iter().take(12) {
        rows.push((Swatch::Area(style.region(*i)), name.clone()));
    }
    lay_out(style, rows, measure, size)
}

/// A legend panel of `rows`, bottom-left.
pub(super) fn lay_out(
    style: &Style,
    rows: Vec<(Swatch, String)>,
    measure: &dyn Fn(&str, f32) -> f32,
    size: Px,
) -> Legend {
    let line = style.small_size * 1.5;
    let width = rows
        .iter()
        .map(|(_, t)| measure(t, style.small_size))
        .fold(0.0f32, f32::max)
        + 40.0;
    let height = rows.len() as f32 * line + 12.0;
    let top_left = [12.0, size[1] - height - 12.0];
    let items = rows
        .into_iter()
        .enumerate()
        .map(|(i, (swatch, text))| {
            let y = top_left[1] + 6.0 + i as f32 * line;
            LegendItem {
                swatch,
                at: [top_left[0] + 16.0, y + line / 2.0],
                text: TextShape {
                    pos: [
                        top_left[0] + 30.0,
                        y + (line - style.small_size * 1.2) / 2.0,
                    ],
                    text,
                    size: style.small_size,
                    color: style.text,
                },
            }
        })
        .collect();
    Legend {
        rect: [top_left, [top_left[0] + width, top_left[1] + height]],
        fill: style.panel,
        items,
    }
}

/// The stamp: files, level and filter, time range, version; right-aligned at the bottom.
pub(super) fn stamp_text(
    style: &Style,
    stamp: &Stamp,
    measure: &dyn Fn(&str, f32) -> f32,
    size: Px,
) -> Vec<TextShape> {
    let mut lines = Vec::new();
    let files = |files: &[String]| match files {
        [] => "no files".to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    };
    if stamp.baseline.is_empty() {
        lines.push(files(&stamp.files));
    } else {
        lines.push(format!(
            "before {}, after {}",
            files(&stamp.baseline),
            files(&stamp.files)
        ));
    }
    let mut second = format!("level {}", stamp.level.as_str());
    if !stamp.filter.is_empty() {
        write!(second, " · filter {}", stamp.filter).ok();
    }
    if let Some(trace) = &stamp.trace {
        write!(second, " · trace {trace}").ok();
    }
    lines.push(second);
    if let Some((a, b)) = stamp.time_range {
        lines.push(format!(
            "{} – {} UTC",
            crate::model::time::format_utc_micros(a),
            crate::model::time::format_utc_micros(b)
        ));
    }
    lines.push(format!("flowscope {}", env!("CARGO_PKG_VERSION")));
    let line = style.small_size * 1.35;
    let n = lines.len() as f32;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let w = measure(&text, style.small_size);
            TextShape {
                pos: [size[0] - w - 12.0, size[1] - 12.0 - (n - i as f32) * line],
                text,
                size: style.small_size,
                color: style.text_weak,
            }
        })
        .collect()
}
