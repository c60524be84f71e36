//! Walks every fixture of the node `tap-parser` corpus and compares our summary with node's
//! (`expected/summary-bail-false.tsv`) on ok/count/pass/todo/skip/bailout/plan.
//!
//! `fail` is not compared: node adds its "tap errors" to `fail`, we keep protocol errors in
//! `Summary::errors` (see `fail_is_failed_points_and_errors_are_apart`). Every deliberate deviation is in
//! `EXCEPTIONS` with the reason, mirrored in CONFORMANCE.md; a fixture not listed must match.

use pgfarm_tap_parser::{Parser, Summary, summarize};

use crate::corpus::{corpus_dir, read};

/// Fixtures where we deliberately differ from node, the fields that differ, and why.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("die.tap", "ok,plan_start,plan_end,skip_all", EMPTY_STREAM),
    ("empty.tap", "ok,plan_start,plan_end,skip_all", EMPTY_STREAM),
    ("out_err_mix.tap", "ok,plan_start,plan_end,skip_all", EMPTY_STREAM),
    (
        "out_of_order.tap",
        "count,pass",
        "test points after a trailing plan are counted (and each is a protocol error); node drops them from \
         the counts. Spec, Plan: 'if it appears after any Test Point lines, there must not be any Test Point \
         lines following' - it does not make them non-TAP",
    ),
    (
        "plan-in-bad-places-pre.tap",
        "ok",
        "a second plan line is a protocol error (spec, Plan: 'The Plan must appear exactly once'); node \
         ignores repeated plans",
    ),
    (
        "skip-all-with-assert.tap",
        "ok,count,pass",
        "a test point after `1..0` is counted and is a protocol error (spec, Plan: '1..0 ... no tests are \
         expected to follow'); node ignores test points after a skip-all plan",
    ),
    (
        "skip-all-with-test.tap",
        "skip",
        "a test point before `1..0` keeps its own directive (none); node retroactively counts it as skipped",
    ),
    (
        "space_after_plan.tap",
        "ok,plan_start,plan_end",
        "trailing whitespace after `1..5` is accepted as a plan (as Perl's TAP::Parser does); node rejects the \
         plan and reports `no plan`",
    ),
];

/// Reason shared by the three fixtures without any TAP line.
const EMPTY_STREAM: &str = "a stream with no plan fails, also an empty one (spec, Plan: 'A Harness must treat a \
     TAP stream lacking a plan as a failed test'); node reads an empty stream as `1..0` (skip all)";

struct Row {
    fixture: String,
    fields: Vec<String>,
}

fn rows() -> Vec<Row> {
    let tsv = read("tap/node-tap-parser/expected/summary-bail-false.tsv");
    let tsv = String::from_utf8(tsv).expect("the TSV is UTF-8");
    tsv.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<String> = line.split('\t').map(str::to_string).collect();
            Row { fixture: fields[0].clone(), fields }
        })
        .collect()
}

/// Our summary rendered in node's vocabulary.
fn ours(summary: &Summary) -> Vec<(&'static str, String)> {
    let plan = summary.plan.as_ref();
    vec![
        ("ok", summary.ok.to_string()),
        ("count", summary.count.to_string()),
        ("pass", summary.pass.to_string()),
        ("todo", summary.todo.to_string()),
        ("skip", summary.skip.to_string()),
        (
            "bailout",
            match &summary.bailout {
                None => "false".to_string(),
                Some(reason) if reason.is_empty() => "true".to_string(),
                Some(reason) => reason.clone(),
            },
        ),
        ("plan_start", plan.map(|p| p.start.to_string()).unwrap_or_default()),
        ("plan_end", plan.map(|p| p.end.to_string()).unwrap_or_default()),
        ("skip_all", plan.is_some_and(|p| p.skip_all).to_string()),
    ]
}

fn theirs(row: &Row) -> Vec<(&'static str, String)> {
    let f = &row.fields;
    vec![
        ("ok", f[1].clone()),
        ("count", f[2].clone()),
        ("pass", f[3].clone()),
        ("todo", f[5].clone()),
        ("skip", f[6].clone()),
        ("bailout", f[7].clone()),
        ("plan_start", f[8].clone()),
        ("plan_end", f[9].clone()),
        ("skip_all", f[10].clone()),
    ]
}

#[test]
fn every_node_fixture_matches_or_is_a_listed_exception() {
    let rows = rows();
    assert_eq!(rows.len(), 160, "the corpus lists 160 fixtures");
    let mut problems = Vec::new();
    let mut used_exceptions = Vec::new();
    for row in &rows {
        let input = read(&format!("tap/node-tap-parser/fixtures/{}", row.fixture));
        let summary = summarize(Parser::from_bytes(&input));
        let ours = ours(&summary);
        let theirs = theirs(row);
        let differing: Vec<&str> =
            ours.iter().zip(&theirs).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect();
        let exception = EXCEPTIONS.iter().find(|(name, _, _)| *name == row.fixture);
        match exception {
            Some((name, fields, _)) => {
                used_exceptions.push(*name);
                let listed: Vec<&str> = fields.split(',').collect();
                if differing != listed {
                    problems.push(format!(
                        "{}: listed as differing in [{fields}] but differs in [{}]\n  ours:   {ours:?}\n  node:   {theirs:?}\n  errors: {:?}",
                        row.fixture,
                        differing.join(","),
                        summary.errors
                    ));
                }
            }
            None if !differing.is_empty() => problems.push(format!(
                "{}: differs in [{}]\n  ours:   {ours:?}\n  node:   {theirs:?}\n  errors: {:?}",
                row.fixture,
                differing.join(","),
                summary.errors
            )),
            None => {}
        }
    }
    for (name, _, _) in EXCEPTIONS {
        assert!(used_exceptions.contains(name), "exception {name} names no fixture");
    }
    assert!(
        problems.is_empty(),
        "{} fixtures disagree with node:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let _ = corpus_dir();
}
