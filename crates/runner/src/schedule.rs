//! pg_regress schedule files: `test:` lines (one test, or a parallel group) and `ignore:` lines.
//!
//! pg_regress reads a schedule line by line while it runs, so a syntax error on line 5 is only
//! reported after lines 1-4 ran. [`Schedule::parse`] keeps that behaviour: it never fails, and a
//! bad line becomes an [`Entry::Invalid`] that the runner turns into a bail-out when it gets there.

use crate::error::Error;

/// Which pg_regress a schedule is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL 15 and older: `ignore: NAME` lines are accepted.
    Classic,
    /// PostgreSQL 16 and newer: only `test:` lines; `ignore:` is a syntax error.
    Tap,
}

/// The most tests one `test:` line may hold (pg_regress's `MAX_PARALLEL_TESTS`).
pub const MAX_PARALLEL_TESTS: usize = 100;

/// One meaningful line of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `test: a b c`: one test (run alone) or a parallel group.
    Group {
        /// 1-based line number.
        line: usize,
        /// The line, trailing whitespace removed (used in error messages).
        text: String,
        /// Test names in the order written.
        tests: Vec<String>,
    },
    /// `ignore: name` (classic dialect): a later failure of `name` is reported as
    /// `failed (ignored)` and does not fail the run.
    Ignore {
        /// The rest of the line after `ignore:` and its leading whitespace.
        name: String,
    },
    /// A line pg_regress rejects; running stops here with exit status 2.
    Invalid {
        /// The error to report (a syntax error or too many parallel tests).
        error: InvalidLine,
    },
}

/// Why a schedule line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLine {
    /// 1-based line number.
    pub line: usize,
    /// The line, trailing whitespace removed.
    pub text: String,
    /// True when the line holds more than [`MAX_PARALLEL_TESTS`] tests; false for a syntax error.
    pub too_many: bool,
}

impl InvalidLine {
    /// The error pg_regress prints for this line of schedule `file`.
    pub fn to_error(&self, file: &str) -> Error {
        if self.too_many {
            Error::TooManyParallelTests {
                max: MAX_PARALLEL_TESTS,
                file: file.to_owned(),
                line: self.line,
                text: self.text.clone(),
            }
        } else {
            Error::ScheduleSyntax {
                file: file.to_owned(),
                line: self.line,
                text: self.text.clone(),
            }
        }
    }
}

/// A parsed schedule file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    /// Entries in file order; comments and blank lines are dropped.
    pub entries: Vec<Entry>,
}

impl Schedule {
    /// Parses a schedule the way pg_regress's `run_schedule` does: trailing whitespace is
    /// stripped, blank lines and lines starting with `#` are skipped, `test: ` (with the
    /// space) starts a group whose names are separated by whitespace.
    pub fn parse(text: &str, dialect: Dialect) -> Schedule {
        let mut entries = Vec::new();
        for (idx, raw) in text.split_inclusive('\n').enumerate() {
            let line_num = idx + 1;
            let line = raw.trim_end_matches(|c: char| c.is_ascii_whitespace());
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("test: ") {
                let tests: Vec<String> = rest.split_ascii_whitespace().map(str::to_owned).collect();
                if tests.is_empty() || tests.len() > MAX_PARALLEL_TESTS {
                    let too_many = !tests.is_empty();
                    entries.push(Entry::Invalid {
                        error: InvalidLine { line: line_num, text: line.to_owned(), too_many },
                    });
                    continue;
                }
                entries.push(Entry::Group { line: line_num, text: line.to_owned(), tests });
            } else if let (Dialect::Classic, Some(rest)) = (dialect, line.strip_prefix("ignore: "))
            {
                let name = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
                entries.push(Entry::Ignore { name: name.to_owned() });
            } else {
                entries.push(Entry::Invalid {
                    error: InvalidLine { line: line_num, text: line.to_owned(), too_many: false },
                });
            }
        }
        Schedule { entries }
    }

    /// All test names of the schedule's groups, in order (up to the first invalid line).
    pub fn tests(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for entry in &self.entries {
            match entry {
                Entry::Group { tests, .. } => out.extend(tests.iter().map(String::as_str)),
                Entry::Ignore { .. } => {}
                Entry::Invalid { .. } => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(text: &str, dialect: Dialect) -> Vec<Vec<String>> {
        Schedule::parse(text, dialect)
            .entries
            .into_iter()
            .filter_map(|e| match e {
                Entry::Group { tests, .. } => Some(tests),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn test_lines_become_groups_and_comments_are_skipped() {
        let got = groups("# c\n\ntest: one\ntest: two   three\t\n", Dialect::Tap);
        assert_eq!(got, vec![vec!["one".to_owned()], vec!["two".to_owned(), "three".to_owned()]]);
    }

    #[test]
    fn ignore_is_accepted_by_classic_and_kept_in_order() {
        let schedule = Schedule::parse("test: one\nignore:   three\n", Dialect::Classic);
        assert_eq!(schedule.entries[1], Entry::Ignore { name: "three".into() });
    }

    #[test]
    fn ignore_is_a_syntax_error_from_pg16_on() {
        let schedule = Schedule::parse("ignore: three\ntest: one\n", Dialect::Tap);
        let Entry::Invalid { error } = &schedule.entries[0] else { panic!("{schedule:?}") };
        assert_eq!(
            error.to_error("schedule_ign").to_string(),
            "syntax error in schedule file \"schedule_ign\" line 1: ignore: three"
        );
    }

    #[test]
    fn test_without_space_or_names_is_invalid() {
        for text in ["test:one\n", "test: \n", "tests: a\n", " test: a\n"] {
            let schedule = Schedule::parse(text, Dialect::Classic);
            assert!(matches!(schedule.entries[0], Entry::Invalid { .. }), "{text:?}");
        }
    }

    #[test]
    fn more_than_one_hundred_tests_on_a_line_is_rejected() {
        let names: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
        let schedule = Schedule::parse(&format!("test: {}\n", names.join(" ")), Dialect::Tap);
        let Entry::Invalid { error } = &schedule.entries[0] else { panic!() };
        assert!(error.too_many);
    }

    #[test]
    fn corpus_schedules_parse() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/regress");
        let core = std::fs::read_to_string(format!("{corpus}/postgres-15-core/parallel_schedule"))
            .expect("corpus missing: clone shared/ beside the repository");
        let schedule = Schedule::parse(&core, Dialect::Classic);
        assert!(schedule.entries.iter().all(|e| !matches!(e, Entry::Invalid { .. })));
        assert!(schedule.entries.contains(&Entry::Ignore { name: "random".into() }));
        assert!(schedule.tests().len() > 200);
        assert_eq!(schedule.tests()[0], "test_setup");
        let pgtap =
            std::fs::read_to_string(format!("{corpus}/pgtap-1.2.0/test/build/parallel.sch"))
                .unwrap();
        assert!(!Schedule::parse(&pgtap, Dialect::Tap).tests().is_empty());
    }
}
