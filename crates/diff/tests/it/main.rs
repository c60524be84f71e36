//! Integration tests of pgfarm-diff: one binary, one module per area.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

/// Verdicts, renderings and variant choices compared with GNU `diff` on the pg_regress corpus.
mod corpus;
/// Property tests: GNU `patch` applies our unified diffs; renderings agree with each other.
mod properties;
/// Shared helpers: locating the corpus, running GNU tools.
mod support;
