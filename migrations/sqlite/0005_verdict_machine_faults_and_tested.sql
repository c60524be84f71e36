-- One status vocabulary (crate pgfarm-verdict): the meaning of two stored values changes.
-- Keep in lockstep with ../postgres/0005_verdict_machine_faults_and_tested.sql.
--
-- 1. A run whose build, install or cluster stage failed, or one of whose tests timed out, is
--    `error` (the machine failed; the run says nothing about the extension), as the runner and
--    docs/bundle-format.md always said; the server stored `failed` ("failed at cluster").
--    (A test killed by a server crash is `error` too, but only version 2 bundles say so, in
--    `reason`; no stored run predates that and has one.)
-- 2. `runs.tested`: a test stage (regress, isolation, tap, perl_tap, installcheck) ran, ok or
--    failed. An `ok` run that tested nothing is "missing tests" on the matrix, badges and feed.

ALTER TABLE runs ADD COLUMN tested INTEGER NOT NULL DEFAULT 1;

UPDATE runs SET tested = CASE WHEN EXISTS (
    SELECT 1 FROM run_stages s WHERE s.run_id = runs.id
      AND s.name IN ('regress', 'isolation', 'tap', 'perl_tap', 'installcheck')
      AND s.status IN ('ok', 'failed')) THEN 1 ELSE 0 END;

UPDATE runs SET status = 'error'
WHERE status = 'failed' AND (failed_stage IN ('build', 'install', 'cluster')
    OR EXISTS (SELECT 1 FROM test_results t WHERE t.run_id = runs.id AND t.status = 'timeout'));

UPDATE latest SET status = 'error'
WHERE status = 'failed' AND EXISTS (SELECT 1 FROM runs r WHERE r.id = latest.run_id AND r.status = 'error');

-- The feed lists changes between ok and failed only: a change to or from a run that is now
-- `error` would not have been recorded.
DELETE FROM status_changes WHERE EXISTS (
    SELECT 1 FROM runs r WHERE r.id = status_changes.run_id AND r.status = 'error');

-- The daily tables count runs per status: rebuilt from runs (as db::REBUILD_DAILY_TABLES does).
DELETE FROM daily_counts;
INSERT INTO daily_counts (day, pg_major, status, n_runs)
SELECT received_at / 86400000, pg_major, status, COUNT(*)
FROM runs GROUP BY received_at / 86400000, pg_major, status;

DELETE FROM daily_extension_counts;
INSERT INTO daily_extension_counts (extension, day, pg_major, status, n_runs)
SELECT extension, received_at / 86400000, pg_major, status, COUNT(*)
FROM runs GROUP BY extension, received_at / 86400000, pg_major, status;
