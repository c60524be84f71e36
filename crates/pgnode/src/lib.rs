//! pgfarm-pgnode: PostgreSQL installations and throwaway clusters for tests, a testgres for Rust.
//!
//! - [`Installation`] describes a PostgreSQL tree found from `pg_config` (or discovered in
//!   pgfarm's per-user trees ([`home`]), `PGFARM_PG_DIR`, `.pg/*`, `PATH` and
//!   `/usr/lib/postgresql/*`): version, directories, headers, PGXS, pg_regress, pgTAP, and a
//!   name such as `15@debian` ([`Origin`]).
//! - [`Selection`] is the one parser of `--pg` (`13,16..18`, `15@debian`, a path) and
//!   `--pg-config`, and the rule that picks installations from it.
//! - [`Cluster`] (built with [`ClusterBuilder`]) is an RAII guard over a data directory and its
//!   postmaster: init from a cached initdb, start/stop/restart/reload/promote/kill, psql,
//!   client connections ([`postgres`] crate), polling, pgbench, dump/restore, base backups and
//!   replicas ([`Backup`]), logical replication ([`Publication`], [`Subscription`]) and
//!   pg_upgrade. Dropping it stops the server and removes its folder.
//! - [`Config`] holds the shared settings (initdb cache, cleanup, logs, OS user) with
//!   per-builder values and thread-local [`ConfigScope`] overrides.
//! - [`command::Command`] is the crate's single spawn point; [`port`] allocates ports safely
//!   across threads and processes; [`Sandbox`] runs untrusted build and test processes (and the
//!   servers that load their code) under bubblewrap without network, read-only outside named
//!   folders, with resource limits ([`Limits`]).
//!
//! When the process runs as root, server programs run as an unprivileged OS user ([`OsUser`],
//! default `pgfarm`, created by `scripts/setup-pg.sh`); psql and other clients run as root and
//! connect over the cluster's unix socket as the cluster's superuser role. Each postmaster runs
//! under a small supervisor that stops it when the owning process dies, even by `kill -9`
//! (see the "Watchdog" section of [`Cluster`]).
//!
//! ```no_run
//! use pgfarm_pgnode::{Cluster, Installation};
//!
//! let installation = Installation::find(15)?;
//! let cluster = Cluster::builder(&installation).start()?;
//! cluster.execute_batch("create table t (x int); insert into t values (1), (2)")?;
//! let n: i64 = cluster.query_scalar("select count(*) from t")?;
//! assert_eq!(n, 2);
//! let replica = cluster.replicate("standby")?;
//! replica.catchup(std::time::Duration::from_secs(30))?;
//! assert_eq!(replica.safe_psql("select sum(x) from t")?.trim(), "3");
//! # Ok::<(), pgfarm_pgnode::Error>(())
//! ```
//!
//! What it does not do: download or build PostgreSQL (`pgfarm pg install` does, with the
//! `pgfarm-pginstall` crate), know about
//! pgfarm bundles or suites, print anything, or manage remote hosts (testgres' `os_ops`).
//!
//! Tests: unit tests sit next to the code; integration tests against every installed major are
//! in `tests/it/` (one binary, `cargo test -p pgfarm-pgnode`); the benchmark against testgres
//! is `bench/compare.sh`.

#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cache;
mod cluster;
pub mod command;
mod config;
mod error;
mod fsutil;
pub mod home;
mod installation;
mod lockfile;
mod os_user;
pub mod port;
pub mod sandbox;
mod selection;

pub use cluster::{
    Auth, Backup, Cluster, ClusterBuilder, DumpFormat, Listen, ProcessKind, Psql, Publication,
    ServerAddress, ServerProcess, Status, StopMode, Subscription, WalMethod,
};
pub use config::{Config, ConfigScope};
pub use error::{Error, Result};
pub use installation::{Installation, Origin, TreeLock, Version};
pub use nix::sys::signal::Signal;
pub use os_user::{OsUser, is_root};
/// The synchronous PostgreSQL client used by [`Cluster::connect`] and [`Cluster::execute`].
pub use postgres;
pub use sandbox::{Limits, Sandbox};
pub use selection::{Selection, Wanted};

// The README's examples are compiled and run as doctests (`cargo test --doc`), so the first
// thing a reader of the published crate sees stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctest {}
