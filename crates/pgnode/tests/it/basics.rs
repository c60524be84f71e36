//! Init, start, stop, restart, reload, kill, status, processes, control data, the server log.

use std::time::Duration;

use pgfarm_pgnode::{Cluster, Listen, ProcessKind, Signal, Status, StopMode};

use crate::support::{all_majors, pg15};

#[test]
fn every_major_starts_answers_and_is_removed_on_drop() {
    for installation in all_majors() {
        let cluster = Cluster::builder(&installation).start().unwrap();
        assert_eq!(cluster.status(), Status::Running);
        let version = cluster.safe_psql("show server_version").unwrap();
        assert!(
            version.starts_with(&installation.version.full),
            "{version} vs {}",
            installation.version
        );
        // pgTAP from scripts/setup-pg.sh loads on every major.
        if installation.has_pgtap() {
            let plan = cluster.safe_psql("create extension pgtap; select plan(1);").unwrap();
            assert_eq!(plan.trim(), "1..1", "PG{}", installation.major());
        }
        let dir = cluster.dir().to_path_buf();
        let pid = cluster.pid().unwrap();
        drop(cluster);
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(!crate::support::process_exists(pid), "postmaster {pid} still runs");
    }
}

#[test]
fn stop_start_restart_keep_data_and_status_follows() {
    let mut cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster.execute_batch("create table kept (x int); insert into kept values (42)").unwrap();
    cluster.stop().unwrap();
    assert_eq!(cluster.status(), Status::Stopped);
    assert_eq!(cluster.pid(), None);
    assert_eq!(cluster.control_data().unwrap()["Database cluster state"], "shut down");
    cluster.stop().unwrap(); // stopping a stopped cluster is fine
    cluster.start().unwrap();
    let first_pid = cluster.pid().unwrap();
    cluster.restart().unwrap();
    assert_ne!(cluster.pid().unwrap(), first_pid);
    let x: i32 = cluster.query_scalar("select x from kept").unwrap();
    assert_eq!(x, 42);
    assert_eq!(cluster.control_data().unwrap()["Database cluster state"], "in production");
    let err = cluster.start().unwrap_err();
    assert!(err.to_string().contains("already running"), "{err}");
}

#[test]
fn append_conf_then_reload_changes_a_setting_and_auto_conf_applies_on_restart() {
    let mut cluster = Cluster::builder(&pg15()).conf("work_mem = '3MB'").start().unwrap();
    assert_eq!(cluster.safe_psql("show work_mem").unwrap().trim(), "3MB");
    cluster.append_conf("work_mem = '5MB'").unwrap();
    cluster.reload().unwrap();
    cluster.poll_query_until("show work_mem", "5MB", Duration::from_secs(10)).unwrap();
    cluster.set_auto_conf("shared_buffers", "24MB").unwrap();
    cluster.set_auto_conf("shared_buffers", "32MB").unwrap();
    cluster.restart().unwrap();
    assert_eq!(cluster.safe_psql("show shared_buffers").unwrap().trim(), "32MB");
    // Our defaults are in force.
    assert_eq!(cluster.safe_psql("show fsync").unwrap().trim(), "off");
    assert_eq!(cluster.safe_psql("show listen_addresses").unwrap().trim(), "127.0.0.1");
}

#[test]
fn kill_simulates_a_crash_and_the_cluster_recovers_on_start() {
    let mut cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster.execute_batch("create table t (x int); insert into t values (1)").unwrap();
    cluster.kill(Signal::SIGKILL).unwrap();
    assert_eq!(cluster.status(), Status::Stopped);
    // start() waits for orphaned backends that still hold the old shared memory.
    let position = cluster.log_position();
    cluster.start().unwrap();
    let log = cluster.log_since(position).unwrap();
    assert!(log.contains("not properly shut down") || log.contains("interrupted"), "{log}");
    assert_eq!(cluster.safe_psql("select x from t").unwrap().trim(), "1");
}

#[test]
fn immediate_stop_then_start_works() {
    let mut cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster.stop_with(StopMode::Immediate).unwrap();
    cluster.start().unwrap();
    cluster.stop_with(StopMode::Smart).unwrap();
    assert_eq!(cluster.status(), Status::Stopped);
}

#[test]
fn auxiliary_processes_are_classified() {
    for installation in all_majors() {
        let cluster = Cluster::builder(&installation).start().unwrap();
        // Some auxiliary processes are forked just after the server reports ready.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let aux = loop {
            let aux = cluster.auxiliary_processes().unwrap();
            let has = |k: ProcessKind| aux.iter().any(|p| p.kind == k);
            if (has(ProcessKind::Checkpointer)
                && has(ProcessKind::WalWriter)
                && has(ProcessKind::BackgroundWriter))
                || std::time::Instant::now() > deadline
            {
                break aux;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let kinds: Vec<&ProcessKind> = aux.iter().map(|p| &p.kind).collect();
        assert!(kinds.contains(&&ProcessKind::Checkpointer), "PG{}: {aux:?}", installation.major());
        assert!(kinds.contains(&&ProcessKind::WalWriter), "PG{}: {aux:?}", installation.major());
        assert!(
            kinds.contains(&&ProcessKind::BackgroundWriter),
            "PG{}: {aux:?}",
            installation.major()
        );
        let mut client = cluster.connect().unwrap();
        client.simple_query("select 1").unwrap();
        let backends = cluster.processes_of(ProcessKind::Backend).unwrap();
        assert!(
            !backends.is_empty(),
            "PG{}: {:?}",
            installation.major(),
            cluster.child_processes()
        );
    }
}

#[test]
fn server_log_reader_returns_what_was_written_since_a_position() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    let position = cluster.log_position();
    cluster.safe_psql("select 'marker-7781'").unwrap();
    let text = cluster.wait_for_log(position, "marker-7781", Duration::from_secs(5)).unwrap();
    assert!(text.contains("statement: select 'marker-7781'"), "{text}");
    assert!(!cluster.log_since(cluster.log_position()).unwrap().contains("marker-7781"));
    assert!(cluster.log_tail(50).contains("marker-7781"));
}

#[test]
fn socket_only_cluster_has_no_tcp_and_a_socket_uri() {
    let cluster = Cluster::builder(&pg15()).listen(Listen::SocketOnly).start().unwrap();
    assert_eq!(cluster.safe_psql("show listen_addresses").unwrap().trim(), "");
    let uri = cluster.uri("postgres");
    assert!(uri.contains("?host=%2F"), "{uri}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", cluster.port())).is_err());
    assert!(cluster.socket_dir().join(format!(".s.PGSQL.{}", cluster.port())).exists());
}

#[test]
fn initdb_options_reach_the_cluster() {
    let cluster = Cluster::builder(&pg15())
        .superuser("boss")
        .encoding("UTF8")
        .locale("C")
        .data_checksums(true)
        .start()
        .unwrap();
    assert_eq!(cluster.safe_psql("select current_user").unwrap().trim(), "boss");
    assert_eq!(cluster.safe_psql("show data_checksums").unwrap().trim(), "on");
    assert_eq!(cluster.safe_psql("show server_encoding").unwrap().trim(), "UTF8");
    assert_eq!(cluster.safe_psql("show lc_collate").unwrap().trim(), "C");
}

#[test]
fn password_auth_cluster_accepts_the_password() {
    let cluster = Cluster::builder(&pg15()).password("s3cret").start().unwrap();
    assert_eq!(cluster.safe_psql("select 1").unwrap().trim(), "1");
    let one: i32 = cluster.query_scalar("select 1").unwrap();
    assert_eq!(one, 1);
    let hba = std::fs::read_to_string(cluster.data_dir().join("pg_hba.conf")).unwrap();
    assert!(hba.contains("scram-sha-256"), "{hba}");
    let uri = cluster.uri("postgres");
    assert!(uri.starts_with("postgresql://postgres:s3cret@127.0.0.1:"), "{uri}");
}

#[test]
fn promote_fails_clearly_on_a_stopped_cluster() {
    let mut cluster = Cluster::builder(&pg15()).init().unwrap();
    assert_eq!(cluster.status(), Status::Stopped);
    let err = cluster.promote().unwrap_err();
    assert!(err.to_string().contains("is not running"), "{err}");
}

#[test]
fn an_adopted_data_directory_starts_and_is_never_removed() {
    let mut keep = pgfarm_pgnode::Config::current();
    keep.cleanup_on_success = false;
    let mut made = Cluster::builder(&pg15()).config(keep).start().unwrap();
    made.execute_batch("create table adopted (x int); insert into adopted values (7)").unwrap();
    made.stop().unwrap();
    let data_dir = made.data_dir().to_path_buf();
    let folder = made.dir().to_path_buf();
    drop(made);
    {
        let mut adopted = Cluster::open(&pg15(), &data_dir, "postgres").unwrap();
        assert_eq!(adopted.status(), Status::Stopped);
        adopted.start().unwrap();
        assert_eq!(adopted.safe_psql("select x from adopted").unwrap().trim(), "7");
    }
    assert!(data_dir.join("PG_VERSION").is_file(), "adopted data must survive drop");
    assert!(crate::support::pid_file_gone(&data_dir));
    std::fs::remove_dir_all(folder).unwrap();
}
