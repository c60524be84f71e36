//! `pgfarm test --coverage`: SQL function coverage (the pure SQL fixture, an untested function
//! named), C line coverage through gcov (the C fixture, an lcov `coverage.info` beside the
//! bundle) and `--coverage-threshold` (exit 2 naming what is uncovered).

#![allow(clippy::disallowed_methods, reason = "a test harness runs the binary under test")]

use std::fs;

use crate::build_cache::{copy_fixture, describe, only_bundle, pgfarm_test, private_home};

#[test]
fn c_coverage_has_lines_per_file_an_lcov_file_and_the_function_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((home, major)) = private_home(
        "c_coverage_has_lines_per_file_an_lcov_file_and_the_function_calls",
        tmp.path(),
    ) else {
        return;
    };
    let gcov = std::process::Command::new("gcov")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !pgfarm_testsupport::require(
        "c_coverage_has_lines_per_file_an_lcov_file_and_the_function_calls",
        "gcov",
        gcov,
    ) {
        return;
    }
    let dir = copy_fixture("c_func", tmp.path());
    let out_dir = tmp.path().join("out");
    let out = pgfarm_test(&home, &dir, major, &out_dir, &["--coverage"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let bundle = only_bundle(&out_dir);
    assert!(bundle.build_cache.is_none(), "a coverage build is not cached");
    let coverage = bundle.coverage.expect("coverage in the bundle");
    assert_eq!(coverage.functions.len(), 1, "{coverage:?}");
    assert!(coverage.functions[0].calls > 0, "{coverage:?}");
    let file = coverage.files.iter().find(|f| f.path == "c_func.c").expect("c_func.c");
    assert!(file.lines > 0 && file.lines_covered > 0, "{file:?}");
    assert_eq!(file.lines - file.lines_covered, file.uncovered_lines.len() as u32);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("coverage pg{major}: functions covered: 1 of 1 (100%)")),
        "{stdout}"
    );
    assert!(stdout.contains("C lines covered"), "{stdout}");
    let info =
        fs::read_to_string(out_dir.join(format!("c_func-1.0-pg{major}.coverage.info"))).unwrap();
    assert!(
        info.contains(&format!(
            "SF:{}",
            fs::canonicalize(&dir).unwrap().join("c_func.c").display()
        )),
        "{info}"
    );
    assert!(info.contains("DA:") && info.contains("end_of_record"), "{info}");
}

#[test]
fn sql_coverage_names_untested_functions_and_the_threshold_fails_a_passing_run() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((home, major)) = private_home(
        "sql_coverage_names_untested_functions_and_the_threshold_fails_a_passing_run",
        tmp.path(),
    ) else {
        return;
    };
    let dir = copy_fixture("pure_sql", tmp.path());
    // A function no test calls (plpgsql: never inlined, so its calls are counted).
    let script = dir.join("pure_sql--1.0.sql");
    let mut text = fs::read_to_string(&script).unwrap();
    text.push_str(
        "CREATE FUNCTION never_called() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$;\n",
    );
    fs::write(&script, text).unwrap();
    let out_dir = tmp.path().join("out");
    let out = pgfarm_test(&home, &dir, major, &out_dir, &["--coverage"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let coverage = only_bundle(&out_dir).coverage.expect("coverage");
    let names: Vec<&str> = coverage.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"public.never_called()") && names.contains(&"public.add_one(integer)"),
        "{names:?}"
    );
    assert!(coverage.untested_functions().any(|f| f.name == "public.never_called()"));
    assert!(coverage.files.is_empty(), "no C code");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("coverage merged: functions covered: "), "{stdout}");
    assert!(stdout.contains("  public.never_called()"), "{stdout}");

    let out =
        pgfarm_test(&home, &dir, major, &tmp.path().join("out2"), &["--coverage-threshold", "100"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("below --coverage-threshold 100%")
            && stderr.contains("public.never_called()"),
        "{stderr}"
    );
    let out =
        pgfarm_test(&home, &dir, major, &tmp.path().join("out3"), &["--coverage-threshold", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}
