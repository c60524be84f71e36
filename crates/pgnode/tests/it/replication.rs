//! Base backups, replicas and catch-up, promotion, logical replication, pg_upgrade.

use std::time::Duration;

use pgfarm_pgnode::{Cluster, ProcessKind, WalMethod};

use crate::support::{pg, pg15};

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn backup_with_fetch_and_stream_spawns_working_primaries() {
    let primary = Cluster::builder(&pg15()).streaming(true).start().unwrap();
    primary
        .execute_batch("create table t (x int); insert into t select generate_series(1, 100)")
        .unwrap();
    for method in [WalMethod::Fetch, WalMethod::Stream] {
        let backup = primary.backup(method).unwrap();
        assert!(backup.data_dir().join("PG_VERSION").is_file());
        let mut copy = backup.spawn_primary(&format!("copy-{method:?}")).unwrap();
        copy.start().unwrap();
        assert_eq!(copy.safe_psql("select sum(x) from t").unwrap().trim(), "5050");
        copy.execute_batch("insert into t values (1)").unwrap(); // a primary accepts writes
        let dir = backup.data_dir();
        drop(backup);
        assert!(!dir.exists());
    }
}

#[test]
fn replica_catches_up_and_can_be_promoted() {
    for installation in [Some(pg15()), pg(17).or_else(|| pg(16))].into_iter().flatten() {
        let primary = Cluster::builder(&installation).streaming(true).start().unwrap();
        primary.execute_batch("create table t (x int); insert into t values (1)").unwrap();
        let mut replica = primary.replicate("standby").unwrap();
        assert_eq!(replica.safe_psql("select pg_is_in_recovery()").unwrap().trim(), "t");
        primary.execute_batch("insert into t select generate_series(2, 1000)").unwrap();
        replica.catchup(WAIT).unwrap();
        assert_eq!(replica.safe_psql("select count(*) from t").unwrap().trim(), "1000");
        assert!(!replica.processes_of(ProcessKind::WalReceiver).unwrap().is_empty());
        assert!(!primary.processes_of(ProcessKind::WalSender).unwrap().is_empty());
        let app: String =
            primary.query_scalar("select application_name::text from pg_stat_replication").unwrap();
        assert_eq!(app, "standby");
        let out = replica.psql("insert into t values (0)").unwrap();
        assert!(out.stderr.contains("read-only transaction"), "{}", out.stderr);
        replica.promote().unwrap();
        assert_eq!(replica.safe_psql("select pg_is_in_recovery()").unwrap().trim(), "f");
        replica.execute_batch("insert into t values (1001)").unwrap();
        assert!(replica.catchup(WAIT).unwrap_err().to_string().contains("needs a replica"));
    }
}

#[test]
fn logical_replication_publishes_subscribes_and_follows_changes() {
    let installation = pg15();
    let publisher = Cluster::builder(&installation).name("pub").logical(true).start().unwrap();
    let subscriber = Cluster::builder(&installation).name("sub").logical(true).start().unwrap();
    let schema = "create table a (id int primary key, v text); create table b (id int primary key)";
    publisher.execute_batch(schema).unwrap();
    subscriber.execute_batch(schema).unwrap();
    publisher.execute_batch("insert into a values (1, 'one'); insert into b values (1)").unwrap();
    let publication = publisher.publish("p1", "postgres", &["a"]).unwrap();
    let subscription = subscriber.subscribe(&publication, "s1").unwrap();
    subscription.catchup(WAIT).unwrap();
    assert_eq!(subscriber.safe_psql("select v from a").unwrap().trim(), "one");
    publisher.execute_batch("insert into a values (2, 'two')").unwrap();
    subscription.catchup(WAIT).unwrap();
    assert_eq!(subscriber.safe_psql("select count(*) from a").unwrap().trim(), "2");
    // Table b joins the publication.
    publication.add_tables(&["b"]).unwrap();
    subscription.refresh().unwrap();
    subscription.catchup(WAIT).unwrap();
    assert_eq!(subscriber.safe_psql("select count(*) from b").unwrap().trim(), "1");
    // Disabled: changes wait; enabled: they arrive.
    subscription.disable().unwrap();
    publisher.execute_batch("insert into a values (3, 'three')").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(subscriber.safe_psql("select count(*) from a").unwrap().trim(), "2");
    subscription.enable().unwrap();
    subscription.catchup(WAIT).unwrap();
    assert_eq!(subscriber.safe_psql("select count(*) from a").unwrap().trim(), "3");
    assert!(
        !subscriber.processes_of(ProcessKind::LogicalReplicationWorker).unwrap().is_empty(),
        "{:?}",
        subscriber.child_processes()
    );
    subscription.drop_subscription().unwrap();
    publication.drop_publication().unwrap();
    assert_eq!(
        publisher.safe_psql("select count(*) from pg_replication_slots").unwrap().trim(),
        "0"
    );
}

#[test]
fn pg_upgrade_moves_data_to_a_newer_major() {
    let old_installation = pg15();
    let Some(new_installation) = pg(17).or_else(|| pg(16)) else {
        println!("note: skipping pg_upgrade: neither 17 nor 16 is installed");
        return;
    };
    let mut old = Cluster::builder(&old_installation).log_statement("none").start().unwrap();
    old.execute_batch("create table u (x int, s text); insert into u select g, md5(g::text) from generate_series(1, 2000) g")
        .unwrap();
    let before = old.safe_psql("select count(*), sum(x), max(s) from u").unwrap();
    let mut new = old.upgrade_to(&new_installation).unwrap();
    new.start().unwrap();
    let version: i32 =
        new.query_scalar("select current_setting('server_version_num')::int / 10000").unwrap();
    assert_eq!(version as u32, new_installation.major());
    assert_eq!(new.safe_psql("select count(*), sum(x), max(s) from u").unwrap(), before);
}

#[test]
fn unique_system_identifiers_differ_between_cached_copies() {
    let mut config = pgfarm_pgnode::Config::current();
    config.unique_system_id = true;
    let a = Cluster::builder(&pg15()).config(config.clone()).start().unwrap();
    let b = Cluster::builder(&pg15()).config(config).start().unwrap();
    let id =
        |c: &Cluster| c.safe_psql("select system_identifier from pg_control_system()").unwrap();
    assert_ne!(id(&a), id(&b));
    let plain_a = Cluster::builder(&pg15()).init().unwrap();
    let plain_b = Cluster::builder(&pg15()).init().unwrap();
    let sysid = |c: &Cluster| c.control_data().unwrap()["Database system identifier"].clone();
    assert_eq!(
        sysid(&plain_a),
        sysid(&plain_b),
        "plain cached copies share the cache's identifier"
    );
}
