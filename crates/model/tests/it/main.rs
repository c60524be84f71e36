//! Integration tests of pgfarm-model: one test binary, one module per area.

// The sample bundles in testdata/bundles/, built from the shared corpus, and their golden files.
mod samples;
// Reading: gzip and plain JSON, limits, version checks, error messages with field paths.
mod read;
// Bundle::validate on hand-broken copies of the samples.
mod validate;
// docs/bundle.schema.json is up to date; docs/bundle-format.md documents every field and its example reads.
mod schema;
// Property tests: any bundle (any bytes in raw outputs) survives a write and a read.
mod round_trip;

use std::path::{Path, PathBuf};

/// The repository root (two levels above this crate).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the shared corpus (`../shared/corpus` beside the repository).
pub(crate) fn corpus_file(relative: &str) -> Vec<u8> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    assert!(
        root.is_dir(),
        "the shared corpus is missing at {}: clone the repository with shared/ beside it",
        root.display()
    );
    let path = root.join(relative);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("cannot read corpus file {}: {err}", path.display()))
}

/// A corpus file that must be UTF-8 text.
pub(crate) fn corpus_text(relative: &str) -> String {
    String::from_utf8(corpus_file(relative))
        .unwrap_or_else(|err| panic!("corpus file {relative} is not UTF-8: {err}"))
}

/// Whether golden files should be rewritten instead of compared (`UPDATE_EXPECT=1`).
pub(crate) fn update_expect() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Compares `actual` with the golden file at `path`, or rewrites it under `UPDATE_EXPECT=1`
/// (and creates it when missing).
pub(crate) fn check_golden(path: &Path, actual: &str) {
    let expected = std::fs::read_to_string(path).ok();
    if expected.as_deref() == Some(actual) {
        return;
    }
    if update_expect() || expected.is_none() {
        std::fs::write(path, actual)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        return;
    }
    panic!(
        "{} is out of date; rerun with UPDATE_EXPECT=1 to rewrite it.\n--- expected\n{}\n--- got\n{actual}",
        path.display(),
        expected.unwrap_or_default()
    );
}
