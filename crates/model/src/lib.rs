//! pgfarm-model (being built).
