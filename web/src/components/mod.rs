//! Reusable components: the page shell, loading/error/empty states, and the run renderers.

pub mod layout;
pub mod states;
pub mod status;
