//! `pgfarm tap` end to end: the built binary on corpus TAP files (real pgTAP runs and node
//! tap-parser fixtures), its JSON output, exit codes, stdin handling and TAP re-emission.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `shared/corpus/tap`, beside the repository.
fn corpus_tap() -> PathBuf {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/tap"));
    assert!(
        dir.is_dir(),
        "the TAP corpus is missing: expected {} (shared/ must sit beside the repository)",
        dir.display()
    );
    dir.to_path_buf()
}

fn pgfarm(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgfarm"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pgfarm binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input)
            .expect("stdin accepts the input");
    }
    child.wait_with_output().expect("pgfarm finishes")
}

fn json_of(file: &Path, extra: &[&str]) -> (Value, i32) {
    let file = file.to_str().expect("corpus paths are UTF-8");
    let mut args = vec!["tap", "--format", "json", file];
    args.extend_from_slice(extra);
    let output = pgfarm(&args, None);
    let stdout = String::from_utf8(output.stdout).expect("JSON is UTF-8");
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("not one JSON object ({err}): {stdout}"));
    (value, output.status.code().expect("exited normally"))
}

fn failure_ids(value: &Value) -> Vec<u64> {
    value["failures"]
        .as_array()
        .expect("failures is an array")
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn json_has_exactly_the_documented_fields_in_order() {
    let Some(_) =
        pgfarm_testsupport::corpus("json_has_exactly_the_documented_fields_in_order", "tap")
    else {
        return;
    };
    let (value, _) = json_of(&corpus_tap().join("pgtap/tap/01-basic-pass-fail.tap"), &["--pgtap"]);
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted_expected = vec![
        "ok", "count", "pass", "fail", "todo", "skip", "bailout", "plan", "failures", "errors",
    ];
    sorted_expected.sort();
    assert_eq!(
        keys, sorted_expected,
        "serde_json's Value sorts keys; the set must be exactly these"
    );
    let plan_keys: Vec<&str> =
        value["plan"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(plan_keys, ["end", "skip_all", "skip_reason", "start"]);
    let failure_keys: Vec<&str> =
        value["failures"][0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(failure_keys, ["id", "name"]);
}

#[test]
fn json_text_keeps_the_field_order() {
    let Some(_) = pgfarm_testsupport::corpus("json_text_keeps_the_field_order", "tap") else {
        return;
    };
    let file = corpus_tap().join("pgtap/tap/03-skip-todo-diag.tap");
    let output = pgfarm(&["tap", "--format", "json", file.to_str().unwrap()], None);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(r#"{"ok":true,"count":9,"pass":7,"fail":0,"todo":3,"skip":3,"bailout":null,"plan":{"start":1,"end":9,"skip_all":false,"skip_reason":null},"failures":[],"errors":[]}"#),
        "{stdout}"
    );
}

#[test]
fn pgtap_failures_match_pg_prove_and_exit_1() {
    let Some(_) = pgfarm_testsupport::corpus("pgtap_failures_match_pg_prove_and_exit_1", "tap")
    else {
        return;
    };
    // pg_prove-summary.txt: "Failed tests:  2-3, 5, 8, 10-12, 14" (8/14).
    let (value, code) =
        json_of(&corpus_tap().join("pgtap/tap/01-basic-pass-fail.tap"), &["--pgtap"]);
    assert_eq!(code, 1);
    assert_eq!(value["ok"], false);
    assert_eq!((value["count"].as_u64(), value["fail"].as_u64()), (Some(14), Some(8)));
    assert_eq!(failure_ids(&value), [2, 3, 5, 8, 10, 11, 12, 14]);
    assert_eq!(value["failures"][0]["name"], "ok() fails");
    assert_eq!(value["errors"], serde_json::json!([]));
}

#[test]
fn passing_stream_with_todo_and_skip_exits_0() {
    let Some(_) = pgfarm_testsupport::corpus("passing_stream_with_todo_and_skip_exits_0", "tap")
    else {
        return;
    };
    let (value, code) =
        json_of(&corpus_tap().join("pgtap/tap/03-skip-todo-diag.tap"), &["--pgtap"]);
    assert_eq!(code, 0);
    assert_eq!(value["ok"], true);
    assert_eq!((value["todo"].as_u64(), value["skip"].as_u64()), (Some(3), Some(3)));
}

#[test]
fn plan_mismatch_is_a_protocol_error_not_a_failure() {
    let Some(_) =
        pgfarm_testsupport::corpus("plan_mismatch_is_a_protocol_error_not_a_failure", "tap")
    else {
        return;
    };
    // pg_prove: "Bad plan.  You planned 5 tests but ran 3."
    let (value, code) = json_of(&corpus_tap().join("pgtap/tap/05-plan-mismatch.tap"), &[]);
    assert_eq!(code, 1);
    assert_eq!((value["fail"].as_u64(), value["pass"].as_u64()), (Some(0), Some(3)));
    let errors = value["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].as_str().unwrap().contains("planned 5 tests but ran 3"), "{errors:?}");
}

#[test]
fn bailout_reason_and_skip_all_plan_are_reported() {
    let Some(_) =
        pgfarm_testsupport::corpus("bailout_reason_and_skip_all_plan_are_reported", "tap")
    else {
        return;
    };
    let (value, code) = json_of(&corpus_tap().join("node-tap-parser/fixtures/bailout.tap"), &[]);
    assert_eq!(code, 1);
    assert_eq!(value["bailout"], "GERONIMMMOOOOOO!!!");
    let (value, code) = json_of(&corpus_tap().join("node-tap-parser/fixtures/skipall.tap"), &[]);
    assert_eq!(code, 0);
    assert_eq!(value["plan"]["skip_all"], true);
    assert_eq!(value["plan"]["skip_reason"], "skipping: rope");
}

#[test]
fn reads_standard_input_for_dash_and_for_no_file() {
    let input = b"TAP version 14\n1..2\nok 1 - a\r\nnot ok 2 - b \\# c\n";
    for args in [&["tap", "--format", "json", "-"][..], &["tap", "--format", "json"][..]] {
        let output = pgfarm(args, Some(input));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(value["failures"], serde_json::json!([{"id": 2, "name": "b # c"}]));
    }
}

#[test]
fn unreadable_file_exits_2_with_one_line_naming_it() {
    let output = pgfarm(&["tap", "/nonexistent/dir/results.tap"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/dir/results.tap"), "{stderr}");
}

#[test]
fn unknown_format_is_a_usage_error() {
    let output = pgfarm(&["tap", "--format", "xml", "-"], Some(b""));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn human_format_shows_failure_diagnostics_and_errors() {
    let Some(_) =
        pgfarm_testsupport::corpus("human_format_shows_failure_diagnostics_and_errors", "tap")
    else {
        return;
    };
    let file = corpus_tap().join("pgtap/tap/02-throws-lives.tap");
    let output = pgfarm(&["tap", "--pgtap", file.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(": FAIL"), "{stdout}");
    assert!(stdout.contains("not ok 4 - throws_ok() fails with wrong errcode"), "{stdout}");
    assert!(stdout.contains("caught: 22012: division by zero"), "{stdout}");
    assert!(stdout.contains("died: 23505: duplicate key value"), "{stdout}");
}

#[test]
fn tap14_output_reparses_to_the_same_json() {
    let Some(_) = pgfarm_testsupport::corpus("tap14_output_reparses_to_the_same_json", "tap")
    else {
        return;
    };
    for name in [
        "pgtap/tap/07-xunit-subtests.tap",
        "node-tap-parser/fixtures/subtest-buffer.tap",
        "node-tap-parser/fixtures/hashes.tap",
    ] {
        let file = corpus_tap().join(name);
        let (original, original_code) = json_of(&file, &["--pgtap"]);
        let tap = pgfarm(&["tap", "--pgtap", "--format", "tap14", file.to_str().unwrap()], None);
        assert_eq!(tap.status.code(), Some(original_code), "{name}: tap14 exit code");
        assert!(tap.stdout.starts_with(b"TAP version 14\n"), "{name}");
        let again = pgfarm(&["tap", "--pgtap", "--format", "json", "-"], Some(&tap.stdout));
        let mut again: Value = serde_json::from_slice(&again.stdout).unwrap();
        let mut original = original;
        // Error messages carry line numbers, which normalization changes; compare their number.
        for value in [&mut again, &mut original] {
            let n_errors = value["errors"].as_array().unwrap().len();
            value["errors"] = Value::from(n_errors);
        }
        assert_eq!(
            again,
            original,
            "{name}: re-parsed summary differs; TAP was:\n{}",
            String::from_utf8_lossy(&tap.stdout)
        );
    }
}

#[test]
fn tap13_output_starts_with_version_13() {
    let Some(_) = pgfarm_testsupport::corpus("tap13_output_starts_with_version_13", "tap") else {
        return;
    };
    let file = corpus_tap().join("pgtap/tap/04-no-plan.tap");
    let tap = pgfarm(&["tap", "--format", "tap13", file.to_str().unwrap()], None);
    assert_eq!(tap.status.code(), Some(1));
    let text = String::from_utf8(tap.stdout).unwrap();
    assert!(text.starts_with("TAP version 13\nok 1 - first\n"), "{text}");
    assert!(text.contains("\n1..3\n"), "{text}");
}
