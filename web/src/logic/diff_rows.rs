//! A failed regression test's diff as rows to draw: the expected variant to compare with
//! (pg_regress's rule, via `pgfarm-diff`), then unified rows and side-by-side rows with
//! 1-based line numbers and the changed part of paired lines.

use std::ops::Range;

use pgfarm_diff::{LineKind, Options, RowKind, closest_expected, diff_lines};
use pgfarm_model::RegressTest;

/// Lines of context around each change, as pg_regress's `diff -U3`.
pub const CONTEXT_LINES: usize = 3;

/// Which expected file a test's output is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenExpected {
    /// Index in `RegressTest::expected`.
    pub index: usize,
    /// Its file name (`three_1.out`).
    pub file_name: String,
    /// The runner's `chosen_expected`, when it named a different file than the browser chose
    /// (shown as a note: the verdicts were computed by different code).
    pub runner_chose: Option<String>,
}

/// Picks the expected variant the browser diffs against: pg_regress's rule (the first exact
/// match, else the fewest plain-`diff` lines, earlier wins ties) computed by
/// [`pgfarm_diff::closest_expected`]; `None` when the test has no expected file.
pub fn choose_expected(test: &RegressTest) -> Option<ChosenExpected> {
    let actual = test.actual.to_string_lossy();
    let contents: Vec<_> = test.expected.iter().map(|e| e.content.to_string_lossy()).collect();
    let choice = closest_expected(&actual, contents.iter().map(|c| &**c), &Options::default())?;
    let file_name = test.expected.get(choice.index)?.file_name.clone();
    let runner_chose = test.chosen_expected.clone().filter(|runner| *runner != file_name);
    Some(ChosenExpected { index: choice.index, file_name, runner_chose })
}

/// What a unified row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnifiedKind {
    /// `@@ -a,b +c,d @@`.
    HunkHeader,
    /// A line on both sides.
    Context,
    /// Only in the expected file (`-`).
    Removed,
    /// Only in the actual output (`+`).
    Added,
}

impl UnifiedKind {
    /// CSS class of the row: `diff-hunk`, `diff-ctx`, `diff-del`, `diff-add`.
    pub fn class(self) -> &'static str {
        match self {
            UnifiedKind::HunkHeader => "diff-hunk",
            UnifiedKind::Context => "diff-ctx",
            UnifiedKind::Removed => "diff-del",
            UnifiedKind::Added => "diff-add",
        }
    }

    /// The prefix GNU diff prints (`' '`, `-`, `+`; `@` for a hunk header).
    pub fn marker(self) -> char {
        match self {
            UnifiedKind::HunkHeader => '@',
            UnifiedKind::Context => ' ',
            UnifiedKind::Removed => '-',
            UnifiedKind::Added => '+',
        }
    }
}

/// One row of the unified view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedRow {
    /// What the row is.
    pub kind: UnifiedKind,
    /// 1-based line in the expected file (context and removed lines).
    pub expected_line: Option<usize>,
    /// 1-based line in the actual output (context and added lines).
    pub actual_line: Option<usize>,
    /// The line's text (the hunk header for [`UnifiedKind::HunkHeader`]).
    pub text: String,
    /// A last line without `\n` (`\ No newline at end of file`).
    pub missing_newline: bool,
}

/// What a side-by-side row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SideKind {
    /// `@@ ... @@` separating hunks (both cells empty).
    HunkHeader,
    /// The same line on both sides.
    Equal,
    /// An expected line replaced by an actual line.
    Changed,
    /// Only on the left (expected).
    Removed,
    /// Only on the right (actual).
    Added,
}

/// One side of a side-by-side row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideCell {
    /// 1-based line number.
    pub line: usize,
    /// The line's text.
    pub text: String,
    /// Byte range of `text` that differs from the other side (paired lines only).
    pub changed: Range<usize>,
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRow {
    /// What the row is.
    pub kind: SideKind,
    /// The expected line.
    pub left: Option<SideCell>,
    /// The actual line.
    pub right: Option<SideCell>,
    /// The hunk header text for [`SideKind::HunkHeader`], else empty.
    pub header: String,
}

/// A test's diff, ready to draw in either view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRows {
    /// The expected file compared with, `None` when the test had none (then every actual line
    /// is added).
    pub expected: Option<ChosenExpected>,
    /// Unified rows: hunk headers, context, removed and added lines.
    pub unified: Vec<UnifiedRow>,
    /// Side-by-side rows: hunk headers, equal, changed, removed and added rows.
    pub side_by_side: Vec<SideRow>,
    /// Lines only in the expected file.
    pub n_removed: usize,
    /// Lines only in the actual output.
    pub n_added: usize,
}

impl DiffRows {
    /// True when the output equals the chosen expected file (nothing to show).
    pub fn is_empty(&self) -> bool {
        self.n_added == 0 && self.n_removed == 0
    }

    /// Diffs a regression test's actual output against its closest expected variant.
    pub fn for_test(test: &RegressTest) -> DiffRows {
        let expected = choose_expected(test);
        let expected_text = expected
            .as_ref()
            .map(|chosen| test.expected[chosen.index].content.to_string_lossy())
            .unwrap_or_default();
        let actual_text = test.actual.to_string_lossy();
        let mut rows = DiffRows::between(&expected_text, &actual_text);
        rows.expected = expected;
        rows
    }

    /// Diffs two texts (pg_regress's byte-exact rule) into rows with [`CONTEXT_LINES`].
    pub fn between(expected: &str, actual: &str) -> DiffRows {
        let diff = diff_lines(expected, actual, &Options::default());
        let mut rows = DiffRows {
            expected: None,
            unified: Vec::new(),
            side_by_side: Vec::new(),
            n_removed: diff.n_removed_lines(),
            n_added: diff.n_added_lines(),
        };
        for hunk in diff.hunks(CONTEXT_LINES) {
            let header = hunk_header(&hunk.expected, &hunk.actual);
            rows.unified.push(UnifiedRow {
                kind: UnifiedKind::HunkHeader,
                expected_line: None,
                actual_line: None,
                text: header.clone(),
                missing_newline: false,
            });
            for line in diff.hunk_lines(&hunk) {
                rows.unified.push(UnifiedRow {
                    kind: match line.kind {
                        LineKind::Context => UnifiedKind::Context,
                        LineKind::Removed => UnifiedKind::Removed,
                        LineKind::Added => UnifiedKind::Added,
                    },
                    expected_line: line.expected_line.map(|n| n + 1),
                    actual_line: line.actual_line.map(|n| n + 1),
                    text: line.text().into_owned(),
                    missing_newline: line.missing_newline,
                });
            }
            rows.side_by_side.push(SideRow {
                kind: SideKind::HunkHeader,
                left: None,
                right: None,
                header,
            });
            for row in diff.side_by_side_hunk(&hunk) {
                let cell = |cell: Option<pgfarm_diff::Cell<'_>>| {
                    cell.map(|c| SideCell {
                        line: c.line + 1,
                        text: c.text.into_owned(),
                        changed: c.changed,
                    })
                };
                rows.side_by_side.push(SideRow {
                    kind: match row.kind {
                        RowKind::Equal => SideKind::Equal,
                        RowKind::Changed => SideKind::Changed,
                        RowKind::Removed => SideKind::Removed,
                        RowKind::Added => SideKind::Added,
                    },
                    left: cell(row.left),
                    right: cell(row.right),
                    header: String::new(),
                });
            }
        }
        rows
    }
}

/// `@@ -a,b +c,d @@` as GNU diff writes it (an empty range names the line before it; a
/// one-line range omits `,1`).
fn hunk_header(expected: &Range<usize>, actual: &Range<usize>) -> String {
    fn range(r: &Range<usize>) -> String {
        match r.len() {
            0 => format!("{},0", r.start),
            1 => format!("{}", r.start + 1),
            n => format!("{},{}", r.start + 1, n),
        }
    }
    format!("@@ -{} +{} @@", range(expected), range(actual))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgfarm_diff::Labels;
    use pgfarm_model::Bundle;

    fn corpus() -> std::path::PathBuf {
        let path =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"));
        assert!(path.is_dir(), "the shared corpus is missing: expected it at {}", path.display());
        path
    }

    fn bundle(name: &str) -> Bundle {
        let path = format!("{}/../testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Bundle::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The unified rows printed back as text, for comparing with pgfarm-diff's own renderer.
    fn unified_text(rows: &DiffRows) -> String {
        let mut out = String::new();
        for row in &rows.unified {
            match row.kind {
                UnifiedKind::HunkHeader => out.push_str(&row.text),
                kind => {
                    out.push(kind.marker());
                    out.push_str(&row.text);
                }
            }
            out.push('\n');
            if row.missing_newline {
                out.push_str("\\ No newline at end of file\n");
            }
        }
        out
    }

    #[test]
    fn failed_regress_test_is_diffed_against_its_closest_variant() {
        let bundle = bundle("regress-fail.pgfarm.json");
        let three = bundle.regress.iter().find(|t| t.name == "three").expect("test three");
        let rows = DiffRows::for_test(three);
        let chosen = rows.expected.as_ref().expect("an expected file");
        // Both variants differ by the same amount; pg_regress reports the first (three.out).
        assert_eq!(chosen.file_name, "three.out");
        assert_eq!(chosen.runner_chose, None, "browser and runner agree");
        assert!(!rows.is_empty());
        assert_eq!(rows.unified[0].kind, UnifiedKind::HunkHeader);
        assert!(rows.unified.iter().any(|r| r.kind == UnifiedKind::Added));
        assert!(rows.unified.iter().any(|r| r.kind == UnifiedKind::Removed));

        // The rows say exactly what `diff -U3` says.
        let expected = three.expected[0].content.to_string_lossy();
        let actual = three.actual.to_string_lossy();
        let reference = diff_lines(&expected, &actual, &Options::default());
        let mut text = String::new();
        reference.write_unified_hunks(&mut text, CONTEXT_LINES).unwrap();
        assert_eq!(unified_text(&rows), text);
        let _ = Labels { expected: "", actual: "" };
    }

    #[test]
    fn passing_tests_have_no_rows() {
        let bundle = bundle("regress-fail.pgfarm.json");
        let one = bundle.regress.iter().find(|t| t.name == "one").expect("test one");
        let rows = DiffRows::for_test(one);
        assert!(rows.is_empty());
        assert!(rows.unified.is_empty() && rows.side_by_side.is_empty());
    }

    #[test]
    fn line_numbers_follow_both_files_through_every_hunk() {
        // Two real expected variants of pgTAP's own suite: a realistic multi-hunk diff.
        let dir = corpus().join("regress/pgtap-1.2.0/test/expected");
        let mut checked = 0;
        for (a, b) in [
            ("runtests.out", "runtests_1.out"),
            ("runjusttests.out", "runjusttests_1.out"),
            ("inheritance.out", "inheritance_1.out"),
        ] {
            let (Ok(left), Ok(right)) =
                (std::fs::read_to_string(dir.join(a)), std::fs::read_to_string(dir.join(b)))
            else {
                continue;
            };
            let left_lines: Vec<&str> = left.lines().collect();
            let right_lines: Vec<&str> = right.lines().collect();
            let rows = DiffRows::between(&left, &right);
            assert!(!rows.is_empty(), "{a} and {b} differ");
            for row in &rows.unified {
                if let Some(n) = row.expected_line {
                    assert_eq!(left_lines[n - 1], row.text, "{a}:{n}");
                }
                if let Some(n) = row.actual_line {
                    assert_eq!(right_lines[n - 1], row.text, "{b}:{n}");
                }
            }
            for row in &rows.side_by_side {
                if let Some(cell) = &row.left {
                    assert_eq!(left_lines[cell.line - 1], cell.text, "{a}:{}", cell.line);
                }
                if let Some(cell) = &row.right {
                    assert_eq!(right_lines[cell.line - 1], cell.text, "{b}:{}", cell.line);
                }
            }
            // The same lines appear in both views: removed lines on the left, added on the right.
            let removed_unified =
                rows.unified.iter().filter(|r| r.kind == UnifiedKind::Removed).count();
            let left_changed = rows
                .side_by_side
                .iter()
                .filter(|r| matches!(r.kind, SideKind::Removed | SideKind::Changed))
                .count();
            assert_eq!(removed_unified, left_changed);
            assert_eq!(removed_unified, rows.n_removed);
            let added_unified =
                rows.unified.iter().filter(|r| r.kind == UnifiedKind::Added).count();
            let right_changed = rows
                .side_by_side
                .iter()
                .filter(|r| matches!(r.kind, SideKind::Added | SideKind::Changed))
                .count();
            assert_eq!(added_unified, right_changed);
            checked += 1;
        }
        assert!(checked >= 2, "the pgTAP variants are missing from the corpus");
    }

    #[test]
    fn side_by_side_pairs_replaced_lines_and_marks_the_changed_part() {
        let rows = DiffRows::between("a\nselect 1;\n count \nc\n", "a\nselect 2;\nc\nd\n");
        let kinds: Vec<SideKind> = rows.side_by_side.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                SideKind::HunkHeader,
                SideKind::Equal,
                SideKind::Changed,
                SideKind::Removed,
                SideKind::Equal,
                SideKind::Added
            ]
        );
        let changed = &rows.side_by_side[2];
        let (left, right) = (changed.left.as_ref().unwrap(), changed.right.as_ref().unwrap());
        assert_eq!((left.line, right.line), (2, 2));
        assert_eq!(&left.text[left.changed.clone()], "1");
        assert_eq!(&right.text[right.changed.clone()], "2");
        let added = rows.side_by_side[5].right.as_ref().unwrap();
        assert_eq!((added.line, rows.side_by_side[5].left.is_none()), (4, true));
        assert_eq!(rows.side_by_side[0].header, "@@ -1,4 +1,4 @@");
    }

    #[test]
    fn a_test_without_expected_file_shows_all_output_as_added() {
        let mut test = bundle("regress-fail.pgfarm.json").regress[0].clone();
        test.expected.clear();
        test.chosen_expected = None;
        let rows = DiffRows::for_test(&test);
        assert_eq!(rows.expected, None);
        assert_eq!(rows.n_added, test.actual.to_string_lossy().lines().count());
        assert_eq!(rows.n_removed, 0);
    }

    #[test]
    fn a_ten_thousand_line_diff_has_a_row_per_line() {
        let expected: String = (0..10_000).map(|i| format!("row {i}\n")).collect();
        let actual: String = (0..10_000).map(|i| format!("row {}\n", i * 3 % 10_007)).collect();
        let rows = DiffRows::between(&expected, &actual);
        assert!(rows.unified.len() >= 10_000, "{}", rows.unified.len());
    }
}
