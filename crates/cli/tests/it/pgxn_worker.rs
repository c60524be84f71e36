//! `pgfarm worker --pgxn` end to end: a PGXN mirror built from the sample extensions
//! (`pgfarm_pgxn::mirror`) served over real HTTP, a real `pgfarm serve` on a free port that syncs
//! its releases from that mirror into its queue (download URL and SHA-1 per item), and
//! `pgfarm worker --once --pgxn` fetching each release's zip, verifying its SHA-1, testing it in
//! the sandbox and submitting the bundle. A release whose zip does not match its SHA-1 is
//! reported and skipped while the others are tested; afterwards the queue holds only that one and
//! every other bundle is stored. A second test takes releases announced through the admin API
//! (no download URL in the queue), found through `--pgxn-mirror`.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use pgfarm_pgnode::Installation;
use pgfarm_pgxn::ReleaseStatus;
use pgfarm_pgxn::mirror::{Mirror, MirrorRelease};

use std::path::{Path, PathBuf};

use crate::worker::{
    agent, approved_machine, call, fixture, post_json, start_server, start_server_with, worker,
};

/// The sample extension `name` renamed `pgxnw_<name>` and released as version 1.0.0: its
/// control file and script say 1.0.0 as its mirror META does, so the bundle names the release
/// the queue offers, and no other test's version of it sits in the shared trees.
fn release_source(name: &str, into: &Path) -> PathBuf {
    let renamed = format!("pgxnw_{name}");
    let dir = into.join(&renamed);
    std::fs::create_dir_all(&dir).unwrap();
    copy_tree(&fixture(name), &dir);
    rename_all(&dir, name, &renamed);
    let script = dir.join(format!("{renamed}--1.0.sql"));
    std::fs::rename(&script, dir.join(format!("{renamed}--1.0.0.sql"))).unwrap();
    dir
}

/// Renames `from` to `to` in every file name and text below `dir`, and version 1.0 to 1.0.0.
fn rename_all(dir: &Path, from: &str, to: &str) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            rename_all(&path, from, to);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let text =
            text.replace(from, to).replace("1.0.sql", "1.0.0.sql").replace("'1.0'", "'1.0.0'");
        std::fs::write(&path, text).unwrap();
        let file_name = entry.file_name().to_string_lossy().replace(from, to);
        std::fs::rename(&path, dir.join(file_name)).unwrap();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn worker_pgxn_fetches_verifies_and_tests_every_queued_release_in_the_sandbox() {
    worker_pgxn_round_trip(
        "worker_pgxn_fetches_verifies_and_tests_every_queued_release_in_the_sandbox",
        true,
    );
}

#[test]
fn worker_pgxn_finds_releases_announced_without_a_download_url_through_its_mirror() {
    worker_pgxn_round_trip(
        "worker_pgxn_finds_releases_announced_without_a_download_url_through_its_mirror",
        false,
    );
}

/// The mirror, the server and two worker rounds; `synced`: the server syncs the mirror into its
/// queue (items with download URL and SHA-1), else the releases are announced through the admin
/// API and the worker reads their META from `--pgxn-mirror`.
fn worker_pgxn_round_trip(test: &str, synced: bool) {
    let bwrap = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !pgfarm_testsupport::require(test, "bwrap (package bubblewrap, scripts/setup)", bwrap) {
        return;
    }
    let Some(major) = Installation::discover()
        .iter()
        .filter(|installation| installation.has_pgxs() && installation.major() >= 13)
        .map(Installation::major)
        // The oldest: other suites take the newest, and runs on one tree wait for each other.
        .min()
    else {
        pgfarm_testsupport::require(test, "a PostgreSQL installation with PGXS", false);
        return;
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");

    // The mirror: two good releases and one whose zip was altered after publishing.
    let mirror = Mirror::create(&dir.path().join("mirror")).unwrap();
    let sources = dir.path().join("sources");
    let release = |name: &str, version: Option<&str>| MirrorRelease {
        source: release_source(name, &sources.join(version.unwrap_or("1.0.0"))),
        status: Some(ReleaseStatus::Stable),
        date: Some("2026-12-06T10:00:00Z".into()),
        user: "tester".into(),
        version: version.map(str::to_owned),
        license: None,
    };
    let pure_sql = mirror.add(&release("pure_sql", None)).unwrap();
    let c_func = mirror.add(&release("c_func", None)).unwrap();
    let broken = mirror.add(&release("pure_sql", Some("9.9.0"))).unwrap();
    let mut bytes = std::fs::read(&broken.zip).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&broken.zip, bytes).unwrap();
    let base = pgfarm_testsupport::http::serve_dir(dir.path().join("mirror"));

    let server = if synced {
        start_server_with(&dir.path().join("data"), &[("PGFARM_PGXN_MIRROR", &base)])
    } else {
        start_server(&dir.path().join("data"))
    };
    let secret = approved_machine(&server, "pgxn-worker");
    let queue_url = format!("{}/api/v1/machines/pgxn-worker/queue?pg={major}", server.base);
    if synced {
        // The sync runs at the server's start.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (_, queue) = call(agent().get(&queue_url).call());
            if queue.as_array().map(Vec::len) == Some(3) {
                for item in queue.as_array().unwrap() {
                    assert!(item["download_url"].as_str().is_some_and(|u| u.starts_with(&base)));
                    assert_eq!(item["sha1"].as_str().map(str::len), Some(40), "{item}");
                }
                break;
            }
            assert!(std::time::Instant::now() < until, "the sync filled no queue: {queue}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    } else {
        for published in [&pure_sql, &c_func, &broken] {
            let (status, body) = call(post_json(
                format!("{}/api/v1/admin/extensions", server.base),
                Some(&server.admin_token),
                serde_json::json!({"extension": published.dist, "version": published.version, "pg_min": 13}),
            ));
            assert!(status == 200 || status == 201, "{status} {body}");
        }
        let (_, queue) = call(agent().get(&queue_url).call());
        assert_eq!(queue.as_array().map(Vec::len), Some(3), "{queue}");
        assert!(queue[0].get("download_url").is_none(), "{queue}");
    }

    let workdir = dir.path().join("jobs");
    let major_text = major.to_string();
    let mut args = vec![
        "--server",
        &server.base,
        "--machine",
        "pgxn-worker",
        "--pg",
        &major_text,
        "--once",
        "--pgxn",
        "--workdir",
        workdir.to_str().unwrap(),
    ];
    if !synced {
        args.extend(["--pgxn-mirror", &base]);
    }
    // Each round tests one release per major; the broken one is skipped on the way (in
    // whichever round the queue's order reaches it), and the worker goes on.
    let mut log = String::new();
    for _ in 0..3 {
        let output = worker(&args, &secret).output().expect("pgfarm worker runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("in the sandbox"), "{stderr}");
        log.push_str(&format!("{stdout}\n{stderr}\n"));
    }
    assert_eq!(log.matches("stored as").count(), 2, "{log}");
    assert!(log.contains("sha1") && log.contains("verified"), "{log}");
    // The altered zip: reported with both digests, skipped, nothing tested from it.
    assert!(log.contains(&broken.sha1), "{log}");
    assert!(log.contains("skipping it for an hour"), "{log}");

    let (status, runs) = call(agent().get(format!("{}/api/v1/runs", server.base)).call());
    assert_eq!(status, 200);
    let items = runs["items"].as_array().expect("items");
    let mut stored: Vec<(String, String)> = items
        .iter()
        .map(|run| {
            assert_eq!(run["machine"], "pgxn-worker");
            assert_eq!(run["pg_major"], i64::from(major));
            assert_eq!(run["status"], "ok", "{run}");
            (
                run["extension"].as_str().unwrap().to_owned(),
                run["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            ("pgxnw_c_func".to_owned(), "1.0.0".to_owned()),
            ("pgxnw_pure_sql".to_owned(), "1.0.0".to_owned())
        ],
        "{runs}"
    );
    // Only the broken release is left in the queue.
    let (_, queue) = call(agent().get(&queue_url).call());
    let left: Vec<(&str, &str)> = queue
        .as_array()
        .expect("a queue")
        .iter()
        .map(|item| (item["extension"].as_str().unwrap(), item["version"].as_str().unwrap()))
        .collect();
    assert_eq!(left, [("pgxnw_pure_sql", "9.9.0")], "{queue}");
    // The verified zips stay in the cache, keyed by SHA-1; the altered one does not.
    assert!(workdir.join("cache").join(&pure_sql.sha1).is_dir());
    assert!(!workdir.join("cache").join(&broken.sha1).join("pgxnw_pure_sql-9.9.0.zip").exists());
}
