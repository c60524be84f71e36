//! Why a pg_regress run bails out: one variant per reason, with the data it names.
//!
//! The messages are pg_regress's (or, where pgfarm does the work in-process, worded as
//! pg_regress words the same failure): they are printed as `Bail out!` lines, written to
//! regression.out and compared with pg_regress's console output, so each `Display` is the exact
//! text printed today.

use std::io;
use std::path::PathBuf;

use crate::error::Error;
use crate::schedule::InvalidLine;

/// A bail-out: the run stops, exit status 2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Bail {
    /// The cancel flag was set (Ctrl-C, SIGTERM) between tests.
    #[error("interrupted")]
    Interrupted,
    /// Preparing the run failed before anything ran (no database name, a directory that
    /// cannot be created, an unreadable resultmap); the message is the error's.
    #[error(transparent)]
    Prepare(Error),
    /// A helper psql (set-up, a database copy) could not be run or failed, or a schedule line
    /// was refused (`Error::ScheduleSyntax`, `Error::TooManyParallelTests`): the message is the
    /// error's.
    #[error(transparent)]
    Process(#[from] Error),
    /// A pgfarm.toml set-up or teardown step failed (see `crate::steps`).
    #[error("{0}")]
    Step(String),
    /// A set-up psql (`DROP DATABASE`, `CREATE ROLE`, `CREATE EXTENSION`, ...) exited non-zero.
    #[error("command failed: {command}")]
    SetupCommand {
        /// The psql command line, as a shell would show it.
        command: String,
    },
    /// A schedule file or a test's `sql/NAME.sql` could not be opened.
    #[error("could not open file \"{}\" for reading: {source}", .path.display())]
    OpenForReading {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A `results/NAME.out` file or regression.diffs could not be opened for writing.
    #[error("could not open file \"{}\" for writing: {source}", .path.display())]
    OpenForWriting {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Appending a test's diff to regression.diffs failed.
    #[error("could not write to file \"{}\": {source}", .path.display())]
    Write {
        /// regression.diffs.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file handle for a test's output could not be duplicated (stdout and stderr).
    #[error("could not duplicate a file handle: {0}")]
    DuplicateHandle(io::Error),
    /// A test's psql could not be started.
    #[error("could not start process for test {name}")]
    StartTest {
        /// The test.
        name: String,
    },
    /// A started test's end was never seen.
    #[error("failed to wait for test {name}")]
    WaitTest {
        /// The test.
        name: String,
    },
    /// A test's result file or its first expected file could not be read (pg_regress's
    /// `diff` fails on it).
    #[error("diff command failed: could not read \"{}\": {source}", .path.display())]
    DiffRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// None of a test's expected files (after resultmap, `_0`..`_9`) exists.
    #[error("no expected file for {name}: looked for {}", .looked_for.join(", "))]
    NoExpectedFile {
        /// The test.
        name: String,
        /// The candidates, in the order they were tried.
        looked_for: Vec<String>,
    },
}

impl Bail {
    /// The bail-out for a schedule line [`crate::schedule::Schedule::parse`] refused.
    pub(crate) fn invalid_line(invalid: &InvalidLine, file: &str) -> Bail {
        Bail::Process(invalid.to_error(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_pg_regress_text() {
        let io = || io::Error::from_raw_os_error(2);
        #[rustfmt::skip]
        let table: Vec<(Bail, &str)> = vec![
            (Bail::Interrupted, "interrupted"),
            (Bail::Prepare(Error::Usage("no database name was specified".into())), "no database name was specified"),
            (Bail::SetupCommand { command: "psql -X -c 'DROP ROLE x' postgres".into() }, "command failed: psql -X -c 'DROP ROLE x' postgres"),
            (Bail::OpenForReading { path: "/s/sched".into(), source: io() }, "could not open file \"/s/sched\" for reading: No such file or directory (os error 2)"),
            (Bail::OpenForWriting { path: "/o/r.out".into(), source: io() }, "could not open file \"/o/r.out\" for writing: No such file or directory (os error 2)"),
            (Bail::Write { path: "/o/regression.diffs".into(), source: io() }, "could not write to file \"/o/regression.diffs\": No such file or directory (os error 2)"),
            (Bail::Process(Error::ScheduleSyntax { file: "s".into(), line: 3, text: "tset: a".into() }), "syntax error in schedule file \"s\" line 3: tset: a"),
            (Bail::Process(Error::TooManyParallelTests { max: 2, file: "s".into(), line: 1, text: "test: a b c".into() }), "too many parallel tests (more than 2) in schedule file \"s\" line 1: test: a b c"),
            (Bail::DuplicateHandle(io()), "could not duplicate a file handle: No such file or directory (os error 2)"),
            (Bail::StartTest { name: "t".into() }, "could not start process for test t"),
            (Bail::WaitTest { name: "t".into() }, "failed to wait for test t"),
            (Bail::DiffRead { path: "/e/t.out".into(), source: io() }, "diff command failed: could not read \"/e/t.out\": No such file or directory (os error 2)"),
            (Bail::NoExpectedFile { name: "t".into(), looked_for: vec!["a/t.out".into(), "a/t_0.out".into()] }, "no expected file for t: looked for a/t.out, a/t_0.out"),
        ];
        for (bail, message) in table {
            assert_eq!(bail.to_string(), message);
        }
    }
}
