//! pgfarm-runner runs PostgreSQL extension test suites and reports what happened.
//!
//! It holds the engines behind `pgfarm regress` (a pg_regress replacement: [`regress::run`]
//! with [`regress::RegressOptions`]), `pgfarm prove` (pgTAP files through psql, as pg_prove
//! runs them) and `pgfarm test` (the farm job: build, install, load, regress, tap and upgrade
//! stages per PostgreSQL installation), plus the pieces they share: schedule parsing
//! ([`schedule::Schedule`]), extension discovery, JUnit and TAP writers.
//!
//! ```
//! use pgfarm_runner::schedule::{Dialect, Schedule};
//! let schedule = Schedule::parse("test: one\ntest: two three\n", Dialect::Tap);
//! assert_eq!(schedule.tests(), ["one", "two", "three"]);
//! ```
//!
//! The runner never prints: console text and progress go out through sinks and callbacks
//! that the `pgfarm` binary renders. It does not parse TAP or compute diffs itself (that is
//! `pgfarm-tap-parser` and `pgfarm-diff`), and it does not manage clusters (`pgfarm-pgnode`).
//!
//! Tests: unit tests sit beside the code (console formats are checked byte for byte against
//! `shared/corpus/regress/format-samples`); end-to-end tests against real PostgreSQL servers
//! are in `crates/cli/tests/`.

#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bundle;
pub mod copy;
mod dbcopy;
pub mod dist;
pub mod error;
pub mod extension;
pub mod farm;
pub mod pgxs;
pub mod pool;
pub mod process;
pub mod prove;
pub mod regress;
pub mod report;
pub mod schedule;
pub mod upload;
pub mod worker;

pub use error::{Error, Result};
