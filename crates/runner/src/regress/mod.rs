//! `pgfarm regress`: a pg_regress replacement, option for option.
//!
//! [`run`] takes [`RegressOptions`] (pg_regress's command line plus pgfarm's `--jobs` and
//! `--timeout`), runs the tests with psql exactly as pg_regress does (same flags, same
//! environment, same file locations), compares results with the expected files using
//! [`pgfarm_diff`] (resultmap, `_N` variants with the fewest-lines rule), writes `results/`,
//! `regression.diffs` and `regression.out` in pg_regress's shapes, reports progress through a
//! [`ConsoleSink`] in the classic (PostgreSQL 15) or TAP (16+) format, and returns a
//! [`RegressReport`] with every test's raw output for bundles, JUnit and TAP files.

mod bail;
mod compare;
pub mod console;
mod diff_style;
mod engine;
mod setup;
pub mod substitute;
mod temp;

use std::path::PathBuf;
use std::time::Duration;

pub use console::{ChildFailure, Console, ConsoleSink, Stream, Style, Verdict};
pub use engine::run;
pub use temp::run_with_instance;

use crate::process::CancelFlag;
use crate::select::{FailFast, Selection};
use crate::steps::Steps;

/// pg_regress's options (`pg_regress --help`) plus pgfarm's additions.
#[derive(Debug, Clone)]
pub struct RegressOptions {
    /// `--inputdir`: where `sql/`, `input/`, `resultmap` and schedules are (default `.`).
    pub inputdir: PathBuf,
    /// `--outputdir`: where `results/`, `regression.out`, `regression.diffs` go (default `.`).
    pub outputdir: PathBuf,
    /// `--expecteddir`: where `expected/` is (default: the input directory).
    pub expecteddir: Option<PathBuf>,
    /// `--schedule` files, in order (repeatable).
    pub schedules: Vec<PathBuf>,
    /// Positional test names, run after the schedules.
    pub tests: Vec<String>,
    /// `--load-extension`: `CREATE EXTENSION IF NOT EXISTS` in each test database.
    pub load_extensions: Vec<String>,
    /// `--dbname` (comma-separated lists allowed; default `regression`). Tests use the first.
    pub dbnames: Vec<String>,
    /// `--use-existing`: do not drop and create the databases and roles.
    pub use_existing: bool,
    /// `--temp-instance`: start a private server in this directory.
    pub temp_instance: Option<PathBuf>,
    /// `--temp-config`: files appended to the temporary server's postgresql.conf.
    pub temp_configs: Vec<PathBuf>,
    /// `--bindir`: where psql (and initdb/postgres for a temp instance) are; `None` uses PATH.
    pub bindir: Option<PathBuf>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--user`.
    pub user: Option<String>,
    /// `--max-connections` (0 = unlimited): parallel groups run in batches of this size.
    pub max_connections: usize,
    /// `--max-concurrent-tests` (0 = unlimited): a larger group is an error.
    pub max_concurrent_tests: usize,
    /// `--encoding` of the test databases (and `PGCLIENTENCODING`).
    pub encoding: Option<String>,
    /// `--no-locale`: C locale for the databases and the environment.
    pub no_locale: bool,
    /// `--launcher`: a command (split on white space) psql is started through.
    pub launcher: Option<String>,
    /// `--create-role` (comma-separated allowed): roles created with LOGIN and granted the DBs.
    pub create_roles: Vec<String>,
    /// `--dlpath`: exported as `PG_LIBDIR` and substituted as `@libdir@`.
    pub dlpath: Option<PathBuf>,
    /// Output style: TAP (16+, default) or classic (15). Also selects the dialect: classic
    /// accepts `ignore:` and counts a test whose psql exited non-zero as passed when its
    /// output matches; TAP rejects `ignore:` and fails such a test, as each pg_regress does.
    pub style: Style,
    /// pgfarm: run positional tests this many at a time, each in its own database cloned from
    /// the prepared test database (`CREATE DATABASE .. TEMPLATE`). 1 = serial, as pg_regress.
    pub jobs: usize,
    /// pgfarm: cancel a test that runs longer than this; it is reported as failed (timeout).
    pub timeout: Option<Duration>,
    /// Stops the run (running psql processes are killed) when set.
    pub cancel: CancelFlag,
    /// The directory psql runs in (what `\i relative/path` in tests resolves against);
    /// `None` keeps the current directory, as pg_regress under `make` does.
    pub cwd: Option<PathBuf>,
    /// pgfarm: which tests run (`--filter`, `--tag`, `--exclude-tag`; the others are listed in
    /// [`RegressReport::deselected`]).
    pub selection: Selection,
    /// pgfarm: `--fail-fast`; once tripped, no new test starts (listed in
    /// [`RegressReport::not_run`]).
    pub fail_fast: FailFast,
    /// pgfarm: pgfarm.toml steps: `setup` after the databases are made, `teardown` at the end
    /// (always), and each test's `@setup`/`@teardown` around it.
    pub steps: Steps,
    /// pgfarm: run the run-wide `setup`/`teardown` lists of [`steps`](RegressOptions::steps)
    /// (`pgfarm regress`; `pgfarm test` runs them around all suites itself).
    pub run_wide_steps: bool,
}

impl Default for RegressOptions {
    fn default() -> RegressOptions {
        RegressOptions {
            inputdir: PathBuf::from("."),
            outputdir: PathBuf::from("."),
            expecteddir: None,
            schedules: Vec::new(),
            tests: Vec::new(),
            load_extensions: Vec::new(),
            dbnames: vec!["regression".to_owned()],
            use_existing: false,
            temp_instance: None,
            temp_configs: Vec::new(),
            bindir: None,
            host: None,
            port: None,
            user: None,
            max_connections: 0,
            max_concurrent_tests: 0,
            encoding: None,
            no_locale: false,
            launcher: None,
            create_roles: Vec::new(),
            dlpath: None,
            style: Style::Tap,
            jobs: 1,
            timeout: None,
            cancel: CancelFlag::new(),
            cwd: None,
            selection: Selection::default(),
            fail_fast: FailFast::default(),
            steps: Steps::default(),
            run_wide_steps: false,
        }
    }
}

/// Checks that every `@setup`/`@teardown` step the tests' headers name (positional tests and
/// those of the schedules) is defined in [`RegressOptions::steps`]: an unknown name is a
/// configuration error ([`crate::Error::Config`]) before anything runs.
pub fn check_steps(options: &RegressOptions) -> crate::Result<()> {
    let dialect = match options.style {
        Style::Classic => crate::schedule::Dialect::Classic,
        Style::Tap => crate::schedule::Dialect::Tap,
    };
    let mut names = Vec::new();
    for path in &options.schedules {
        if let Ok(text) = std::fs::read_to_string(path) {
            names.extend(
                crate::schedule::Schedule::parse(&text, dialect)
                    .tests()
                    .into_iter()
                    .map(str::to_owned),
            );
        }
    }
    names.extend(options.tests.iter().cloned());
    for name in names {
        let in_output = options.outputdir.join("sql").join(format!("{name}.sql"));
        let file = if in_output.is_file() {
            in_output
        } else {
            options.inputdir.join("sql").join(format!("{name}.sql"))
        };
        options.steps.check_file(&file, &file.display().to_string())?;
    }
    Ok(())
}

/// The verdict of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// The output matched an expected file.
    Passed,
    /// The output differed (or psql failed, in the TAP dialect).
    Failed,
    /// The output differed but the test is on an `ignore:` line (classic dialect).
    FailedIgnored,
    /// The test ran past `--timeout` and was cancelled.
    TimedOut,
}

/// One expected file a result was compared with.
#[derive(Debug, Clone)]
pub struct ExpectedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// Everything about one finished test.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// Test name.
    pub name: String,
    /// Verdict.
    pub status: TestStatus,
    /// Wall time of the psql process in milliseconds.
    pub millis: f64,
    /// True when it ran in a parallel group.
    pub parallel: bool,
    /// Index (from 0) of the schedule line or positional test that ran it.
    pub group: u32,
    /// `results/<name>.out`.
    pub result_file: PathBuf,
    /// The raw output psql wrote.
    pub actual: String,
    /// The expected files that existed and were compared, in pg_regress's order.
    pub expected: Vec<ExpectedFile>,
    /// Index into `expected` of the file that matched or, on failure, the closest one.
    pub chosen: Option<usize>,
    /// The unified diff appended to regression.diffs (empty when it passed).
    pub diff: String,
    /// How psql ended when it did not exit with 0.
    pub child_failure: Option<ChildFailure>,
    /// Why the test did not run to completion when that is a cause, not a diff (a crashed
    /// server, a time-out with the backend's state); see `pgfarm_model::RegressTest::reason`.
    pub reason: Option<String>,
}

/// The outcome of a whole run.
#[derive(Debug, Clone)]
pub struct RegressReport {
    /// Every test, in the order they were reported.
    pub tests: Vec<TestReport>,
    /// pg_regress's exit status: 0 all passed, 1 some failed, 2 the tests could not be run.
    pub exit_code: i32,
    /// The message of a bail-out (exit status 2).
    pub bail: Option<String>,
    /// `regression.diffs`, if it was kept (some test failed).
    pub diffs_file: Option<PathBuf>,
    /// `regression.out`, if it was kept.
    pub log_file: Option<PathBuf>,
    /// Total wall time.
    pub duration: Duration,
    /// Tests the selection left out, in schedule order.
    pub deselected: Vec<String>,
    /// Tests not started because `--fail-fast` tripped, in schedule order.
    pub not_run: Vec<String>,
}
