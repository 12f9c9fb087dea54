//! Tests for `ingest_zipkin` (filled in as the area lands).
