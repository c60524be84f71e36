//! pgnode integration tests against real PostgreSQL installations (one test binary).
//!
//! Installations come from `$PGFARM_PG_DIR`, an older checkout's `<workspace>/.pg/<major>`, or
//! `$PGFARM_HOME/pg/<major>` (made by `pgfarm pg install`, which scripts/setup-pg.sh runs). A missing major is skipped with a printed note, except 15, which must
//! always be there. All tests share the default initdb cache, so initdb runs once per major.
//! Some tests re-run this binary as a child process (see `support::child_mode`).

mod support;

/// Init/start/stop/restart/reload/kill/status, processes, control data, the server log.
mod basics;
/// psql, client connections, polling, pgbench, dump/restore.
mod client;
/// Bad inputs and the errors they give.
mod errors;
/// Base backups, streaming replicas, logical replication, pg_upgrade.
mod replication;
/// Watchdog, ports across processes, configuration scopes, root handling.
mod robustness;
/// The bubblewrap sandbox: network, writes, process limit, a server inside.
mod sandbox;
