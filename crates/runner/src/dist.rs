//! PGXN distributions as `pgfarm test` sources: the positional argument (`pgxn:NAME[@VERSION]`,
//! `FILE.zip`, `URL.zip` or a directory, [`Target`]), fetching and verifying a release through
//! `pgfarm-pgxn` into the checksum-keyed download cache under pgfarm's home folder, unpacking it
//! safely into the run's work folder ([`fetch`]), and the PGXN prerequisites of a META.json
//! ([`meta_requires`], [`satisfies`]) that the farm installs into a tree before the extension.
//!
//! The provenance of what was fetched is the bundle's `extension.source.release`
//! ([`SourceRelease`]); a run that uses a mirror for prerequisites or the previous release of a
//! distribution (the upgrade stage) carries a [`Mirror`].

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pgfarm_model::{ReleaseStatus, SourceRelease};
pub use pgfarm_pgxn::Accept;
use pgfarm_pgxn::{Client, Prereq, UnpackLimits};
use sha1::Digest as _;

/// The mirror `pgxn:` sources use unless `--pgxn-mirror` or `PGFARM_PGXN_MIRROR` names another.
pub const DEFAULT_MIRROR: &str = "https://api.pgxn.org/";

/// The largest archive fetched from a URL (as the PGXN client's default).
const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// What `pgfarm test`'s positional argument names, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An extension's source directory (the default, `.`).
    Dir(PathBuf),
    /// `pgxn:NAME` or `pgxn:NAME@VERSION`: a release on a PGXN mirror.
    Pgxn {
        /// The distribution name as typed (PGXN lowercases it).
        name: String,
        /// The version asked for, whatever its status.
        version: Option<String>,
    },
    /// A local distribution archive (`*.zip`).
    Zip(PathBuf),
    /// A distribution archive's `http://` or `https://` URL (`*.zip`).
    Url(String),
}

impl Target {
    /// Parses the positional argument: `pgxn:NAME[@VERSION]`, an `http(s)://...zip` URL, a path
    /// ending in `.zip`, else a directory. An error says what is wrong with the argument.
    pub fn parse(arg: &str) -> Result<Target, DistError> {
        let usage = |reason: &str| DistError::Usage(format!("{arg}: {reason}"));
        if let Some(rest) = arg.strip_prefix("pgxn:") {
            let (name, version) = match rest.split_once('@') {
                Some((name, version)) => (name, Some(version)),
                None => (rest, None),
            };
            if name.is_empty()
                || name.contains(['/', '\\'])
                || name.chars().any(char::is_whitespace)
            {
                return Err(usage("expected pgxn:NAME or pgxn:NAME@VERSION"));
            }
            if version.is_some_and(|v| v.is_empty() || v.contains('/')) {
                return Err(usage("expected a version after @"));
            }
            return Ok(Target::Pgxn { name: name.to_owned(), version: version.map(str::to_owned) });
        }
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let path = lower.split(['?', '#']).next().unwrap_or(&lower);
            if !path.ends_with(".zip") {
                return Err(usage("a URL must name a distribution archive (.zip)"));
            }
            return Ok(Target::Url(arg.to_owned()));
        }
        if lower.ends_with(".zip") {
            return Ok(Target::Zip(PathBuf::from(arg)));
        }
        Ok(Target::Dir(PathBuf::from(arg)))
    }

    /// A short name for the run's work folder: the distribution or file name.
    pub fn label(&self) -> String {
        let stem = |p: &str| {
            let file = p.rsplit('/').next().unwrap_or(p);
            let file = file.split(['?', '#']).next().unwrap_or(file);
            file.trim_end_matches(".zip").trim_end_matches(".ZIP").to_owned()
        };
        match self {
            Target::Dir(path) => path
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "extension".into()),
            Target::Pgxn { name, .. } => name.to_lowercase(),
            Target::Zip(path) => stem(&path.to_string_lossy()),
            Target::Url(url) => stem(url),
        }
    }

    /// Whether this is a distribution to fetch (anything but a directory).
    pub fn is_distribution(&self) -> bool {
        !matches!(self, Target::Dir(_))
    }
}

/// A PGXN mirror a run uses: for `pgxn:` sources, prerequisites, and the previous release of
/// the distribution in the upgrade stage.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// Base URL (`https://`, `file://`, or `http://` on loopback).
    pub base: String,
    /// Which release statuses a choice accepts.
    pub accept: Accept,
    /// The download cache (keyed by checksum).
    pub cache: PathBuf,
}

impl Mirror {
    /// Reads the mirror's index.
    pub fn client(&self) -> Result<Client, DistError> {
        Client::new(&self.base).map_err(DistError::from_pgxn)
    }
}

/// The download cache under pgfarm's home folder (`$PGFARM_HOME/cache/pgxn`), else under the
/// system's temporary folder.
pub fn default_cache() -> PathBuf {
    pgfarm_pgnode::home::dir()
        .unwrap_or_else(|| std::env::temp_dir().join("pgfarm"))
        .join("cache")
        .join("pgxn")
}

/// The PGXN side of an extension source: the release under test and the mirror the run may use.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The distribution release under test (`pgxn:`, `FILE.zip`, `URL.zip`); `None` for a
    /// directory.
    pub release: Option<SourceRelease>,
    /// The bundle's `extension.source.location`: `name/version` for a distribution.
    pub location: Option<String>,
    /// The mirror for prerequisites and the previous release: the one a `pgxn:` source came
    /// from, else only one named explicitly (no network use by default for local sources).
    pub mirror: Option<Mirror>,
}

/// What [`fetch`] produced.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The unpacked distribution's top folder.
    pub root: PathBuf,
    /// Its provenance, for the bundle.
    pub release: SourceRelease,
}

/// Why a distribution could not be fetched. [`DistError::is_usage`] tells the caller's
/// "usage" failures (exit 3: a bad argument, an unknown distribution, no release of the
/// accepted statuses) from the machine's (exit 2: network, checksum, hostile archive).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// The argument or option is malformed.
    #[error("{0}")]
    Usage(String),
    /// The mirror has no such distribution.
    #[error("no distribution {dist} on {mirror} ({source})")]
    UnknownDist {
        /// The name asked for.
        dist: String,
        /// The mirror's base URL.
        mirror: String,
        /// The 404.
        source: Box<pgfarm_pgxn::Error>,
    },
    /// No release of the accepted statuses (or the named version) exists.
    #[error("{source}{hint}")]
    NoRelease {
        /// The client's error (it lists the releases and their statuses).
        source: Box<pgfarm_pgxn::Error>,
        /// A hint at `--testing`/`--unstable`, when they would help.
        hint: String,
    },
    /// A local archive that is missing or not a distribution.
    #[error("{path}: {reason}")]
    Archive {
        /// The archive or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Fetching, verifying or unpacking failed (network, checksum, hostile member, I/O).
    #[error(transparent)]
    Pgxn(Box<pgfarm_pgxn::Error>),
    /// Downloading a URL failed.
    #[error("GET {url}: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

impl DistError {
    fn from_pgxn(err: pgfarm_pgxn::Error) -> DistError {
        match err {
            pgfarm_pgxn::Error::BaseUrl { .. } => DistError::Usage(err.to_string()),
            other => DistError::Pgxn(Box::new(other)),
        }
    }

    /// True for the caller's mistakes (exit 3), false for what the machine or the network
    /// could not do (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DistError::Usage(_) | DistError::UnknownDist { .. } | DistError::NoRelease { .. }
        )
    }
}

/// What [`fetch`] needs besides the target.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Mirror for `pgxn:` targets (base URL, accepted statuses, cache).
    pub mirror: Mirror,
    /// Where the distribution is unpacked (its one top folder is created inside).
    pub into: PathBuf,
    /// Caps on the unpacked archive.
    pub limits: UnpackLimits,
}

/// Fetches a distribution target: `pgxn:` through the mirror (the release chosen with
/// [`pgfarm_pgxn::Dist::choose`], downloaded into the checksum-keyed cache and verified; a
/// mismatching file is deleted and the error names both digests), a URL into the cache, a local
/// zip as it is; then unpacks it into `options.into` with `pgfarm_pgxn::unpack`'s limits (a
/// member that would land outside its folder is an error naming it). For a directory target,
/// `Ok(None)`.
pub fn fetch(target: &Target, options: &FetchOptions) -> Result<Option<Fetched>, DistError> {
    match target {
        Target::Dir(_) => Ok(None),
        Target::Pgxn { name, version } => fetch_pgxn(name, version.as_deref(), options).map(Some),
        Target::Zip(path) => {
            if !path.is_file() {
                return Err(DistError::Archive {
                    path: path.clone(),
                    reason: "no such file".into(),
                });
            }
            let sha1 = sha1_file(path)?;
            let mut release = unpacked_release(path, options, None)?;
            release.1.sha1 = sha1;
            release.1.file = Some(path.display().to_string());
            Ok(Some(Fetched { root: release.0, release: release.1 }))
        }
        Target::Url(url) => {
            let (zip, sha1) = download_url(url, &options.mirror.cache)?;
            let mut release = unpacked_release(&zip, options, None)?;
            release.1.sha1 = sha1;
            release.1.url = Some(url.clone());
            Ok(Some(Fetched { root: release.0, release: release.1 }))
        }
    }
}

fn fetch_pgxn(
    name: &str,
    version: Option<&str>,
    options: &FetchOptions,
) -> Result<Fetched, DistError> {
    let mirror = &options.mirror;
    let client = mirror.client()?;
    let release = fetch_release(&client, mirror, name, version, &options.into)?;
    Ok(release)
}

/// Chooses, downloads, verifies and unpacks one release of `name` from `client` into `into`.
pub(crate) fn fetch_release(
    client: &Client,
    mirror: &Mirror,
    name: &str,
    version: Option<&str>,
    into: &Path,
) -> Result<Fetched, DistError> {
    let dist = match client.dist(name) {
        Ok(dist) => dist,
        Err(source @ pgfarm_pgxn::Error::NotFound { .. }) => {
            return Err(DistError::UnknownDist {
                dist: name.to_owned(),
                mirror: client.base().as_str().to_owned(),
                source: Box::new(source),
            });
        }
        Err(other) => return Err(DistError::from_pgxn(other)),
    };
    let chosen = dist.choose(mirror.accept, version).map_err(|source| {
        let hint = match (version, mirror.accept) {
            (Some(_), _) | (None, Accept::Unstable) => String::new(),
            (None, Accept::Stable) => {
                "; pass --testing to accept testing releases, --unstable for any".into()
            }
            (None, Accept::Testing) => "; pass --unstable to accept any release".into(),
        };
        DistError::NoRelease { source: Box::new(source), hint }
    })?;
    let meta = client.meta(&chosen.dist, &chosen.version).map_err(DistError::from_pgxn)?;
    let zip = client.download(&meta, &mirror.cache).map_err(DistError::from_pgxn)?;
    let limits = UnpackLimits::default();
    let top = meta.top_folder();
    let root = unpack_fresh(&zip, into, Some(&top), &limits)?;
    Ok(Fetched {
        root,
        release: SourceRelease {
            dist: meta.name.clone(),
            version: meta.version.clone(),
            release_status: Some(status(meta.release_status)),
            sha1: meta.digests.sha1.clone().unwrap_or_default(),
            mirror: Some(client.base().as_str().to_owned()),
            url: client.download_url(&meta.name, &meta.version).ok(),
            file: None,
        },
    })
}

/// The highest release (semantic version) of the statuses `accept` takes that satisfies `range`.
pub fn highest_satisfying(dist: &pgfarm_pgxn::Dist, accept: Accept, range: &str) -> Option<String> {
    dist.releases
        .iter()
        .filter(|(status, r)| accept.accepts(*status) && satisfies(&r.version, range))
        .filter_map(|(_, r)| pgfarm_pgxn::parse_version(&r.version).map(|v| (v, r)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r)| r.version.clone())
}

/// The release before `current`: the highest semantic version below it among the statuses
/// `accept` takes (plus `current`'s own status, so a testing release's predecessor may be a
/// testing one).
pub fn previous_release(dist: &pgfarm_pgxn::Dist, accept: Accept, current: &str) -> Option<String> {
    let current_v = pgfarm_pgxn::parse_version(current)?;
    let own = dist.releases.iter().find(|(_, r)| r.version == current).map(|(s, _)| s);
    dist.releases
        .iter()
        .filter(|(status, _)| accept.accepts(*status) || Some(*status) == own)
        .filter_map(|(_, r)| pgfarm_pgxn::parse_version(&r.version).map(|v| (v, r)))
        .filter(|(v, _)| *v < current_v)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r)| r.version.clone())
}

/// Unpacks `zip` into `into`, replacing what an earlier run of the same work folder left.
fn unpack_fresh(
    zip: &Path,
    into: &Path,
    top: Option<&str>,
    limits: &UnpackLimits,
) -> Result<PathBuf, DistError> {
    if let Some(top) = top {
        let old = into.join(top);
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| DistError::Archive {
                path: old.clone(),
                reason: format!("could not remove an earlier copy: {e}"),
            })?;
        }
    }
    pgfarm_pgxn::unpack(zip, into, top, limits).map(|u| u.root).map_err(DistError::from_pgxn)
}

/// Unpacks a zip without mirror metadata and reads its META.json for the release record.
fn unpacked_release(
    zip: &Path,
    options: &FetchOptions,
    top: Option<&str>,
) -> Result<(PathBuf, SourceRelease), DistError> {
    // A fresh folder per archive: the top folder's name is only known from the archive.
    let into = options.into.join(format!("zip-{}", std::process::id()));
    if into.exists() {
        let _ = std::fs::remove_dir_all(&into);
    }
    let root = unpack_fresh(zip, &into, top, &options.limits)?;
    let meta_path = root.join("META.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| DistError::Archive {
        path: zip.to_owned(),
        reason: format!("no readable META.json in its top folder: {e}"),
    })?;
    let meta: serde_json::Value = serde_json::from_str(&text).map_err(|e| DistError::Archive {
        path: meta_path.clone(),
        reason: format!("invalid JSON: {e}"),
    })?;
    let field = |name: &str| {
        meta.get(name).and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| {
            DistError::Archive {
                path: meta_path.clone(),
                reason: format!("field `{name}` is missing or not a string"),
            }
        })
    };
    let release_status = meta
        .get("release_status")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<ReleaseStatus>().ok());
    Ok((
        root,
        SourceRelease {
            dist: field("name")?,
            version: field("version")?,
            release_status,
            sha1: String::new(),
            mirror: None,
            url: None,
            file: None,
        },
    ))
}

fn status(status: pgfarm_pgxn::ReleaseStatus) -> ReleaseStatus {
    match status {
        pgfarm_pgxn::ReleaseStatus::Stable => ReleaseStatus::Stable,
        pgfarm_pgxn::ReleaseStatus::Testing => ReleaseStatus::Testing,
        pgfarm_pgxn::ReleaseStatus::Unstable => ReleaseStatus::Unstable,
    }
}

/// The SHA-1 of a file, lowercase hex.
pub fn sha1_file(path: &Path) -> Result<String, DistError> {
    let io =
        |e: std::io::Error| DistError::Archive { path: path.to_owned(), reason: e.to_string() };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = sha1::Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Downloads `url` (at most 256 MiB) into `{cache}/{sha1}/{file name}`; returns the path and
/// the SHA-1.
fn download_url(url: &str, cache: &Path) -> Result<(PathBuf, String), DistError> {
    let failed = |reason: String| DistError::Download { url: url.to_owned(), reason };
    let tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .user_agent(concat!("pgfarm/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let response = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(failed(format!("HTTP status {status}")));
    }
    std::fs::create_dir_all(cache).map_err(|e| failed(format!("{}: {e}", cache.display())))?;
    let partial = cache.join(format!("download-{}.partial", std::process::id()));
    let result = (|| -> Result<String, DistError> {
        let mut reader = response.into_body().into_reader();
        let mut out = std::fs::File::create(&partial)
            .map_err(|e| failed(format!("{}: {e}", partial.display())))?;
        let mut hasher = sha1::Sha1::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut done = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| failed(e.to_string()))?;
            if n == 0 {
                break;
            }
            done += n as u64;
            if done > MAX_ARCHIVE_BYTES {
                return Err(failed(format!("larger than the limit of {MAX_ARCHIVE_BYTES} bytes")));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| failed(format!("{}: {e}", partial.display())))?;
        }
        Ok(hex::encode(hasher.finalize()))
    })();
    let sha1 = match result {
        Ok(sha1) => sha1,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    let file = url.split(['?', '#']).next().unwrap_or(url).rsplit('/').next().unwrap_or("dist.zip");
    let dir = cache.join(&sha1);
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let path = dir.join(file);
    std::fs::rename(&partial, &path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
    Ok((path, sha1))
}

/// The PGXN prerequisites of an author's META.json (v1 `prereqs.{phase}.requires`, v2
/// `dependencies.packages.{phase}.requires` with package URLs), PostgreSQL itself and PL/pgSQL
/// left out, sorted and each name once (the strictest-looking range kept: the first seen per
/// phase order configure, build, runtime, test).
pub fn meta_requires(meta: &serde_json::Value) -> Vec<Prereq> {
    let mut out: Vec<Prereq> = Vec::new();
    let mut push = |phase: &'static str, package: String, name: String, source: String, range| {
        if name.eq_ignore_ascii_case("postgresql") || name.eq_ignore_ascii_case("plpgsql") {
            return;
        }
        if out.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
            return;
        }
        out.push(Prereq { phase, package, name, source, range });
    };
    let range_text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (phase, key) in
        [("configure", "configure"), ("build", "build"), ("run", "runtime"), ("test", "test")]
    {
        if let Some(requires) =
            meta.pointer(&format!("/prereqs/{key}/requires")).and_then(|r| r.as_object())
        {
            for (name, range) in requires {
                push(
                    phase,
                    format!("pkg:pgxn/{}", name.to_lowercase()),
                    name.clone(),
                    "pgxn".into(),
                    range_text(range),
                );
            }
        }
        let v2 = if key == "runtime" { "run" } else { key };
        if let Some(requires) = meta
            .pointer(&format!("/dependencies/packages/{v2}/requires"))
            .and_then(|r| r.as_object())
        {
            for (package, range) in requires {
                let rest = package.strip_prefix("pkg:").unwrap_or(package);
                let rest = rest.split(['@', '?', '#']).next().unwrap_or(rest);
                let (source, path) = rest.split_once('/').unwrap_or(("", rest));
                let name = path.rsplit('/').next().unwrap_or(path).to_owned();
                push(phase, package.clone(), name, source.to_owned(), range_text(range));
            }
        }
    }
    out.sort_by_key(|p| p.name.to_lowercase());
    out
}

/// Whether `version` satisfies a META version range (`0` any, `1.2.0` at least, comparisons
/// joined by commas: `>= 1.2.0, < 2.0.0`), compared as dotted versions (`1.2` = `1.2.0`).
pub fn satisfies(version: &str, range: &str) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let norm = |v: &str| {
        let mut parts: Vec<&str> = v.trim().split('.').collect();
        while parts.len() < 3 {
            parts.push("0");
        }
        parts.join(".")
    };
    let v = norm(version);
    range.split(',').map(str::trim).filter(|c| !c.is_empty()).all(|clause| {
        let (op, wanted) = ["==", "!=", ">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest.trim())))
            .unwrap_or((">=", clause));
        if op == ">=" && wanted == "0" {
            return true;
        }
        let ord = crate::extension::compare_versions(&v, &norm(wanted));
        match op {
            "==" => ord == Equal,
            "!=" => ord != Equal,
            ">=" => ord != Less,
            "<=" => ord != Greater,
            ">" => ord == Greater,
            _ => ord == Less,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_is_parsed_once() {
        assert_eq!(Target::parse(".").unwrap(), Target::Dir(".".into()));
        assert_eq!(
            Target::parse("pgxn:pgTAP").unwrap(),
            Target::Pgxn { name: "pgTAP".into(), version: None }
        );
        assert_eq!(
            Target::parse("pgxn:pair@0.1.6").unwrap(),
            Target::Pgxn { name: "pair".into(), version: Some("0.1.6".into()) }
        );
        assert_eq!(
            Target::parse("dl/pair-0.1.7.zip").unwrap(),
            Target::Zip("dl/pair-0.1.7.zip".into())
        );
        assert_eq!(
            Target::parse("https://x.example/p/pair-0.1.7.zip").unwrap(),
            Target::Url("https://x.example/p/pair-0.1.7.zip".into())
        );
        for bad in ["pgxn:", "pgxn:a b", "pgxn:x@", "https://x.example/dist"] {
            let err = Target::parse(bad).unwrap_err();
            assert!(err.is_usage() && err.to_string().starts_with(bad), "{bad}: {err}");
        }
        assert_eq!(Target::parse("pgxn:pgTAP@1.3.3").unwrap().label(), "pgtap");
        assert_eq!(Target::parse("http://h/a/pair-0.1.7.zip?x=1").unwrap().label(), "pair-0.1.7");
    }

    #[test]
    fn ranges() {
        assert!(satisfies("1.2", "0"));
        assert!(satisfies("1.2", "1.2.0"));
        assert!(!satisfies("1.2", "1.3.0"));
        assert!(satisfies("1.10.0", ">= 1.9.0, < 2.0.0"));
        assert!(!satisfies("2.0", ">= 1.9.0, < 2.0.0"));
        assert!(satisfies("1.3.3", "== 1.3.3") && !satisfies("1.3.3", "!= 1.3.3"));
    }

    #[test]
    fn prerequisites_of_v1_and_v2_metas() {
        let v1: serde_json::Value = serde_json::json!({"prereqs": {
            "runtime": {"requires": {"PostgreSQL": "14.0.0", "plpgsql": 0, "pg_partman": "4.0.0"}},
            "test": {"requires": {"pgTAP": "1.3.0"}}}});
        let got: Vec<(String, &str, String)> =
            meta_requires(&v1).into_iter().map(|p| (p.name, p.phase, p.range)).collect();
        assert_eq!(
            got,
            [
                ("pg_partman".into(), "run", "4.0.0".into()),
                ("pgTAP".into(), "test", "1.3.0".into())
            ]
        );
        let v2: serde_json::Value = serde_json::json!({"dependencies": {"packages": {
            "run": {"requires": {"pkg:postgres/hstore": 0}},
            "test": {"requires": {"pkg:pgxn/pgtap": ">= 1.2.0"}}}}});
        let got: Vec<(String, String)> =
            meta_requires(&v2).into_iter().map(|p| (p.name, p.source)).collect();
        assert_eq!(got, [("hstore".into(), "postgres".into()), ("pgtap".into(), "pgxn".into())]);
    }
}
