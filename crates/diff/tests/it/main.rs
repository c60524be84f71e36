//! Integration tests of pgfarm-diff: one binary, one module per area.

/// Verdicts, renderings and variant choices compared with GNU `diff` on the pg_regress corpus.
mod corpus;
/// Property tests: GNU `patch` applies our unified diffs; renderings agree with each other.
mod properties;
/// Shared helpers: locating the corpus, running GNU tools.
mod support;
