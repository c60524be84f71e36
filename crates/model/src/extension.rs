//! `Extension`: which extension was tested, from where, and what it requires.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The extension under test (format: docs/bundle-format.md, "extension").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Extension {
    /// Name, as in `CREATE EXTENSION` or the PGXN distribution name, e.g. `"semver"`.
    pub name: String,
    /// Version string, semver-ish (`"0.32.0"`, `"1.2"`, `"2.0.0-beta1"`); for a git checkout
    /// without a release, what the control file says.
    pub version: String,
    /// Git branch or tag the source was checked out at, e.g. `"v0.32.0"` or `"main"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// Git commit id of the source (lowercase hex, abbreviated or full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Where the source came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The `prereqs` of the extension's META.json, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerequisites: Option<Prerequisites>,
}

/// Where the extension's source came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// Kind of source.
    pub kind: SourceKind,
    /// PGXN `distribution/version`, git URL, or local path (as given by the user).
    pub location: String,
    /// For a PGXN distribution (`pgfarm test pgxn:NAME`, `FILE.zip` or `URL.zip`): the release
    /// and where its archive came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<SourceRelease>,
    /// PGXN distributions the extension requires (META.json prerequisites) that the run looked
    /// for in the tested tree: installed by this run from the mirror, or already there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<PrerequisiteDist>,
}

impl Source {
    /// A source of `kind` at `location`, with no release or prerequisites recorded.
    pub fn new(kind: SourceKind, location: impl Into<String>) -> Source {
        Source { kind, location: location.into(), release: None, prerequisites: Vec::new() }
    }
}

/// A PGXN distribution release that was tested (format: docs/bundle-format.md, "extension").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceRelease {
    /// The distribution's name as its META.json spells it, e.g. `"pgTAP"`.
    pub dist: String,
    /// The release's version as its META.json says, e.g. `"1.3.3"`.
    pub version: String,
    /// `"stable"`, `"testing"` or `"unstable"`, when the release says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_status: Option<ReleaseStatus>,
    /// SHA-1 of the zip archive, lowercase hex (verified against the mirror's META.json when
    /// the release came from a mirror).
    pub sha1: String,
    /// The base URL of the PGXN mirror or API the release was chosen from (`pgxn:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// The URL the archive was downloaded from (`pgxn:NAME` and `URL.zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The local archive as given (`FILE.zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A PGXN release's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    /// `"stable"`.
    Stable,
    /// `"testing"`.
    Testing,
    /// `"unstable"`.
    Unstable,
}

crate::status::wire_names!(ReleaseStatus, "release status", [Stable => "stable", Testing => "testing", Unstable => "unstable"]);

/// A PGXN distribution a run needed as a prerequisite (format: docs/bundle-format.md,
/// "extension").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PrerequisiteDist {
    /// The name the META.json requires, e.g. `"pgtap"`.
    pub name: String,
    /// The version range it requires as written (`"0"`, `"1.2.0"`, `">= 1.2.0, < 2.0.0"`).
    pub range: String,
    /// The version that satisfied it: installed by the run, or found in the tree.
    pub version: String,
    /// SHA-1 of the release archive the run installed (absent when it was already present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// True when this run fetched and installed it into the tree; false when the tree already
    /// had a version that satisfies the range.
    pub installed: bool,
}

/// Kind of source of an extension (format: docs/bundle-format.md, "extension").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// `"pgxn"`: a PGXN distribution; `location` is `"name/version"`, e.g. `"semver/0.32.0"`
    /// (from a mirror, a local zip or a zip's URL: `release` says which).
    Pgxn,
    /// `"git"`: a git repository; `location` is its URL.
    Git,
    /// `"path"`: a local directory; `location` is the path as given.
    Path,
}

crate::status::wire_names!(SourceKind, "source kind", [Pgxn => "pgxn", Git => "git", Path => "path"]);

/// The `prereqs` object of a PGXN META.json: phase (`configure`, `build`, `runtime`, `test`,
/// `develop`) to relationship (`requires`, `recommends`, `suggests`, `conflicts`) to prerequisite
/// name to version. META.json allows the number `0` for "any version": the runner writes it as
/// the string `"0"`.
///
/// ```json
/// {"runtime": {"requires": {"PostgreSQL": "13.0.0", "plpgsql": "0"}}}
/// ```
pub type Prerequisites = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;
