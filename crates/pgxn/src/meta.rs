//! `/dist/{dist}/{version}/META.json`: the author's META plus PGXN's release fields, validated and
//! read with `pgxn_meta`.

use crate::docs::ReleaseStatus;
use crate::{Error, Result};
use pgxn_meta::release::Release;
use serde_json::Value;

/// A release's META.json as a mirror serves it.
#[derive(Debug)]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub abstract_: String,
    /// The PGXN user who uploaded the release.
    pub user: String,
    /// UTC, RFC 3339 (`2020-10-25T21:54:02Z`).
    pub date: String,
    pub release_status: ReleaseStatus,
    pub digests: Digests,
    /// What the META says about the PostgreSQL server.
    pub postgres: PgRange,
    /// `requires` prerequisites other than PostgreSQL itself, every phase.
    pub requires: Vec<Prereq>,
    /// Extensions the distribution provides (their names).
    pub extensions: Vec<String>,
    /// v2 `contents.modules` with `preload: "server"`: need `shared_preload_libraries`.
    pub preload_server: Vec<String>,
    /// v2 `contents.modules` with `preload: "session"`.
    pub preload_session: Vec<String>,
    /// The validated metadata (v1 converted to v2 by `pgxn_meta`).
    pub release: Release,
    /// The document as served.
    pub raw: Value,
}

/// Digests of the release archive, lowercase hex. A v1 release always has SHA-1 (the only digest
/// in production); a v2 one may carry only SHA-256 or SHA-512.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

impl Digests {
    /// The cache key: the SHA-1, else the SHA-256, else the SHA-512.
    pub fn key(&self) -> Option<&str> {
        self.sha1.as_deref().or(self.sha256.as_deref()).or(self.sha512.as_deref())
    }
}

/// One `requires` prerequisite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prereq {
    /// `configure`, `build`, `test`, `run` (v1's `runtime`) or `develop`.
    pub phase: &'static str,
    /// The package URL: `pkg:pgxn/pgtap`, `pkg:postgres/hstore` (a contrib module), ...
    pub package: String,
    /// The last part of `package` (`pgtap`).
    pub name: String,
    /// `pgxn`, `postgres`, or another purl type.
    pub source: String,
    /// A version range as written: `0` (any), `1.2.0` (at least), `>= 1.2.0, < 2.0.0`.
    pub range: String,
}

/// The PostgreSQL versions a release declares it works with: comparisons that must all hold
/// (`[]` = any version).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgRange {
    pub clauses: Vec<(Op, PgVersion)>,
    /// The range as written, for messages (`None` when the META says nothing).
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

/// A PostgreSQL version from a META range: `16`, `9.1.0`, `16.2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PgVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl PgRange {
    /// Parses a META version range (`0`, `9.1.0`, `>= 9.1.0, < 16`).
    pub fn parse(text: &str) -> Result<PgRange, String> {
        let mut clauses = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (op, version) = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
            ]
            .iter()
            .find_map(|(p, op)| part.strip_prefix(p).map(|rest| (*op, rest.trim())))
            .unwrap_or((Op::Ge, part));
            if op == Op::Ge && version == "0" {
                continue;
            }
            let mut numbers = version.split('.').map(|n| n.parse::<u32>());
            let mut next = || {
                numbers
                    .next()
                    .transpose()
                    .map_err(|_| format!("`{part}` is not a version comparison"))
            };
            let major = next()?.ok_or_else(|| format!("`{part}` has no version"))?;
            let v = PgVersion { major, minor: next()?.unwrap_or(0), patch: next()?.unwrap_or(0) };
            if next()?.is_some() {
                return Err(format!("`{part}` has too many version parts"));
            }
            clauses.push((op, v));
        }
        Ok(PgRange { clauses, text: Some(text.to_owned()) })
    }

    /// Whether some release of PostgreSQL major `major` (10+: `16` covers 16.0, 16.1, ...; 9.x:
    /// pass 9 for any 9.x) satisfies every clause, each judged on its own.
    pub fn allows_major(&self, major: u32) -> bool {
        self.clauses.iter().all(|(op, v)| match op {
            Op::Ge | Op::Gt => major >= v.major,
            Op::Lt => major < v.major || (major == v.major && (v.minor, v.patch) > (0, 0)),
            Op::Le => major <= v.major,
            Op::Eq => major == v.major,
            Op::Ne => true,
        })
    }
}

impl Meta {
    /// Validates and reads a mirror's META.json; `url` only names it in errors.
    pub fn from_slice(bytes: &[u8], url: &str) -> Result<Meta> {
        let raw: Value = serde_json::from_slice(bytes).map_err(|e| Error::Document {
            url: url.to_owned(),
            document: "META.json",
            reason: e.to_string(),
        })?;
        Meta::from_value(raw, url)
    }

    pub fn from_value(raw: Value, url: &str) -> Result<Meta> {
        let field = |field: &str, reason: String| Error::Field {
            url: url.to_owned(),
            field: field.to_owned(),
            reason,
        };
        let Value::Object(object) = &raw else {
            return Err(Error::Document {
                url: url.to_owned(),
                document: "META.json",
                reason: "not a JSON object".into(),
            });
        };
        let text = |name: &str| -> Result<String> {
            match object.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(field(name, "not a string".into())),
                None => Err(field(name, "missing".into())),
            }
        };
        // PGXN's mirror META lacks `meta-spec` (v1 documents say nothing else); pgxn_meta needs it.
        let mut for_validation = raw.clone();
        if let Value::Object(o) = &mut for_validation
            && !o.contains_key("meta-spec")
        {
            o.insert("meta-spec".into(), serde_json::json!({"version": "1.0.0"}));
        }
        let v1 = !object.contains_key("meta-spec")
            || object["meta-spec"]["version"].as_str().is_some_and(|v| v.starts_with("1."));
        if v1 {
            // PGXN adds these three to every v1 release; say which one is missing or malformed.
            let sha1 = text("sha1")?;
            if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(field("sha1", format!("{sha1:?} is not 40 hexadecimal digits")));
            }
            text("user")?;
            text("date")?;
        }
        let release_status = match object.get("release_status") {
            None => ReleaseStatus::Stable,
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
                field("release_status", format!("{v} is not stable, testing or unstable"))
            })?,
        };
        let postgres = pg_range(object, url)?;
        let release = Release::try_from(for_validation)
            .map_err(|e| Error::Meta { url: url.to_owned(), reason: e.to_string() })?;
        let payload = release.release();
        let user = payload.user().to_owned();
        let date = payload.date().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let digests = payload.digests();
        let digests = Digests {
            sha1: digests.sha1().map(hex::encode),
            sha256: digests.sha256().map(hex::encode),
            sha512: digests.sha512().map(hex::encode),
        };
        if digests.key().is_none() {
            return Err(field("digests", "the release carries no digest".into()));
        }

        let mut requires = Vec::new();
        if let Some(packages) = release.dependencies().and_then(|d| d.packages()) {
            for (phase, p) in [
                ("configure", packages.configure()),
                ("build", packages.build()),
                ("test", packages.test()),
                ("run", packages.run()),
                ("develop", packages.develop()),
            ] {
                for (package, range) in p.and_then(|p| p.requires()).into_iter().flatten() {
                    let (source, name) = purl_parts(package);
                    requires.push(Prereq {
                        phase,
                        package: package.clone(),
                        name,
                        source,
                        range: range.to_string(),
                    });
                }
            }
        }
        requires.sort_by(|a, b| (a.phase, &a.package).cmp(&(b.phase, &b.package)));

        let contents = release.contents();
        let mut extensions: Vec<String> =
            contents.extensions().into_iter().flatten().map(|(n, _)| n.clone()).collect();
        extensions.sort();
        let mut preload_server = Vec::new();
        let mut preload_session = Vec::new();
        for (name, module) in contents.modules().into_iter().flatten() {
            match module.preload() {
                Some(pgxn_meta::dist::Preload::Server) => preload_server.push(name.clone()),
                Some(pgxn_meta::dist::Preload::Session) => preload_session.push(name.clone()),
                None => {}
            }
        }
        preload_server.sort();
        preload_session.sort();

        Ok(Meta {
            name: release.name().to_owned(),
            version: text("version")?,
            abstract_: release.abs_tract().to_owned(),
            user,
            date,
            release_status,
            digests,
            postgres,
            requires,
            extensions,
            preload_server,
            preload_session,
            release,
            raw,
        })
    }
}

fn purl_parts(purl: &str) -> (String, String) {
    let rest = purl.strip_prefix("pkg:").unwrap_or(purl);
    let rest = rest.split(['@', '?', '#']).next().unwrap_or(rest);
    let (source, path) = rest.split_once('/').unwrap_or(("", rest));
    (source.to_owned(), path.rsplit('/').next().unwrap_or(path).to_owned())
}

/// The PostgreSQL range: v1 `prereqs.*.requires.PostgreSQL` (every phase's clauses together;
/// `pgxn_meta`'s v1 conversion keeps only a plain minimum), or v2 `dependencies.postgres.version`.
fn pg_range(object: &serde_json::Map<String, Value>, url: &str) -> Result<PgRange> {
    let mut texts = Vec::new();
    let mut fields = Vec::new();
    if let Some(Value::Object(prereqs)) = object.get("prereqs") {
        for (phase, relations) in prereqs {
            if let Some(Value::Object(requires)) = relations.get("requires") {
                for (name, range) in requires {
                    if name.eq_ignore_ascii_case("postgresql") {
                        let text = match range {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => String::new(),
                        };
                        fields.push(format!("prereqs.{phase}.requires.{name}"));
                        texts.push(text);
                    }
                }
            }
        }
    }
    if let Some(Value::String(v)) =
        object.get("dependencies").and_then(|d| d.get("postgres")).and_then(|p| p.get("version"))
    {
        fields.push("dependencies.postgres.version".into());
        texts.push(v.clone());
    }
    let mut range = PgRange::default();
    for (text, field) in texts.iter().zip(&fields) {
        let part = PgRange::parse(text).map_err(|reason| Error::Field {
            url: url.to_owned(),
            field: field.clone(),
            reason,
        })?;
        range.clauses.extend(part.clauses);
    }
    if !texts.is_empty() {
        range.text = Some(texts.join(", "));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let any = PgRange::parse("0").unwrap();
        assert!(any.clauses.is_empty() && any.allows_major(13));
        let min = PgRange::parse("9.1.0").unwrap();
        assert!(min.allows_major(13) && !min.allows_major(8));
        let r = PgRange::parse(">= 14, < 17").unwrap();
        assert_eq!([13, 14, 16, 17].map(|m| r.allows_major(m)), [false, true, true, false]);
        let r = PgRange::parse(">= 16.2, <= 16, != 16.3").unwrap();
        assert_eq!([15, 16, 17].map(|m| r.allows_major(m)), [false, true, false]);
        assert!(PgRange::parse("< 16.1").unwrap().allows_major(16));
        assert!(PgRange::parse(">= banana").is_err());
        assert!(PgRange::parse("1.2.3.4").is_err());
    }

    #[test]
    fn purls() {
        assert_eq!(purl_parts("pkg:pgxn/pgtap"), ("pgxn".into(), "pgtap".into()));
        assert_eq!(purl_parts("pkg:postgres/hstore@1.8"), ("postgres".into(), "hstore".into()));
    }
}
