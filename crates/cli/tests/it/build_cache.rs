//! `pgfarm test`'s build cache on the C fixture `c_func`: a second run with nothing changed
//! reuses the build and skips the install (same verdicts, recorded in the bundle); a changed
//! source builds again; `--no-build-cache` leaves the cache alone. Each test has its own pgfarm
//! home (its `pg` folder links to the real trees), so the cache starts empty.

#![allow(clippy::disallowed_methods, reason = "a test harness runs the binary under test")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgfarm_model::{Bundle, StageKind, StageStatus};
use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

/// A pgfarm home whose `pg` folder is the real one, and the newest major with PGXS there.
pub(crate) fn private_home(test: &str, tmp: &Path) -> Option<(PathBuf, u32)> {
    let trees = pgfarm_pgnode::home::trees_dir().filter(|d| d.is_dir());
    let major = trees.as_ref().and_then(|trees| {
        Installation::discover()
            .into_iter()
            .filter(|i| i.has_pgxs() && i.pg_config.starts_with(trees))
            .map(|i| i.major())
            .max()
    });
    if !pgfarm_testsupport::require(
        test,
        "a PostgreSQL tree with PGXS installed by `pgfarm pg install`",
        major.is_some(),
    ) {
        return None;
    }
    let home = tmp.join("home");
    fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink(trees.unwrap(), home.join("pg")).unwrap();
    Some((home, major.unwrap()))
}

pub(crate) fn copy_fixture(name: &str, to: &Path) -> PathBuf {
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
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions"));
    let target = to.join(name);
    copy_dir(&root.join(name), &target);
    target
}

pub(crate) fn pgfarm_test(
    home: &Path,
    dir: &Path,
    major: u32,
    out: &Path,
    extra: &[&str],
) -> Output {
    Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &major.to_string(), "--out"])
        .arg(out)
        .args(extra)
        .arg(dir)
        .env("PGFARM_HOME", home)
        .output()
        .unwrap()
}

pub(crate) fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn only_bundle(out: &Path) -> Bundle {
    let paths: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".pgfarm.json.gz"))
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    Bundle::from_slice(&fs::read(&paths[0]).unwrap()).unwrap()
}

fn log(bundle: &Bundle, kind: StageKind) -> String {
    bundle.stage(kind).unwrap().log.to_string_lossy().into_owned()
}

fn statuses(bundle: &Bundle) -> Vec<(StageKind, StageStatus)> {
    bundle.stages.iter().map(|s| (s.kind, s.status)).collect()
}

#[test]
fn a_second_run_with_nothing_changed_reuses_the_build_and_skips_the_install() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((home, major)) = private_home(
        "a_second_run_with_nothing_changed_reuses_the_build_and_skips_the_install",
        tmp.path(),
    ) else {
        return;
    };
    let dir = copy_fixture("c_func", tmp.path());
    let run = |n: usize, extra: &[&str]| {
        let out_dir = tmp.path().join(format!("out{n}"));
        let out = pgfarm_test(&home, &dir, major, &out_dir, extra);
        assert_eq!(out.status.code(), Some(0), "run {n}: {}", describe(&out));
        only_bundle(&out_dir)
    };

    let first = run(1, &[]);
    let cache = first.build_cache.clone().expect("the first run fills the cache");
    assert!(!cache.build_reused && !cache.install_skipped, "{cache:?}");
    assert!(log(&first, StageKind::Build).contains("$ make"), "{}", log(&first, StageKind::Build));
    assert!(home.join("build-cache").join(&cache.key).join("complete").is_file());

    let second = run(2, &[]);
    let reused = second.build_cache.clone().expect("recorded");
    assert_eq!(reused.key, cache.key);
    assert!(reused.build_reused, "{reused:?}");
    let build_log = log(&second, StageKind::Build);
    assert!(build_log.contains("make did not run") && !build_log.contains("$ make"), "{build_log}");
    // The install is skipped when the tree still has the files; other tests running at the
    // same time may have installed another build of c_func into the shared tree meanwhile.
    let install_log = log(&second, StageKind::Install);
    assert!(!install_log.contains("$ make"), "{install_log}");
    assert_eq!(reused.install_skipped, install_log.contains(" 0 files written"), "{install_log}");
    assert_eq!(statuses(&second), statuses(&first), "same verdicts");
    assert_eq!(second.run.status, first.run.status);
    assert_eq!(
        second.regress.iter().map(|t| (&t.name, t.status)).collect::<Vec<_>>(),
        first.regress.iter().map(|t| (&t.name, t.status)).collect::<Vec<_>>()
    );

    // The installed library removed from the tree: the reuse installs it again (unless another
    // test's run installed the same bytes meanwhile).
    let installation = Installation::discover()
        .into_iter()
        .find(|i| {
            i.major() == major && i.pg_config.starts_with(pgfarm_pgnode::home::trees_dir().unwrap())
        })
        .unwrap();
    let so = installation.pkglibdir.join("c_func.so");
    {
        let _lock = installation.lock_tree(&|| false, &mut || {}).unwrap();
        fs::remove_file(&so).unwrap();
    }
    let third = run(3, &[]);
    assert!(third.build_cache.clone().unwrap().build_reused);
    assert!(so.is_file(), "reinstalled from the cache");
    assert_eq!(statuses(&third), statuses(&first));

    // A changed source is another key: built again.
    let source = dir.join("c_func.c");
    let text = fs::read_to_string(&source).unwrap();
    fs::write(&source, format!("{text}\n/* changed */\n")).unwrap();
    let fourth = run(4, &[]);
    let rebuilt = fourth.build_cache.clone().unwrap();
    assert!(rebuilt.key != cache.key && !rebuilt.build_reused, "{rebuilt:?}");

    let off = run(5, &["--no-build-cache"]);
    assert!(off.build_cache.is_none());
    assert!(log(&off, StageKind::Build).contains("$ make"));
}
