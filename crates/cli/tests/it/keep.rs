//! `pgfarm test --keep`: the cluster stays running with the tests' databases, its URI printed
//! and recorded in the bundle, until SIGTERM or `--keep-idle` without clients; `--keep=failed`
//! keeps only where the run did not pass.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binary under test, psql and kill"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::build_cache::{copy_fixture, describe, only_bundle, pgfarm_test, private_home};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn psql(home: &std::path::Path, major: u32, uri: &str, sql: &str) -> std::process::Output {
    let psql = home.join("pg").join(major.to_string()).join("bin/psql");
    Command::new(psql).args(["-X", "-A", "-t", "-d", uri, "-c", sql]).output().unwrap()
}

#[test]
fn keep_leaves_the_cluster_with_the_tests_databases_until_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((home, major)) =
        private_home("keep_leaves_the_cluster_with_the_tests_databases_until_sigterm", tmp.path())
    else {
        return;
    };
    let dir = copy_fixture("pure_sql", tmp.path());
    let out_dir = tmp.path().join("out");
    // --keep-idle 30s: a failing assertion below never leaves the cluster running for long.
    let mut child = Command::new(PGFARM)
        .args(["test", "--plain", "--keep", "--keep-idle", "30s", "--pg", &major.to_string()])
        .arg("--out")
        .arg(&out_dir)
        .arg(&dir)
        .env("PGFARM_HOME", &home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut uri = None;
    let mut seen = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        seen.push_str(&line);
        if let Some(rest) = line.strip_prefix(&format!("kept pg{major}: ")) {
            uri = Some(rest.trim().to_owned());
            break;
        }
        line.clear();
    }
    let uri = uri.unwrap_or_else(|| panic!("no `kept` line in:\n{seen}"));
    // The bundle is written before the wait, with the cluster's URI.
    let bundle = only_bundle(&out_dir);
    let kept = bundle.kept.clone().expect("the bundle records the kept cluster");
    assert_eq!(kept.uri, uri);
    assert_eq!(kept.idle_timeout_s, Some(30));
    assert!(kept.stop.contains("Ctrl-C"), "{}", kept.stop);
    // The databases are as the tests left them.
    let out = psql(
        &home,
        major,
        &uri,
        "select add_one(1) from pg_database where datname = 'contrib_regression'",
    );
    assert!(out.status.success(), "{}", describe(&out));
    let out = psql(
        &home,
        major,
        &format!("{}/contrib_regression", uri.rsplit_once('/').unwrap().0),
        "select extname from pg_extension where extname = 'pure_sql'",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "pure_sql", "{}", describe(&out));
    std::thread::sleep(Duration::from_millis(600));
    assert!(child.try_wait().unwrap().is_none(), "--keep waits");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "pgfarm test did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let out = psql(&home, major, &uri, "select 1");
    assert!(!out.status.success(), "the cluster is stopped after SIGTERM");
}

#[test]
fn keep_failed_keeps_only_failing_runs_and_the_idle_timeout_stops_them() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((home, major)) = private_home(
        "keep_failed_keeps_only_failing_runs_and_the_idle_timeout_stops_them",
        tmp.path(),
    ) else {
        return;
    };
    let passing = copy_fixture("pure_sql", tmp.path());
    let out_dir = tmp.path().join("out-pass");
    let out = pgfarm_test(&home, &passing, major, &out_dir, &["--keep=failed"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no cluster to keep"),
        "{}",
        describe(&out)
    );
    assert!(only_bundle(&out_dir).kept.is_none());

    let failing = copy_fixture("failing", tmp.path());
    let out_dir = tmp.path().join("out-fail");
    let started = Instant::now();
    let out =
        pgfarm_test(&home, &failing, major, &out_dir, &["--keep=failed", "--keep-idle", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let uri = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("kept pg{major}: ")))
        .unwrap_or_else(|| panic!("{}", describe(&out)))
        .to_owned();
    let kept = only_bundle(&out_dir).kept.expect("a failing run is kept");
    assert_eq!((kept.uri.as_str(), kept.idle_timeout_s), (uri.as_str(), Some(1)));
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(!psql(&home, major, &uri, "select 1").status.success(), "stopped after the idle time");
}
