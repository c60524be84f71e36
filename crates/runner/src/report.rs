//! Result files every command can write: JUnit XML (via `quick-junit`) and a TAP 14 summary,
//! built once from a run's model records ([`run_suite`]: bundle stages, regress tests, TAP files)
//! with every outcome decided by `pgfarm-verdict`, and the atomic file write they all use.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use pgfarm_model::{RegressTest, StageKind, TapFile, TestStatus};
use pgfarm_verdict::{JunitResult, RunParts};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::{Error, Result};

/// One test case: a pg_regress test, a pgTAP file or a stage.
#[derive(Debug, Clone)]
pub struct Case {
    /// Test name.
    pub name: String,
    /// Its JUnit result (`pgfarm_verdict::junit_test` / `junit_stage`).
    pub outcome: JunitResult,
    /// Wall time.
    pub duration: Duration,
    /// A one-line reason for a non-pass ("output differs from expected/x.out", "timeout").
    pub message: Option<String>,
    /// Longer detail: the diff, the TAP diagnostics, the log tail.
    pub detail: String,
}

/// A named group of cases (one per suite and installation).
#[derive(Debug, Clone)]
pub struct Suite {
    /// Suite name (`regress`, `tap`, `pg16`).
    pub name: String,
    /// Cases in order.
    pub cases: Vec<Case>,
}

/// Which cases a run's suite holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cases {
    /// `pgfarm test`: one case per stage, then each test as `STAGE/NAME`.
    StagesAndTests,
    /// `pgfarm regress` and `pgfarm prove`: the tests alone, by name.
    TestsOnly,
}

/// The suite of one run: every outcome from `pgfarm_verdict::derive_parts`, messages and
/// details from the raw outputs (the diff against the chosen expected file, the TAP stream).
pub fn run_suite(name: impl Into<String>, parts: RunParts<'_>, cases: Cases) -> Suite {
    let verdict = pgfarm_verdict::derive_parts(parts);
    let mut out = Vec::new();
    if cases == Cases::StagesAndTests {
        for (stage, derived) in parts.stages.iter().zip(&verdict.stages) {
            out.push(Case {
                name: stage.kind.as_str().to_owned(),
                outcome: pgfarm_verdict::junit_stage(stage.kind, derived.status),
                duration: Duration::from_millis(stage.duration_ms),
                message: stage.error.clone(),
                detail: String::new(),
            });
        }
    }
    let regress = parts.regress.iter().chain(parts.isolation).map(Record::Regress);
    let tap = parts.tap.iter().map(|f| Record::Tap(f, StageKind::Tap));
    let perl_tap = parts.perl_tap.iter().map(|f| Record::Tap(f, StageKind::PerlTap));
    for (record, derived) in regress.chain(tap).chain(perl_tap).zip(&verdict.tests) {
        let outcome = pgfarm_verdict::junit_test(derived.status);
        let name = match cases {
            Cases::StagesAndTests => format!("{}/{}", derived.stage.as_str(), derived.name),
            Cases::TestsOnly => derived.name.clone(),
        };
        let (message, detail) = match (record, outcome) {
            (_, JunitResult::Success) => (None, String::new()),
            (Record::Regress(test), _) => regress_message(test, derived.status),
            (Record::Tap(file, stage), _) => tap_message(file, stage, derived.status),
        };
        out.push(Case {
            name,
            outcome,
            duration: Duration::from_millis(derived.duration_ms),
            message,
            detail,
        });
    }
    Suite { name: name.into(), cases: out }
}

#[derive(Clone, Copy)]
enum Record<'a> {
    Regress(&'a RegressTest),
    Tap(&'a TapFile, StageKind),
}

/// A regress test's one-line reason and its diff against the chosen expected file.
fn regress_message(test: &RegressTest, status: TestStatus) -> (Option<String>, String) {
    let chosen = test.chosen().or_else(|| test.expected.first());
    let mut detail = String::new();
    if let Some(expected) = chosen {
        let diff = pgfarm_diff::diff_bytes(
            expected.content.as_bytes(),
            test.actual.as_bytes(),
            &pgfarm_diff::Options::default(),
        );
        let labels = pgfarm_diff::Labels {
            expected: &format!("expected/{}", expected.file_name),
            actual: &format!("results/{}.out", test.name),
        };
        let _ = diff.write_unified(&mut detail, &labels, 3);
    }
    let message = match (&test.reason, status, chosen) {
        (Some(reason), _, _) => reason.clone(),
        (None, TestStatus::Timeout, _) => "timeout".to_owned(),
        (None, _, None) => "no expected file".to_owned(),
        (None, _, Some(expected)) => format!("output differs from expected/{}", expected.file_name),
    };
    (Some(message), detail)
}

/// A TAP file's one-line reason (failed points, exit code, protocol errors) and its output.
fn tap_message(file: &TapFile, stage: StageKind, status: TestStatus) -> (Option<String>, String) {
    let summary = pgfarm_verdict::tap_summary(file, stage);
    let mut reasons: Vec<String> = Vec::new();
    if !summary.failures.is_empty() {
        let ids: Vec<u64> = summary.failures.iter().map(|f| f.id).collect();
        reasons.push(format!("failed tests: {}", crate::prove::id_ranges(&ids)));
    }
    if let Some(code) = file.exit_code.filter(|c| *c != 0) {
        reasons.push(format!("exited with {code}"));
    }
    if status == TestStatus::Timeout {
        reasons.push("timeout".into());
    }
    reasons.extend(summary.errors.iter().cloned());
    if let Some(reason) = &summary.bailout {
        reasons.push(format!("Bail out! {reason}"));
    }
    let mut detail = file.stream.to_string_lossy().into_owned();
    let _ = write!(detail, "{}", file.stderr.to_string_lossy());
    (Some(reasons.join("; ")).filter(|m| !m.is_empty()), detail)
}

/// Renders suites as JUnit XML.
pub fn junit_xml(report_name: &str, suites: &[Suite]) -> Result<String> {
    let mut report = Report::new(report_name);
    for suite in suites {
        let mut junit_suite = TestSuite::new(suite.name.as_str());
        let mut total = Duration::ZERO;
        for case in &suite.cases {
            total += case.duration;
            let mut status = match case.outcome {
                JunitResult::Success => TestCaseStatus::success(),
                JunitResult::Failure => TestCaseStatus::non_success(NonSuccessKind::Failure),
                JunitResult::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                JunitResult::Skipped => TestCaseStatus::skipped(),
            };
            if let Some(message) = &case.message {
                status.set_message(message.as_str());
            }
            if case.outcome != JunitResult::Success && !case.detail.is_empty() {
                status.set_description(case.detail.as_str());
            }
            let mut test_case = TestCase::new(case.name.as_str(), status);
            test_case.set_classname(suite.name.as_str());
            test_case.set_time(case.duration);
            junit_suite.add_test_case(test_case);
        }
        junit_suite.set_time(total);
        report.add_test_suite(junit_suite);
    }
    report.to_string().map_err(|e| Error::Usage(format!("could not render JUnit XML: {e}")))
}

/// Renders suites as one TAP 14 stream: one subtest per suite, one test point per case,
/// failures with their detail as `#` diagnostics.
pub fn tap_stream(suites: &[Suite]) -> String {
    let mut out = String::from("TAP version 14\n");
    for (suite_idx, suite) in suites.iter().enumerate() {
        out.push_str(&format!("# Subtest: {}\n", escape(&suite.name)));
        let mut suite_ok = true;
        for (idx, case) in suite.cases.iter().enumerate() {
            let ok = matches!(case.outcome, JunitResult::Success | JunitResult::Skipped);
            suite_ok &= ok;
            let directive = match (case.outcome, &case.message) {
                (JunitResult::Skipped, Some(m)) => format!(" # SKIP {}", escape(m)),
                (JunitResult::Skipped, None) => " # SKIP".to_owned(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "    {}ok {} - {}{directive}\n",
                if ok { "" } else { "not " },
                idx + 1,
                escape(&case.name)
            ));
            if !ok {
                out.push_str("      ---\n");
                out.push_str(&format!("      duration_ms: {}\n", case.duration.as_millis()));
                if let Some(message) = &case.message {
                    out.push_str(&format!(
                        "      message: {}\n",
                        serde_json::Value::String(message.clone())
                    ));
                }
                if !case.detail.is_empty() {
                    out.push_str("      detail: |-\n");
                    for line in case.detail.lines() {
                        out.push_str(&format!("        {line}\n"));
                    }
                }
                out.push_str("      ...\n");
            }
        }
        out.push_str(&format!("    1..{}\n", suite.cases.len()));
        out.push_str(&format!(
            "{}ok {} - {}\n",
            if suite_ok { "" } else { "not " },
            suite_idx + 1,
            escape(&suite.name)
        ));
    }
    out.push_str(&format!("1..{}\n", suites.len()));
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('#', "\\#").replace('\n', " ")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then
/// renamed over `path`, so readers see the old file or the whole new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io("could not create directory", &dir, e))?;
    let name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("could not write", path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites() -> Vec<Suite> {
        vec![Suite {
            name: "regress".into(),
            cases: vec![
                Case {
                    name: "one".into(),
                    outcome: JunitResult::Success,
                    duration: Duration::from_millis(12),
                    message: None,
                    detail: String::new(),
                },
                Case {
                    name: "three # x".into(),
                    outcome: JunitResult::Failure,
                    duration: Duration::from_millis(40),
                    message: Some("output differs".into()),
                    detail: "-     4\n+     3".into(),
                },
            ],
        }]
    }

    #[test]
    fn junit_marks_failures_with_message_and_diff() {
        let xml = junit_xml("pgfarm regress", &suites()).unwrap();
        assert!(
            xml.contains(
                "<testsuite name=\"regress\" tests=\"2\" skipped=\"0\" errors=\"0\" failures=\"1\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"output differs\">-     4\n+     3</failure>"),
            "{xml}"
        );
    }

    #[test]
    fn tap_stream_escapes_hashes_and_nests_cases() {
        let tap = tap_stream(&suites());
        assert_eq!(
            tap,
            "TAP version 14\n# Subtest: regress\n    ok 1 - one\n    not ok 2 - three \\# x\n      ---\n      duration_ms: 40\n      message: \"output differs\"\n      detail: |-\n        -     4\n        +     3\n      ...\n    1..2\nnot ok 1 - regress\n1..1\n"
        );
    }

    fn sample(name: &str) -> pgfarm_model::Bundle {
        let path = format!("{}/../../testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
        pgfarm_model::Bundle::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_runs_suite_takes_its_outcomes_from_the_verdict_and_its_details_from_the_raw_outputs() {
        let bundle = sample("regress-fail.pgfarm.json");
        let suite = run_suite("pg16", RunParts::of(&bundle), Cases::StagesAndTests);
        let case = |name: &str| suite.cases.iter().find(|c| c.name == name).unwrap();
        assert_eq!(case("regress").outcome, JunitResult::Failure);
        assert_eq!(case("tap").outcome, JunitResult::Skipped);
        let three = case("regress/three");
        assert_eq!(three.outcome, JunitResult::Failure);
        assert_eq!(three.message.as_deref(), Some("output differs from expected/three.out"));
        assert!(three.detail.contains("--- expected/three.out") && three.detail.contains("+"));
        let tap = sample("tap-fail.pgfarm.json");
        let suite = run_suite("tap", RunParts::of(&tap), Cases::TestsOnly);
        let case = |name: &str| suite.cases.iter().find(|c| c.name.contains(name)).unwrap();
        // Its only `not ok` is a TODO: a success, as on the run page and the server.
        assert_eq!(case("08-special-chars").outcome, JunitResult::Success);
        assert_eq!(case("01-basic").outcome, JunitResult::Failure);
        assert!(case("01-basic").message.as_deref().unwrap().starts_with("failed tests: "));
        let died = case("09-died-midway");
        assert_eq!(died.outcome, JunitResult::Error);
        assert!(died.message.as_deref().unwrap().contains("exited with 3"), "{died:?}");
    }

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.xml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
