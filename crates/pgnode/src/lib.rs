//! pgfarm-pgnode (being built).
