//! `pgfarm test` follows PGXS's semantics of `make installcheck`, item by item, on pgfarm's own
//! fixtures (testdata/extensions/pgxs_parity and crash) on the lowest and highest majors found:
//! a GNUmakefile, a symlink, options inside REGRESS, `--inputdir test` with a space, an empty
//! `--max-connections=`, a `--temp-config` through EXTRA_REGRESS_OPTS, a file written under
//! `results/`, an isolation spec passing through its `_1` variant, a Perl TAP file, a crashing
//! C function, an unsupported pg_regress option.
//!
//! Without PostgreSQL trees each test says why it skips, and fails when
//! `PGFARM_TEST_REQUIRE_PG=1`.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgfarm_model::{Bundle, RunStatus, StageKind, StageStatus, TestStatus};
use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions")).join(name)
}

fn majors() -> Option<(u32, u32)> {
    let mut majors: Vec<u32> =
        Installation::discover().iter().filter(|i| i.has_pgxs()).map(Installation::major).collect();
    majors.sort_unstable();
    majors.dedup();
    match (majors.first(), majors.last()) {
        (Some(&low), Some(&high)) if low < high => Some((low, high)),
        _ => {
            pgfarm_testsupport::require(
                module_path!(),
                "two PostgreSQL installations with PGXS (scripts/setup)",
                false,
            );
            None
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        let file_type = entry.file_type().unwrap();
        if file_type.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if file_type.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn pgfarm_test(dir: &Path, args: &[&str]) -> Output {
    Command::new(PGFARM).args(["test", "--plain"]).args(args).current_dir(dir).output().unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn bundles(dir: &Path) -> Vec<Bundle> {
    let mut out: Vec<Bundle> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".pgfarm.json.gz"))
                .map(|e| Bundle::from_slice(&fs::read(e.path()).unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|b| b.postgres.major);
    out
}

fn stage(bundle: &Bundle, kind: StageKind) -> &pgfarm_model::Stage {
    bundle.stage(kind).unwrap_or_else(|| panic!("no {kind} stage"))
}

#[test]
fn pgxs_parity_fixture_runs_as_make_installcheck_would() {
    let Some((low, high)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pgxs_parity");
    copy_dir(&fixture("pgxs_parity"), &dir);
    let work = tmp.path().join("work");
    let out =
        pgfarm_test(&dir, &["--pg", &format!("{low},{high}"), "--workdir", work.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let found = bundles(&dir.join("pgfarm-results"));
    assert_eq!(found.len(), 2, "{}", describe(&out));
    for bundle in &found {
        let major = bundle.postgres.major;
        let label = format!("pg{major}");
        // The copy kept the symlink as a symlink, and left pgfarm's own output out.
        let src = work.join(&label).join("src");
        assert_eq!(fs::read_link(src.join("parity.md")).unwrap(), Path::new("README.md"));
        assert!(!src.join("pgfarm-results").exists());
        assert_eq!(stage(bundle, StageKind::Build).status, StageStatus::Ok, "GNUmakefile");
        // --temp-config through EXTRA_REGRESS_OPTS reached the server: base shows parity.flag.
        let cluster_log = stage(bundle, StageKind::Cluster).log.to_string_lossy();
        assert!(cluster_log.contains("parity.flag = 'on'"), "{cluster_log}");
        assert_eq!(bundle.regress.len(), 1);
        assert_eq!(bundle.regress[0].status, TestStatus::Ok, "{}", describe(&out));
        // The test's \copy wrote into results/ of the source copy, where installcheck runs.
        assert!(src.join("results/written.txt").is_file());
        let iso = stage(bundle, StageKind::Isolation);
        if major >= 14 {
            assert_eq!(iso.status, StageStatus::Ok, "{:?}", iso.error);
            assert_eq!(bundle.isolation.len(), 1);
            assert_eq!(bundle.isolation[0].status, TestStatus::Ok);
            assert_eq!(bundle.isolation[0].chosen_expected.as_deref(), Some("counter_1.out"));
            let log = iso.log.to_string_lossy();
            assert!(log.contains("step wait limit"), "{log}");
        } else {
            assert_eq!(iso.status, StageStatus::Missing);
            assert!(iso.error.as_deref().unwrap().contains("no pg_isolation_regress"));
        }
        // The .pg trees have no Perl test modules: said, never passed.
        let perl = stage(bundle, StageKind::PerlTap);
        if !bundle.postgres.pg_config.get("BINDIR").is_some_and(|b| b.starts_with("/usr/lib")) {
            assert_eq!(perl.status, StageStatus::Missing);
            assert!(perl.error.as_deref().unwrap().contains("TAP tests not enabled"), "{perl:?}");
        }
        assert_eq!(bundle.run.status, RunStatus::Ok);
    }
}

#[test]
fn an_unsupported_pg_regress_option_is_an_error_naming_it() {
    let Some((low, _)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pgxs_parity");
    copy_dir(&fixture("pgxs_parity"), &dir);
    let makefile = fs::read_to_string(dir.join("GNUmakefile")).unwrap();
    fs::write(
        dir.join("GNUmakefile"),
        makefile.replace("--max-connections=", "--max-connections= --frobnicate=yes"),
    )
    .unwrap();
    let out = pgfarm_test(&dir, &["--pg", &low.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let bundle = &bundles(&dir.join("pgfarm-results"))[0];
    let regress = stage(bundle, StageKind::Regress);
    assert_eq!(regress.status, StageStatus::Failed);
    assert!(
        regress.error.as_deref().unwrap().contains("unrecognized option '--frobnicate=yes'"),
        "{regress:?}"
    );
}

#[test]
fn a_crashing_backend_is_the_cause_not_a_diff() {
    let Some((low, high)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("crash");
    copy_dir(&fixture("crash"), &dir);
    let out = pgfarm_test(&dir, &["--pg", &format!("{low},{high}")]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let found = bundles(&dir.join("pgfarm-results"));
    assert_eq!(found.len(), 2);
    for bundle in &found {
        assert_eq!(bundle.run.status, RunStatus::Error);
        let regress = stage(bundle, StageKind::Regress);
        assert_eq!(regress.status, StageStatus::Failed);
        assert!(regress.error.as_deref().unwrap().starts_with("server crashed (signal 11)"));
        let crashed = bundle.regress.iter().find(|t| t.name == "crashes").unwrap();
        assert_eq!(crashed.status, TestStatus::Error);
        let reason = crashed.reason.as_deref().unwrap();
        assert!(reason.contains("server crashed (signal 11)"), "{reason}");
        assert!(reason.contains("crash_now"), "the log names the statement: {reason}");
        let before = bundle.regress.iter().find(|t| t.name == "before").unwrap();
        assert_eq!(before.status, TestStatus::Ok);
    }
}

#[test]
fn the_first_command_works_in_the_extensions_folder() {
    let Some((low, _)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pure_sql");
    copy_dir(&fixture("pure_sql"), &dir);
    // Twice: the second run must not copy the first run's ./pgfarm-results into the copy.
    for _ in 0..2 {
        let out = pgfarm_test(&dir, &["--pg", &low.to_string()]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    }
    assert_eq!(bundles(&dir.join("pgfarm-results")).len(), 1);
    assert!(dir.join("pgfarm-results/.pgfarm-output").is_file());
}

#[test]
fn an_own_installcheck_recipe_runs_as_its_own_stage() {
    let Some((low, _)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("own_installcheck");
    copy_dir(&fixture("own_installcheck"), &dir);
    let out = pgfarm_test(&dir, &["--pg", &low.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let bundle = &bundles(&dir.join("pgfarm-results"))[0];
    let stage = stage(bundle, StageKind::Installcheck);
    assert_eq!(stage.status, StageStatus::Ok, "{stage:?}");
    let log = stage.log.to_string_lossy();
    assert!(log.contains("ok 2 - own_answer() is 42") && log.contains("2 TAP points"), "{log}");
    // Breaking the function fails the stage, and only it.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("own_installcheck");
    copy_dir(&fixture("own_installcheck"), &dir);
    fs::write(
        dir.join("own_installcheck--1.0.sql"),
        "CREATE FUNCTION own_answer() RETURNS int LANGUAGE sql AS $$ SELECT 41 $$;\n",
    )
    .unwrap();
    let out = pgfarm_test(&dir, &["--pg", &low.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let bundle = &bundles(&dir.join("pgfarm-results"))[0];
    assert_eq!(stage_of(bundle, StageKind::Installcheck), StageStatus::Failed);
    assert_eq!(bundle.run.status, RunStatus::Failed);
}

fn stage_of(bundle: &Bundle, kind: StageKind) -> StageStatus {
    bundle.stage(kind).map_or(StageStatus::Skipped, |s| s.status)
}

#[test]
fn a_dependency_the_tree_lacks_is_missing_not_a_load_failure() {
    let Some((low, _)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pure_sql");
    copy_dir(&fixture("pure_sql"), &dir);
    let control = fs::read_to_string(dir.join("pure_sql.control")).unwrap();
    fs::write(dir.join("pure_sql.control"), format!("{control}requires = 'no_such_extension'\n"))
        .unwrap();
    let out = pgfarm_test(&dir, &["--pg", &low.to_string()]);
    assert_eq!(out.status.code(), Some(4), "nothing was tested: {}", describe(&out));
    let bundle = &bundles(&dir.join("pgfarm-results"))[0];
    let load = stage(bundle, StageKind::Load);
    assert_eq!(load.status, StageStatus::Missing);
    assert!(
        load.error.as_deref().unwrap().contains("dependency no_such_extension not installed"),
        "{load:?}"
    );
    assert_eq!(stage_of(bundle, StageKind::Regress), StageStatus::Skipped);
}

#[test]
fn a_hung_test_is_killed_with_its_backend_row() {
    let Some((low, _)) = majors() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pure_sql");
    copy_dir(&fixture("pure_sql"), &dir);
    fs::write(dir.join("test/sql/basic.sql"), "SELECT pg_sleep(120);\n").unwrap();
    let out = pgfarm_test(&dir, &["--pg", &low.to_string(), "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(2), "a time-out is not a test failure: {}", describe(&out));
    let bundle = &bundles(&dir.join("pgfarm-results"))[0];
    let hung = bundle.regress.iter().find(|t| t.name == "basic").unwrap();
    assert_eq!(hung.status, TestStatus::Timeout);
    let reason = hung.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("timed out after 2 s; the backend was: pid ")
            && reason.contains("pg_sleep(120)"),
        "{reason}"
    );
    assert_eq!(bundle.run.status, RunStatus::Error);
}
