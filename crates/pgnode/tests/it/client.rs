//! psql (code, stdout, stderr, variables, input, file), typed rows, transactions, polling,
//! pgbench, and dump/restore round trips in all four formats.

use std::time::Duration;

use pgfarm_pgnode::postgres::IsolationLevel;
use pgfarm_pgnode::{Cluster, DumpFormat, Error};

use crate::support::{all_majors, pg15};

#[test]
fn psql_takes_variables_input_and_files() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    let out = cluster.psql_cmd().sql("select :'who' || '!'").var("who", "world").run().unwrap();
    assert_eq!((out.code(), out.stdout.trim()), (Some(0), "world!"));
    let out = cluster.psql_cmd().input("select 40 + :n;\n").var("n", "2").run().unwrap();
    assert_eq!(out.stdout.trim(), "42");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.sql");
    std::fs::write(
        &file,
        "create table f (x int);\ninsert into f values (1), (2);\nselect count(*) from f;\n",
    )
    .unwrap();
    assert_eq!(cluster.psql_cmd().file(&file).safe().unwrap().trim(), "2");
    // Without ON_ERROR_STOP psql goes on after an error and exits 0.
    let out = cluster
        .psql_cmd()
        .input("select 1/0;\nselect 'after';\n")
        .on_error_stop(false)
        .run()
        .unwrap();
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.contains("after") && out.stderr.contains("division by zero"), "{out:?}");
    cluster.create_database("other", None).unwrap();
    assert_eq!(
        cluster.psql_cmd().dbname("other").sql("select current_database()").safe().unwrap().trim(),
        "other"
    );
}

#[test]
fn execute_returns_typed_rows() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    let rows =
        cluster.execute("select 1::int4, 'two'::text, 3.5::float8, null::int8, true").unwrap();
    assert_eq!(rows.len(), 1);
    let (a, b, c, d, e): (i32, String, f64, Option<i64>, bool) =
        (rows[0].get(0), rows[0].get(1), rows[0].get(2), rows[0].get(3), rows[0].get(4));
    assert_eq!((a, b.as_str(), c, d, e), (1, "two", 3.5, None, true));
    let rows = cluster.execute("select g from generate_series(1, 5) g").unwrap();
    let values: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(values, [1, 2, 3, 4, 5]);
}

#[test]
fn transactions_commit_roll_back_and_respect_isolation_levels() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster
        .execute_batch(
            "create table acct (id int primary key, v int); insert into acct values (1, 10)",
        )
        .unwrap();
    let mut a = cluster.connect().unwrap();
    let mut b = cluster.connect().unwrap();
    {
        let mut tx =
            a.build_transaction().isolation_level(IsolationLevel::RepeatableRead).start().unwrap();
        let before: i32 = tx.query_one("select v from acct", &[]).unwrap().get(0);
        b.execute("update acct set v = 20", &[]).unwrap();
        let again: i32 = tx.query_one("select v from acct", &[]).unwrap().get(0);
        assert_eq!((before, again), (10, 10), "repeatable read keeps its snapshot");
        tx.commit().unwrap();
    }
    {
        let mut tx =
            a.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start().unwrap();
        tx.execute("update acct set v = 99", &[]).unwrap();
        tx.rollback().unwrap();
    }
    let v: i32 = cluster.query_scalar("select v from acct").unwrap();
    assert_eq!(v, 20);
    // Serializable: a write skew makes one transaction fail with SQLSTATE 40001.
    cluster.execute_batch("create table dr (name text, on_call bool); insert into dr values ('a', true), ('b', true)").unwrap();
    let mut t1 =
        a.build_transaction().isolation_level(IsolationLevel::Serializable).start().unwrap();
    let mut t2 =
        b.build_transaction().isolation_level(IsolationLevel::Serializable).start().unwrap();
    t1.query("select count(*) from dr where on_call", &[]).unwrap();
    t2.query("select count(*) from dr where on_call", &[]).unwrap();
    t1.execute("update dr set on_call = false where name = 'a'", &[]).unwrap();
    t2.execute("update dr set on_call = false where name = 'b'", &[]).unwrap();
    t1.commit().unwrap();
    let err = t2.commit().unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("40001"), "{err}");
}

#[test]
fn poll_query_until_waits_and_times_out_clearly() {
    let cluster = Cluster::builder(&pg15()).start().unwrap();
    cluster.execute_batch("create table flag (v int); insert into flag values (0)").unwrap();
    let address = cluster.address();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        address.connect("postgres").unwrap().batch_execute("update flag set v = 1").unwrap();
    });
    cluster.poll_query_until("select v from flag", "1", Duration::from_secs(10)).unwrap();
    writer.join().unwrap();
    let err = cluster
        .poll_query_until("select v from flag", "2", Duration::from_millis(100))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("got \"1\""), "{err}");
}

#[test]
fn pgbench_initialises_and_runs() {
    let cluster = Cluster::builder(&pg15()).log_statement("none").start().unwrap();
    cluster.pgbench_init(&["-s", "1", "-q"]).unwrap();
    let n: i64 = cluster.query_scalar("select count(*) from pgbench_accounts").unwrap();
    assert_eq!(n, 100_000);
    let out = cluster.pgbench_run(&["-t", "20", "-c", "2", "-n"]).unwrap();
    assert!(
        out.stdout.contains("number of transactions actually processed: 40/40"),
        "{}",
        out.stdout
    );
}

#[test]
fn dump_and_restore_round_trip_in_every_format() {
    let installations = all_majors();
    // Two majors are enough for formats x majors; 15 always, plus the newest other one.
    let chosen: Vec<_> = installations
        .iter()
        .filter(|i| {
            i.major() == 15
                || Some(i.major())
                    == installations.iter().map(|i| i.major()).filter(|m| *m != 15).max()
        })
        .collect();
    for installation in chosen {
        let cluster = Cluster::builder(installation).log_statement("none").start().unwrap();
        cluster
            .execute_batch(
                "create table items (id int primary key, name text, tags text[]);
                 insert into items select g, 'item ' || g, array['t' || g % 3] from generate_series(1, 500) g;
                 create view item_names as select name from items;
                 create function twice(int) returns int language sql as 'select $1 * 2';",
            )
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for format in
            [DumpFormat::Plain, DumpFormat::Custom, DumpFormat::Directory, DumpFormat::Tar]
        {
            let path = dir.path().join(format!("dump-{format:?}"));
            cluster.dump("postgres", &path, format).unwrap();
            assert_eq!(DumpFormat::detect(&path).unwrap(), format);
            let db = format!("restored_{format:?}").to_lowercase();
            cluster.create_database(&db, None).unwrap();
            cluster.restore(&db, &path).unwrap();
            let check =
                "select count(*), sum(id), twice(21), (select count(*) from item_names) from items";
            let original = cluster.psql_cmd().sql(check).safe().unwrap();
            let restored = cluster.psql_cmd().dbname(&db).sql(check).safe().unwrap();
            assert_eq!(original, restored, "PG{} {format:?}", installation.major());
            assert_eq!(restored.trim(), "500|125250|42|500");
        }
        // A broken dump fails with the command and its stderr.
        let bad = dir.path().join("bad.sql");
        std::fs::write(&bad, "select * from nowhere;\n").unwrap();
        let err = cluster.restore("postgres", &bad).unwrap_err();
        assert!(err.to_string().contains("relation \"nowhere\" does not exist"), "{err}");
    }
}
