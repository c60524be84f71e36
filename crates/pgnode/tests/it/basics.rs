//! Init, start, psql, stop and drop on every installed major.

use pgfarm_pgnode::{Cluster, Status};

use crate::support::{all_majors, pg15};

#[test]
fn every_major_starts_answers_and_is_removed_on_drop() {
    for installation in all_majors() {
        let cluster = Cluster::builder(&installation).start().unwrap();
        assert_eq!(cluster.status(), Status::Running);
        let version = cluster.safe_psql("show server_version").unwrap();
        assert!(version.starts_with(&installation.version.full), "{version} vs {}", installation.version);
        let dir = cluster.dir().to_path_buf();
        let pid = cluster.pid().unwrap();
        drop(cluster);
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(std::fs::metadata(format!("/proc/{pid}")).is_err(), "postmaster {pid} still runs");
    }
}

#[test]
fn stop_and_start_again_keeps_data() {
    let mut cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster.execute_batch("create table kept (x int); insert into kept values (42)").unwrap();
    cluster.stop().unwrap();
    assert_eq!(cluster.status(), Status::Stopped);
    cluster.start().unwrap();
    let x: i32 = cluster.query_scalar("select x from kept").unwrap();
    assert_eq!(x, 42);
}
