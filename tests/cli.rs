//! Tests for cli (filled in as the area lands).
