//! How `regression.diffs` shows a failing test: pg_regress's `diff -U3`, or the options in
//! `PG_REGRESS_DIFF_OPTS` (which pg_regress hands to `diff` for that file, never for the
//! pass/fail comparison). Unified, context and normal formats with `-w` or
//! `--strip-trailing-cr` are rendered in-process by `pgfarm-diff`; other options run GNU
//! `diff` itself with them.

use std::path::Path;

use pgfarm_diff::{Labels, Options as DiffOptions, Whitespace};

use crate::process::Spawn;

/// The output format of one diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    /// `-U N`, `-u`, `--unified[=N]`.
    Unified(usize),
    /// `-C N`, `-c`, `--context[=N]`.
    Context(usize),
    /// No format option: `diff`'s normal format.
    Normal,
    /// Options pgfarm does not render: GNU `diff` runs with them.
    External(Vec<String>),
}

/// The diff options for `regression.diffs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffStyle {
    /// The option text as written in the file's `diff OPTS EXPECTED RESULT` line.
    pub(crate) text: String,
    pub(crate) format: Format,
    pub(crate) whitespace: Whitespace,
}

impl Default for DiffStyle {
    fn default() -> DiffStyle {
        DiffStyle { text: "-U3".into(), format: Format::Unified(3), whitespace: Whitespace::Exact }
    }
}

impl DiffStyle {
    /// pg_regress's choice: `PG_REGRESS_DIFF_OPTS` when set (even empty), else `-U3`.
    pub(crate) fn from_env() -> DiffStyle {
        match std::env::var("PG_REGRESS_DIFF_OPTS") {
            Ok(text) => DiffStyle::parse(&text),
            Err(_) => DiffStyle::default(),
        }
    }

    /// Reads diff options (split on white space, as the shell pg_regress uses splits them).
    pub(crate) fn parse(text: &str) -> DiffStyle {
        let words: Vec<&str> = text.split_whitespace().collect();
        let external = || DiffStyle {
            text: text.to_owned(),
            format: Format::External(words.iter().map(|w| (*w).to_owned()).collect()),
            whitespace: Whitespace::Exact,
        };
        let mut format = Format::Normal;
        let mut whitespace = Whitespace::Exact;
        let mut idx = 0;
        while idx < words.len() {
            let word = words[idx];
            let mut number = |rest: &str| -> Option<usize> {
                if rest.is_empty() {
                    idx += 1;
                    words.get(idx)?.parse().ok()
                } else {
                    rest.parse().ok()
                }
            };
            let parsed = match word {
                "-u" | "--unified" => Some(Format::Unified(3)),
                "-c" | "--context" => Some(Format::Context(3)),
                "-w" | "--ignore-all-space" => {
                    whitespace = Whitespace::IgnoreAll;
                    None
                }
                "--strip-trailing-cr" => {
                    whitespace = Whitespace::StripTrailingCr;
                    None
                }
                _ if word.starts_with("--unified=") => match word["--unified=".len()..].parse() {
                    Ok(n) => Some(Format::Unified(n)),
                    Err(_) => return external(),
                },
                _ if word.starts_with("--context=") => match word["--context=".len()..].parse() {
                    Ok(n) => Some(Format::Context(n)),
                    Err(_) => return external(),
                },
                _ if word.starts_with("-U") => match number(&word[2..]) {
                    Some(n) => Some(Format::Unified(n)),
                    None => return external(),
                },
                _ if word.starts_with("-C") => match number(&word[2..]) {
                    Some(n) => Some(Format::Context(n)),
                    None => return external(),
                },
                _ => return external(),
            };
            if let Some(parsed) = parsed {
                format = parsed;
            }
            idx += 1;
        }
        DiffStyle { text: text.to_owned(), format, whitespace }
    }

    /// The text appended to regression.diffs for one test: pg_regress's `diff OPTS EXPECTED
    /// RESULT` line, then the diff (`labels` carry GNU diff's `path\tmtime` header labels).
    pub(crate) fn render(
        &self,
        expected: (&Path, &str),
        actual: (&Path, &str),
        labels: &Labels<'_>,
    ) -> String {
        let mut text =
            format!("diff {} {} {}\n", self.text, expected.0.display(), actual.0.display());
        let options = DiffOptions::default().whitespace(self.whitespace);
        let diff = pgfarm_diff::diff_lines(expected.1, actual.1, &options);
        let _ = match &self.format {
            Format::Unified(n) => diff.write_unified(&mut text, labels, *n),
            Format::Context(n) => diff.write_context(&mut text, labels, *n),
            Format::Normal => diff.write_normal(&mut text),
            Format::External(words) => {
                let run = Spawn::new("diff").args(words).arg(expected.0).arg(actual.0).output();
                match run {
                    Ok((_, stdout, stderr)) => {
                        text.push_str(&stdout);
                        text.push_str(&stderr);
                    }
                    Err(err) => text.push_str(&format!("{err}\n")),
                }
                Ok(())
            }
        };
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_as_diff_reads_them() {
        assert_eq!(DiffStyle::parse("-U3"), DiffStyle::default());
        assert_eq!(DiffStyle::parse("-U 5").format, Format::Unified(5));
        assert_eq!(DiffStyle::parse("--unified=1").format, Format::Unified(1));
        assert_eq!(DiffStyle::parse("-u").format, Format::Unified(3));
        assert_eq!(DiffStyle::parse("-c").format, Format::Context(3));
        assert_eq!(DiffStyle::parse("-C1").format, Format::Context(1));
        assert_eq!(DiffStyle::parse("").format, Format::Normal);
        let w = DiffStyle::parse("-w -U3");
        assert_eq!((w.format, w.whitespace), (Format::Unified(3), Whitespace::IgnoreAll));
        assert_eq!(
            DiffStyle::parse("-y -W 80").format,
            Format::External(vec!["-y".into(), "-W".into(), "80".into()])
        );
    }

    /// Each in-process rendering equals GNU diff's output for the same options and files.
    #[test]
    fn rendered_diffs_equal_gnu_diff() {
        let dir = tempfile::tempdir().unwrap();
        let expected_path = dir.path().join("expected.out");
        let actual_path = dir.path().join("result.out");
        let expected: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let actual = expected
            .replace("line 4\n", "line four\n")
            .replace("line 20\n", "line  20\n")
            .replace("line 27\n", "");
        std::fs::write(&expected_path, &expected).unwrap();
        std::fs::write(&actual_path, &actual).unwrap();
        for opts in ["-U3", "-U1", "-c", "-C 2", "", "-w -U3", "-w", "-y -W 60"] {
            let style = DiffStyle::parse(opts);
            let labels = Labels { expected: "EXPECTED", actual: "ACTUAL" };
            let ours = style.render((&expected_path, &expected), (&actual_path, &actual), &labels);
            let mut args: Vec<&str> = opts.split_whitespace().collect();
            args.extend(["--label", "EXPECTED", "--label", "ACTUAL"]);
            let (_, gnu, _) = Spawn::new("diff")
                .args(args)
                .arg(&expected_path)
                .arg(&actual_path)
                .output()
                .unwrap();
            let header =
                format!("diff {opts} {} {}\n", expected_path.display(), actual_path.display());
            let body = ours.strip_prefix(&header).unwrap_or_else(|| panic!("{opts}: {ours}"));
            if matches!(style.format, Format::External(_)) {
                // Run by diff itself, without --label: only the header lines can differ.
                assert_eq!(body.lines().count(), gnu.lines().count(), "{opts}");
            } else {
                assert_eq!(body, gnu, "options {opts:?}");
            }
        }
    }
}
