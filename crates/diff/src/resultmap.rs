//! pg_regress's `resultmap` file: platform-specific substitutes for expected files.
//!
//! Each line reads `test:filetype:platformpattern=substitutefile`, for example
//! `float4:out:.*-.*-cygwin.*=float4-misrounded-input.out`. The pattern is matched against the
//! host triple (config.guess output) like `expr(1)` with an implicit `^` and no implicit `$`;
//! only `.` (any character) and `.*` (any run) are special, as in `string_matches_pattern` of
//! `pg_regress.c`. When several lines apply, the last one wins.

use crate::error::Error;

/// One line of a resultmap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultmapEntry {
    /// The test name (`float4`).
    pub test: String,
    /// The file type, i.e. the output file's extension (`out`).
    pub file_type: String,
    /// The host platform pattern (`.*-.*-cygwin.*`).
    pub platform_pattern: String,
    /// The substitute file name, relative to the expected directory.
    pub expected_file: String,
    /// The 1-based line number in the resultmap text.
    pub line: usize,
}

/// A parsed resultmap; see the module docs for the format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resultmap {
    entries: Vec<ResultmapEntry>,
}

/// This machine as the config.guess-style triple pg_regress matches resultmap patterns
/// against (`x86_64-pc-linux-gnu`): the one place it is computed, for `pgfarm regress`, `pgfarm
/// test` and `pgfarm diff`. Build-time constants only (no I/O).
///
/// ```
/// let platform = pgfarm_diff::host_platform();
/// assert!(platform.starts_with(std::env::consts::ARCH));
/// ```
pub fn host_platform() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-pc-linux-gnu"),
        "macos" => format!("{arch}-apple-darwin"),
        "windows" => format!("{arch}-w64-mingw32"),
        "freebsd" => format!("{arch}-unknown-freebsd"),
        os => format!("{arch}-unknown-{os}"),
    }
}

impl Resultmap {
    /// Parses a resultmap. Trailing white space of each line is ignored. A line without the
    /// two `:` and the `=` is an error, as it makes pg_regress stop ("incorrectly formatted
    /// resultmap entry"); that includes blank lines other than a final newline.
    pub fn parse(text: &str) -> Result<Resultmap, Error> {
        let mut entries = Vec::new();
        for (line_idx, raw_line) in text.lines().enumerate() {
            let line = raw_line.trim_end_matches(|ch: char| ch.is_ascii_whitespace());
            let malformed =
                || Error::MalformedResultmapLine { line: line_idx + 1, text: line.to_owned() };
            let (test, rest) = line.split_once(':').ok_or_else(malformed)?;
            let (file_type, rest) = rest.split_once(':').ok_or_else(malformed)?;
            let (platform_pattern, expected_file) = rest.split_once('=').ok_or_else(malformed)?;
            entries.push(ResultmapEntry {
                test: test.to_owned(),
                file_type: file_type.to_owned(),
                platform_pattern: platform_pattern.to_owned(),
                expected_file: expected_file.to_owned(),
                line: line_idx + 1,
            });
        }
        Ok(Resultmap { entries })
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[ResultmapEntry] {
        &self.entries
    }

    /// The substitute expected file for `test`'s output of type `file_type` (`out`) on
    /// `platform`, if any line applies; the last applicable line wins.
    pub fn expected_file(&self, test: &str, file_type: &str, platform: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|entry| {
                entry.test == test
                    && entry.file_type == file_type
                    && platform_matches(platform, &entry.platform_pattern)
            })
            .map(|entry| entry.expected_file.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternItem {
    /// `.*`: any run of characters.
    AnyRun,
    /// `.`: any one character.
    AnyOne,
    /// Any other byte, literally.
    Byte(u8),
}

/// Whether `platform` matches a resultmap `pattern` the way pg_regress's
/// `string_matches_pattern` decides it: anchored at the start, not at the end, `.` is any
/// byte and `.*` any run.
///
/// ```
/// use pgfarm_diff::platform_matches;
/// assert!(platform_matches("x86_64-pc-cygwin", ".*-.*-cygwin.*"));
/// assert!(platform_matches("hppa1.1-hp-hpux10.20", "hppa.*-hp-hpux10.*"));
/// assert!(platform_matches("x86_64-pc-linux-gnu", "x86_64")); // no implicit `$`
/// assert!(!platform_matches("x86_64-pc-linux-gnu", ".*-.*-mingw.*"));
/// ```
pub fn platform_matches(platform: &str, pattern: &str) -> bool {
    let pattern = pattern.as_bytes();
    let mut items = Vec::with_capacity(pattern.len() + 1);
    let mut idx = 0;
    while idx < pattern.len() {
        if pattern[idx] == b'.' && pattern.get(idx + 1) == Some(&b'*') {
            items.push(PatternItem::AnyRun);
            idx += 2;
        } else if pattern[idx] == b'.' {
            items.push(PatternItem::AnyOne);
            idx += 1;
        } else {
            items.push(PatternItem::Byte(pattern[idx]));
            idx += 1;
        }
    }
    // No implicit `$`: a match of the whole pattern against a prefix suffices.
    items.push(PatternItem::AnyRun);
    glob_match(platform.as_bytes(), &items)
}

/// Iterative wildcard matching with one backtrack point (linear memory, no recursion, so a
/// hostile pattern cannot exhaust the stack).
fn glob_match(text: &[u8], items: &[PatternItem]) -> bool {
    let (mut text_idx, mut item_idx) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while text_idx < text.len() {
        match items.get(item_idx) {
            Some(PatternItem::AnyRun) => {
                backtrack = Some((item_idx, text_idx));
                item_idx += 1;
                continue;
            }
            Some(PatternItem::AnyOne) => {
                text_idx += 1;
                item_idx += 1;
                continue;
            }
            Some(PatternItem::Byte(byte)) if *byte == text[text_idx] => {
                text_idx += 1;
                item_idx += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((run_item, run_text)) => {
                item_idx = run_item + 1;
                text_idx = run_text + 1;
                backtrack = Some((run_item, run_text + 1));
            }
            None => return false,
        }
    }
    items[item_idx..].iter().all(|item| *item == PatternItem::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_resultmap_parses_and_applies_per_platform() {
        let text = "float4:out:.*-.*-cygwin.*=float4-misrounded-input.out\n\
                    float4:out:.*-.*-mingw.*=float4-misrounded-input.out\n\
                    float4:out:hppa.*-hp-hpux10.*=float4-misrounded-input.out\n";
        let resultmap = Resultmap::parse(text).unwrap();
        assert_eq!(resultmap.entries().len(), 3);
        assert_eq!(resultmap.entries()[2].platform_pattern, "hppa.*-hp-hpux10.*");
        assert_eq!(
            resultmap.expected_file("float4", "out", "x86_64-w64-mingw32"),
            Some("float4-misrounded-input.out")
        );
        assert_eq!(resultmap.expected_file("float4", "out", "x86_64-pc-linux-gnu"), None);
        assert_eq!(resultmap.expected_file("float8", "out", "x86_64-w64-mingw32"), None);
        assert_eq!(resultmap.expected_file("float4", "source", "x86_64-w64-mingw32"), None);
    }

    #[test]
    fn the_last_applicable_line_wins() {
        let resultmap = Resultmap::parse("t:out:x86.*=first.out\nt:out:.*=second.out\n").unwrap();
        assert_eq!(resultmap.expected_file("t", "out", "x86_64"), Some("second.out"));
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let err = Resultmap::parse("t:out:x=y.out\n\nt:out\n").unwrap_err();
        assert_eq!(err, Error::MalformedResultmapLine { line: 2, text: String::new() });
        let err = Resultmap::parse("t:out:x=y.out\nt:out:nothing\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "resultmap line 2: incorrectly formatted entry \"t:out:nothing\" (expected test:filetype:platformpattern=file)"
        );
    }

    #[test]
    fn patterns_follow_pg_regress() {
        assert!(platform_matches("abc", ""));
        assert!(platform_matches("abc", "a.c"));
        assert!(platform_matches("abc", "a.*"));
        assert!(platform_matches("abc", ".*.*c"));
        assert!(!platform_matches("abc", "b"));
        assert!(!platform_matches("ab", "abc"));
        assert!(platform_matches("ab", "ab.*"));
        assert!(!platform_matches("ab", "ab."));
        assert!(platform_matches("a*b", "a*b"));
        assert!(!platform_matches("aab", "a*b"));
        assert!(platform_matches("xaxbxc", ".*b.*c"));
    }
}
