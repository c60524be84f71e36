//! Helpers shared by the integration tests: where the corpus is, reading its files.

use std::path::PathBuf;

/// `shared/corpus` beside the repository (CI clones it there).
pub(crate) fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    assert!(
        dir.join("tap").is_dir(),
        "the shared corpus is missing: expected {} (clone `shared/` beside the repository)",
        dir.display()
    );
    dir
}

/// Reads a corpus file, with a message naming it when that fails.
pub(crate) fn read(relative: &str) -> Vec<u8> {
    let path = corpus_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}
