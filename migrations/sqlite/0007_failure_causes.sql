-- Failure causes (crate pgfarm-causes, chosen by pgfarm-verdict's rule `run-cause`): every
-- `failed` or `error` run stores its cause's wire name (`unknown` when no log shows one) and
-- the log line it was read from; `ok` and `interrupted` runs store none. Counted per day at
-- ingest like daily_counts (migration 0004), for /api/v1/stats and /api/v1/trends/causes.
-- Keep in lockstep with ../postgres/0007_failure_causes.sql.
--
-- Runs stored before this migration keep `cause` NULL here: the cause is read from the stored
-- bundle's logs, which SQL cannot classify. pgfarm-server computes them when it starts
-- (server/src/causes.rs, `backfill`), through the partial index runs_cause_pending.

ALTER TABLE runs ADD COLUMN cause TEXT;
ALTER TABLE runs ADD COLUMN cause_line TEXT;

CREATE TABLE daily_cause_counts (
    day       INTEGER NOT NULL,
    pg_major  INTEGER NOT NULL,
    cause     TEXT NOT NULL,
    n_runs    INTEGER NOT NULL,
    PRIMARY KEY (day, pg_major, cause)
);

CREATE TABLE daily_extension_cause_counts (
    extension TEXT NOT NULL,
    day       INTEGER NOT NULL,
    pg_major  INTEGER NOT NULL,
    cause     TEXT NOT NULL,
    n_runs    INTEGER NOT NULL,
    PRIMARY KEY (extension, day, pg_major, cause)
);

-- The failures list filtered by cause, in the order of the other failures indexes (0003).
CREATE INDEX runs_failures_cause ON runs (cause, received_at, id) WHERE status = 'failed';
-- The runs whose cause is still to be computed (those stored before this migration).
CREATE INDEX runs_cause_pending ON runs (id)
    WHERE cause IS NULL AND status IN ('failed', 'error');
