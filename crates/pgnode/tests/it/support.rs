//! Finding the installations under test, and child-process modes of this test binary.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};

use pgfarm_pgnode::Installation;
use pgfarm_pgnode::command::Command;

/// The folder holding `<major>/` trees.
pub(crate) fn pg_dir() -> PathBuf {
    match std::env::var_os("PGFARM_PG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            // An older checkout's .pg/, else the trees `pgfarm pg install` made.
            let checkout = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.pg"));
            match pgfarm_pgnode::home::trees_dir() {
                Some(trees) if !checkout.join("15/bin/pg_config").is_file() => trees,
                _ => checkout,
            }
        }
    }
}

/// The installation of `major`, or `None` with a printed note. Major 15 must exist.
pub(crate) fn pg(major: u32) -> Option<Installation> {
    let bindir = pg_dir().join(major.to_string()).join("bin");
    match Installation::from_bindir(&bindir) {
        Ok(installation) => Some(installation),
        Err(err) if major == 15 => {
            panic!(
                "PostgreSQL 15 is required for the pgnode tests ({err}); run scripts/setup-pg.sh"
            )
        }
        Err(err) => {
            println!("note: skipping PostgreSQL {major}: {err}");
            None
        }
    }
}

/// PostgreSQL 15 (always required).
pub(crate) fn pg15() -> Installation {
    pg(15).expect("pg(15) panics when missing")
}

/// Every installed major from 13 to 18.
pub(crate) fn all_majors() -> Vec<Installation> {
    (13..=18).filter_map(pg).collect()
}

/// The child mode this process was started in (`PGFARM_TEST_CHILD`), if any.
pub(crate) fn child_mode() -> Option<String> {
    std::env::var("PGFARM_TEST_CHILD").ok()
}

/// Re-runs this test binary for one test in a child mode; stdout is piped.
pub(crate) fn spawn_child(test_name: &str, mode: &str) -> Child {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    Command::new(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env("PGFARM_TEST_CHILD", mode)
        .spawn(Stdio::null(), Stdio::piped(), Stdio::inherit())
        .expect("re-running the test binary works")
}

/// Reads the child's stdout lines until one starts with `prefix`; returns the rest of it.
pub(crate) fn read_line_with(child: &mut Child, prefix: &str) -> String {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("child stdout is readable");
        assert!(n > 0, "child exited before printing {prefix:?}");
        // libtest prints "test <name> ... " without a newline before the test's own output.
        if let Some(start) = line.find(prefix) {
            let rest = line.trim_end()[start + prefix.len()..].to_owned();
            // Keep draining in the background so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return rest;
        }
    }
}

/// True while a process with this pid exists (and is not a zombie).
pub(crate) fn process_exists(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// True when the data directory has no postmaster.pid (the server was stopped).
pub(crate) fn pid_file_gone(data_dir: &std::path::Path) -> bool {
    !data_dir.join("postmaster.pid").exists()
}
