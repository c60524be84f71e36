//! pgfarm-tap-parser (being built).
