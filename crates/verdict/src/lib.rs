//! Re-derives every status of a bundle from its raw outputs, so neither the server nor the
//! browser trusts the statuses a client wrote: `pgfarm-server` stores [`derive()`]'s answer, and the
//! dashboard shows [`tap_file_status`] / [`regress_test_status`] for each test.
//!
//! Pure functions over `pgfarm_model::Bundle`, `pgfarm_tap_parser` and `pgfarm_diff`: no I/O, no
//! clock, builds for wasm32. Its behaviour is tested through the server's API tests
//! (`server/tests/api.rs`) and the dashboard's tests (`web/src/logic/tap_tree.rs`).
//!
//! ```
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/regress-fail.pgfarm.json");
//! let bundle = pgfarm_model::Bundle::from_slice(&std::fs::read(path).unwrap()).unwrap();
//! let verdict = pgfarm_verdict::derive(&bundle);
//! assert_eq!(verdict.run_status, pgfarm_model::RunStatus::Failed);
//! assert_eq!(verdict.failed_stage, Some(pgfarm_model::StageKind::Regress));
//! ```
//!
//! Rules:
//! - A regress test passes when its actual output matches one of its expected variants under
//!   pg_regress's comparison (`pgfarm_diff::closest_expected_bytes`, exact white space); a test
//!   without any expected variant is an `error`. A test the client reports as `timeout` or
//!   `error` stays so (those are failures already; nothing in the bundle can refute them). A
//!   test the client reports as `ignored` (schedule `ignore:`) stays `ignored` only when it
//!   really failed; a matching one is `ok`.
//! - A TAP file passes when its stream parses to a passing summary (no failed point, no
//!   protocol error, no bail out) and its exit code, if recorded, is 0.
//! - The regress and tap stages are `failed` when one of their tests failed, `ok` when they
//!   have tests and none failed, and keep the client's `missing`/`skipped` when they have no
//!   tests. A stage the client reports as `failed` stays failed (a crash after the last test).
//!   Other stages (build, install, cluster, load, upgrade) have no raw output to judge, so their
//!   reported status is kept.
//! - The run is `failed` when a stage failed; `error` or `interrupted` as reported (they say the
//!   run tells nothing about the extension); `ok` otherwise.

use pgfarm_model::{Bundle, RunStatus, StageKind, StageStatus, TestStatus};

/// The statuses the server stores for a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The run's status.
    pub run_status: RunStatus,
    /// The first failed stage, in run order.
    pub failed_stage: Option<StageKind>,
    /// Every stage in the bundle's order, with its derived status and reported duration.
    pub stages: Vec<(StageKind, StageStatus, u64)>,
    /// Every test: stage, name, derived status, reported duration.
    pub tests: Vec<(StageKind, String, TestStatus, u64)>,
}

impl Verdict {
    /// Number of tests that count as failures.
    pub fn n_failed(&self) -> usize {
        self.tests.iter().filter(|(_, _, status, _)| status.is_failure()).count()
    }
}

/// The derived status of one regress test.
pub fn regress_test_status(test: &pgfarm_model::RegressTest) -> TestStatus {
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
    match (matched, test.status) {
        (true, _) => TestStatus::Ok,
        (false, TestStatus::Ignored) => TestStatus::Ignored,
        (false, _) => TestStatus::Failed,
    }
}

/// The derived status of one TAP file.
pub fn tap_file_status(file: &pgfarm_model::TapFile) -> TestStatus {
    if matches!(file.status, TestStatus::Timeout | TestStatus::Error) {
        return file.status;
    }
    let stream = file.stream.to_string_lossy();
    let summary = pgfarm_tap_parser::summarize(pgfarm_tap_parser::Parser::new(&stream));
    let exit_ok = file.exit_code.is_none_or(|code| code == 0);
    if summary.ok && exit_ok { TestStatus::Ok } else { TestStatus::Failed }
}

/// Re-derives every status of `bundle`.
pub fn derive(bundle: &Bundle) -> Verdict {
    let mut tests = Vec::with_capacity(bundle.regress.len() + bundle.tap.len());
    for test in &bundle.regress {
        tests.push((
            StageKind::Regress,
            test.name.clone(),
            regress_test_status(test),
            test.duration_ms,
        ));
    }
    for test in &bundle.isolation {
        tests.push((
            StageKind::Isolation,
            test.name.clone(),
            regress_test_status(test),
            test.duration_ms,
        ));
    }
    for file in &bundle.tap {
        tests.push((StageKind::Tap, file.path.clone(), tap_file_status(file), file.duration_ms));
    }
    for file in &bundle.perl_tap {
        tests.push((
            StageKind::PerlTap,
            file.path.clone(),
            tap_file_status(file),
            file.duration_ms,
        ));
    }
    let stage_of_tests = |kind: StageKind, reported: StageStatus| -> StageStatus {
        let mut any = false;
        let mut failed = false;
        for (stage, _, status, _) in &tests {
            if *stage == kind {
                any = true;
                failed |= status.is_failure();
            }
        }
        match (any, failed, reported) {
            (_, _, StageStatus::Failed) | (true, true, _) => StageStatus::Failed,
            (true, false, _) => StageStatus::Ok,
            (false, _, StageStatus::Ok) => StageStatus::Missing,
            (false, _, other) => other,
        }
    };
    let stages: Vec<(StageKind, StageStatus, u64)> = bundle
        .stages
        .iter()
        .map(|stage| {
            let status = match stage.kind {
                StageKind::Regress | StageKind::Isolation | StageKind::Tap | StageKind::PerlTap => {
                    stage_of_tests(stage.kind, stage.status)
                }
                _ => stage.status,
            };
            (stage.kind, status, stage.duration_ms)
        })
        .collect();
    let failed_stage = stages
        .iter()
        .filter(|(_, status, _)| *status == StageStatus::Failed)
        .map(|(kind, _, _)| *kind)
        .min();
    let run_status = match (failed_stage, bundle.run.status) {
        (Some(_), _) => RunStatus::Failed,
        (None, RunStatus::Error) => RunStatus::Error,
        (None, RunStatus::Interrupted) => RunStatus::Interrupted,
        (None, _) if tests.iter().any(|(_, _, status, _)| status.is_failure()) => RunStatus::Failed,
        (None, _) => RunStatus::Ok,
    };
    Verdict { run_status, failed_stage, stages, tests }
}
