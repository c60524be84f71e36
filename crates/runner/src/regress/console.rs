//! pg_regress's console, `regression.out` and summary formats, byte for byte: the classic
//! format of PostgreSQL 15 and older and the TAP format of PostgreSQL 16 and newer.
//!
//! [`Console`] mirrors pg_regress's output functions (`status`/`header` in 15, `note`/`diag`/
//! `bail`/`test_status_print` in 16+): each call sends text to a [`ConsoleSink`] (what pg_regress
//! writes to stdout or stderr) and appends the same text to the log that becomes
//! `regression.out`. The runner decides *what* to print; this module decides *how it looks*.

/// Which pg_regress's output to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// PostgreSQL 15 and older: `test one ... ok 21 ms`, `=====` summary box.
    Classic,
    /// PostgreSQL 16 and newer: TAP (`ok 1 - one 14 ms`, `1..N`, `# All N tests passed.`).
    #[default]
    Tap,
}

/// Where pg_regress would have written a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Receives console text as pg_regress would write it (chunks, not always whole lines).
pub trait ConsoleSink {
    /// Called with each chunk in order.
    fn write(&mut self, stream: Stream, text: &str);
}

impl<F: FnMut(Stream, &str)> ConsoleSink for F {
    fn write(&mut self, stream: Stream, text: &str) {
        self(stream, text)
    }
}

/// The width pg_regress 16+ pads test names to (`TESTNAME_WIDTH`).
const TESTNAME_WIDTH: usize = 36;

/// Formats pg_regress output, keeping the `regression.out` log and the pass/fail counters.
pub struct Console<'s> {
    style: Style,
    sink: &'s mut dyn ConsoleSink,
    log: String,
    in_note: bool,
    /// Tests that passed.
    pub success_count: usize,
    /// Tests that failed (not counting ignored failures).
    pub fail_count: usize,
    /// Failures of tests named in an `ignore:` line (classic only).
    pub fail_ignore_count: usize,
}

/// How a finished test is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Output matched an expected file (and, in the TAP style, psql exited with 0).
    Ok,
    /// Output differed, psql failed (TAP style), or the test timed out.
    Failed,
    /// Output differed but the test is on the ignore list (classic style only).
    FailedIgnored,
}

/// How the test process ended, when it did not exit with 0.
#[derive(Debug, Clone, PartialEq)]
pub enum ChildFailure {
    /// Exited with this non-zero code.
    Exit(i32),
    /// Killed by this signal (number and name as `strsignal` gives it).
    Signal(i32, String),
    /// Cancelled by pgfarm after the per-test timeout (no pg_regress equivalent).
    Timeout(f64),
}

impl<'s> Console<'s> {
    /// A console writing to `sink` in `style`.
    pub fn new(style: Style, sink: &'s mut dyn ConsoleSink) -> Console<'s> {
        Console {
            style,
            sink,
            log: String::new(),
            in_note: false,
            success_count: 0,
            fail_count: 0,
            fail_ignore_count: 0,
        }
    }

    /// The style in use.
    pub fn style(&self) -> Style {
        self.style
    }

    /// The text that goes into `regression.out` so far.
    pub fn log(&self) -> &str {
        &self.log
    }

    fn out(&mut self, stream: Stream, text: &str, to_log: bool) {
        self.sink.write(stream, text);
        if to_log {
            self.log.push_str(text);
        }
    }

    // ---- classic (PostgreSQL <= 15) primitives ----

    /// pg_regress 15 `status()`: stdout and the log.
    fn status(&mut self, text: &str) {
        self.out(Stream::Stdout, text, true);
    }

    /// pg_regress 15 `header()`: a `====` banner on stdout only.
    pub fn header(&mut self, text: &str) {
        if self.style == Style::Classic {
            let line = format!("============== {text:<38} ==============\n");
            self.out(Stream::Stdout, &line, false);
        }
    }

    /// Plain stdout text that is not logged (classic only: psql's echo of setup commands).
    pub fn classic_stdout(&mut self, text: &str) {
        if self.style == Style::Classic {
            self.out(Stream::Stdout, text, false);
        }
    }

    // ---- TAP (PostgreSQL >= 16) primitives, as emit_tap_output ----

    fn tap(&mut self, kind: TapKind, text: &str) {
        let stream = match kind {
            TapKind::Diag | TapKind::Bail => Stream::Stderr,
            _ => Stream::Stdout,
        };
        let hash = matches!(kind, TapKind::Note | TapKind::Diag | TapKind::Bail)
            || (kind == TapKind::NoteDetail && !self.in_note);
        if hash {
            self.out(stream, "# ", true);
        }
        self.out(stream, text, true);
        if kind == TapKind::NoteDetail {
            self.in_note = true;
        }
        if kind == TapKind::Bail {
            self.out(Stream::Stdout, "Bail out!", true);
        }
        if kind != TapKind::NoteDetail {
            self.out(stream, "\n", true);
        }
    }

    fn note_end(&mut self) {
        self.in_note = false;
        self.out(Stream::Stdout, "\n", true);
    }

    // ---- what the runner calls ----

    /// The connection line printed before anything runs (existing server).
    pub fn using_postmaster(&mut self, host: Option<&str>, port: Option<&str>) {
        let target = match (host, port) {
            (Some(h), Some(p)) => format!("using postmaster on {h}, port {p}"),
            (Some(h), None) => format!("using postmaster on {h}, default port"),
            (None, Some(p)) => format!("using postmaster on Unix socket, port {p}"),
            (None, None) => "using postmaster on Unix socket, default port".to_owned(),
        };
        match self.style {
            Style::Classic => self.out(Stream::Stdout, &format!("({target})\n"), false),
            Style::Tap => self.tap(TapKind::Note, &target),
        }
    }

    /// A note line (`# text` in TAP; a plain stdout line in classic).
    pub fn note(&mut self, text: &str) {
        match self.style {
            Style::Classic => self.out(Stream::Stdout, &format!("{text}\n"), false),
            Style::Tap => self.tap(TapKind::Note, text),
        }
    }

    /// A diagnostic on stderr (`# text` in TAP; plain in classic).
    pub fn diag(&mut self, text: &str) {
        match self.style {
            Style::Classic => self.out(Stream::Stderr, &format!("{text}\n"), false),
            Style::Tap => self.tap(TapKind::Diag, text),
        }
    }

    /// Stops the run: TAP prints `# msg` on stderr and `Bail out!` on stdout; classic prints
    /// `pg_regress: msg` on stderr. The caller exits with status 2.
    pub fn bail(&mut self, text: &str) {
        match self.style {
            Style::Classic => self.out(Stream::Stderr, &format!("{text}\n"), false),
            Style::Tap => self.tap(TapKind::Bail, text),
        }
    }

    /// Announces a test run alone (classic prints `test name ... ` before it runs).
    pub fn start_single(&mut self, name: &str) {
        if self.style == Style::Classic {
            self.status(&format!("test {name:<28} ... "));
        }
    }

    /// Announces a parallel group; `in_groups_of` when `--max-connections` splits it.
    pub fn start_group(&mut self, n_tests: usize, in_groups_of: Option<usize>) {
        let text = match in_groups_of {
            Some(k) => format!("parallel group ({n_tests} tests, in groups of {k}): "),
            None => format!("parallel group ({n_tests} tests): "),
        };
        match self.style {
            Style::Classic => self.status(&text),
            Style::Tap => self.tap(TapKind::NoteDetail, &text),
        }
    }

    /// A test of the current group finished (names are listed in order of completion).
    pub fn group_member_done(&mut self, name: &str) {
        match self.style {
            Style::Classic => self.status(&format!(" {name}")),
            Style::Tap => self.tap(TapKind::NoteDetail, &format!(" {name}")),
        }
    }

    /// Ends the parallel group line.
    pub fn end_group(&mut self) {
        match self.style {
            Style::Classic => self.status("\n"),
            Style::Tap => self.note_end(),
        }
    }

    /// Reports one finished test. `parallel` is true for members of a group of 2 or more.
    pub fn test_result(
        &mut self,
        name: &str,
        verdict: Verdict,
        child: Option<&ChildFailure>,
        millis: f64,
        parallel: bool,
    ) {
        match verdict {
            Verdict::Ok => self.success_count += 1,
            Verdict::Failed => self.fail_count += 1,
            Verdict::FailedIgnored => self.fail_ignore_count += 1,
        }
        match self.style {
            Style::Classic => {
                if parallel {
                    self.status(&format!("     {name:<28} ... "));
                }
                self.status(match verdict {
                    Verdict::Ok => "ok    ",
                    Verdict::Failed => "FAILED",
                    Verdict::FailedIgnored => "failed (ignored)",
                });
                if let Some(child) = child {
                    let text = match child {
                        ChildFailure::Exit(code) => {
                            format!(" (test process exited with exit code {code})")
                        }
                        ChildFailure::Signal(sig, name) => {
                            format!(" (test process was terminated by signal {sig}: {name})")
                        }
                        ChildFailure::Timeout(secs) => format!(" (test timed out after {secs} s)"),
                    };
                    self.status(&text);
                }
                self.status(&format!(" {} ms\n", fmt_ms(millis)));
            }
            Style::Tap => {
                let number = self.success_count + self.fail_count + self.fail_ignore_count;
                let ok = verdict == Verdict::Ok;
                let line = format!(
                    "{}ok {:<5}{:pad$} {} {:<width$} {} ms",
                    if ok { "" } else { "not " },
                    number,
                    "",
                    if parallel { '+' } else { '-' },
                    name,
                    fmt_ms(millis),
                    pad = if ok { 4 } else { 0 },
                    width = TESTNAME_WIDTH,
                );
                self.tap(TapKind::TestStatus, &line);
                if let Some(child) = child {
                    let text = match child {
                        ChildFailure::Exit(code) => {
                            format!("(test process exited with exit code {code})")
                        }
                        ChildFailure::Signal(sig, name) => {
                            format!("(test process was terminated by signal {sig}: {name})")
                        }
                        ChildFailure::Timeout(secs) => format!("(test timed out after {secs} s)"),
                    };
                    self.tap(TapKind::Diag, &text);
                }
            }
        }
    }

    /// The end-of-run summary. `diffs_file`/`log_file` are shown when `has_diffs` (the diffs
    /// file is non-empty), exactly as pg_regress words it.
    pub fn summary(&mut self, has_diffs: bool, diffs_file: &str, log_file: &str) {
        let (ok, failed, ignored) = (self.success_count, self.fail_count, self.fail_ignore_count);
        match self.style {
            Style::Classic => {
                let text = if failed == 0 && ignored == 0 {
                    format!(" All {ok} tests passed. ")
                } else if failed == 0 {
                    format!(
                        " {ok} of {} tests passed, {ignored} failed test(s) ignored. ",
                        ok + ignored
                    )
                } else if ignored == 0 {
                    format!(" {failed} of {} tests failed. ", ok + failed)
                } else {
                    format!(
                        " {} of {} tests failed, {ignored} of these failures ignored. ",
                        failed + ignored,
                        ok + failed + ignored
                    )
                };
                let rule = "=".repeat(text.len());
                let mut out = format!("\n{rule}\n{text}\n{rule}\n\n");
                if has_diffs {
                    out.push_str(&format!(
                        "The differences that caused some tests to fail can be viewed in the\n\
                         file \"{diffs_file}\".  A copy of the test summary that you see\n\
                         above is saved in the file \"{log_file}\".\n\n"
                    ));
                }
                self.out(Stream::Stdout, &out, false);
            }
            Style::Tap => {
                self.tap(TapKind::Plan, &format!("1..{}", ok + failed));
                if failed == 0 {
                    self.tap(TapKind::Note, &format!("All {ok} tests passed."));
                } else {
                    self.tap(TapKind::Diag, &format!("{failed} of {} tests failed.", ok + failed));
                }
                if has_diffs {
                    self.tap(
                        TapKind::Diag,
                        &format!(
                            "The differences that caused some tests to fail can be viewed in the file \"{diffs_file}\"."
                        ),
                    );
                    self.tap(
                        TapKind::Diag,
                        &format!("A copy of the test summary that you see above is saved in the file \"{log_file}\"."),
                    );
                }
            }
        }
    }

    /// The exit status pg_regress uses after a completed run: 1 if a test failed, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.fail_count != 0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TapKind {
    Note,
    NoteDetail,
    Diag,
    Bail,
    TestStatus,
    Plan,
}

/// `%8.0f`: milliseconds rounded to an integer, right-aligned in 8 columns.
fn fmt_ms(millis: f64) -> String {
    format!("{:>8}", format!("{:.0}", millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/regress/format-samples");

    fn sample(dir: &str, file: &str) -> String {
        std::fs::read_to_string(format!("{SAMPLES}/{dir}/{file}")).unwrap_or_else(|e| {
            panic!("corpus file {dir}/{file} missing ({e}): clone shared/ beside the repository")
        })
    }

    #[derive(Default)]
    struct Captured {
        stdout: String,
        stderr: String,
    }

    impl ConsoleSink for Captured {
        fn write(&mut self, stream: Stream, text: &str) {
            match stream {
                Stream::Stdout => self.stdout.push_str(text),
                Stream::Stderr => self.stderr.push_str(text),
            }
        }
    }

    const SOCK: &str = "/tmp/regressresearch/path/to/sock";

    fn classic_setup(console: &mut Console<'_>, db: &str) {
        console.using_postmaster(Some(SOCK), Some("5499"));
        console.header(&format!("dropping database \"{db}\""));
        console.classic_stdout("SET\nDROP DATABASE\n");
        console.header(&format!("creating database \"{db}\""));
        console.classic_stdout("CREATE DATABASE\n");
        for _ in 0..6 {
            console.classic_stdout("ALTER DATABASE\n");
        }
        console.header("running regression test queries");
    }

    #[test]
    fn classic_failure_run_matches_pg15_byte_for_byte() {
        let mut cap = Captured::default();
        let mut console = Console::new(Style::Classic, &mut cap);
        classic_setup(&mut console, "tiny_15");
        console.start_single("one");
        console.test_result("one", Verdict::Ok, None, 64.0, false);
        console.start_group(2, None);
        console.group_member_done("two");
        console.group_member_done("three");
        console.end_group();
        console.test_result("two", Verdict::Ok, None, 16.0, true);
        console.test_result("three", Verdict::Failed, None, 40.0, true);
        console.start_single("one");
        console.test_result("one", Verdict::Ok, None, 40.0, false);
        let out = "/tmp/regressresearch/tiny/out15";
        console.summary(true, &format!("{out}/regression.diffs"), &format!("{out}/regression.out"));
        let log = console.log().to_owned();
        assert_eq!(console.exit_code(), 1);
        assert_eq!(cap.stdout, sample("pg15", "stdout.txt"));
        assert_eq!(cap.stderr, "");
        assert_eq!(log, sample("pg15", "regression.out"));
    }

    #[test]
    fn classic_ignored_failure_matches_pg15_and_exits_zero() {
        let mut cap = Captured::default();
        let mut console = Console::new(Style::Classic, &mut cap);
        classic_setup(&mut console, "tiny_15");
        console.start_single("one");
        console.test_result("one", Verdict::Ok, None, 18.0, false);
        console.start_group(2, None);
        console.group_member_done("two");
        console.group_member_done("three");
        console.end_group();
        console.test_result("two", Verdict::Ok, None, 26.0, true);
        console.test_result("three", Verdict::FailedIgnored, None, 17.0, true);
        let out = "/tmp/regressresearch/tiny/out15i";
        console.summary(true, &format!("{out}/regression.diffs"), &format!("{out}/regression.out"));
        assert_eq!(console.exit_code(), 0);
        assert_eq!(cap.stdout, sample("pg15-ignore", "stdout.txt"));
    }

    #[test]
    fn classic_psql_exit_code_is_shown_but_passes() {
        let mut cap = Captured::default();
        let mut console = Console::new(Style::Classic, &mut cap);
        classic_setup(&mut console, "tiny_e");
        console.start_single("err");
        console.test_result("err", Verdict::Ok, Some(&ChildFailure::Exit(3)), 18.0, false);
        console.summary(false, "", "");
        assert_eq!(cap.stdout, sample("pg15-psql-exit", "stdout.txt"));
    }

    #[test]
    fn tap_failure_run_matches_pg16_and_pg18_byte_for_byte() {
        for (dir, order, ms) in [
            ("pg16", ["three", "two"], [30.0, 264.0, 259.0, 32.0]),
            ("pg18", ["two", "three"], [18.0, 15.0, 25.0, 21.0]),
        ] {
            let mut cap = Captured::default();
            let mut console = Console::new(Style::Tap, &mut cap);
            console.using_postmaster(Some(SOCK), Some("5499"));
            console.test_result("one", Verdict::Ok, None, ms[0], false);
            console.start_group(2, None);
            console.group_member_done(order[0]);
            console.group_member_done(order[1]);
            console.end_group();
            console.test_result("two", Verdict::Ok, None, ms[1], true);
            console.test_result("three", Verdict::Failed, None, ms[2], true);
            console.test_result("one", Verdict::Ok, None, ms[3], false);
            let out = format!("/tmp/regressresearch/tiny/out{}", &dir[2..]);
            console.summary(
                true,
                &format!("{out}/regression.diffs"),
                &format!("{out}/regression.out"),
            );
            let log = console.log().to_owned();
            assert_eq!(cap.stdout, sample(dir, "stdout.txt"), "{dir} stdout");
            assert_eq!(cap.stderr, sample(dir, "stderr.txt"), "{dir} stderr");
            assert_eq!(log, sample(dir, "regression.out"), "{dir} regression.out");
        }
    }

    #[test]
    fn tap_psql_exit_code_fails_the_test() {
        let mut cap = Captured::default();
        let mut console = Console::new(Style::Tap, &mut cap);
        console.using_postmaster(Some(SOCK), Some("5499"));
        console.test_result("err", Verdict::Failed, Some(&ChildFailure::Exit(3)), 14.0, false);
        console.summary(false, "", "");
        assert_eq!(console.exit_code(), 1);
        assert_eq!(cap.stdout, sample("pg16-psql-exit", "stdout.txt"));
        assert_eq!(cap.stderr, sample("pg16-psql-exit", "stderr.txt"));
    }

    #[test]
    fn tap_bail_out_matches_pg16_schedule_error() {
        let mut cap = Captured::default();
        let mut console = Console::new(Style::Tap, &mut cap);
        console.using_postmaster(Some(SOCK), Some("5499"));
        console.bail("syntax error in schedule file \"schedule_ign\" line 1: ignore: three");
        assert_eq!(cap.stdout, sample("pg16-ignore", "stdout.txt"));
        assert_eq!(cap.stderr, sample("pg16-ignore", "stderr.txt"));
    }

    #[test]
    fn milliseconds_are_rounded_and_right_aligned() {
        assert_eq!(fmt_ms(64.4), "      64");
        assert_eq!(fmt_ms(12345.6), "   12346");
    }
}
