//! The [`Diff`] of two texts: computing it, and its changes, hunks and lines.

use std::borrow::Cow;
use std::ops::Range;

use imara_diff::Algorithm;

use crate::lines::{Line, Tokens, lines_equal, split_lines, tokenize, tokenize_by_hash};
use crate::options::Options;

/// The number of context lines pg_regress asks `diff` for (`-U3`).
pub const PG_REGRESS_CONTEXT: usize = 3;

/// Computes the line diff that turns `expected` into `actual` under `options`.
///
/// Lines are split at `\n`; a last line without `\n` is kept and remembered as such. The
/// algorithm is Myers' O(ND) diff in linear space with GNU diff's heuristics (through the
/// `imara-diff` crate) on interned line hashes, after stripping the common prefix and suffix,
/// and the changes are slid to the positions GNU diff prefers (as far down as possible, joined
/// where possible).
///
/// ```
/// use pgfarm_diff::{Options, diff_lines};
/// let diff = diff_lines("a\nb\nc\n", "a\nB\nc\n", &Options::default());
/// assert_eq!(diff.n_changed_lines(), 2);
/// assert_eq!(diff.changes()[0].expected, 1..2);
/// ```
pub fn diff_lines<'a>(expected: &'a str, actual: &'a str, options: &Options) -> Diff<'a> {
    diff_bytes(expected.as_bytes(), actual.as_bytes(), options)
}

/// Like [`diff_lines`] for input that may not be UTF-8 (lines are compared as bytes; renderers
/// replace invalid UTF-8 with U+FFFD).
pub fn diff_bytes<'a>(expected: &'a [u8], actual: &'a [u8], options: &Options) -> Diff<'a> {
    let expected_lines = split_lines(expected);
    let actual_lines = split_lines(actual);
    let changes = compute_changes(&expected_lines, &actual_lines, options);
    Diff { expected: expected_lines, actual: actual_lines, changes, options: *options }
}

/// The most lines one side may have; `imara-diff` indexes lines with `i32`. Inputs this large
/// (2 GiB of newlines) get a correct but non-minimal diff: everything removed, everything added.
const MAX_LINES: usize = i32::MAX as usize - 1;

fn compute_changes(expected: &[Line<'_>], actual: &[Line<'_>], options: &Options) -> Vec<Change> {
    if expected.len() >= MAX_LINES || actual.len() >= MAX_LINES {
        return vec![Change { expected: 0..expected.len(), actual: 0..actual.len() }];
    }
    let whitespace = options.whitespace_mode();
    // Equal leading and trailing lines never take part in a change; most test outputs are
    // equal or nearly so, and this skips hashing them.
    let prefix = expected
        .iter()
        .zip(actual)
        .take_while(|&(&left, &right)| lines_equal(left, right, whitespace))
        .count();
    let suffix = expected[prefix..]
        .iter()
        .rev()
        .zip(actual[prefix..].iter().rev())
        .take_while(|&(&left, &right)| lines_equal(left, right, whitespace))
        .count();
    let expected_middle = &expected[prefix..expected.len() - suffix];
    let actual_middle = &actual[prefix..actual.len() - suffix];
    if expected_middle.is_empty() && actual_middle.is_empty() {
        return Vec::new();
    }
    let mut changes =
        changes_of_tokens(&tokenize_by_hash(expected_middle, actual_middle, whitespace));
    if !aligned_lines_are_equal(expected_middle, actual_middle, &changes, options) {
        // Two different lines share a 64-bit hash: redo with byte comparisons.
        changes = changes_of_tokens(&tokenize(expected_middle, actual_middle, whitespace));
    }
    for change in &mut changes {
        change.expected = change.expected.start + prefix..change.expected.end + prefix;
        change.actual = change.actual.start + prefix..change.actual.end + prefix;
    }
    changes
}

fn changes_of_tokens(tokens: &Tokens) -> Vec<Change> {
    let mut diff = imara_diff::Diff::default();
    diff.compute_with(Algorithm::Myers, &tokens.expected, &tokens.actual, tokens.n_distinct);
    diff.postprocess_with(&tokens.expected, &tokens.actual, imara_diff::NoSliderHeuristic);
    diff.hunks()
        .map(|hunk| Change {
            expected: hunk.before.start as usize..hunk.before.end as usize,
            actual: hunk.after.start as usize..hunk.after.end as usize,
        })
        .collect()
}

/// Whether every pair of lines the changes leave aligned (the unchanged lines) is really equal.
/// Both texts are walked in order, so this costs little next to the diff itself.
fn aligned_lines_are_equal(
    expected: &[Line<'_>],
    actual: &[Line<'_>],
    changes: &[Change],
    options: &Options,
) -> bool {
    let whitespace = options.whitespace_mode();
    let mut expected_idx = 0;
    let mut actual_idx = 0;
    let gaps = changes
        .iter()
        .map(|change| (change.expected.start, change.expected.end, change.actual.end))
        .chain(std::iter::once((expected.len(), expected.len(), actual.len())));
    for (gap_end, next_expected, next_actual) in gaps {
        while expected_idx < gap_end {
            match (expected.get(expected_idx), actual.get(actual_idx)) {
                (Some(&left), Some(&right)) if lines_equal(left, right, whitespace) => {}
                _ => return false,
            }
            expected_idx += 1;
            actual_idx += 1;
        }
        expected_idx = next_expected;
        actual_idx = next_actual;
    }
    actual_idx == actual.len()
}

/// One change: the `expected` lines (0-based, half-open) are replaced by the `actual` lines.
/// Either range may be empty (a pure insertion or deletion), never both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// The removed lines of the expected text.
    pub expected: Range<usize>,
    /// The added lines of the actual text.
    pub actual: Range<usize>,
}

impl Change {
    /// What kind of change this is, as `diff`'s normal format letters it (`a`, `d`, `c`).
    pub fn kind(&self) -> ChangeKind {
        match (self.expected.is_empty(), self.actual.is_empty()) {
            (true, _) => ChangeKind::Add,
            (false, true) => ChangeKind::Delete,
            (false, false) => ChangeKind::Replace,
        }
    }
}

/// The kind of a [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Only lines added (`diff`'s `a`, context format `+`).
    Add,
    /// Only lines removed (`d`, context format `-`).
    Delete,
    /// Lines removed and others added in their place (`c`, context format `!`).
    Replace,
}

/// A unified or context diff hunk: one or more [`Change`]s with the context lines around them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hunk {
    /// The expected lines the hunk covers (0-based, half-open), context included.
    pub expected: Range<usize>,
    /// The actual lines the hunk covers (0-based, half-open), context included.
    pub actual: Range<usize>,
    /// The indexes into [`Diff::changes`] of the changes in this hunk.
    pub changes: Range<usize>,
}

/// Which side a printed line comes from and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    /// Equal on both sides; the text is the expected side's (as GNU diff prints it under `-w`).
    Context,
    /// Only in the expected text.
    Removed,
    /// Only in the actual text.
    Added,
}

/// One line of a [`Hunk`], as a unified diff lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HunkLine<'a> {
    /// Context, removed or added.
    pub kind: LineKind,
    /// The 0-based line number in the expected text (`None` for added lines).
    pub expected_line: Option<usize>,
    /// The 0-based line number in the actual text (`None` for removed lines).
    pub actual_line: Option<usize>,
    /// The line's bytes without its `\n`.
    pub bytes: &'a [u8],
    /// True for a last line that has no `\n` (shown as `\ No newline at end of file`).
    pub missing_newline: bool,
}

impl<'a> HunkLine<'a> {
    /// The line's text; invalid UTF-8 (only possible with [`diff_bytes`]) becomes U+FFFD.
    pub fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes)
    }
}

/// The difference between an expected and an actual text; see [`diff_lines`].
///
/// It keeps the lines of both texts (borrowed) and the list of [`Change`]s. Renderers:
/// [`write_unified`](Diff::write_unified), [`write_context`](Diff::write_context),
/// [`write_normal`](Diff::write_normal), [`side_by_side`](Diff::side_by_side).
#[derive(Debug, Clone)]
pub struct Diff<'a> {
    pub(crate) expected: Vec<Line<'a>>,
    pub(crate) actual: Vec<Line<'a>>,
    pub(crate) changes: Vec<Change>,
    pub(crate) options: Options,
}

impl<'a> Diff<'a> {
    /// True when the texts are equal under the options' white space rule (pg_regress: "ok").
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The options the diff was computed with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The changes, in order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Removed plus added lines.
    pub fn n_changed_lines(&self) -> usize {
        self.n_removed_lines() + self.n_added_lines()
    }

    /// Lines of the expected text that are not in the actual text.
    pub fn n_removed_lines(&self) -> usize {
        self.changes.iter().map(|change| change.expected.len()).sum()
    }

    /// Lines of the actual text that are not in the expected text.
    pub fn n_added_lines(&self) -> usize {
        self.changes.iter().map(|change| change.actual.len()).sum()
    }

    /// The number of lines in the expected text.
    pub fn n_expected_lines(&self) -> usize {
        self.expected.len()
    }

    /// The number of lines in the actual text.
    pub fn n_actual_lines(&self) -> usize {
        self.actual.len()
    }

    /// The size pg_regress compares to choose among `_N` variants: the number of lines that
    /// plain `diff` (normal format) prints for this diff, i.e. per change one command line,
    /// the removed and added lines, a `---` line when both exist, and a
    /// `\ No newline at end of file` line after a printed last line that lacks its newline.
    pub fn n_normal_diff_lines(&self) -> usize {
        self.changes
            .iter()
            .map(|change| {
                let separator = usize::from(change.kind() == ChangeKind::Replace);
                let no_newline_expected =
                    usize::from(self.is_unterminated_last(Side::Expected, &change.expected));
                let no_newline_actual =
                    usize::from(self.is_unterminated_last(Side::Actual, &change.actual));
                1 + change.expected.len()
                    + change.actual.len()
                    + separator
                    + no_newline_expected
                    + no_newline_actual
            })
            .sum()
    }

    /// Groups the changes into hunks with `context` lines of context, joining changes whose
    /// gap is at most `2 * context` lines, as GNU diff does.
    pub fn hunks(&self, context: usize) -> Vec<Hunk> {
        let mut hunks: Vec<Hunk> = Vec::new();
        for (change_idx, change) in self.changes.iter().enumerate() {
            if let Some(last) = hunks.last_mut() {
                let previous = &self.changes[last.changes.end - 1];
                let gap = change.expected.start - previous.expected.end;
                if gap <= context.saturating_mul(2) {
                    last.changes.end = change_idx + 1;
                    continue;
                }
            }
            hunks.push(Hunk { expected: 0..0, actual: 0..0, changes: change_idx..change_idx + 1 });
        }
        for hunk in &mut hunks {
            let first = &self.changes[hunk.changes.start];
            let last = &self.changes[hunk.changes.end - 1];
            // Lines before the first change are equal on both sides, so the same number of
            // context lines precedes it in both texts; likewise after the last change.
            let before = context.min(first.expected.start).min(first.actual.start);
            let after = context
                .min(self.expected.len() - last.expected.end)
                .min(self.actual.len() - last.actual.end);
            hunk.expected = first.expected.start - before..last.expected.end + after;
            hunk.actual = first.actual.start - before..last.actual.end + after;
        }
        hunks
    }

    /// The lines of `hunk` in unified-diff order: context, then each change's removed lines
    /// followed by its added lines.
    pub fn hunk_lines(&self, hunk: &Hunk) -> Vec<HunkLine<'a>> {
        let mut lines = Vec::with_capacity(hunk.expected.len() + hunk.actual.len());
        let mut expected_idx = hunk.expected.start;
        let mut actual_idx = hunk.actual.start;
        let changes = self.changes.get(hunk.changes.clone()).unwrap_or_default();
        for change in changes {
            while expected_idx < change.expected.start && expected_idx < self.expected.len() {
                lines.push(self.context_line(expected_idx, actual_idx));
                expected_idx += 1;
                actual_idx += 1;
            }
            for idx in change.expected.clone() {
                lines.push(self.side_line(Side::Expected, idx));
            }
            for idx in change.actual.clone() {
                lines.push(self.side_line(Side::Actual, idx));
            }
            expected_idx = change.expected.end;
            actual_idx = change.actual.end;
        }
        while expected_idx < hunk.expected.end && expected_idx < self.expected.len() {
            lines.push(self.context_line(expected_idx, actual_idx));
            expected_idx += 1;
            actual_idx += 1;
        }
        lines
    }

    fn context_line(&self, expected_idx: usize, actual_idx: usize) -> HunkLine<'a> {
        let line = self.expected[expected_idx];
        HunkLine {
            kind: LineKind::Context,
            expected_line: Some(expected_idx),
            actual_line: Some(actual_idx),
            bytes: line.text,
            missing_newline: !line.newline,
        }
    }

    pub(crate) fn side_line(&self, side: Side, idx: usize) -> HunkLine<'a> {
        let line = self.line(side, idx);
        let (kind, expected_line, actual_line) = match side {
            Side::Expected => (LineKind::Removed, Some(idx), None),
            Side::Actual => (LineKind::Added, None, Some(idx)),
        };
        HunkLine {
            kind,
            expected_line,
            actual_line,
            bytes: line.text,
            missing_newline: !line.newline,
        }
    }

    pub(crate) fn line(&self, side: Side, idx: usize) -> Line<'a> {
        match side {
            Side::Expected => self.expected[idx],
            Side::Actual => self.actual[idx],
        }
    }

    fn is_unterminated_last(&self, side: Side, range: &Range<usize>) -> bool {
        let lines = match side {
            Side::Expected => &self.expected,
            Side::Actual => &self.actual,
        };
        !range.is_empty()
            && range.end == lines.len()
            && lines.last().is_some_and(|line| !line.newline)
    }
}

/// The two texts of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Expected,
    Actual,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Whitespace;

    fn changes(expected: &str, actual: &str) -> Vec<(Range<usize>, Range<usize>)> {
        diff_lines(expected, actual, &Options::default())
            .changes()
            .iter()
            .map(|change| (change.expected.clone(), change.actual.clone()))
            .collect()
    }

    #[test]
    fn misaligned_equal_lines_are_detected() {
        // The check that guards against 64-bit hash collisions: a change list that leaves
        // different lines aligned must be rejected.
        let expected = split_lines(b"a\nb\nc\n");
        let actual = split_lines(b"a\nX\nc\n");
        let options = Options::default();
        let right = vec![Change { expected: 1..2, actual: 1..2 }];
        assert!(aligned_lines_are_equal(&expected, &actual, &right, &options));
        assert!(!aligned_lines_are_equal(&expected, &actual, &[], &options));
        let shifted = vec![Change { expected: 0..1, actual: 0..0 }];
        assert!(!aligned_lines_are_equal(&expected, &actual, &shifted, &options));
    }

    #[test]
    fn equal_texts_have_no_changes() {
        assert!(diff_lines("a\nb\n", "a\nb\n", &Options::default()).is_empty());
        assert!(diff_lines("", "", &Options::default()).is_empty());
    }

    #[test]
    fn a_replaced_line_is_one_change() {
        assert_eq!(changes("a\nb\nc\n", "a\nx\nc\n"), vec![(1..2, 1..2)]);
    }

    #[test]
    fn missing_final_newline_is_a_change_only_in_exact_mode() {
        assert_eq!(changes("a\nb", "a\nb\n"), vec![(1..2, 1..2)]);
        let ignore_all = Options::new().whitespace(Whitespace::IgnoreAll);
        assert!(diff_lines("a\nb", "a\nb\n", &ignore_all).is_empty());
    }

    #[test]
    fn inserted_line_slides_down_like_gnu_diff() {
        // "a" inserted into a run of "a": GNU diff reports the last position.
        assert_eq!(changes("a\na\nb\n", "a\na\na\nb\n"), vec![(2..2, 2..3)]);
    }

    #[test]
    fn hunks_join_changes_at_most_twice_the_context_apart() {
        let expected = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let actual_close = "X\n2\n3\n4\n5\n6\n7\nY\n9\n10\n";
        let diff = diff_lines(expected, actual_close, &Options::default());
        assert_eq!(diff.hunks(3).len(), 1);
        let actual_far = "X\n2\n3\n4\n5\n6\n7\n8\nY\n10\n";
        let diff = diff_lines(expected, actual_far, &Options::default());
        assert_eq!(diff.hunks(3).len(), 2);
        assert_eq!(diff.hunks(3)[0].expected, 0..4);
        assert_eq!(diff.hunks(3)[1].expected, 5..10);
    }

    #[test]
    fn normal_diff_line_count_matches_gnu_format() {
        // 2c2 / < b / --- / > x
        assert_eq!(diff_lines("a\nb\n", "a\nx\n", &Options::default()).n_normal_diff_lines(), 4);
        // 3c3 / < c / \ No newline / --- / > c
        assert_eq!(
            diff_lines("a\nb\nc", "a\nb\nc\n", &Options::default()).n_normal_diff_lines(),
            5
        );
        // 2,3d1 / < / <
        assert_eq!(
            diff_lines("a\n\n\nb\n", "a\nb\n", &Options::default()).n_normal_diff_lines(),
            3
        );
    }
}
