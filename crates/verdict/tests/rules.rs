//! The status rules as a table: one row per rule id written in the crate docs (bundle in, verdict
//! out), including the disagreements this crate ended (a failed build stored as `failed`, an ok
//! run without tests shown as passing on its badge, runner and page deciding TAP and regress
//! statuses differently, three JUnit mappings). This is the only place a rule's expected output
//! is written; `every_rule_in_the_docs_has_a_row` keeps the docs and the table in step.

use pgfarm_model::{
    Bundle, ExpectedOutput, RawText, RegressTest, RunStatus, Stage, StageKind, StageStatus,
    TapFile, TestStatus,
};
use pgfarm_verdict::{Cause, Exit, JunitResult, LogSource};

/// What a row expects. `tests`, `stages` and `junit` list only the entries the rule is about.
struct Expect {
    run: RunStatus,
    failed_stage: Option<StageKind>,
    cell: &'static str,
    badge: &'static str,
    exit: Exit,
    tests: &'static [(&'static str, TestStatus)],
    stages: &'static [(StageKind, StageStatus)],
    junit: &'static [(&'static str, JunitResult)],
    /// The run's cause (rule `run-cause`), checked unless `Why::Unchecked`.
    why: Why,
    /// The exit code is taken with `--allow-empty` (rule `exit-code-allow-empty`).
    allow_empty: bool,
}

/// What a row expects of the run's cause.
#[derive(Debug)]
enum Why {
    /// Not what the row is about.
    Unchecked,
    /// No cause (an `ok` or `interrupted` run).
    NoCause,
    /// This cause, read from this text of the bundle, on a line holding this piece; or with no
    /// line (`Cause::Unknown`) when the source is `None`.
    Is(Cause, Option<fn() -> LogSource>, &'static str),
}

struct Row {
    rule: &'static str,
    case: &'static str,
    /// The runs: the first one is checked in detail, all of them for the badge and exit code.
    bundles: fn() -> Vec<Bundle>,
    expect: Expect,
}

const PASS: Expect = Expect {
    run: RunStatus::Ok,
    failed_stage: None,
    cell: "ok",
    badge: "passing",
    exit: Exit::Ok,
    tests: &[],
    stages: &[],
    junit: &[],
    why: Why::Unchecked,
    allow_empty: false,
};

/// A fixture log of `pgfarm-causes` (testdata/causes).
fn cause_log(name: &str) -> String {
    let path = format!("{}/../../testdata/causes/{name}.log", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

fn set_log(bundle: &mut Bundle, kind: StageKind, log: &str) {
    if let Some(stage) = bundle.stages.iter_mut().find(|stage| stage.kind == kind) {
        stage.log = RawText::from(log.to_owned());
    }
}

fn sample(name: &str) -> Bundle {
    let path = format!("{}/../../testdata/bundles/{name}.pgfarm.json", env!("CARGO_MANIFEST_DIR"));
    Bundle::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// `pass.pgfarm.json`: build .. tap ok, regress `one` and `two`, one pgTAP file, upgrade missing.
fn pass() -> Bundle {
    sample("pass")
}

fn set_stage(bundle: &mut Bundle, kind: StageKind, status: StageStatus) {
    match bundle.stages.iter_mut().find(|stage| stage.kind == kind) {
        Some(stage) => stage.status = status,
        None => {
            bundle.stages.push(Stage::new(kind, status, 0));
            bundle.sort_stages();
        }
    }
}

/// Every stage after `kind` skipped, as the runner does after a failure.
fn fail_at(bundle: &mut Bundle, kind: StageKind) {
    set_stage(bundle, kind, StageStatus::Failed);
    for stage in bundle.stages.iter_mut().filter(|stage| stage.kind > kind) {
        stage.status = StageStatus::Skipped;
    }
    if kind < StageKind::Regress {
        bundle.regress.clear();
    }
    if kind < StageKind::Tap {
        bundle.tap.clear();
    }
}

fn no_tests(bundle: &mut Bundle) {
    bundle.regress.clear();
    bundle.tap.clear();
}

fn regress(name: &str, reported: TestStatus, actual: &str, expected: &[&str]) -> RegressTest {
    RegressTest {
        name: name.into(),
        group: 99,
        status: reported,
        duration_ms: 1,
        actual: RawText::from(actual.to_owned()),
        expected: expected
            .iter()
            .enumerate()
            .map(|(idx, content)| ExpectedOutput {
                file_name: if idx == 0 {
                    format!("{name}.out")
                } else {
                    format!("{name}_{idx}.out")
                },
                content: RawText::from((*content).to_owned()),
            })
            .collect(),
        psql_exit_code: Some(0),
        chosen_expected: None,
        reason: None,
    }
}

fn tap(path: &str, reported: TestStatus, exit_code: Option<i32>, stream: &str) -> TapFile {
    TapFile {
        path: path.into(),
        status: reported,
        duration_ms: 1,
        exit_code,
        stream: RawText::from(stream.to_owned()),
        stderr: RawText::new(),
    }
}

fn with(mut bundle: Bundle, edit: impl FnOnce(&mut Bundle)) -> Vec<Bundle> {
    edit(&mut bundle);
    vec![bundle]
}

const ROWS: &[Row] = &[
    Row {
        rule: "test-regress-match",
        case: "the client said ok but the output differs: failed (the run page shows the derived status)",
        bundles: || with(pass(), |b| b.regress.push(regress("x", TestStatus::Ok, "1\n", &["2\n"]))),
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("x", TestStatus::Failed), ("one", TestStatus::Ok)],
            stages: &[(StageKind::Regress, StageStatus::Failed)],
            junit: &[("x", JunitResult::Failure), ("one", JunitResult::Success)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "test-regress-match",
        case: "the client said failed but the second variant matches: ok",
        bundles: || {
            with(pass(), |b| {
                b.regress.push(regress("x", TestStatus::Failed, "2\n", &["1\n", "2\n"]))
            })
        },
        expect: Expect { tests: &[("x", TestStatus::Ok)], ..PASS },
    },
    Row {
        rule: "test-regress-match",
        case: "white space counts (pg_regress compares exactly)",
        bundles: || {
            with(pass(), |b| b.regress.push(regress("x", TestStatus::Ok, "a  b\n", &["a b\n"])))
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("x", TestStatus::Failed)],
            ..PASS
        },
    },
    Row {
        rule: "test-regress-match",
        case: "an isolation spec is judged as a regress test",
        bundles: || {
            with(pass(), |b| {
                set_stage(b, StageKind::Isolation, StageStatus::Ok);
                b.isolation.push(regress("spec", TestStatus::Ok, "s1: 1\n", &["s1: 2\n"]));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Isolation),
            cell: "failed at isolation",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("spec", TestStatus::Failed)],
            stages: &[(StageKind::Isolation, StageStatus::Failed)],
            junit: &[("spec", JunitResult::Failure)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "test-regress-psql-exit",
        case: "pg_regress 16+: matching output, psql exited with 3: failed as reported",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("err", TestStatus::Failed, "1\n", &["1\n"]);
                test.psql_exit_code = Some(3);
                b.regress.push(test);
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("err", TestStatus::Failed)],
            junit: &[("err", JunitResult::Failure)],
            ..PASS
        },
    },
    Row {
        rule: "test-regress-psql-exit",
        case: "pg_regress 15 (--classic): the same test reported ok stays ok",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("err", TestStatus::Ok, "1\n", &["1\n"]);
                test.psql_exit_code = Some(3);
                b.regress.push(test);
            })
        },
        expect: Expect { tests: &[("err", TestStatus::Ok)], ..PASS },
    },
    Row {
        rule: "test-regress-no-expected",
        case: "no expected file: error, a failure of the extension, not a machine fault",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("x", TestStatus::Error, "1\n", &[]);
                test.reason = Some("no expected file for x: looked in test/expected".into());
                b.regress.push(test);
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("x", TestStatus::Error)],
            junit: &[("x", JunitResult::Error)],
            ..PASS
        },
    },
    Row {
        rule: "test-regress-ignored",
        case: "ignore: and still differs: ignored, not a failure, skipped in JUnit",
        bundles: || {
            with(pass(), |b| b.regress.push(regress("x", TestStatus::Ignored, "1\n", &["2\n"])))
        },
        expect: Expect {
            tests: &[("x", TestStatus::Ignored)],
            stages: &[(StageKind::Regress, StageStatus::Ok)],
            junit: &[("x", JunitResult::Skipped)],
            ..PASS
        },
    },
    Row {
        rule: "test-regress-ignored",
        case: "ignore: but it matches: ok",
        bundles: || {
            with(pass(), |b| b.regress.push(regress("x", TestStatus::Ignored, "1\n", &["1\n"])))
        },
        expect: Expect { tests: &[("x", TestStatus::Ok)], ..PASS },
    },
    Row {
        rule: "test-reported-fault",
        case: "a timed-out test stays timeout and makes the run error",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("hang", TestStatus::Timeout, "", &["1\n"]);
                test.reason = Some("timed out after 1 s".into());
                b.regress.push(test);
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Regress),
            cell: "error at regress",
            badge: "unknown",
            exit: Exit::Error,
            tests: &[("hang", TestStatus::Timeout)],
            stages: &[(StageKind::Regress, StageStatus::Failed)],
            junit: &[("hang", JunitResult::Error)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "test-reported-fault",
        case: "a TAP file reported timeout stays timeout although its stream passes",
        bundles: || {
            with(pass(), |b| b.tap.push(tap("t.sql", TestStatus::Timeout, None, "1..1\nok 1\n")))
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Tap),
            cell: "error at tap",
            badge: "unknown",
            exit: Exit::Error,
            tests: &[("t.sql", TestStatus::Timeout)],
            junit: &[("t.sql", JunitResult::Error)],
            ..PASS
        },
    },
    Row {
        rule: "test-tap-stream",
        case: "a failed point fails the file although the client said ok",
        bundles: || {
            with(pass(), |b| {
                b.tap.push(tap("t.sql", TestStatus::Ok, Some(0), "1..2\nok 1\nnot ok 2 - no\n"))
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Tap),
            cell: "failed at tap",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("t.sql", TestStatus::Failed)],
            stages: &[(StageKind::Tap, StageStatus::Failed)],
            junit: &[("t.sql", JunitResult::Failure)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "test-tap-stream",
        case: "a passing stream with psql's exit code 3 (died midway) fails",
        bundles: || {
            with(pass(), |b| b.tap.push(tap("t.sql", TestStatus::Ok, Some(3), "1..1\nok 1\n")))
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Tap),
            cell: "failed at tap",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("t.sql", TestStatus::Failed)],
            ..PASS
        },
    },
    Row {
        rule: "test-tap-stream",
        case: "a plan the stream does not keep fails",
        bundles: || {
            with(pass(), |b| b.tap.push(tap("t.sql", TestStatus::Ok, Some(0), "1..3\nok 1\n")))
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Tap),
            cell: "failed at tap",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("t.sql", TestStatus::Failed)],
            ..PASS
        },
    },
    Row {
        rule: "test-tap-stream",
        case: "tap-fail sample: 08-special-chars's only `not ok` is a TODO, so it passes though the runner wrote failed",
        bundles: || vec![sample("tap-fail")],
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Tap),
            cell: "failed at tap",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[
                ("test/sql/08-special-chars.sql", TestStatus::Ok),
                ("test/sql/01-basic-pass-fail.sql", TestStatus::Failed),
                ("test/sql/09-died-midway.sql", TestStatus::Error),
            ],
            stages: &[(StageKind::Regress, StageStatus::Missing)],
            junit: &[("test/sql/09-died-midway.sql", JunitResult::Error)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "tap-dialect",
        case: "pgTAP files and Perl TAP files: one stream, the same summary as the run page's tree",
        bundles: || {
            with(pass(), |b| {
                set_stage(b, StageKind::PerlTap, StageStatus::Ok);
                let stream =
                    "1..2\nok 1 - a\nnot ok 2 - b # TODO later\n# Failed (TODO) test 2: \"b\"\n";
                b.tap.push(tap("t.sql", TestStatus::Failed, Some(0), stream));
                b.perl_tap.push(tap("t/001.pl", TestStatus::Failed, Some(0), stream));
            })
        },
        expect: Expect {
            tests: &[("t.sql", TestStatus::Ok), ("t/001.pl", TestStatus::Ok)],
            stages: &[(StageKind::PerlTap, StageStatus::Ok)],
            ..PASS
        },
    },
    Row {
        rule: "stage-tests",
        case: "a Perl TAP failure fails its stage and the run",
        bundles: || {
            with(pass(), |b| {
                set_stage(b, StageKind::PerlTap, StageStatus::Ok);
                b.perl_tap.push(tap("t/001.pl", TestStatus::Ok, Some(1), "1..1\nnot ok 1\n"));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::PerlTap),
            cell: "failed at perl_tap",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("t/001.pl", TestStatus::Failed)],
            stages: &[(StageKind::PerlTap, StageStatus::Failed)],
            junit: &[],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "stage-tests",
        case: "a stage the client said failed but whose tests pass is ok",
        bundles: || with(pass(), |b| set_stage(b, StageKind::Tap, StageStatus::Missing)),
        expect: Expect { stages: &[(StageKind::Tap, StageStatus::Ok)], ..PASS },
    },
    Row {
        rule: "stage-reported-failed",
        case: "a crash after the last test: the regress stage stays failed with passing tests",
        bundles: || with(pass(), |b| set_stage(b, StageKind::Regress, StageStatus::Failed)),
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("one", TestStatus::Ok)],
            stages: &[(StageKind::Regress, StageStatus::Failed)],
            junit: &[],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "stage-no-tests",
        case: "an isolation stage reported ok without specs is missing",
        bundles: || with(pass(), |b| set_stage(b, StageKind::Isolation, StageStatus::Ok)),
        expect: Expect { stages: &[(StageKind::Isolation, StageStatus::Missing)], ..PASS },
    },
    Row {
        rule: "stage-no-tests",
        case: "a skipped tap stage stays skipped",
        bundles: || {
            with(pass(), |b| {
                b.tap.clear();
                set_stage(b, StageKind::Tap, StageStatus::Skipped);
            })
        },
        expect: Expect { stages: &[(StageKind::Tap, StageStatus::Skipped)], ..PASS },
    },
    Row {
        rule: "stage-reported",
        case: "the installcheck stage keeps its reported status; ok, it counts as tested",
        bundles: || {
            with(pass(), |b| {
                no_tests(b);
                set_stage(b, StageKind::Regress, StageStatus::Missing);
                set_stage(b, StageKind::Tap, StageStatus::Missing);
                set_stage(b, StageKind::Installcheck, StageStatus::Ok);
            })
        },
        expect: Expect { stages: &[(StageKind::Installcheck, StageStatus::Ok)], ..PASS },
    },
    Row {
        rule: "first-failed-stage",
        case: "regress and upgrade failed: the first in run order is the failed stage",
        bundles: || {
            with(pass(), |b| {
                set_stage(b, StageKind::Upgrade, StageStatus::Failed);
                b.regress.push(regress("x", TestStatus::Ok, "1\n", &["2\n"]));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            ..PASS
        },
    },
    Row {
        rule: "run-interrupted",
        case: "interrupted during regress",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Regress);
                b.run.status = RunStatus::Interrupted;
            })
        },
        expect: Expect {
            run: RunStatus::Interrupted,
            failed_stage: Some(StageKind::Regress),
            cell: "interrupted at regress",
            badge: "unknown",
            exit: Exit::Error,
            ..PASS
        },
    },
    Row {
        rule: "run-machine-fault",
        case: "a failed build is error (it was stored as `failed`: \"failed at build\")",
        bundles: || with(pass(), |b| fail_at(b, StageKind::Build)),
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Build),
            cell: "error at build",
            badge: "unknown",
            exit: Exit::Error,
            stages: &[
                (StageKind::Build, StageStatus::Failed),
                (StageKind::Regress, StageStatus::Skipped),
            ],
            junit: &[("build", JunitResult::Error), ("regress", JunitResult::Skipped)],
            ..PASS
        },
    },
    Row {
        rule: "run-machine-fault",
        case: "a failed install is error",
        bundles: || with(pass(), |b| fail_at(b, StageKind::Install)),
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Install),
            cell: "error at install",
            badge: "unknown",
            exit: Exit::Error,
            junit: &[("install", JunitResult::Error)],
            ..PASS
        },
    },
    Row {
        rule: "run-machine-fault",
        case: "a cluster that does not start is error (the matrix said \"failed at cluster\")",
        bundles: || with(pass(), |b| fail_at(b, StageKind::Cluster)),
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Cluster),
            cell: "error at cluster",
            badge: "unknown",
            exit: Exit::Error,
            junit: &[("cluster", JunitResult::Error)],
            ..PASS
        },
    },
    Row {
        rule: "run-machine-fault",
        case: "a test killed by a server crash is error",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("boom", TestStatus::Error, "", &["1\n"]);
                test.reason = Some("server crashed (signal 11)".into());
                b.regress.push(test);
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Regress),
            cell: "error at regress",
            badge: "unknown",
            exit: Exit::Error,
            tests: &[("boom", TestStatus::Error)],
            junit: &[("boom", JunitResult::Error)],
            ..PASS
        },
    },
    Row {
        rule: "run-machine-fault",
        case: "the client says ok, its build failed: error",
        bundles: || {
            with(pass(), |b| {
                set_stage(b, StageKind::Build, StageStatus::Failed);
                b.run.status = RunStatus::Ok;
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Build),
            cell: "error at build",
            badge: "unknown",
            exit: Exit::Error,
            ..PASS
        },
    },
    Row {
        rule: "run-failed",
        case: "a failed load is the extension's failure",
        bundles: || with(pass(), |b| fail_at(b, StageKind::Load)),
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Load),
            cell: "failed at load",
            badge: "failing",
            exit: Exit::Failed,
            junit: &[("load", JunitResult::Failure)],
            ..PASS
        },
    },
    Row {
        rule: "run-failed",
        case: "a failed upgrade is failed at upgrade, not a test failure",
        bundles: || with(pass(), |b| set_stage(b, StageKind::Upgrade, StageStatus::Failed)),
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Upgrade),
            cell: "failed at upgrade",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("one", TestStatus::Ok), ("two", TestStatus::Ok)],
            stages: &[(StageKind::Upgrade, StageStatus::Failed)],
            junit: &[("upgrade", JunitResult::Failure)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "run-failed",
        case: "a failed installcheck recipe",
        bundles: || with(pass(), |b| set_stage(b, StageKind::Installcheck, StageStatus::Failed)),
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Installcheck),
            cell: "failed at installcheck",
            badge: "failing",
            exit: Exit::Failed,
            ..PASS
        },
    },
    Row {
        rule: "run-failed",
        case: "regress-fail sample",
        bundles: || vec![sample("regress-fail")],
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            tests: &[("three", TestStatus::Failed)],
            stages: &[(StageKind::Tap, StageStatus::Skipped)],
            junit: &[("three", JunitResult::Failure)],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "run-reported-error",
        case: "an error the bundle cannot show is kept",
        bundles: || with(pass(), |b| b.run.status = RunStatus::Error),
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: None,
            cell: "error",
            badge: "unknown",
            exit: Exit::Error,
            ..PASS
        },
    },
    Row {
        rule: "run-ok",
        case: "pass sample: every stage that ran passed",
        bundles: || vec![pass()],
        expect: Expect {
            stages: &[(StageKind::Upgrade, StageStatus::Missing)],
            junit: &[("one", JunitResult::Success), ("upgrade", JunitResult::Skipped)],
            ..PASS
        },
    },
    Row {
        rule: "run-ok",
        case: "a client claiming failed with nothing failed is ok",
        bundles: || with(pass(), |b| b.run.status = RunStatus::Failed),
        expect: PASS,
    },
    Row {
        rule: "run-tested",
        case: "only the upgrade check ran: nothing tested",
        bundles: || {
            with(pass(), |b| {
                no_tests(b);
                set_stage(b, StageKind::Upgrade, StageStatus::Ok);
            })
        },
        expect: Expect {
            cell: "missing tests",
            badge: "missing tests",
            exit: Exit::NothingTested,
            stages: &[
                (StageKind::Regress, StageStatus::Missing),
                (StageKind::Tap, StageStatus::Missing),
            ],
            ..PASS
        },
    },
    Row {
        rule: "cell-missing-tests",
        case: "an ok run without tests: \"missing tests\" on the cell and on the badge (the badge said passing)",
        bundles: || with(pass(), no_tests),
        expect: Expect {
            cell: "missing tests",
            badge: "missing tests",
            exit: Exit::NothingTested,
            ..PASS
        },
    },
    Row {
        rule: "cell-missing-tests",
        case: "one installation without tests beside a tested one: exit 0, badge missing tests",
        bundles: || {
            let mut untested = pass();
            no_tests(&mut untested);
            vec![untested, pass()]
        },
        expect: Expect { cell: "missing tests", badge: "missing tests", exit: Exit::Ok, ..PASS },
    },
    Row {
        rule: "cell-label",
        case: "interrupted before any stage failed",
        bundles: || with(pass(), |b| b.run.status = RunStatus::Interrupted),
        expect: Expect {
            run: RunStatus::Interrupted,
            cell: "interrupted",
            badge: "unknown",
            exit: Exit::Error,
            ..PASS
        },
    },
    Row {
        rule: "badge-message",
        case: "one failing cell beside error and passing ones makes the badge failing",
        bundles: || {
            let mut failing = pass();
            set_stage(&mut failing, StageKind::Load, StageStatus::Failed);
            let mut error = pass();
            fail_at(&mut error, StageKind::Cluster);
            vec![pass(), error, failing]
        },
        expect: Expect { badge: "failing", exit: Exit::Error, ..PASS },
    },
    Row {
        rule: "badge-message",
        case: "an error cell beside a passing one: unknown",
        bundles: || {
            let mut error = pass();
            fail_at(&mut error, StageKind::Cluster);
            vec![pass(), error]
        },
        expect: Expect { badge: "unknown", exit: Exit::Error, ..PASS },
    },
    Row {
        rule: "junit-test",
        case: "every test status has one JUnit result, the same in regress, prove and test",
        bundles: || {
            with(pass(), |b| {
                b.regress.push(regress("fails", TestStatus::Failed, "1\n", &["2\n"]));
                b.regress.push(regress("ignored", TestStatus::Ignored, "1\n", &["2\n"]));
                b.regress.push(regress("timeout", TestStatus::Timeout, "", &["2\n"]));
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Regress),
            cell: "error at regress",
            badge: "unknown",
            exit: Exit::Error,
            tests: &[],
            stages: &[],
            junit: &[
                ("one", JunitResult::Success),
                ("fails", JunitResult::Failure),
                ("ignored", JunitResult::Skipped),
                ("timeout", JunitResult::Error),
            ],
            why: Why::Unchecked,
            allow_empty: false,
        },
    },
    Row {
        rule: "junit-stage",
        case: "stages: ok success, missing skipped",
        bundles: || vec![pass()],
        expect: Expect {
            junit: &[("build", JunitResult::Success), ("upgrade", JunitResult::Skipped)],
            ..PASS
        },
    },
    Row {
        rule: "exit-code",
        case: "a failed and an ok run: 1",
        bundles: || {
            let mut failing = pass();
            set_stage(&mut failing, StageKind::Load, StageStatus::Failed);
            vec![pass(), failing]
        },
        expect: Expect { badge: "failing", exit: Exit::Failed, ..PASS },
    },
    Row {
        rule: "run-cause",
        case: "a build failing on a missing header: the build log names it (an `error` run has a cause)",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Build);
                set_log(b, StageKind::Build, &cause_log("missing_header"));
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Build),
            cell: "error at build",
            badge: "unknown",
            exit: Exit::Error,
            why: Why::Is(
                Cause::MissingHeader,
                Some(|| LogSource::Stage(StageKind::Build)),
                "utils/rel_removed.h",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "failing tests, and a crash in the server log: the crash (tier 0) wins over the stage's `1 of 4 tests failed`",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Regress);
                b.regress.push(regress("x", TestStatus::Failed, "1\n", &["2\n"]));
                set_log(b, StageKind::Regress, "1 of 4 tests failed.\n");
                b.server_log = RawText::from(cause_log("server_crash"));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(Cause::ServerCrash, Some(|| LogSource::ServerLog), "signal 11"),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a regress failure: the server log's ERROR of a test that expects it is not the cause",
        bundles: || vec![sample("regress-fail")],
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            cell: "failed at regress",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(
                Cause::TestFailures,
                Some(|| LogSource::Stage(StageKind::Regress)),
                "1 of 4 tests failed",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a failed load: the server log is read whole (its ERROR is the load's)",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Load);
                set_log(b, StageKind::Load, "psql exited with code 3\n");
                b.server_log = RawText::from(cause_log("undefined_symbol"));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Load),
            cell: "failed at load",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(
                Cause::UndefinedSymbol,
                Some(|| LogSource::ServerLog),
                "undefined symbol: pgfarm_nowhere",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a later stage's log is not read: a failed load names its own cause, not the build's warnings",
        bundles: || {
            with(pass(), |b| {
                set_log(b, StageKind::Build, &cause_log("implicit_declaration"));
                fail_at(b, StageKind::Load);
                set_log(b, StageKind::Load, &cause_log("missing_extension_dependency"));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Load),
            cell: "failed at load",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(
                Cause::MissingExtensionDependency,
                Some(|| LogSource::Stage(StageKind::Load)),
                "pgfarm_absent_dep",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a failing pgTAP file: its psql standard error is read",
        bundles: || {
            with(pass(), |b| {
                b.tap.push(TapFile {
                    stderr: RawText::from(
                        "psql:t/x.sql:3: ERROR:  function nope(integer) does not exist\n"
                            .to_owned(),
                    ),
                    ..tap("t/x.sql", TestStatus::Ok, Some(3), "1..1\nnot ok 1 - x\n")
                });
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Tap),
            cell: "failed at tap",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(
                Cause::FunctionDoesNotExist,
                Some(|| LogSource::Test { stage: StageKind::Tap, name: "t/x.sql".into() }),
                "nope(integer)",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a test killed by a time-out: its reason is read",
        bundles: || {
            with(pass(), |b| {
                let mut test = regress("slow", TestStatus::Timeout, "", &["1\n"]);
                test.reason = Some("timed out after 60 s".into());
                b.regress.push(test);
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: Some(StageKind::Regress),
            cell: "error at regress",
            badge: "unknown",
            exit: Exit::Error,
            why: Why::Is(
                Cause::Timeout,
                Some(|| LogSource::Test { stage: StageKind::Regress, name: "slow".into() }),
                "timed out after 60 s",
            ),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "nothing known in the logs: the cause is `unknown`, said as such, with no line",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Load);
                set_log(b, StageKind::Load, &cause_log("unknown"));
            })
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Load),
            cell: "failed at load",
            badge: "failing",
            exit: Exit::Failed,
            why: Why::Is(Cause::Unknown, None, ""),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "a reported error without a failed stage: the server log alone is read",
        bundles: || {
            with(pass(), |b| {
                b.run.status = RunStatus::Error;
                set_log(b, StageKind::Build, &cause_log("implicit_declaration"));
                b.server_log = RawText::from(cause_log("out_of_memory"));
            })
        },
        expect: Expect {
            run: RunStatus::Error,
            failed_stage: None,
            cell: "error",
            badge: "unknown",
            exit: Exit::Error,
            why: Why::Is(Cause::OutOfMemory, Some(|| LogSource::ServerLog), "out of memory"),
            ..PASS
        },
    },
    Row {
        rule: "run-cause",
        case: "an ok run has no cause, whatever its logs say",
        bundles: || with(pass(), |b| b.server_log = RawText::from(cause_log("server_panic"))),
        expect: Expect { why: Why::NoCause, ..PASS },
    },
    Row {
        rule: "run-cause",
        case: "an interrupted run has no cause",
        bundles: || {
            with(pass(), |b| {
                fail_at(b, StageKind::Regress);
                b.run.status = RunStatus::Interrupted;
                b.server_log = RawText::from(cause_log("server_crash"));
            })
        },
        expect: Expect {
            run: RunStatus::Interrupted,
            failed_stage: Some(StageKind::Regress),
            cell: "interrupted at regress",
            badge: "unknown",
            exit: Exit::Error,
            why: Why::NoCause,
            ..PASS
        },
    },
    Row {
        rule: "exit-code-allow-empty",
        case: "nothing tested (a --filter that matched nothing) is 0 with --allow-empty",
        bundles: || {
            with(pass(), |b| {
                no_tests(b);
                set_stage(b, StageKind::Regress, StageStatus::Skipped);
                set_stage(b, StageKind::Tap, StageStatus::Skipped);
            })
        },
        expect: Expect {
            cell: "missing tests",
            badge: "missing tests",
            exit: Exit::Ok,
            stages: &[
                (StageKind::Regress, StageStatus::Skipped),
                (StageKind::Tap, StageStatus::Skipped),
            ],
            allow_empty: true,
            ..PASS
        },
    },
    Row {
        rule: "exit-code-allow-empty",
        case: "--allow-empty leaves a failure a failure",
        bundles: || {
            let mut failing = pass();
            set_stage(&mut failing, StageKind::Load, StageStatus::Failed);
            vec![failing]
        },
        expect: Expect {
            run: RunStatus::Failed,
            failed_stage: Some(StageKind::Load),
            cell: "failed at load",
            badge: "failing",
            exit: Exit::Failed,
            allow_empty: true,
            why: Why::Unchecked,
            ..PASS
        },
    },
];

/// JUnit results by name: stages by their kind, tests by their name.
fn junit_of(verdict: &pgfarm_verdict::Verdict, name: &str) -> Option<JunitResult> {
    if let Some(stage) = verdict.stages.iter().find(|stage| stage.kind.as_str() == name) {
        return Some(pgfarm_verdict::junit_stage(stage.kind, stage.status));
    }
    verdict
        .tests
        .iter()
        .find(|test| test.name == name)
        .map(|test| pgfarm_verdict::junit_test(test.status))
}

#[test]
fn every_row_holds() {
    let mut failures = Vec::new();
    for row in ROWS {
        let bundles = (row.bundles)();
        let verdicts: Vec<_> = bundles.iter().map(pgfarm_verdict::derive).collect();
        let first = &verdicts[0];
        let expect = &row.expect;
        let mut check = |what: &str, got: String, want: String| {
            if got != want {
                failures
                    .push(format!("{} ({}): {what}: got {got}, want {want}", row.rule, row.case));
            }
        };
        check("run status", format!("{:?}", first.run.status), format!("{:?}", expect.run));
        check(
            "failed stage",
            format!("{:?}", first.run.failed_stage),
            format!("{:?}", expect.failed_stage),
        );
        check("cell", first.run.cell().label, expect.cell.to_owned());
        let badge = pgfarm_verdict::badge(verdicts.iter().map(|v| v.run.cell().word));
        check("badge", badge.message.to_owned(), expect.badge.to_owned());
        let exit = pgfarm_verdict::exit_code(verdicts.iter().map(|v| &v.run), false)
            .allow_empty(expect.allow_empty);
        check("exit", format!("{exit:?}"), format!("{:?}", expect.exit));
        for (name, status) in expect.tests {
            let got = first.tests.iter().find(|test| test.name == *name).map(|test| test.status);
            check(&format!("test {name}"), format!("{got:?}"), format!("{:?}", Some(status)));
        }
        for (kind, status) in expect.stages {
            let got =
                first.stages.iter().find(|stage| stage.kind == *kind).map(|stage| stage.status);
            check(&format!("stage {kind}"), format!("{got:?}"), format!("{:?}", Some(status)));
        }
        for (name, result) in expect.junit {
            check(
                &format!("junit {name}"),
                format!("{:?}", junit_of(first, name)),
                format!("{:?}", Some(result)),
            );
        }
        let cause = pgfarm_verdict::cause(&bundles[0], &first.run);
        let got = cause.as_ref().map(|c| (c.cause, c.line.as_ref().map(|l| (&l.source, &l.text))));
        match &expect.why {
            Why::Unchecked => {}
            Why::NoCause => check("cause", format!("{got:?}"), "None".into()),
            Why::Is(want, source, piece) => {
                let ok = cause.as_ref().is_some_and(|c| {
                    c.cause == *want
                        && match (&c.line, source) {
                            (None, None) => true,
                            (Some(line), Some(source)) => {
                                line.source == source() && line.text.contains(piece)
                            }
                            _ => false,
                        }
                });
                if !ok {
                    let want = format!("{want} from {:?} with {piece:?}", source.map(|s| s()));
                    check("cause", format!("{got:?}"), want);
                }
            }
        }
        // The runner writes these statuses into its bundles: a judged bundle must validate
        // and judge the same again.
        let mut judged = bundles[0].clone();
        let verdict = pgfarm_verdict::judge(&mut judged);
        if let Err(err) = judged.validate() {
            failures.push(format!("{} ({}): judged bundle invalid: {err}", row.rule, row.case));
        }
        let again = pgfarm_verdict::derive(&judged);
        if again != verdict {
            failures.push(format!("{} ({}): judging twice differs", row.rule, row.case));
        }
    }
    assert!(failures.is_empty(), "{} rows failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_rule_in_the_docs_has_a_row() {
    let docs = include_str!("../src/lib.rs");
    let ids: Vec<&str> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("//! - **"))
        .filter_map(|rest| rest.split_once("**").map(|(id, _)| id))
        .collect();
    assert!(ids.len() >= 20, "rule ids not found in the docs: {ids:?}");
    for id in &ids {
        assert!(ROWS.iter().any(|row| row.rule == *id), "rule `{id}` has no row");
    }
    for row in ROWS {
        assert!(ids.contains(&row.rule), "row for `{}`, which the docs do not name", row.rule);
    }
}

#[test]
fn the_tap_dialect_is_pgtap_for_tap_only() {
    assert!(pgfarm_verdict::tap_options(StageKind::Tap).pgtap);
    assert!(!pgfarm_verdict::tap_options(StageKind::PerlTap).pgtap);
}

#[test]
fn every_cell_word_has_a_badge_and_exit_codes_are_documented_numbers() {
    for word in pgfarm_verdict::CellWord::ALL {
        assert!(!pgfarm_verdict::badge([word]).message.is_empty());
    }
    let codes: Vec<u8> =
        [Exit::Ok, Exit::Failed, Exit::Error, Exit::NothingTested].map(Exit::code).to_vec();
    assert_eq!(codes, [0, 1, 2, 4]);
    assert_eq!(pgfarm_verdict::exit_code([], true), Exit::Error);
}

#[test]
fn exit_code_with_a_coverage_threshold_fails_only_an_otherwise_passing_run() {
    use pgfarm_model::{Coverage, FileCoverage, FunctionCoverage};
    let function = |name: &str, calls| FunctionCoverage { name: name.into(), calls };
    let half =
        Coverage { functions: vec![function("a()", 1), function("b()", 0)], files: Vec::new() };
    assert!(pgfarm_verdict::coverage_meets(&half, 50.0));
    assert!(!pgfarm_verdict::coverage_meets(&half, 50.1));
    let mut with_lines = half.clone();
    with_lines.files.push(FileCoverage {
        path: "a.c".into(),
        lines: 10,
        lines_covered: 4,
        uncovered_lines: vec![1, 2, 3, 4, 5, 6],
        branches: 0,
        branches_covered: 0,
    });
    assert!(!pgfarm_verdict::coverage_meets(&with_lines, 50.0), "40% of the lines");
    assert!(!pgfarm_verdict::coverage_meets(&Coverage::default(), 1.0));
    assert!(pgfarm_verdict::coverage_meets(&Coverage::default(), 0.0));
    assert_eq!(pgfarm_verdict::exit_with_coverage(Exit::Ok, false), Exit::Error);
    assert_eq!(pgfarm_verdict::exit_with_coverage(Exit::Ok, true), Exit::Ok);
    assert_eq!(pgfarm_verdict::exit_with_coverage(Exit::Failed, false), Exit::Failed);
    assert_eq!(pgfarm_verdict::exit_with_coverage(Exit::NothingTested, false), Exit::NothingTested);
}
