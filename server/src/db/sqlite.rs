//! The SQLite `Store`: one writer connection (SQLite has one writer at a time anyway; a single
//! connection avoids lock-upgrade failures) and a pool of readers, WAL journal.
//!
//! `synchronous = NORMAL` with WAL keeps every committed transaction across a crash of the
//! server process (kill -9); only a power loss may drop the last commits.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{DbError, DbResult, check_not_newer};

/// The SQLite store.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file of `url` and migrates it.
    pub(crate) async fn open(url: &str, max_connections: u32) -> DbResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| DbError::Other(format!("database url: {err}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|err| {
                DbError::Unavailable(format!("cannot create {}: {err}", parent.display()))
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let applied: Vec<(i64,)> =
            match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&writer)
                .await
            {
                Ok(rows) => rows,
                // A fresh database has no migrations table yet.
                Err(sqlx::Error::Database(err)) if err.message().contains("no such table") => {
                    Vec::new()
                }
                Err(err) => return Err(err.into()),
            };
        let migrator = super::migrator(super::SQLITE_MIGRATIONS);
        check_not_newer(&applied.iter().map(|(version,)| *version).collect::<Vec<_>>(), &migrator)?;
        migrator.run(&writer).await.map_err(|err| DbError::Migrate(err.to_string()))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

super::sql::impl_store!(SqliteStore, sqlx::Sqlite, "sqlite", "");
