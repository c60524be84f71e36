//! The `Store` trait (everything the server keeps), its row types, `DbError`, and `open`.
//!
//! All SQL of the server lives in this folder. Both backends share one query text per
//! operation (`sql.rs`, instantiated for SQLite in `sqlite.rs` and for PostgreSQL in
//! `postgres.rs`): the schema uses only portable types (BIGINT/INTEGER, TEXT, BLOB/BYTEA, times
//! as unix milliseconds) and `$N` placeholders, which both drivers accept. Migrations live in
//! `migrations/sqlite/` and `migrations/postgres/` with the same versions.

mod postgres;
pub(crate) mod sql;
mod sqlite;

pub use sql::REBUILD_DAILY_TABLES;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::Config;

/// A store failure, classified by what the client should be told.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique key exists already (machine name, run uuid).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached or cannot write (connection lost, pool timeout, disk full,
    /// database locked): the client should retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database was migrated by a newer pgfarm-server.
    #[error(
        "the database is at schema version {found}, newer than this pgfarm-server knows \
         (up to {known}); upgrade pgfarm-server or point it at another database"
    )]
    TooNew {
        /// Highest version applied in the database.
        found: i64,
        /// Highest version this binary carries.
        known: i64,
    },
    /// Applying migrations failed.
    #[error("applying migrations: {0}")]
    Migrate(String),
    /// Anything else (a bug or a corrupt database).
    #[error("{0}")]
    Other(String),
}

impl DbError {
    /// Classifies a sqlx error; `conflict` is the message for a unique violation.
    pub(crate) fn from_sqlx(err: sqlx::Error, conflict: &str) -> DbError {
        match &err {
            sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
                DbError::Conflict(conflict.to_owned())
            }
            sqlx::Error::Database(db_err) => {
                let message = db_err.message().to_ascii_lowercase();
                let code = db_err.code().map(|code| code.into_owned()).unwrap_or_default();
                // SQLite: SQLITE_FULL (13), SQLITE_IOERR (10), SQLITE_BUSY (5), SQLITE_LOCKED (6),
                // SQLITE_READONLY (8); PostgreSQL: class 53 (insufficient resources), 57P
                // (operator intervention, e.g. shutdown), 08 (connection exception).
                let transient = message.contains("database or disk is full")
                    || message.contains("disk i/o error")
                    || message.contains("database is locked")
                    || message.contains("readonly")
                    || matches!(code.as_str(), "13" | "10" | "5" | "6" | "8" | "266" | "522")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code.starts_with("08");
                if transient {
                    DbError::Unavailable(db_err.message().to_owned())
                } else {
                    DbError::Other(err.to_string())
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => DbError::Unavailable(err.to_string()),
            _ => DbError::Other(err.to_string()),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> DbError {
        DbError::from_sqlx(err, "already exists")
    }
}

/// Result of a store operation.
pub type DbResult<T> = Result<T, DbError>;

/// A machine row. The secret is never stored: see `secrets`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MachineRow {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Owner's address (not shown publicly).
    pub owner_email: String,
    /// Free text.
    pub description: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Compiler.
    pub compiler: String,
    /// `pending`, `approved`, `rejected`, `suspended` or `retired`.
    pub state: String,
    /// Incremented by each approval or rotation; the secret is derived from it.
    pub secret_generation: i64,
    /// Address it registered from.
    pub client_addr: String,
    /// Registration time (unix ms).
    pub created_at: i64,
    /// Last state change (unix ms).
    pub state_changed_at: i64,
    /// Last accepted run (unix ms).
    pub last_seen_at: Option<i64>,
}

/// A new machine registration.
#[derive(Debug, Clone)]
pub struct NewMachine {
    /// Unique name.
    pub name: String,
    /// Owner's address.
    pub owner_email: String,
    /// Free text.
    pub description: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Compiler.
    pub compiler: String,
    /// Address it registered from.
    pub client_addr: String,
    /// Now (unix ms).
    pub created_at: i64,
}

/// A run row joined with its machine's name and the run uuid.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    /// Row id (the keyset cursor).
    pub id: i64,
    /// Run uuid.
    pub uuid: String,
    /// Machine name.
    pub machine: String,
    /// Extension name.
    pub extension: String,
    /// Extension version.
    pub ext_version: String,
    /// Full PostgreSQL version.
    pub pg_version: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// Re-derived worst status.
    pub status: String,
    /// First failed stage.
    pub failed_stage: Option<String>,
    /// A test stage ran (pgfarm-verdict's `run-tested`): 1 or 0.
    pub tested: i64,
    /// Number of tests.
    pub n_tests: i64,
    /// Failed tests.
    pub n_failed: i64,
    /// Run time (unix ms).
    pub created_at: i64,
    /// Receive time (unix ms).
    pub received_at: i64,
}

/// A stage of a stored run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageRow {
    /// Stage name.
    pub name: String,
    /// Re-derived status.
    pub status: String,
    /// Duration.
    pub duration_ms: i64,
}

/// A test result of a stored run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestRow {
    /// Stage (`regress`, `tap`).
    pub stage: String,
    /// Test name.
    pub test_name: String,
    /// Re-derived status.
    pub status: String,
    /// Duration.
    pub duration_ms: i64,
}

/// A run to store, with everything derived from its bundle.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Run uuid (unique).
    pub uuid: String,
    /// Submitting machine's row id.
    pub machine_id: i64,
    /// Extension name.
    pub extension: String,
    /// Extension version.
    pub ext_version: String,
    /// Full PostgreSQL version.
    pub pg_version: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// Worst re-derived status.
    pub status: String,
    /// First failed stage.
    pub failed_stage: Option<String>,
    /// A test stage ran (pgfarm-verdict's `run-tested`).
    pub tested: bool,
    /// Number of tests.
    pub n_tests: i64,
    /// Failed tests.
    pub n_failed: i64,
    /// Run time (unix ms).
    pub created_at: i64,
    /// Receive time (unix ms).
    pub received_at: i64,
    /// Lowest PostgreSQL major the extension requires (META.json prerequisites), if stated.
    pub pg_min: Option<i64>,
    /// The bundle exactly as received.
    pub bundle: Vec<u8>,
    /// Stages in order.
    pub stages: Vec<StageRow>,
    /// Tests in order.
    pub tests: Vec<TestRow>,
}

/// One matrix cell.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LatestRow {
    /// Extension.
    pub extension: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// Extension version of the latest run.
    pub ext_version: String,
    /// Its status.
    pub status: String,
    /// Its first failed stage.
    pub failed_stage: Option<String>,
    /// Its run time (unix ms).
    pub created_at: i64,
    /// Whether that run tested anything: 1 or 0.
    pub tested: i64,
    /// Number of tests of that run.
    pub n_tests: i64,
    /// Its uuid.
    pub run_uuid: String,
    /// The release status of that version (`stable`, `testing`, `unstable`), when it is a
    /// known release.
    pub release_status: Option<String>,
}

/// One entry of a test's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    /// Run uuid.
    pub run_uuid: String,
    /// Machine name.
    pub machine: String,
    /// Extension version.
    pub ext_version: String,
    /// Full PostgreSQL version.
    pub pg_version: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// The test's status.
    pub status: String,
    /// Run time (unix ms).
    pub created_at: i64,
}

/// Runs per day, PostgreSQL major and status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyRow {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// Status.
    pub status: String,
    /// Count.
    pub n_runs: i64,
}

/// Durations of one stage per day and PostgreSQL major (stages that ran: ok or failed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageDailyRow {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// Stage name.
    pub stage: String,
    /// Runs in which the stage ran.
    pub n_runs: i64,
    /// Sum of their durations (ms).
    pub total_ms: i64,
    /// The longest of them (ms).
    pub max_ms: i64,
}

/// A status change of a matrix cell.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRow {
    /// Row id.
    pub id: i64,
    /// Extension.
    pub extension: String,
    /// PostgreSQL major.
    pub pg_major: i64,
    /// `os/arch`.
    pub platform: String,
    /// The run that changed it.
    pub run_uuid: String,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// The first failed stage of the run that changed it.
    pub failed_stage: Option<String>,
    /// Whether that run tested anything: 1 or 0.
    pub tested: i64,
    /// When (unix ms).
    pub at: i64,
}

/// An extension and its matrix counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExtensionRow {
    /// Name.
    pub name: String,
    /// Cells with a run.
    pub n_cells: i64,
    /// Cells whose latest run failed.
    pub n_failing: i64,
}

/// A version of an extension with its run counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionRow {
    /// Version.
    pub version: String,
    /// Runs of it.
    pub n_runs: i64,
    /// Failed runs of it.
    pub n_failed: i64,
}

/// A known extension release.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseRow {
    /// Extension.
    pub extension: String,
    /// Version.
    pub version: String,
    /// Lowest supported major.
    pub pg_min: Option<i64>,
    /// Highest supported major.
    pub pg_max: Option<i64>,
}

/// A release as the queue hands it out.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    /// Extension (for PGXN releases, the dist name as its META writes it).
    pub extension: String,
    /// Version.
    pub version: String,
    /// `stable`, `testing` or `unstable`.
    pub release_status: String,
    /// PGXN dist name, for PGXN releases.
    pub dist: Option<String>,
    /// The zip's URL, for PGXN releases.
    pub download_url: Option<String>,
    /// The zip's SHA-1, for PGXN releases.
    pub sha1: Option<String>,
    /// The mirror it was synced from, for PGXN releases.
    pub mirror: Option<String>,
}

/// A known release with its PGXN facts (those are `None` for releases not from PGXN).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseInfoRow {
    /// Extension.
    pub extension: String,
    /// Version.
    pub version: String,
    /// `stable`, `testing` or `unstable`.
    pub release_status: String,
    /// `pgxn`, `admin` or `learned`.
    pub source: String,
    /// Release time (unix ms; for PGXN releases PGXN's date).
    pub released_at: i64,
    /// PGXN dist name.
    pub dist: Option<String>,
    /// Abstract.
    pub abstract_text: Option<String>,
    /// Uploader's PGXN nickname.
    pub pgxn_user: Option<String>,
    /// The META's PostgreSQL range as written.
    pub pg_range: Option<String>,
    /// Lowest supported major.
    pub pg_min: Option<i64>,
    /// Highest supported major.
    pub pg_max: Option<i64>,
    /// Runs of it.
    pub n_runs: i64,
    /// Failed runs of it.
    pub n_failed: i64,
}

/// A release imported from a PGXN mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgxnReleaseRow {
    /// The dist name as its META writes it (stored as the extension).
    pub dist: String,
    /// Version.
    pub version: String,
    /// `stable`, `testing` or `unstable`.
    pub release_status: String,
    /// PGXN's release date (unix ms).
    pub released_at: i64,
    /// META abstract.
    pub abstract_text: String,
    /// Uploader.
    pub user: String,
    /// The META's PostgreSQL range as written.
    pub pg_range: Option<String>,
    /// Lowest major the range allows (`None`: no lower bound).
    pub pg_min: Option<i64>,
    /// Highest major the range allows (`None`: no upper bound).
    pub pg_max: Option<i64>,
    /// The other `requires` prerequisites, JSON.
    pub prereqs: String,
    /// The zip's URL.
    pub download_url: String,
    /// The zip's SHA-1.
    pub sha1: Option<String>,
}

/// A PGXN user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PgxnUserRow {
    /// Nickname (PGXN's account name).
    pub nickname: String,
    /// Full name.
    pub name: String,
    /// Home page.
    pub uri: Option<String>,
}

/// A PGXN user with counts of their synced distributions and releases.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserSummaryRow {
    /// Nickname.
    pub nickname: String,
    /// Full name.
    pub name: String,
    /// Home page.
    pub uri: Option<String>,
    /// Distributions they uploaded a release of.
    pub n_dists: i64,
    /// Releases they uploaded.
    pub n_releases: i64,
}

/// What one sync pass writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgxnBatch {
    /// The mirror's base URL.
    pub mirror: String,
    /// New or changed releases.
    pub releases: Vec<PgxnReleaseRow>,
    /// Users to insert or update.
    pub users: Vec<PgxnUserRow>,
    /// (lowercased dist, dist name, document hash) of every dist document imported.
    pub dists: Vec<(String, String, String)>,
    /// The new fingerprint of stats/dist.json's `recent` list.
    pub recent_fingerprint: String,
    /// Now (unix ms).
    pub now: i64,
}

/// Counts for `/api/v1/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsRow {
    /// Runs.
    pub n_runs: i64,
    /// Machines.
    pub n_machines: i64,
    /// Extensions.
    pub n_extensions: i64,
    /// Test results.
    pub n_test_results: i64,
    /// Failing matrix cells.
    pub n_failing_cells: i64,
}

/// Filters of the run list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Extension name.
    pub extension: Option<String>,
    /// Extension version.
    pub version: Option<String>,
    /// Machine name.
    pub machine: Option<String>,
    /// PostgreSQL major.
    pub pg_major: Option<i64>,
    /// Runs whose first failed stage is this one.
    pub stage: Option<String>,
    /// Worst status.
    pub status: Option<String>,
    /// Received at or after (unix ms).
    pub since: Option<i64>,
    /// Received before (unix ms).
    pub until: Option<i64>,
    /// Only runs whose matrix cell is not green now (for failures).
    pub hide_now_green: bool,
}

/// Everything the server stores. One implementation per database kind.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// A cheap round trip to the database.
    async fn ping(&self) -> DbResult<()>;

    /// A value of the `settings` table.
    async fn setting(&self, key: &str) -> DbResult<Option<String>>;
    /// Sets a value of the `settings` table.
    async fn set_setting(&self, key: &str, value: &str) -> DbResult<()>;
    /// Sets a value unless one exists; true when it was set.
    async fn insert_setting_if_absent(&self, key: &str, value: &str) -> DbResult<bool>;

    /// Registers a pending machine; `Conflict` when the name is taken.
    async fn register_machine(&self, machine: &NewMachine) -> DbResult<MachineRow>;
    /// A machine by name.
    async fn machine(&self, name: &str) -> DbResult<Option<MachineRow>>;
    /// All machines, by name.
    async fn machines(&self) -> DbResult<Vec<MachineRow>>;
    /// Sets a machine's state (and increments its secret generation when `new_secret`).
    async fn set_machine_state(
        &self,
        name: &str,
        state: &str,
        new_secret: bool,
        now: i64,
    ) -> DbResult<Option<MachineRow>>;

    /// Stores a run with its stages, tests and bundle, updates the matrix, the feed, the
    /// daily counts and the daily stage durations, all in one transaction; `Conflict` when the uuid exists. Returns the id.
    async fn insert_run(&self, run: &NewRun) -> DbResult<i64>;
    /// A page of runs, newest first, with `id < before`.
    async fn runs(
        &self,
        filter: &RunFilter,
        before: Option<i64>,
        limit: i64,
    ) -> DbResult<Vec<RunRow>>;
    /// Failed runs received at or after `filter.since` (`filter.status` is ignored), newest
    /// first by `(received_at, id)`, strictly after the cursor `after` = (received_at, id).
    async fn failures(
        &self,
        filter: &RunFilter,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> DbResult<Vec<RunRow>>;
    /// A run by uuid.
    async fn run(&self, uuid: &str) -> DbResult<Option<RunRow>>;
    /// Stages and tests of a run.
    async fn run_parts(&self, run_id: i64) -> DbResult<(Vec<StageRow>, Vec<TestRow>)>;
    /// The raw bundle of a run.
    async fn run_bundle(&self, uuid: &str) -> DbResult<Option<Vec<u8>>>;

    /// Matrix cells, of one extension or all.
    async fn matrix(&self, extension: Option<&str>) -> DbResult<Vec<LatestRow>>;
    /// A test's history, newest first.
    async fn test_history(
        &self,
        extension: &str,
        test: &str,
        limit: i64,
    ) -> DbResult<Vec<HistoryRow>>;
    /// Daily counts from `since_day` on, of one extension or all.
    async fn trends(&self, since_day: i64, extension: Option<&str>) -> DbResult<Vec<DailyRow>>;
    /// Daily stage durations from `since_day` on, of one extension or all.
    async fn stage_trends(
        &self,
        since_day: i64,
        extension: Option<&str>,
    ) -> DbResult<Vec<StageDailyRow>>;
    /// The latest run (last received) per machine and PostgreSQL major of an extension, or of
    /// one version of it, by machine name and major.
    async fn machine_grid(&self, extension: &str, version: Option<&str>) -> DbResult<Vec<RunRow>>;
    /// Overall counts.
    async fn stats(&self) -> DbResult<StatsRow>;
    /// Extensions with runs.
    async fn extensions(&self) -> DbResult<Vec<ExtensionRow>>;
    /// Versions of an extension that have runs.
    async fn extension_versions(&self, extension: &str) -> DbResult<Vec<VersionRow>>;
    /// Status changes, newest first, of one extension or all.
    async fn status_changes(&self, extension: Option<&str>, limit: i64)
    -> DbResult<Vec<ChangeRow>>;

    /// Adds or updates a known release.
    async fn add_release(&self, release: &ReleaseRow, source: &str, now: i64) -> DbResult<()>;
    /// Releases of the given statuses a machine has not tested on `pg_major` and whose
    /// PostgreSQL range allows it, newest first.
    async fn queue(
        &self,
        machine_id: i64,
        pg_major: i64,
        statuses: &[&str],
        limit: i64,
    ) -> DbResult<Vec<QueueRow>>;
    /// Every known release of an extension with its run counts, newest first.
    async fn releases_of(&self, extension: &str) -> DbResult<Vec<ReleaseInfoRow>>;

    /// The `recent` fingerprint of the last completed sync of `mirror`.
    async fn pgxn_fingerprint(&self, mirror: &str) -> DbResult<Option<String>>;
    /// (lowercased dist, document hash) of the dist documents imported from `mirror`.
    async fn pgxn_dist_hashes(&self, mirror: &str) -> DbResult<Vec<(String, String)>>;
    /// (lowercased dist, version) of every release imported from PGXN (any mirror).
    async fn pgxn_releases(&self) -> DbResult<Vec<(String, String)>>;
    /// The stored PGXN users.
    async fn pgxn_user_rows(&self) -> DbResult<Vec<PgxnUserRow>>;
    /// Writes one sync pass in one transaction (nothing when the batch is empty but for the
    /// fingerprint, which is written only when it changed).
    async fn pgxn_apply(&self, batch: &PgxnBatch) -> DbResult<()>;
    /// PGXN users with counts, by nickname.
    async fn pgxn_users(&self) -> DbResult<Vec<UserSummaryRow>>;
    /// One PGXN user.
    async fn pgxn_user(&self, nickname: &str) -> DbResult<Option<UserSummaryRow>>;
    /// The releases a PGXN user uploaded, by dist then newest first, with run counts.
    async fn pgxn_user_releases(&self, nickname: &str) -> DbResult<Vec<ReleaseInfoRow>>;
}

/// Opens the store named by `config.database_url`, applying migrations.
pub async fn open(config: &Config) -> DbResult<Arc<dyn Store>> {
    if config.is_sqlite() {
        let store = sqlite::SqliteStore::open(&config.database_url, config.max_connections).await?;
        Ok(Arc::new(store))
    } else {
        let store =
            postgres::PostgresStore::open(&config.database_url, config.max_connections).await?;
        Ok(Arc::new(store))
    }
}

/// The SQL text of the failures read for `filter` (for `EXPLAIN` in benchmarks): SQLite's
/// text with `?` placeholders when `sqlite`, else PostgreSQL's with `$N`. Its parameters are,
/// in order: `since`, then the filters that are set (extension, version, machine, pg_major,
/// stage, until), then the limit.
pub fn failures_sql(sqlite: bool, filter: &RunFilter) -> String {
    if sqlite {
        sql::failures_query::<sqlx::Sqlite>(filter, None, 50).into_string()
    } else {
        sql::failures_query::<sqlx::Postgres>(filter, None, 50).into_string()
    }
}

/// Checks applied migrations against the ones this binary carries: refuses a database that a
/// newer server migrated (`TooNew`).
pub(crate) fn check_not_newer(applied: &[i64], migrator: &sqlx::migrate::Migrator) -> DbResult<()> {
    let known = migrator.iter().map(|migration| migration.version).max().unwrap_or(0);
    match applied.iter().copied().max() {
        Some(found) if found > known => Err(DbError::TooNew { found, known }),
        _ => Ok(()),
    }
}

/// The SQLite migrations, embedded: (version, description, SQL). `tests/tidy.rs` checks that this
/// list names exactly the files of `migrations/sqlite/`.
pub const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../../migrations/sqlite/0001_initial.sql")),
    (2, "runs_status_id", include_str!("../../../migrations/sqlite/0002_runs_status_id.sql")),
    (3, "failures_indexes", include_str!("../../../migrations/sqlite/0003_failures_indexes.sql")),
    (
        4,
        "trends_by_extension_and_stage",
        include_str!("../../../migrations/sqlite/0004_trends_by_extension_and_stage.sql"),
    ),
    (
        5,
        "verdict_machine_faults_and_tested",
        include_str!("../../../migrations/sqlite/0005_verdict_machine_faults_and_tested.sql"),
    ),
    (6, "pgxn_sync", include_str!("../../../migrations/sqlite/0006_pgxn_sync.sql")),
];

/// The PostgreSQL migrations, embedded: same versions and descriptions as `SQLITE_MIGRATIONS`.
pub const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../../migrations/postgres/0001_initial.sql")),
    (2, "runs_status_id", include_str!("../../../migrations/postgres/0002_runs_status_id.sql")),
    (3, "failures_indexes", include_str!("../../../migrations/postgres/0003_failures_indexes.sql")),
    (
        4,
        "trends_by_extension_and_stage",
        include_str!("../../../migrations/postgres/0004_trends_by_extension_and_stage.sql"),
    ),
    (
        5,
        "verdict_machine_faults_and_tested",
        include_str!("../../../migrations/postgres/0005_verdict_machine_faults_and_tested.sql"),
    ),
    (6, "pgxn_sync", include_str!("../../../migrations/postgres/0006_pgxn_sync.sql")),
];

/// A sqlx `Migrator` over embedded migrations (instead of `sqlx::migrate!`, which needs sqlx's
/// `macros` feature and its compile-time database drivers).
pub(crate) fn migrator(
    migrations: &'static [(i64, &'static str, &'static str)],
) -> sqlx::migrate::Migrator {
    use sqlx::SqlSafeStr;
    let migrations: Vec<sqlx::migrate::Migration> = migrations
        .iter()
        .map(|(version, description, sql)| {
            sqlx::migrate::Migration::new(
                *version,
                std::borrow::Cow::Borrowed(*description),
                sqlx::migrate::MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(migrations),
        ..sqlx::migrate::Migrator::DEFAULT
    }
}
