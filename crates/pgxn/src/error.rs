//! The error type of the PGXN client: each variant names the URL, document, field, member or digests at fault.
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong talking to a PGXN mirror or unpacking one of its archives. Each
/// message names the URL, document, field, archive member or both digests it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{url}: not a PGXN base URL: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("GET {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("GET {url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: not found")]
    NotFound { url: String },
    #[error("GET {url}: larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: not a valid {document} document: {reason}")]
    Document { url: String, document: &'static str, reason: String },
    #[error("{url}: the index has no `{name}` template")]
    NoTemplate { url: String, name: String },
    #[error("index template `{name}` ({template:?}): {reason}")]
    Template { name: String, template: String, reason: String },
    #[error("{url}: META.json is not valid PGXN release metadata: {reason}")]
    Meta { url: String, reason: String },
    #[error("{url}: META.json field `{field}`: {reason}")]
    Field { url: String, field: String, reason: String },
    #[error("{dist}: no release matches {wanted}; the mirror lists {available}")]
    NoRelease { dist: String, wanted: String, available: String },
    #[error(
        "{url}: {algorithm} of the download is {actual}, the release says {expected}; {path} was deleted"
    )]
    Checksum {
        url: String,
        path: PathBuf,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{archive}: not a readable zip archive: {reason}")]
    Zip { archive: PathBuf, reason: String },
    #[error("{archive}: member {member:?}: {reason}")]
    Member { archive: PathBuf, member: String, reason: String },
    #[error("{archive}: {reason}")]
    ArchiveLimit { archive: PathBuf, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { op, path: path.into(), source }
    }
}
