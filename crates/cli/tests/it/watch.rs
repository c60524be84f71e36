//! `pgfarm test --watch` (issue 15, item 5) end to end on a real PostgreSQL: the first full
//! round, a saved expected file re-running that test (newly failed, with its diff), the fix
//! passing again, an install script reinstalling, and Ctrl-C stopping every cluster.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binary under test and sends it signals"
)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::select::majors;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

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

/// Every process below `pid` (its children, theirs, ...).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let children = Command::new("pgrep").args(["-P", &parent.to_string()]).output().unwrap();
        for child in String::from_utf8_lossy(&children.stdout).split_whitespace() {
            if let Ok(child) = child.parse() {
                out.push(child);
                queue.push(child);
            }
        }
    }
    out
}

/// Waits until `text` holds `needle` (after `from`), returning where it ends.
fn wait_for(text: &Arc<Mutex<String>>, needle: &str, from: usize, limit: Duration) -> usize {
    let started = Instant::now();
    loop {
        {
            let text = text.lock().unwrap();
            if let Some(at) = text[from.min(text.len())..].find(needle) {
                return from + at + needle.len();
            }
            assert!(started.elapsed() < limit, "no `{needle}` within {limit:?}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_reruns_what_a_saved_file_affects_and_ctrl_c_removes_the_clusters() {
    let Some(majors) =
        majors("watch_reruns_what_a_saved_file_affects_and_ctrl_c_removes_the_clusters", 2)
    else {
        return;
    };
    let pg = format!("{},{}", majors[0], majors[1]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pure_sql");
    copy_dir(
        &PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions/pure_sql")),
        &dir,
    );
    let work = tmp.path().join("work");
    let mut child = Command::new(PGFARM)
        .args(["test", "--watch", "--plain", "--pg", &pg, "--out"])
        .arg(tmp.path().join("out"))
        .arg("--workdir")
        .arg(&work)
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Rounds are printed on stdout, one block at a time; progress on stderr.
    let output = Arc::new(Mutex::new(String::new()));
    let progress = Arc::new(Mutex::new(String::new()));
    for (pipe, output) in [
        (Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>, &output),
        (Box::new(child.stderr.take().unwrap()), &progress),
    ] {
        let output = Arc::clone(output);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let Ok(mut text) = output.lock() else { return };
                text.push_str(&line);
                text.push('\n');
            }
        });
    }
    let long = Duration::from_secs(180);
    let at = wait_for(&output, "round 0 (tests: basic, era", 0, long);
    let at = wait_for(&output, "regress/era", at, long);
    wait_for(&progress, "watching", 0, long);

    // A saved expected file re-runs that test on both installations: newly failed, with a diff.
    let expected = dir.join("test/expected/basic.out");
    let good = fs::read_to_string(&expected).unwrap();
    fs::write(&expected, format!("{good}an extra line\n")).unwrap();
    let at = wait_for(&output, "round 1 (tests: basic)", at, long);
    let at = wait_for(&output, &format!("newly failed on pg{}", majors[1]), at, long);
    let at = wait_for(&output, "-an extra line", at, long);
    {
        let text = output.lock().unwrap();
        let round = &text[text.rfind("round 1 ").unwrap()..];
        assert!(!round.contains("regress/era"), "only basic re-runs: {round}");
        for major in &majors[..2] {
            assert!(
                round.contains(&format!("newly failed on pg{major}: regress/basic")),
                "{round}"
            );
        }
        assert!(round.contains("-an extra line"), "the diff: {round}");
    }
    fs::write(&expected, &good).unwrap();
    let at = wait_for(&output, "round 2 (tests: basic)", at, long);
    let at = wait_for(&output, "regress/basic", at, long);
    std::thread::sleep(Duration::from_millis(300));
    {
        let text = output.lock().unwrap();
        let round = &text[text.rfind("round 2 ").unwrap()..];
        assert!(!round.contains("FAIL") && !round.contains("newly failed"), "{round}");
    }

    // An install script: reinstall, recreate, all suites.
    let script = dir.join("pure_sql--1.0.sql");
    let text = fs::read_to_string(&script).unwrap();
    fs::write(&script, format!("{text}\n")).unwrap();
    let at = wait_for(&output, "round 3 (reinstall, all suites)", at, long);
    wait_for(&output, "regress/era", at, long);
    std::thread::sleep(Duration::from_millis(300));
    {
        let text = output.lock().unwrap();
        let round = &text[text.rfind("round 3 ").unwrap()..];
        assert!(round.contains("regress/era") && !round.contains("FAIL"), "{round}");
    }

    // Ctrl-C: every cluster (the servers below pgfarm) stops, the work folder goes.
    let servers = descendants(child.id());
    assert!(!servers.is_empty());
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", output.lock().unwrap());
    // The servers' own shutdown may end just after pgfarm's (a loaded machine): give them 10 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for pid in servers {
        while Path::new(&format!("/proc/{pid}")).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "process {pid} outlived pgfarm");
    }
    assert!(!work.exists());
}
