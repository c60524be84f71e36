-- Failures list newest first among failed runs: scan (status, id) backwards, stop at the page size.
CREATE INDEX runs_status_id ON runs (status, id);
