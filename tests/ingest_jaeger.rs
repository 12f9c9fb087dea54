//! Tests for `ingest_jaeger` (filled in as the area lands).
