//! Pure view-model code: no DOM, no clock, no I/O, so it is tested natively (`cargo test -p pgfarm-web`).

pub mod badges;
pub mod causes;
pub mod diff_rows;
pub mod durations;
pub mod filters;
pub mod history;
pub mod log_lines;
pub mod matrix;
pub mod tap_tree;
pub mod time_ago;
pub mod trends;
pub mod virtual_window;
