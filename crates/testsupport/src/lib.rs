//! Dev-only helpers of pgfarm's tests: one policy for tests that need PostgreSQL or the shared
//! corpus (`../shared/corpus` beside the repository), and the repository's paths.
//!
//! A test that lacks what it needs is skipped by name with its reason, never passed silently:
//!
//! ```
//! fn a_test_that_needs_the_corpus() {
//!     let Some(dir) = pgfarm_testsupport::corpus("a_test_that_needs_the_corpus", "tap") else {
//!         return;
//!     };
//!     assert!(dir.ends_with("shared/corpus/tap"));
//! }
//! # a_test_that_needs_the_corpus();
//! ```
//!
//! With `PGFARM_TEST_REQUIRE_PG=1` (PostgreSQL, pg_regress, pgTAP) or
//! `PGFARM_TEST_REQUIRE_CORPUS=1` (the corpus) the same test fails instead: CI and the README's
//! test command set them. Every skip is also appended to `target/pgfarm-skipped-tests.txt`, which
//! `scripts/test` counts.

#![allow(clippy::print_stderr, reason = "a skipped test says why on the test's output")]

pub mod http;

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `path` inside the repository (`testdata/extensions`, `migrations/sqlite`).
pub fn repo(path: &str) -> PathBuf {
    root().join(path)
}

/// The file skips are recorded in.
pub fn skip_log() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("pgfarm-skipped-tests.txt")
}

fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|value| value == "1")
}

fn skip(test: &str, what: &str, variable: &str) {
    assert!(!required(variable), "{test}: needs {what} ({variable}=1)");
    eprintln!("skipped: {test}: needs {what}");
    let line = format!("{test}: needs {what}\n");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(skip_log()) {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The policy for a component `test` needs (a PostgreSQL installation, pg_regress, pgTAP):
/// true when `available`; else a named skip (false), or a failure under
/// `PGFARM_TEST_REQUIRE_PG=1`.
pub fn require(test: &str, what: &str, available: bool) -> bool {
    if !available {
        skip(test, what, "PGFARM_TEST_REQUIRE_PG");
    }
    available
}

/// For a peer `scripts/setup` does not install (an optional Debian package a comparison test
/// uses): true when `available`, else a named, recorded skip that never fails.
pub fn optional(test: &str, what: &str, available: bool) -> bool {
    if !available {
        skip(
            test,
            &format!("{what} (optional, not installed by scripts/setup)"),
            "PGFARM_TEST_REQUIRE_OPTIONAL",
        );
    }
    available
}

/// `../shared/corpus/<sub>` beside the repository, when it is there; else a named skip
/// (`None`), or a failure under `PGFARM_TEST_REQUIRE_CORPUS=1`.
pub fn corpus(test: &str, sub: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/corpus").join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    skip(
        test,
        &format!("{} (clone shared/ beside the repository)", dir.display()),
        "PGFARM_TEST_REQUIRE_CORPUS",
    );
    None
}
