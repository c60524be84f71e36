//! Selection and fail-fast (issue 15, items 1 and 2) end to end: `--filter`, `--tag`,
//! `--exclude-tag` (tags of `\i`-included files counted), `--stage`, `--fail-fast` and
//! `--allow-empty` on `pgfarm test` (fixture `testdata/extensions/tagged`, `failing`),
//! `pgfarm regress` and `pgfarm prove` (small suites written here) against real PostgreSQL;
//! the bundle's `selection` record.

#![allow(clippy::disallowed_methods, reason = "a test harness runs the binary under test")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgfarm_model::{Bundle, StageKind, StageStatus, TestRef};
use pgfarm_pgnode::{Cluster, Installation};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn fixture(name: &str, to: &Path) -> PathBuf {
    let from =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions")).join(name);
    let target = to.join(name);
    copy_dir(&from, &target);
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

/// The installed majors with PGXS, the middle ones first (`None`: a named skip): the other
/// suites run on the lowest and the highest, and a run holds its installation's tree from
/// install to its last stage, so these runs rarely wait for them.
pub(crate) fn majors(test: &str, at_least: usize) -> Option<Vec<u32>> {
    let mut sorted: Vec<u32> =
        Installation::discover().iter().filter(|i| i.has_pgxs()).map(Installation::major).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let middle = sorted.len() / 2;
    let mut majors: Vec<u32> = Vec::with_capacity(sorted.len());
    for distance in 0..=sorted.len() {
        for idx in [middle.checked_sub(distance), middle.checked_add(distance + 1)] {
            if let Some(&major) = idx.and_then(|i| sorted.get(i))
                && !majors.contains(&major)
            {
                majors.push(major);
            }
        }
    }
    pgfarm_testsupport::require(
        test,
        &format!("{at_least} PostgreSQL installation(s) with PGXS (pgfarm pg install 13..18)"),
        majors.len() >= at_least,
    )
    .then_some(majors)
}

/// A running cluster of the highest major, for `pgfarm regress` and `pgfarm prove`.
pub(crate) fn server(test: &str) -> Option<(Installation, Cluster)> {
    let major = *majors(test, 1)?.first()?;
    let installation = Installation::find(major).unwrap();
    let cluster = Cluster::builder(&installation).log_statement("none").start().unwrap();
    Some((installation, cluster))
}

pub(crate) fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn bundle(path: &Path) -> Bundle {
    Bundle::from_slice(&fs::read(path).unwrap()).unwrap()
}

pub(crate) fn bundles(out: &Path) -> Vec<Bundle> {
    let mut paths: Vec<PathBuf> =
        fs::read_dir(out).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    paths.retain(|p| p.to_string_lossy().ends_with(".pgfarm.json.gz"));
    paths.sort();
    paths.iter().map(|p| bundle(p)).collect()
}

fn pgfarm_test(dir: &Path, pg: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(PGFARM)
        .args(["test", "--plain", "--pg", pg, "--out"])
        .arg(out)
        .args(extra)
        .arg(dir)
        .output()
        .unwrap()
}

fn regress_names(bundle: &Bundle) -> Vec<&str> {
    bundle.regress.iter().map(|t| t.name.as_str()).collect()
}

fn stage_status(bundle: &Bundle, kind: StageKind) -> StageStatus {
    bundle.stage(kind).map(|s| s.status).unwrap_or_else(|| panic!("no {kind} stage"))
}

#[test]
fn filters_tags_and_stages_narrow_a_farm_run_and_its_bundle_says_so() {
    let Some(majors) =
        majors("filters_tags_and_stages_narrow_a_farm_run_and_its_bundle_says_so", 1)
    else {
        return;
    };
    let pg = majors[0].to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture("tagged", tmp.path());
    let run = |name: &str, extra: &[&str]| -> (Output, Bundle) {
        let out_dir = tmp.path().join(name);
        let out = pgfarm_test(&dir, &pg, &out_dir, extra);
        let mut all = bundles(&out_dir);
        assert_eq!(all.len(), 1, "{}", describe(&out));
        (out, all.remove(0))
    };

    // A substring on names and paths.
    let (out, b) = run("filter", &["--filter", "smoke"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(regress_names(&b), ["smoke_add"]);
    let selection = b.selection.as_ref().expect("a narrowed run records its selection");
    assert_eq!(selection.filters, ["smoke"]);
    assert!(selection.not_run.is_empty());
    assert_eq!(
        selection.deselected,
        [
            TestRef::new(StageKind::Regress, "auth_seeded"),
            TestRef::new(StageKind::Regress, "slow_sum"),
            TestRef::new(StageKind::Tap, "test/adds.sql"),
        ]
    );
    assert_eq!(stage_status(&b, StageKind::Tap), StageStatus::Skipped);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("narrowed by --filter smoke: 3 left out"), "{stderr}");

    // A glob matches the whole name (or path).
    let (_, b) = run("glob", &["--filter", "*_sum", "--filter", "test/adds.*"]);
    assert_eq!(regress_names(&b), ["slow_sum"]);
    assert_eq!(b.tap.iter().map(|t| t.path.as_str()).collect::<Vec<_>>(), ["test/adds.sql"]);

    // `db` is the tag of test/common.sql, which smoke_add's header includes with \i.
    let (_, b) = run("included", &["--tag", "db"]);
    assert_eq!(regress_names(&b), ["smoke_add"]);

    // smoke_add and slow_sum are tagged smoke; slow_sum is also slow, and exclusion wins.
    let (_, b) = run("exclude", &["--tag", "smoke,tap", "--exclude-tag", "slow"]);
    assert_eq!(regress_names(&b), ["smoke_add"]);
    assert_eq!(b.tap.len(), 1);
    let selection = b.selection.unwrap();
    assert_eq!(
        (selection.tags, selection.exclude_tags),
        (vec!["smoke".into(), "tap".into()], vec!["slow".into()])
    );

    // Only some stages: the others are skipped, saying why; set-up stages still run.
    let (out, b) = run("stage", &["--stage", "tap"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(stage_status(&b, StageKind::Load), StageStatus::Ok);
    assert_eq!(stage_status(&b, StageKind::Tap), StageStatus::Ok);
    let regress = b.stage(StageKind::Regress).unwrap();
    assert_eq!(regress.status, StageStatus::Skipped);
    assert_eq!(regress.error.as_deref(), Some("not selected (--stage tap)"));
    assert!(b.regress.is_empty());
    assert_eq!(b.selection.unwrap().stages, [StageKind::Tap]);

    // A run that ran everything has no selection record.
    let (out, b) = run("all", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(b.selection.is_none());
    assert_eq!(regress_names(&b), ["smoke_add", "auth_seeded", "slow_sum"]);
}

#[test]
fn a_selection_that_matches_nothing_exits_4_or_0_with_allow_empty() {
    let Some(majors) = majors("a_selection_that_matches_nothing_exits_4_or_0_with_allow_empty", 1)
    else {
        return;
    };
    let pg = majors[0].to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture("tagged", tmp.path());
    let out = pgfarm_test(&dir, &pg, &tmp.path().join("a"), &["--filter", "nomatch"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let b = &bundles(&tmp.path().join("a"))[0];
    assert_eq!(stage_status(b, StageKind::Regress), StageStatus::Skipped);
    assert_eq!(b.selection.as_ref().unwrap().deselected.len(), 4);
    let out =
        pgfarm_test(&dir, &pg, &tmp.path().join("b"), &["--filter", "nomatch", "--allow-empty"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // --allow-empty does not hide a failure.
    let failing = fixture("failing", tmp.path());
    let out = pgfarm_test(&failing, &pg, &tmp.path().join("c"), &["--allow-empty"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}

#[test]
fn fail_fast_stops_scheduling_new_installations_after_the_first_failure() {
    let Some(majors) =
        majors("fail_fast_stops_scheduling_new_installations_after_the_first_failure", 2)
    else {
        return;
    };
    let pg = format!("{},{}", majors[1], majors[0]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture("failing", tmp.path());
    let out_dir = tmp.path().join("out");
    let out = pgfarm_test(&dir, &pg, &out_dir, &["--fail-fast", "--jobs", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let written = bundles(&out_dir);
    assert_eq!(written.len(), 1, "the second installation must not start: {}", describe(&out));
    let b = &written[0];
    let ran = u32::from(b.postgres.major);
    let other = if ran == majors[0] { majors[1] } else { majors[0] };
    assert!(b.selection.as_ref().unwrap().fail_fast);
    // The stages after the failed one are not scheduled either.
    assert_eq!(stage_status(b, StageKind::Regress), StageStatus::Failed);
    let tap = b.stage(StageKind::Tap).unwrap();
    assert_eq!(tap.status, StageStatus::Skipped);
    assert!(tap.error.as_deref().unwrap().contains("--fail-fast"), "{:?}", tap.error);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("pg{other}: not run (--fail-fast stopped after a failure)")),
        "{stderr}"
    );
}

/// A folder with `sql/NAME.sql` and `expected/NAME.out` for `pgfarm regress`.
fn regress_suite(dir: &Path, tests: &[(&str, &str, &str)]) {
    fs::create_dir_all(dir.join("sql")).unwrap();
    fs::create_dir_all(dir.join("expected")).unwrap();
    for (name, sql, expected) in tests {
        fs::write(dir.join(format!("sql/{name}.sql")), sql).unwrap();
        fs::write(dir.join(format!("expected/{name}.out")), expected).unwrap();
    }
}

pub(crate) fn pgfarm_in(
    dir: &Path,
    installation: &Installation,
    cluster: &Cluster,
    args: &[&str],
) -> Output {
    Command::new(PGFARM)
        .current_dir(dir)
        .env("PGHOST", cluster.host())
        .env("PGPORT", cluster.port().to_string())
        .env("PGUSER", cluster.superuser())
        .args(&args[..1])
        .args(if args[0] == "regress" {
            vec!["--bindir".to_owned(), installation.bindir.display().to_string()]
        } else {
            vec!["--psql-bin".to_owned(), installation.bin("psql").display().to_string()]
        })
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn regress_selects_by_filter_and_tag_and_fail_fast_lists_what_did_not_run() {
    let Some((installation, cluster)) =
        server("regress_selects_by_filter_and_tag_and_fail_fast_lists_what_did_not_run")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let one = "SELECT 1 AS x;\n x \n---\n 1\n(1 row)\n\n";
    regress_suite(
        dir,
        &[
            ("alpha", "-- @tag fast\nSELECT 1 AS x;\n", &format!("-- @tag fast\n{one}")),
            ("beta", "-- @tag slow\nSELECT 2 AS x;\n", "-- @tag slow\nSELECT 2 AS x;\n wrong\n"),
            ("gamma", "SELECT 1 AS x;\n", one),
        ],
    );
    fs::write(dir.join("schedule"), "test: alpha beta\ntest: gamma\n").unwrap();
    let bundle_path = dir.join("b.pgfarm.json");
    let out = pgfarm_in(
        dir,
        &installation,
        &cluster,
        &[
            "regress",
            "--dbname=sel_db",
            "--schedule=schedule",
            "--filter",
            "a",
            "--exclude-tag",
            "slow",
            &format!("--bundle={}", bundle_path.display()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("alpha") && stdout.contains("gamma") && !stdout.contains("beta"),
        "{stdout}"
    );
    let b = bundle(&bundle_path);
    assert_eq!(regress_names(&b), ["alpha", "gamma"]);
    let selection = b.selection.unwrap();
    assert_eq!(selection.deselected, [TestRef::new(StageKind::Regress, "beta")]);

    // --fail-fast: beta fails in the first group (alpha beside it finishes), gamma never starts.
    let out = pgfarm_in(
        dir,
        &installation,
        &cluster,
        &[
            "regress",
            "--dbname=sel_db",
            "--schedule=schedule",
            "--fail-fast",
            &format!("--bundle={}", bundle_path.display()),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not run (--fail-fast stopped after a failure): gamma"), "{stderr}");
    let b = bundle(&bundle_path);
    assert_eq!(regress_names(&b), ["alpha", "beta"]);
    assert_eq!(b.selection.unwrap().not_run, [TestRef::new(StageKind::Regress, "gamma")]);

    // Nothing selected: 4, or 0 with --allow-empty.
    let none = ["regress", "--dbname=sel_db", "--schedule=schedule", "--filter", "zzz"];
    assert_eq!(pgfarm_in(dir, &installation, &cluster, &none).status.code(), Some(4));
    let mut allowed = none.to_vec();
    allowed.push("--allow-empty");
    assert_eq!(pgfarm_in(dir, &installation, &cluster, &allowed).status.code(), Some(0));
}

#[test]
fn prove_selects_files_and_fail_fast_stops_after_the_first_failing_file() {
    let Some((installation, cluster)) =
        server("prove_selects_files_and_fail_fast_stops_after_the_first_failing_file")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("t")).unwrap();
    // Plain TAP printed by psql (no pgTAP needed): one point per file.
    let file = |tags: &str, point: &str| {
        format!("-- @tag {tags}\nSELECT '1..1';\nSELECT '{point} 1 - x';\n")
    };
    fs::write(dir.join("t/a.pg"), file("smoke", "not ok")).unwrap();
    fs::write(dir.join("t/b.pg"), file("smoke", "ok")).unwrap();
    fs::write(dir.join("t/c.pg"), file("slow", "ok")).unwrap();
    let bundle_path = dir.join("p.pgfarm.json");
    let bundle_arg = format!("--bundle={}", bundle_path.display());

    let out = pgfarm_in(
        dir,
        &installation,
        &cluster,
        &["prove", "-d", "postgres", "--tag", "smoke", "--filter", "b", "t"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("t/b.pg") && !stdout.contains("t/a.pg") && !stdout.contains("t/c.pg"),
        "{stdout}"
    );

    let out = pgfarm_in(
        dir,
        &installation,
        &cluster,
        &["prove", "-d", "postgres", "--fail-fast", &bundle_arg, "t"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let b = bundle(&bundle_path);
    assert_eq!(b.tap.iter().map(|t| t.path.as_str()).collect::<Vec<_>>(), ["t/a.pg"]);
    let selection = b.selection.unwrap();
    assert!(selection.fail_fast);
    assert_eq!(
        selection.not_run,
        [TestRef::new(StageKind::Tap, "t/b.pg"), TestRef::new(StageKind::Tap, "t/c.pg")]
    );

    let none = ["prove", "-d", "postgres", "--exclude-tag", "smoke,slow", "t"];
    assert_eq!(pgfarm_in(dir, &installation, &cluster, &none).status.code(), Some(4));
    let mut allowed = none.to_vec();
    allowed.insert(1, "--allow-empty");
    assert_eq!(pgfarm_in(dir, &installation, &cluster, &allowed).status.code(), Some(0));
    fs::remove_dir_all(dir.join("t")).unwrap();
    fs::create_dir_all(dir.join("t")).unwrap();
    let empty = ["prove", "-d", "postgres", "t"];
    assert_eq!(pgfarm_in(dir, &installation, &cluster, &empty).status.code(), Some(4));
}
