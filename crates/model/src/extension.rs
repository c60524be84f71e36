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
}

/// Kind of source of an extension (format: docs/bundle-format.md, "extension").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// `"pgxn"`: a PGXN distribution; `location` is `"name/version"`, e.g. `"semver/0.32.0"`.
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
