//! `pgfarm pgxn mirror`: a mirror folder written from the sample extensions, read back through
//! a real HTTP server by the PGXN client, and its errors.

#![allow(clippy::disallowed_methods, reason = "a test harness runs the binary under test")]

use std::process::Command;

use pgfarm_pgxn::{Accept, Client};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

#[test]
fn pgxn_mirror_writes_a_mirror_the_client_reads_over_http() {
    let samples = pgfarm_testsupport::repo("testdata/extensions");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mirror");
    let run = Command::new(PGFARM)
        .args(["pgxn", "mirror"])
        .arg(&out)
        .arg(samples.join("pure_sql"))
        .arg(samples.join("failing"))
        .args(["--user", "bob", "--date", "2026-05-01T12:00:00Z"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("pure_sql 1.0.0 (stable) sha1 "), "{stdout}");
    assert!(stdout.contains("failing 1.0.0 (stable)"), "{stdout}");

    let base = pgfarm_testsupport::http::serve_dir(out.clone());
    let client = Client::new(&base).unwrap();
    let chosen = client.dist("failing").unwrap().choose(Accept::Stable, None).unwrap();
    let meta = client.meta(&chosen.dist, &chosen.version).unwrap();
    assert_eq!((meta.user.as_str(), meta.date.as_str()), ("bob", "2026-05-01T12:00:00Z"));
    let zip = client.download(&meta, &dir.path().join("cache")).unwrap();
    assert!(zip.is_file());

    // Adding a testing release of the same folder under another version.
    let run = Command::new(PGFARM)
        .args(["pgxn", "mirror"])
        .arg(&out)
        .arg(samples.join("failing"))
        .args(["--status", "testing", "--version", "1.1.0-beta1"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let dist = client.dist("failing").unwrap();
    assert_eq!(dist.choose(Accept::Testing, None).unwrap().version, "1.1.0-beta1");
    assert_eq!(dist.choose(Accept::Stable, None).unwrap().version, "1.0.0");
}

#[test]
fn pgxn_mirror_names_a_folder_it_cannot_release() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("nothing-here");
    std::fs::create_dir_all(&empty).unwrap();
    let run = Command::new(PGFARM)
        .args(["pgxn", "mirror"])
        .arg(dir.path().join("m"))
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("nothing-here") && stderr.contains("control file"), "{stderr}");
}
