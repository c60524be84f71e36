-- Trends per extension and stage durations per day (per extension and in total), maintained at
-- ingest like daily_counts
-- (the trends endpoints read these small tables instead of scanning runs), and the machine grid
-- of an extension (`/api/v1/extensions/{extension}/machines`): the latest run per machine and
-- PostgreSQL major. Keep in lockstep with ../postgres/0004_trends_by_extension_and_stage.sql.

CREATE TABLE daily_extension_counts (
    extension TEXT NOT NULL,
    day       INTEGER NOT NULL,
    pg_major  INTEGER NOT NULL,
    status    TEXT NOT NULL,
    n_runs    INTEGER NOT NULL,
    PRIMARY KEY (extension, day, pg_major, status)
);

-- Stages that ran (status ok or failed; skipped and "no tests" stages have no meaningful time).
CREATE TABLE daily_stage_durations (
    extension TEXT NOT NULL,
    day       INTEGER NOT NULL,
    pg_major  INTEGER NOT NULL,
    stage     TEXT NOT NULL,
    n_runs    INTEGER NOT NULL,
    total_ms  INTEGER NOT NULL,
    max_ms    INTEGER NOT NULL,
    PRIMARY KEY (extension, day, pg_major, stage)
);
-- The same summed over every extension (what the trends page shows unfiltered): a year of it
-- is a few thousand rows, where summing the per-extension table would read a million.
CREATE TABLE daily_stage_totals (
    day       INTEGER NOT NULL,
    pg_major  INTEGER NOT NULL,
    stage     TEXT NOT NULL,
    n_runs    INTEGER NOT NULL,
    total_ms  INTEGER NOT NULL,
    max_ms    INTEGER NOT NULL,
    PRIMARY KEY (day, pg_major, stage)
);

-- Backfill from what is stored (86400000 ms per day, as daily_counts).
INSERT INTO daily_extension_counts (extension, day, pg_major, status, n_runs)
SELECT extension, received_at / 86400000, pg_major, status, COUNT(*)
FROM runs GROUP BY extension, received_at / 86400000, pg_major, status;

INSERT INTO daily_stage_durations (extension, day, pg_major, stage, n_runs, total_ms, max_ms)
SELECT r.extension, r.received_at / 86400000, r.pg_major, s.name, COUNT(*), SUM(s.duration_ms),
       MAX(s.duration_ms)
FROM run_stages s JOIN runs r ON r.id = s.run_id
WHERE s.status IN ('ok', 'failed')
GROUP BY r.extension, r.received_at / 86400000, r.pg_major, s.name;

INSERT INTO daily_stage_totals (day, pg_major, stage, n_runs, total_ms, max_ms)
SELECT day, pg_major, stage, SUM(n_runs), SUM(total_ms), MAX(max_ms)
FROM daily_stage_durations GROUP BY day, pg_major, stage;

-- Latest run per (machine, PostgreSQL major) of an extension: MAX(id) per group from the index.
CREATE INDEX runs_extension_machine_pg ON runs (extension, machine_id, pg_major, id);
