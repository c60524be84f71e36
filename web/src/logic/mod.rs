//! Pure view-model code: no DOM, no clock, no I/O, so it is tested natively (`cargo test -p pgfarm-web`).
