//! Comparison options: which white space differences count, as `diff`'s flags decide it for pg_regress.

use std::fmt;

/// How white space takes part in deciding whether two lines are equal.
///
/// Each mode is one of the ways pg_regress has invoked `diff`
/// (`basic_diff_opts` / `pretty_diff_opts` in `src/test/regress/pg_regress.c`):
///
/// | mode | `diff` flag | pg_regress that uses it |
/// |---|---|---|
/// | [`Exact`](Whitespace::Exact) | none | every non-Windows build since PostgreSQL 9.0 (commit `ce3153fa93` removed `-w`), including 15–18 |
/// | [`StripTrailingCr`](Whitespace::StripTrailingCr) | `--strip-trailing-cr` | Windows builds of current PostgreSQL |
/// | [`IgnoreAll`](Whitespace::IgnoreAll) | `-w` | Windows builds of older releases, and every platform before 9.0 |
///
/// The default is [`Exact`](Whitespace::Exact): it gives the verdict pg_regress gives on
/// Linux, macOS and the BSDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Whitespace {
    /// Lines are equal when their bytes are equal, including whether they end in a newline
    /// (plain `diff`).
    #[default]
    Exact,
    /// Like [`Exact`](Whitespace::Exact), but a carriage return right before a line's newline
    /// is dropped first (`diff --strip-trailing-cr`), so CRLF and LF files compare equal.
    StripTrailingCr,
    /// All white space is ignored (`diff -w`): the bytes space, tab, newline, vertical tab,
    /// form feed and carriage return (C `isspace`) are removed before comparing, so a line
    /// of blanks equals an empty line and a missing final newline is no difference.
    IgnoreAll,
}

impl Whitespace {
    /// Every mode, in declaration order.
    pub const ALL: [Whitespace; 3] =
        [Whitespace::Exact, Whitespace::StripTrailingCr, Whitespace::IgnoreAll];

    /// The GNU `diff` flag with the same rule (empty for [`Exact`](Whitespace::Exact)).
    pub fn diff_flag(self) -> &'static str {
        match self {
            Whitespace::Exact => "",
            Whitespace::StripTrailingCr => "--strip-trailing-cr",
            Whitespace::IgnoreAll => "-w",
        }
    }

    /// The stable name used on the command line and in JSON: `exact`, `strip-trailing-cr`,
    /// `ignore-all`.
    pub fn name(self) -> &'static str {
        match self {
            Whitespace::Exact => "exact",
            Whitespace::StripTrailingCr => "strip-trailing-cr",
            Whitespace::IgnoreAll => "ignore-all",
        }
    }

    /// Parses a [`name`](Whitespace::name); `None` for anything else.
    pub fn from_name(name: &str) -> Option<Whitespace> {
        Whitespace::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

impl fmt::Display for Whitespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Options of [`diff_lines`](crate::diff_lines) and
/// [`closest_expected`](crate::closest_expected).
///
/// ```
/// use pgfarm_diff::{Options, Whitespace};
/// let options = Options::new().whitespace(Whitespace::IgnoreAll);
/// assert_eq!(options.whitespace_mode(), Whitespace::IgnoreAll);
/// assert_eq!(Options::default().whitespace_mode(), Whitespace::Exact);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    whitespace: Whitespace,
}

impl Options {
    /// The defaults: [`Whitespace::Exact`], as pg_regress compares on non-Windows systems.
    pub fn new() -> Options {
        Options::default()
    }

    /// Sets the white space rule.
    #[must_use]
    pub fn whitespace(mut self, whitespace: Whitespace) -> Options {
        self.whitespace = whitespace;
        self
    }

    /// The white space rule in force.
    pub fn whitespace_mode(&self) -> Whitespace {
        self.whitespace
    }

    /// The options pg_regress passes to `diff` for the file it appends to `regression.diffs`
    /// (`pretty_diff_opts`) with the given context, e.g. `-U3` or `-w -U3`; used for the
    /// `diff ... EXPECTED ACTUAL` line that precedes each file's diff there.
    pub fn pretty_diff_flags(&self, format_letter: char, context: usize) -> String {
        let flag = self.whitespace.diff_flag();
        if flag.is_empty() {
            format!("-{format_letter}{context}")
        } else {
            format!("{flag} -{format_letter}{context}")
        }
    }
}
