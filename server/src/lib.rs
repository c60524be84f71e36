//! pgfarm-server (being built).
