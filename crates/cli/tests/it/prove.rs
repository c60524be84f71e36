//! `pgfarm prove` end to end on `shared/corpus/tap/pgtap/sql/*.sql` against a real PostgreSQL
//! 15 cluster with pgTAP, side by side with the real pg_prove: the same verdict per file, the
//! same `Files=`/`Tests=` totals and `Result:` line, the same exit status.
//!
//! Needs Debian's PostgreSQL 15 with `postgresql-15-pgtap`; pg_prove
//! (`libtap-parser-sourcehandler-pgtap-perl`) for the side-by-side part. Without them each test
//! prints a note and returns.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgfarm_pgnode::{Cluster, Installation};

const BINDIR: &str = "/usr/lib/postgresql/15/bin";
const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn pgtap_corpus() -> PathBuf {
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/tap/pgtap"));
    assert!(
        path.is_dir(),
        "corpus missing at {}: clone shared/ beside the repository",
        path.display()
    );
    path
}

/// Debian's PostgreSQL 15 with pgTAP in database `tapdb`, and the corpus (`None`: a named
/// skip, see pgfarm_testsupport).
fn server_with_pgtap(test: &str) -> Option<Cluster> {
    pgfarm_testsupport::corpus(test, "tap/pgtap")?;
    if !pgfarm_testsupport::require(
        test,
        "postgresql-15-pgtap",
        Path::new("/usr/share/postgresql/15/extension/pgtap.control").is_file(),
    ) {
        return None;
    }
    let installation = Installation::from_bindir(BINDIR).ok()?;
    let cluster =
        Cluster::builder(&installation).log_statement("none").start().expect("start PostgreSQL 15");
    let psql = |sql: &str, db: &str| {
        let status = Command::new(installation.bin("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &cluster.host(),
                "-p",
                &cluster.port().to_string(),
                "-U",
                cluster.superuser(),
                "-d",
                db,
                "-c",
                sql,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "{sql}");
    };
    psql("CREATE DATABASE tapdb", "postgres");
    psql("CREATE EXTENSION pgtap", "tapdb");
    Some(cluster)
}

fn sql_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(pgtap_corpus().join("sql"))
        .unwrap()
        .flatten()
        .map(|e| format!("sql/{}", e.file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    files
}

fn run(program: &str, cluster: &Cluster, extra: &[&str]) -> Output {
    let port = cluster.port().to_string();
    let host = cluster.host();
    let mut args: Vec<&str> = Vec::new();
    if program == PGFARM {
        args.push("prove");
    }
    args.extend(["-h", &host, "-p", &port, "-U", cluster.superuser(), "-d", "tapdb"]);
    args.extend(extra);
    let files = sql_files();
    args.extend(files.iter().map(String::as_str));
    Command::new(program).current_dir(pgtap_corpus()).args(&args).output().unwrap()
}

/// `(file, passed)` from prove-style output: a file passed when its block ends with `ok`.
fn verdicts(stdout: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if line.starts_with("Test Summary Report")
            || line.starts_with("Files=")
            || line.starts_with("All tests successful")
        {
            break;
        }
        if line.starts_with("sql/") && line.contains(".sql ..") {
            let name = line.split(' ').next().map(str::to_owned);
            // A clean pass reads `name .. ok` on one line.
            match name {
                Some(name) if line.ends_with(" ok") => out.push((name, true)),
                name => current = name,
            }
            continue;
        }
        let verdict = line == "ok"
            || line.starts_with("Failed ")
            || line.starts_with("All ")
            || line.starts_with("No subtests");
        if verdict && let Some(name) = current.take() {
            out.push((name, line == "ok"));
        }
    }
    out.sort();
    out
}

fn totals(stdout: &str) -> (String, String) {
    let files_line = stdout.lines().find(|l| l.starts_with("Files=")).unwrap_or_default();
    let counts = files_line.split(',').take(2).collect::<Vec<_>>().join(",");
    let result = stdout.lines().find(|l| l.starts_with("Result: ")).unwrap_or_default().to_owned();
    (counts, result)
}

#[test]
fn corpus_verdicts_match_pg_prove_summary() {
    let Some(cluster) = server_with_pgtap("corpus_verdicts_match_pg_prove_summary") else { return };
    let ours = run(PGFARM, &cluster, &[]);
    let stdout = String::from_utf8_lossy(&ours.stdout);
    assert_eq!(ours.status.code(), Some(1), "{stdout}");
    let recorded = std::fs::read_to_string(pgtap_corpus().join("pg_prove-summary.txt")).unwrap();
    assert_eq!(verdicts(&stdout), verdicts(&recorded), "{stdout}");
    assert_eq!(totals(&stdout), totals(&recorded));
    // The summary report lines of a failed file read as pg_prove's.
    let report_part = recorded.split("Test Summary Report").nth(1).unwrap_or_default();
    let died = report_part
        .lines()
        .skip_while(|l| !l.starts_with("sql/09-died-midway.sql "))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(stdout.contains(&died), "{died}\n---\n{stdout}");
}

#[test]
fn parallel_run_matches_pg_prove_side_by_side() {
    let Some(cluster) = server_with_pgtap("parallel_run_matches_pg_prove_side_by_side") else {
        return;
    };
    if !Path::new("/usr/bin/pg_prove").is_file() {
        pgfarm_testsupport::require(
            module_path!(),
            "pg_prove (apt-get install libtap-parser-sourcehandler-pgtap-perl)",
            false,
        );
        return;
    }
    let theirs = run("pg_prove", &cluster, &["-j", "4"]);
    let ours = run(PGFARM, &cluster, &["-j", "4"]);
    let (theirs_out, ours_out) =
        (String::from_utf8_lossy(&theirs.stdout), String::from_utf8_lossy(&ours.stdout));
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(totals(&ours_out), totals(&theirs_out));
}

#[test]
fn passing_files_give_all_tests_successful_and_junit() {
    let Some(cluster) = server_with_pgtap("passing_files_give_all_tests_successful_and_junit")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("prove.xml");
    let port = cluster.port().to_string();
    let host = cluster.host();
    let out = Command::new(PGFARM)
        .current_dir(pgtap_corpus())
        .args([
            "prove",
            "-h",
            &host,
            "-p",
            &port,
            "-U",
            cluster.superuser(),
            "-d",
            "tapdb",
            "--junit",
        ])
        .arg(&junit)
        .arg("--psql-bin")
        .arg(Path::new(BINDIR).join("psql"))
        .arg("--bundle")
        .arg(tmp.path().join("prove.pgfarm.json.gz"))
        .args(["sql/03-skip-todo-diag.sql", "sql/08-special-chars.sql"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("All tests successful.\nFiles=2, Tests=16,"), "{stdout}");
    assert!(stdout.ends_with("Result: PASS\n"));
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(xml.contains("tests=\"2\"") && xml.contains("failures=\"0\""), "{xml}");
    let bundle = pgfarm_model::Bundle::from_slice(
        &std::fs::read(tmp.path().join("prove.pgfarm.json.gz")).unwrap(),
    )
    .unwrap();
    bundle.validate().unwrap();
    assert_eq!(bundle.tap.len(), 2);
    assert_eq!(bundle.postgres.major, 15);
}

/// Digits (and the dots between them) become `N`, runs of spaces one space: the shape of a
/// line without its times.
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|n| n.is_ascii_digit() || *n == '.') {
                chars.next();
            }
            out.push('N');
        } else if c == ' ' {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn timer_output_reads_as_pg_proves_side_by_side() {
    let Some(cluster) = server_with_pgtap("timer_output_reads_as_pg_proves_side_by_side") else {
        return;
    };
    if !Path::new("/usr/bin/pg_prove").is_file() {
        pgfarm_testsupport::require(
            module_path!(),
            "pg_prove (apt-get install libtap-parser-sourcehandler-pgtap-perl)",
            false,
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("clean.sql");
    std::fs::write(&file, "SELECT plan(2);\nSELECT ok(true, 'a');\nSELECT is(1, 1, 'b');\n")
        .unwrap();
    let port = cluster.port().to_string();
    let host = cluster.host();
    let common = ["-h", &host, "-p", &port, "-U", cluster.superuser(), "-d", "tapdb", "--timer"];
    let ours = Command::new(PGFARM).arg("prove").args(common).arg(&file).output().unwrap();
    let theirs = Command::new("pg_prove").args(common).arg(&file).output().unwrap();
    let (ours, theirs) =
        (String::from_utf8_lossy(&ours.stdout), String::from_utf8_lossy(&theirs.stdout));
    let shapes = |text: &str| text.lines().map(shape).collect::<Vec<_>>();
    // "[N:N:N] /tmp/../clean.sql .. ok N ms ( N usr N sys + N cusr N csys = N CPU)", then
    // "[N:N:N]", "All tests successful.", "Files=N, Tests=N, N wallclock secs ( .. CPU)".
    assert_eq!(shapes(&ours), shapes(&theirs), "ours:\n{ours}\ntheirs:\n{theirs}");
    assert!(ours.contains(" .. ok "), "{ours}");
}

#[test]
fn isolate_runs_each_file_in_its_own_copy_of_the_database() {
    let Some(cluster) = server_with_pgtap("isolate_runs_each_file_in_its_own_copy_of_the_database")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["a", "b"] {
        // Both create the same table and keep it: in one shared database the second fails.
        let file = tmp.path().join(format!("{name}.sql"));
        std::fs::write(
            &file,
            "SELECT plan(2);\nSELECT diag('database: ' || current_database());\n\
             SELECT lives_ok('CREATE TABLE shared_name (id int)', 'own table');\n\
             SELECT pass('still here');\n",
        )
        .unwrap();
        files.push(file);
    }
    let port = cluster.port().to_string();
    let host = cluster.host();
    let out = Command::new(PGFARM)
        .args(["prove", "-h", &host, "-p", &port, "-U", cluster.superuser(), "-d", "tapdb"])
        .args(["--isolate", "-j", "2", "-v"])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("# database: tapdb_pgfarm_0\n"), "{stdout}");
    assert!(stdout.contains("# database: tapdb_pgfarm_1\n"), "{stdout}");
    // The copies are gone and the template never saw the table.
    let psql = |sql: &str| {
        let out = Command::new(Path::new(BINDIR).join("psql"))
            .args(["-XAt", "-h", &host, "-p", &port, "-U", cluster.superuser(), "-d", "tapdb"])
            .args(["-c", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'tapdb_pgfarm_%'"), "0");
    assert_eq!(psql("SELECT to_regclass('shared_name') IS NULL"), "t");
}
