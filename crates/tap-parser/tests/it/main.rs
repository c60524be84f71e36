//! Integration tests of pgfarm-tap-parser: one binary, one module per area.

/// Node `tap-parser` conformance corpus (160 fixtures) with the named exception list.
mod conformance;
/// Shared helpers: corpus location, event collection.
mod corpus;

