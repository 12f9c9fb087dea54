//! Tests for `ingest_spigo` (filled in as the area lands).
