//! Reusable components: the page shell, loading/error/empty states, and the run renderers.

pub mod filter_bar;
pub mod layout;
pub mod remote;
pub mod run_table;
pub mod states;
pub mod status;
