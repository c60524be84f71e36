//! pgfarm.toml steps (issue 15, item 4) end to end: `setup`/`teardown` around a major's suites
//! and around `pgfarm regress`/`pgfarm prove` runs, `-- @setup`/`-- @teardown` around one
//! file, `{rndN}` tokens stable for the run, teardown after SIGTERM (a real `pgfarm test`
//! child stopped mid-test), and unknown step names as configuration errors (exit 3).

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binary under test and sends it signals"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pgfarm_model::{RunStatus, StageKind};

use super::select::{bundles, describe, majors, pgfarm_in, server};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn fixture(to: &Path) -> PathBuf {
    let from =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions/tagged"));
    let target = to.join("tagged");
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

/// The log of the stage the teardown steps wrote into (the last one that ran).
fn teardown_log(bundle: &pgfarm_model::Bundle) -> String {
    bundle
        .stages
        .iter()
        .map(|s| s.log.to_string_lossy().into_owned())
        .find(|log| log.contains("pgfarm.toml teardown:"))
        .unwrap_or_else(|| panic!("no stage log has the teardown"))
}

fn is_token(text: &str) -> bool {
    text.len() == 12 && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn setup_and_teardown_steps_run_around_the_suites_with_one_token_per_run() {
    let Some(majors) =
        majors("setup_and_teardown_steps_run_around_the_suites_with_one_token_per_run", 1)
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    let (out_dir, work) = (tmp.path().join("out"), tmp.path().join("work"));
    let out = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &majors[0].to_string(), "--out"])
        .arg(&out_dir)
        .arg("--workdir")
        .arg(&work)
        .arg(&dir)
        .output()
        .unwrap();
    // auth_seeded passes only when its @setup made the table in its database and the run-wide
    // setup made the role tagged_{rnd1}.
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let bundle = &bundles(&out_dir)[0];
    let load = bundle.stage(StageKind::Load).unwrap().log.to_string_lossy().into_owned();
    let token = load
        .split("CREATE ROLE tagged_")
        .nth(1)
        .map(|rest| rest[..12].to_owned())
        .unwrap_or_else(|| panic!("the load stage runs the setup steps: {load}"));
    assert!(is_token(&token), "{token}");
    // The teardown ran with the same token, in this installation's copy of the source.
    let marker = work.join(format!("pg{}/src/teardown-ran", majors[0]));
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), token);
    let teardown_log = teardown_log(bundle);
    assert!(
        teardown_log.contains(&format!("DROP ROLE IF EXISTS tagged_{token}")),
        "{teardown_log}"
    );
    // A second run draws new tokens.
    let again = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &majors[0].to_string(), "--out"])
        .arg(tmp.path().join("out2"))
        .arg("--workdir")
        .arg(tmp.path().join("work2"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    let second =
        fs::read_to_string(tmp.path().join(format!("work2/pg{}/src/teardown-ran", majors[0])))
            .unwrap();
    assert_ne!(second.trim(), token);
}

#[test]
fn teardown_runs_when_a_real_pgfarm_test_gets_sigterm_mid_test() {
    let Some(majors) = majors("teardown_runs_when_a_real_pgfarm_test_gets_sigterm_mid_test", 1)
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    // A first test that would run for a minute.
    fs::write(dir.join("test/sql/sleepy.sql"), "SELECT pg_sleep(60);\n").unwrap();
    fs::write(dir.join("test/expected/sleepy.out"), "SELECT pg_sleep(60);\n").unwrap();
    let makefile = fs::read_to_string(dir.join("Makefile")).unwrap();
    fs::write(dir.join("Makefile"), makefile.replace("REGRESS = ", "REGRESS = sleepy ")).unwrap();
    let (out_dir, work) = (tmp.path().join("out"), tmp.path().join("work"));
    let src = work.join(format!("pg{}/src", majors[0]));
    let child = Command::new(PGFARM)
        .args(["test", "--plain", "--pg", &majors[0].to_string(), "--out"])
        .arg(&out_dir)
        .arg("--workdir")
        .arg(&work)
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut sent = false;
    while started.elapsed() < Duration::from_secs(90) {
        if src.join("results/sleepy.out").is_file() {
            std::thread::sleep(Duration::from_millis(500));
            Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
            sent = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(sent, "the sleepy test never started");
    assert!(!src.join("teardown-ran").exists(), "teardown before the signal");
    let killed_at = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        killed_at.elapsed() < Duration::from_secs(20),
        "stopping took {:?}",
        killed_at.elapsed()
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let bundle = &bundles(&out_dir)[0];
    assert_eq!(bundle.run.status, RunStatus::Interrupted);
    // The teardown's effect: its command wrote the run's token into the copy.
    let marker = fs::read_to_string(src.join("teardown-ran"))
        .unwrap_or_else(|e| panic!("teardown did not run after SIGTERM ({e}): {}", describe(&out)));
    assert!(is_token(marker.trim()), "{marker}");
    let teardown_log = teardown_log(bundle);
    assert!(teardown_log.contains("DROP ROLE IF EXISTS tagged_"), "{teardown_log}");
}

#[test]
fn an_unknown_step_name_is_a_configuration_error_exit_3() {
    let Some(majors) = majors("an_unknown_step_name_is_a_configuration_error_exit_3", 1) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    let run = || {
        Command::new(PGFARM)
            .args(["test", "--plain", "--pg", &majors[0].to_string(), "--out"])
            .arg(tmp.path().join("out"))
            .arg(&dir)
            .output()
            .unwrap()
    };
    let test_file = dir.join("test/sql/auth_seeded.sql");
    let text = fs::read_to_string(&test_file).unwrap();
    fs::write(&test_file, text.replace("@setup seed", "@setup sed")).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("test/sql/auth_seeded.sql: @setup: unknown step `sed` (defined: "),
        "{stderr}"
    );
    fs::write(&test_file, text).unwrap();
    let config = fs::read_to_string(dir.join("pgfarm.toml")).unwrap();
    fs::write(dir.join("pgfarm.toml"), config.replace("\"mark_teardown\"", "\"mark\"")).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("teardown: unknown step `mark`"));
    assert!(bundles(&tmp.path().join("out")).is_empty(), "nothing ran");
}

#[test]
fn regress_and_prove_run_pgfarm_toml_steps_and_refuse_unknown_ones() {
    let Some((installation, cluster)) =
        server("regress_and_prove_run_pgfarm_toml_steps_and_refuse_unknown_ones")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(
        dir.join("pgfarm.toml"),
        "setup = [\"begin\"]\nteardown = [\"end\"]\n\
         [steps.begin]\ncommand = \"echo {rnd3} > setup-ran\"\n\
         [steps.end]\ncommand = \"echo {rnd3} > teardown-ran\"\n\
         [steps.seed]\nsql = \"CREATE TABLE seeded_{rnd2} AS SELECT 42 AS v\"\n\
         [steps.unseed]\nsql = \"DROP TABLE seeded_{rnd2}\"\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("sql")).unwrap();
    fs::create_dir_all(dir.join("expected")).unwrap();
    // The table's name holds a token: the test finds it through the catalog.
    let sql = "-- @setup seed\n-- @teardown unseed\nSELECT count(*) AS seeded FROM pg_tables WHERE tablename ~ '^seeded_[0-9a-f]{12}$';\n";
    fs::write(dir.join("sql/seeded.sql"), sql).unwrap();
    fs::write(
        dir.join("expected/seeded.out"),
        format!("{sql} seeded \n--------\n      1\n(1 row)\n\n"),
    )
    .unwrap();
    let out = pgfarm_in(dir, &installation, &cluster, &["regress", "--dbname=steps_db", "seeded"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let setup = fs::read_to_string(dir.join("setup-ran")).unwrap();
    assert!(setup.trim().len() == 12, "{setup}");
    assert_eq!(fs::read_to_string(dir.join("teardown-ran")).unwrap(), setup);
    // The @teardown dropped the table.
    let left = cluster
        .psql_cmd()
        .dbname("steps_db")
        .sql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'seeded%'")
        .safe()
        .unwrap();
    assert_eq!(left.trim(), "0");

    // prove: the same steps around plain TAP files.
    fs::create_dir_all(dir.join("t")).unwrap();
    fs::write(
        dir.join("t/seeded.pg"),
        "-- @setup seed\n-- @teardown unseed\nSELECT '1..1';\nSELECT CASE WHEN count(*) = 1 THEN 'ok 1' ELSE 'not ok 1' END FROM pg_tables WHERE tablename ~ '^seeded_';\n",
    )
    .unwrap();
    fs::remove_file(dir.join("teardown-ran")).unwrap();
    let out = pgfarm_in(dir, &installation, &cluster, &["prove", "-d", "postgres", "t"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(dir.join("teardown-ran").is_file());

    // Unknown names: exit 3 before anything runs.
    fs::write(dir.join("t/seeded.pg"), "-- @teardown nope\nSELECT '1..0';\n").unwrap();
    let out = pgfarm_in(dir, &installation, &cluster, &["prove", "-d", "postgres", "t"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("@teardown: unknown step `nope`"));
    fs::write(dir.join("sql/seeded.sql"), "-- @setup nope\nSELECT 1;\n").unwrap();
    let out = pgfarm_in(dir, &installation, &cluster, &["regress", "--dbname=steps_db", "seeded"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}
