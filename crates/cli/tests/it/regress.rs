//! `pgfarm regress` end to end against a real PostgreSQL 15 server (a pgnode cluster), side by
//! side with the real pg_regress: same verdicts, identical `results/*.out`, same
//! `regression.out` apart from timings, same exit codes.
//!
//! Needs Debian's PostgreSQL 15 (`/usr/lib/postgresql/15`, with pg_regress from
//! postgresql-server-dev-15); without it each test prints a note and returns. The semver and
//! pgTAP suites additionally need `postgresql-15-semver` / `postgresql-15-pgtap`.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use pgfarm_pgnode::{Cluster, Installation};

const BINDIR: &str = "/usr/lib/postgresql/15/bin";
const PG_REGRESS: &str = "/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress";
const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn corpus() -> PathBuf {
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/regress"));
    assert!(
        path.is_dir(),
        "corpus missing at {}: clone shared/ beside the repository",
        path.display()
    );
    path
}

/// Debian's PostgreSQL 15 with pg_regress, and the corpus: the comparison's two sides (`None`:
/// a named skip, see pgfarm_testsupport).
fn server(test: &str) -> Option<Cluster> {
    pgfarm_testsupport::corpus(test, "regress")?;
    if !pgfarm_testsupport::require(
        test,
        &format!("{PG_REGRESS} (apt-get install postgresql-server-dev-15)"),
        Path::new(PG_REGRESS).is_file(),
    ) {
        return None;
    }
    let installation = Installation::from_bindir(BINDIR).expect("PostgreSQL 15 installation");
    let cluster = Cluster::builder(&installation)
        .log_statement("none")
        .conf("max_connections = 120")
        .conf("max_prepared_transactions = 2")
        .start()
        .expect("start a PostgreSQL 15 cluster");
    Some(cluster)
}

/// Copies a corpus suite into a fresh temporary directory (tests write into sql/ and results/).
fn copy_suite(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&corpus().join(name), dir.path());
    dir
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

fn run(program: &str, cwd: &Path, cluster: &Cluster, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(cwd)
        .env("PGHOST", cluster.host())
        .env("PGPORT", cluster.port().to_string())
        .env("PGUSER", cluster.superuser())
        .args(if program == PGFARM { &["regress"][..] } else { &[][..] })
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {program}: {e}"))
}

/// Removes the per-test times (`  12 ms`) and sorts the names on `parallel group` lines
/// (they are listed in order of completion, which varies) so two runs can be compared.
fn without_times(text: &str) -> String {
    text.lines()
        .map(|line| {
            if let Some((head, names)) = line.split_once("):  ") {
                let mut names: Vec<&str> = names.split(' ').collect();
                names.sort_unstable();
                return format!("{head}):  {}", names.join(" "));
            }
            line.to_owned()
        })
        .map(|line| match line.strip_suffix(" ms") {
            Some(rest) => rest.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end().to_owned(),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn results(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir.join("results"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

/// `ok`/`FAILED` per test from classic output, or `ok`/`not ok` from TAP, in order.
fn verdicts(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            let line = without_times(line);
            if let Some(rest) = line.strip_prefix("not ok ") {
                return Some(format!("not ok {}", rest.split_whitespace().nth(2).unwrap_or("")));
            }
            if let Some(rest) = line.strip_prefix("ok ") {
                return Some(format!("ok {}", rest.split_whitespace().nth(2).unwrap_or("")));
            }
            let (name, verdict) = line.split_once(" ... ")?;
            Some(format!("{} {}", verdict.trim(), name.trim_start_matches("test ").trim()))
        })
        .collect()
}

fn assert_same_run(suite: &Path, pg_regress_out: &str, pgfarm_out: &str) {
    let a = results(&suite.join(pg_regress_out));
    let b = results(&suite.join(pgfarm_out));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, left), (_, right)) in a.iter().zip(&b) {
        assert!(left == right, "results/{name} differs between pg_regress and pgfarm regress");
    }
}

#[test]
fn format_samples_classic_matches_pg_regress_15_byte_for_byte() {
    let Some(cluster) = server("format_samples_classic_matches_pg_regress_15_byte_for_byte") else {
        return;
    };
    let suite = copy_suite("format-samples/suite");
    let dir = suite.path();
    let common =
        ["--bindir", BINDIR, "--inputdir=.", "--dbname=tiny_15", "--schedule=schedule", "one"];
    let theirs = run(PG_REGRESS, dir, &cluster, &[&["--outputdir=OUT_P"][..], &common].concat());
    let ours =
        run(PGFARM, dir, &cluster, &[&["--outputdir=OUT_F", "--classic"][..], &common].concat());
    assert_eq!(theirs.status.code(), Some(1));
    assert_eq!(ours.status.code(), theirs.status.code());
    let (theirs_out, ours_out) =
        (String::from_utf8_lossy(&theirs.stdout), String::from_utf8_lossy(&ours.stdout));
    assert_eq!(without_times(&ours_out.replace("OUT_F", "OUT_P")), without_times(&theirs_out));
    assert_eq!(
        without_times(&fs::read_to_string(dir.join("OUT_F/regression.out")).unwrap()),
        without_times(&fs::read_to_string(dir.join("OUT_P/regression.out")).unwrap())
    );
    assert_same_run(dir, "OUT_P", "OUT_F");
    // regression.diffs: same lines apart from the output directory and the timestamps.
    let strip = |text: String| -> String {
        text.replace("OUT_F", "OUT_P")
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(fs::read_to_string(dir.join("OUT_F/regression.diffs")).unwrap()),
        strip(fs::read_to_string(dir.join("OUT_P/regression.diffs")).unwrap())
    );
}

#[test]
fn pg_regress_diff_opts_shape_regression_diffs_as_in_pg_regress() {
    let Some(cluster) = server("pg_regress_diff_opts_shape_regression_diffs_as_in_pg_regress")
    else {
        return;
    };
    let suite = copy_suite("format-samples/suite");
    let dir = suite.path();
    let common =
        ["--bindir", BINDIR, "--inputdir=.", "--dbname=tiny_15", "--schedule=schedule", "one"];
    // Context format with one line, white space ignored: rendered in-process by pgfarm;
    // side by side: run through GNU diff, as pg_regress does for every option.
    for (opts, outp, outf) in [("-C1 -w", "OUT_P1", "OUT_F1"), ("-y -W 100", "OUT_P2", "OUT_F2")] {
        let with_opts = |program: &str, args: &[&str]| {
            let mut command = Command::new(program);
            command
                .current_dir(dir)
                .env("PGHOST", cluster.host())
                .env("PGPORT", cluster.port().to_string())
                .env("PGUSER", cluster.superuser())
                .env("PG_REGRESS_DIFF_OPTS", opts);
            if program == PGFARM {
                command.args(["regress", "--classic"]);
            }
            command.args(args).output().unwrap()
        };
        let out_p = format!("--outputdir={outp}");
        let out_f = format!("--outputdir={outf}");
        let theirs = with_opts(PG_REGRESS, &[&[out_p.as_str()][..], &common].concat());
        let ours = with_opts(PGFARM, &[&[out_f.as_str()][..], &common].concat());
        assert_eq!(ours.status.code(), theirs.status.code(), "{opts}");
        let strip = |text: String| -> String {
            text.replace(outf, outp)
                .lines()
                .map(|l| l.split('\t').next().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let theirs_diffs =
            strip(fs::read_to_string(dir.join(outp).join("regression.diffs")).unwrap());
        assert!(theirs_diffs.starts_with(&format!("diff {opts} ")), "{theirs_diffs}");
        assert_eq!(
            strip(fs::read_to_string(dir.join(outf).join("regression.diffs")).unwrap()),
            theirs_diffs,
            "PG_REGRESS_DIFF_OPTS={opts}"
        );
    }
}

#[test]
fn format_samples_ignore_and_psql_exit_follow_each_dialect() {
    let Some(cluster) = server("format_samples_ignore_and_psql_exit_follow_each_dialect") else {
        return;
    };
    let suite = copy_suite("format-samples/suite");
    let dir = suite.path();
    // PG15 rules: `ignore:` gives "failed (ignored)" and exit 0, like pg_regress 15.
    let args = [
        "--bindir",
        BINDIR,
        "--inputdir=.",
        "--outputdir=O1",
        "--dbname=t1",
        "--schedule=schedule_ign",
        "--classic",
    ];
    let ours = run(PGFARM, dir, &cluster, &args);
    assert_eq!(ours.status.code(), Some(0), "{}", String::from_utf8_lossy(&ours.stdout));
    assert!(
        String::from_utf8_lossy(&ours.stdout)
            .contains("three                        ... failed (ignored)")
    );
    // PG16+ rules: `ignore:` is a syntax error: Bail out!, exit 2.
    let ours = run(
        PGFARM,
        dir,
        &cluster,
        &[
            "--bindir",
            BINDIR,
            "--inputdir=.",
            "--outputdir=O2",
            "--dbname=t2",
            "--schedule=schedule_ign",
        ],
    );
    assert_eq!(ours.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ours.stdout).ends_with("Bail out!"));
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        "# syntax error in schedule file \"schedule_ign\" line 1: ignore: three\n"
    );
    // psql exiting with 3 but matching output: ok in 15, not ok in 16+.
    let theirs = run(
        PG_REGRESS,
        dir,
        &cluster,
        &["--bindir", BINDIR, "--inputdir=.", "--outputdir=O3", "--dbname=t3", "err"],
    );
    let classic = run(
        PGFARM,
        dir,
        &cluster,
        &["--bindir", BINDIR, "--inputdir=.", "--outputdir=O4", "--dbname=t4", "--classic", "err"],
    );
    assert_eq!(classic.status.code(), theirs.status.code());
    assert!(
        String::from_utf8_lossy(&classic.stdout)
            .contains("ok     (test process exited with exit code 3)")
    );
    let tap = run(
        PGFARM,
        dir,
        &cluster,
        &["--bindir", BINDIR, "--inputdir=.", "--outputdir=O5", "--dbname=t5", "err"],
    );
    assert_eq!(tap.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&tap.stderr),
        "# (test process exited with exit code 3)\n# 1 of 1 tests failed.\n"
    );
    assert!(
        !dir.join("O5/regression.out").exists(),
        "no diffs: regression.out is removed as pg_regress does"
    );
}

#[test]
fn semver_suite_matches_pg_regress() {
    let script = Path::new("/usr/share/postgresql/15/extension/semver--0.32.0.sql");
    if !script.is_file() {
        pgfarm_testsupport::optional(module_path!(), "postgresql-15-semver", false);
        return;
    }
    let Some(cluster) = server("semver_suite_matches_pg_regress") else { return };
    let suite = copy_suite("semver-0.32.0");
    let dir = suite.path();
    fs::create_dir_all(dir.join("sql")).unwrap();
    fs::copy(script, dir.join("sql/semver.sql")).unwrap();
    let common =
        ["--inputdir=test", "--bindir", BINDIR, "--dbname=contrib_regression", "base", "corpus"];
    let theirs = run(PG_REGRESS, dir, &cluster, &[&["--outputdir=OUT_P"][..], &common].concat());
    let ours = run(PGFARM, dir, &cluster, &[&["--outputdir=OUT_F"][..], &common].concat());
    assert_eq!(theirs.status.code(), Some(0));
    assert_eq!(ours.status.code(), Some(0), "{}", String::from_utf8_lossy(&ours.stdout));
    assert_eq!(verdicts(&String::from_utf8_lossy(&ours.stdout)), ["ok base", "ok corpus"]);
    assert_same_run(dir, "OUT_P", "OUT_F");
}

#[test]
fn pgtap_suite_matches_pg_regress() {
    let script = Path::new("/usr/share/postgresql/15/extension/pgtap--1.2.0.sql");
    if !script.is_file() {
        pgfarm_testsupport::require(module_path!(), "postgresql-15-pgtap", false);
        return;
    }
    let Some(cluster) = server("pgtap_suite_matches_pg_regress") else { return };
    let suite = copy_suite("pgtap-1.2.0");
    let dir = suite.path();
    fs::create_dir_all(dir.join("sql")).unwrap();
    fs::copy(script, dir.join("sql/pgtap.sql")).unwrap();
    let common = [
        "--inputdir=test",
        "--bindir",
        BINDIR,
        "--max-connections=88",
        "--schedule",
        "test/schedule/main.sch",
        "--schedule",
        "test/build/parallel.sch",
    ];
    let theirs = run(PG_REGRESS, dir, &cluster, &[&["--outputdir=OUT_P"][..], &common].concat());
    let ours =
        run(PGFARM, dir, &cluster, &[&["--outputdir=OUT_F", "--classic"][..], &common].concat());
    let diffs = fs::read_to_string(dir.join("OUT_P/regression.diffs")).unwrap_or_default();
    assert_eq!(
        theirs.status.code(),
        Some(0),
        "pg_regress failed:\n{}",
        &diffs.lines().filter(|l| l.starts_with('+')).take(30).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(ours.status.code(), Some(0), "{}", String::from_utf8_lossy(&ours.stdout));
    let mut theirs_v = verdicts(&String::from_utf8_lossy(&theirs.stdout));
    let mut ours_v = verdicts(&String::from_utf8_lossy(&ours.stdout));
    assert_eq!(ours_v.len(), 39);
    theirs_v.sort();
    ours_v.sort();
    assert_eq!(ours_v, theirs_v);
    assert_same_run(dir, "OUT_P", "OUT_F");
}

fn tiny_suite(tests: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("sql")).unwrap();
    fs::create_dir_all(dir.path().join("expected")).unwrap();
    for (name, sql, expected) in tests {
        fs::write(dir.path().join(format!("sql/{name}.sql")), sql).unwrap();
        fs::write(dir.path().join(format!("expected/{name}.out")), expected).unwrap();
    }
    dir
}

#[test]
fn timeout_cancels_a_hung_test_and_the_run_goes_on() {
    let Some(cluster) = server("timeout_cancels_a_hung_test_and_the_run_goes_on") else { return };
    let suite = tiny_suite(&[
        ("hang", "SELECT pg_sleep(60);\n", "SELECT pg_sleep(60);\n"),
        ("after", "SELECT 1 AS x;\n", "SELECT 1 AS x;\n x \n---\n 1\n(1 row)\n\n"),
    ]);
    let started = Instant::now();
    let junit = suite.path().join("junit.xml");
    let out = run(
        PGFARM,
        suite.path(),
        &cluster,
        &[
            "--bindir",
            BINDIR,
            "--dbname=hang_db",
            "--timeout=1",
            "--junit",
            junit.to_str().unwrap(),
            "hang",
            "after",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(20), "the hung test was not cancelled");
    // A time-out is an error of the run (pgfarm-verdict's run-machine-fault): exit 2.
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not ok 1     - hang"), "{stdout}");
    assert!(stdout.contains("ok 2         - after"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("# (test timed out after 1 s)"));
    let xml = fs::read_to_string(junit).unwrap();
    assert!(xml.contains("<error message=\"timed out after 1 s"), "{xml}");
}

#[test]
fn jobs_run_positional_tests_in_separate_databases() {
    let Some(cluster) = server("jobs_run_positional_tests_in_separate_databases") else { return };
    // Both tests create the same table: in one shared database the second one fails.
    let create = "CREATE TABLE shared_name (id int);\n";
    let suite = tiny_suite(&[
        ("a", create, "CREATE TABLE shared_name (id int);\n"),
        ("b", create, "CREATE TABLE shared_name (id int);\n"),
    ]);
    let serial = run(
        PGFARM,
        suite.path(),
        &cluster,
        &["--bindir", BINDIR, "--dbname=jobs_db", "--outputdir=S", "a", "b"],
    );
    assert_eq!(serial.status.code(), Some(1), "{}", String::from_utf8_lossy(&serial.stdout));
    let parallel = run(
        PGFARM,
        suite.path(),
        &cluster,
        &["--bindir", BINDIR, "--dbname=jobs_db", "--outputdir=P", "--jobs=2", "a", "b"],
    );
    assert_eq!(parallel.status.code(), Some(0), "{}", String::from_utf8_lossy(&parallel.stdout));
    assert_eq!(verdicts(&String::from_utf8_lossy(&parallel.stdout)), ["ok a", "ok b"]);
}

#[test]
fn temp_instance_runs_the_suite_on_a_private_server() {
    if !pgfarm_testsupport::require(
        "temp_instance_runs_the_suite_on_a_private_server",
        PG_REGRESS,
        Path::new(PG_REGRESS).is_file(),
    ) || pgfarm_testsupport::corpus(
        "temp_instance_runs_the_suite_on_a_private_server",
        "regress",
    )
    .is_none()
    {
        return;
    }
    let suite = copy_suite("format-samples/suite");
    let dir = suite.path();
    let out = Command::new(PGFARM)
        .current_dir(dir)
        .args([
            "regress",
            "--temp-instance=tmp_check",
            "--bindir",
            BINDIR,
            "--inputdir=.",
            "--outputdir=OUT",
            "one",
            "two",
        ])
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("# initializing database system"), "{stdout}");
    assert!(stdout.contains("# using temp instance on port"), "{stdout}");
    assert!(stdout.ends_with("# All 2 tests passed.\n"), "{stdout}");
    assert!(dir.join("OUT/log/postmaster.log").is_file());
}

/// PGXS users swap pg_regress for pgfarm regress without touching their Makefile: PGXS
/// appends `--inputdir=test --load-extension=pure_sql --dbname=contrib_regression` (from
/// REGRESS_OPTS) after our `--inputdir=./`, and the last value wins as with getopt.
#[test]
fn temp_instance_takes_the_locale_from_the_environment_as_pg_regress_does() {
    if !pgfarm_testsupport::require(
        "temp_instance_takes_the_locale_from_the_environment_as_pg_regress_does",
        PG_REGRESS,
        Path::new(PG_REGRESS).is_file(),
    ) {
        return;
    }
    let query =
        "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database();\n";
    // psql's aligned format: columns as wide as header or value, the last value unpadded.
    let expected = |locale: &str| {
        let (w1, w2) = (locale.len().max(10), locale.len().max(8));
        format!(
            "{query} {:<w1$} | {:<w2$} \n-{}-+-{}-\n {locale:<w1$} | {locale}\n(1 row)\n\n",
            "datcollate",
            "datctype",
            "-".repeat(w1),
            "-".repeat(w2),
        )
    };
    for (locale, extra) in [("C.UTF-8", None), ("C", Some("--no-locale"))] {
        let suite = tiny_suite(&[("loc", query, &expected(locale))]);
        let mut command = Command::new(PGFARM);
        command
            .current_dir(suite.path())
            .args(["regress", "--temp-instance=tmp_check", "--bindir", BINDIR, "--inputdir=."])
            .args(extra)
            .arg("loc")
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_COLLATE")
            .env_remove("LC_CTYPE")
            .env_remove("PGHOST")
            .env_remove("PGPORT");
        let out = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let diffs = fs::read_to_string(suite.path().join("regression.diffs")).unwrap_or_default();
        assert_eq!(out.status.code(), Some(0), "{locale}: {stdout}{diffs}");
    }
}

#[test]
fn pgxs_installcheck_runs_pgfarm_regress_unchanged() {
    let Some(cluster) = server("pgxs_installcheck_runs_pgfarm_regress_unchanged") else { return };
    let pg_config = format!("{BINDIR}/pg_config");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pure_sql");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/extensions/pure_sql"),
        &dir,
    );
    let install = Command::new("make")
        .current_dir(&dir)
        .arg("install")
        .arg(format!("PG_CONFIG={pg_config}"))
        .output()
        .unwrap();
    if !install.status.success() {
        pgfarm_testsupport::require(
            module_path!(),
            "a PostgreSQL 15 tree to install into (root)",
            false,
        );
        return;
    }
    let out = Command::new("make")
        .current_dir(&dir)
        .arg("installcheck")
        .arg(format!("PG_CONFIG={pg_config}"))
        .arg(format!("pg_regress_installcheck={PGFARM} regress --inputdir=./ --bindir={BINDIR}"))
        .env("PGHOST", cluster.host())
        .env("PGPORT", cluster.port().to_string())
        .env("PGUSER", cluster.superuser())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok 1         - basic"), "{stdout}");
    assert!(stdout.contains("# All 2 tests passed."), "{stdout}");
    assert!(dir.join("results/era.out").is_file());
}
