//! Tests for `derive_links` (filled in as the area lands).
