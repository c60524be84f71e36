//! Line diffs of expected and actual test output with pg_regress's semantics.
//!
//! pg_regress decides whether a test passed by running `diff` on the expected file and the
//! actual output, and when it failed, appends a `diff -U3` of the two to `regression.diffs`.
//! This crate does the same without running `diff`: it compares, chooses among alternative
//! expected files, and renders the result in GNU diff's formats, so the runner, the server and
//! the browser reach the same verdict and show the same diff.
//!
//! # Main types
//!
//! * [`diff_lines`] (or [`diff_bytes`]) compares two texts under [`Options`] and returns a
//!   [`Diff`]: its [`Change`]s, [`Hunk`]s with context, counts
//!   ([`n_changed_lines`](Diff::n_changed_lines)), and renderers writing into any
//!   [`std::fmt::Write`]: [`write_unified`](Diff::write_unified) (`diff -U3`),
//!   [`write_context`](Diff::write_context) (`diff -C3`), [`write_normal`](Diff::write_normal)
//!   (plain `diff`), and the side-by-side model [`side_by_side`](Diff::side_by_side) (rows of
//!   [`Row`] with [`RowKind`] and intra-line changed ranges) for user interfaces.
//! * [`closest_expected`] picks among `name.out`, `name_0.out` .. `name_9.out` and returns a
//!   [`Choice`]; [`expected_candidates`] lists those names in pg_regress's order, honouring a
//!   [`Resultmap`].
//!
//! # pg_regress semantics
//!
//! * **White space.** pg_regress passes `basic_diff_opts` to `diff`: nothing on non-Windows
//!   systems since PostgreSQL 9.0 (the comparison is byte-exact, trailing blanks and a missing
//!   final newline count), `-w` on Windows in older releases, `--strip-trailing-cr` on Windows
//!   in current ones. [`Whitespace`] has the three rules; the default is
//!   [`Whitespace::Exact`]. Under `-w` ([`Whitespace::IgnoreAll`]) the bytes of C `isspace`
//!   are ignored, including a line's newline, and context lines are printed with the expected
//!   side's text, as GNU diff prints the first file's.
//! * **Line endings.** Lines end at `\n`. A carriage return is an ordinary byte, except under
//!   `--strip-trailing-cr` (dropped before a `\n`) and `-w` (ignored anywhere). A last line
//!   without `\n` is shown with `\ No newline at end of file`.
//! * **Variants.** For a failing test pg_regress tries `name_0.out` .. `name_9.out`; the first
//!   match passes the test, else the diff is reported against the candidate whose plain
//!   `diff` output has the fewest lines ([`Diff::n_normal_diff_lines`]), ties keeping the
//!   earlier candidate.
//! * **resultmap.** `test:filetype:platformpattern=substitute` lines replace the expected file
//!   on matching platforms; the default file is then tried last ([`Resultmap`],
//!   [`expected_candidates`]). The platform is passed in, never detected.
//! * **Output.** `regression.diffs` holds, per failing test, a line
//!   `diff -U3 EXPECTED RESULTS` (pg_regress writes it; [`Options::pretty_diff_flags`] gives
//!   the flags) followed by GNU diff's unified output with `--- path<TAB>mtime` headers; the
//!   caller chooses the [`Labels`].
//!
//! # Example
//!
//! ```
//! use pgfarm_diff::{Labels, Options, Whitespace, diff_lines};
//!
//! let expected = "SELECT 3 AS three;\n three \n-------\n     4\n(1 row)\n\n";
//! let actual = "SELECT 3 AS three;\n three\n-------\n     3\n(1 row)\n\n";
//!
//! // pg_regress on Linux: the missing trailing blank after "three" is a difference too.
//! let exact = diff_lines(expected, actual, &Options::default());
//! assert_eq!(exact.n_changed_lines(), 4);
//!
//! // With `-w` only the value differs.
//! let ignore_all = diff_lines(expected, actual, &Options::new().whitespace(Whitespace::IgnoreAll));
//! assert_eq!(ignore_all.n_changed_lines(), 2);
//!
//! let mut out = String::new();
//! let labels = Labels { expected: "expected/three.out", actual: "results/three.out" };
//! ignore_all.write_unified(&mut out, &labels, 3)?;
//! assert_eq!(out, concat!(
//!     "--- expected/three.out\n",
//!     "+++ results/three.out\n",
//!     "@@ -1,6 +1,6 @@\n",
//!     " SELECT 3 AS three;\n",
//!     "  three \n", // context lines show the expected text
//!     " -------\n",
//!     "-     4\n",
//!     "+     3\n",
//!     " (1 row)\n",
//!     " \n",
//! ));
//! # Ok::<(), std::fmt::Error>(())
//! ```
//!
//! # What this crate does not do
//!
//! It reads no files, runs no processes, reads no clock or environment, and compiles to
//! `wasm32-unknown-unknown`: callers pass texts, labels and the platform string. It does not
//! apply `PG_REGRESS_DIFF_OPTS` (which only changes how pg_regress renders, never its verdict),
//! and does not reproduce GNU diff's hunk placement byte for byte in every case: both are
//! Myers diffs that slide changes the same way, and their output is identical on the corpus of
//! real regression outputs (except 4 `-w` pairs of very different files), but where several
//! alignments cost the same the two may break the tie differently (a third of random pairs
//! drawn from 16 distinct lines). Verdicts never differ.
//!
//! # Tests
//!
//! Unit tests sit next to the code. `tests/it/` holds the corpus conformance tests (verdicts
//! and renderings compared with the real GNU `diff` over `shared/corpus/regress`), the
//! property tests (the unified diff applies with GNU `patch`, renderings agree with each
//! other, any bytes are handled); `fuzz/` has a cargo-fuzz target; `benches/` and
//! `bench/compare.sh` measure speed against GNU diff.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod diff;
mod error;
mod lines;
mod options;
mod render;
mod resultmap;
mod side_by_side;
mod variants;

pub use crate::diff::{
    Change, ChangeKind, Diff, Hunk, HunkLine, LineKind, PG_REGRESS_CONTEXT, diff_bytes, diff_lines,
};
pub use crate::error::Error;
pub use crate::options::{Options, Whitespace};
pub use crate::render::Labels;
pub use crate::resultmap::{Resultmap, ResultmapEntry, host_platform, platform_matches};
pub use crate::side_by_side::{Cell, Row, RowKind};
pub use crate::variants::{
    CandidateScore, Choice, alternative_expected_file, closest_expected, closest_expected_bytes,
    expected_candidates,
};

// The README's examples are compiled and run as doctests (`cargo test --doc`), so the first
// thing a reader of the published crate sees stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctest {}
