//! The failure causes of runs stored before migration 0007, computed when the server starts.
//!
//! A cause is read from a run's logs (pgfarm-verdict's rule `run-cause`), which SQL cannot
//! classify, so migration 0007 leaves `runs.cause` NULL on the `failed` and `error` runs it finds
//! and [`backfill`] fills them from their stored bundles, in batches, before the server answers
//! (`prepare`). It is a one-time cost after the upgrade: a new run gets its cause at ingest.
//! Several servers on one PostgreSQL database may start together: a run's cause is set (and
//! counted in the daily tables) only while it is still NULL, so no run is counted twice.

use pgfarm_model::{Bundle, ReadOptions, RunStatus};

use crate::db::{DbResult, RunCauseRow, Store};
use crate::verdict;

/// Runs read per batch.
const BATCH: i64 = 200;

/// The cause of a stored run, from its bundle and its stored status (the status stays the
/// stored one, so every run the backfill reads gets a cause). A bundle that no longer decodes
/// (it decoded at ingest) has cause `unknown`.
pub fn stored_run_cause(
    body: &[u8],
    stored_status: &str,
    max_decompressed_bytes: u64,
) -> RunCauseRow {
    let options = ReadOptions { max_decompressed_bytes, validate: false };
    let unknown = RunCauseRow { cause: verdict::Cause::Unknown.wire_name().to_owned(), line: None };
    let Ok(bundle) = Bundle::from_slice_with(body, &options) else {
        return unknown;
    };
    let mut run = verdict::derive(&bundle).run;
    run.status = stored_status.parse().unwrap_or(RunStatus::Error);
    verdict::cause(&bundle, &run).map_or(unknown, |cause| RunCauseRow::of(&cause))
}

/// Computes and stores the cause of every `failed` or `error` run that has none; returns how
/// many it set.
pub async fn backfill(store: &dyn Store, max_decompressed_bytes: u64) -> DbResult<u64> {
    let mut after = 0;
    let mut n_set = 0;
    loop {
        let pending = store.runs_without_cause(after, BATCH).await?;
        let Some(last) = pending.last() else { break };
        after = last.id;
        if n_set == 0 {
            tracing::info!("computing the failure causes of runs stored before migration 0007");
        }
        let causes = tokio::task::spawn_blocking(move || {
            pending
                .into_iter()
                .map(|run| {
                    (run.id, stored_run_cause(&run.body, &run.status, max_decompressed_bytes))
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|err| crate::db::DbError::Other(format!("cause backfill task: {err}")))?;
        for (id, cause) in causes {
            if store.set_cause(id, &cause).await? {
                n_set += 1;
            }
        }
    }
    if n_set > 0 {
        tracing::info!(runs = n_set, "failure causes computed");
    }
    Ok(n_set)
}

#[cfg(test)]
mod tests {
    use crate::db::{MAX_CAUSE_LINE, RunCauseRow};
    use crate::verdict::{Cause, CauseLine, LogSource, RunCause};

    #[test]
    fn a_long_cause_line_is_cut_at_a_character_boundary() {
        let text = format!("ERROR:  out of memory {}", "é".repeat(5000));
        let cause = RunCause {
            cause: Cause::OutOfMemory,
            line: Some(CauseLine { source: LogSource::ServerLog, number: 1, text }),
        };
        let row = RunCauseRow::of(&cause);
        let line = row.line.unwrap();
        assert!(line.len() <= MAX_CAUSE_LINE && line.len() >= MAX_CAUSE_LINE - 1, "{}", line.len());
        assert!(line.starts_with("ERROR:  out of memory é"));
        assert_eq!(row.cause, "out_of_memory");
        let unknown = RunCauseRow::of(&RunCause { cause: Cause::Unknown, line: None });
        assert_eq!((unknown.cause.as_str(), unknown.line), ("unknown", None));
    }
}
