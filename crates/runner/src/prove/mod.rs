//! `pgfarm prove`: pgTAP test files run through psql exactly as pg_prove runs them, their TAP
//! parsed with `pgfarm-tap-parser` in pgTAP mode, judged as TAP::Harness judges them, and
//! summarised in prove's words (`All tests successful.`, `Files=.., Tests=..`, `Result: PASS`).
//!
//! - `options`: [`ProveOptions`], the [`Script`]s a run executes ([`plan`]) and the psql
//!   command pg_prove runs for each ([`psql_command`]);
//! - `run`: [`run`] (scripts `jobs` at a time), [`ProveReport`], [`ProveEvent`], [`CpuTimes`];
//! - `judge`: [`judge`], TAP::Harness's rules giving a [`FileResult`];
//! - `console`: prove's text ([`FileLine`], [`render_summary`]).

mod console;
mod judge;
mod options;
mod run;

pub use console::{FileLine, clock_stamp, id_ranges, render_summary};
pub use judge::{FileResult, judge};
pub use options::{ProveOptions, Script, choose, plan, psql_command};
pub use run::{CpuTimes, ProveEvent, ProveReport, run};
