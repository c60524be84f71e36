//! prove's console text: the line per finished file (`name .. ok`, failure diagnostics,
//! `Failed 2/5 subtests`), the closing summary report and their helpers.

use std::fmt::Write as _;

use super::judge::FileResult;
use super::run::ProveReport;

/// How [`FileLine::render`] shows a finished file: prove's `-v` and `--timer`, and the
/// name column's width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileLine {
    /// The longest file name of the run: names are padded with dots to this width (+ 2).
    pub width: usize,
    /// `-v`: every TAP line is shown, not only the `#` diagnostics of failures.
    pub verbose: bool,
    /// `--timer`: the line starts with the wall-clock time and an `ok` carries the times.
    pub timer: bool,
}

impl FileLine {
    /// The lines prove prints for a finished file after its name and dots: the failure
    /// diagnostics (pgTAP `#` lines) and the verdict (`ok`, `Failed 2/5 subtests`, `Dubious, ...`).
    ///
    /// A passing file with nothing to show reads `name .. ok` on one line, as prove prints it;
    /// otherwise the diagnostics start on the next line. With [`timer`](FileLine::timer), the
    /// line starts with the wall-clock time (`[14:02:33] `, UTC) and an `ok` carries prove's time report
    /// (`ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)`).
    pub fn render(&self, result: &FileResult) -> String {
        let FileLine { width, verbose, timer } = *self;
        let mut out = String::new();
        let dots = ".".repeat(width.saturating_sub(result.name.chars().count()) + 2);
        if timer {
            let _ = write!(out, "{} ", clock_stamp());
        }
        let _ = write!(out, "{} {dots} ", result.name);
        let shown: Vec<&str> = result
            .stdout
            .lines()
            .filter(|line| !line.is_empty() && (verbose || line.starts_with('#')))
            .collect();
        let show_stderr = !result.stderr.is_empty() && !result.passed;
        if result.passed && shown.is_empty() {
            out.push_str("ok");
            if timer {
                let _ =
                    write!(out, " {:8} ms {}", result.duration.as_millis(), result.cpu.render());
            }
            out.push('\n');
            return out;
        }
        out.push('\n');
        if show_stderr {
            out.push_str(&result.stderr);
            if !result.stderr.ends_with('\n') {
                out.push('\n');
            }
        }
        for line in shown {
            out.push_str(line);
            out.push('\n');
        }
        if result.passed {
            out.push_str("ok");
            if timer {
                let _ =
                    write!(out, " {:8} ms {}", result.duration.as_millis(), result.cpu.render());
            }
            out.push('\n');
            return out;
        }
        if result.timed_out {
            out.push_str("Timed out (killed by pgfarm)\n");
        } else if let Some(code) = result.exit_code.filter(|c| *c != 0) {
            let wstat = code << 8;
            let _ = writeln!(out, "Dubious, test returned {code} (wstat {wstat}, 0x{wstat:x})");
        } else if result.exit_code.is_none() {
            out.push_str("Dubious, test was killed\n");
        }
        let planned = result
            .summary
            .plan
            .as_ref()
            .map(|p| p.end.saturating_sub(p.start) + 1)
            .unwrap_or(result.summary.count);
        let missing = planned.saturating_sub(result.summary.count);
        let failed_in_plan =
            result.failed_ids.iter().filter(|id| **id <= planned).count() as u64 + missing;
        if failed_in_plan > 0 {
            let _ = writeln!(out, "Failed {failed_in_plan}/{planned} subtests ");
        } else if planned > 0 {
            let _ = writeln!(out, "All {planned} subtests passed ");
        } else {
            out.push_str("No subtests run \n");
        }
        out
    }
}

/// `[HH:MM:SS]` now, in UTC (prove prints local time; pgfarm does not read the time zone).
pub fn clock_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("[{:02}:{:02}:{:02}]", now.hour(), now.minute(), now.second())
}

/// `2-3, 5, 8, 10-12, 14`.
pub fn id_ranges(ids: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut idx = 0;
    while idx < ids.len() {
        let start = ids[idx];
        let mut end = start;
        while idx + 1 < ids.len() && ids[idx + 1] == end + 1 {
            idx += 1;
            end = ids[idx];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        idx += 1;
    }
    parts.join(", ")
}

/// prove's closing report: `Test Summary Report` for failed files, `Files=.., Tests=..`, and
/// `Result: PASS` / `Result: FAIL` (or `All tests successful.` first when all passed).
///
/// With `timer`, prove's closing `[HH:MM:SS]` line comes first.
pub fn render_summary(report: &ProveReport, timer: bool) -> String {
    let mut out = String::new();
    if timer {
        out.push_str(&clock_stamp());
        out.push('\n');
    }
    let failed: Vec<&FileResult> = report.files.iter().filter(|f| !f.passed).collect();
    // TAP::Harness lists failed files and files with passing TODO tests.
    let listed: Vec<&FileResult> =
        report.files.iter().filter(|f| !f.passed || !f.todo_passed.is_empty()).collect();
    if failed.is_empty() && !report.files.is_empty() && !report.interrupted {
        out.push_str("All tests successful.\n");
    }
    if !failed.is_empty() {
        out.push_str("\nTest Summary Report\n-------------------\n");
        // TAP::Harness pads names to one less than the longest, then writes " (Wstat".
        let width = report.files.iter().map(|f| f.name.chars().count()).max().unwrap_or(1) - 1;
        for file in listed {
            let wstat = match file.exit_code {
                Some(0) => "0".to_owned(),
                Some(code) => format!("{} (exited {code})", code << 8),
                None => "9 (killed)".to_owned(),
            };
            let n_failed = file.failed_ids.len();
            let _ = writeln!(
                out,
                "{:<width$} (Wstat: {wstat} Tests: {} Failed: {n_failed})",
                file.name, file.summary.count
            );
            if n_failed > 0 {
                let label = if n_failed == 1 { "Failed test:" } else { "Failed tests:" };
                let _ = writeln!(out, "  {label}  {}", id_ranges(&file.failed_ids));
            }
            if !file.todo_passed.is_empty() {
                let _ = writeln!(out, "  TODO passed:   {}", id_ranges(&file.todo_passed));
            }
            if let Some(code) = file.exit_code.filter(|c| *c != 0) {
                let _ = writeln!(out, "  Non-zero exit status: {code}");
            }
            if file.timed_out {
                out.push_str("  Timed out\n");
            }
            for error in &file.parse_errors {
                let _ = writeln!(out, "  Parse errors: {error}");
            }
        }
    }
    if report.interrupted {
        out.push_str("Interrupted.\n");
    }
    let _ = writeln!(
        out,
        "Files={}, Tests={}, {:>2} wallclock secs {}",
        report.files.len(),
        report.n_tests(),
        report.duration.as_secs(),
        report.cpu.render()
    );
    out.push_str(if report.passed() { "Result: PASS\n" } else { "Result: FAIL\n" });
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::prove::judge::judge;
    use crate::prove::judge::tests::corpus_result;
    use crate::prove::run::CpuTimes;

    #[test]
    fn failed_ids_and_plan_errors_match_pg_prove() {
        assert_eq!(
            id_ranges(&corpus_result("01-basic-pass-fail").failed_ids),
            "2-3, 5, 8, 10-12, 14"
        );
        let r05 = corpus_result("05-plan-mismatch");
        assert_eq!(r05.parse_errors, ["Bad plan.  You planned 5 tests but ran 3."]);
        assert!(
            FileLine { width: 30, verbose: false, timer: false }
                .render(&r05)
                .ends_with("Failed 2/5 subtests \n")
        );
        let r09 = corpus_result("09-died-midway");
        assert!(
            FileLine { width: 30, verbose: false, timer: false }
                .render(&r09)
                .contains("Dubious, test returned 3 (wstat 768, 0x300)\nFailed 2/4 subtests \n")
        );
        let r10 = corpus_result("10-too-many");
        assert_eq!(id_ranges(&r10.failed_ids), "3-4");
        assert!(
            FileLine { width: 30, verbose: false, timer: false }
                .render(&r10)
                .ends_with("All 2 subtests passed \n")
        );
    }

    #[test]
    fn summary_report_names_failed_files_and_totals() {
        let files: Vec<FileResult> = ["01-basic-pass-fail", "03-skip-todo-diag", "09-died-midway"]
            .iter()
            .map(|s| corpus_result(s))
            .collect();
        let report = ProveReport {
            files,
            duration: Duration::from_secs(1),
            interrupted: false,
            cpu: CpuTimes::default(),
            ..ProveReport::default()
        };
        let text = render_summary(&report, false);
        assert!(text.contains("sql/01-basic-pass-fail.sql (Wstat: 0 Tests: 14 Failed: 8)\n  Failed tests:  2-3, 5, 8, 10-12, 14\n"), "{text}");
        assert!(text.contains("sql/09-died-midway.sql    (Wstat: 768 (exited 3) Tests: 2 Failed: 0)\n  Non-zero exit status: 3\n  Parse errors: Bad plan.  You planned 4 tests but ran 2.\n"), "{text}");
        assert!(
            text.ends_with("Files=3, Tests=25,  1 wallclock secs ( 0.00 usr  0.00 sys +  0.00 cusr  0.00 csys =  0.00 CPU)\nResult: FAIL\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "sql/03-skip-todo-diag.sql (Wstat: 0 Tests: 9 Failed: 0)\n  TODO passed:   6\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn file_line_is_padded_with_dots_like_prove() {
        let r = corpus_result("03-skip-todo-diag");
        let text = FileLine {
            width: "sql/11-psql-default-format.sql".len(),
            verbose: false,
            timer: false,
        }
        .render(&r);
        assert!(text.starts_with("sql/03-skip-todo-diag.sql ....... \n"), "{text}");
        assert!(text.ends_with("ok\n"));
    }

    #[test]
    fn a_clean_pass_reads_ok_on_the_name_line_and_timer_adds_prove_time_report() {
        let mut r = judge(
            "test/sql/cmpok.sql".into(),
            "1..2\nok 1 - a\nok 2 - b\n".into(),
            String::new(),
            Some(0),
            false,
            Duration::from_millis(80),
        );
        assert_eq!(
            FileLine { width: 18, verbose: false, timer: false }.render(&r),
            "test/sql/cmpok.sql .. ok\n"
        );
        r.cpu = CpuTimes { user: 0.0, system: 0.01, children_user: 0.02, children_system: 0.0 };
        let timed = FileLine { width: 18, verbose: false, timer: true }.render(&r);
        // pg_prove --timer: "[07:55:57] test/sql/cmpok.sql .. ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)"
        let (stamp, rest) = timed.split_at(11);
        assert!(
            stamp.starts_with('[') && stamp.ends_with("] ") && stamp.as_bytes()[3] == b':',
            "{timed}"
        );
        assert_eq!(
            rest,
            "test/sql/cmpok.sql .. ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)\n"
        );
        // Verbose output moves the verdict to its own line, as prove does.
        assert!(
            FileLine { width: 18, verbose: true, timer: false }
                .render(&r)
                .ends_with(" .. \n1..2\nok 1 - a\nok 2 - b\nok\n")
        );
    }

    #[test]
    fn timer_summary_starts_with_the_clock_line() {
        let report = ProveReport {
            files: vec![corpus_result("03-skip-todo-diag")],
            duration: Duration::from_secs(0),
            interrupted: false,
            cpu: CpuTimes::default(),
            ..ProveReport::default()
        };
        let text = render_summary(&report, true);
        let first = text.lines().next().unwrap();
        assert_eq!(first.len(), 10, "{text}");
        assert!(first.starts_with('[') && first.ends_with(']'), "{text}");
        assert_eq!(text.lines().nth(1), Some("All tests successful."));
    }
}
