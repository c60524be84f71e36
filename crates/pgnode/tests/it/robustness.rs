//! A killed owner leaves no server behind, ports across processes, configuration scopes and
//! cleanup, running as root.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::time::{Duration, Instant};

use pgfarm_pgnode::{Cluster, Config, port};

use crate::support::{child_mode, pg15, process_exists, read_line_with, spawn_child};

/// In child mode "cluster": start a cluster, print its postmaster pid, wait to be killed.
/// Otherwise: run that child, `kill -9` it, and expect its postmaster gone within seconds.
#[test]
fn killed_owner_leaves_no_server_behind() {
    if child_mode().as_deref() == Some("cluster") {
        let cluster = Cluster::builder(&pg15()).start().unwrap();
        println!("POSTMASTER {} {}", cluster.pid().unwrap(), cluster.data_dir().display());
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let mut child = spawn_child("robustness::killed_owner_leaves_no_server_behind", "cluster");
    let line = read_line_with(&mut child, "POSTMASTER ");
    let (pid, data_dir) = line.split_once(' ').unwrap();
    let pid: i32 = pid.parse().unwrap();
    assert!(process_exists(pid));
    child.kill().unwrap(); // SIGKILL: no destructor runs in the child
    child.wait().unwrap();
    let killed_at = Instant::now();
    while process_exists(pid) && killed_at.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!process_exists(pid), "postmaster {pid} survived its owner for 10 s");
    println!("postmaster gone {:?} after its owner was killed", killed_at.elapsed());
    // The data directory was shut down cleanly (fast shutdown), not crashed.
    let data_dir = std::path::Path::new(data_dir);
    assert!(!data_dir.join("postmaster.pid").exists());
    let _ = std::fs::remove_dir_all(data_dir.parent().unwrap());
}

/// In child mode "ports": hold 40 leases, print them, keep them a moment. Otherwise run two
/// such children at once and expect no port in both.
#[test]
fn two_processes_allocating_ports_at_once_never_collide() {
    if child_mode().as_deref() == Some("ports") {
        let leases: Vec<_> = (0..40).map(|_| port::reserve_any().unwrap()).collect();
        let ports: Vec<String> = leases.iter().map(|l| l.port().to_string()).collect();
        println!("PORTS {}", ports.join(","));
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        return;
    }
    let name = "robustness::two_processes_allocating_ports_at_once_never_collide";
    let mut a = spawn_child(name, "ports");
    let mut b = spawn_child(name, "ports");
    let parse =
        |s: String| s.split(',').map(|p| p.parse::<u16>().unwrap()).collect::<BTreeSet<u16>>();
    let ports_a = parse(read_line_with(&mut a, "PORTS "));
    let ports_b = parse(read_line_with(&mut b, "PORTS "));
    assert_eq!((ports_a.len(), ports_b.len()), (40, 40));
    assert!(
        ports_a.is_disjoint(&ports_b),
        "shared: {:?}",
        ports_a.intersection(&ports_b).collect::<Vec<_>>()
    );
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
}

#[test]
fn clusters_started_from_many_threads_get_distinct_ports_and_folders() {
    let installation = pg15();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let installation = installation.clone();
            std::thread::spawn(move || {
                let cluster = Cluster::builder(&installation).start().unwrap();
                let port: i32 =
                    cluster.query_scalar("select current_setting('port')::int").unwrap();
                assert_eq!(port as u16, cluster.port());
                (cluster.port(), cluster.dir().to_path_buf())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ports: BTreeSet<u16> = results.iter().map(|r| r.0).collect();
    let dirs: BTreeSet<_> = results.iter().map(|r| r.1.clone()).collect();
    assert_eq!((ports.len(), dirs.len()), (4, 4));
    assert!(dirs.iter().all(|d| !d.exists()), "folders are removed on drop");
}

#[test]
fn cleanup_settings_decide_what_is_kept() {
    let mut keep = Config::current();
    keep.cleanup_on_success = false;
    let cluster = Cluster::builder(&pg15()).config(keep).start().unwrap();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    assert!(dir.join("data/PG_VERSION").is_file(), "kept when cleanup_on_success is off");
    std::fs::remove_dir_all(&dir).unwrap();

    // A cluster dropped while panicking is kept by default (cleanup_on_failure = false).
    let mut scoped = Config::current();
    scoped.cleanup_on_failure = false;
    let _scope = scoped.scoped();
    let installation = pg15();
    let result = std::panic::catch_unwind(|| {
        let cluster = Cluster::builder(&installation).init().unwrap();
        let dir = cluster.dir().to_path_buf();
        std::panic::panic_any(dir);
    });
    let dir = *result.unwrap_err().downcast::<std::path::PathBuf>().unwrap();
    assert!(dir.join("data/PG_VERSION").is_file(), "kept after a panic");
    std::fs::remove_dir_all(&dir).unwrap();

    // keep_logs copies the server log before removal.
    let mut logs = Config::current();
    logs.keep_logs = true;
    let cluster = Cluster::builder(&pg15()).config(logs.clone()).start().unwrap();
    cluster.safe_psql("select 'kept-log-line'").unwrap();
    let name = cluster.dir().file_name().unwrap().to_owned();
    drop(cluster);
    let kept = logs.base_dir.join("logs").join(format!("{}.log", name.to_string_lossy()));
    let text = std::fs::read_to_string(&kept).unwrap();
    assert!(text.contains("kept-log-line"));
    std::fs::remove_file(kept).unwrap();
}

#[test]
fn without_the_initdb_cache_initdb_runs_in_place() {
    let mut config = Config::current();
    config.cache_initdb = false;
    let cluster = Cluster::builder(&pg15()).config(config).start().unwrap();
    assert_eq!(cluster.safe_psql("select 1").unwrap().trim(), "1");
}

#[test]
fn as_root_the_server_runs_as_the_unprivileged_user() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", cluster.pid().unwrap())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let uid: u32 = uid_line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let groups_line = status.lines().find(|l| l.starts_with("Groups:")).unwrap().to_owned();
    if pgfarm_pgnode::is_root() {
        let user = cluster.os_user().expect("root runs servers as an OS user");
        assert_eq!(uid, user.uid);
        assert!(
            !groups_line.split_whitespace().any(|g| g == "0"),
            "root's group leaked: {groups_line}"
        );
        // psql runs as root and connects as the named role over the socket.
        assert_eq!(cluster.safe_psql("select current_user").unwrap().trim(), "postgres");
    } else {
        assert_eq!(uid, nix_uid());
    }
}

fn nix_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(|s| s.parse().unwrap()))
        .unwrap()
}
