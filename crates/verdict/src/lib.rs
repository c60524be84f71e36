//! Every status rule of pgfarm, in one place: from a bundle's raw outputs to the status of each
//! test, TAP file, stage and the run, the first failed stage, the matrix cell's label, the badge
//! message, the JUnit result and the exit code of a set of runs.
//!
//! The runner calls it for every status it writes into a bundle, `pgfarm-server` at ingest
//! (it never trusts a status the client wrote where raw output can decide), the dashboard once
//! per run page, and badges, matrix and feed share [`cell`]. Pure functions over
//! `pgfarm_model` types, `pgfarm_tap_parser` and `pgfarm_diff`: no I/O, no clock, builds for
//! wasm32.
//!
//! ```
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/regress-fail.pgfarm.json");
//! let bundle = pgfarm_model::Bundle::from_slice(&std::fs::read(path).unwrap()).unwrap();
//! let verdict = pgfarm_verdict::derive(&bundle);
//! assert_eq!(verdict.run.status, pgfarm_model::RunStatus::Failed);
//! assert_eq!(verdict.run.failed_stage, Some(pgfarm_model::StageKind::Regress));
//! assert_eq!(verdict.run.cell().label, "failed at regress");
//! assert_eq!(pgfarm_verdict::exit_code([&verdict.run], false), pgfarm_verdict::Exit::Failed);
//! ```
//!
//! # Rules
//!
//! Each rule has an id; `tests/rules.rs` holds one row (bundle in, verdict out) per id, and
//! checks that every id written here has a row.
//!
//! Tests:
//! - **test-regress-match**: a regress (or isolation) test is `ok` when its actual output matches
//!   one of its expected variants under pg_regress's comparison (exact white space), whatever the
//!   client reported; otherwise `failed`.
//! - **test-regress-psql-exit**: a matching test whose psql exited non-zero keeps a reported
//!   `failed` (or `ignored`): pg_regress 16+ fails it, pg_regress 15 (`--classic`) passes it, and
//!   only the client knows which rules it ran by.
//! - **test-regress-no-expected**: a regress test without any expected variant is `error`, the
//!   extension's (never a machine fault, even with a `reason` naming where the runner looked).
//! - **test-regress-ignored**: a test the client reports `ignored` (schedule `ignore:`) stays
//!   `ignored` when it really differs; a matching one is `ok`. `ignored` is not a failure.
//! - **test-reported-fault**: a test the client reports `timeout` or `error` (killed by a time-out
//!   or a server crash; see `reason`) keeps that status: nothing in the bundle can refute it.
//! - **test-tap-stream**: a TAP file is `ok` when its stream parses to a passing summary (no failed
//!   point outside TODO, no protocol error, no bail out) and its exit code, if recorded, is 0;
//!   otherwise `failed`.
//! - **tap-dialect**: `tap` files (pgTAP through psql) are parsed in pgTAP mode, `perl_tap` files
//!   (prove's output) as plain TAP; [`tap_options`] is the one decision, the dashboard's TAP tree
//!   uses it too.
//!
//! Stages:
//! - **stage-tests**: a test stage (regress, isolation, tap, perl_tap) is `failed` when one of its
//!   tests is a failure (`failed`, `timeout`, `error`), `ok` when it has tests and none failed.
//! - **stage-reported-failed**: a test stage the client reports `failed` stays failed (a crash
//!   after the last test, a set-up error before the first).
//! - **stage-no-tests**: a test stage without tests is `missing` when reported `ok`, and keeps a
//!   reported `missing` or `skipped` (with its reason).
//! - **stage-reported**: the other stages (build, install, cluster, load, installcheck, upgrade)
//!   have no raw output to judge: their reported status is kept.
//! - **first-failed-stage**: the failed stage of a run is the first `failed` one in run order.
//!
//! Runs:
//! - **run-interrupted**: a run reported `interrupted` is `interrupted`.
//! - **run-machine-fault**: otherwise a failed build, install or cluster stage, or a test killed
//!   by a time-out (`timeout`) or a server crash (`error` with a `reason`; see
//!   `test-regress-no-expected` for the exception), makes the run
//!   `error`: it says nothing about the extension.
//! - **run-failed**: otherwise any other failed stage (load, regress, isolation, tap, perl_tap,
//!   installcheck, upgrade) or a failed test makes the run `failed`; a failed upgrade is `failed`
//!   at `upgrade`.
//! - **run-reported-error**: otherwise a run reported `error` stays `error` (the client saw a
//!   fault the bundle cannot show).
//! - **run-ok**: otherwise the run is `ok`.
//! - **run-tested**: a run has tested something when a test stage (regress, isolation, tap,
//!   perl_tap, installcheck) is `ok` or `failed`; the upgrade check alone is not a test suite.
//! - **run-cause**: a `failed` or `error` run has a failure cause ([`cause`]), `pgfarm-causes`'
//!   classification of, in this order, the first failed stage's log, that stage's `error` line,
//!   the `reason` and psql standard error of that stage's failed tests, and the server log slice;
//!   a run without a failed stage (a reported `error`) classifies the server log alone. When the
//!   failed stage runs tests (regress, isolation, tap, perl_tap, installcheck) the server log
//!   holds the errors its tests expect, so it counts only when it shows an event (a crash, a
//!   PANIC, out of memory or disk, a time-out: `Cause::is_event`). A classification that finds
//!   nothing is [`Cause::Unknown`], said as such. `ok` and `interrupted` runs have no cause.
//!
//! Cells, badges, feed:
//! - **cell-missing-tests**: an `ok` run that tested nothing is "missing tests" (word `missing`),
//!   on the matrix, the badge and the feed, never a pass.
//! - **cell-label**: otherwise `ok`; a run with a failed stage is "STATUS at STAGE" ("failed at
//!   regress", "error at cluster"); else the status word.
//! - **badge-message**: no cell is "no runs"; a `failed` cell makes "failing"; else an `error` or
//!   `interrupted` cell "unknown"; else a "missing tests" cell "missing tests"; else "passing".
//!
//! Reports:
//! - **junit-test**: `ok` is a JUnit success, `failed` a failure, `timeout` and `error` an error,
//!   `ignored` skipped.
//! - **junit-stage**: an `ok` stage is a success, a failed build, install or cluster stage an
//!   error (a machine fault), another failed stage a failure, `missing` and `skipped` skipped.
//! - **exit-code**: over a set of runs (`pgfarm test`, `regress`, `prove`): 2 when a run is `error`
//!   or `interrupted` or a bundle or report could not be written; else 1 when a run `failed`; else
//!   4 when no run tested anything; else 0. With `--coverage-threshold N` (`exit_with_coverage`,
//!   `coverage_meets`), an otherwise passing set (0) whose merged coverage is below N exits 2:
//!   below means the function coverage, or the C line coverage when there are C lines, is under
//!   N percent.
//! - **exit-code-allow-empty**: with `--allow-empty`, "nothing tested" (4) is 0; every other code
//!   stays (a selection that matched nothing is then no error).
//!
//! # Not here
//!
//! Console words of the peer tools (pg_regress's `ok`/`not ok`, prove's `Dubious`) stay in the
//! runner's console modules. This crate renders nothing and knows neither the server nor the
//! browser.

use std::borrow::Cow;

use pgfarm_model::{
    Bundle, RegressTest, RunStatus, Stage, StageKind, StageStatus, TapFile, TestStatus,
};

pub use pgfarm_causes::Cause;

/// Every status of a bundle, re-derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The run's status and what follows from it.
    pub run: RunVerdict,
    /// Every stage, in the bundle's order.
    pub stages: Vec<StageVerdict>,
    /// Every test: regress tests, isolation specs, TAP files, Perl TAP files, in that order.
    pub tests: Vec<TestVerdict>,
}

/// The run's derived status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunVerdict {
    /// The run's status (rules `run-*`).
    pub status: RunStatus,
    /// The first failed stage in run order (rule `first-failed-stage`).
    pub failed_stage: Option<StageKind>,
    /// A test stage ran (rule `run-tested`).
    pub tested: bool,
    /// Number of tests (every regress test, isolation spec, TAP and Perl TAP file).
    pub n_tests: usize,
    /// Number of tests that are failures.
    pub n_failed: usize,
}

impl RunVerdict {
    /// The matrix cell of this run (rule `cell-*`).
    pub fn cell(&self) -> Cell {
        cell(self.status, self.failed_stage, self.tested)
    }
}

/// One stage's derived status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageVerdict {
    /// Which stage.
    pub kind: StageKind,
    /// Its derived status.
    pub status: StageStatus,
    /// Its reported duration.
    pub duration_ms: u64,
}

/// One test's derived status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestVerdict {
    /// The stage it belongs to (`regress`, `isolation`, `tap` or `perl_tap`).
    pub stage: StageKind,
    /// Test name or TAP file path.
    pub name: String,
    /// Its derived status.
    pub status: TestStatus,
    /// Its reported duration.
    pub duration_ms: u64,
    /// Killed by a time-out or a server crash (rule `run-machine-fault`).
    pub fault: bool,
}

/// The parts of a run the rules read: a bundle's, or those a command has before it builds one.
#[derive(Debug, Clone, Copy)]
pub struct RunParts<'a> {
    /// The status the client reported (only `interrupted` and `error` are kept, see the rules).
    pub reported: RunStatus,
    /// Stages, in run order.
    pub stages: &'a [Stage],
    /// pg_regress tests.
    pub regress: &'a [RegressTest],
    /// pg_isolation_regress specs.
    pub isolation: &'a [RegressTest],
    /// pgTAP files.
    pub tap: &'a [TapFile],
    /// Perl TAP files.
    pub perl_tap: &'a [TapFile],
}

impl<'a> RunParts<'a> {
    /// The parts of a bundle.
    pub fn of(bundle: &'a Bundle) -> RunParts<'a> {
        RunParts {
            reported: bundle.run.status,
            stages: &bundle.stages,
            regress: &bundle.regress,
            isolation: &bundle.isolation,
            tap: &bundle.tap,
            perl_tap: &bundle.perl_tap,
        }
    }
}

/// The stages that hold tests (rule `stage-tests`).
pub const TEST_STAGES: [StageKind; 4] =
    [StageKind::Regress, StageKind::Isolation, StageKind::Tap, StageKind::PerlTap];

/// The stages whose failure is a machine fault, not the extension's (rule `run-machine-fault`).
pub const FAULT_STAGES: [StageKind; 3] = [StageKind::Build, StageKind::Install, StageKind::Cluster];

/// Whether a stage counts as having tested something when it ran (rule `run-tested`).
pub fn is_test_stage(kind: StageKind) -> bool {
    TEST_STAGES.contains(&kind) || kind == StageKind::Installcheck
}

/// The derived status of one regress test or isolation spec (rules `test-regress-*`,
/// `test-reported-fault`).
pub fn regress_test_status(test: &RegressTest) -> TestStatus {
    if matches!(test.status, TestStatus::Timeout | TestStatus::Error) {
        return test.status;
    }
    if test.expected.is_empty() {
        return TestStatus::Error;
    }
    let candidates = test.expected.iter().map(|expected| expected.content.as_bytes());
    let options = pgfarm_diff::Options::default();
    let matched = pgfarm_diff::closest_expected_bytes(test.actual.as_bytes(), candidates, &options)
        .is_some_and(|choice| choice.matched);
    let psql_failed = test.psql_exit_code.is_some_and(|code| code != 0);
    match (matched, test.status) {
        (true, TestStatus::Failed | TestStatus::Ignored) if psql_failed => test.status,
        (true, _) => TestStatus::Ok,
        (false, TestStatus::Ignored) => TestStatus::Ignored,
        (false, _) => TestStatus::Failed,
    }
}

/// The parser options for the TAP files of a stage (rule `tap-dialect`): pgTAP mode for `tap`,
/// plain TAP for everything else.
pub fn tap_options(stage: StageKind) -> pgfarm_tap_parser::Options {
    if stage == StageKind::Tap {
        pgfarm_tap_parser::Options::pgtap()
    } else {
        pgfarm_tap_parser::Options::default()
    }
}

/// The summary of a TAP file's stream, parsed as its stage's files are (rule `tap-dialect`).
pub fn tap_summary(file: &TapFile, stage: StageKind) -> pgfarm_tap_parser::Summary {
    let parser = pgfarm_tap_parser::Parser::from_bytes_with_options(
        file.stream.as_bytes(),
        tap_options(stage),
    );
    pgfarm_tap_parser::summarize(parser)
}

/// The derived status of one TAP file of `stage` (`tap` or `perl_tap`; rules `test-tap-stream`,
/// `test-reported-fault`).
pub fn tap_file_status(file: &TapFile, stage: StageKind) -> TestStatus {
    if matches!(file.status, TestStatus::Timeout | TestStatus::Error) {
        return file.status;
    }
    let exit_ok = file.exit_code.is_none_or(|code| code == 0);
    if exit_ok && tap_summary(file, stage).ok { TestStatus::Ok } else { TestStatus::Failed }
}

/// The derived status of a stage from its reported status and its tests' derived statuses
/// (rules `stage-*`).
pub fn stage_status(
    kind: StageKind,
    reported: StageStatus,
    tests: impl IntoIterator<Item = TestStatus>,
) -> StageStatus {
    if !TEST_STAGES.contains(&kind) {
        return reported;
    }
    let (mut any, mut failed) = (false, false);
    for status in tests {
        any = true;
        failed |= status.is_failure();
    }
    match (any, failed, reported) {
        (_, _, StageStatus::Failed) | (true, true, _) => StageStatus::Failed,
        (true, false, _) => StageStatus::Ok,
        (false, _, StageStatus::Ok) => StageStatus::Missing,
        (false, _, other) => other,
    }
}

/// Re-derives every status of `bundle`.
pub fn derive(bundle: &Bundle) -> Verdict {
    derive_parts(RunParts::of(bundle))
}

/// Writes every derived status into `bundle` (tests, stages, run) and returns the verdict: what the
/// runner does before it writes a bundle, so a bundle's statuses are this crate's.
pub fn judge(bundle: &mut Bundle) -> Verdict {
    let verdict = derive(bundle);
    let mut tests = verdict.tests.iter();
    for test in bundle.regress.iter_mut().chain(bundle.isolation.iter_mut()) {
        if let Some(derived) = tests.next() {
            test.status = derived.status;
        }
    }
    for file in bundle.tap.iter_mut().chain(bundle.perl_tap.iter_mut()) {
        if let Some(derived) = tests.next() {
            file.status = derived.status;
        }
    }
    for (stage, derived) in bundle.stages.iter_mut().zip(&verdict.stages) {
        stage.status = derived.status;
    }
    bundle.run.status = verdict.run.status;
    verdict
}

/// Re-derives every status of a run's parts.
pub fn derive_parts(parts: RunParts<'_>) -> Verdict {
    let mut tests = Vec::with_capacity(
        parts.regress.len() + parts.isolation.len() + parts.tap.len() + parts.perl_tap.len(),
    );
    for (stage, list) in
        [(StageKind::Regress, parts.regress), (StageKind::Isolation, parts.isolation)]
    {
        tests.extend(list.iter().map(|test| {
            let status = regress_test_status(test);
            TestVerdict {
                stage,
                name: test.name.clone(),
                status,
                duration_ms: test.duration_ms,
                fault: status == TestStatus::Timeout
                    || (status == TestStatus::Error
                        && test.reason.is_some()
                        && !test.expected.is_empty()),
            }
        }));
    }
    for (stage, list) in [(StageKind::Tap, parts.tap), (StageKind::PerlTap, parts.perl_tap)] {
        tests.extend(list.iter().map(|file| {
            let status = tap_file_status(file, stage);
            TestVerdict {
                stage,
                name: file.path.clone(),
                status,
                duration_ms: file.duration_ms,
                fault: status == TestStatus::Timeout,
            }
        }));
    }
    let stages: Vec<StageVerdict> = parts
        .stages
        .iter()
        .map(|stage| StageVerdict {
            kind: stage.kind,
            status: stage_status(
                stage.kind,
                stage.status,
                tests.iter().filter(|t| t.stage == stage.kind).map(|t| t.status),
            ),
            duration_ms: stage.duration_ms,
        })
        .collect();
    let run = run_verdict(parts.reported, &stages, &tests);
    Verdict { run, stages, tests }
}

/// The run's status from its derived stages and tests (rules `run-*`, `first-failed-stage`).
pub fn run_verdict(
    reported: RunStatus,
    stages: &[StageVerdict],
    tests: &[TestVerdict],
) -> RunVerdict {
    let failed = |stage: &&StageVerdict| stage.status == StageStatus::Failed;
    let failed_stage = stages.iter().filter(failed).map(|stage| stage.kind).min();
    let n_failed = tests.iter().filter(|test| test.status.is_failure()).count();
    let machine_fault =
        stages.iter().filter(failed).any(|stage| FAULT_STAGES.contains(&stage.kind))
            || tests.iter().any(|test| test.fault);
    let status = if reported == RunStatus::Interrupted {
        RunStatus::Interrupted
    } else if machine_fault {
        RunStatus::Error
    } else if failed_stage.is_some() || n_failed > 0 {
        RunStatus::Failed
    } else if reported == RunStatus::Error {
        RunStatus::Error
    } else {
        RunStatus::Ok
    };
    let tested = stages.iter().any(|stage| {
        is_test_stage(stage.kind) && matches!(stage.status, StageStatus::Ok | StageStatus::Failed)
    });
    RunVerdict { status, failed_stage, tested, n_tests: tests.len(), n_failed }
}

/// Which text of a bundle a log given to the cause classifier is (rule `run-cause`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// A stage's log.
    Stage(StageKind),
    /// A stage's one-line `error`.
    StageError(StageKind),
    /// A failed test's `reason` (regress and isolation) or psql standard error (TAP files).
    Test {
        /// Its stage.
        stage: StageKind,
        /// Test name or TAP file path.
        name: String,
    },
    /// The server log slice.
    ServerLog,
}

impl std::fmt::Display for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogSource::Stage(kind) => write!(f, "{kind} log"),
            LogSource::StageError(kind) => write!(f, "{kind} error"),
            LogSource::Test { stage, name } => write!(f, "{stage} test {name}"),
            LogSource::ServerLog => f.write_str("server log"),
        }
    }
}

/// A text the cause of a run is read from (rule `run-cause`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseLog<'a> {
    /// Which text of the bundle.
    pub source: LogSource,
    /// The text (invalid UTF-8 replaced).
    pub text: Cow<'a, str>,
}

/// The line a run's cause was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseLine {
    /// The text it is a line of.
    pub source: LogSource,
    /// 1-based line number in that text.
    pub number: usize,
    /// The line.
    pub text: String,
}

/// The failure cause of a run (rule `run-cause`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCause {
    /// The cause; [`Cause::Unknown`] when no log shows one.
    pub cause: Cause,
    /// The line that shows it (none for [`Cause::Unknown`]).
    pub line: Option<CauseLine>,
}

/// The texts the cause of a run with verdict `run` is read from, in order (rule `run-cause`);
/// empty for a run that has no cause.
pub fn cause_logs<'a>(bundle: &'a Bundle, run: &RunVerdict) -> Vec<CauseLog<'a>> {
    if !matches!(run.status, RunStatus::Failed | RunStatus::Error) {
        return Vec::new();
    }
    let mut logs = Vec::new();
    if let Some(kind) = run.failed_stage {
        if let Some(stage) = bundle.stages.iter().find(|stage| stage.kind == kind) {
            logs.push(CauseLog {
                source: LogSource::Stage(kind),
                text: stage.log.to_string_lossy(),
            });
            if let Some(error) = &stage.error {
                logs.push(CauseLog {
                    source: LogSource::StageError(kind),
                    text: Cow::Borrowed(error.as_str()),
                });
            }
        }
        let test = |name: &str, text: Cow<'a, str>| CauseLog {
            source: LogSource::Test { stage: kind, name: name.to_owned() },
            text,
        };
        let regress = match kind {
            StageKind::Regress => bundle.regress.as_slice(),
            StageKind::Isolation => bundle.isolation.as_slice(),
            _ => &[],
        };
        for failed in regress.iter().filter(|t| regress_test_status(t).is_failure()) {
            if let Some(reason) = &failed.reason {
                logs.push(test(&failed.name, Cow::Borrowed(reason.as_str())));
            }
        }
        let tap = match kind {
            StageKind::Tap => bundle.tap.as_slice(),
            StageKind::PerlTap => bundle.perl_tap.as_slice(),
            _ => &[],
        };
        for failed in tap.iter().filter(|file| tap_file_status(file, kind).is_failure()) {
            if !failed.stderr.is_empty() {
                logs.push(test(&failed.path, failed.stderr.to_string_lossy()));
            }
        }
    }
    let server_log = bundle.server_log.to_string_lossy();
    let tests_ran = run.failed_stage.is_some_and(is_test_stage);
    if !tests_ran || pgfarm_causes::classify(&server_log).cause.is_event() {
        logs.push(CauseLog { source: LogSource::ServerLog, text: server_log });
    }
    logs
}

/// The failure cause of a run with verdict `run` (rule `run-cause`); `None` for an `ok` or
/// `interrupted` run.
pub fn cause(bundle: &Bundle, run: &RunVerdict) -> Option<RunCause> {
    if !matches!(run.status, RunStatus::Failed | RunStatus::Error) {
        return None;
    }
    let logs = cause_logs(bundle, run);
    let texts: Vec<&str> = logs.iter().map(|log| log.text.as_ref()).collect();
    let finding = pgfarm_causes::classify_logs(&texts);
    Some(RunCause {
        cause: finding.cause,
        line: finding.line.map(|line| CauseLine {
            source: logs[line.log].source.clone(),
            number: line.number,
            text: line.text.to_owned(),
        }),
    })
}

/// What a matrix cell says about its latest run, in one word (`status-WORD` classes, icons,
/// badge colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellWord {
    /// `ok`: it ran tests and they passed.
    Ok,
    /// `failed`: the extension failed.
    Failed,
    /// `error`: the machine failed; nothing is known about the extension.
    Error,
    /// `interrupted`: stopped before the end.
    Interrupted,
    /// `missing`: `ok`, but nothing was tested ("missing tests").
    Missing,
}

impl CellWord {
    /// Every word, in legend order.
    pub const ALL: [CellWord; 5] =
        [CellWord::Ok, CellWord::Failed, CellWord::Error, CellWord::Interrupted, CellWord::Missing];

    /// The word.
    pub const fn as_str(self) -> &'static str {
        match self {
            CellWord::Ok => "ok",
            CellWord::Failed => "failed",
            CellWord::Error => "error",
            CellWord::Interrupted => "interrupted",
            CellWord::Missing => "missing",
        }
    }
}

/// A matrix cell: its word and the label shown ("failed at regress", "missing tests").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// One word.
    pub word: CellWord,
    /// Words for people.
    pub label: String,
}

/// The cell of a run with this status, first failed stage and "tested" flag (rules `cell-*`).
pub fn cell(status: RunStatus, failed_stage: Option<StageKind>, tested: bool) -> Cell {
    let word = match status {
        RunStatus::Ok if !tested => {
            return Cell { word: CellWord::Missing, label: "missing tests".to_owned() };
        }
        RunStatus::Ok => CellWord::Ok,
        RunStatus::Failed => CellWord::Failed,
        RunStatus::Error => CellWord::Error,
        RunStatus::Interrupted => CellWord::Interrupted,
    };
    let label = match (status, failed_stage) {
        (RunStatus::Ok, _) | (_, None) => word.as_str().to_owned(),
        (_, Some(stage)) => format!("{} at {}", word.as_str(), stage.as_str()),
    };
    Cell { word, label }
}

/// A badge's message and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    /// Right-hand text.
    pub message: &'static str,
    /// Right-hand colour, `#rrggbb` or `#rgb`.
    pub color: &'static str,
}

/// The badge of a set of cells (one extension, or one extension on one major; rule
/// `badge-message`).
pub fn badge(words: impl IntoIterator<Item = CellWord>) -> Badge {
    let words: Vec<CellWord> = words.into_iter().collect();
    let (message, color) = if words.is_empty() {
        ("no runs", "#9f9f9f")
    } else if words.contains(&CellWord::Failed) {
        ("failing", "#e05d44")
    } else if words.iter().any(|w| matches!(w, CellWord::Error | CellWord::Interrupted)) {
        ("unknown", "#dfb317")
    } else if words.contains(&CellWord::Missing) {
        ("missing tests", "#dfb317")
    } else {
        ("passing", "#4c1")
    };
    Badge { message, color }
}

/// A JUnit test case's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JunitResult {
    /// Passed.
    Success,
    /// `<failure>`: the extension's fault.
    Failure,
    /// `<error>`: could not be judged (time-out, crash, machine fault).
    Error,
    /// `<skipped>`.
    Skipped,
}

/// The JUnit result of a test (rule `junit-test`).
pub fn junit_test(status: TestStatus) -> JunitResult {
    match status {
        TestStatus::Ok => JunitResult::Success,
        TestStatus::Failed => JunitResult::Failure,
        TestStatus::Timeout | TestStatus::Error => JunitResult::Error,
        TestStatus::Ignored => JunitResult::Skipped,
    }
}

/// The JUnit result of a stage (rule `junit-stage`).
pub fn junit_stage(kind: StageKind, status: StageStatus) -> JunitResult {
    match status {
        StageStatus::Ok => JunitResult::Success,
        StageStatus::Failed if FAULT_STAGES.contains(&kind) => JunitResult::Error,
        StageStatus::Failed => JunitResult::Failure,
        StageStatus::Missing | StageStatus::Skipped => JunitResult::Skipped,
    }
}

/// The exit code of a command over a set of runs (rule `exit-code`; docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything that ran passed.
    Ok,
    /// 1: a run failed.
    Failed,
    /// 2: a run is `error` or `interrupted`, or a result file could not be written.
    Error,
    /// 4: nothing was tested.
    NothingTested,
}

impl Exit {
    /// This exit with `--allow-empty` when `allow` (rule `exit-code-allow-empty`): "nothing
    /// tested" becomes [`Exit::Ok`].
    pub const fn allow_empty(self, allow: bool) -> Exit {
        match self {
            Exit::NothingTested if allow => Exit::Ok,
            other => other,
        }
    }

    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Error => 2,
            Exit::NothingTested => 4,
        }
    }
}

/// Whether `coverage` meets `threshold` percent (rule `exit-code`): its function coverage and,
/// when it has C lines, its line coverage are each at least `threshold`; a coverage with neither
/// functions nor lines does not meet a positive threshold.
pub fn coverage_meets(coverage: &pgfarm_model::Coverage, threshold: f64) -> bool {
    let function = coverage.function_percent();
    let line = coverage.line_percent();
    if function.is_none() && line.is_none() {
        return threshold <= 0.0;
    }
    function.is_none_or(|p| p >= threshold) && line.is_none_or(|p| p >= threshold)
}

/// The exit code with `--coverage-threshold` (rule `exit-code`): an otherwise passing `exit`
/// becomes 2 when the coverage is below the threshold; any other exit stays.
pub fn exit_with_coverage(exit: Exit, meets_threshold: bool) -> Exit {
    if exit == Exit::Ok && !meets_threshold { Exit::Error } else { exit }
}

/// The exit code over `runs`; `write_failed` when a bundle or report could not be written.
pub fn exit_code<'a>(runs: impl IntoIterator<Item = &'a RunVerdict>, write_failed: bool) -> Exit {
    let runs: Vec<&RunVerdict> = runs.into_iter().collect();
    if write_failed
        || runs.iter().any(|run| matches!(run.status, RunStatus::Error | RunStatus::Interrupted))
    {
        Exit::Error
    } else if runs.iter().any(|run| run.status == RunStatus::Failed) {
        Exit::Failed
    } else if !runs.iter().any(|run| run.tested) {
        Exit::NothingTested
    } else {
        Exit::Ok
    }
}
