//! The embedding crate's behaviour, through pgfarm-tap-parser resolved by version.

use embed_tap_parser::report;

#[test]
fn a_failing_pgtap_stream_is_reported_with_its_details() {
    let tap = "1..3\nok 1 - connects\nnot ok 2 - counts rows\n# Failed test 2: \"counts rows\"\n#         have: 2\n#         want: 3\nok 3 # SKIP no replica\n";
    let report = report(tap);
    assert!(!report.ok);
    assert_eq!(report.line, "3 tests, 1 failed (2 counts rows), 1 skipped");
    assert_eq!(
        report.details,
        [vec![
            "Failed test 2: \"counts rows\"".to_string(),
            "        have: 2".to_string(),
            "        want: 3".to_string(),
        ]]
    );
}

#[test]
fn a_passing_stream_is_ok() {
    let report = report("1..2\nok 1 - a\nok 2 - b\n");
    assert!(report.ok);
    assert_eq!(report.line, "2 tests");
    assert!(report.details.is_empty());
}

#[test]
fn a_short_plan_is_a_protocol_error() {
    let report = report("1..3\nok 1 - a\n");
    assert!(!report.ok);
    assert!(report.line.starts_with("1 tests, "), "{}", report.line);
}
