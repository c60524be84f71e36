//! The SQL of the `Store`, written once and instantiated for both backends by `impl_store!`.
//!
//! Every statement is portable between SQLite (3.35+, bundled) and PostgreSQL: `$N`
//! placeholders, `ON CONFLICT`, `RETURNING`, integers cast to BIGINT wherever an expression
//! would otherwise be a 4-byte integer or NUMERIC in PostgreSQL. The only per-backend text is
//! the row-lock suffix (`FOR UPDATE` on PostgreSQL, nothing on SQLite, whose single writer
//! connection serialises writers anyway).

/// Columns of `MachineRow`, in order.
pub(crate) const MACHINE_COLUMNS: &str = "id, name, owner_email, description, os, arch, compiler, \
     state, secret_generation, client_addr, created_at, state_changed_at, last_seen_at";

/// Columns of `RunRow` over `runs r JOIN machines m`.
pub(crate) const RUN_COLUMNS: &str = "r.id, r.uuid, m.name AS machine, r.extension, \
     r.ext_version, r.pg_version, r.pg_major, r.platform, r.status, r.failed_stage, r.tested, \
     r.n_tests, r.n_failed, r.created_at, r.received_at";

/// Rows per multi-row INSERT (well under SQLite's bound-parameter limit).
pub(crate) const INSERT_CHUNK: usize = 400;

/// Milliseconds per day, for `daily_counts.day`.
pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// Per stage name that ran (status `ok` or `failed`), in first-seen order: (runs, total ms, max
/// ms). A stage name appearing twice in a run counts once, with both durations summed, so one
/// run adds one to `n_runs` of each stage it ran.
pub(crate) fn stage_durations(stages: &[crate::db::StageRow]) -> Vec<(&str, (i64, i64, i64))> {
    let mut out: Vec<(&str, (i64, i64, i64))> = Vec::new();
    for stage in stages.iter().filter(|s| s.status == "ok" || s.status == "failed") {
        let duration = stage.duration_ms.max(0);
        match out.iter_mut().find(|(name, _)| *name == stage.name) {
            Some((_, (_, total, max))) => {
                *total += duration;
                *max = (*max).max(duration);
            }
            None => out.push((stage.name.as_str(), (1, duration, duration))),
        }
    }
    out
}

/// Rebuilds the daily tables of migration 0004 from `runs` and `run_stages` (the same statements
/// as its backfill), for bulk loads that bypass `insert_run`.
pub const REBUILD_DAILY_TABLES: [&str; 6] = [
    "DELETE FROM daily_extension_counts",
    "INSERT INTO daily_extension_counts (extension, day, pg_major, status, n_runs) \
     SELECT extension, received_at / 86400000, pg_major, status, COUNT(*) \
     FROM runs GROUP BY extension, received_at / 86400000, pg_major, status",
    "DELETE FROM daily_stage_durations",
    "INSERT INTO daily_stage_durations (extension, day, pg_major, stage, n_runs, total_ms, \
     max_ms) SELECT r.extension, r.received_at / 86400000, r.pg_major, s.name, COUNT(*), \
     CAST(SUM(s.duration_ms) AS BIGINT), MAX(s.duration_ms) \
     FROM run_stages s JOIN runs r ON r.id = s.run_id WHERE s.status IN ('ok', 'failed') \
     GROUP BY r.extension, r.received_at / 86400000, r.pg_major, s.name",
    "DELETE FROM daily_stage_totals",
    "INSERT INTO daily_stage_totals (day, pg_major, stage, n_runs, total_ms, max_ms) \
     SELECT day, pg_major, stage, CAST(SUM(n_runs) AS BIGINT), CAST(SUM(total_ms) AS BIGINT), \
     MAX(max_ms) FROM daily_stage_durations GROUP BY day, pg_major, stage",
];

/// The failures list: failed runs received at or after `filter.since`, newest first by
/// `(received_at, id)`, after the keyset cursor `after` = (received_at, id).
///
/// `status = 'failed'` is literal text (not a bound parameter) so that SQLite may use the
/// partial indexes of migration 0003 (`... WHERE status = 'failed'`); the order
/// `(received_at DESC, id DESC)` is the order of those indexes, so a page stops after `limit`
/// index entries instead of sorting every failure of the period.
pub(crate) fn failures_query<DB: sqlx::Database>(
    filter: &crate::db::RunFilter,
    after: Option<(i64, i64)>,
    limit: i64,
) -> sqlx::QueryBuilder<DB>
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut query = sqlx::QueryBuilder::<DB>::new(format!(
        "SELECT {RUN_COLUMNS} FROM runs r JOIN machines m ON m.id = r.machine_id \
         WHERE r.status = 'failed' AND r.received_at >= "
    ));
    query.push_bind(filter.since.unwrap_or(0));
    if let Some((received_at, id)) = after {
        query
            .push(" AND (r.received_at < ")
            .push_bind(received_at)
            .push(" OR (r.received_at = ")
            .push_bind(received_at)
            .push(" AND r.id < ")
            .push_bind(id)
            .push("))");
    }
    if let Some(extension) = &filter.extension {
        query.push(" AND r.extension = ").push_bind(extension.clone());
    }
    if let Some(version) = &filter.version {
        query.push(" AND r.ext_version = ").push_bind(version.clone());
    }
    if let Some(machine) = &filter.machine {
        query
            .push(" AND r.machine_id = (SELECT id FROM machines WHERE name = ")
            .push_bind(machine.clone())
            .push(")");
    }
    if let Some(pg_major) = filter.pg_major {
        query.push(" AND r.pg_major = ").push_bind(pg_major);
    }
    if let Some(stage) = &filter.stage {
        query.push(" AND r.failed_stage = ").push_bind(stage.clone());
    }
    if let Some(until) = filter.until {
        query.push(" AND r.received_at < ").push_bind(until);
    }
    if filter.hide_now_green {
        // A scalar subquery, not `NOT EXISTS`: PostgreSQL turns `NOT EXISTS` into an anti-join
        // over every failure of the period and sorts them (p50 259 ms at 1,000,000 runs); a
        // scalar subquery keeps the index walk in (received_at, id) order, probing the cell of
        // each failure until the page is full (as SQLite does either way).
        query.push(
            " AND COALESCE((SELECT l.status FROM latest l WHERE l.extension = r.extension \
             AND l.pg_major = r.pg_major AND l.platform = r.platform), '') <> 'ok'",
        );
    }
    query.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ").push_bind(limit);
    query
}

/// Implements `Store` for `$store`, whose `reader()` and `writer()` return `&sqlx::Pool<$db>`.
/// A known release with its run counts; callers add `WHERE` and `ORDER BY`.
pub(crate) const RELEASE_INFO: &str = "SELECT e.extension, e.version, e.release_status, \
     e.source, e.released_at, e.dist, e.abstract AS abstract_text, e.pgxn_user, e.pg_range, \
     e.pg_min, e.pg_max, CAST(COALESCE(c.n_runs, 0) AS BIGINT) AS n_runs, \
     CAST(COALESCE(c.n_failed, 0) AS BIGINT) AS n_failed FROM extension_releases e \
     LEFT JOIN (SELECT extension, ext_version, COUNT(*) AS n_runs, \
     SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS n_failed FROM runs \
     GROUP BY extension, ext_version) c ON c.extension = e.extension \
     AND c.ext_version = e.version";

/// PGXN users with their counts; callers add `WHERE`, `GROUP BY` and `ORDER BY`.
pub(crate) const USER_SUMMARY: &str = "SELECT u.nickname, u.name, u.uri, \
     CAST(COUNT(DISTINCT e.extension) AS BIGINT) AS n_dists, \
     CAST(COUNT(e.version) AS BIGINT) AS n_releases \
     FROM pgxn_users u LEFT JOIN extension_releases e ON e.pgxn_user = u.nickname";

macro_rules! impl_store {
    ($store:ty, $db:ty, $kind:literal, $for_update:literal) => {
        #[async_trait::async_trait]
        impl crate::db::Store for $store {
            fn kind(&self) -> &'static str {
                $kind
            }

            async fn ping(&self) -> crate::db::DbResult<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn setting(&self, key: &str) -> crate::db::DbResult<Option<String>> {
                let value: Option<(String,)> =
                    sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                        .bind(key)
                        .fetch_optional(self.reader())
                        .await?;
                Ok(value.map(|(value,)| value))
            }

            async fn set_setting(&self, key: &str, value: &str) -> crate::db::DbResult<()> {
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn insert_setting_if_absent(
                &self,
                key: &str,
                value: &str,
            ) -> crate::db::DbResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(value)
                .execute(self.writer())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn register_machine(
                &self,
                machine: &crate::db::NewMachine,
            ) -> crate::db::DbResult<crate::db::MachineRow> {
                let sql = format!(
                    "INSERT INTO machines (name, owner_email, description, os, arch, compiler, \
                     state, secret_generation, client_addr, created_at, state_changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $8) RETURNING {}",
                    crate::db::sql::MACHINE_COLUMNS
                );
                sqlx::query_as::<_, crate::db::MachineRow>(sqlx::AssertSqlSafe(sql))
                    .bind(&machine.name)
                    .bind(&machine.owner_email)
                    .bind(&machine.description)
                    .bind(&machine.os)
                    .bind(&machine.arch)
                    .bind(&machine.compiler)
                    .bind(&machine.client_addr)
                    .bind(machine.created_at)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|err| {
                        crate::db::DbError::from_sqlx(
                            err,
                            &format!("a machine named `{}` exists already", machine.name),
                        )
                    })
            }

            async fn machine(
                &self,
                name: &str,
            ) -> crate::db::DbResult<Option<crate::db::MachineRow>> {
                let sql = format!(
                    "SELECT {} FROM machines WHERE name = $1",
                    crate::db::sql::MACHINE_COLUMNS
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(name).fetch_optional(self.reader()).await?)
            }

            async fn machines(&self) -> crate::db::DbResult<Vec<crate::db::MachineRow>> {
                let sql = format!(
                    "SELECT {} FROM machines ORDER BY name",
                    crate::db::sql::MACHINE_COLUMNS
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?)
            }

            async fn set_machine_state(
                &self,
                name: &str,
                state: &str,
                new_secret: bool,
                now: i64,
            ) -> crate::db::DbResult<Option<crate::db::MachineRow>> {
                let sql = format!(
                    "UPDATE machines SET state = $1, state_changed_at = $2, \
                     secret_generation = secret_generation + $3 WHERE name = $4 RETURNING {}",
                    crate::db::sql::MACHINE_COLUMNS
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(state)
                    .bind(now)
                    .bind(i64::from(new_secret))
                    .bind(name)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn insert_run(&self, run: &crate::db::NewRun) -> crate::db::DbResult<i64> {
                use crate::db::sql::{INSERT_CHUNK, MS_PER_DAY};
                let conflict = format!("a run with uuid {} exists already", run.uuid);
                let mut conn = self.writer().acquire().await?;
                let result: crate::db::DbResult<i64> = async {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let (run_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO runs (uuid, machine_id, extension, ext_version, pg_version, \
                     pg_major, platform, status, failed_stage, tested, n_tests, n_failed, \
                     created_at, received_at, bundle_size) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     RETURNING id",
                )
                .bind(&run.uuid)
                .bind(run.machine_id)
                .bind(&run.extension)
                .bind(&run.ext_version)
                .bind(&run.pg_version)
                .bind(run.pg_major)
                .bind(&run.platform)
                .bind(&run.status)
                .bind(&run.failed_stage)
                .bind(i64::from(run.tested))
                .bind(run.n_tests)
                .bind(run.n_failed)
                .bind(run.created_at)
                .bind(run.received_at)
                .bind(run.bundle.len() as i64)
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| crate::db::DbError::from_sqlx(err, &conflict))?;

                for (chunk_idx, chunk) in run.stages.chunks(INSERT_CHUNK).enumerate() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO run_stages (run_id, position, name, status, duration_ms) ",
                    );
                    insert.push_values(chunk.iter().enumerate(), |mut row, (idx, stage)| {
                        row.push_bind(run_id)
                            .push_bind((chunk_idx * INSERT_CHUNK + idx) as i64)
                            .push_bind(&stage.name)
                            .push_bind(&stage.status)
                            .push_bind(stage.duration_ms);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in run.tests.chunks(INSERT_CHUNK) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO test_results (run_id, extension, test_name, stage, status, \
                         duration_ms) ",
                    );
                    insert.push_values(chunk, |mut row, test| {
                        row.push_bind(run_id)
                            .push_bind(&run.extension)
                            .push_bind(&test.test_name)
                            .push_bind(&test.stage)
                            .push_bind(&test.status)
                            .push_bind(test.duration_ms);
                    });
                    insert.push(" ON CONFLICT DO NOTHING");
                    insert.build().execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO run_bundles (run_id, body) VALUES ($1, $2)")
                    .bind(run_id)
                    .bind(&run.bundle)
                    .execute(&mut *tx)
                    .await?;

                // The matrix cell: insert it, or else lock it and move it forward if this run
                // is at least as recent, recording a status change for the feed.
                let inserted = sqlx::query(
                    "INSERT INTO latest (extension, pg_major, platform, run_id, ext_version, \
                     status, failed_stage, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (extension, pg_major, platform) DO NOTHING",
                )
                .bind(&run.extension)
                .bind(run.pg_major)
                .bind(&run.platform)
                .bind(run_id)
                .bind(&run.ext_version)
                .bind(&run.status)
                .bind(&run.failed_stage)
                .bind(run.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !inserted {
                    let (old_status, old_created_at): (String, i64) = sqlx::query_as(concat!(
                        "SELECT status, created_at FROM latest \
                         WHERE extension = $1 AND pg_major = $2 AND platform = $3",
                        $for_update
                    ))
                    .bind(&run.extension)
                    .bind(run.pg_major)
                    .bind(&run.platform)
                    .fetch_one(&mut *tx)
                    .await?;
                    if run.created_at >= old_created_at {
                        sqlx::query(
                            "UPDATE latest SET run_id = $4, ext_version = $5, status = $6, \
                             failed_stage = $7, created_at = $8 \
                             WHERE extension = $1 AND pg_major = $2 AND platform = $3",
                        )
                        .bind(&run.extension)
                        .bind(run.pg_major)
                        .bind(&run.platform)
                        .bind(run_id)
                        .bind(&run.ext_version)
                        .bind(&run.status)
                        .bind(&run.failed_stage)
                        .bind(run.created_at)
                        .execute(&mut *tx)
                        .await?;
                        let green_red = |status: &str| status == "ok" || status == "failed";
                        if old_status != run.status && green_red(&old_status) && green_red(&run.status)
                        {
                            sqlx::query(
                                "INSERT INTO status_changes (extension, pg_major, platform, \
                                 run_id, from_status, to_status, at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(&run.extension)
                            .bind(run.pg_major)
                            .bind(&run.platform)
                            .bind(run_id)
                            .bind(&old_status)
                            .bind(&run.status)
                            .bind(run.received_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                sqlx::query(
                    "INSERT INTO daily_counts (day, pg_major, status, n_runs) \
                     VALUES ($1, $2, $3, 1) ON CONFLICT (day, pg_major, status) \
                     DO UPDATE SET n_runs = daily_counts.n_runs + 1",
                )
                .bind(run.received_at.div_euclid(MS_PER_DAY))
                .bind(run.pg_major)
                .bind(&run.status)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO daily_extension_counts (extension, day, pg_major, status, \
                     n_runs) VALUES ($1, $2, $3, $4, 1) \
                     ON CONFLICT (extension, day, pg_major, status) \
                     DO UPDATE SET n_runs = daily_extension_counts.n_runs + 1",
                )
                .bind(&run.extension)
                .bind(run.received_at.div_euclid(MS_PER_DAY))
                .bind(run.pg_major)
                .bind(&run.status)
                .execute(&mut *tx)
                .await?;
                for (stage, (n_runs, total_ms, max_ms)) in crate::db::sql::stage_durations(&run.stages) {
                    sqlx::query(
                        "INSERT INTO daily_stage_durations (extension, day, pg_major, stage, \
                         n_runs, total_ms, max_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (extension, day, pg_major, stage) DO UPDATE SET \
                         n_runs = daily_stage_durations.n_runs + excluded.n_runs, \
                         total_ms = daily_stage_durations.total_ms + excluded.total_ms, \
                         max_ms = CASE WHEN excluded.max_ms > daily_stage_durations.max_ms \
                         THEN excluded.max_ms ELSE daily_stage_durations.max_ms END",
                    )
                    .bind(&run.extension)
                    .bind(run.received_at.div_euclid(MS_PER_DAY))
                    .bind(run.pg_major)
                    .bind(stage)
                    .bind(n_runs)
                    .bind(total_ms)
                    .bind(max_ms)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO daily_stage_totals (day, pg_major, stage, n_runs, total_ms, \
                         max_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (day, pg_major, stage) DO UPDATE SET \
                         n_runs = daily_stage_totals.n_runs + excluded.n_runs, \
                         total_ms = daily_stage_totals.total_ms + excluded.total_ms, \
                         max_ms = CASE WHEN excluded.max_ms > daily_stage_totals.max_ms \
                         THEN excluded.max_ms ELSE daily_stage_totals.max_ms END",
                    )
                    .bind(run.received_at.div_euclid(MS_PER_DAY))
                    .bind(run.pg_major)
                    .bind(stage)
                    .bind(n_runs)
                    .bind(total_ms)
                    .bind(max_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO extension_releases (extension, version, pg_min, pg_max, source, \
                     released_at) VALUES ($1, $2, $3, NULL, 'learned', $4) \
                     ON CONFLICT (extension, version) DO NOTHING",
                )
                .bind(&run.extension)
                .bind(&run.ext_version)
                .bind(run.pg_min)
                .bind(run.received_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE machines SET last_seen_at = $1 WHERE id = $2")
                    .bind(run.received_at)
                    .bind(run.machine_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(run_id)
                }
                .await;
                // A connection whose transaction failed (disk full, I/O error) may be left in a
                // state its driver misjudges: SQLite rolls a transaction back by itself on
                // SQLITE_FULL, the driver's ROLLBACK then fails and it keeps counting an open
                // transaction, so the next "transaction" became a savepoint that was never
                // committed, while its request was answered 201 (found by tests/faults.rs).
                // Such a connection is closed, never reused.
                if let Err(err) = &result
                    && !matches!(err, crate::db::DbError::Conflict(_))
                {
                    conn.close_on_drop();
                }
                result
            }

            async fn runs(
                &self,
                filter: &crate::db::RunFilter,
                before: Option<i64>,
                limit: i64,
            ) -> crate::db::DbResult<Vec<crate::db::RunRow>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM runs r JOIN machines m ON m.id = r.machine_id WHERE 1 = 1",
                    crate::db::sql::RUN_COLUMNS
                ));
                if let Some(before) = before {
                    query.push(" AND r.id < ").push_bind(before);
                }
                if let Some(extension) = &filter.extension {
                    query.push(" AND r.extension = ").push_bind(extension.clone());
                }
                if let Some(version) = &filter.version {
                    query.push(" AND r.ext_version = ").push_bind(version.clone());
                }
                if let Some(machine) = &filter.machine {
                    query
                        .push(" AND r.machine_id = (SELECT id FROM machines WHERE name = ")
                        .push_bind(machine.clone())
                        .push(")");
                }
                if let Some(pg_major) = filter.pg_major {
                    query.push(" AND r.pg_major = ").push_bind(pg_major);
                }
                if let Some(stage) = &filter.stage {
                    query.push(" AND r.failed_stage = ").push_bind(stage.clone());
                }
                if let Some(status) = &filter.status {
                    query.push(" AND r.status = ").push_bind(status.clone());
                }
                if let Some(since) = filter.since {
                    query.push(" AND r.received_at >= ").push_bind(since);
                }
                if let Some(until) = filter.until {
                    query.push(" AND r.received_at < ").push_bind(until);
                }
                if filter.hide_now_green {
                    query.push(
                        " AND NOT EXISTS (SELECT 1 FROM latest l WHERE l.extension = r.extension \
                         AND l.pg_major = r.pg_major AND l.platform = r.platform \
                         AND l.status = 'ok')",
                    );
                }
                query.push(" ORDER BY r.id DESC LIMIT ").push_bind(limit);
                Ok(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn failures(
                &self,
                filter: &crate::db::RunFilter,
                after: Option<(i64, i64)>,
                limit: i64,
            ) -> crate::db::DbResult<Vec<crate::db::RunRow>> {
                let mut query = crate::db::sql::failures_query::<$db>(filter, after, limit);
                Ok(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn run(&self, uuid: &str) -> crate::db::DbResult<Option<crate::db::RunRow>> {
                let sql = format!(
                    "SELECT {} FROM runs r JOIN machines m ON m.id = r.machine_id \
                     WHERE r.uuid = $1",
                    crate::db::sql::RUN_COLUMNS
                );
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(uuid).fetch_optional(self.reader()).await?)
            }

            async fn run_parts(
                &self,
                run_id: i64,
            ) -> crate::db::DbResult<(Vec<crate::db::StageRow>, Vec<crate::db::TestRow>)> {
                let stages = sqlx::query_as(
                    "SELECT name, status, duration_ms FROM run_stages WHERE run_id = $1 \
                     ORDER BY position",
                )
                .bind(run_id)
                .fetch_all(self.reader())
                .await?;
                let tests = sqlx::query_as(
                    "SELECT stage, test_name, status, duration_ms FROM test_results \
                     WHERE run_id = $1 ORDER BY stage, test_name",
                )
                .bind(run_id)
                .fetch_all(self.reader())
                .await?;
                Ok((stages, tests))
            }

            async fn run_bundle(&self, uuid: &str) -> crate::db::DbResult<Option<Vec<u8>>> {
                let body: Option<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT b.body FROM run_bundles b JOIN runs r ON r.id = b.run_id \
                     WHERE r.uuid = $1",
                )
                .bind(uuid)
                .fetch_optional(self.reader())
                .await?;
                Ok(body.map(|(body,)| body))
            }

            async fn matrix(
                &self,
                extension: Option<&str>,
            ) -> crate::db::DbResult<Vec<crate::db::LatestRow>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT l.extension, l.pg_major, l.platform, l.ext_version, l.status, \
                     l.failed_stage, l.created_at, r.tested, r.n_tests, r.uuid AS run_uuid, \
                     e.release_status FROM latest l JOIN runs r ON r.id = l.run_id \
                     LEFT JOIN extension_releases e ON e.extension = l.extension \
                     AND e.version = l.ext_version",
                );
                if let Some(extension) = extension {
                    query.push(" WHERE l.extension = ").push_bind(extension.to_owned());
                }
                query.push(" ORDER BY l.extension, l.pg_major, l.platform");
                Ok(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn test_history(
                &self,
                extension: &str,
                test: &str,
                limit: i64,
            ) -> crate::db::DbResult<Vec<crate::db::HistoryRow>> {
                Ok(sqlx::query_as(
                    "SELECT r.uuid AS run_uuid, m.name AS machine, r.ext_version, r.pg_version, \
                     r.pg_major, t.status, r.created_at \
                     FROM test_results t JOIN runs r ON r.id = t.run_id \
                     JOIN machines m ON m.id = r.machine_id \
                     WHERE t.extension = $1 AND t.test_name = $2 \
                     ORDER BY t.run_id DESC LIMIT $3",
                )
                .bind(extension)
                .bind(test)
                .bind(limit)
                .fetch_all(self.reader())
                .await?)
            }

            async fn trends(
                &self,
                since_day: i64,
                extension: Option<&str>,
            ) -> crate::db::DbResult<Vec<crate::db::DailyRow>> {
                Ok(match extension {
                    None => sqlx::query_as(
                        "SELECT day, pg_major, status, n_runs FROM daily_counts WHERE day >= $1 \
                         ORDER BY day, pg_major, status",
                    )
                    .bind(since_day)
                    .fetch_all(self.reader())
                    .await?,
                    Some(extension) => sqlx::query_as(
                        "SELECT day, pg_major, status, n_runs FROM daily_extension_counts \
                         WHERE extension = $1 AND day >= $2 ORDER BY day, pg_major, status",
                    )
                    .bind(extension)
                    .bind(since_day)
                    .fetch_all(self.reader())
                    .await?,
                })
            }

            async fn stage_trends(
                &self,
                since_day: i64,
                extension: Option<&str>,
            ) -> crate::db::DbResult<Vec<crate::db::StageDailyRow>> {
                // Two statements, not `($2 IS NULL OR extension = $2)`: an OR on a parameter
                // keeps SQLite from using the primary key (365 days of one extension: 109 ms
                // instead of about 5 ms at 1M runs).
                const COLUMNS: &str = "day, pg_major, stage, n_runs, total_ms, max_ms";
                Ok(match extension {
                    None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {COLUMNS} FROM daily_stage_totals WHERE day >= $1 \
                         ORDER BY day, pg_major, stage"
                    )))
                    .bind(since_day)
                    .fetch_all(self.reader())
                    .await?,
                    Some(extension) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {COLUMNS} FROM daily_stage_durations \
                         WHERE extension = $1 AND day >= $2 ORDER BY day, pg_major, stage"
                    )))
                    .bind(extension)
                    .bind(since_day)
                    .fetch_all(self.reader())
                    .await?,
                })
            }

            async fn machine_grid(
                &self,
                extension: &str,
                version: Option<&str>,
            ) -> crate::db::DbResult<Vec<crate::db::RunRow>> {
                // The latest run per (machine, major): MAX(id) per group from an index that
                // holds the filter's columns (runs_extension_machine_pg for the extension,
                // runs_ext_version_machine for one version), never an OR on a parameter.
                let latest = match version {
                    None => "SELECT MAX(id) FROM runs WHERE extension = $1 \
                             GROUP BY machine_id, pg_major",
                    Some(_) => "SELECT MAX(id) FROM runs WHERE extension = $1 \
                                AND ext_version = $2 GROUP BY machine_id, pg_major",
                };
                let query = format!(
                    "SELECT {} FROM runs r JOIN machines m ON m.id = r.machine_id \
                     WHERE r.id IN ({latest}) ORDER BY m.name, r.pg_major",
                    crate::db::sql::RUN_COLUMNS
                );
                let query = sqlx::query_as(sqlx::AssertSqlSafe(query)).bind(extension);
                let query = match version {
                    Some(version) => query.bind(version),
                    None => query,
                };
                Ok(query.fetch_all(self.reader()).await?)
            }

            async fn stats(&self) -> crate::db::DbResult<crate::db::StatsRow> {
                let (n_runs, n_machines, n_extensions, n_test_results, n_failing_cells): (
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                ) = sqlx::query_as(
                    "SELECT \
                     CAST((SELECT COUNT(*) FROM runs) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM machines) AS BIGINT), \
                     CAST((SELECT COUNT(DISTINCT extension) FROM latest) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM test_results) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM latest WHERE status = 'failed') AS BIGINT)",
                )
                .fetch_one(self.reader())
                .await?;
                Ok(crate::db::StatsRow {
                    n_runs,
                    n_machines,
                    n_extensions,
                    n_test_results,
                    n_failing_cells,
                })
            }

            async fn extensions(&self) -> crate::db::DbResult<Vec<crate::db::ExtensionRow>> {
                Ok(sqlx::query_as(
                    "SELECT extension AS name, CAST(COUNT(*) AS BIGINT) AS n_cells, \
                     CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) \
                     AS n_failing FROM latest GROUP BY extension ORDER BY extension",
                )
                .fetch_all(self.reader())
                .await?)
            }

            async fn extension_versions(
                &self,
                extension: &str,
            ) -> crate::db::DbResult<Vec<crate::db::VersionRow>> {
                Ok(sqlx::query_as(
                    "SELECT ext_version AS version, CAST(COUNT(*) AS BIGINT) AS n_runs, \
                     CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) \
                     AS n_failed FROM runs WHERE extension = $1 GROUP BY ext_version \
                     ORDER BY ext_version",
                )
                .bind(extension)
                .fetch_all(self.reader())
                .await?)
            }

            async fn status_changes(
                &self,
                extension: Option<&str>,
                limit: i64,
            ) -> crate::db::DbResult<Vec<crate::db::ChangeRow>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT c.id, c.extension, c.pg_major, c.platform, r.uuid AS run_uuid, \
                     c.from_status, c.to_status, r.failed_stage, r.tested, c.at \
                     FROM status_changes c JOIN runs r ON r.id = c.run_id",
                );
                if let Some(extension) = extension {
                    query.push(" WHERE c.extension = ").push_bind(extension.to_owned());
                }
                query.push(" ORDER BY c.id DESC LIMIT ").push_bind(limit);
                Ok(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn add_release(
                &self,
                release: &crate::db::ReleaseRow,
                source: &str,
                now: i64,
            ) -> crate::db::DbResult<()> {
                sqlx::query(
                    "INSERT INTO extension_releases (extension, version, pg_min, pg_max, source, \
                     released_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (extension, version) DO UPDATE SET pg_min = excluded.pg_min, \
                     pg_max = excluded.pg_max, source = excluded.source",
                )
                .bind(&release.extension)
                .bind(&release.version)
                .bind(release.pg_min)
                .bind(release.pg_max)
                .bind(source)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn queue(
                &self,
                machine_id: i64,
                pg_major: i64,
                statuses: &[&str],
                limit: i64,
            ) -> crate::db::DbResult<Vec<crate::db::QueueRow>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT e.extension, e.version, e.release_status, e.dist, e.download_url, \
                     e.sha1, e.mirror FROM extension_releases e \
                     WHERE (e.pg_min IS NULL OR e.pg_min <= ",
                );
                query.push_bind(pg_major);
                query.push(") AND (e.pg_max IS NULL OR e.pg_max >= ").push_bind(pg_major);
                query.push(") AND e.release_status IN (");
                let mut list = query.separated(", ");
                for status in statuses {
                    list.push_bind(status.to_string());
                }
                query.push(
                    ") AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.extension = e.extension \
                     AND r.ext_version = e.version AND r.pg_major = ",
                );
                query.push_bind(pg_major).push(" AND r.machine_id = ").push_bind(machine_id);
                query.push(") ORDER BY e.released_at DESC, e.extension, e.version LIMIT ");
                query.push_bind(limit);
                Ok(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn releases_of(
                &self,
                extension: &str,
            ) -> crate::db::DbResult<Vec<crate::db::ReleaseInfoRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE e.extension = $1 ORDER BY e.released_at DESC, e.version DESC",
                    crate::db::sql::RELEASE_INFO
                )))
                .bind(extension)
                .fetch_all(self.reader())
                .await?)
            }

            async fn pgxn_fingerprint(
                &self,
                mirror: &str,
            ) -> crate::db::DbResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT recent_fingerprint FROM pgxn_mirrors WHERE url = $1",
                )
                .bind(mirror)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(|(fingerprint,)| fingerprint))
            }

            async fn pgxn_dist_hashes(
                &self,
                mirror: &str,
            ) -> crate::db::DbResult<Vec<(String, String)>> {
                Ok(sqlx::query_as("SELECT dist, doc_hash FROM pgxn_dists WHERE mirror = $1")
                    .bind(mirror)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn pgxn_releases(&self) -> crate::db::DbResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT LOWER(dist), version FROM extension_releases WHERE dist IS NOT NULL",
                )
                .fetch_all(self.reader())
                .await?)
            }

            async fn pgxn_user_rows(&self) -> crate::db::DbResult<Vec<crate::db::PgxnUserRow>> {
                Ok(sqlx::query_as("SELECT nickname, name, uri FROM pgxn_users")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn pgxn_apply(&self, batch: &crate::db::PgxnBatch) -> crate::db::DbResult<()> {
                let mut tx = self.writer().begin().await?;
                for release in &batch.releases {
                    sqlx::query(
                        "INSERT INTO extension_releases (extension, version, pg_min, pg_max, \
                         source, released_at, release_status, dist, abstract, pgxn_user, \
                         pg_range, prereqs, download_url, sha1, mirror) VALUES ($1, $2, $3, $4, \
                         'pgxn', $5, $6, $1, $7, $8, $9, $10, $11, $12, $13) \
                         ON CONFLICT (extension, version) DO UPDATE SET \
                         pg_min = excluded.pg_min, pg_max = excluded.pg_max, source = 'pgxn', \
                         released_at = excluded.released_at, \
                         release_status = excluded.release_status, dist = excluded.dist, \
                         abstract = excluded.abstract, pgxn_user = excluded.pgxn_user, \
                         pg_range = excluded.pg_range, prereqs = excluded.prereqs, \
                         download_url = excluded.download_url, sha1 = excluded.sha1, \
                         mirror = excluded.mirror",
                    )
                    .bind(&release.dist)
                    .bind(&release.version)
                    .bind(release.pg_min)
                    .bind(release.pg_max)
                    .bind(release.released_at)
                    .bind(&release.release_status)
                    .bind(&release.abstract_text)
                    .bind(&release.user)
                    .bind(&release.pg_range)
                    .bind(&release.prereqs)
                    .bind(&release.download_url)
                    .bind(&release.sha1)
                    .bind(&batch.mirror)
                    .execute(&mut *tx)
                    .await?;
                }
                for user in &batch.users {
                    sqlx::query(
                        "INSERT INTO pgxn_users (nickname, name, uri, mirror, synced_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (nickname) DO UPDATE SET \
                         name = excluded.name, uri = excluded.uri, mirror = excluded.mirror, \
                         synced_at = excluded.synced_at",
                    )
                    .bind(&user.nickname)
                    .bind(&user.name)
                    .bind(&user.uri)
                    .bind(&batch.mirror)
                    .bind(batch.now)
                    .execute(&mut *tx)
                    .await?;
                }
                for (dist, name, hash) in &batch.dists {
                    sqlx::query(
                        "INSERT INTO pgxn_dists (mirror, dist, name, doc_hash) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (mirror, dist) DO UPDATE SET \
                         name = excluded.name, doc_hash = excluded.doc_hash",
                    )
                    .bind(&batch.mirror)
                    .bind(dist)
                    .bind(name)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO pgxn_mirrors (url, recent_fingerprint, synced_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (url) DO UPDATE SET \
                     recent_fingerprint = excluded.recent_fingerprint, \
                     synced_at = excluded.synced_at",
                )
                .bind(&batch.mirror)
                .bind(&batch.recent_fingerprint)
                .bind(batch.now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn pgxn_users(&self) -> crate::db::DbResult<Vec<crate::db::UserSummaryRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} GROUP BY u.nickname, u.name, u.uri ORDER BY u.nickname",
                    crate::db::sql::USER_SUMMARY
                )))
                .fetch_all(self.reader())
                .await?)
            }

            async fn pgxn_user(
                &self,
                nickname: &str,
            ) -> crate::db::DbResult<Option<crate::db::UserSummaryRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE u.nickname = $1 GROUP BY u.nickname, u.name, u.uri",
                    crate::db::sql::USER_SUMMARY
                )))
                .bind(nickname)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn pgxn_user_releases(
                &self,
                nickname: &str,
            ) -> crate::db::DbResult<Vec<crate::db::ReleaseInfoRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE e.pgxn_user = $1 \
                     ORDER BY e.extension, e.released_at DESC, e.version DESC",
                    crate::db::sql::RELEASE_INFO
                )))
                .bind(nickname)
                .fetch_all(self.reader())
                .await?)
            }
        }
    };
}

pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::StageRow;

    fn stage(name: &str, status: &str, duration_ms: i64) -> StageRow {
        StageRow { name: name.into(), status: status.into(), duration_ms }
    }

    #[test]
    fn stage_durations_count_the_stages_that_ran_once_per_run() {
        let stages = [
            stage("build", "ok", 900),
            stage("regress", "failed", 2_000),
            stage("tap", "missing", 5),
            stage("upgrade", "skipped", 0),
            stage("regress", "ok", 500),
            stage("load", "ok", -3),
        ];
        assert_eq!(
            stage_durations(&stages),
            [("build", (1, 900, 900)), ("regress", (1, 2_500, 2_000)), ("load", (1, 0, 0))]
        );
        assert!(stage_durations(&[]).is_empty());
    }
}
