//! TAP::Harness's verdict on one script: its TAP parsed in pgTAP mode, the failed ids, the
//! plan errors and the passing TODO tests, from the stream and psql's exit code.

use std::time::Duration;

use pgfarm_tap_parser::{Options as TapOptions, Parser, Summary, summarize};

use super::run::CpuTimes;

/// One finished script.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The name shown.
    pub name: String,
    /// psql's standard output: the TAP stream.
    pub stdout: String,
    /// psql's standard error.
    pub stderr: String,
    /// psql's exit code; `None` when killed (timeout, signal, cancel).
    pub exit_code: Option<i32>,
    /// True when killed after the timeout.
    pub timed_out: bool,
    /// Wall time.
    pub duration: Duration,
    /// The parsed TAP verdict and counts.
    pub summary: Summary,
    /// Prove's verdict: all planned tests ran and passed, psql exited with 0.
    pub passed: bool,
    /// Ids of failed tests, including ones outside the plan (as TAP::Harness counts them).
    pub failed_ids: Vec<u64>,
    /// TAP::Harness's parse errors ("Bad plan.  You planned 5 tests but ran 3.", "No plan found in TAP output").
    pub parse_errors: Vec<String>,
    /// Top-level TODO tests that passed (prove's `TODO passed:` line).
    pub todo_passed: Vec<u64>,
    /// CPU time used while the script ran (prove's `--timer` figures).
    pub cpu: CpuTimes,
}

/// Parses a script's TAP and applies TAP::Harness's rules.
pub fn judge(
    name: String,
    stdout: String,
    stderr: String,
    exit_code: Option<i32>,
    timed_out: bool,
    duration: Duration,
) -> FileResult {
    let summary = summarize(Parser::with_options(&stdout, TapOptions::pgtap()));
    let mut failed_ids: Vec<u64> = summary.failures.iter().map(|f| f.id).collect();
    let mut parse_errors = Vec::new();
    match &summary.plan {
        None => parse_errors.push("No plan found in TAP output".to_owned()),
        Some(plan) if !plan.skip_all => {
            let planned = plan.end.saturating_sub(plan.start) + 1;
            if summary.count != planned {
                parse_errors.push(format!(
                    "Bad plan.  You planned {planned} tests but ran {}.",
                    summary.count
                ));
            }
            // Test points past the plan count as failed (prove's "Failed tests: 3-4").
            for id in (plan.end + 1)..=summary.count.max(plan.end) {
                if id > plan.end && !failed_ids.contains(&id) {
                    failed_ids.push(id);
                }
            }
        }
        Some(_) => {}
    }
    failed_ids.sort_unstable();
    let mut todo_passed = Vec::new();
    let mut depth = 0usize;
    for event in Parser::with_options(&stdout, TapOptions::pgtap()) {
        match event {
            pgfarm_tap_parser::Event::SubtestStart(_) => depth += 1,
            pgfarm_tap_parser::Event::SubtestEnd(_) => depth = depth.saturating_sub(1),
            pgfarm_tap_parser::Event::TestPoint(point)
                if depth == 0
                    && point.ok
                    && point
                        .directive
                        .as_ref()
                        .is_some_and(|d| d.kind == pgfarm_tap_parser::DirectiveKind::Todo) =>
            {
                todo_passed.push(point.number);
            }
            _ => {}
        }
    }
    let passed = exit_code == Some(0)
        && !timed_out
        && summary.bailout.is_none()
        && failed_ids.is_empty()
        && parse_errors.is_empty()
        && summary.fail == 0;
    FileResult {
        name,
        stdout,
        stderr,
        exit_code,
        timed_out,
        duration,
        summary,
        passed,
        failed_ids,
        parse_errors,
        todo_passed,
        cpu: CpuTimes::default(),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const PGTAP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/tap/pgtap");

    pub(in crate::prove) fn corpus_result(stem: &str) -> FileResult {
        let read = |ext: &str| {
            std::fs::read_to_string(format!("{PGTAP}/tap/{stem}.{ext}")).expect("corpus missing")
        };
        let code: i32 = read("exitcode").trim().parse().unwrap();
        judge(
            format!("sql/{stem}.sql"),
            read("tap"),
            read("stderr"),
            Some(code),
            false,
            Duration::ZERO,
        )
    }

    /// pg_prove's verdict per file, from pg_prove-summary.txt: a file passed when its block
    /// ends with a line that is exactly `ok` (03 and 08); every other ending is a failure.
    #[test]
    fn verdicts_match_pg_prove_on_the_corpus() {
        let summary = std::fs::read_to_string(format!("{PGTAP}/pg_prove-summary.txt")).unwrap();
        let report_start = summary.find("Test Summary Report").unwrap();
        let mut expected = Vec::new();
        let mut current: Option<String> = None;
        for line in summary[..report_start].lines() {
            if let Some(name) = line.strip_prefix("sql/").and_then(|l| l.split(".sql ").next())
                && line.contains(".sql ..")
            {
                current = Some(name.to_owned());
                continue;
            }
            let verdict_line =
                line == "ok" || line.starts_with("Failed ") || line.starts_with("All ");
            if verdict_line && let Some(name) = current.take() {
                expected.push((name, line == "ok"));
            }
        }
        assert_eq!(expected.len(), 11, "{expected:?}");
        for (stem, passed) in expected {
            assert_eq!(corpus_result(&stem).passed, passed, "{stem}");
        }
    }
}
