//! One module per route of the dashboard (see [`crate::app`] for the table).

pub mod admin;
pub mod extension;
pub mod failures;
pub mod history;
pub mod machine;
pub mod not_found;
pub mod overview;
pub mod run;
pub mod runs;
pub mod trends;
pub mod users;
pub mod view;
