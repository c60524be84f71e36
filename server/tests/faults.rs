//! Faults under a running server, for real: a full disk under the SQLite data folder (a 4 MiB
//! tmpfs, filled), the PostgreSQL server stopped and started again under the server, and a
//! request that outlives the request time limit. Each gives 503 with a JSON `{code, message}`,
//! never a crash, and the server recovers once the cause is gone.
//!
//! The full-disk test mounts a tmpfs, which needs root (or CAP_SYS_ADMIN); without it the test
//! prints a note and returns. The PostgreSQL test needs an installation (`.pg/` or the system).

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Farm, bundle_for};

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).expect("mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .ok()?;
        if !output.status.success() {
            eprintln!(
                "note: full-disk test skipped: cannot mount a tmpfs ({})",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs { path: path.to_owned() })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Writes zeros to `path` until the file system is full; returns the bytes written.
fn fill_disk(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("filler file");
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
            Err(err) => panic!("filling {}: {err}", path.display()),
        }
    }
    // Smaller writes take the last partial block.
    for size in [4096usize, 512, 1] {
        while file.write(&block[..size]).map(|n| n > 0).unwrap_or(false) {
            written += size as u64;
        }
    }
    let _ = file.sync_all();
    written
}

/// A bundle of machine `machine` with about 1 MiB of incompressible stage log.
fn big_bundle(machine: &str) -> Vec<u8> {
    let (_, mut bundle) = bundle_for("regress-fail.pgfarm.json", machine);
    let mut state = common::fresh_uuid().as_u128() as u64 | 1;
    let log: String = (0..1_500_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(state % 36) as usize])
        })
        .collect();
    bundle.stages[0].log = log.into();
    bundle.to_gzip_vec()
}

#[test]
fn a_full_disk_answers_503_and_submissions_succeed_again_once_space_is_freed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mount_point = dir.path().join("small-disk");
    let Some(tmpfs) = Tmpfs::mount(&mount_point, "4m") else { return };
    let data_dir = tmpfs.path.clone();
    let farm = Farm::sqlite_with(|config| {
        config.database_url = format!("sqlite://{}/pgfarm.sqlite3", data_dir.display());
        config.data_dir = data_dir.clone();
    });
    let secret = farm.approved_machine("m1");
    let (body, first) = bundle_for("pass.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);

    let filler = data_dir.join("filler");
    let filled = fill_disk(&filler);
    assert!(filled > 0, "nothing could be written to the tmpfs");
    // Runs of about 1 MiB each (an incompressible log): small runs may still be stored on a
    // full disk, into room SQLite already holds in its files.
    let mut refused = 0;
    let mut stored_while_full = 0;
    for _ in 0..10 {
        let answer = farm.submit("m1", &secret, &big_bundle("m1"));
        match answer.status {
            201 => stored_while_full += 1,
            _ => {
                answer.expect_error(503, "unavailable");
                assert_eq!(answer.header("retry-after"), Some("5"));
                refused += 1;
            }
        }
    }
    // SQLite stores the runs that fit into room it still holds (7 of 10 were refused when
    // this was written); every other one must be a 503, never a 500 or a dropped connection.
    assert!(
        refused >= 3,
        "a full disk gave {refused} 503s to 10 runs of 1 MiB ({stored_while_full} were stored)"
    );
    // Reads keep working, and the server is alive.
    assert_eq!(farm.get(&format!("/api/v1/runs/{}", first.run.id)).status, 200);
    assert_eq!(farm.get("/api/v1/matrix").status, 200);

    std::fs::remove_file(&filler).expect("free the space");
    let (body, after) = bundle_for("pass.pgfarm.json", "m1");
    let answer = farm.submit("m1", &secret, &body);
    assert_eq!(answer.status, 201, "after freeing space: {}", answer.text());
    assert_eq!(farm.get(&format!("/api/v1/runs/{}", after.run.id)).status, 200);
    // Nothing half-written: every stored run has its bundle and the counts agree.
    let runs = farm.get("/api/v1/runs?limit=500").json();
    let n_runs = runs["items"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(n_runs, 2 + stored_while_full, "{runs}");
    for item in runs["items"].as_array().into_iter().flatten() {
        let uuid = item["uuid"].as_str().unwrap();
        assert_eq!(farm.get(&format!("/api/v1/runs/{uuid}/bundle")).status, 200);
    }
    drop(farm);
    drop(tmpfs);
}

#[test]
fn postgres_stopped_under_the_server_answers_503_and_the_server_recovers_when_it_is_back() {
    let Ok(installation) = pgfarm_pgnode::Installation::newest() else {
        eprintln!("note: skipped, no PostgreSQL installation");
        return;
    };
    let mut cluster = pgfarm_pgnode::Cluster::builder(&installation)
        .start()
        .unwrap_or_else(|err| panic!("starting PostgreSQL {}: {err}", installation.major()));
    cluster.create_database("farm", None).expect("CREATE DATABASE");
    let url =
        format!("postgres://{}@{}:{}/farm", cluster.superuser(), cluster.host(), cluster.port());
    let farm = Farm::postgres(&url);
    let secret = farm.approved_machine("m1");
    let (body, first) = bundle_for("pass.pgfarm.json", "m1");
    assert_eq!(farm.submit("m1", &secret, &body).status, 201);

    cluster.stop().expect("stop PostgreSQL");
    let started = Instant::now();
    let (body, _) = bundle_for("pass.pgfarm.json", "m1");
    farm.submit("m1", &secret, &body).expect_error(503, "unavailable");
    farm.get("/api/v1/matrix").expect_error(503, "unavailable");
    farm.get(&format!("/api/v1/runs/{}", first.run.id)).expect_error(503, "unavailable");
    let health = farm.get("/healthz");
    assert_eq!(health.status, 503, "{}", health.text());
    // Within the pool's acquire timeout (5 s) per request, not hanging.
    assert!(started.elapsed() < Duration::from_secs(40), "took {:?}", started.elapsed());

    cluster.start().expect("start PostgreSQL again");
    let mut recovered = false;
    for _ in 0..50 {
        let answer = farm.submit("m1", &secret, &body);
        if answer.status == 201 {
            recovered = true;
            break;
        }
        answer.expect_error(503, "unavailable");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(recovered, "the server did not recover after PostgreSQL came back");
    assert_eq!(farm.get(&format!("/api/v1/runs/{}", first.run.id)).status, 200);
    assert_eq!(farm.get("/healthz").status, 200);
    drop(farm);
}

#[test]
fn a_request_outliving_the_time_limit_gets_a_json_503() {
    let farm = Farm::sqlite_with(|config| config.request_timeout = Duration::from_millis(500));
    let address = farm.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    // A submission whose body never finishes arriving.
    write!(
        stream,
        "POST /api/v1/runs HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/gzip\r\n\
         Content-Length: 100000\r\nX-Pgfarm-Machine: m1\r\nX-Pgfarm-Timestamp: 1\r\n\
         X-Pgfarm-Signature: sha256=00\r\n\r\n0123456789"
    )
    .expect("send the start of a request");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains('}') {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(err) => panic!("no answer after {:?}: {err}", started.elapsed()),
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/json"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").expect("head") + 4..];
    let json: serde_json::Value = serde_json::from_str(body.trim()).expect("JSON body");
    assert_eq!(json["code"], "unavailable", "{json}");
    assert!(json["message"].as_str().unwrap().contains("time limit of 0.5 s"), "{json}");
    // The server keeps serving.
    assert_eq!(farm.get("/healthz").status, 200);
}
