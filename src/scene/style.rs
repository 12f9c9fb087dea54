//! The one place colours live: dark and light themes, colour-blind-safe palettes (Okabe–Ito),
//! sizes. Every other module asks here.

/// An sRGB colour with alpha, `[r, g, b, a]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// Opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self([r, g, b, 255])
    }

    /// The same colour with another alpha.
    #[must_use]
    pub const fn alpha(self, a: u8) -> Self {
        let [r, g, b, _] = self.0;
        Self([r, g, b, a])
    }

    /// Mixes towards `other` by `t` (0 = self, 1 = other).
    #[must_use]
    pub fn mix(self, other: Self, t: f32) -> Self {
        let t = t.clamp(0.0, 1.0);
        let mut out = [0u8; 4];
        for ((o, a), b) in out.iter_mut().zip(self.0).zip(other.0) {
            *o = (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as u8;
        }
        Self(out)
    }
}

/// Light or dark background.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Theme {
    /// Dark background.
    #[default]
    Dark,
    /// Light background.
    Light,
}

/// Okabe–Ito: eight colours told apart by people with the common colour-vision deficiencies.
const OKABE_ITO: [Rgba; 8] = [
    Rgba::rgb(0x56, 0xB4, 0xE9), // sky blue
    Rgba::rgb(0xE6, 0x9F, 0x00), // orange
    Rgba::rgb(0x00, 0x9E, 0x73), // bluish green
    Rgba::rgb(0xF0, 0xE4, 0x42), // yellow
    Rgba::rgb(0x00, 0x72, 0xB2), // blue
    Rgba::rgb(0xD5, 0x5E, 0x00), // vermillion
    Rgba::rgb(0xCC, 0x79, 0xA7), // reddish purple
    Rgba::rgb(0x99, 0x99, 0x99), // grey
];

/// Hues for region hulls, distinct from each other and from the node palette's meaning.
const REGION_HUES: [Rgba; 8] = [
    Rgba::rgb(0x44, 0x77, 0xAA),
    Rgba::rgb(0xCC, 0xBB, 0x44),
    Rgba::rgb(0x66, 0xCC, 0xEE),
    Rgba::rgb(0xAA, 0x33, 0x77),
    Rgba::rgb(0x22, 0x88, 0x33),
    Rgba::rgb(0xEE, 0x66, 0x77),
    Rgba::rgb(0x88, 0x88, 0xCC),
    Rgba::rgb(0xBB, 0xBB, 0xBB),
];

/// All colours and sizes of one theme.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Which theme.
    pub theme: Theme,
    /// Background.
    pub background: Rgba,
    /// Main text.
    pub text: Rgba,
    /// Secondary text (stamp, zone labels).
    pub text_weak: Rgba,
    /// Edges without errors.
    pub edge: Rgba,
    /// Edges where every call failed (errors mix from `edge` to this).
    pub edge_error: Rgba,
    /// The lit flow (nodes and edges of a highlighted trace).
    pub highlight: Rgba,
    /// The lit flow's critical path (the spans that set its latency).
    pub critical: Rgba,
    /// Ring around nodes with errors.
    pub error_ring: Rgba,
    /// Cross over stopped (`done`) nodes.
    pub done_cross: Rgba,
    /// Node outline.
    pub node_outline: Rgba,
    /// Selection ring.
    pub selection: Rgba,
    /// Legend panel fill.
    pub panel: Rgba,
    /// Label font size, px.
    pub label_size: f32,
    /// Hull label font size, px.
    pub hull_label_size: f32,
    /// Legend and stamp font size, px.
    pub small_size: f32,
}

impl Style {
    /// The style of a theme.
    pub fn new(theme: Theme) -> Self {
        match theme {
            Theme::Dark => Self {
                theme,
                background: Rgba::rgb(0x16, 0x19, 0x1E),
                text: Rgba::rgb(0xE8, 0xEA, 0xED),
                text_weak: Rgba::rgb(0x9A, 0xA0, 0xA6),
                edge: Rgba::rgb(0x8A, 0x9B, 0xB0).alpha(150),
                edge_error: Rgba::rgb(0xE6, 0x9F, 0x00),
                highlight: Rgba::rgb(0xFF, 0xFF, 0xFF),
                critical: Rgba::rgb(0xFF, 0x4F, 0x9A),
                error_ring: Rgba::rgb(0xE6, 0x9F, 0x00),
                done_cross: Rgba::rgb(0xF0, 0xE4, 0x42),
                node_outline: Rgba::rgb(0x10, 0x12, 0x16),
                selection: Rgba::rgb(0xFF, 0xFF, 0xFF),
                panel: Rgba::rgb(0x22, 0x26, 0x2D).alpha(235),
                label_size: 12.0,
                hull_label_size: 14.0,
                small_size: 11.0,
            },
            Theme::Light => Self {
                theme,
                background: Rgba::rgb(0xFA, 0xFA, 0xF8),
                text: Rgba::rgb(0x1F, 0x23, 0x28),
                text_weak: Rgba::rgb(0x5F, 0x66, 0x6D),
                edge: Rgba::rgb(0x5A, 0x6B, 0x80).alpha(140),
                edge_error: Rgba::rgb(0xD5, 0x5E, 0x00),
                highlight: Rgba::rgb(0x00, 0x00, 0x00),
                critical: Rgba::rgb(0xC2, 0x18, 0x5B),
                error_ring: Rgba::rgb(0xD5, 0x5E, 0x00),
                done_cross: Rgba::rgb(0x7A, 0x00, 0x5A),
                node_outline: Rgba::rgb(0xFF, 0xFF, 0xFF),
                selection: Rgba::rgb(0x00, 0x00, 0x00),
                panel: Rgba::rgb(0xFF, 0xFF, 0xFF).alpha(235),
                label_size: 12.0,
                hull_label_size: 14.0,
                small_size: 11.0,
            },
        }
    }

    /// Node fill for a Spigo package (or kind); unknown kinds share the last colour.
    pub fn package(&self, package: Option<&str>) -> Rgba {
        let i = match package {
            Some("elb") => 0,
            Some("zuul") => 1,
            Some("karyon") => 2,
            Some("staash") => 3,
            Some("priamCassandra" | "riak") => 4,
            Some("store" | "cache" | "volume") => 5,
            Some("monolith" | "denominator") => 6,
            _ => 7,
        };
        let base = OKABE_ITO
            .get(i)
            .copied()
            .unwrap_or(Rgba::rgb(0x99, 0x99, 0x99));
        match (package, self.theme) {
            // A service with no package (non-Spigo data): a calm blue-grey, readable on both.
            (None, Theme::Dark) => Rgba::rgb(0x7F, 0xB3, 0xD5),
            (None, Theme::Light) => Rgba::rgb(0x3B, 0x6E, 0x99),
            _ => base,
        }
    }

    /// The hull colour of the `i`-th region (in a stable order).
    pub fn region(&self, i: usize) -> Rgba {
        REGION_HUES
            .get(i % REGION_HUES.len())
            .copied()
            .unwrap_or(Rgba::rgb(0x88, 0x88, 0x88))
    }

    /// Region hull fill (translucent, so nodes show through).
    pub fn region_fill(&self, i: usize) -> Rgba {
        self.region(i).alpha(match self.theme {
            Theme::Dark => 38,
            Theme::Light => 46,
        })
    }

    /// Zone hull fill: fainter than its region's.
    pub fn zone_fill(&self, region: usize) -> Rgba {
        self.region(region).alpha(match self.theme {
            Theme::Dark => 30,
            Theme::Light => 34,
        })
    }

    /// Edge colour for an error rate in 0..=1.
    pub fn edge_for(&self, error_rate: f32) -> Rgba {
        if error_rate <= 0.0 {
            self.edge
        } else {
            self.edge
                .alpha(220)
                .mix(self.edge_error, 0.35 + 0.65 * error_rate)
        }
    }

    /// The `i`-th colour of a categorical series (services in a waterfall), Okabe–Ito.
    pub fn series(&self, i: usize) -> Rgba {
        OKABE_ITO
            .get(i % (OKABE_ITO.len() - 1))
            .copied()
            .unwrap_or(Rgba::rgb(0x99, 0x99, 0x99))
    }

    /// A colour dimmed towards the background (for what is not part of a lit flow).
    pub fn dim(&self, c: Rgba) -> Rgba {
        c.mix(self.background, 0.75)
    }
}

/// The packages listed in the legend, with their label.
pub const PACKAGE_LEGEND: [(&str, &str); 7] = [
    ("elb", "load balancer (elb)"),
    ("zuul", "API proxy (zuul)"),
    ("karyon", "service (karyon)"),
    ("staash", "data access (staash)"),
    ("priamCassandra", "Cassandra / Riak"),
    ("store", "store / cache / volume"),
    ("monolith", "monolith / DNS"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palettes_differ_where_it_matters() {
        for theme in [Theme::Dark, Theme::Light] {
            let s = Style::new(theme);
            let packages: std::collections::BTreeSet<_> = PACKAGE_LEGEND
                .iter()
                .map(|(p, _)| s.package(Some(p)).0)
                .collect();
            assert_eq!(packages.len(), PACKAGE_LEGEND.len());
            assert_ne!(s.edge_for(0.0), s.edge_for(1.0));
            assert_ne!(s.region(0), s.region(1));
        }
        assert_eq!(
            Rgba::rgb(0, 0, 0).mix(Rgba::rgb(200, 100, 50), 0.5).0,
            [100, 50, 25, 255]
        );
    }
}
