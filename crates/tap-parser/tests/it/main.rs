//! Integration tests of pgfarm-tap-parser: one binary, one module per area.

/// Node `tap-parser` conformance corpus (160 fixtures) with the named exception list.
mod conformance;
/// Shared helpers: corpus location, event collection.
mod corpus;

/// The 41 hand-written edge cases, read as the TAP 14 text says.
mod differential;
/// Line endings, lossless bytes and the hostile-input limits.
mod limits;
/// Real pgTAP outputs compared with pg_prove's reading.
mod pgtap;
/// proptest properties (panics, chunking, spans, writer round trip).
mod props;
