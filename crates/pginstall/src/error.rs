//! The crate's error type: every failure names the file, package, URL or command.

use std::path::PathBuf;

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while installing or removing a PostgreSQL tree.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A major with no pinned packages was asked for.
    #[error("PostgreSQL {major} cannot be installed by pgfarm (available: {available})")]
    UnknownMajor {
        /// The major asked for.
        major: u32,
        /// The majors that can be installed, as text (`13, 14, 15, 16, 17, 18`).
        available: String,
    },
    /// This machine is not one the pinned packages are built for.
    #[error("no pinned PostgreSQL packages for {os}/{arch}; supported platforms: {supported}")]
    UnsupportedPlatform {
        /// `std::env::consts::OS`.
        os: &'static str,
        /// `std::env::consts::ARCH`.
        arch: &'static str,
        /// The supported platforms, as text.
        supported: String,
    },
    /// A downloaded or cached file does not have its pinned sha256; it was deleted.
    #[error(
        "checksum mismatch for {}: expected sha256 {expected}, got {actual} (the file was deleted; run the install again to download it again)",
        .path.display()
    )]
    Checksum {
        /// The file that was checked (now deleted).
        path: PathBuf,
        /// The pinned digest.
        expected: String,
        /// The digest of the file's bytes.
        actual: String,
    },
    /// The package index does not list the pinned file, or lists it with another digest.
    #[error("{index}: {reason}")]
    Index {
        /// The index document's URL.
        index: String,
        /// What is wrong.
        reason: String,
    },
    /// An HTTP request failed (connection, TLS, status).
    #[error("GET {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A file system operation failed (a full disk shows here as "No space left on device").
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An archive is not laid out as the pinned package was.
    #[error("{}: {reason}", .path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A command (`apt-get download`, a freshly installed program) failed.
    #[error(transparent)]
    Command(#[from] pgfarm_pgnode::Error),
    /// pgfarm's per-user folder cannot be found (no `PGFARM_HOME`, `XDG_DATA_HOME` or `HOME`).
    #[error("no folder to install into: set PGFARM_HOME (or HOME)")]
    NoHome,
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io { action, path: path.into(), source }
    }

    pub(crate) fn archive(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Archive { path: path.into(), reason: reason.into() }
    }
}
