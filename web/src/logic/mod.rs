//! Pure view-model code: no DOM, no clock, no I/O, so it is tested natively (`cargo test -p pgfarm-web`).

pub mod badges;
pub mod filters;
pub mod history;
pub mod matrix;
pub mod time_ago;
