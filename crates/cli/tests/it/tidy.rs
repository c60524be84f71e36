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

/// The lines of `path` that are code: comments dropped, and everything from `#[cfg(test)]` on
/// (a test module may name what the code must not).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(idx, line)| (idx + 1, line.to_owned()))
        .collect()
}

/// `file:line: text` of each code line under `dirs` (relative to the root) matching `bad`,
/// except in files `allowed` says are allowed.
fn offending_lines(
    dirs: &[&str],
    bad: impl Fn(&str) -> bool,
    allowed: impl Fn(&str) -> bool,
) -> Vec<String> {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(!files.is_empty(), "no Rust files under {dirs:?}");
    let mut out = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
        if allowed(&relative) {
            continue;
        }
        for (line_no, line) in code_lines(&path) {
            if bad(&line) {
                out.push(format!("{relative}:{line_no}: {}", line.trim()));
            }
        }
    }
    out
}

#[test]
fn sql_lives_only_in_server_src_db() {
    let offenders = offending_lines(
        &["crates", "server/src", "web/src"],
        |line| line.contains("sqlx::") || line.contains("use sqlx"),
        |path| path.starts_with("server/src/db/") || path.contains("/tests/"),
    );
    assert!(offenders.is_empty(), "sqlx outside server/src/db/:\n{}", offenders.join("\n"));
}

#[test]
fn the_web_app_writes_api_paths_only_in_api_rs() {
    let offenders = offending_lines(
        &["web/src"],
        |line| line.contains("\"/api/v1"),
        |path| path == "web/src/api.rs",
    );
    assert!(
        offenders.is_empty(),
        "`/api/v1` written outside web/src/api.rs (use `crate::api!(\"/...\")`):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn library_crates_never_print() {
    let libraries = [
        "crates/model/src",
        "crates/tap-parser/src",
        "crates/diff/src",
        "crates/pgnode/src",
        "crates/runner/src",
        "crates/verdict/src",
        "crates/pginstall/src",
        "crates/webapp/src",
        "crates/pgxn/src",
        "crates/causes/src",
        "server/src",
    ];
    let offenders = offending_lines(
        &libraries,
        |line| {
            ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("]
                .iter()
                .any(|print| line.contains(print))
        },
        // The server's binary entry points (its command line lives in the library so that
        // `pgfarm serve` and `pgfarm-server` share it).
        |path| path == "server/src/main.rs" || path == "server/src/cli.rs",
    );
    assert!(offenders.is_empty(), "a library prints:\n{}", offenders.join("\n"));
}

#[test]
fn process_spawning_is_banned_outside_the_spawn_point_by_clippy() {
    // The ban itself is clippy's (clippy.toml); this keeps the configuration from going away.
    let clippy = fs::read_to_string(workspace_root().join("clippy.toml")).expect("clippy.toml");
    assert!(clippy.contains("\"std::process::Command::new\""), "{clippy}");
    let allowed = offending_lines(
        &["crates", "server/src", "web/src"],
        |line| line.contains("allow(clippy::disallowed_methods"),
        |path| path.contains("/tests/"),
    );
    assert_eq!(
        allowed.len(),
        1,
        "only crates/pgnode/src/command.rs may allow it outside tests:\n{}",
        allowed.join("\n")
    );
    assert!(allowed[0].starts_with("crates/pgnode/src/command.rs:"), "{allowed:?}");
}
