//! Reusable components: the page shell, loading/error/empty states, and the run renderers.

pub mod charts;
pub mod diff_view;
pub mod filter_bar;
pub mod layout;
pub mod log_view;
pub mod releases;
pub mod remote;
pub mod run_table;
pub mod run_view;
pub mod states;
pub mod status;
pub mod tap_tree;
pub mod virtual_list;
