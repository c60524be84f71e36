//! The sandbox (bubblewrap): no network but its own loopback, no writes outside the named
//! folders, a process limit that stops a fork bomb, and a server that runs inside it and still
//! answers its clients over the unix socket.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use pgfarm_pgnode::command::Command;
use pgfarm_pgnode::{Cluster, Config, Limits, OsUser, Sandbox};

use crate::support::pg15;

/// The sandbox as pgfarm uses it: run as the server user when root. bwrap is installed by
/// scripts/setup (package bubblewrap), like PostgreSQL 15 these tests require it.
fn sandbox() -> Sandbox {
    let user = OsUser::for_servers(&Config::current().pg_user).expect("the server user exists");
    let sandbox = Sandbox::new(user).unwrap_or_else(|err| {
        panic!("the sandbox tests need bwrap ({err}); run scripts/setup (package bubblewrap)")
    });
    sandbox.check().expect("bwrap works on this machine");
    sandbox
}

/// A folder the sandbox's user may write to (world-writable, so only the sandbox stops it).
/// It lies outside /tmp, which is private inside the sandbox.
fn open_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn sh(script: &str, cwd: &Path) -> Command {
    Command::new("/bin/sh").args(["-c", script]).current_dir(cwd)
}

#[test]
fn a_sandboxed_step_cannot_connect_to_a_listener_on_the_hosts_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let work = open_folder();
    let connect = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected");
    // The same step outside the sandbox reaches the listener: the listener is real.
    let outside = Command::new("bash").args(["-c", &connect]).current_dir(work.path()).output();
    assert!(outside.unwrap().stdout.contains("connected"));
    let (_conn, _) = listener.accept().expect("the unsandboxed connection arrived");

    let inside = Command::new("bash")
        .args(["-c", &connect])
        .current_dir(work.path())
        .sandbox(Some(&sandbox().writable(work.path())))
        .output()
        .unwrap();
    assert!(!inside.success(), "{inside:?}");
    assert!(!inside.stdout.contains("connected"), "{inside:?}");
    assert!(inside.stderr.contains("Connection refused"), "{}", inside.stderr);
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "no connection reached the host's listener"
    );
    // Not even a name can be looked up.
    let dns = Command::new("getent")
        .args(["hosts", "example.org"])
        .sandbox(Some(&sandbox()))
        .output()
        .unwrap();
    assert!(!dns.success(), "{dns:?}");
}

#[test]
fn a_sandboxed_step_writes_its_folder_and_nothing_outside_it() {
    let work = open_folder();
    let outside = open_folder();
    let target = outside.path().join("escaped");
    let private = format!("/tmp/pgfarm-sandbox-private-{}", std::process::id());
    let script = format!(
        "echo kept > inside.txt && echo escaped > {} ; echo to-tmp > {private} && cat {private}",
        target.display()
    );
    // The sandbox's user can write there outside the sandbox: only the sandbox stops it.
    let user = sandbox().user().cloned();
    let control = outside.path().join("control");
    sh(&format!("echo ok > {}", control.display()), work.path())
        .run_as(user.as_ref())
        .run()
        .unwrap();
    assert!(control.exists());

    let out =
        sh(&script, work.path()).sandbox(Some(&sandbox().writable(work.path()))).output().unwrap();
    assert_eq!(std::fs::read_to_string(work.path().join("inside.txt")).unwrap(), "kept\n");
    assert!(!target.exists(), "the write outside the folder was refused");
    assert!(out.stderr.contains("Read-only file system"), "{}", out.stderr);
    // /tmp is private: writable inside, gone afterwards.
    assert!(out.stdout.contains("to-tmp"), "{out:?}");
    assert!(!Path::new(&private).exists());
    // And it ran as the unprivileged user, not as root.
    let id = sh("id -u", work.path()).sandbox(Some(&sandbox())).output().unwrap();
    if pgfarm_pgnode::is_root() {
        assert_ne!(id.stdout.trim(), "0", "{id:?}");
    }
}

#[test]
fn a_fork_bomb_is_stopped_by_the_process_limit_and_leaves_nothing_behind() {
    let work = open_folder();
    let limits = Limits { processes: 64, ..Limits::default() };
    // Each loop turn leaves a sleeping child behind; the marker finds leftovers afterwards.
    let marker = format!("{}.{}", 900 + std::process::id() % 90, std::process::id() % 997);
    let script = format!("while :; do sleep {marker} & done");
    let started = Instant::now();
    let out = sh(&script, work.path())
        .sandbox(Some(&sandbox().writable(work.path()).limits(limits)))
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "the bomb ended by itself");
    assert!(!out.success(), "{out:?}");
    assert!(out.stderr.contains("fork"), "{}", out.stderr);
    // The pid namespace took the sleeping children with it.
    std::thread::sleep(Duration::from_millis(200));
    let left = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(&marker))
        .count();
    assert_eq!(left, 0, "processes of the bomb outlived it");
}

#[test]
fn a_sandboxed_server_answers_over_its_socket_and_has_no_network() {
    let mut config = Config::current();
    config.sandbox = Some(sandbox());
    let cluster = Cluster::builder(&pg15()).config(config).start().unwrap();
    assert_eq!(cluster.host(), cluster.socket_dir().to_string_lossy());
    assert_eq!(cluster.query_scalar::<i64>("select 40 + 2::bigint").unwrap(), 42);
    assert_eq!(cluster.safe_psql("show listen_addresses").unwrap().trim(), "");
    // COPY .. TO PROGRAM runs a shell as the server: it is in the sandbox too, and cannot
    // write to a folder its user could write to outside.
    let outside = open_folder();
    let target = outside.path().join("from-the-server");
    // The second cat drains what the server writes when the first cannot open its file (so the
    // server never meets a closed pipe, whichever runs first).
    let copy = format!(
        "copy (select 1) to program 'cat > {} 2>/dev/null; cat > /dev/null; exit 0'",
        target.display()
    );
    let result = cluster.safe_psql(&copy);
    assert!(result.is_ok(), "{result:?}");
    assert!(!target.exists(), "the server wrote outside its folder");
    let inside = cluster.data_dir().join("from-the-server");
    let copy = format!("copy (select 1) to program 'cat > {}'", inside.display());
    cluster.safe_psql(&copy).unwrap();
    assert!(inside.exists(), "the server writes its own folder");
}
