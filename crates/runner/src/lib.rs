//! pgfarm-runner (being built).
