//! `pgfarm pg list` and `pgfarm tmp` against the real installations under `.pg/`.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pgfarm_pgnode::command::Command;

fn pgfarm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pgfarm"))
}

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn pg_dir() -> PathBuf {
    match std::env::var_os("PGFARM_PG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            // An older checkout's .pg/, else the trees `pgfarm pg install` made.
            let checkout = workspace().join(".pg");
            match pgfarm_pgnode::home::trees_dir() {
                Some(trees) if !checkout.join("15/bin/pg_config").is_file() => trees,
                _ => checkout,
            }
        }
    }
}

fn require_pg15() {
    assert!(
        pg_dir().join("15/bin/pg_config").is_file(),
        "PostgreSQL 15 is required under {} (run scripts/setup-pg.sh or `pgfarm pg install 15`)",
        pg_dir().display()
    );
}

#[test]
fn pg_list_prints_an_aligned_table_with_each_tree_once() {
    require_pg15();
    // The same trees are reachable through PGFARM_PG_DIR and through .pg/ in the cwd.
    let out = pgfarm()
        .args(["pg", "list"])
        .env("PGFARM_PG_DIR", pg_dir())
        .current_dir(workspace())
        .run()
        .unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("MAJOR  VERSION"), "{}", out.stdout);
    let bindir_col = lines[0].find("BINDIR").unwrap();
    let pg15 = std::fs::canonicalize(pg_dir().join("15/bin")).unwrap();
    let rows_for_pg15: Vec<&&str> =
        lines.iter().filter(|l| l.contains(&*pg15.to_string_lossy())).collect();
    assert_eq!(rows_for_pg15.len(), 1, "{}", out.stdout);
    for line in &lines[1..] {
        assert_eq!(line.chars().nth(bindir_col - 1), Some(' '), "misaligned: {line:?}");
        assert!(line[bindir_col..].starts_with('/'), "misaligned: {line:?}");
    }
    assert!(rows_for_pg15[0].contains(" yes "), "{}", rows_for_pg15[0]);
}

#[test]
fn pg_list_json_describes_each_installation() {
    require_pg15();
    let out = pgfarm().args(["pg", "list", "--json"]).env("PGFARM_PG_DIR", pg_dir()).run().unwrap();
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    let ours: Vec<&serde_json::Value> = list
        .iter()
        .filter(|i| {
            i["bindir"]
                .as_str()
                .unwrap()
                .starts_with(&*pg_dir().canonicalize().unwrap().to_string_lossy())
                || i["pg_config"].as_str().unwrap().starts_with(&*pg_dir().to_string_lossy())
        })
        .collect();
    let pg15 = ours.iter().find(|i| i["major"] == 15).expect("PG15 is listed");
    assert_eq!(pg15["headers"], true);
    assert_eq!(pg15["has_pgxs"], true);
    assert_eq!(pg15["pgtap"], true);
    assert!(pg15["version"].as_str().unwrap().starts_with("15."));
    assert!(PathBuf::from(pg15["pg_regress"].as_str().unwrap()).is_file());
    let mut bindirs: Vec<&str> = list.iter().map(|i| i["bindir"].as_str().unwrap()).collect();
    let n = bindirs.len();
    bindirs.sort();
    bindirs.dedup();
    assert_eq!(bindirs.len(), n, "a tree is listed twice");
}

#[test]
fn pg_without_a_subcommand_is_a_usage_error() {
    let out = pgfarm().args(["pg"]).output().unwrap();
    assert_eq!(out.code(), Some(2));
}

/// Starts `pgfarm tmp` and returns the child and the URI it printed.
fn start_tmp(args: &[&str]) -> (std::process::Child, String) {
    let mut child = pgfarm()
        .arg("tmp")
        .args(args)
        .env("PGFARM_PG_DIR", pg_dir())
        .spawn(Stdio::null(), Stdio::piped(), Stdio::null())
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_owned())
}

fn psql(uri: &str, sql: &str) -> pgfarm_pgnode::command::Output {
    Command::new(pg_dir().join("15/bin/psql"))
        .args(["-X", "-A", "-t", "-c", sql, uri])
        .output()
        .unwrap()
}

fn wait_exit(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn tmp_prints_a_working_uri_and_removes_the_cluster_when_idle() {
    require_pg15();
    let (mut child, uri) = start_tmp(&["--pg", "15", "--idle", "1500ms"]);
    assert!(uri.starts_with("postgresql://postgres@127.0.0.1:"), "{uri}");
    let out = psql(&uri, "select current_setting('server_version_num')::int / 10000");
    assert_eq!(out.stdout.trim(), "15", "{out:?}");
    // A connected client keeps it alive past the idle timeout.
    let long = Command::new(pg_dir().join("15/bin/psql"))
        .args(["-X", "-c", "select pg_sleep(2.5)", &uri])
        .spawn(Stdio::null(), Stdio::null(), Stdio::null());
    let mut long = long.unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    assert!(child.try_wait().unwrap().is_none(), "removed while a client was connected");
    long.wait().unwrap();
    let status =
        wait_exit(&mut child, Duration::from_secs(15)).expect("tmp exits after the idle timeout");
    assert!(status.success());
    assert_ne!(psql(&uri, "select 1").code(), Some(0), "the server is gone");
}

#[test]
fn tmp_stops_on_sigterm() {
    require_pg15();
    let (mut child, uri) = start_tmp(&["--pg", "15", "--idle", "10m", "--socket-only"]);
    assert!(uri.contains("?host=%2F"), "{uri}");
    assert_eq!(psql(&uri, "select 1").stdout.trim(), "1");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).run().unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(15)).expect("tmp exits on SIGTERM");
    assert!(status.success(), "{status}");
    assert_ne!(psql(&uri, "select 1").code(), Some(0), "the server is gone");
}

#[test]
fn tmp_detach_returns_at_once_and_serves_in_the_background() {
    require_pg15();
    let out = pgfarm()
        .args(["tmp", "-d", "--pg", "15", "--idle", "1s"])
        .env("PGFARM_PG_DIR", pg_dir())
        .run()
        .unwrap();
    let uri = out.stdout.trim();
    assert_eq!(psql(uri, "select 2").stdout.trim(), "2");
    let deadline = Instant::now() + Duration::from_secs(15);
    while psql(uri, "select 1").code() == Some(0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_ne!(psql(uri, "select 1").code(), Some(0), "the detached cluster is removed when idle");
}

#[test]
fn tmp_with_a_missing_major_exits_2_with_a_clear_message() {
    let out = pgfarm().args(["tmp", "--pg", "9"]).env("PGFARM_PG_DIR", pg_dir()).output().unwrap();
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr.contains("no PostgreSQL installation found for major 9"), "{}", out.stderr);
}
