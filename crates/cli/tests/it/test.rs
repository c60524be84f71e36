//! `pgfarm test` end to end on the fixture extensions in `testdata/extensions`, across the
//! lowest and highest PostgreSQL majors found (two at least), checking exit codes, stage
//! statuses in the written bundles, the upgrade comparison, usage errors and interruption.
//!
//! Needs two installations with PGXS (scripts/setup-pg.sh puts 13-18 under .pg/); with fewer
//! each test prints a note and returns.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pgfarm_model::{Bundle, RunStatus, StageKind, StageStatus};
use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions"))
}

/// The lowest and highest majors with PGXS and pgTAP, as `--pg` wants them.
fn two_majors(test: &str) -> Option<String> {
    let mut majors: Vec<u32> =
        Installation::discover().iter().filter(|i| i.has_pgxs()).map(Installation::major).collect();
    majors.sort_unstable();
    majors.dedup();
    if !pgfarm_testsupport::require(
        test,
        "two PostgreSQL installations with PGXS (scripts/setup-pg.sh)",
        majors.len() >= 2,
    ) {
        return None;
    }
    Some(format!("{},{}", majors[0], majors[majors.len() - 1]))
}

fn copy_fixture(name: &str, to: &Path) -> PathBuf {
    let target = to.join(name);
    copy_dir(&fixtures().join(name), &target);
    target
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn pgfarm_test(dir: &Path, majors: &str, out: &Path) -> Output {
    Command::new(PGFARM)
        .args(["test", "--plain", "--pg", majors, "--out"])
        .arg(out)
        .arg(dir)
        .output()
        .unwrap()
}

fn bundles(out: &Path) -> Vec<Bundle> {
    let mut paths: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".pgfarm.json.gz"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let bundle = Bundle::from_slice(&fs::read(p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            bundle.validate().unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            bundle
        })
        .collect()
}

fn stage_status(bundle: &Bundle, kind: StageKind) -> StageStatus {
    bundle.stage(kind).map(|s| s.status).unwrap_or_else(|| panic!("no {kind:?} stage"))
}

fn describe(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_run_waits_for_another_that_holds_the_installation_tree() {
    let Some(majors) = two_majors("a_run_waits_for_another_that_holds_the_installation_tree")
    else {
        return;
    };
    let major: u32 = majors.split(',').next().unwrap().parse().unwrap();
    let installation = Installation::find(major).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("pure_sql", tmp.path());
    let out_dir = tmp.path().join("out");
    // This test holds the tree, as another `pgfarm test` in its install..upgrade stages would.
    let held = installation.lock_tree(&|| false, &mut || {}).unwrap().unwrap();
    let mut child = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &major.to_string(), "--out"])
        .arg(&out_dir)
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run must wait while the tree is held");
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let bundle = &bundles(&out_dir)[0];
    let log = bundle.stage(StageKind::Install).unwrap().log.to_string_lossy().into_owned();
    assert!(
        log.contains("pgfarm: waited") && log.contains("for another pgfarm run using"),
        "{log}"
    );
}

#[test]
fn passing_fixtures_pass_on_two_majors_with_one_bundle_each() {
    let Some(majors) = two_majors("passing_fixtures_pass_on_two_majors_with_one_bundle_each")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for (name, regress, tap, upgrade) in [
        ("pure_sql", StageStatus::Ok, StageStatus::Missing, StageStatus::Missing),
        ("c_func", StageStatus::Ok, StageStatus::Missing, StageStatus::Missing),
        ("upgrade", StageStatus::Ok, StageStatus::Missing, StageStatus::Ok),
        ("tap_only", StageStatus::Missing, StageStatus::Ok, StageStatus::Missing),
    ] {
        let dir = copy_fixture(name, tmp.path());
        let out_dir = tmp.path().join(format!("out-{name}"));
        let out = pgfarm_test(&dir, &majors, &out_dir);
        assert_eq!(out.status.code(), Some(0), "{name}\n{}", describe(&out));
        let bundles = bundles(&out_dir);
        assert_eq!(bundles.len(), 2, "{name}: one bundle per installation");
        for bundle in &bundles {
            assert_eq!(bundle.run.status, RunStatus::Ok, "{name}");
            for kind in [StageKind::Build, StageKind::Install, StageKind::Cluster, StageKind::Load]
            {
                assert_eq!(stage_status(bundle, kind), StageStatus::Ok, "{name} {kind:?}");
            }
            assert_eq!(stage_status(bundle, StageKind::Regress), regress, "{name}");
            assert_eq!(stage_status(bundle, StageKind::Tap), tap, "{name}");
            assert_eq!(stage_status(bundle, StageKind::Upgrade), upgrade, "{name}");
        }
        if name == "pure_sql" {
            // era has variant expected files: each major matched a different one.
            let chosen: Vec<String> = bundles
                .iter()
                .map(|b| {
                    b.regress
                        .iter()
                        .find(|t| t.name == "era")
                        .and_then(|t| t.chosen_expected.clone())
                        .unwrap()
                })
                .collect();
            let newest_is_16_or_later = bundles[1].postgres.major >= 16;
            if bundles[0].postgres.major < 16 && newest_is_16_or_later {
                assert_eq!(chosen, ["era_1.out", "era.out"]);
            }
        }
        if name == "tap_only" {
            assert_eq!(bundles[0].tap.len(), 2, "helpers.sql has no plan and is not a test");
        }
    }
}

#[test]
fn tap_files_run_in_parallel_each_in_its_own_copy_of_the_database() {
    let Some(majors) = two_majors("tap_files_run_in_parallel_each_in_its_own_copy_of_the_database")
    else {
        return;
    };
    let newest = majors.rsplit(',').next().unwrap_or_default().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("tap_only", tmp.path());
    let database_of = |out_dir: &Path| -> Vec<String> {
        let bundles = bundles(out_dir);
        bundles[0]
            .tap
            .iter()
            .filter(|f| f.path.ends_with("database.sql"))
            .map(|f| {
                let stream = f.stream.to_string_lossy().into_owned();
                let line = stream.lines().find(|l| l.starts_with("# database: "));
                line.unwrap_or_else(|| panic!("no database line in {stream}")).to_owned()
            })
            .collect()
    };
    // One installation and --jobs 4: the two TAP files run at once, each in a copy of
    // pgfarm_tap (which holds the set-up: pgtap is installed there).
    let parallel = tmp.path().join("out-parallel");
    let out = Command::new(PGFARM)
        .args(["test", "--plain", "--jobs", "4", "--pg", &newest, "--out"])
        .arg(&parallel)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let db = database_of(&parallel);
    assert_eq!(db.len(), 1);
    assert!(db[0].starts_with("# database: pgfarm_tap_pgfarm_"), "{db:?}");
    // --jobs 1: one file at a time in pgfarm_tap itself, as pg_prove would run them.
    let serial = tmp.path().join("out-serial");
    let out = Command::new(PGFARM)
        .args(["test", "--plain", "--jobs", "1", "--pg", &newest, "--out"])
        .arg(&serial)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(database_of(&serial), ["# database: pgfarm_tap"]);
}

#[test]
fn makefile_functions_and_version_conditionals_are_evaluated_per_installation() {
    let Some(majors) =
        two_majors("makefile_functions_and_version_conditionals_are_evaluated_per_installation")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("make_functions", tmp.path());
    let out_dir = tmp.path().join("out");
    let out = pgfarm_test(&dir, &majors, &out_dir);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    for bundle in bundles(&out_dir) {
        let names: Vec<&str> = bundle.regress.iter().map(|t| t.name.as_str()).collect();
        // REGRESS = $(patsubst ..,$(wildcard test/sql/*.sql)), minus since16 below 16.
        let want: &[&str] =
            if bundle.postgres.major >= 16 { &["basic", "since16"] } else { &["basic"] };
        assert_eq!(names, want, "PostgreSQL {}", bundle.postgres.major);
    }
}

#[test]
fn failing_fixture_exits_1_and_keeps_the_diff() {
    let Some(majors) = two_majors("failing_fixture_exits_1_and_keeps_the_diff") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("failing", tmp.path());
    let junit = tmp.path().join("junit.xml");
    let out = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &majors, "--out"])
        .arg(tmp.path().join("out"))
        .arg("--junit")
        .arg(&junit)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("regress: 1 of 2 tests failed: fails"), "{stdout}");
    // The summary names each failed installation's cause (pgfarm-verdict's `run-cause`).
    assert!(stdout.contains(" cause: test_failures (regress "), "{stdout}");
    for bundle in bundles(&tmp.path().join("out")) {
        assert_eq!(bundle.run.status, RunStatus::Failed);
        assert_eq!(stage_status(&bundle, StageKind::Regress), StageStatus::Failed);
        assert_eq!(
            stage_status(&bundle, StageKind::Tap),
            StageStatus::Missing,
            "a failing suite does not skip the other suites (this fixture has no pgTAP files)"
        );
        let fails = bundle.regress.iter().find(|t| t.name == "fails").unwrap();
        assert!(fails.actual.to_string_lossy().contains("   2\n"));
        assert!(fails.chosen().unwrap().content.to_string_lossy().contains("   3\n"));
    }
    assert!(fs::read_to_string(junit).unwrap().contains("<failure"));
}

#[test]
fn upgrade_stage_fails_when_the_update_differs_from_a_fresh_install() {
    let Some(majors) =
        two_majors("upgrade_stage_fails_when_the_update_differs_from_a_fresh_install")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // A renamed copy, so the install into the shared trees cannot race the passing fixture.
    let dir = tmp.path().join("upgrade_drift");
    fs::create_dir_all(dir.join("test/sql")).unwrap();
    fs::create_dir_all(dir.join("test/expected")).unwrap();
    for rel in [
        "Makefile",
        "upgrade.control",
        "upgrade--1.0.sql",
        "upgrade--1.0--1.1.sql",
        "upgrade--1.1.sql",
        "test/sql/greet.sql",
        "test/expected/greet.out",
    ] {
        let text = fs::read_to_string(fixtures().join("upgrade").join(rel)).unwrap();
        fs::write(
            dir.join(rel.replace("upgrade", "upgrade_drift")),
            text.replace("upgrade", "upgrade_drift"),
        )
        .unwrap();
    }
    // The fresh 1.1 script declares farewell() STABLE; the update script makes it IMMUTABLE.
    let fresh = dir.join("upgrade_drift--1.1.sql");
    let text = fs::read_to_string(&fresh).unwrap();
    fs::write(
        &fresh,
        text.replace(
            "farewell(text) RETURNS text LANGUAGE sql IMMUTABLE",
            "farewell(text) RETURNS text LANGUAGE sql STABLE",
        ),
    )
    .unwrap();
    let out = pgfarm_test(&dir, &majors, &tmp.path().join("out"));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    for bundle in bundles(&tmp.path().join("out")) {
        let stage = bundle.stage(StageKind::Upgrade).unwrap();
        assert_eq!(stage.status, StageStatus::Failed);
        assert!(
            stage.error.as_deref().unwrap_or("").contains("differs from a fresh install"),
            "{:?}",
            stage.error
        );
        assert!(
            stage.log.to_string_lossy().contains("farewell"),
            "the log shows the differing object"
        );
    }
}

#[test]
fn extension_without_tests_exits_4() {
    let Some(majors) = two_majors("extension_without_tests_exits_4") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("tap_only", tmp.path());
    fs::remove_dir_all(dir.join("test")).unwrap();
    let out = pgfarm_test(&dir, &majors, &tmp.path().join("out"));
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
}

#[test]
fn usage_and_configuration_errors_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(PGFARM)
        .args(["test", "--pg", "16..13"])
        .arg(fixtures().join("pure_sql"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty range"));
    let out = Command::new(PGFARM).args(["test", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(PGFARM).args(["test"]).arg(tmp.path().join("missing")).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    fs::write(tmp.path().join("pgfarm.toml"), "[regress]\ntestz = 1\n").unwrap();
    let out = Command::new(PGFARM).args(["test"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pgfarm.toml"));
}

#[test]
fn sigterm_stops_the_run_and_writes_interrupted_bundles() {
    let Some(majors) = two_majors("sigterm_stops_the_run_and_writes_interrupted_bundles") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("pure_sql", tmp.path());
    // A test that would hang for a minute.
    fs::write(dir.join("test/sql/basic.sql"), "SELECT pg_sleep(60);\n").unwrap();
    let out_dir = tmp.path().join("out");
    let work = tmp.path().join("work");
    let child = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &majors, "--out"])
        .arg(&out_dir)
        .arg("--workdir")
        .arg(&work)
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a regress stage is running (the cluster is up), then send SIGTERM.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let pid = child.id().to_string();
        // pg_regress's results/ is in the source copy, as under make installcheck.
        let running = fs::read_dir(&work)
            .map(|d| d.flatten().any(|e| e.path().join("src/results").is_dir()))
            .unwrap_or(false);
        if running {
            std::thread::sleep(Duration::from_millis(300));
            Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed_at = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        killed_at.elapsed() < Duration::from_secs(15),
        "stopping took {:?}",
        killed_at.elapsed()
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let bundles = bundles(&out_dir);
    assert_eq!(bundles.len(), 2);
    assert!(
        bundles.iter().any(|b| b.run.status == RunStatus::Interrupted),
        "{:?}",
        bundles.iter().map(|b| b.run.status).collect::<Vec<_>>()
    );
}
