//! The crate's error type: every failure names the command, file or cluster it concerns.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in pgnode.
///
/// Messages are lowercase, name the offending command, path or value, and carry the tail of the
/// command's stderr and of the server log where there is one (see [`crate::Config::error_log_lines`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A program could not be started at all (missing binary, no permission).
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A program ran and failed (non-zero exit code or killed by a signal).
    #[error("command `{command}` failed with {}{}{}", exit_text(*.code), tail_text("stderr", .stderr_tail), tail_text("server log", .log_tail))]
    Command {
        /// The command line.
        command: String,
        /// The exit code, `None` when the process was killed by a signal.
        code: Option<i32>,
        /// The last lines of the command's stderr (or stdout when stderr was empty).
        stderr_tail: String,
        /// The last lines of the server log, when a cluster was involved.
        log_tail: String,
    },
    /// The sandbox (`bwrap`) is missing or cannot create its namespaces on this machine.
    #[error("the sandbox cannot run here: {reason}")]
    SandboxUnavailable {
        /// What is missing or what bwrap said.
        reason: String,
    },
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done ("create directory", "read", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `pg_config` ran but its output did not describe a usable installation.
    #[error("{}: {reason}", .pg_config.display())]
    BadInstallation {
        /// The `pg_config` that was asked.
        pg_config: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No installation matched the request.
    #[error(
        "no PostgreSQL installation found for {wanted} (looked in: {searched}); install one with `pgfarm pg install MAJOR` or name one with --pg-config PATH"
    )]
    InstallationNotFound {
        /// What was asked for ("major 15", "any major").
        wanted: String,
        /// The places searched.
        searched: String,
    },
    /// A `--pg` selection could not be parsed (`13,16..18`, `15@debian`, a path).
    #[error("--pg: {reason} in `{text}`")]
    BadSelection {
        /// The part of the selection that is wrong.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The unprivileged OS user PostgreSQL must run as (because this process is root) is missing.
    #[error(
        "this process runs as root and PostgreSQL refuses root, but the OS user `{user}` it would run as does not exist; run `scripts/setup-pg.sh` (it creates it) or `useradd --system --create-home {user}`, or set PGFARM_PG_USER to an existing unprivileged user"
    )]
    UserMissing {
        /// The user name that was looked up.
        user: String,
    },
    /// The user named to run PostgreSQL is root itself.
    #[error(
        "PGFARM_PG_USER/pg_user names `{user}`, which is root (uid 0); PostgreSQL refuses to run as root, name an unprivileged user"
    )]
    UserIsRoot {
        /// The user name.
        user: String,
    },
    /// A directory handed in as a data directory is not a PostgreSQL cluster.
    #[error("{} is not a PostgreSQL data directory (no PG_VERSION file)", .path.display())]
    NotACluster {
        /// The directory.
        path: PathBuf,
    },
    /// A port was requested that is taken (by another process or another pgfarm cluster).
    #[error("port {port} is in use: {reason}")]
    PortInUse {
        /// The port.
        port: u16,
        /// Who holds it.
        reason: String,
    },
    /// No free port was found in the allocation range.
    #[error("no free TCP port in {first}..={last} (all locked or bound)")]
    NoFreePort {
        /// First port tried.
        first: u16,
        /// Last port tried.
        last: u16,
    },
    /// The postmaster exited while starting (bad configuration, port taken, ...).
    #[error("postgres of cluster {cluster} exited during start-up with {}{}", exit_text(*.code), tail_text("server log", .log_tail))]
    StartFailed {
        /// The cluster's name.
        cluster: String,
        /// The postmaster's exit code.
        code: Option<i32>,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// Waiting for something took longer than allowed.
    #[error("timed out after {after:?} waiting for {what}{}", tail_text("server log", .log_tail))]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        after: Duration,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// A SQL statement sent over a client connection failed.
    #[error("query `{query}` on cluster {cluster} failed: {}{}", db_error_text(.source), tail_text("server log", .log_tail))]
    Sql {
        /// The cluster's name.
        cluster: String,
        /// The statement (shortened).
        query: String,
        /// The client library's error.
        #[source]
        source: postgres::Error,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// The cluster is not in the state the operation needs.
    #[error("cluster {cluster}: {reason}")]
    State {
        /// The cluster's name.
        cluster: String,
        /// What is wrong.
        reason: String,
    },
    /// An argument is invalid (for example a socket path longer than the kernel allows).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "a signal (no exit code)".to_owned(),
    }
}

fn tail_text(label: &str, tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        let mut out = format!("\n--- {label} (last lines) ---");
        for line in tail.trim_end().lines() {
            out.push_str("\n  ");
            out.push_str(line);
        }
        out
    }
}

fn db_error_text(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => {
            let mut text =
                format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            text
        }
    }
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Error {
        Error::Io { action, path: path.into(), source }
    }

    /// Attaches a server log tail to errors that carry one and do not have it yet.
    pub(crate) fn with_log_tail(mut self, tail: impl FnOnce() -> String) -> Error {
        match &mut self {
            Error::Command { log_tail, .. }
            | Error::Timeout { log_tail, .. }
            | Error::Sql { log_tail, .. }
            | Error::StartFailed { log_tail, .. }
                if log_tail.is_empty() =>
            {
                *log_tail = tail();
            }
            _ => {}
        }
        self
    }
}

/// The last `n` lines of `text`.
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}
