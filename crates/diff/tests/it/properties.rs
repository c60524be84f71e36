//! Property tests: GNU `patch` turns expected into actual with our unified diff, GNU `diff`
//! gives the same verdicts, and all renderings describe the same edit.

use std::fs;
use std::process::Command;

use pgfarm_diff::{Labels, LineKind, Options, RowKind, Whitespace, diff_lines};
use proptest::prelude::*;

use crate::support::gnu_diff;

/// Lines that collide under the white space rules in every interesting way.
const ALPHABET: &[&str] = &[
    "a", "b", "c", "", " ", "a ", " a", "a\tb", "a b", "ab", "a\r", "\r", "x  y", "x y", "(1 row)",
    "-----",
];

fn text_from(lines: &[usize], final_newline: bool) -> String {
    let mut text = lines.iter().map(|&idx| ALPHABET[idx]).collect::<Vec<_>>().join("\n");
    if final_newline && !lines.is_empty() {
        text.push('\n');
    }
    text
}

/// An expected text and an actual text: either unrelated, or the expected one with edits.
fn pair() -> impl Strategy<Value = (String, String)> {
    let line = 0..ALPHABET.len();
    let unrelated = (
        prop::collection::vec(line.clone(), 0..30),
        any::<bool>(),
        prop::collection::vec(line.clone(), 0..30),
        any::<bool>(),
    )
        .prop_map(|(expected, expected_nl, actual, actual_nl)| {
            (text_from(&expected, expected_nl), text_from(&actual, actual_nl))
        });
    let edited = (
        prop::collection::vec(line.clone(), 0..60),
        any::<bool>(),
        prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, line), 0..6),
        any::<bool>(),
    )
        .prop_map(|(expected, expected_nl, edits, actual_nl)| {
            let mut actual = expected.clone();
            for (position, op, new_line) in edits {
                let idx = position.index(actual.len() + 1);
                match op {
                    0 => actual.insert(idx, new_line),
                    1 if idx < actual.len() => {
                        actual.remove(idx);
                    }
                    _ if idx < actual.len() => actual[idx] = new_line,
                    _ => actual.push(new_line),
                }
            }
            (text_from(&expected, expected_nl), text_from(&actual, actual_nl))
        });
    prop_oneof![unrelated, edited]
}

fn whitespace_mode() -> impl Strategy<Value = Whitespace> {
    prop::sample::select(Whitespace::ALL.to_vec())
}

/// The lines of a text with their newline flags, normalised by `whitespace` the way `diff`
/// compares them.
fn normalised(text: &str, whitespace: Whitespace) -> Vec<(String, bool)> {
    let mut lines = Vec::new();
    for raw in text.split_inclusive('\n') {
        let (body, newline) = match raw.strip_suffix('\n') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        lines.push(match whitespace {
            Whitespace::Exact => (body.to_owned(), newline),
            Whitespace::StripTrailingCr => {
                let body = if newline { body.strip_suffix('\r').unwrap_or(body) } else { body };
                (body.to_owned(), newline)
            }
            _ => (
                body.chars()
                    .filter(|ch| !matches!(ch, ' ' | '\t' | '\r' | '\x0b' | '\x0c'))
                    .collect(),
                true,
            ),
        });
    }
    lines
}

/// Rebuilds the actual lines from the expected text and the hunks (context lines taken from
/// the expected side, as printed), as `(text, has newline)` pairs.
fn apply_hunks(
    expected: &str,
    actual: &str,
    whitespace: Whitespace,
    context: usize,
) -> Vec<(String, bool)> {
    let diff = diff_lines(expected, actual, &Options::new().whitespace(whitespace));
    let expected_lines: Vec<(String, bool)> = normalised(expected, Whitespace::Exact);
    let mut out = Vec::new();
    let mut next = 0;
    for hunk in diff.hunks(context) {
        out.extend_from_slice(&expected_lines[next..hunk.expected.start]);
        for line in diff.hunk_lines(&hunk) {
            match line.kind {
                LineKind::Removed => {}
                LineKind::Context | LineKind::Added => {
                    out.push((line.text().into_owned(), !line.missing_newline))
                }
            }
        }
        next = hunk.expected.end;
    }
    out.extend_from_slice(&expected_lines[next..]);
    out
}

/// Joins `(text, has newline)` lines back into a text.
fn join(lines: &[(String, bool)]) -> String {
    lines
        .iter()
        .map(|(text, newline)| if *newline { format!("{text}\n") } else { text.clone() })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_text_never_differs_from_itself((text, _) in pair(), whitespace in whitespace_mode()) {
        prop_assert!(diff_lines(&text, &text, &Options::new().whitespace(whitespace)).is_empty());
    }

    #[test]
    fn verdict_is_equality_of_normalised_lines((expected, actual) in pair(), whitespace in whitespace_mode()) {
        let diff = diff_lines(&expected, &actual, &Options::new().whitespace(whitespace));
        prop_assert_eq!(diff.is_empty(), normalised(&expected, whitespace) == normalised(&actual, whitespace));
    }

    #[test]
    fn hunks_rebuild_the_actual_text((expected, actual) in pair(), whitespace in whitespace_mode(), context in 0usize..4) {
        let rebuilt = apply_hunks(&expected, &actual, whitespace, context);
        let rebuilt_normalised: Vec<(String, bool)> = rebuilt
            .iter()
            .flat_map(|(text, newline)| normalised(&join(&[(text.clone(), *newline)]), whitespace))
            .collect();
        prop_assert_eq!(rebuilt_normalised, normalised(&actual, whitespace));
        if whitespace == Whitespace::Exact {
            prop_assert_eq!(join(&rebuilt), actual);
        }
    }

    #[test]
    fn renderings_count_the_same_changes((expected, actual) in pair(), whitespace in whitespace_mode()) {
        let diff = diff_lines(&expected, &actual, &Options::new().whitespace(whitespace));
        let mut normal = String::new();
        diff.write_normal(&mut normal).unwrap();
        prop_assert_eq!(normal.lines().count(), diff.n_normal_diff_lines());
        prop_assert_eq!(normal.lines().filter(|line| line.starts_with("< ")).count(), diff.n_removed_lines());
        prop_assert_eq!(normal.lines().filter(|line| line.starts_with("> ")).count(), diff.n_added_lines());

        let labels = Labels { expected: "e", actual: "a" };
        let unified = diff.to_unified(&labels, 2);
        let body: Vec<&str> = unified.lines().skip(2).collect();
        prop_assert_eq!(body.iter().filter(|line| line.starts_with('-')).count(), diff.n_removed_lines());
        prop_assert_eq!(body.iter().filter(|line| line.starts_with('+')).count(), diff.n_added_lines());

        let mut context = String::new();
        diff.write_context(&mut context, &labels, 2).unwrap();
        let marked = context.lines().filter(|line| line.starts_with("! ") || line.starts_with("- ") || line.starts_with("+ ")).count();
        prop_assert_eq!(marked, diff.n_changed_lines());

        let rows = diff.side_by_side();
        let left: Vec<usize> = rows.iter().filter_map(|row| row.left.as_ref().map(|cell| cell.line)).collect();
        let right: Vec<usize> = rows.iter().filter_map(|row| row.right.as_ref().map(|cell| cell.line)).collect();
        prop_assert_eq!(left, (0..diff.n_expected_lines()).collect::<Vec<_>>());
        prop_assert_eq!(right, (0..diff.n_actual_lines()).collect::<Vec<_>>());
        let n_changed_rows = rows.iter().map(|row| match row.kind {
            RowKind::Equal => 0,
            RowKind::Changed => 2,
            RowKind::Removed | RowKind::Added => 1,
        }).sum::<usize>();
        prop_assert_eq!(n_changed_rows, diff.n_changed_lines());
    }
}

proptest! {
    // Each case runs GNU tools; keep the count modest.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn gnu_patch_turns_expected_into_actual_with_our_unified_diff((expected, actual) in pair(), context in 0usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let expected_path = dir.path().join("expected.out");
        let patch_path = dir.path().join("change.diff");
        let output_path = dir.path().join("patched.out");
        fs::write(&expected_path, &expected).unwrap();
        let diff = diff_lines(&expected, &actual, &Options::default());
        prop_assume!(!diff.is_empty());
        let unified = diff.to_unified(&Labels { expected: "expected.out", actual: "results/expected.out" }, context);
        fs::write(&patch_path, &unified).unwrap();
        let output = Command::new("patch")
            .arg("--batch")
            .arg("--quiet")
            .arg("--no-backup-if-mismatch")
            .arg("--fuzz=0")
            .arg("-o")
            .arg(&output_path)
            .arg("-i")
            .arg(&patch_path)
            .arg(&expected_path)
            .output()
            .expect("GNU patch must be installed (Debian package patch)");
        prop_assert!(output.status.success(), "patch failed: {}\n{}\n--- patch:\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr), unified);
        let patched = fs::read_to_string(&output_path).unwrap_or_default();
        prop_assert_eq!(patched, actual, "patch:\n{}", unified);
    }

    #[test]
    fn verdict_equals_gnu_diff((expected, actual) in pair(), whitespace in whitespace_mode()) {
        let dir = tempfile::tempdir().unwrap();
        let expected_path = dir.path().join("expected.out");
        let actual_path = dir.path().join("actual.out");
        fs::write(&expected_path, &expected).unwrap();
        fs::write(&actual_path, &actual).unwrap();
        let gnu = gnu_diff(whitespace, &[], &expected_path, &actual_path);
        let ours = diff_lines(&expected, &actual, &Options::new().whitespace(whitespace));
        prop_assert_eq!(ours.is_empty(), gnu.status == 0);
        if whitespace == Whitespace::Exact && gnu.status == 1 {
            // Never below the true minimum (`diff --minimal`). Equality with plain GNU diff does not
            // hold in general: imara-diff, like git, sets aside very repetitive ("confusing") lines
            // before Myers, so on inputs such as `a b` x4 vs `a` x10 + `a b` it finds 14 changed
            // lines where the minimum is 12 (the verdict, which is what pg_regress uses, agrees).
            let minimal = gnu_diff(whitespace, &["--minimal"], &expected_path, &actual_path);
            let n_minimal = minimal.stdout.split(|&byte| byte == b'\n').filter(|line| line.starts_with(b"< ") || line.starts_with(b"> ")).count();
            prop_assert!(ours.n_changed_lines() >= n_minimal, "ours {} < minimal {}", ours.n_changed_lines(), n_minimal);
        }
    }
}

/// How often our unified rendering is byte-identical to GNU diff's on random pairs. Both are
/// minimal on inputs this small, but where several alignments cost the same, the two Myers
/// implementations may break the tie differently (GNU diff keeps the second of two equal lines,
/// imara-diff the first, in some cases). These inputs are far more repetitive than real
/// outputs (16 distinct lines); the corpus tests require identity on real outputs. With this
/// fixed seed 203 of 300 pairs are identical (169 without the slider post-processing); the
/// assertion guards that figure.
#[test]
fn unified_rendering_usually_equals_gnu_diff_on_random_pairs() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let dir = tempfile::tempdir().unwrap();
    let expected_path = dir.path().join("expected.out");
    let actual_path = dir.path().join("actual.out");
    let (mut n_compared, mut n_identical) = (0, 0);
    for case in 0..300 {
        let (expected, actual) = pair().new_tree(&mut runner).unwrap().current();
        let whitespace = Whitespace::ALL[case % 3];
        fs::write(&expected_path, &expected).unwrap();
        fs::write(&actual_path, &actual).unwrap();
        let gnu = gnu_diff(whitespace, &["-U3"], &expected_path, &actual_path);
        let mut ours = String::new();
        diff_lines(&expected, &actual, &Options::new().whitespace(whitespace))
            .write_unified_hunks(&mut ours, 3)
            .unwrap();
        n_compared += 1;
        if ours.as_bytes() == crate::support::without_headers(&gnu.stdout) {
            n_identical += 1;
        }
    }
    eprintln!(
        "unified rendering identical to GNU diff in {n_identical} of {n_compared} random pairs"
    );
    assert!(n_identical >= 195, "only {n_identical} of {n_compared} identical");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes (invalid UTF-8, NULs, lone CRs) in any mode: no panic, every renderer runs,
    /// and in exact mode the hunks rebuild the actual bytes.
    #[test]
    fn arbitrary_bytes_are_diffed_and_rendered(
        expected in prop::collection::vec(prop::sample::select(b"ab \t\r\n\x00\xff\xc3".to_vec()), 0..200),
        actual in prop::collection::vec(prop::sample::select(b"ab \t\r\n\x00\xff\xc3".to_vec()), 0..200),
        whitespace in whitespace_mode(),
        context in 0usize..5,
    ) {
        let diff = pgfarm_diff::diff_bytes(&expected, &actual, &Options::new().whitespace(whitespace));
        let labels = Labels { expected: "e", actual: "a" };
        let mut out = String::new();
        diff.write_unified(&mut out, &labels, context).unwrap();
        diff.write_context(&mut out, &labels, context).unwrap();
        diff.write_normal(&mut out).unwrap();
        diff.write_side_by_side(&mut out, 10, context).unwrap();
        prop_assert_eq!(diff.side_by_side().iter().filter(|row| row.left.is_some()).count(), diff.n_expected_lines());
        if whitespace == Whitespace::Exact {
            let expected_lines: Vec<&[u8]> = expected.split_inclusive(|&byte| byte == b'\n').collect();
            let mut rebuilt: Vec<u8> = Vec::new();
            let mut next = 0;
            for hunk in diff.hunks(context) {
                for line in &expected_lines[next..hunk.expected.start] {
                    rebuilt.extend_from_slice(line);
                }
                for line in diff.hunk_lines(&hunk) {
                    if line.kind != LineKind::Removed {
                        rebuilt.extend_from_slice(line.bytes);
                        if !line.missing_newline {
                            rebuilt.push(b'\n');
                        }
                    }
                }
                next = hunk.expected.end;
            }
            for line in &expected_lines[next..] {
                rebuilt.extend_from_slice(line);
            }
            prop_assert_eq!(rebuilt, actual);
        }
    }
}
