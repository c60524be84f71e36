//! `pgfarm test` on the thirteen real extensions of `../shared/corpus/extensions` (copied
//! first: the corpus is read-only), on two majors each, against the verdicts their authors' own
//! `make installcheck` gives (the corpus README's reference table): the same suites, the same
//! number of tests, every test with the same verdict, isolation specs counted, Perl TAP suites
//! `missing` on trees built without `--enable-tap-tests` and run on Debian's PostgreSQL 15.
//!
//! Needs the corpus and the PostgreSQL trees: without them each test prints why it skips, and
//! fails when `PGFARM_TEST_REQUIRE_PG=1` (the README's test command sets it).
//! `scripts/corpus-matrix.sh` runs the same check on all six majors.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pgfarm_model::{Bundle, RunStatus, StageKind, StageStatus, TestStatus};
use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/extensions"))
}

/// Skips (returns false) with a reason, or fails when the environment requires the component.
fn available(what: &str, ok: bool) -> bool {
    pgfarm_testsupport::require(module_path!(), what, ok)
}

fn majors_found() -> Vec<u32> {
    let mut majors: Vec<u32> =
        Installation::discover().iter().filter(|i| i.has_pgxs()).map(Installation::major).collect();
    majors.sort_unstable();
    majors.dedup();
    majors
}

/// What the author's `make installcheck` says on one major (the corpus README).
#[derive(Debug, Clone, Copy)]
struct Reference {
    regress: usize,
    isolation: usize,
    /// pgTAP files (run by pg_prove in the reference).
    tap: usize,
    /// TAP files allowed to fail: documented flakes of the reference itself.
    flaky: &'static [&'static str],
    /// TAP files that must fail, as they fail under the author's own tool on that major.
    fails: &'static [&'static str],
    /// Whether the Makefile has Perl TAP tests (`TAP_TESTS = 1`).
    perl_tap: bool,
}

const fn reference(regress: usize, isolation: usize) -> Reference {
    Reference { regress, isolation, tap: 0, flaky: &[], fails: &[], perl_tap: false }
}

/// (extension, majors, reference per major).
fn table() -> Vec<(&'static str, [u32; 2], [Reference; 2])> {
    let r = reference;
    let rum = Reference { perl_tap: true, ..r(35, 0) };
    let partman = Reference { tap: 19, flaky: &["test/test-time-30sec.sql"], ..r(0, 0) };
    vec![
        ("kv-pair", [13, 18], [r(1, 0), r(1, 0)]),
        ("pg-semver", [13, 18], [r(2, 0), r(2, 0)]),
        ("hypopg", [13, 18], [r(6, 0), r(6, 0)]),
        ("temporal_tables", [13, 18], [r(12, 0), r(12, 0)]),
        ("acl", [13, 18], [r(5, 0), r(5, 0)]),
        ("pg_cron", [13, 18], [r(1, 0), r(1, 0)]),
        ("pg_wait_sampling", [16, 18], [r(2, 0), r(2, 0)]),
        ("pg_ivm", [13, 18], [r(4, 0), r(4, 9)]),
        ("rum", [13, 18], [rum, Reference { isolation: 2, ..rum }]),
        // On 18, test-id-10 creates an UNLOGGED partitioned table, which PostgreSQL 18 refuses
        // ("partitioned tables cannot be unlogged"): pg_prove fails it there too.
        (
            "pg_partman",
            [16, 18],
            [partman, Reference { fails: &["test/test-id-10.sql"], ..partman }],
        ),
        ("pgtap", [13, 18], [r(39, 0), r(39, 0)]),
        ("pg_roaringbitmap", [13, 18], [r(2, 0), r(2, 0)]),
        ("pgvector", [13, 18], [r(14, 0), r(14, 0)]),
    ]
}

/// pgfarm.toml for the corpus extensions whose reference run needed set-up their README asks
/// for (written into the copy, as an author would keep it beside the Makefile).
fn config_for(name: &str) -> Option<&'static str> {
    match name {
        // test/README_test.md: pg_partman in schema partman, pgTAP in public, and
        // max_locks_per_transaction raised to 128.
        "pg_partman" => Some(
            "[cluster]\nsettings = { max_locks_per_transaction = 128 }\n\
             [tap]\nsetup = [\"CREATE EXTENSION IF NOT EXISTS pgtap\", \"CREATE SCHEMA partman\", \
             \"CREATE EXTENSION pg_partman SCHEMA partman\"]\n",
        ),
        _ => None,
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

fn run(name: &str, pg: &str, root: &Path) -> (Vec<Bundle>, String, Option<i32>) {
    run_with(name, &["-j", "2", "--pg", pg], root)
}

fn run_with(name: &str, args: &[&str], root: &Path) -> (Vec<Bundle>, String, Option<i32>) {
    let dir = root.join(name);
    copy_dir(&corpus().join(name), &dir);
    if let Some(config) = config_for(name) {
        fs::write(dir.join("pgfarm.toml"), config).unwrap();
    }
    // As a user types it: in the extension's folder, no --out, no --workdir.
    let output = Command::new(PGFARM)
        .args(["test", "--plain"])
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut bundles = Vec::new();
    let out = dir.join("pgfarm-results");
    if let Ok(entries) = fs::read_dir(&out) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with(".pgfarm.json.gz") {
                bundles.push(Bundle::from_slice(&fs::read(entry.path()).unwrap()).unwrap());
            }
        }
    }
    bundles.sort_by_key(|b| b.postgres.major);
    (bundles, text, output.status.code())
}

fn stage(bundle: &Bundle, kind: StageKind) -> StageStatus {
    bundle.stage(kind).map_or(StageStatus::Skipped, |s| s.status)
}

fn check(name: &str, bundle: &Bundle, want: &Reference, log: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let major = bundle.postgres.major;
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{name} on {major}: {what}"));
        }
    };
    for kind in [StageKind::Build, StageKind::Install, StageKind::Cluster, StageKind::Load] {
        expect(
            stage(bundle, kind) == StageStatus::Ok,
            format!("{kind} is {}", stage(bundle, kind)),
        );
    }
    let failing: Vec<&str> = bundle
        .regress
        .iter()
        .filter(|t| t.status != TestStatus::Ok)
        .map(|t| t.name.as_str())
        .collect();
    expect(
        bundle.regress.len() == want.regress && failing.is_empty(),
        format!(
            "regress: {} tests (want {}), not ok: {failing:?}",
            bundle.regress.len(),
            want.regress
        ),
    );
    let failing: Vec<&str> = bundle
        .isolation
        .iter()
        .filter(|t| t.status != TestStatus::Ok)
        .map(|t| t.name.as_str())
        .collect();
    expect(
        bundle.isolation.len() == want.isolation && failing.is_empty(),
        format!(
            "isolation: {} specs (want {}), not ok: {failing:?}",
            bundle.isolation.len(),
            want.isolation
        ),
    );
    let failing: Vec<&str> = bundle
        .tap
        .iter()
        .filter(|f| {
            let path = f.path.as_str();
            let must_fail = want.fails.contains(&path);
            (f.status != TestStatus::Ok) != must_fail && !want.flaky.contains(&path)
        })
        .map(|f| f.path.as_str())
        .collect();
    expect(
        bundle.tap.len() == want.tap && failing.is_empty(),
        format!(
            "tap: {} files (want {}), verdict differs from the reference: {failing:?}",
            bundle.tap.len(),
            want.tap
        ),
    );
    // The .pg trees are built without --enable-tap-tests: never a pass, always said.
    let perl = bundle.stage(StageKind::PerlTap);
    if want.perl_tap {
        expect(
            perl.is_some_and(|s| {
                s.status == StageStatus::Missing
                    && s.error.as_deref().is_some_and(|e| e.contains("TAP tests not enabled"))
            }),
            format!("perl_tap should be missing with 'TAP tests not enabled', is {perl:?}"),
        );
    } else {
        expect(
            perl.is_some_and(|s| s.status == StageStatus::Missing),
            "perl_tap should be missing".into(),
        );
    }
    // The run fails only where the reference fails (a documented flake or a file the author's
    // tool fails too) or where pgfarm's own upgrade check found a difference the reference
    // does not look for (pgTAP's 1.3.4 -> 1.3.5 script leaves pgtap_version() at 1.34).
    let tap_fails_as_reference = bundle.tap.iter().any(|f| f.status != TestStatus::Ok);
    let other_failed: Vec<StageKind> = bundle
        .stages
        .iter()
        .filter(|s| s.status == StageStatus::Failed)
        .map(|s| s.kind)
        .filter(|k| *k != StageKind::Upgrade && !(*k == StageKind::Tap && tap_fails_as_reference))
        .collect();
    expect(
        other_failed.is_empty() && bundle.run.status != RunStatus::Error,
        format!("run status {}, failed stages {other_failed:?}", bundle.run.status),
    );
    if !problems.is_empty() {
        problems.push(format!("--- pgfarm test output:\n{log}"));
    }
    problems
}

#[test]
fn every_corpus_extension_agrees_with_its_authors_installcheck_on_two_majors() {
    if !available("../shared/corpus/extensions", corpus().is_dir()) {
        return;
    }
    let found = majors_found();
    let needed = [13, 16, 18];
    if !available(
        "PostgreSQL 13, 16 and 18 trees with PGXS (scripts/setup)",
        needed.iter().all(|m| found.contains(m)),
    ) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut agreed = 0;
    for (name, majors, refs) in table() {
        let pg = format!("{},{}", majors[0], majors[1]);
        let (bundles, log, code) = run(name, &pg, root.path());
        if bundles.len() != 2 {
            problems
                .push(format!("{name}: {} bundles written (exit {code:?})\n{log}", bundles.len()));
            continue;
        }
        let mut these = Vec::new();
        for (bundle, want) in bundles.iter().zip(refs.iter()) {
            these.extend(check(name, bundle, want, &log));
        }
        if these.is_empty() {
            agreed += 1;
        }
        problems.extend(these);
    }
    assert!(problems.is_empty(), "{agreed} of 13 extensions agree:\n{}", problems.join("\n"));
    assert_eq!(agreed, 13);
}

/// rum's three Perl TAP files run on Debian's PostgreSQL 15, the tree here built with
/// `--enable-tap-tests` (and with Perl's IPC::Run installed by the setup).
#[test]
fn rum_perl_tap_tests_run_on_debians_15() {
    if !available("../shared/corpus/extensions", corpus().is_dir()) {
        return;
    }
    let debian = Installation::discover()
        .into_iter()
        .find(|i| i.major() == 15 && i.bindir.starts_with("/usr/lib/postgresql") && i.has_pgxs());
    let Some(debian) = debian else {
        available("Debian's PostgreSQL 15 with its PGXS (postgresql-server-dev-15)", false);
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (bundles, log, code) = run_with("rum", &["--pg", "15@debian"], root.path());
    assert_eq!(bundles.len(), 1, "exit {code:?}, tree {}:\n{log}", debian.bindir.display());
    let bundle = &bundles[0];
    let perl = bundle.stage(StageKind::PerlTap).expect("a perl_tap stage");
    assert_eq!(perl.status, StageStatus::Ok, "{:?}\n{log}", perl.error);
    assert_eq!(bundle.perl_tap.len(), 3, "{log}");
    assert!(bundle.perl_tap.iter().all(|f| f.status == TestStatus::Ok), "{log}");
    assert_eq!(bundle.regress.len(), 35);
    assert_eq!(bundle.isolation.len(), 2);
}
