//! The crate's error type.

/// What can go wrong in this crate. Diffing itself never fails; only parsing a resultmap can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A resultmap line lacks the `test:filetype:platformpattern=file` shape (pg_regress
    /// stops with "incorrectly formatted resultmap entry" on such a line).
    #[error(
        "resultmap line {line}: incorrectly formatted entry {text:?} (expected test:filetype:platformpattern=file)"
    )]
    MalformedResultmapLine {
        /// The 1-based line number.
        line: usize,
        /// The line, trailing white space removed.
        text: String,
    },
}
