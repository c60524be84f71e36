//! The PostgreSQL `Store`: one pool shared by readers and writers; several server processes may
//! use one database (matrix cells are locked with `FOR UPDATE` while a run moves them).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{DbError, DbResult, check_not_newer};

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub(crate) struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` and migrates the database (sqlx holds an advisory lock meanwhile, so
    /// two servers starting together do not race).
    pub(crate) async fn open(url: &str, max_connections: u32) -> DbResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let applied: Vec<(i64,)> =
            match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&pool)
                .await
            {
                Ok(rows) => rows,
                // 42P01: undefined_table, a fresh database.
                Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P01") => {
                    Vec::new()
                }
                Err(err) => return Err(err.into()),
            };
        let migrator = super::migrator(super::POSTGRES_MIGRATIONS);
        check_not_newer(&applied.iter().map(|(version,)| *version).collect::<Vec<_>>(), &migrator)?;
        migrator.run(&pool).await.map_err(|err| DbError::Migrate(err.to_string()))?;
        Ok(PostgresStore { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }
}

super::sql::impl_store!(PostgresStore, sqlx::Postgres, "postgres", " FOR UPDATE");
