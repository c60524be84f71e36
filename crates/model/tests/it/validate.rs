//! `Bundle::validate` on hand-broken copies of the samples: each check names its field.

use pgfarm_model::{Bundle, RunStatus, Stage, StageKind, StageStatus, TestStatus};
use time::macros::datetime;

use crate::samples::SAMPLES;

fn regress_fail() -> Bundle {
    (SAMPLES[1].1)()
}

fn tap_fail() -> Bundle {
    (SAMPLES[2].1)()
}

#[track_caller]
fn check(bundle: &Bundle, expected: &str) {
    match bundle.validate() {
        Ok(()) => panic!("expected the error {expected:?}, the bundle validated"),
        Err(err) => assert_eq!(err.to_string(), expected),
    }
}

#[test]
fn samples_are_valid() {
    for (name, build) in SAMPLES {
        build().validate().unwrap_or_else(|err| panic!("{name}: {err}"));
    }
}

#[test]
fn stages_out_of_order_are_reported() {
    let mut bundle = regress_fail();
    bundle.stages.swap(0, 1);
    check(
        &bundle,
        "stages[1].kind: stage `build` comes after `install`; the order is build, install, cluster, load, regress, isolation, tap, perl_tap, installcheck, upgrade",
    );
    bundle.sort_stages();
    assert!(bundle.validate().is_ok());
}

#[test]
fn duplicate_stage_is_reported() {
    let mut bundle = regress_fail();
    bundle.stages.insert(1, Stage::new(StageKind::Build, StageStatus::Ok, 1));
    check(&bundle, "stages[1].kind: stage `build` appears twice");
}

#[test]
fn minor_must_agree_with_version() {
    let mut bundle = regress_fail();
    bundle.postgres.minor = None;
    check(&bundle, "postgres.minor: is none but version \"15.18\" has minor 18");
    bundle.postgres.version = "15beta2".to_owned();
    assert!(bundle.validate().is_ok());
}

#[test]
fn version_must_start_with_a_number() {
    let mut bundle = regress_fail();
    bundle.postgres.version = "PostgreSQL 15.18".to_owned();
    check(
        &bundle,
        "postgres.version: \"PostgreSQL 15.18\" does not start with a major version number",
    );
}

#[test]
fn empty_and_oversized_names_are_reported() {
    let mut bundle = regress_fail();
    bundle.machine.name.clear();
    check(&bundle, "machine.name: is empty");
    let mut bundle = regress_fail();
    bundle.regress[1].name = "x".repeat(256);
    check(&bundle, "regress[1].name: is 256 bytes long, the limit is 255");
}

#[test]
fn control_characters_in_names_are_reported() {
    let mut bundle = regress_fail();
    bundle.extension.name = "bad\nname".to_owned();
    check(&bundle, "extension.name: contains the control character '\\n'");
}

#[test]
fn git_commit_must_be_lowercase_hex() {
    let mut bundle = regress_fail();
    bundle.extension.git_commit = Some("DEADBEEF".to_owned());
    check(&bundle, "extension.git_commit: \"DEADBEEF\" is not 4 to 64 lowercase hex digits");
}

#[test]
fn finished_before_created_is_reported() {
    let mut bundle = regress_fail();
    bundle.run.finished_at = datetime!(2020-01-01 00:00 UTC);
    check(
        &bundle,
        "run.finished_at: is before run.created_at (2020-01-01 0:00:00.0 +00:00:00 < 2026-11-22 3:36:06.0 +00:00:00)",
    );
}

#[test]
fn non_utc_timestamps_are_reported() {
    let mut bundle = regress_fail();
    bundle.stages[2].started_at = Some(datetime!(2026-11-22 05:36:07 +02:00));
    check(&bundle, "stages[2].started_at: has offset +02:00:00, expected UTC (Z)");
}

#[test]
fn duplicate_test_name_in_one_group_is_reported() {
    let mut bundle = regress_fail();
    bundle.regress[2].name = "two".to_owned();
    check(&bundle, "regress[2].name: test \"two\" appears twice in group 1");
}

#[test]
fn test_run_again_in_a_later_group_is_accepted() {
    // The regress-fail sample runs `one` twice, as pg_regress does for `--schedule=schedule one`
    // when the schedule also names `one` (corpus regress/format-samples/pg15).
    let bundle = regress_fail();
    let groups: Vec<u32> =
        bundle.regress.iter().filter(|t| t.name == "one").map(|t| t.group).collect();
    assert_eq!(groups, [0, 2]);
    assert_eq!(bundle.validate(), Ok(()));
}

#[test]
fn groups_must_not_decrease() {
    let mut bundle = regress_fail();
    bundle.regress[0].group = 5;
    check(&bundle, "regress[1].group: is 1 after group 5; tests are listed in schedule order");
}

#[test]
fn chosen_expected_must_be_one_of_the_expected_files() {
    let mut bundle = regress_fail();
    bundle.regress[2].chosen_expected = Some("three_9.out".to_owned());
    check(
        &bundle,
        "regress[2].chosen_expected: \"three_9.out\" is not one of the expected files of the test",
    );
}

#[test]
fn duplicate_expected_file_is_reported() {
    let mut bundle = regress_fail();
    bundle.regress[2].expected[1].file_name = "three.out".to_owned();
    check(&bundle, "regress[2].expected[1].file_name: \"three.out\" appears twice");
}

#[test]
fn tests_without_their_stage_are_reported() {
    let mut bundle = regress_fail();
    bundle.stages.retain(|stage| stage.kind != StageKind::Regress);
    check(&bundle, "regress: has 4 entries but there is no `regress` stage");
}

#[test]
fn stage_ok_with_a_failing_test_is_reported() {
    let mut bundle = regress_fail();
    bundle.stages[4].status = StageStatus::Ok;
    check(&bundle, "stages[4].status: is `ok` but regress[2] did not pass");
}

#[test]
fn stage_missing_with_tests_is_reported() {
    let mut bundle = tap_fail();
    bundle.stages[5].status = StageStatus::Missing;
    check(&bundle, "stages[5].status: is `missing` but tap has 4 entries");
}

#[test]
fn ignored_tap_file_is_reported() {
    let mut bundle = tap_fail();
    bundle.tap[1].status = TestStatus::Ignored;
    check(&bundle, "tap[1].status: `ignored` is for regression tests only");
}

#[test]
fn ignored_regress_test_does_not_fail_an_ok_stage() {
    let mut bundle = regress_fail();
    bundle.regress[2].status = TestStatus::Ignored;
    bundle.stages[4].status = StageStatus::Ok;
    bundle.run.status = RunStatus::Ok;
    bundle.stages.truncate(5);
    assert!(bundle.validate().is_ok());
}

#[test]
fn run_ok_with_a_failed_stage_is_reported() {
    let mut bundle = regress_fail();
    bundle.run.status = RunStatus::Ok;
    check(&bundle, "run.status: is `ok` but stage `regress` failed");
}

#[test]
fn wrong_format_version_is_reported() {
    let mut bundle = regress_fail();
    bundle.format_version = 7;
    check(&bundle, "format_version: is 7, this build handles 1 to 3");
}

#[test]
fn timestamp_rfc3339_cannot_hold_is_reported_and_write_json_errs() {
    let mut bundle = regress_fail();
    bundle.run.created_at = datetime!(-0001-01-01 00:00 UTC);
    check(&bundle, "run.created_at: has year -1, RFC 3339 allows 0000 to 9999");
    let err = bundle.write_json(Vec::new()).expect_err("a negative year cannot be written");
    assert!(err.to_string().contains("year"), "{err}");
}

#[test]
fn problems_lists_every_problem_in_field_order() {
    let mut bundle = regress_fail();
    bundle.machine.name.clear();
    bundle.postgres.major = 16;
    bundle.regress[1].name = "one".to_owned();
    bundle.regress[1].group = 0;
    bundle.run.status = RunStatus::Ok;
    let problems: Vec<String> = bundle.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "machine.name: is empty",
            "postgres.major: is 16 but version \"15.18\" has major 15",
            "regress[1].name: test \"one\" appears twice in group 0",
            "run.status: is `ok` but stage `regress` failed",
        ]
    );
    assert_eq!(bundle.validate().unwrap_err().to_string(), problems[0]);
    assert!(regress_fail().problems().is_empty());
}
