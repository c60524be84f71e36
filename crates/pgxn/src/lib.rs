//! A PGXN client: everything pgfarm needs from a PGXN mirror or API server, and nothing of
//! pgfarm's own (no server, CLI or bundle types).
//!
//! - [`Client::new`] takes a base URL (`https://`, `file://`, or `http://` on loopback) and reads
//!   `{base}/index.json`; every other path comes from its RFC 6570 templates ([`Index::path`]),
//!   with distribution names and versions lowercased as PGXN stores them.
//! - Documents: [`Dist`] (releases by status), [`Meta`] (a release's META.json, validated with the
//!   `pgxn_meta` crate: PostgreSQL range, prerequisites, preload), [`DistStats`], [`User`],
//!   [`ExtensionDoc`].
//! - [`Dist::choose`]: the release to test, by status ([`Accept`]) and highest semantic version.
//! - [`Client::download`]: a size-capped download into a cache keyed by SHA-1, every digest of the
//!   release verified ([`verify`]); a mismatching file is deleted and the error names both digests.
//! - [`unpack`]: a zip into a folder, refusing any member that would land outside it, with caps on
//!   size, file count and compression ratio.
//!
//! - [`mirror`]: writing a mirror folder from extension sources (`pgfarm pgxn mirror`).
//!
//! The library never prints; its errors ([`Error`]) name the URL, document, field, member or digests.
//!
//! ```no_run
//! # fn main() -> Result<(), pgfarm_pgxn::Error> {
//! use pgfarm_pgxn::{Accept, Client, UnpackLimits, unpack};
//! let pgxn = Client::new("https://api.pgxn.org/")?;
//! let release = pgxn.dist("pgTAP")?.choose(Accept::Stable, None)?;
//! let meta = pgxn.meta(&release.dist, &release.version)?;
//! let zip = pgxn.download(&meta, "/tmp/pgxn-cache".as_ref())?;
//! let unpacked = unpack(&zip, "/tmp/work".as_ref(), Some(&meta.top_folder()), &UnpackLimits::default())?;
//! println!("{}", unpacked.root.display());
//! # Ok(()) }
//! ```

mod client;
mod docs;
mod error;
mod meta;
pub mod mirror;
mod unpack;
mod url;

pub use client::{Client, Index, Limits, verify};
pub use docs::{
    Accept, Chosen, Dist, DistStats, ExtensionDoc, ExtensionRelease, ExtensionVersion,
    RecentRelease, ReleaseEntry, ReleaseStatus, Releases, User, parse_version,
};
pub use error::{Error, Result};
pub use meta::{Digests, Meta, Op, PgRange, PgVersion, Prereq};
pub use unpack::{UnpackLimits, Unpacked, unpack};
pub use url::{BaseUrl, expand};

impl Meta {
    /// The archive's one top folder: `{dist}-{version}`, lowercased.
    pub fn top_folder(&self) -> String {
        format!("{}-{}", self.name, self.version).to_lowercase()
    }
}
