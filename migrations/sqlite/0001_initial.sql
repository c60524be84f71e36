-- pgfarm server schema v1 (SQLite). Append-only: never edit an applied file.
-- Times are unix milliseconds (INTEGER) so SQLite and PostgreSQL share one query text.
-- Keep in lockstep with ../postgres/0001_initial.sql (same tables, columns and indexes).

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE machines (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    owner_email       TEXT NOT NULL,
    description       TEXT NOT NULL,
    os                TEXT NOT NULL,
    arch              TEXT NOT NULL,
    compiler          TEXT NOT NULL,
    state             TEXT NOT NULL,
    secret_generation INTEGER NOT NULL,
    client_addr       TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    state_changed_at  INTEGER NOT NULL,
    last_seen_at      INTEGER
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    machine_id    INTEGER NOT NULL REFERENCES machines(id),
    extension     TEXT NOT NULL,
    ext_version   TEXT NOT NULL,
    pg_version    TEXT NOT NULL,
    pg_major      INTEGER NOT NULL,
    platform      TEXT NOT NULL,
    status        TEXT NOT NULL,
    failed_stage  TEXT,
    n_tests       INTEGER NOT NULL,
    n_failed      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    received_at   INTEGER NOT NULL,
    bundle_size   INTEGER NOT NULL
);
CREATE INDEX runs_extension_id ON runs (extension, id);
CREATE INDEX runs_machine_id ON runs (machine_id, id);
CREATE INDEX runs_status_received ON runs (status, received_at);
CREATE INDEX runs_ext_version_machine ON runs (extension, ext_version, pg_major, machine_id);
CREATE INDEX runs_received ON runs (received_at);

CREATE TABLE run_stages (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE run_bundles (
    run_id INTEGER PRIMARY KEY NOT NULL REFERENCES runs(id),
    body   BLOB NOT NULL
);

CREATE TABLE test_results (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    extension   TEXT NOT NULL,
    test_name   TEXT NOT NULL,
    stage       TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, stage, test_name)
);
CREATE INDEX test_results_history ON test_results (extension, test_name, run_id);

-- The matrix, materialised: the latest run per (extension, PostgreSQL major, platform).
CREATE TABLE latest (
    extension    TEXT NOT NULL,
    pg_major     INTEGER NOT NULL,
    platform     TEXT NOT NULL,
    run_id       INTEGER NOT NULL,
    ext_version  TEXT NOT NULL,
    status       TEXT NOT NULL,
    failed_stage TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (extension, pg_major, platform)
);

-- Status changes of a matrix cell (green to red and back), for the Atom feed.
CREATE TABLE status_changes (
    id          INTEGER PRIMARY KEY,
    extension   TEXT NOT NULL,
    pg_major    INTEGER NOT NULL,
    platform    TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX status_changes_extension ON status_changes (extension, id);

-- Known extension releases: the work queue offers these to machines.
CREATE TABLE extension_releases (
    extension   TEXT NOT NULL,
    version     TEXT NOT NULL,
    pg_min      INTEGER,
    pg_max      INTEGER,
    source      TEXT NOT NULL,
    released_at INTEGER NOT NULL,
    PRIMARY KEY (extension, version)
);

-- Daily counts per status and PostgreSQL major, maintained at ingest (trends without scanning runs).
CREATE TABLE daily_counts (
    day      INTEGER NOT NULL,
    pg_major INTEGER NOT NULL,
    status   TEXT NOT NULL,
    n_runs   INTEGER NOT NULL,
    PRIMARY KEY (day, pg_major, status)
);
