//! pgfarm-diff (being built).
