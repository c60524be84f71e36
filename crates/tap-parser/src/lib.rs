//! A streaming, zero-copy parser for the Test Anything Protocol: TAP 12 (no version line,
//! as pgTAP prints it), TAP 13 (YAML diagnostics) and TAP 14 (subtests, escaping, pragmas),
//! with a pgTAP mode, a summary consumer and a TAP writer.
//!
//! # Overview
//!
//! - [`Parser`] is a pull parser (modelled on pulldown-cmark): an [`Iterator`] of
//!   [`Event`]s that borrow from the input; [`Parser::spanned`] adds byte spans.
//! - [`PushParser`] accepts arbitrary byte chunks (a child process's pipe) and runs the same
//!   line classifier, so chunking never changes the events.
//! - [`Summarizer`] / [`summarize`] fold events into a [`Summary`]: counts, the verdict,
//!   failures with their diagnostics, protocol errors kept apart from failed test points.
//! - [`TapWriter`] / [`write_tap`] re-emit events as normalized TAP 14, or TAP 13 for Perl's
//!   `prove`; [`YamlBlocks`] joins YAML lines into blocks (parsed with the `yaml` feature).
//!
//! ```
//! use pgfarm_tap_parser::{summarize, Options, Parser};
//!
//! let tap = "1..3\nok 1 - connects\nnot ok 2 - counts rows\n# Failed test 2: \"counts rows\"\n#         have: 2\n#         want: 3\nok 3 # SKIP no replica\n";
//! let summary = summarize(Parser::with_options(tap, Options::pgtap()));
//! assert!(!summary.ok);
//! assert_eq!((summary.count, summary.pass, summary.fail, summary.skip), (3, 2, 1, 1));
//! assert_eq!(summary.failures[0].diagnostics[1], "        have: 2");
//! ```
//!
//! # Why another TAP parser
//!
//! The existing parsers each miss something a test farm needs: node's `tap-parser` (the
//! TAP 14 reference) needs a JavaScript runtime and ~350 MB for a 57 MB stream; Perl's
//! TAP::Parser rejects `TAP version 14` and ignores subtests; crates.io `tap_parser` 0.1.1
//! refuses streams without a version line (all pgTAP output), does not unescape, count or
//! check plans, and keeps the whole document in memory. This crate is total (never fails on
//! input), streaming (memory O(nesting depth + failures)), compiles to
//! `wasm32-unknown-unknown` (no I/O, clock or threads) and knows pgTAP's conventions.
//!
//! # Reading of the specification
//!
//! Where the TAP 14 text leaves a choice the choices are documented on the items
//! ([`Event`], [`WarningKind`], [`Summary`]); the differences from node's `tap-parser` are
//! listed with their reasons in `CONFORMANCE.md`. In short: a stream without a plan fails
//! (also an empty one), ids must be unique and inside the plan, nothing may follow a
//! trailing plan, the first parent-level test point closes a subtest (a different name is
//! only a warning), and a subtest whose document fails fails its `ok` correlated point.
//!
//! # What it does not do
//!
//! No I/O (feed it bytes), no process handling, no timing, no logging, no pgfarm types;
//! it does not execute `pragma +bail` (it reports the pragma) and does not validate YAML
//! unless asked (`YamlBlock::parse`, feature `yaml`).
//!
//! # Tests
//!
//! Unit tests sit next to the code; `tests/it/` holds the conformance suite against the
//! node `tap-parser` corpus (with an explicit, named exception list), the differential
//! edge cases, real pgTAP outputs compared with `pg_prove`, and property tests; the fuzz
//! target is in `fuzz/`, the benchmark in `benches/` and `bench/compare.sh`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod event;
mod ids;
mod machine;
mod options;
mod parser;
mod push;
mod scanners;
mod summary;
mod text;
mod writer;
mod yaml;

pub use event::{
    Directive, DirectiveKind, Event, Plan, Pragma, Span, SubtestEnd, SubtestKind, SubtestStart,
    TestPoint, Warning, WarningKind,
};
pub use options::Options;
pub use parser::{Parser, Spanned};
pub use push::PushParser;
pub use summary::{Failure, PlanSummary, Summarizer, Summary, summarize};
pub use text::Text;
pub use writer::{TapVersion, TapWriter, write_tap};
pub use yaml::{YamlBlock, YamlBlocks};

/// The `yaml-rust2` crate, whose `Yaml` values [`YamlBlock::parse`] returns.
#[cfg(feature = "yaml")]
pub use yaml_rust2;

// The README's examples are compiled and run as doctests (`cargo test --doc`), so the first
// thing a reader of the published crate sees stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctest {}
