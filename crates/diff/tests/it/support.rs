//! Helpers shared by the integration tests: the corpus location and running GNU diff/patch.

use std::path::{Path, PathBuf};
use std::process::Command;

use pgfarm_diff::Whitespace;

/// `shared/corpus/regress`, beside the repository (CI clones it there).
pub(crate) fn corpus_regress() -> PathBuf {
    // Resolve symlinks first so a checkout reached through a link still finds shared/ beside it.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest_dir = manifest_dir.canonicalize().unwrap_or_else(|_| manifest_dir.to_path_buf());
    let corpus = manifest_dir.join("../../../shared/corpus/regress");
    assert!(
        corpus.is_dir(),
        "the pg_regress corpus is missing: expected {} (shared/ must sit beside the repository)",
        corpus.display()
    );
    corpus
}

/// The result of running GNU `diff`.
pub(crate) struct GnuDiff {
    /// Exit status: 0 same, 1 different.
    pub(crate) status: i32,
    /// Its stdout.
    pub(crate) stdout: Vec<u8>,
}

/// Runs GNU `diff` with the flag of `whitespace` and any extra arguments.
pub(crate) fn gnu_diff(
    whitespace: Whitespace,
    extra: &[&str],
    expected: &Path,
    actual: &Path,
) -> GnuDiff {
    let mut command = Command::new("diff");
    if !whitespace.diff_flag().is_empty() {
        command.arg(whitespace.diff_flag());
    }
    command.args(extra).arg(expected).arg(actual);
    let output = command.output().expect("GNU diff must be installed (Debian package diffutils)");
    let status = output.status.code().expect("diff was not killed by a signal");
    assert!(
        status == 0 || status == 1,
        "diff failed with status {status} on {} {}: {}",
        expected.display(),
        actual.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    GnuDiff { status, stdout: output.stdout }
}

/// Drops GNU diff's two header lines (`--- path\tmtime`, `+++ path\tmtime`) or, for context
/// format, `*** ...` / `--- ...`.
pub(crate) fn without_headers(output: &[u8]) -> &[u8] {
    let mut rest = output;
    for _ in 0..2 {
        match memchr_newline(rest) {
            Some(end) => rest = &rest[end + 1..],
            None => return &[],
        }
    }
    rest
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&byte| byte == b'\n')
}
