//! `pgfarm diff` end to end: the built binary on corpus files, its exit codes, and its output
//! compared with GNU diff's.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `shared/corpus/regress`, beside the repository.
fn corpus_regress() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest_dir = manifest_dir.canonicalize().unwrap_or_else(|_| manifest_dir.to_path_buf());
    let corpus = manifest_dir.join("../../../shared/corpus/regress");
    assert!(
        corpus.is_dir(),
        "the pg_regress corpus is missing: expected {} (shared/ must sit beside the repository)",
        corpus.display()
    );
    corpus.canonicalize().unwrap()
}

fn format_samples_expected() -> PathBuf {
    corpus_regress().join("format-samples/suite/expected")
}

/// A directory under the system temp dir, removed on drop (one per test).
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("pgfarm-cli-diff-test-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pgfarm_diff(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pgfarm"))
        .arg("diff")
        .args(args)
        .output()
        .expect("the pgfarm binary runs");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// GNU diff with UTC timestamps, as our labels print them.
fn gnu_diff(args: &[&str]) -> String {
    let output = Command::new("diff")
        .env("TZ", "UTC")
        .args(args)
        .output()
        .expect("GNU diff must be installed (Debian package diffutils)");
    String::from_utf8(output.stdout).unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The result pg_regress captured for format-samples' `three` (it printed 3; three.out expects
/// 4, three_1.out expects 5), written into `dir`.
fn three_result(dir: &Path) -> PathBuf {
    let expected = fs::read_to_string(format_samples_expected().join("three.out")).unwrap();
    let result = dir.join("three.out");
    fs::write(&result, expected.replace("     4\n", "     3\n")).unwrap();
    result
}

#[test]
fn differing_files_exit_1_with_regression_diffs_style_output_identical_to_gnu_diff() {
    let Some(_) = pgfarm_testsupport::corpus(
        "differing_files_exit_1_with_regression_diffs_style_output_identical_to_gnu_diff",
        "regress",
    ) else {
        return;
    };
    let dir = ScratchDir::new();
    let result = three_result(dir.path());
    let expected = format_samples_expected().join("three.out");
    let run = pgfarm_diff(&[path_str(&expected), path_str(&result)]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let (first_line, rest) = run.stdout.split_once('\n').unwrap();
    assert_eq!(first_line, format!("diff -U3 {} {}", expected.display(), result.display()));
    assert_eq!(rest, gnu_diff(&["-U3", path_str(&expected), path_str(&result)]));
    // The same hunk pg_regress 15 wrote to regression.diffs.
    let regression_diffs =
        fs::read_to_string(corpus_regress().join("format-samples/pg15/regression.diffs")).unwrap();
    let hunk = regression_diffs.split_once("@@").unwrap().1;
    assert!(rest.ends_with(hunk), "{rest}");
    assert_eq!(run.stderr, "");
}

#[test]
fn context_format_is_identical_to_gnu_diff() {
    let Some(_) = pgfarm_testsupport::corpus("context_format_is_identical_to_gnu_diff", "regress")
    else {
        return;
    };
    let dir = ScratchDir::new();
    let result = three_result(dir.path());
    let expected = format_samples_expected().join("three.out");
    let run = pgfarm_diff(&["--format", "context", path_str(&expected), path_str(&result)]);
    assert_eq!(run.code, 1);
    let (first_line, rest) = run.stdout.split_once('\n').unwrap();
    assert!(first_line.starts_with("diff -C3 "));
    assert_eq!(rest, gnu_diff(&["-C3", path_str(&expected), path_str(&result)]));
}

#[test]
fn equal_files_exit_0_with_no_output() {
    let Some(_) = pgfarm_testsupport::corpus("equal_files_exit_0_with_no_output", "regress") else {
        return;
    };
    let expected = format_samples_expected().join("one.out");
    let run = pgfarm_diff(&[path_str(&expected), path_str(&expected)]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", ""));
}

#[test]
fn variants_report_against_the_first_of_equally_close_candidates() {
    let Some(_) = pgfarm_testsupport::corpus(
        "variants_report_against_the_first_of_equally_close_candidates",
        "regress",
    ) else {
        return;
    };
    let dir = ScratchDir::new();
    let result = three_result(dir.path());
    let expected = format_samples_expected().join("three.out");
    let run = pgfarm_diff(&["--variants", path_str(&expected), path_str(&result)]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with(&format!("diff -U3 {} ", expected.display())), "{}", run.stdout);
    assert!(run.stderr.contains("no candidate matches"), "{}", run.stderr);
    assert!(run.stderr.contains(&expected.display().to_string()), "{}", run.stderr);
}

#[test]
fn variants_pass_when_an_alternative_matches_and_name_it() {
    let Some(_) = pgfarm_testsupport::corpus(
        "variants_pass_when_an_alternative_matches_and_name_it",
        "regress",
    ) else {
        return;
    };
    // Every postgres-15-core test with an `_1` variant that differs from its base file.
    let expected_dir = corpus_regress().join("postgres-15-core/expected");
    let dir = ScratchDir::new();
    let mut n_checked = 0;
    for entry in fs::read_dir(&expected_dir).unwrap() {
        let variant = entry.unwrap().path();
        let name = variant.file_name().unwrap().to_string_lossy().into_owned();
        let Some(base_name) = name.strip_suffix("_1.out") else { continue };
        let base = expected_dir.join(format!("{base_name}.out"));
        if !base.exists() || fs::read(&base).unwrap() == fs::read(&variant).unwrap() {
            continue;
        }
        let result = dir.path().join(format!("{base_name}.out"));
        fs::copy(&variant, &result).unwrap();
        let with_variants = pgfarm_diff(&["--variants", path_str(&base), path_str(&result)]);
        assert_eq!(with_variants.code, 0, "{name}: {}", with_variants.stderr);
        assert_eq!(with_variants.stdout, "");
        assert!(
            with_variants.stderr.contains(&format!("matches {}", variant.display())),
            "{}",
            with_variants.stderr
        );
        let without = pgfarm_diff(&[path_str(&base), path_str(&result)]);
        assert_eq!(without.code, 1, "{name}");
        n_checked += 1;
    }
    assert!(n_checked >= 10, "only {n_checked} tests with _1 variants");
}

#[test]
fn json_report_has_the_documented_fields() {
    let Some(_) = pgfarm_testsupport::corpus("json_report_has_the_documented_fields", "regress")
    else {
        return;
    };
    let dir = ScratchDir::new();
    let result = three_result(dir.path());
    let expected = format_samples_expected().join("three.out");
    let run =
        pgfarm_diff(&["--format", "json", "--variants", path_str(&expected), path_str(&result)]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is one JSON object");
    assert_eq!(report["matched"], false);
    assert_eq!(report["expected_file"], path_str(&expected));
    assert_eq!(report["actual_file"], path_str(&result));
    assert_eq!(report["whitespace"], "exact");
    assert_eq!(report["changed_lines"], 2);
    assert_eq!(report["removed_lines"], 1);
    assert_eq!(report["added_lines"], 1);
    assert_eq!(report["diff_lines"], 4);
    let candidates = report["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[1]["file"], path_str(&format_samples_expected().join("three_1.out")));
    assert_eq!(candidates[1]["diff_lines"], 4);
    let hunk = &report["hunks"][0];
    assert_eq!(hunk["header"], "@@ -1,6 +1,6 @@");
    assert_eq!(
        (hunk["expected_start"].as_u64(), hunk["expected_lines"].as_u64()),
        (Some(1), Some(6))
    );
    let lines = hunk["lines"].as_array().unwrap();
    assert_eq!(lines[3]["kind"], "removed");
    assert_eq!(lines[3]["text"], "     4");
    assert_eq!(lines[3]["expected_line"], 4);
    assert_eq!(lines[3]["actual_line"], serde_json::Value::Null);
    assert_eq!(lines[4]["kind"], "added");
    assert!(report["unified"].as_str().unwrap().contains("+     3\n"));
}

#[test]
fn whitespace_mode_decides_whether_trailing_blanks_count() {
    let Some(_) = pgfarm_testsupport::corpus(
        "whitespace_mode_decides_whether_trailing_blanks_count",
        "regress",
    ) else {
        return;
    };
    // psql pads column headers with a trailing blank (" three "); an editor that strips it
    // breaks the test under pg_regress on Linux (exact) but not with -w.
    let dir = ScratchDir::new();
    let expected = format_samples_expected().join("three.out");
    let stripped = dir.path().join("three.out");
    let text = fs::read_to_string(&expected).unwrap();
    let without_trailing: String =
        text.lines().map(|line| format!("{}\n", line.trim_end())).collect();
    fs::write(&stripped, without_trailing).unwrap();
    let exact = pgfarm_diff(&[path_str(&expected), path_str(&stripped)]);
    assert_eq!(exact.code, 1);
    let ignore_all =
        pgfarm_diff(&["--whitespace", "ignore-all", path_str(&expected), path_str(&stripped)]);
    assert_eq!((ignore_all.code, ignore_all.stdout.as_str()), (0, ""));
    // CRLF line endings pass with --strip-trailing-cr only.
    let crlf = dir.path().join("crlf.out");
    fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
    assert_eq!(pgfarm_diff(&[path_str(&expected), path_str(&crlf)]).code, 1);
    assert_eq!(
        pgfarm_diff(&["--whitespace", "strip-trailing-cr", path_str(&expected), path_str(&crlf)])
            .code,
        0
    );
    let header = pgfarm_diff(&["--whitespace", "ignore-all", path_str(&expected), path_str(&crlf)]);
    assert_eq!(header.code, 0);
}

#[test]
fn resultmap_substitute_is_used_on_matching_platforms() {
    let Some(_) =
        pgfarm_testsupport::corpus("resultmap_substitute_is_used_on_matching_platforms", "regress")
    else {
        return;
    };
    let core = corpus_regress().join("postgres-15-core");
    let base = core.join("expected/float4.out");
    let resultmap = core.join("resultmap");
    let dir = ScratchDir::new();
    let result = dir.path().join("float4.out");
    fs::copy(core.join("expected/float4-misrounded-input.out"), &result).unwrap();
    let args = |platform: &'static str| {
        vec![
            "--variants".to_owned(),
            "--resultmap".to_owned(),
            path_str(&resultmap).to_owned(),
            "--platform".to_owned(),
            platform.to_owned(),
            path_str(&base).to_owned(),
            path_str(&result).to_owned(),
        ]
    };
    let cygwin_args = args("x86_64-pc-cygwin");
    let cygwin = pgfarm_diff(&cygwin_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(cygwin.code, 0, "{}", cygwin.stderr);
    assert!(cygwin.stderr.contains("float4-misrounded-input.out"), "{}", cygwin.stderr);
    let linux_args = args("x86_64-pc-linux-gnu");
    let linux = pgfarm_diff(&linux_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(linux.code, 1);
    assert!(linux.stdout.starts_with(&format!("diff -U3 {} ", base.display())), "{}", linux.stdout);
}

#[test]
fn unreadable_files_exit_2_with_one_line_naming_the_file() {
    let Some(_) = pgfarm_testsupport::corpus(
        "unreadable_files_exit_2_with_one_line_naming_the_file",
        "regress",
    ) else {
        return;
    };
    let expected = format_samples_expected().join("one.out");
    let run = pgfarm_diff(&[path_str(&expected), "/nonexistent/results/one.out"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("\"/nonexistent/results/one.out\""), "{}", run.stderr);
    let missing_expected =
        pgfarm_diff(&["--variants", "/nonexistent/expected/x.out", path_str(&expected)]);
    assert_eq!(missing_expected.code, 2);
    assert!(
        missing_expected.stderr.contains("/nonexistent/expected/x.out"),
        "{}",
        missing_expected.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(pgfarm_diff(&["--format", "yaml", "a", "b"]).code, 2);
    assert_eq!(pgfarm_diff(&["only-one-file"]).code, 2);
    assert_eq!(
        pgfarm_diff(&["--resultmap", "r", "a", "b"]).code,
        2,
        "--resultmap needs --variants"
    );
}

#[test]
fn help_documents_the_json_fields_and_exit_codes() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_pgfarm")).args(["diff", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for field in [
        "matched",
        "expected_file",
        "changed_lines",
        "diff_lines",
        "candidates",
        "hunks",
        "Exit status",
    ] {
        assert!(help.contains(field), "--help lacks {field}:\n{help}");
    }
}
