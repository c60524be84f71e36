-- The PGXN sync (server/src/pgxn.rs): releases imported from a PGXN mirror, their authors, and
-- the per-mirror state that makes a re-sync incremental.

-- A release's PGXN facts. `release_status` is 'stable', 'testing' or 'unstable'; releases added
-- by an admin or learned from a run are 'stable'. The other columns are NULL for releases that
-- did not come from PGXN. `dist` is the distribution name as its META writes it (the queue's
-- extension name for PGXN releases), `pgxn_user` the uploader's nickname, `pg_range` the META's
-- PostgreSQL range as written, `prereqs` a JSON array of the other `requires` prerequisites
-- ([{"phase", "package", "range"}]), `download_url` the zip (the mirror's `download` template
-- expanded), `sha1` its digest, `mirror` the base URL it was synced from.
ALTER TABLE extension_releases ADD COLUMN release_status TEXT NOT NULL DEFAULT 'stable';
ALTER TABLE extension_releases ADD COLUMN dist TEXT;
ALTER TABLE extension_releases ADD COLUMN abstract TEXT;
ALTER TABLE extension_releases ADD COLUMN pgxn_user TEXT;
ALTER TABLE extension_releases ADD COLUMN pg_range TEXT;
ALTER TABLE extension_releases ADD COLUMN prereqs TEXT;
ALTER TABLE extension_releases ADD COLUMN download_url TEXT;
ALTER TABLE extension_releases ADD COLUMN sha1 TEXT;
ALTER TABLE extension_releases ADD COLUMN mirror TEXT;
CREATE INDEX extension_releases_pgxn_user ON extension_releases (pgxn_user);

-- PGXN users (authors) who uploaded a synced release.
CREATE TABLE pgxn_users (
    nickname  TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    uri       TEXT,
    mirror    TEXT NOT NULL,
    synced_at BIGINT NOT NULL
);

-- Per mirror and distribution: the SHA-256 of the dist document last imported, so a re-sync
-- reads a distribution's releases only when its document changed.
CREATE TABLE pgxn_dists (
    mirror   TEXT NOT NULL,
    dist     TEXT NOT NULL,
    name     TEXT NOT NULL,
    doc_hash TEXT NOT NULL,
    PRIMARY KEY (mirror, dist)
);

-- Per mirror: the fingerprint of stats/dist.json's `recent` list at the last completed sync
-- (an unchanged fingerprint means nothing was released since) and when that sync ended.
CREATE TABLE pgxn_mirrors (
    url                TEXT PRIMARY KEY,
    recent_fingerprint TEXT NOT NULL,
    synced_at          BIGINT NOT NULL
);
