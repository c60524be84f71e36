//! Bad inputs give clear errors: missing pg_config, a folder that is not a cluster, a port in
//! use, a bad setting, a missing OS user.

use pgfarm_pgnode::{Cluster, Error, Installation};

use crate::support::pg15;

#[test]
fn missing_pg_config_names_the_path() {
    let err = Installation::from_pg_config("/nonexistent/pg/bin/pg_config").unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/pg/bin/pg_config: no such file");
    let err = Installation::from_bindir("/usr/share").unwrap_err();
    assert!(err.to_string().contains("/usr/share/pg_config"), "{err}");
}

#[test]
fn a_folder_that_is_not_a_cluster_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Cluster::open(&pg15(), dir.path(), "postgres").unwrap_err();
    assert!(matches!(err, Error::NotACluster { .. }), "{err}");
    assert!(err.to_string().contains("is not a PostgreSQL data directory"), "{err}");
}

#[test]
fn a_port_in_use_is_refused_before_starting() {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let err = Cluster::builder(&pg15()).port(port).start().unwrap_err();
    assert!(matches!(err, Error::PortInUse { .. }), "{err}");
    assert!(err.to_string().contains(&format!("port {port} is in use")), "{err}");
}

#[test]
fn a_port_held_by_another_cluster_is_refused() {
    let first = Cluster::builder(&pg15()).init().unwrap();
    let err = Cluster::builder(&pg15()).port(first.port()).init().unwrap_err();
    assert!(err.to_string().contains("reserved by another pgfarm cluster"), "{err}");
}

#[test]
fn a_bad_setting_fails_start_with_the_server_log() {
    let mut cluster = Cluster::builder(&pg15()).init().unwrap();
    cluster.append_conf("no_such_setting_xyz = 1").unwrap();
    let err = cluster.start().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::StartFailed { .. }), "{text}");
    assert!(text.contains("exited during start-up"), "{text}");
    assert!(text.contains("no_such_setting_xyz"), "{text}");
}

#[test]
fn a_failing_psql_names_the_command_stderr_and_log() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    let out = cluster.psql("select * from missing_table").unwrap();
    assert_eq!(out.code(), Some(1));
    assert!(out.stderr.contains("relation \"missing_table\" does not exist"), "{}", out.stderr);
    let err = cluster.safe_psql("select * from missing_table").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("psql"), "{text}");
    assert!(text.contains("exit code 1"), "{text}");
    assert!(text.contains("--- stderr (last lines) ---"), "{text}");
    assert!(text.contains("--- server log (last lines) ---"), "{text}");
    let err = cluster.execute("select * from missing_table").unwrap_err();
    assert!(err.to_string().contains("SQLSTATE 42P01"), "{err}");
}

#[test]
fn a_missing_os_user_says_what_to_do() {
    if !pgfarm_pgnode::is_root() {
        println!("note: not root, the OS user is not used");
        return;
    }
    let err = Cluster::builder(&pg15()).pg_user("no-such-user-pgfarm").init().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no-such-user-pgfarm"), "{text}");
    assert!(text.contains("scripts/setup-pg.sh"), "{text}");
    assert!(text.contains("useradd --system --create-home no-such-user-pgfarm"), "{text}");
    let err = Cluster::builder(&pg15()).pg_user("root").init().unwrap_err();
    assert!(err.to_string().contains("which is root"), "{err}");
}
