//! Data migrations, on both backends: rows stored under an older meaning are rewritten as the
//! current rules (crate pgfarm-verdict) would store them.

mod common;

use common::Backend;
use pgfarm_server::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// Runs a list of statements on a fresh database of `backend`, then `check` on query results.
struct Db {
    sqlite: Option<sqlx::SqlitePool>,
    postgres: Option<sqlx::PgPool>,
    _dir: tempfile::TempDir,
}

impl Db {
    /// `postgres_url`: a fresh PostgreSQL database, made before the async runtime starts (the
    /// cluster's client blocks).
    async fn fresh(postgres_url: Option<String>) -> Db {
        let dir = tempfile::tempdir().unwrap();
        match postgres_url {
            None => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                Db { sqlite: Some(pool), postgres: None, _dir: dir }
            }
            Some(url) => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                Db { sqlite: None, postgres: Some(pool), _dir: dir }
            }
        }
    }

    async fn run(&self, sql: &str) {
        use sqlx::SqlSafeStr;
        let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        if let Some(pool) = &self.sqlite {
            sqlx::raw_sql(sql).execute(pool).await.unwrap_or_else(|e| panic!("{e}"));
        } else if let Some(pool) = &self.postgres {
            sqlx::raw_sql(sql).execute(pool).await.unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// One text column of each row (cast to text in the query).
    async fn texts(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if let Some(pool) = &self.sqlite {
            sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
        } else {
            sqlx::query_scalar(sql).fetch_all(self.postgres.as_ref().unwrap()).await.unwrap()
        }
    }
}

/// Runs stored before migration 0005: a cluster failure and a timed-out test stored as `failed`,
/// an ok run without tests, an ordinary regress failure.
const OLD_ROWS: &str = "
INSERT INTO machines (id, name, owner_email, description, os, arch, compiler, state,
    secret_generation, client_addr, created_at, state_changed_at)
VALUES (1, 'm1', 'a@b.c', '', 'linux', 'x86_64', 'cc', 'approved', 1, '', 0, 0);
INSERT INTO runs (id, uuid, machine_id, extension, ext_version, pg_version, pg_major, platform,
    status, failed_stage, n_tests, n_failed, created_at, received_at, bundle_size) VALUES
 (1, 'u-ok', 1, 'ext', '1', '17.1', 17, 'linux/x86_64', 'ok', NULL, 2, 0, 1, 86400000, 1),
 (2, 'u-cluster', 1, 'ext', '1', '17.1', 17, 'linux/x86_64', 'failed', 'cluster', 0, 0, 2, 86400001, 1),
 (3, 'u-timeout', 1, 'ext', '1', '16.1', 16, 'linux/x86_64', 'failed', 'regress', 1, 1, 3, 86400002, 1),
 (4, 'u-fail', 1, 'ext', '1', '15.1', 15, 'linux/x86_64', 'failed', 'regress', 1, 1, 4, 86400003, 1),
 (5, 'u-none', 1, 'none', '1', '17.1', 17, 'linux/x86_64', 'ok', NULL, 0, 0, 5, 86400004, 1);
INSERT INTO run_stages (run_id, position, name, status, duration_ms) VALUES
 (1, 0, 'regress', 'ok', 1), (1, 1, 'tap', 'missing', 0),
 (2, 0, 'cluster', 'failed', 1), (2, 1, 'regress', 'skipped', 0),
 (3, 0, 'regress', 'failed', 1), (4, 0, 'regress', 'failed', 1),
 (5, 0, 'regress', 'missing', 0), (5, 1, 'tap', 'missing', 0), (5, 2, 'upgrade', 'ok', 3);
INSERT INTO test_results (run_id, extension, test_name, stage, status, duration_ms) VALUES
 (1, 'ext', 'a', 'regress', 'ok', 1), (3, 'ext', 'hang', 'regress', 'timeout', 1),
 (4, 'ext', 'b', 'regress', 'failed', 1);
INSERT INTO latest (extension, pg_major, platform, run_id, ext_version, status, failed_stage, created_at)
VALUES ('ext', 17, 'linux/x86_64', 2, '1', 'failed', 'cluster', 2),
       ('ext', 16, 'linux/x86_64', 3, '1', 'failed', 'regress', 3),
       ('ext', 15, 'linux/x86_64', 4, '1', 'failed', 'regress', 4);
INSERT INTO status_changes (id, extension, pg_major, platform, run_id, from_status, to_status, at)
VALUES (1, 'ext', 17, 'linux/x86_64', 2, 'ok', 'failed', 2);
INSERT INTO daily_counts (day, pg_major, status, n_runs) VALUES (1, 17, 'failed', 1), (1, 17, 'ok', 2),
    (1, 16, 'failed', 1), (1, 15, 'failed', 1);
";

async fn machine_faults_become_error_and_runs_learn_whether_they_tested(
    backend: Backend,
    postgres_url: Option<String>,
) {
    let db = Db::fresh(postgres_url).await;
    let migrations = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    let (before, after): (Vec<_>, Vec<_>) =
        migrations.iter().partition(|(version, _, _)| *version < 5);
    for (_, _, sql) in before {
        db.run(sql).await;
    }
    db.run(OLD_ROWS).await;
    for (_, _, sql) in after {
        db.run(sql).await;
    }
    assert_eq!(
        db.texts(
            "SELECT uuid || ' ' || status || ' ' || CAST(tested AS TEXT) FROM runs ORDER BY id"
        )
        .await,
        ["u-ok ok 1", "u-cluster error 0", "u-timeout error 1", "u-fail failed 1", "u-none ok 0"]
    );
    assert_eq!(
        db.texts("SELECT CAST(pg_major AS TEXT) || ' ' || status FROM latest ORDER BY pg_major")
            .await,
        ["15 failed", "16 error", "17 error"]
    );
    assert!(
        db.texts("SELECT to_status FROM status_changes").await.is_empty(),
        "a change to an error run"
    );
    assert_eq!(
        db.texts(
            "SELECT CAST(pg_major AS TEXT) || ' ' || status || ' ' || CAST(n_runs AS TEXT) \
             FROM daily_counts ORDER BY pg_major, status"
        )
        .await,
        ["15 failed 1", "16 error 1", "17 error 1", "17 ok 2"]
    );
    assert_eq!(
        db.texts(
            "SELECT extension || ' ' || status || ' ' || CAST(n_runs AS TEXT) \
             FROM daily_extension_counts ORDER BY extension, status"
        )
        .await,
        ["ext error 1", "ext error 1", "ext failed 1", "ext ok 1", "none ok 1"]
    );
}

fn migration_0005(backend: Backend) {
    let url = (backend == Backend::Postgres)
        .then(|| common::fresh_postgres_url().expect("PostgreSQL available"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(machine_faults_become_error_and_runs_learn_whether_they_tested(backend, url));
}

common::on_both_backends! {
    migration_0005,
}
