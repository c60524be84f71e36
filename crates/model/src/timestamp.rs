//! JSON Schema for the RFC 3339 timestamps (serde goes through `time::serde::rfc3339`).
//!
//! schemars has no `time` integration, so the timestamp fields name these functions with
//! `#[schemars(schema_with = ...)]`.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Schema of a required timestamp: an RFC 3339 string, UTC (`Z`) in bundles written by pgfarm.
pub(crate) fn schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339 timestamp in UTC, e.g. \"2026-11-22T04:46:19Z\"."
    })
}

/// Schema of an optional timestamp: an RFC 3339 string or null.
pub(crate) fn option_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["string", "null"],
        "format": "date-time",
        "description": "RFC 3339 timestamp in UTC, e.g. \"2026-11-22T04:46:19Z\"; absent when unknown."
    })
}
