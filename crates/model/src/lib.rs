//! The pgfarm result bundle: one run's complete result, as serde types with a JSON Schema,
//! a reader with limits, a writer, and pure validation (format version 2; version 1 is still read).
//!
//! A [`Bundle`] is what travels from the runner to the server and into the browser. It holds the
//! [`Run`] (id, times, [`RunStatus`]), the [`Machine`], the [`Extension`], the [`Postgres`]
//! installation, the [`RunConfig`], the [`Stage`]s in [`StageKind`] order, every
//! [`RegressTest`] with its raw output and expected variants, every [`TapFile`] with its raw TAP
//! stream, and the server log slice. Raw outputs are [`RawText`]: a plain JSON string when valid
//! UTF-8, exact bytes in base64 otherwise. The file format (gzip-compressed JSON,
//! `.pgfarm.json.gz`), every field and the versioning rules are described in
//! `docs/bundle-format.md`; the JSON Schema generated from these types is
//! `docs/bundle.schema.json`.
//!
//! The [`api`] module holds the server's JSON API request and response types.
//!
//! # Example
//!
//! ```
//! use pgfarm_model::{Bundle, ReadOptions, StageKind, StageStatus};
//!
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/regress-fail.pgfarm.json");
//! # let bytes = std::fs::read(path).unwrap();
//! // `bytes` is a bundle file: gzip or plain JSON, detected by its first bytes.
//! let bundle = Bundle::from_slice_with(&bytes, &ReadOptions { max_decompressed_bytes: 64 << 20, ..ReadOptions::default() })?;
//! assert_eq!(bundle.first_failed_stage().map(|stage| stage.kind), Some(StageKind::Regress));
//! assert_eq!(bundle.worst_stage_status(), Some(StageStatus::Failed));
//! for test in bundle.failed_regress_tests() {
//!     let expected = test.chosen().map(|e| e.content.to_string_lossy());
//!     let actual = test.actual.to_string_lossy();
//!     // ... hand both to pgfarm-diff
//! #   assert_ne!(expected.as_deref(), Some(&*actual));
//! }
//!
//! // Writing: gzip into any io::Write (a Vec here); the runner renames a temp file into place.
//! let file = bundle.to_gzip_vec();
//! assert_eq!(Bundle::from_slice(&file)?, bundle);
//! # Ok::<(), pgfarm_model::BundleError>(())
//! ```
//!
//! # What this crate does not do
//!
//! No file or network I/O and no clock (timestamps are passed in), so it compiles to
//! `wasm32-unknown-unknown`. It does not parse TAP or compute diffs (`pgfarm-tap-parser` and
//! `pgfarm-diff` do, from the raw outputs here) and it does not decide statuses; it only checks
//! that the ones it is given agree ([`Bundle::validate`]).
//!
//! # Tests
//!
//! Unit tests sit at the bottom of each module. `tests/it/` reads every sample bundle in
//! `testdata/bundles/`, checks error messages, round trips and the JSON Schema file
//! (`UPDATE_EXPECT=1 cargo test -p pgfarm-model` rewrites it). `tests/memory.rs` measures the
//! peak memory of decoding a large bundle.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
mod bundle;
mod extension;
mod machine;
mod ordered_map;
mod postgres;
mod raw_text;
mod read;
mod regress;
mod run;
mod stage;
mod status;
mod tap;
mod timestamp;
mod validate;
mod write;

pub use bundle::{Bundle, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use extension::{
    Extension, PrerequisiteDist, Prerequisites, ReleaseStatus, Source, SourceKind, SourceRelease,
};
pub use machine::Machine;
pub use ordered_map::OrderedMap;
pub use postgres::Postgres;
pub use raw_text::RawText;
pub use read::{BundleError, ReadOptions};
pub use regress::{ExpectedOutput, RegressTest};
pub use run::{Run, RunConfig};
pub use stage::{Stage, StageKind};
pub use status::{RunStatus, StageStatus, TestCounts, TestStatus, UnknownVariant};
pub use tap::TapFile;
pub use validate::{MAX_NAME_BYTES, MAX_PATH_BYTES, ValidationError};

/// Re-exported so callers name the same versions of the types in the public API.
pub use time::OffsetDateTime;
/// Re-exported so callers name the same versions of the types in the public API.
pub use uuid::Uuid;

// The README's examples are compiled and run as doctests (`cargo test --doc`), so the first
// thing a reader of the published crate sees stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctest {}
