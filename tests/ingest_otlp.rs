//! Tests for `ingest_otlp` (filled in as the area lands).
