//! Text renderers of a [`Diff`]: GNU diff's unified, context and normal formats, written to any
//! [`fmt::Write`].

use std::fmt::{self, Write};

use crate::diff::{ChangeKind, Diff, Hunk, HunkLine, LineKind, Side};

/// The names printed in a diff's header lines (`--- expected` / `+++ actual` in unified format).
///
/// GNU diff prints `path<TAB>modification time`; pg_regress's `regression.diffs` shows that.
/// Pass whatever should appear after `--- ` and `+++ `, for example
/// `"expected/three.out\t2026-11-22 03:36:06.813222725 +0000"` or just the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'l> {
    /// Shown for the expected text (`--- ` in unified format, `*** ` in context format).
    pub expected: &'l str,
    /// Shown for the actual text (`+++ ` in unified format, `--- ` in context format).
    pub actual: &'l str,
}

const NO_NEWLINE: &str = "\\ No newline at end of file\n";

fn write_line(out: &mut impl Write, prefix: &str, line: &HunkLine<'_>) -> fmt::Result {
    out.write_str(prefix)?;
    out.write_str(&line.text())?;
    out.write_char('\n')?;
    if line.missing_newline {
        out.write_str(NO_NEWLINE)?;
    }
    Ok(())
}

/// GNU diff's unified range: `start,count`, `start` alone for one line, and for an empty range
/// the line before it with count 0.
fn write_unified_range(out: &mut impl Write, range: &std::ops::Range<usize>) -> fmt::Result {
    match range.len() {
        0 => write!(out, "{},0", range.start),
        1 => write!(out, "{}", range.start + 1),
        count => write!(out, "{},{}", range.start + 1, count),
    }
}

/// The `@@ -a,b +c,d @@` line of a unified hunk.
pub(crate) fn write_hunk_header(out: &mut impl Write, hunk: &Hunk) -> fmt::Result {
    out.write_str("@@ -")?;
    write_unified_range(out, &hunk.expected)?;
    out.write_str(" +")?;
    write_unified_range(out, &hunk.actual)?;
    out.write_str(" @@\n")
}

/// GNU diff's context-format range: `first,last`, `first` alone for one line, and the line
/// before it for an empty range.
fn write_context_range(out: &mut impl Write, range: &std::ops::Range<usize>) -> fmt::Result {
    match range.len() {
        0 => write!(out, "{}", range.start),
        1 => write!(out, "{}", range.start + 1),
        _ => write!(out, "{},{}", range.start + 1, range.end),
    }
}

impl Diff<'_> {
    /// Writes the diff in unified format (`diff -U<context>`): `--- ` and `+++ ` header lines
    /// with `labels`, then the hunks. Writes nothing when the diff is empty, like `diff`.
    ///
    /// ```
    /// use pgfarm_diff::{Labels, Options, diff_lines};
    /// let diff = diff_lines("a\nb\nc\n", "a\nx\nc\n", &Options::default());
    /// let mut out = String::new();
    /// diff.write_unified(&mut out, &Labels { expected: "expected/t.out", actual: "results/t.out" }, 3)?;
    /// assert_eq!(out, "--- expected/t.out\n+++ results/t.out\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n");
    /// # Ok::<(), std::fmt::Error>(())
    /// ```
    pub fn write_unified(
        &self,
        out: &mut impl Write,
        labels: &Labels<'_>,
        context: usize,
    ) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        writeln!(out, "--- {}", labels.expected)?;
        writeln!(out, "+++ {}", labels.actual)?;
        self.write_unified_hunks(out, context)
    }

    /// Writes only the unified hunks (`@@ ... @@` and their lines), without header lines.
    pub fn write_unified_hunks(&self, out: &mut impl Write, context: usize) -> fmt::Result {
        for hunk in self.hunks(context) {
            self.write_unified_hunk(out, &hunk)?;
        }
        Ok(())
    }

    /// Writes one hunk in unified format, starting with its `@@ -a,b +c,d @@` line.
    pub fn write_unified_hunk(&self, out: &mut impl Write, hunk: &Hunk) -> fmt::Result {
        write_hunk_header(out, hunk)?;
        for line in self.hunk_lines(hunk) {
            let prefix = match line.kind {
                LineKind::Context => " ",
                LineKind::Removed => "-",
                LineKind::Added => "+",
            };
            write_line(out, prefix, &line)?;
        }
        Ok(())
    }

    /// Writes the diff in context format (`diff -C<context>`): `*** ` and `--- ` header lines
    /// with `labels`, then per hunk a `***************` line, the expected side
    /// (`*** a,b ****`) and the actual side (`--- c,d ----`), each side's lines listed only if
    /// the hunk removes (respectively adds) something. Lines are marked `- ` (removed), `+ `
    /// (added), `! ` (part of a change that both removes and adds) or two spaces (context).
    /// Writes nothing when the diff is empty.
    pub fn write_context(
        &self,
        out: &mut impl Write,
        labels: &Labels<'_>,
        context: usize,
    ) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        writeln!(out, "*** {}", labels.expected)?;
        writeln!(out, "--- {}", labels.actual)?;
        for hunk in self.hunks(context) {
            self.write_context_hunk(out, &hunk)?;
        }
        Ok(())
    }

    fn write_context_hunk(&self, out: &mut impl Write, hunk: &Hunk) -> fmt::Result {
        let changes = self.changes.get(hunk.changes.clone()).unwrap_or_default();
        out.write_str("***************\n*** ")?;
        write_context_range(out, &hunk.expected)?;
        out.write_str(" ****\n")?;
        if changes.iter().any(|change| !change.expected.is_empty()) {
            self.write_context_side(out, hunk, Side::Expected)?;
        }
        out.write_str("--- ")?;
        write_context_range(out, &hunk.actual)?;
        out.write_str(" ----\n")?;
        if changes.iter().any(|change| !change.actual.is_empty()) {
            self.write_context_side(out, hunk, Side::Actual)?;
        }
        Ok(())
    }

    fn write_context_side(&self, out: &mut impl Write, hunk: &Hunk, side: Side) -> fmt::Result {
        let changes = self.changes.get(hunk.changes.clone()).unwrap_or_default();
        let range = match side {
            Side::Expected => hunk.expected.clone(),
            Side::Actual => hunk.actual.clone(),
        };
        let lines_of = |change: &crate::Change| match side {
            Side::Expected => change.expected.clone(),
            Side::Actual => change.actual.clone(),
        };
        let mut idx = range.start;
        for change in changes {
            let changed = lines_of(change);
            while idx < changed.start {
                self.write_context_line(out, side, idx)?;
                idx += 1;
            }
            let prefix = match change.kind() {
                ChangeKind::Replace => "! ",
                ChangeKind::Delete => "- ",
                ChangeKind::Add => "+ ",
            };
            for changed_idx in changed.clone() {
                write_line(out, prefix, &self.side_line(side, changed_idx))?;
            }
            idx = idx.max(changed.end);
        }
        while idx < range.end {
            self.write_context_line(out, side, idx)?;
            idx += 1;
        }
        Ok(())
    }

    /// Context format prints each side's own text for context lines (GNU diff does too).
    fn write_context_line(&self, out: &mut impl Write, side: Side, idx: usize) -> fmt::Result {
        write_line(out, "  ", &self.side_line(side, idx))
    }

    /// Writes the diff in `diff`'s default ("normal") format: `2c2`, `< old`, `---`, `> new`.
    /// Its line count is [`n_normal_diff_lines`](Diff::n_normal_diff_lines), the size
    /// pg_regress compares between variants.
    pub fn write_normal(&self, out: &mut impl Write) -> fmt::Result {
        for change in &self.changes {
            let letter = match change.kind() {
                ChangeKind::Add => 'a',
                ChangeKind::Delete => 'd',
                ChangeKind::Replace => 'c',
            };
            write_normal_range(out, &change.expected)?;
            out.write_char(letter)?;
            write_normal_range(out, &change.actual)?;
            out.write_char('\n')?;
            for idx in change.expected.clone() {
                write_line(out, "< ", &self.side_line(Side::Expected, idx))?;
            }
            if change.kind() == ChangeKind::Replace {
                out.write_str("---\n")?;
            }
            for idx in change.actual.clone() {
                write_line(out, "> ", &self.side_line(Side::Actual, idx))?;
            }
        }
        Ok(())
    }

    /// The unified diff as a `String` (see [`write_unified`](Diff::write_unified)).
    pub fn to_unified(&self, labels: &Labels<'_>, context: usize) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_unified(&mut out, labels, context);
        out
    }
}

/// Normal format: `first,last` or `first`; an empty range shows the line before it.
fn write_normal_range(out: &mut impl Write, range: &std::ops::Range<usize>) -> fmt::Result {
    match range.len() {
        0 => write!(out, "{}", range.start),
        1 => write!(out, "{}", range.start + 1),
        _ => write!(out, "{},{}", range.start + 1, range.end),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Labels, Options, Whitespace, diff_lines};

    const LABELS: Labels<'static> = Labels { expected: "e", actual: "a" };

    fn unified(expected: &str, actual: &str, options: Options, context: usize) -> String {
        let mut out = String::new();
        diff_lines(expected, actual, &options).write_unified(&mut out, &LABELS, context).unwrap();
        out
    }

    fn context(expected: &str, actual: &str, context: usize) -> String {
        let mut out = String::new();
        diff_lines(expected, actual, &Options::default())
            .write_context(&mut out, &LABELS, context)
            .unwrap();
        out
    }

    #[test]
    fn unified_marks_missing_newline_after_the_line() {
        assert_eq!(
            unified("a\nb\nc", "a\nb\nc\n", Options::default(), 3),
            "--- e\n+++ a\n@@ -1,3 +1,3 @@\n a\n b\n-c\n\\ No newline at end of file\n+c\n"
        );
    }

    #[test]
    fn unified_prints_expected_text_for_context_under_ignore_all() {
        let options = Options::new().whitespace(Whitespace::IgnoreAll);
        assert_eq!(
            unified("x  y\nb\nc\nd\n", "x y\nb\nQ\nd\n", options, 3),
            "--- e\n+++ a\n@@ -1,4 +1,4 @@\n x  y\n b\n-c\n+Q\n d\n"
        );
    }

    #[test]
    fn unified_ranges_follow_gnu_for_empty_and_single_lines() {
        let one_to_nine = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let with_x = "1\n2\n3\n4\n5\nX\n6\n7\n8\n9\n";
        assert_eq!(
            unified(one_to_nine, with_x, Options::default(), 0),
            "--- e\n+++ a\n@@ -5,0 +6 @@\n+X\n"
        );
        assert_eq!(
            unified(with_x, one_to_nine, Options::default(), 0),
            "--- e\n+++ a\n@@ -6 +5,0 @@\n-X\n"
        );
        assert_eq!(unified("", "y\n", Options::default(), 3), "--- e\n+++ a\n@@ -0,0 +1 @@\n+y\n");
    }

    #[test]
    fn empty_diff_renders_nothing() {
        assert_eq!(unified("a\n", "a\n", Options::default(), 3), "");
        assert_eq!(context("a\n", "a\n", 3), "");
    }

    #[test]
    fn context_format_omits_a_side_without_changes() {
        let with_x = "1\n2\n3\n4\n5\nX\n6\n7\n8\n9\n";
        let one_to_nine = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        assert_eq!(
            context(one_to_nine, with_x, 1),
            "*** e\n--- a\n***************\n*** 5,6 ****\n--- 5,7 ----\n  5\n+ X\n  6\n"
        );
        assert_eq!(
            context("a\nb\nc", "a\nb\nd\n", 3),
            "*** e\n--- a\n***************\n*** 1,3 ****\n  a\n  b\n! c\n\\ No newline at end of file\n--- 1,3 ----\n  a\n  b\n! d\n"
        );
    }

    #[test]
    fn normal_format_matches_gnu() {
        let mut out = String::new();
        diff_lines("a\nb\nc", "a\nb\nc\n", &Options::default()).write_normal(&mut out).unwrap();
        assert_eq!(out, "3c3\n< c\n\\ No newline at end of file\n---\n> c\n");
    }
}
