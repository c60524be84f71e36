//! Read latency at scale: fills a database with generated runs through a bulk path (multi-row
//! INSERTs, 5,000 runs per transaction, SQLite's `synchronous = OFF` during the fill only),
//! then starts the server on it and measures the p50/p95 of the matrix, failures, history and
//! run-list endpoints over HTTP, and prints the query plans of the failures reads.
//!
//! ```text
//! cargo run --release -p pgfarm-server --example scale -- --data-dir /tmp/scale --runs 1000000
//! cargo run --release -p pgfarm-server --example scale -- --data-dir /tmp/scale --runs 0   # measure only
//! cargo run --release -p pgfarm-server --example scale -- --database-url postgres://.. --runs 1000000
//! ```
//!
//! The generated farm (deterministic, from a fixed seed): 80 extensions of uneven popularity
//! with 1 to 6 versions each, released over the period (runs test the newest release most of
//! the time); 16 machines on 5 platforms; PostgreSQL 12 to 18 (18 only in the last 90 days);
//! 3 to 8 regression tests per extension (about 5.5 per run); about 9 % of runs fail: some
//! (extension, major) pairs are broken for a stretch of time, some tests are flaky, about 1 %
//! of runs fail to build (no test results). The runs are spread over the last 400 days in
//! receive order, the newest a minute old. The matrix, feed, trend and release tables are
//! derived from the generated runs exactly as ingest maintains them. Stored bundles are a few
//! placeholder bytes (the reads measured here never decode bundles).
//!
//! The fill starts from a database without runs (it refuses otherwise, so the derived tables
//! stay right); `--runs 0` measures an existing database.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::{Duration, Instant};

use pgfarm_server::config::Config;
use pgfarm_server::db::NewMachine;

/// xorshift64: a deterministic, dependency-free generator.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `permille / 1000`.
    fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }
}

/// A stable hash of small integers (for per-extension properties).
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0x632B_E59B_D9B4_E019);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

const PLATFORMS: [&str; 5] =
    ["linux/x86_64", "linux/aarch64", "freebsd/amd64", "macos/arm64", "linux/ppc64le"];
const N_EXTENSIONS: u64 = 80;
const N_MACHINES: usize = 16;
const DAY_MS: i64 = 86_400_000;
const RUNS_PER_TRANSACTION: usize = 5_000;

struct Machine {
    id: i64,
    name: String,
    platform: &'static str,
}

/// One generated run with everything the tables need.
struct GenRun {
    id: i64,
    uuid: String,
    machine_id: i64,
    extension: String,
    ext_version: String,
    pg_version: String,
    pg_major: i64,
    platform: &'static str,
    status: &'static str,
    failed_stage: Option<&'static str>,
    /// Failure cause, as ingest stores it (migration 0007), so the server's start-up backfill
    /// finds nothing to do.
    cause: Option<&'static str>,
    n_tests: i64,
    n_failed: i64,
    at: i64,
    tests: Vec<(String, &'static str)>,
    stages: Vec<(&'static str, &'static str, i64)>,
}

/// The matrix cell as ingest maintains it.
struct Cell {
    run_id: i64,
    ext_version: String,
    status: &'static str,
    failed_stage: Option<&'static str>,
    created_at: i64,
}

struct Change {
    extension: String,
    pg_major: i64,
    platform: &'static str,
    run_id: i64,
    from: &'static str,
    to: &'static str,
    at: i64,
}

/// Everything derived from the runs, kept in memory during the fill and written at the end.
#[derive(Default)]
struct Derived {
    latest: HashMap<(String, i64, &'static str), Cell>,
    changes: Vec<Change>,
    daily: BTreeMap<(i64, i64, &'static str), i64>,
    releases: BTreeMap<(String, String), (Option<i64>, i64)>,
    last_seen: HashMap<i64, i64>,
}

impl Derived {
    fn record(&mut self, run: &GenRun, pg_min: i64) {
        let key = (run.extension.clone(), run.pg_major, run.platform);
        let green_red = |status: &str| status == "ok" || status == "failed";
        match self.latest.get_mut(&key) {
            None => {
                self.latest.insert(
                    key,
                    Cell {
                        run_id: run.id,
                        ext_version: run.ext_version.clone(),
                        status: run.status,
                        failed_stage: run.failed_stage,
                        created_at: run.at,
                    },
                );
            }
            Some(cell) if run.at >= cell.created_at => {
                if cell.status != run.status && green_red(cell.status) && green_red(run.status) {
                    self.changes.push(Change {
                        extension: run.extension.clone(),
                        pg_major: run.pg_major,
                        platform: run.platform,
                        run_id: run.id,
                        from: cell.status,
                        to: run.status,
                        at: run.at,
                    });
                }
                *cell = Cell {
                    run_id: run.id,
                    ext_version: run.ext_version.clone(),
                    status: run.status,
                    failed_stage: run.failed_stage,
                    created_at: run.at,
                };
            }
            Some(_) => {}
        }
        *self.daily.entry((run.at.div_euclid(DAY_MS), run.pg_major, run.status)).or_default() += 1;
        self.releases
            .entry((run.extension.clone(), run.ext_version.clone()))
            .or_insert((Some(pg_min), run.at));
        self.last_seen.insert(run.machine_id, run.at);
    }
}

/// The generator's model of the farm.
struct Farm {
    noise: Noise,
    machines: Vec<Machine>,
    start: i64,
    span: i64,
}

impl Farm {
    /// Extension index with uneven popularity: a few are tested far more than most.
    fn extension(&mut self) -> u64 {
        let r = self.noise.below(1 << 20) as f64 / f64::from(1 << 20);
        ((r * r * r) * N_EXTENSIONS as f64) as u64 % N_EXTENSIONS
    }

    fn run(&mut self, id: i64, idx: usize, n_runs: usize) -> (GenRun, i64) {
        let at = self.start + (self.span as i128 * idx as i128 / n_runs.max(1) as i128) as i64;
        let progress = (at - self.start) as f64 / self.span as f64;
        let ext = self.extension();
        let n_versions = 1 + mix(ext, 1) % 6;
        // Release k of n comes out at k/n of the period; runs test the newest release 85 % of
        // the time, else an older one.
        let released = ((progress * n_versions as f64) as u64).min(n_versions - 1);
        let version = if self.noise.chance(850) || released == 0 {
            released
        } else {
            self.noise.below(released)
        };
        let ext_version = format!("{}.{}.{}", 1 + version / 3, version % 3, mix(ext, version) % 4);
        let pg_min = 12 + (mix(ext, 2) % 3) as i64;
        let machine_idx = self.noise.below(N_MACHINES as u64) as usize;
        let newest_major = if at > self.start + self.span - 90 * DAY_MS { 18 } else { 17 };
        let pg_major = (pg_min + self.noise.below((newest_major - pg_min + 1) as u64) as i64)
            .min(newest_major);
        let machine = &self.machines[machine_idx];
        let n_tests = 3 + mix(ext, 3) % 6;
        // A broken stretch: this (extension, major) fails for a tenth of the period.
        let broken_from = mix(ext, pg_major as u64) % 1000;
        let broken = mix(ext, 7 + pg_major as u64).is_multiple_of(4)
            && (broken_from..broken_from + 100).contains(&((progress * 1000.0) as u64));
        let build_error = self.noise.chance(10);
        let mut tests = Vec::new();
        let mut n_failed = 0;
        if !build_error {
            for test_idx in 0..n_tests {
                let failing = (broken && test_idx == mix(ext, pg_major as u64) % n_tests)
                    // Flaky tests: one test of every fifth extension fails 10 % of the time.
                    || (test_idx == 1 && mix(ext, 5).is_multiple_of(5) && self.noise.chance(100))
                    || self.noise.chance(5);
                n_failed += i64::from(failing);
                tests.push((format!("test_{test_idx}"), if failing { "failed" } else { "ok" }));
            }
        }
        let (status, failed_stage, cause) = if build_error {
            ("error", Some("build"), Some("missing_header"))
        } else if n_failed > 0 {
            ("failed", Some("regress"), Some("test_failures"))
        } else {
            ("ok", None, None)
        };
        let mut stages = vec![("build", if build_error { "error" } else { "ok" }, 5_000 + 10)];
        if !build_error {
            stages.push(("install", "ok", 300));
            stages.push(("regress", if n_failed > 0 { "failed" } else { "ok" }, 2_000));
        }
        let run = GenRun {
            id,
            uuid: format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                self.noise.next() as u32,
                self.noise.next() as u16,
                self.noise.next() as u16 & 0xfff,
                self.noise.next() as u16 & 0xfff,
                id
            ),
            machine_id: machine.id,
            extension: format!("ext{ext:03}"),
            ext_version,
            pg_version: format!(
                "{pg_major}.{}",
                1 + mix(pg_major as u64, (progress * 8.0) as u64) % 6
            ),
            pg_major,
            platform: machine.platform,
            status,
            failed_stage,
            cause,
            n_tests: tests.len() as i64,
            n_failed,
            at,
            tests,
            stages,
        };
        (run, pg_min)
    }
}

const BUNDLE: &[u8] = b"generated by examples/scale.rs";

/// Implements the bulk writes for one sqlx backend (the SQL text is the same for both).
macro_rules! bulk_writer {
    ($name:ident, $db:ty) => {
        mod $name {
            use super::*;

            /// Rows per multi-row INSERT: under SQLite's 32,766 bound parameters.
            const ROWS: usize = 2_000;

            pub(super) async fn write_runs(
                tx: &mut sqlx::Transaction<'static, $db>,
                runs: &[GenRun],
            ) -> anyhow::Result<()> {
                for chunk in runs.chunks(ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO runs (id, uuid, machine_id, extension, ext_version, \
                         pg_version, pg_major, platform, status, failed_stage, n_tests, n_failed, \
                         created_at, received_at, bundle_size, cause) ",
                    );
                    insert.push_values(chunk, |mut row, run| {
                        row.push_bind(run.id)
                            .push_bind(run.uuid.clone())
                            .push_bind(run.machine_id)
                            .push_bind(run.extension.clone())
                            .push_bind(run.ext_version.clone())
                            .push_bind(run.pg_version.clone())
                            .push_bind(run.pg_major)
                            .push_bind(run.platform)
                            .push_bind(run.status)
                            .push_bind(run.failed_stage)
                            .push_bind(run.n_tests)
                            .push_bind(run.n_failed)
                            .push_bind(run.at - 600_000)
                            .push_bind(run.at)
                            .push_bind(BUNDLE.len() as i64)
                            .push_bind(run.cause);
                    });
                    insert.build().execute(&mut **tx).await?;
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO run_bundles (run_id, body) ",
                    );
                    insert.push_values(chunk, |mut row, run| {
                        row.push_bind(run.id).push_bind(BUNDLE);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                let stages: Vec<(i64, i64, &GenRun, usize)> = runs
                    .iter()
                    .flat_map(|run| (0..run.stages.len()).map(move |idx| (run.id, idx as i64, run, idx)))
                    .collect();
                for chunk in stages.chunks(ROWS * 2) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO run_stages (run_id, position, name, status, duration_ms) ",
                    );
                    insert.push_values(chunk, |mut row, (run_id, position, run, idx)| {
                        let (name, status, duration) = run.stages[*idx];
                        row.push_bind(*run_id)
                            .push_bind(*position)
                            .push_bind(name)
                            .push_bind(status)
                            .push_bind(duration);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                let tests: Vec<(&GenRun, usize)> = runs
                    .iter()
                    .flat_map(|run| (0..run.tests.len()).map(move |idx| (run, idx)))
                    .collect();
                for chunk in tests.chunks(ROWS * 2) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO test_results (run_id, extension, test_name, stage, status, \
                         duration_ms) ",
                    );
                    insert.push_values(chunk, |mut row, (run, idx)| {
                        let (name, status) = &run.tests[*idx];
                        row.push_bind(run.id)
                            .push_bind(run.extension.clone())
                            .push_bind(name.clone())
                            .push_bind("regress")
                            .push_bind(*status)
                            .push_bind(40 + (*idx as i64) * 7);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            pub(super) async fn write_derived(
                tx: &mut sqlx::Transaction<'static, $db>,
                derived: &Derived,
            ) -> anyhow::Result<()> {
                let cells: Vec<_> = derived.latest.iter().collect();
                for chunk in cells.chunks(ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO latest (extension, pg_major, platform, run_id, ext_version, \
                         status, failed_stage, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, ((extension, pg_major, platform), cell)| {
                        row.push_bind(extension.clone())
                            .push_bind(*pg_major)
                            .push_bind(*platform)
                            .push_bind(cell.run_id)
                            .push_bind(cell.ext_version.clone())
                            .push_bind(cell.status)
                            .push_bind(cell.failed_stage)
                            .push_bind(cell.created_at - 600_000);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                for chunk in derived.changes.chunks(ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO status_changes (extension, pg_major, platform, run_id, \
                         from_status, to_status, at) ",
                    );
                    insert.push_values(chunk, |mut row, change| {
                        row.push_bind(change.extension.clone())
                            .push_bind(change.pg_major)
                            .push_bind(change.platform)
                            .push_bind(change.run_id)
                            .push_bind(change.from)
                            .push_bind(change.to)
                            .push_bind(change.at);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                let daily: Vec<_> = derived.daily.iter().collect();
                for chunk in daily.chunks(ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO daily_counts (day, pg_major, status, n_runs) ",
                    );
                    insert.push_values(chunk, |mut row, ((day, pg_major, status), n_runs)| {
                        row.push_bind(*day).push_bind(*pg_major).push_bind(*status).push_bind(**n_runs);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                let releases: Vec<_> = derived.releases.iter().collect();
                for chunk in releases.chunks(ROWS) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO extension_releases (extension, version, pg_min, pg_max, \
                         source, released_at) ",
                    );
                    insert.push_values(chunk, |mut row, ((extension, version), (pg_min, at))| {
                        row.push_bind(extension.clone())
                            .push_bind(version.clone())
                            .push_bind(*pg_min)
                            .push_bind(None::<i64>)
                            .push_bind("learned")
                            .push_bind(*at);
                    });
                    insert.push(" ON CONFLICT (extension, version) DO NOTHING");
                    insert.build().execute(&mut **tx).await?;
                }
                for (machine_id, at) in &derived.last_seen {
                    sqlx::query("UPDATE machines SET last_seen_at = $1 WHERE id = $2")
                        .bind(*at)
                        .bind(*machine_id)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Fills `pool` with `n_runs` runs in transactions of `RUNS_PER_TRANSACTION`.
            pub(super) async fn fill(
                pool: &sqlx::Pool<$db>,
                farm: &mut Farm,
                n_runs: usize,
            ) -> anyhow::Result<()> {
                let existing: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM runs")
                    .fetch_one(pool)
                    .await?;
                anyhow::ensure!(
                    existing.0 == 0,
                    "the database has {} runs already: the bulk fill needs an empty one \
                     (or pass --runs 0 to measure it)",
                    existing.0
                );
                let started = Instant::now();
                let mut derived = Derived::default();
                let mut batch = Vec::with_capacity(RUNS_PER_TRANSACTION);
                for idx in 0..n_runs {
                    let (run, pg_min) = farm.run(idx as i64 + 1, idx, n_runs);
                    derived.record(&run, pg_min);
                    batch.push(run);
                    if batch.len() == RUNS_PER_TRANSACTION || idx + 1 == n_runs {
                        let mut tx = pool.begin().await?;
                        write_runs(&mut tx, &batch).await?;
                        tx.commit().await?;
                        batch.clear();
                    }
                    if idx % 100_000 == 99_999 {
                        eprintln!("{} runs in {:.1?}", idx + 1, started.elapsed());
                    }
                }
                let mut tx = pool.begin().await?;
                write_derived(&mut tx, &derived).await?;
                for statement in pgfarm_server::db::REBUILD_DAILY_TABLES {
                    sqlx::query(statement).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                eprintln!(
                    "filled {n_runs} runs in {:.1?} ({:.0} runs/s); {} matrix cells, {} status \
                     changes",
                    started.elapsed(),
                    n_runs as f64 / started.elapsed().as_secs_f64(),
                    derived.latest.len(),
                    derived.changes.len()
                );
                Ok(())
            }
        }
    };
}

bulk_writer!(sqlite_bulk, sqlx::Sqlite);
bulk_writer!(postgres_bulk, sqlx::Postgres);

async fn fill(config: &Config, n_runs: usize) -> anyhow::Result<()> {
    if n_runs == 0 {
        return Ok(());
    }
    // Migrates the database and registers the machines through the store.
    let (state, _) = pgfarm_server::prepare(config.clone()).await?;
    let store = state.store.clone();
    let mut machines = Vec::new();
    for idx in 0..N_MACHINES {
        let name = format!("machine-{idx}");
        let platform = PLATFORMS[idx % PLATFORMS.len()];
        let row = match store.machine(&name).await? {
            Some(row) => row,
            None => {
                let (os, arch) = platform.split_once('/').unwrap_or((platform, ""));
                store
                    .register_machine(&NewMachine {
                        name: name.clone(),
                        owner_email: "scale@example.org".into(),
                        description: String::new(),
                        os: os.into(),
                        arch: arch.into(),
                        compiler: "gcc".into(),
                        client_addr: "127.0.0.1".into(),
                        created_at: pgfarm_server::now_ms(),
                    })
                    .await?
            }
        };
        machines.push(Machine { id: row.id, name, platform });
    }
    drop(state);
    let span = 400 * DAY_MS;
    let end = pgfarm_server::now_ms() - 60_000;
    let mut farm = Farm { noise: Noise(0x2545_F491_4F6C_DD1D), machines, start: end - span, span };
    eprintln!(
        "machines: {}",
        farm.machines.iter().map(|machine| machine.name.as_str()).collect::<Vec<_>>().join(" ")
    );
    if config.is_sqlite() {
        // The fill only: no fsync per commit, a bigger page cache. A crash during the fill may
        // corrupt the database; the server itself keeps synchronous=NORMAL.
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&config.database_url)?
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
            .pragma("cache_size", "-262144")
            .pragma("temp_store", "memory");
        let pool =
            sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        sqlite_bulk::fill(&pool, &mut farm, n_runs).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&config.database_url)
            .await?;
        postgres_bulk::fill(&pool, &mut farm, n_runs).await?;
        // The ids were given explicitly: move the sequence past them.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('runs', 'id'), (SELECT MAX(id) FROM runs))",
        )
        .execute(&pool)
        .await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// Prints the query plan of the failures reads (SQLite: `EXPLAIN QUERY PLAN`; PostgreSQL:
/// `EXPLAIN`), with the parameters of the measured requests.
async fn explain(config: &Config) -> anyhow::Result<()> {
    use pgfarm_server::db::{RunFilter, failures_sql};
    let since = pgfarm_server::now_ms() - 365 * DAY_MS;
    let sqlite = config.is_sqlite();
    let plans = [
        ("days=365", RunFilter { since: Some(since), ..RunFilter::default() }),
        (
            "days=365&extension=ext007&pg=17",
            RunFilter {
                since: Some(since),
                extension: Some("ext007".into()),
                pg_major: Some(17),
                ..RunFilter::default()
            },
        ),
        (
            "days=365&machine=machine-3",
            RunFilter {
                since: Some(since),
                machine: Some("machine-3".into()),
                ..RunFilter::default()
            },
        ),
        (
            "days=365&hide_now_green=true",
            RunFilter { since: Some(since), hide_now_green: true, ..RunFilter::default() },
        ),
    ];
    for (label, filter) in plans {
        let sql = failures_sql(sqlite, &filter);
        let mut lines = Vec::new();
        macro_rules! bind_all {
            ($query:expr) => {{
                let mut query = $query.bind(since);
                if let Some(extension) = filter.extension.clone() {
                    query = query.bind(extension);
                }
                if let Some(machine) = filter.machine.clone() {
                    query = query.bind(machine);
                }
                if let Some(pg_major) = filter.pg_major {
                    query = query.bind(pg_major);
                }
                query.bind(50_i64)
            }};
        }
        if sqlite {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    sqlx::sqlite::SqliteConnectOptions::from_str(&config.database_url)?
                        .read_only(true),
                )
                .await?;
            let query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {sql}"
            )));
            for (_, _, _, detail) in bind_all!(query).fetch_all(&pool).await? {
                lines.push(detail);
            }
            pool.close().await;
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&config.database_url)
                .await?;
            let query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(format!(
                "EXPLAIN (ANALYZE, COSTS OFF) {sql}"
            )));
            for (line,) in bind_all!(query).fetch_all(&pool).await? {
                lines.push(line);
            }
            pool.close().await;
        }
        println!("plan of /api/v1/failures?{label}:");
        for line in lines {
            println!("    {line}");
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut data_dir = std::path::PathBuf::from("/tmp/pgfarm-scale");
    let mut database_url = None;
    let mut n_runs: usize = 100_000;
    let mut samples: usize = 200;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else { anyhow::bail!("{flag} needs a value") };
        match flag.as_str() {
            "--data-dir" => data_dir = value.into(),
            "--database-url" => database_url = Some(value),
            "--runs" => n_runs = value.parse()?,
            "--samples" => samples = value.parse()?,
            other => anyhow::bail!(
                "unknown flag {other} (--data-dir, --database-url, --runs, --samples)"
            ),
        }
    }
    anyhow::ensure!(samples >= 20, "--samples must be at least 20");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut config = Config::for_data_dir(&data_dir);
    if let Some(url) = database_url {
        config.database_url = url;
    }
    config.admin_token = Some("scale-admin".into());
    runtime.block_on(fill(&config, n_runs))?;
    runtime.block_on(explain(&config))?;

    let server = runtime.block_on(pgfarm_server::Server::start(config))?;
    let base = format!("http://{}", server.addr);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let get = |path: &str| -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_str(
            &agent.get(format!("{base}{path}")).call()?.body_mut().read_to_string()?,
        )?)
    };
    println!("database: {}", get("/api/v1/stats")?);
    let runs_cursor = get("/api/v1/runs?limit=500")?["next"].as_str().unwrap_or("").to_owned();
    let failures_cursor =
        get("/api/v1/failures?days=365&limit=500")?["next"].as_str().unwrap_or("").to_owned();
    let ext007_version = get("/api/v1/extensions/ext007/versions")?[0]["version"]
        .as_str()
        .unwrap_or("1.0.0")
        .to_owned();
    let paths = [
        "/api/v1/matrix".to_owned(),
        "/api/v1/matrix?extension=ext007".to_owned(),
        "/api/v1/failures?days=7".to_owned(),
        "/api/v1/failures?days=7&hide_now_green=true".to_owned(),
        "/api/v1/failures?days=30".to_owned(),
        "/api/v1/failures?days=30&hide_now_green=true".to_owned(),
        "/api/v1/failures?days=30&extension=ext007&pg=17".to_owned(),
        "/api/v1/failures?days=365".to_owned(),
        "/api/v1/failures?days=365&hide_now_green=true".to_owned(),
        format!("/api/v1/failures?days=365&after={failures_cursor}"),
        "/api/v1/failures?days=365&extension=ext007".to_owned(),
        "/api/v1/failures?days=365&extension=ext007&pg=17".to_owned(),
        "/api/v1/failures?days=365&extension=ext042&hide_now_green=true".to_owned(),
        "/api/v1/failures?days=365&machine=machine-3".to_owned(),
        "/api/v1/failures?days=365&stage=build".to_owned(),
        "/api/v1/failures?days=365&pg=99".to_owned(),
        "/api/v1/failures?days=365&extension=ext042&version=9.9.9".to_owned(),
        "/api/v1/failures?days=365&extension=nosuchext".to_owned(),
        "/api/v1/extensions/ext007/tests/test_1/history".to_owned(),
        "/api/v1/extensions/ext007/tests/test_1/history?limit=1000".to_owned(),
        "/api/v1/extensions/ext042/tests/test_2/history".to_owned(),
        "/api/v1/runs".to_owned(),
        format!("/api/v1/runs?after={runs_cursor}"),
        "/api/v1/runs?extension=ext007&pg=17".to_owned(),
        "/api/v1/runs?machine=machine-3&status=failed".to_owned(),
        "/api/v1/runs?extension=ext042&version=1.0.1".to_owned(),
        "/api/v1/trends?days=365".to_owned(),
        "/api/v1/trends?days=365&extension=ext007".to_owned(),
        "/api/v1/trends/stages?days=30".to_owned(),
        "/api/v1/trends/stages?days=365".to_owned(),
        "/api/v1/trends/stages?days=365&extension=ext007".to_owned(),
        "/api/v1/extensions/ext007/machines".to_owned(),
        format!("/api/v1/extensions/ext007/machines?version={ext007_version}"),
        "/api/v1/extensions/ext042/machines".to_owned(),
        "/api/v1/extensions".to_owned(),
    ];
    for path in &paths {
        let mut latencies = Vec::with_capacity(samples);
        let mut n_items = 0;
        for _ in 0..samples {
            let started = Instant::now();
            let mut response = agent.get(format!("{base}{path}")).call()?;
            let body = response.body_mut().read_to_vec()?;
            latencies.push(started.elapsed());
            anyhow::ensure!(response.status().as_u16() == 200, "{path}: {}", response.status());
            let value: serde_json::Value = serde_json::from_slice(&body)?;
            n_items = value["items"]
                .as_array()
                .or(value["entries"].as_array())
                .or(value.as_array())
                .map_or(0, Vec::len);
        }
        latencies.sort();
        println!(
            "{path:<66} {n_items:>5} items  p50 {:>7.2} ms  p95 {:>7.2} ms",
            latencies[samples / 2].as_secs_f64() * 1e3,
            latencies[samples * 95 / 100].as_secs_f64() * 1e3
        );
    }
    runtime.block_on(server.shutdown());
    Ok(())
}
