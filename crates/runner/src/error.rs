//! The runner's error type: one enum whose messages name the file, line or command at fault.

use std::io;
use std::path::PathBuf;

/// Everything that can stop a runner operation before it produces a verdict.
///
/// Test failures are not errors: they are verdicts in the reports. An `Error` means the
/// run could not be carried out (a missing file, a schedule with a syntax error, a process
/// that could not be started).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read, written or created.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("could not read", "could not create directory", ...).
        action: &'static str,
        /// The path at fault.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A schedule file line is not `test: ...` (or `ignore: ...` in the classic dialect).
    #[error("syntax error in schedule file \"{file}\" line {line}: {text}")]
    ScheduleSyntax {
        /// The schedule file as given on the command line.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending line, trailing whitespace removed.
        text: String,
    },
    /// A parallel group is larger than `--max-concurrent-tests` allows.
    #[error(
        "too many parallel tests (more than {max}) in schedule file \"{file}\" line {line}: {text}"
    )]
    TooManyParallelTests {
        /// The limit.
        max: usize,
        /// The schedule file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// A resultmap line is not `test:type:platform=file`.
    #[error("incorrectly formatted resultmap entry: {0}")]
    Resultmap(String),
    /// A helper process (psql, make, pg_config) could not be started or failed.
    #[error("command failed: {command}: {detail}")]
    Command {
        /// The command line, as it would be typed in a shell.
        command: String,
        /// Exit status and the tail of its stderr, or the spawn error.
        detail: String,
    },
    /// A configuration file (pgfarm.toml, META.json, a Makefile) could not be understood.
    #[error("{path}: {message}")]
    Config {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The options given do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// An operation was interrupted by a signal (Ctrl-C, SIGTERM).
    #[error("interrupted")]
    Interrupted,
    /// Starting or using a PostgreSQL cluster failed (described in words).
    #[error("cluster: {0}")]
    Cluster(String),
    /// pgnode failed to start, stop or use a PostgreSQL cluster or installation.
    #[error("cluster: {0}")]
    Pgnode(#[from] pgfarm_pgnode::Error),
    /// The lock that gives a run an installation's tree could not be taken.
    #[error("cannot lock the installation tree: {0}")]
    TreeLock(String),
    /// A bundle about to be written breaks the format's rules; nothing was written, because the
    /// server and the offline viewer would refuse it.
    #[error("bundle {path} not written: {source}")]
    InvalidBundle {
        /// Where the bundle was to be written.
        path: PathBuf,
        /// The first rule it breaks, naming the field.
        #[source]
        source: pgfarm_model::ValidationError,
    },
}

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { action, path: path.into(), source }
    }
}

/// The runner's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
