//! Real pgTAP outputs (`corpus/tap/pgtap/tap`), read in pgTAP mode and compared with what
//! `pg_prove` reports for them (`pg_prove-summary.txt`); deliberate differences are explained
//! at each test.

use pgfarm_tap_parser::{Event, Options, Parser, Summary, summarize};

use crate::corpus::read;

fn pgtap(name: &str) -> Summary {
    summarize(Parser::from_bytes_with_options(
        &read(&format!("tap/pgtap/tap/{name}.tap")),
        Options::pgtap(),
    ))
}

fn failed_ids(summary: &Summary) -> Vec<u64> {
    summary.failures.iter().map(|f| f.id).collect()
}

#[test]
fn basic_pass_fail_has_pg_proves_failures_and_diagnostics() {
    // pg_prove: "Failed 8/14 subtests", "Failed tests:  2-3, 5, 8, 10-12, 14".
    let s = pgtap("01-basic-pass-fail");
    assert!(!s.ok);
    assert_eq!((s.count, s.fail), (14, 8));
    assert_eq!(failed_ids(&s), [2, 3, 5, 8, 10, 11, 12, 14]);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let is_text = &s.failures[2];
    assert_eq!(is_text.name, "is() text fails with have/want diag");
    assert_eq!(
        is_text.diagnostics,
        [
            "Failed test 5: \"is() text fails with have/want diag\"",
            "        have: foo",
            "        want: bar"
        ]
    );
    assert_eq!(s.failures[1].diagnostics[1], "    (test result was NULL)");
    assert_eq!(s.failures[3].diagnostics[2], "   doesn't match: '^z'");
}

#[test]
fn looks_like_lines_are_summary_comments_not_diagnostics() {
    let input = read("tap/pgtap/tap/01-basic-pass-fail.tap");
    let summary_comments: Vec<String> = Parser::from_bytes_with_options(&input, Options::pgtap())
        .filter_map(|e| {
            if let Event::SummaryComment(t) = e { Some(t.raw().into_owned()) } else { None }
        })
        .collect();
    assert_eq!(summary_comments, ["Looks like you failed 8 tests of 14"]);
    let s = pgtap("01-basic-pass-fail");
    assert!(s.failures.iter().all(|f| f.diagnostics.iter().all(|d| !d.starts_with("Looks like"))));
}

#[test]
fn throws_and_lives_diagnostics_attach_to_their_failures() {
    // pg_prove: "Failed 3/7", "Failed tests:  3-4, 6".
    let s = pgtap("02-throws-lives");
    assert_eq!(failed_ids(&s), [3, 4, 6]);
    assert_eq!(
        s.failures[0].diagnostics[1..],
        ["      caught: no exception", "      wanted: 22012"]
    );
    let died = &s.failures[2].diagnostics;
    assert_eq!(
        died[1],
        "    died: 23505: duplicate key value violates unique constraint \"t_pkey\""
    );
    assert_eq!(died.len(), 9, "the whole DETAIL/SCHEMA/TABLE/CONSTRAINT/CONTEXT block: {died:?}");
}

#[test]
fn skip_todo_diag_passes_with_a_passing_todo() {
    // pg_prove: "ok", "TODO passed:   6".
    let s = pgtap("03-skip-todo-diag");
    assert!(s.ok, "{:?}", s.errors);
    assert_eq!((s.count, s.todo, s.skip), (9, 3, 3));
    let input = read("tap/pgtap/tap/03-skip-todo-diag.tap");
    let todo_passed: Vec<u64> = Parser::from_bytes_with_options(&input, Options::pgtap())
        .filter_map(|e| match e {
            Event::TestPoint(p)
                if p.ok
                    && p.directive
                        .as_ref()
                        .is_some_and(|d| d.kind == pgfarm_tap_parser::DirectiveKind::Todo) =>
            {
                Some(p.number)
            }
            _ => None,
        })
        .collect();
    assert_eq!(todo_passed, [6]);
}

#[test]
fn no_plan_output_has_its_plan_at_the_end() {
    // pg_prove: "Failed 1/3", "Failed test:  3".
    let s = pgtap("04-no-plan");
    assert_eq!(failed_ids(&s), [3]);
    assert_eq!(s.plan.as_ref().map(|p| (p.start, p.end)), Some((1, 3)));
    assert!(s.errors.is_empty());
}

#[test]
fn plan_mismatch_is_a_protocol_error() {
    // pg_prove: "Bad plan.  You planned 5 tests but ran 3." with 0 failed tests.
    let s = pgtap("05-plan-mismatch");
    assert!(!s.ok);
    assert_eq!((s.count, s.fail), (3, 0));
    assert_eq!(s.errors.len(), 1);
    assert!(s.errors[0].ends_with("planned 5 tests but ran 3"), "{:?}", s.errors);
}

#[test]
fn schema_assertions_failures() {
    // pg_prove: "Failed tests:  2, 5, 8" of 8.
    let s = pgtap("06-schema-assertions");
    assert_eq!((s.count, failed_ids(&s)), (8, vec![2, 5, 8]));
    assert_eq!(s.failures[2].diagnostics[1], "    Results differ beginning at row 2:");
}

#[test]
fn xunit_subtests_count_by_correlated_points() {
    // pg_prove: "Failed 2/4", "Failed tests:  2-3" (it ignores the indented subtests).
    // We read the subtests too: test_dies has no plan (a protocol error inside a subtest whose
    // correlated point already fails), and every runtests() name matches in pgTAP mode.
    let s = pgtap("07-xunit-subtests");
    assert_eq!((s.count, s.pass), (4, 2));
    assert_eq!(failed_ids(&s), [2, 3]);
    assert_eq!(s.failures[0].name, "unit.test_dies");
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert!(
        s.errors[0].contains("subtest depth 1") && s.errors[0].ends_with("no plan"),
        "{:?}",
        s.errors
    );
    assert!(s.warnings.is_empty(), "names match modulo `()`: {:?}", s.warnings);
    let input = read("tap/pgtap/tap/07-xunit-subtests.tap");
    let names: Vec<String> = Parser::from_bytes_with_options(&input, Options::pgtap())
        .filter_map(|e| {
            if let Event::SubtestStart(s) = e { s.name.map(|n| n.raw().into_owned()) } else { None }
        })
        .collect();
    assert_eq!(
        names,
        ["unit.test_count()", "unit.test_dies()", "unit.test_failing()", "unit.test_skip_todo()"]
    );
}

#[test]
fn special_characters_follow_the_escaping_rules() {
    // pg_prove reports the file "ok": the unescaped `# SKIP`/`# TODO` words are directives.
    let s = pgtap("08-special-chars");
    assert!(s.ok);
    assert_eq!((s.count, s.skip, s.todo, s.fail), (7, 1, 1, 0));
    let input = read("tap/pgtap/tap/08-special-chars.tap");
    let descriptions: Vec<String> = Parser::from_bytes(&input)
        .filter_map(|e| {
            if let Event::TestPoint(p) = e {
                Some(p.description.unescaped().into_owned())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(descriptions[0], "hash # in the middle");
    assert_eq!(descriptions[3], "backslash \\ and escaped hash # here");
    assert_eq!(descriptions[5], "unicode: héllo wörld ✓ 日本");
}

#[test]
fn died_midway_is_a_bad_plan() {
    // pg_prove: "Bad plan.  You planned 4 tests but ran 2." (plus the exit status, which a
    // TAP parser does not see).
    let s = pgtap("09-died-midway");
    assert_eq!((s.count, s.pass, s.fail), (2, 2, 0));
    assert_eq!(s.errors.len(), 1);
    assert!(s.errors[0].ends_with("planned 4 tests but ran 2"));
}

#[test]
fn too_many_reports_out_of_plan_ids_as_protocol_errors() {
    // pg_prove: "Failed tests:  3-4" and "Bad plan. You planned 2 tests but ran 4." It counts
    // the passing out-of-plan test 3 as failed; we keep test 3 passed and report ids 3 and 4
    // outside the plan as protocol errors, so only test 4 is a failed test point.
    let s = pgtap("10-too-many");
    assert!(!s.ok);
    assert_eq!(failed_ids(&s), [4]);
    assert_eq!(s.errors.len(), 3, "{:?}", s.errors);
    assert!(s.errors[0].contains("id 3 outside the plan 1..2"));
    assert!(s.errors[1].contains("id 4 outside the plan 1..2"));
    assert!(s.errors[2].ends_with("planned 2 tests but ran 4"));
}

#[test]
fn psql_default_format_is_not_tap() {
    // Captured without pg_prove's psql flags: every line is indented by one space or is psql
    // decoration, so nothing is TAP (spec: indentation not a multiple of 4 is non-TAP) and the
    // stream fails for lack of a plan. (pg_prove forces clean output and reports 1/3 failed.)
    let s = pgtap("11-psql-default-format");
    assert!(!s.ok);
    assert_eq!((s.count, s.plan.is_none()), (0, true));
    assert_eq!(s.errors.len(), 1);
}

#[test]
fn all_files_total_like_pg_prove() {
    // pg_prove: "Files=11, Tests=64"; its Tests counts test points run, 11 counts 3 for
    // the psql-formatted file it re-ran cleanly, which we read as 0.
    let total: u64 = (1..=11)
        .map(|n| {
            let name = std::fs::read_dir(crate::corpus::corpus_dir().join("tap/pgtap/tap"))
                .expect("pgtap dir")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|f| f.starts_with(&format!("{n:02}-")) && f.ends_with(".tap"))
                .expect("numbered pgTAP file");
            pgtap(name.trim_end_matches(".tap")).count
        })
        .sum();
    assert_eq!(total, 64 - 3);
}
