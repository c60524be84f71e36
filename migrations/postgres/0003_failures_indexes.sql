-- Failures reads (`/api/v1/failures`): failed runs newest first by (received_at, id), the
-- keyset of that list. Partial indexes over failed runs only (about a tenth of the runs), one
-- per filter, so that a page reads about `limit` index entries instead of sorting every failure
-- of the period, and a filter that matches nothing answers at once instead of scanning every
-- failure. The queries spell `status = 'failed'` literally so SQLite can use them.
CREATE INDEX runs_failures ON runs (received_at, id) WHERE status = 'failed';
CREATE INDEX runs_failures_extension ON runs (extension, received_at, id) WHERE status = 'failed';
CREATE INDEX runs_failures_version ON runs (extension, ext_version, received_at, id) WHERE status = 'failed';
CREATE INDEX runs_failures_machine ON runs (machine_id, received_at, id) WHERE status = 'failed';
CREATE INDEX runs_failures_pg ON runs (pg_major, received_at, id) WHERE status = 'failed';
CREATE INDEX runs_failures_stage ON runs (failed_stage, received_at, id) WHERE status = 'failed';
