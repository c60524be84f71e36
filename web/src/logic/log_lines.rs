//! Stage and server logs split into numbered lines, each classed as an error (ERROR, FATAL,
//! PANIC, compiler `error:`, `make: ***`), a warning, or plain text, for highlighting.

use std::ops::Range;

/// How a log line is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineLevel {
    /// Ordinary output.
    Plain,
    /// `WARNING:` from PostgreSQL or `warning:` from a compiler.
    Warning,
    /// `ERROR:`, `FATAL:`, `PANIC:` from PostgreSQL, `error:` from a compiler, `make: ***`.
    Error,
}

impl LineLevel {
    /// The CSS class of a line at this level (`log-error`, `log-warning`, or empty).
    pub fn class(self) -> &'static str {
        match self {
            LineLevel::Plain => "",
            LineLevel::Warning => "log-warning",
            LineLevel::Error => "log-error",
        }
    }
}

/// One line of a log: its 1-based number, its byte range in the log (without the line ending)
/// and its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// 1-based line number.
    pub number: usize,
    /// Byte range of the line's text in the log, without `\n` or `\r\n`.
    pub range: Range<usize>,
    /// How to show it.
    pub level: LineLevel,
}

/// A log split into lines, with the counts a summary shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogLines {
    /// Every line in order.
    pub lines: Vec<LogLine>,
    /// How many lines are errors.
    pub n_errors: usize,
    /// How many lines are warnings.
    pub n_warnings: usize,
}

impl LogLines {
    /// Splits `log` on `\n` (a trailing newline does not make an empty last line) and classes
    /// each line.
    pub fn split(log: &str) -> LogLines {
        let mut out = LogLines::default();
        let mut start = 0;
        let bytes = log.as_bytes();
        while start < bytes.len() {
            let end = memchr_newline(&bytes[start..]).map_or(bytes.len(), |i| start + i);
            let mut text_end = end;
            if text_end > start && bytes[text_end - 1] == b'\r' {
                text_end -= 1;
            }
            let level = classify(&log[start..text_end]);
            match level {
                LineLevel::Error => out.n_errors += 1,
                LineLevel::Warning => out.n_warnings += 1,
                LineLevel::Plain => {}
            }
            out.lines.push(LogLine { number: out.lines.len() + 1, range: start..text_end, level });
            start = end + 1;
        }
        out
    }

    /// The first error line, to jump to.
    pub fn first_error(&self) -> Option<&LogLine> {
        self.lines.iter().find(|line| line.level == LineLevel::Error)
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Severity words PostgreSQL prints before a colon (`ERROR:  relation ... does not exist`).
const ERROR_WORDS: [&str; 3] = ["ERROR:", "FATAL:", "PANIC:"];

/// The level of one log line.
///
/// Errors: PostgreSQL's `ERROR:`, `FATAL:`, `PANIC:` anywhere in the line (psql prefixes them
/// with `psql:file:line: `, the server log with a timestamp), a compiler's `error:` or
/// `fatal error:` (`x.c:3:1: error: ...`), and make's `make: *** ... Error 2`. Warnings:
/// `WARNING:` and a compiler's `warning:`. Words must start the line or follow a blank or a
/// colon, so `MY_ERROR:` or `terror:` are plain text.
pub fn classify(line: &str) -> LineLevel {
    if ERROR_WORDS.iter().any(|word| has_word(line, word))
        || has_word(line, "error:")
        || (line.contains("make") && line.contains("*** "))
    {
        return LineLevel::Error;
    }
    if has_word(line, "WARNING:") || has_word(line, "warning:") {
        return LineLevel::Warning;
    }
    LineLevel::Plain
}

/// `word` occurs in `line` at the start or after a blank or colon.
fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word)
        .any(|(at, _)| at == 0 || matches!(line.as_bytes()[at - 1], b' ' | b'\t' | b':' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgfarm_model::{Bundle, StageKind};

    fn bundle(name: &str) -> Bundle {
        let path = format!("{}/../testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Bundle::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn postgres_severities_and_compiler_errors_are_errors() {
        assert_eq!(
            classify("psql:sql/x.sql:3: ERROR:  relation \"t\" does not exist"),
            LineLevel::Error
        );
        assert_eq!(
            classify("2026-11-22 07:00:00 UTC [42] FATAL:  terminating connection"),
            LineLevel::Error
        );
        assert_eq!(classify("PANIC:  could not write to file"), LineLevel::Error);
        assert_eq!(classify("uint.c:12:5: error: expected ';' before 'return'"), LineLevel::Error);
        assert_eq!(classify("make: *** [<builtin>: uint.o] Error 1"), LineLevel::Error);
        assert_eq!(classify("WARNING:  there is no transaction in progress"), LineLevel::Warning);
        assert_eq!(classify("uint.c:3:1: warning: unused variable"), LineLevel::Warning);
        assert_eq!(classify("CREATE EXTENSION"), LineLevel::Plain);
        assert_eq!(classify("MY_ERROR: a column name"), LineLevel::Plain);
        assert_eq!(classify("terror: not a word"), LineLevel::Plain);
    }

    #[test]
    fn split_numbers_lines_without_their_endings() {
        let log = "one\r\ntwo ERROR:  x\n\nfour";
        let lines = LogLines::split(log);
        let texts: Vec<&str> = lines.lines.iter().map(|l| &log[l.range.clone()]).collect();
        assert_eq!(texts, ["one", "two ERROR:  x", "", "four"]);
        assert_eq!(lines.lines[3].number, 4);
        assert_eq!((lines.n_errors, lines.first_error().map(|l| l.number)), (1, Some(2)));
        assert!(LogLines::split("").lines.is_empty());
        assert_eq!(LogLines::split("a\n").lines.len(), 1);
    }

    #[test]
    fn the_failed_tap_runs_stderr_shows_its_error_lines() {
        let bundle = bundle("tap-fail.pgfarm.json");
        let died =
            bundle.tap.iter().find(|file| file.path.contains("died-midway")).expect("09 file");
        let stderr = died.stderr.to_string_lossy();
        let lines = LogLines::split(&stderr);
        assert!(lines.n_errors >= 1, "no error line in {stderr:?}");
        let first = lines.first_error().expect("an error line");
        assert!(stderr[first.range.clone()].contains("ERROR:"));
    }

    #[test]
    fn every_stage_log_of_the_sample_bundles_splits_into_all_its_lines() {
        for name in [
            "pass.pgfarm.json",
            "regress-fail.pgfarm.json",
            "tap-fail.pgfarm.json",
            "hostile.pgfarm.json",
        ] {
            let bundle = bundle(name);
            for stage in &bundle.stages {
                let log = stage.log.to_string_lossy();
                let lines = LogLines::split(&log);
                assert_eq!(lines.lines.len(), log.lines().count(), "{name} {:?}", stage.kind);
            }
            let _ = bundle.stage(StageKind::Build);
        }
    }
}
