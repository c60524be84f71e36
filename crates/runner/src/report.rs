//! Result files every command can write: JUnit XML (via `quick-junit`) and a TAP 14 summary,
//! built from a neutral list of [`Suite`]s, and the atomic file write they all use.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::error::{Error, Result};

/// The outcome of one test case in a result file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Passed,
    /// Failed (wrong output, failed assertion).
    Failed,
    /// Could not be judged (crash, timeout, psql error).
    Errored,
    /// Not run.
    Skipped,
}

/// One test case: a pg_regress test, a pgTAP file or a stage.
#[derive(Debug, Clone)]
pub struct Case {
    /// Test name.
    pub name: String,
    /// Outcome.
    pub outcome: Outcome,
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
    /// Suite name (`regress`, `tap`, `pg16/regress`).
    pub name: String,
    /// Cases in order.
    pub cases: Vec<Case>,
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
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Outcome::Errored => TestCaseStatus::non_success(NonSuccessKind::Error),
                Outcome::Skipped => TestCaseStatus::skipped(),
            };
            if let Some(message) = &case.message {
                status.set_message(message.as_str());
            }
            if case.outcome != Outcome::Passed && !case.detail.is_empty() {
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
            let ok = matches!(case.outcome, Outcome::Passed | Outcome::Skipped);
            suite_ok &= ok;
            let directive = match (case.outcome, &case.message) {
                (Outcome::Skipped, Some(m)) => format!(" # SKIP {}", escape(m)),
                (Outcome::Skipped, None) => " # SKIP".to_owned(),
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
                    outcome: Outcome::Passed,
                    duration: Duration::from_millis(12),
                    message: None,
                    detail: String::new(),
                },
                Case {
                    name: "three # x".into(),
                    outcome: Outcome::Failed,
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
