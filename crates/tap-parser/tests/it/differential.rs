//! The 41 differential edge cases (`corpus/tap/differential/cases`): our reading of each,
//! derived from the TAP 14 text (matrix.md shows how node, Perl, tap.py and tap_parser 0.1.1
//! read them; where they disagree the specification decides, as noted per case).

use pgfarm_tap_parser::{Event, Parser, Summary, WarningKind, summarize};

use crate::corpus::read;

/// Expected summary of one case: ok, count, pass, fail, todo, skip, bailout, plan, errors.
struct Expect {
    case: &'static str,
    ok: bool,
    counts: [u64; 5],
    bailout: Option<&'static str>,
    plan: Option<(u64, u64)>,
    n_errors: usize,
    why: &'static str,
}

const fn e(
    case: &'static str,
    ok: bool,
    counts: [u64; 5],
    bailout: Option<&'static str>,
    plan: Option<(u64, u64)>,
    n_errors: usize,
    why: &'static str,
) -> Expect {
    Expect { case, ok, counts, bailout, plan, n_errors, why }
}

/// counts = [count, pass, fail, todo, skip]
const CASES: &[Expect] = &[
    e(
        "01-v13-basic",
        false,
        [2, 1, 1, 0, 0],
        None,
        Some((1, 2)),
        0,
        "TAP 13 is read as TAP 14 (spec, Version: may)",
    ),
    e("02-v14-basic", false, [2, 1, 1, 0, 0], None, Some((1, 2)), 0, "plain TAP 14"),
    e(
        "03-no-version-tap12",
        true,
        [2, 2, 0, 0, 0],
        None,
        Some((1, 2)),
        0,
        "no version line: TAP 12, as pgTAP prints",
    ),
    e(
        "04-version-12-explicit",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "`TAP version 12` is a non-TAP line (note only)",
    ),
    e(
        "05-version-late",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "a late version line is non-TAP (note only)",
    ),
    e(
        "06-escaped-hash",
        true,
        [3, 3, 0, 1, 0],
        None,
        Some((1, 3)),
        0,
        "`\\#` is no delimiter; `\\\\#` is (spec, Escaping example 5); `x/#skip` is no directive",
    ),
    e(
        "07-directive-no-space",
        true,
        [3, 3, 0, 0, 2],
        None,
        Some((1, 3)),
        0,
        "`x# skip` is not a directive (spec: may); `y #skip` and `# SkIp` are",
    ),
    e(
        "08-directive-suffix",
        true,
        [2, 1, 0, 1, 1],
        None,
        Some((1, 2)),
        0,
        "`# Skipped:` and `# TODOs` count (spec: \\S* after the word)",
    ),
    e(
        "09-unknown-directive",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "unknown directives stay in the description",
    ),
    e(
        "10-no-numbers",
        false,
        [3, 2, 1, 0, 0],
        None,
        Some((1, 3)),
        0,
        "unnumbered points get their own counter",
    ),
    e("11-out-of-order", true, [3, 3, 0, 0, 0], None, Some((1, 3)), 0, "any order is valid"),
    e(
        "12-duplicate-id",
        false,
        [3, 3, 0, 0, 0],
        None,
        Some((1, 3)),
        1,
        "a repeated id is a protocol error, not a failed point",
    ),
    e(
        "13-id-outside-plan",
        false,
        [3, 3, 0, 0, 0],
        None,
        Some((1, 3)),
        1,
        "id 4 outside 1..3 is a protocol error",
    ),
    e("14-plan-at-end", true, [2, 2, 0, 0, 0], None, Some((1, 2)), 0, "trailing plan"),
    e(
        "15-test-after-trailing-plan",
        false,
        [2, 2, 0, 0, 0],
        None,
        Some((1, 1)),
        2,
        "point after trailing plan + count mismatch",
    ),
    e(
        "16-skip-all-SKIP",
        true,
        [0, 0, 0, 0, 0],
        None,
        Some((1, 0)),
        0,
        "`1..0 # SKIP reason` skips all",
    ),
    e(
        "17-skip-all-plain-reason",
        true,
        [0, 0, 0, 0, 0],
        None,
        Some((1, 0)),
        0,
        "any `1..0` comment is the reason",
    ),
    e(
        "18-skip-all-with-tests",
        false,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 0)),
        1,
        "test points in a `1..0` document",
    ),
    e(
        "19-bailout",
        false,
        [1, 1, 0, 0, 0],
        Some("db down"),
        Some((1, 3)),
        0,
        "lines after `Bail out!` are not counted",
    ),
    e(
        "20-bailout-lowercase",
        false,
        [1, 1, 0, 0, 0],
        Some("lower case"),
        Some((1, 2)),
        0,
        "`Bail out!` is case-insensitive",
    ),
    e(
        "21-subtest-commented",
        false,
        [2, 1, 1, 0, 0],
        None,
        Some((1, 2)),
        0,
        "commented subtest, failing correlated point",
    ),
    e("22-subtest-bare", true, [1, 1, 0, 0, 0], None, Some((1, 1)), 0, "bare subtest"),
    e(
        "23-subtest-name-mismatch-pgtap",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "pgTAP's `()` name mismatch is a note, not a failure",
    ),
    e("24-yaml-diag", false, [1, 0, 1, 0, 0], None, Some((1, 1)), 0, "YAML block after a failure"),
    e(
        "25-yaml-unterminated",
        false,
        [2, 1, 1, 0, 0],
        None,
        Some((1, 2)),
        0,
        "an unterminated YAML block ends at the next TAP line (note)",
    ),
    e("26-crlf", true, [2, 1, 0, 1, 0], None, Some((1, 2)), 0, "CRLF line endings"),
    e(
        "27-pragma-strict-garbage",
        false,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        1,
        "non-TAP under `pragma +strict` is an error",
    ),
    e("28-missing-plan", false, [2, 2, 0, 0, 0], None, None, 1, "no plan fails the stream"),
    e("29-plan-too-few", false, [2, 2, 0, 0, 0], None, Some((1, 3)), 1, "planned 3, ran 2"),
    e("30-todo-passing", true, [1, 1, 0, 1, 0], None, Some((1, 1)), 0, "a passing TODO passes"),
    e(
        "31-numeric-description",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "`ok 1 42 is...`: id 1, description `42 is the answer`",
    ),
    e(
        "32-garbage-lines",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "non-TAP lines do not fail a stream",
    ),
    e(
        "33-okay-not-a-test",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "`okay` is not a test point",
    ),
    e(
        "34-empty-dash-desc",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "`ok 1 -` has an empty description",
    ),
    e(
        "35-bailout-in-subtest",
        false,
        [0, 0, 0, 0, 0],
        Some("nested reason"),
        Some((1, 2)),
        0,
        "a bail out in a subtest bails the run",
    ),
    e(
        "36-pgtap-unescaped-skip-word",
        true,
        [1, 1, 0, 0, 1],
        None,
        Some((1, 1)),
        0,
        "an unescaped ` # SKIP` is a directive even if pgTAP meant words",
    ),
    e("37-empty", false, [0, 0, 0, 0, 0], None, None, 1, "a version line alone: no plan"),
    e(
        "38-leading-space-test",
        true,
        [1, 1, 0, 0, 0],
        None,
        Some((1, 1)),
        0,
        "1-space indent is non-TAP (spec, subtest rule 5)",
    ),
    e("39-plan-with-comment-nonzero", true, [2, 2, 0, 0, 0], None, Some((1, 2)), 0, "plan comment"),
    e(
        "40-bailout-escaped",
        false,
        [0, 0, 0, 0, 0],
        Some("# and \\ unsupported"),
        None,
        0,
        "bail out reason is unescaped",
    ),
    e(
        "41-comment-before-plan",
        false,
        [2, 1, 1, 0, 0],
        None,
        Some((1, 2)),
        0,
        "a comment before the plan keeps it first",
    ),
];

fn parse(case: &str) -> (Vec<u8>, Summary) {
    let input = read(&format!("tap/differential/cases/{case}.tap"));
    let summary = summarize(Parser::from_bytes(&input));
    (input, summary)
}

#[test]
fn every_differential_case_reads_as_the_spec_says() {
    assert_eq!(CASES.len(), 41);
    let mut problems = Vec::new();
    for expect in CASES {
        let (_, s) = parse(expect.case);
        let got = (
            s.ok,
            [s.count, s.pass, s.fail, s.todo, s.skip],
            s.bailout.as_deref(),
            s.plan.as_ref().map(|p| (p.start, p.end)),
            s.errors.len(),
        );
        let want = (expect.ok, expect.counts, expect.bailout, expect.plan, expect.n_errors);
        if got != want {
            problems.push(format!(
                "{} ({}):\n  want {want:?}\n  got  {got:?}\n  errors {:?}",
                expect.case, expect.why, s.errors
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn points(case: &str) -> Vec<(bool, u64, String, Option<String>)> {
    let input = read(&format!("tap/differential/cases/{case}.tap"));
    Parser::from_bytes(&input)
        .filter_map(|event| match event {
            Event::TestPoint(p) => Some((
                p.ok,
                p.number,
                p.description.unescaped().into_owned(),
                p.directive.map(|d| format!("{:?}:{}", d.kind, d.reason.unescaped())),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn escaped_hash_descriptions_are_unescaped() {
    let p = points("06-escaped-hash");
    assert_eq!(p[0].2, "hello # todo");
    assert_eq!(p[0].3, None);
    assert_eq!(p[1].2, "a \\");
    assert_eq!(p[1].3.as_deref(), Some("Todo:reason"));
    assert_eq!(p[2].2, "url http://x/#skip here");
}

#[test]
fn unknown_directive_stays_in_description() {
    assert_eq!(points("09-unknown-directive")[0].2, "desc # foo bar");
}

#[test]
fn unnumbered_points_are_counted_one_two_three() {
    let numbers: Vec<u64> = points("10-no-numbers").iter().map(|p| p.1).collect();
    assert_eq!(numbers, [1, 2, 3]);
}

#[test]
fn numeric_description_after_id_is_a_description() {
    let p = points("31-numeric-description");
    assert_eq!((p[0].1, p[0].2.as_str()), (1, "42 is the answer"));
}

#[test]
fn pgtap_mode_accepts_runtests_subtest_names() {
    let input = read("tap/differential/cases/23-subtest-name-mismatch-pgtap.tap");
    let mismatches = |options| {
        Parser::from_bytes_with_options(&input, options)
            .filter(
                |e| matches!(e, Event::Warning(w) if w.kind == WarningKind::SubtestNameMismatch),
            )
            .count()
    };
    assert_eq!(mismatches(pgfarm_tap_parser::Options::default()), 1);
    assert_eq!(mismatches(pgfarm_tap_parser::Options::pgtap()), 0);
}

#[test]
fn crlf_lines_have_no_carriage_return_in_text() {
    let p = points("26-crlf");
    assert_eq!(p[0].2, "crlf");
    assert_eq!(p[1].3.as_deref(), Some("Todo:later"));
}
