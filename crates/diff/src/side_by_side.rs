//! The side-by-side model of a [`Diff`] for user interfaces: rows with a left (expected) and a
//! right (actual) cell, a change kind, and the changed byte range inside paired lines.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::ops::Range;

use crate::diff::{Diff, Side};

/// What a [`Row`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    /// The same line on both sides (equal under the white space rule; the texts may still
    /// differ in white space when it is ignored).
    Equal,
    /// An expected line replaced by an actual line (they are paired in order inside a change).
    Changed,
    /// An expected line with no counterpart (right cell empty).
    Removed,
    /// An actual line with no counterpart (left cell empty).
    Added,
}

/// One side of a [`Row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a> {
    /// The 0-based line number in its text.
    pub line: usize,
    /// The line without its `\n` (invalid UTF-8 replaced by U+FFFD).
    pub text: Cow<'a, str>,
    /// For [`RowKind::Changed`] rows: the byte range of `text` that differs from the other
    /// side (everything between the longest common prefix and suffix); empty otherwise.
    pub changed: Range<usize>,
    /// True for a last line without `\n`.
    pub missing_newline: bool,
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// What the row shows.
    pub kind: RowKind,
    /// The expected line, absent for [`RowKind::Added`].
    pub left: Option<Cell<'a>>,
    /// The actual line, absent for [`RowKind::Removed`].
    pub right: Option<Cell<'a>>,
}

/// Common prefix and suffix of two strings at char boundaries; returns the differing byte
/// ranges of each.
fn changed_ranges(left: &str, right: &str) -> (Range<usize>, Range<usize>) {
    let prefix: usize = left
        .chars()
        .zip(right.chars())
        .take_while(|(l, r)| l == r)
        .map(|(l, _)| l.len_utf8())
        .sum();
    let left_rest = &left[prefix..];
    let right_rest = &right[prefix..];
    let suffix: usize = left_rest
        .chars()
        .rev()
        .zip(right_rest.chars().rev())
        .take_while(|(l, r)| l == r)
        .map(|(l, _)| l.len_utf8())
        .sum();
    (prefix..left.len() - suffix, prefix..right.len() - suffix)
}

impl<'a> Diff<'a> {
    fn cell(&self, side: Side, idx: usize) -> Cell<'a> {
        let line = self.line(side, idx);
        Cell {
            line: idx,
            text: String::from_utf8_lossy(line.text),
            changed: 0..0,
            missing_newline: !line.newline,
        }
    }

    /// All rows of the side-by-side view, both texts in full.
    pub fn side_by_side(&self) -> Vec<Row<'a>> {
        self.side_by_side_rows(0..self.expected.len(), 0..self.actual.len())
    }

    /// The rows of one hunk (from [`hunks`](Diff::hunks)): its context and changes only.
    pub fn side_by_side_hunk(&self, hunk: &crate::Hunk) -> Vec<Row<'a>> {
        self.side_by_side_rows(hunk.expected.clone(), hunk.actual.clone())
    }

    fn side_by_side_rows(&self, expected: Range<usize>, actual: Range<usize>) -> Vec<Row<'a>> {
        let mut rows = Vec::new();
        let mut expected_idx = expected.start;
        let mut actual_idx = actual.start;
        let relevant = self.changes.iter().filter(|change| {
            change.expected.end >= expected.start && change.expected.start <= expected.end
        });
        for change in relevant {
            while expected_idx < change.expected.start && actual_idx < change.actual.start {
                rows.push(Row {
                    kind: RowKind::Equal,
                    left: Some(self.cell(Side::Expected, expected_idx)),
                    right: Some(self.cell(Side::Actual, actual_idx)),
                });
                expected_idx += 1;
                actual_idx += 1;
            }
            let n_paired = change.expected.len().min(change.actual.len());
            for offset in 0..n_paired {
                let mut left = self.cell(Side::Expected, change.expected.start + offset);
                let mut right = self.cell(Side::Actual, change.actual.start + offset);
                let (left_changed, right_changed) = changed_ranges(&left.text, &right.text);
                left.changed = left_changed;
                right.changed = right_changed;
                rows.push(Row { kind: RowKind::Changed, left: Some(left), right: Some(right) });
            }
            for idx in change.expected.start + n_paired..change.expected.end {
                rows.push(Row {
                    kind: RowKind::Removed,
                    left: Some(self.cell(Side::Expected, idx)),
                    right: None,
                });
            }
            for idx in change.actual.start + n_paired..change.actual.end {
                rows.push(Row {
                    kind: RowKind::Added,
                    left: None,
                    right: Some(self.cell(Side::Actual, idx)),
                });
            }
            expected_idx = change.expected.end;
            actual_idx = change.actual.end;
        }
        while expected_idx < expected.end && actual_idx < actual.end {
            rows.push(Row {
                kind: RowKind::Equal,
                left: Some(self.cell(Side::Expected, expected_idx)),
                right: Some(self.cell(Side::Actual, actual_idx)),
            });
            expected_idx += 1;
            actual_idx += 1;
        }
        rows
    }

    /// Writes the side-by-side view as plain text, one row per line:
    /// `left` padded or cut to `column_width` chars, a gutter (` | ` changed, ` < ` removed,
    /// ` > ` added, three spaces equal), then `right`. Only the rows of the hunks with
    /// `context` lines of context are written, each hunk preceded by its unified `@@` line.
    pub fn write_side_by_side(
        &self,
        out: &mut impl Write,
        column_width: usize,
        context: usize,
    ) -> fmt::Result {
        for hunk in self.hunks(context) {
            crate::render::write_hunk_header(out, &hunk)?;
            for row in self.side_by_side_hunk(&hunk) {
                let gutter = match row.kind {
                    RowKind::Equal => "   ",
                    RowKind::Changed => " | ",
                    RowKind::Removed => " < ",
                    RowKind::Added => " > ",
                };
                let left = row.left.as_ref().map_or("", |cell| &cell.text);
                let right = row.right.as_ref().map_or("", |cell| &cell.text);
                let mut n_chars = 0;
                for ch in left.chars().take(column_width) {
                    out.write_char(ch)?;
                    n_chars += 1;
                }
                for _ in n_chars..column_width {
                    out.write_char(' ')?;
                }
                out.write_str(gutter)?;
                out.write_str(right.trim_end())?;
                out.write_char('\n')?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, diff_lines};

    #[test]
    fn rows_pair_replaced_lines_and_mark_the_changed_middle() {
        let diff = diff_lines("a\n    4\nc\n", "a\n    3\nnew\nc\n", &Options::default());
        let rows = diff.side_by_side();
        let kinds: Vec<RowKind> = rows.iter().map(|row| row.kind).collect();
        assert_eq!(kinds, vec![RowKind::Equal, RowKind::Changed, RowKind::Added, RowKind::Equal]);
        let changed = &rows[1];
        assert_eq!(changed.left.as_ref().unwrap().changed, 4..5);
        assert_eq!(changed.right.as_ref().unwrap().changed, 4..5);
        assert_eq!(rows[2].right.as_ref().unwrap().line, 2);
    }

    #[test]
    fn changed_ranges_respect_char_boundaries() {
        assert_eq!(changed_ranges("é1", "é2"), (2..3, 2..3));
        assert_eq!(changed_ranges("ab", "ab"), (2..2, 2..2));
        assert_eq!(changed_ranges("aXa", "aa"), (1..2, 1..1));
    }

    #[test]
    fn plain_text_view_shows_gutters() {
        let diff = diff_lines("a\nb\n", "a\nc\n", &Options::default());
        let mut out = String::new();
        diff.write_side_by_side(&mut out, 3, 3).unwrap();
        assert_eq!(out, "@@ -1,2 +1,2 @@\na     a\nb   | c\n");
    }
}
