//! The JSON documents of a mirror (and the API server's supersets of them), and the release choice.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A release's status. Ordered as pgxnclient orders them: unstable < testing < stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseStatus {
    Unstable,
    Testing,
    Stable,
}

impl ReleaseStatus {
    pub const ALL: [ReleaseStatus; 3] =
        [ReleaseStatus::Stable, ReleaseStatus::Testing, ReleaseStatus::Unstable];

    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Stable => "stable",
            ReleaseStatus::Testing => "testing",
            ReleaseStatus::Unstable => "unstable",
        }
    }
}

impl std::fmt::Display for ReleaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `/dist/{dist}.json`. The mirror form is just `name` and `releases`; the API form adds the latest
/// release's META, which is ignored here (read `/dist/{dist}/{version}/META.json` for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dist {
    pub name: String,
    pub releases: Releases,
}

/// Releases by status, each list newest first; a status without releases is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Releases {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stable: Vec<ReleaseEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub testing: Vec<ReleaseEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unstable: Vec<ReleaseEntry>,
}

impl Releases {
    pub fn of(&self, status: ReleaseStatus) -> &[ReleaseEntry] {
        match status {
            ReleaseStatus::Stable => &self.stable,
            ReleaseStatus::Testing => &self.testing,
            ReleaseStatus::Unstable => &self.unstable,
        }
    }

    /// Every release with its status.
    pub fn iter(&self) -> impl Iterator<Item = (ReleaseStatus, &ReleaseEntry)> {
        ReleaseStatus::ALL.into_iter().flat_map(move |s| self.of(s).iter().map(move |r| (s, r)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseEntry {
    pub version: String,
    /// UTC, RFC 3339, as PGXN writes it (`2020-10-25T21:54:02Z`).
    pub date: String,
}

/// Which releases a choice accepts: [`Accept::Stable`] (the default) only stable ones,
/// [`Accept::Testing`] testing and stable, [`Accept::Unstable`] all (pgxnclient's `--testing` and
/// `--unstable`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Accept {
    #[default]
    Stable,
    Testing,
    Unstable,
}

impl Accept {
    pub fn accepts(self, status: ReleaseStatus) -> bool {
        let min = match self {
            Accept::Stable => ReleaseStatus::Stable,
            Accept::Testing => ReleaseStatus::Testing,
            Accept::Unstable => ReleaseStatus::Unstable,
        };
        status >= min
    }
}

/// A chosen release of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The distribution's name as the dist document spells it (`pgTAP`).
    pub dist: String,
    pub version: String,
    pub status: ReleaseStatus,
    pub date: String,
}

impl Dist {
    /// The release to test: with `version`, that release whatever its status (the caller named
    /// it); else the highest semantic version among the statuses `accept` takes, as pgxnclient
    /// does. Versions that are not semantic versions (even leniently, `1.0.0b1` is read as
    /// `1.0.0-b1` as SemVer 1.0 allowed) are never chosen without being named.
    pub fn choose(&self, accept: Accept, version: Option<&str>) -> Result<Chosen> {
        let chosen = |status, entry: &ReleaseEntry| Chosen {
            dist: self.name.clone(),
            version: entry.version.clone(),
            status,
            date: entry.date.clone(),
        };
        if let Some(wanted) = version {
            let parsed = parse_version(wanted);
            return self
                .releases
                .iter()
                .find(|(_, r)| {
                    r.version == wanted || (parsed.is_some() && parse_version(&r.version) == parsed)
                })
                .map(|(s, r)| chosen(s, r))
                .ok_or_else(|| self.no_release(format!("version {wanted}")));
        }
        self.releases
            .iter()
            .filter(|(s, _)| accept.accepts(*s))
            .filter_map(|(s, r)| parse_version(&r.version).map(|v| (v, s, r)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, s, r)| chosen(s, r))
            .ok_or_else(|| {
                let wanted = match accept {
                    Accept::Stable => "a stable release",
                    Accept::Testing => "a testing or stable release",
                    Accept::Unstable => "any release",
                };
                self.no_release(wanted.to_owned())
            })
    }

    fn no_release(&self, wanted: String) -> Error {
        let available: Vec<String> =
            self.releases.iter().map(|(s, r)| format!("{} ({s})", r.version)).collect();
        Error::NoRelease {
            dist: self.name.clone(),
            wanted,
            available: if available.is_empty() {
                "no releases".into()
            } else {
                available.join(", ")
            },
        }
    }
}

/// A PGXN version as a semantic version; SemVer 1.0's `1.0.0b1` is read as `1.0.0-b1`.
pub fn parse_version(version: &str) -> Option<semver::Version> {
    if let Ok(v) = semver::Version::parse(version) {
        return Some(v);
    }
    let split = version.char_indices().find(|(_, c)| c.is_ascii_alphabetic())?.0;
    let (core, pre) = version.split_at(split);
    if core.matches('.').count() != 2 || !core.chars().last()?.is_ascii_digit() {
        return None;
    }
    semver::Version::parse(&format!("{core}-{pre}")).ok()
}

/// `/stats/dist.json`: counts and the most recent releases of any status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistStats {
    pub count: u64,
    pub releases: u64,
    pub recent: Vec<RecentRelease>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentRelease {
    pub dist: String,
    pub version: String,
    #[serde(rename = "abstract", default)]
    pub abstract_: String,
    pub date: String,
    pub user: String,
    #[serde(default)]
    pub user_name: String,
}

/// `/user/{user}.json`: a PGXN account and its releases per distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub nickname: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub twitter: Option<String>,
    #[serde(default)]
    pub releases: BTreeMap<String, Releases>,
}

/// `/extension/{extension}.json`: which distributions provide an extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionDoc {
    pub extension: String,
    pub latest: ReleaseStatus,
    #[serde(default)]
    pub stable: Option<ExtensionRelease>,
    #[serde(default)]
    pub testing: Option<ExtensionRelease>,
    #[serde(default)]
    pub unstable: Option<ExtensionRelease>,
    /// Extension version -> the distribution releases that carry it.
    #[serde(default)]
    pub versions: BTreeMap<String, Vec<ExtensionVersion>>,
}

impl ExtensionDoc {
    /// The release the `latest` status points at.
    pub fn latest_release(&self) -> Option<&ExtensionRelease> {
        match self.latest {
            ReleaseStatus::Stable => self.stable.as_ref(),
            ReleaseStatus::Testing => self.testing.as_ref(),
            ReleaseStatus::Unstable => self.unstable.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRelease {
    pub dist: String,
    pub version: String,
    #[serde(default)]
    pub sha1: Option<String>,
    #[serde(rename = "abstract", default)]
    pub abstract_: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionVersion {
    pub dist: String,
    pub version: String,
    #[serde(default)]
    pub status: Option<ReleaseStatus>,
    #[serde(default)]
    pub date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(json: &str) -> Dist {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn choice_follows_pgxnclient() {
        let d = dist(
            r#"{"name": "x", "releases": {
            "stable": [{"version": "1.2.0", "date": "d3"}, {"version": "1.10.0", "date": "d2"}],
            "testing": [{"version": "2.0.0-rc1", "date": "d4"}],
            "unstable": [{"version": "3.0.0a1", "date": "d5"}]}}"#,
        );
        // highest semver, not the first listed (1.10.0 > 1.2.0)
        assert_eq!(d.choose(Accept::Stable, None).unwrap().version, "1.10.0");
        let t = d.choose(Accept::Testing, None).unwrap();
        assert_eq!((t.version.as_str(), t.status), ("2.0.0-rc1", ReleaseStatus::Testing));
        assert_eq!(d.choose(Accept::Unstable, None).unwrap().version, "3.0.0a1");
        // a named version whatever its status; semver-equal spellings match
        assert_eq!(
            d.choose(Accept::Stable, Some("3.0.0-a1")).unwrap().status,
            ReleaseStatus::Unstable
        );
        let err = d.choose(Accept::Stable, Some("9.9.9")).unwrap_err().to_string();
        assert!(
            err.contains("version 9.9.9")
                && err.contains("1.2.0 (stable)")
                && err.contains("3.0.0a1 (unstable)"),
            "{err}"
        );
    }

    #[test]
    fn testing_only_and_unstable_only() {
        let t =
            dist(r#"{"name": "t", "releases": {"testing": [{"version": "0.1.0", "date": "d"}]}}"#);
        let err = t.choose(Accept::Stable, None).unwrap_err().to_string();
        assert!(
            err.contains("no release matches a stable release") && err.contains("0.1.0 (testing)"),
            "{err}"
        );
        assert_eq!(t.choose(Accept::Testing, None).unwrap().version, "0.1.0");
        let u =
            dist(r#"{"name": "u", "releases": {"unstable": [{"version": "0.0.1", "date": "d"}]}}"#);
        assert!(u.choose(Accept::Testing, None).is_err());
        assert_eq!(u.choose(Accept::Unstable, None).unwrap().version, "0.0.1");
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_version("1.0.0b1").unwrap().to_string(), "1.0.0-b1");
        assert!(parse_version("1.0b1").is_none());
        assert!(parse_version("latest").is_none());
        assert!(parse_version("1.0.0-b1") > parse_version("1.0.0-a9"));
    }
}
