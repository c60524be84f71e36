//! Repository-wide tidy checks that run under `cargo test` (as rust-analyzer's tidy does):
//! every Rust source file starts with a `//!` line saying what it holds, and every crate has a README.

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            // Build output, fuzzing scratch and node packages are not ours to tidy.
            if matches!(name.as_ref(), "target" | "node_modules" | "dist" | "corpus" | "artifacts")
            {
                continue;
            }
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc_line() {
    let root = workspace_root();
    let mut files = Vec::new();
    for top in ["crates", "server", "web"] {
        rust_files(&root.join(top), &mut files);
    }
    assert!(files.len() > 10, "found only {} Rust files under {}", files.len(), root.display());
    let offenders: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.strip_prefix(&root).unwrap_or(path).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files do not start with a `//!` line saying what they hold:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_published_crate_has_a_readme() {
    let root = workspace_root();
    let missing: Vec<&str> =
        ["crates/model", "crates/tap-parser", "crates/diff", "crates/pgnode", "crates/verdict"]
            .into_iter()
            .filter(|krate| !root.join(krate).join("README.md").is_file())
            .collect();
    assert!(missing.is_empty(), "crates without README.md: {missing:?}");
}
