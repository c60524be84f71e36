//! Writing a PGXN mirror folder: what `pgfarm pgxn mirror` does, for a private mirror of a
//! team's extensions and for tests and the main job, which need a mirror with real archives.
//!
//! The layout is the one PGXN's rsync mirrors have (`index.json` with the mirror templates,
//! `dist/{dist}.json`, `dist/{dist}/{version}/META.json` and `{dist}-{version}.zip`,
//! `extension/{extension}.json`, `user/{user}.json`, `stats/dist.json`; names and versions lowercased
//! in paths), so [`crate::Client`] reads it over `file://` or HTTP like any mirror.
//!
//! [`Mirror::add`] archives an extension's source folder as a release: the zip holds one top
//! folder `{dist}-{version}/`, entries sorted, times fixed and unix modes kept (symlinks stay
//! symlinks), so the same folder always gives the same archive and SHA-1. The release's META is
//! the folder's own `META.json` (v1), or one written from its control file when it has none. The
//! mirror's META adds PGXN's fields (`user`, `date`, `sha1`, `release_status`), and the other
//! documents are updated in place (a release added again replaces itself). Every file is written
//! to a temporary name and renamed.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha1::Digest as _;

use crate::docs::{Dist, ReleaseEntry, ReleaseStatus, Releases};
use crate::{Error, Meta, Result};

/// PGXN's mirror templates (`index.json` of a mirror).
pub const MIRROR_TEMPLATES: [(&str, &str); 10] = [
    ("download", "/dist/{dist}/{version}/{dist}-{version}.zip"),
    ("readme", "/dist/{dist}/{version}/README.txt"),
    ("meta", "/dist/{dist}/{version}/META.json"),
    ("dist", "/dist/{dist}.json"),
    ("extension", "/extension/{extension}.json"),
    ("user", "/user/{user}.json"),
    ("tag", "/tag/{tag}.json"),
    ("stats", "/stats/{stats}.json"),
    ("mirrors", "/meta/mirrors.json"),
    ("spec", "/meta/spec.{format}"),
];

/// How many releases `stats/dist.json` lists, as PGXN's does.
pub const RECENT: usize = 56;

/// One release to add to a mirror.
#[derive(Debug, Clone)]
pub struct MirrorRelease {
    /// The extension's source folder (its `META.json` or control file names the release).
    pub source: PathBuf,
    /// The release status; `None` takes the META's `release_status` (stable when absent).
    pub status: Option<ReleaseStatus>,
    /// UTC, RFC 3339 (`2026-12-06T10:00:00Z`); `None` is now.
    pub date: Option<String>,
    /// The PGXN user who "uploaded" it.
    pub user: String,
    /// The release's version instead of the META's (or the control file's `default_version`).
    pub version: Option<String>,
    /// The licence written into a META made from a control file (PGXN requires one of its v1
    /// names; `None` is `postgresql`). A folder's own META.json keeps its own.
    pub license: Option<String>,
}

/// What [`Mirror::add`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The distribution's name as its META writes it.
    pub dist: String,
    pub version: String,
    pub status: ReleaseStatus,
    /// SHA-1 of the archive, lowercase hex.
    pub sha1: String,
    /// The archive.
    pub zip: PathBuf,
    /// Files in the archive (folders and symlinks included).
    pub n_members: usize,
}

/// A mirror folder being written.
#[derive(Debug, Clone)]
pub struct Mirror {
    root: PathBuf,
}

impl Mirror {
    /// Opens `root` as a mirror, creating it and its `index.json` (PGXN's mirror templates) when
    /// absent. An existing `index.json` is kept as it is.
    pub fn create(root: &Path) -> Result<Mirror> {
        fs::create_dir_all(root).map_err(|e| Error::io("create directory", root, e))?;
        let index = root.join("index.json");
        if !index.exists() {
            let templates: serde_json::Map<String, Value> =
                MIRROR_TEMPLATES.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
            write_json(&index, &Value::Object(templates))?;
        }
        Ok(Mirror { root: root.to_owned() })
    }

    /// The mirror's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Its `file://` base URL.
    pub fn file_url(&self) -> Result<String> {
        let abs = fs::canonicalize(&self.root).map_err(|e| Error::io("resolve", &self.root, e))?;
        Ok(format!("file://{}/", abs.display()))
    }

    /// Archives `release.source` and publishes it: zip, mirror META, dist, extension, user and
    /// stats documents.
    pub fn add(&self, release: &MirrorRelease) -> Result<Published> {
        let source = &release.source;
        if !source.is_dir() {
            return Err(Error::io(
                "read",
                source,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
            ));
        }
        let mut meta = author_meta(source, release.license.as_deref().unwrap_or("postgresql"))?;
        if let Some(version) = &release.version {
            meta["version"] = json!(version);
            if let Some(Value::Object(provides)) = meta.get_mut("provides") {
                for entry in provides.values_mut() {
                    entry["version"] = json!(version);
                }
            }
        }
        let status = match release.status {
            Some(status) => status,
            None => match meta.get("release_status").and_then(Value::as_str) {
                None => ReleaseStatus::Stable,
                Some(s) => serde_json::from_value(json!(s)).map_err(|_| Error::Field {
                    url: source.join("META.json").display().to_string(),
                    field: "release_status".into(),
                    reason: format!("{s:?} is not stable, testing or unstable"),
                })?,
            },
        };
        if status == ReleaseStatus::Stable {
            if let Value::Object(o) = &mut meta {
                o.remove("release_status");
            }
        } else {
            meta["release_status"] = json!(status.as_str());
        }
        let name = string(&meta, "name", source)?;
        let version = string(&meta, "version", source)?;
        let abstract_ = meta.get("abstract").and_then(Value::as_str).unwrap_or("").to_owned();
        let (dist_low, version_low) = (name.to_lowercase(), version.to_lowercase());
        let top = format!("{dist_low}-{version_low}");
        let folder = self.root.join("dist").join(&dist_low).join(&version_low);
        fs::create_dir_all(&folder).map_err(|e| Error::io("create directory", &folder, e))?;

        // The archive carries the author's META (as a release's zip does).
        let author_text = serde_json::to_string_pretty(&meta).unwrap_or_default() + "\n";
        let zip_path = folder.join(format!("{top}.zip"));
        let n_members = write_zip(source, &top, &author_text, &zip_path)?;
        let sha1 = sha1_of(&zip_path)?;

        let date = match &release.date {
            Some(date) => date.clone(),
            None => now_rfc3339(),
        };
        // PGXN's mirror META: the author's plus its release fields, without `meta-spec`.
        let mut mirror_meta = meta.clone();
        if let Value::Object(o) = &mut mirror_meta {
            o.remove("meta-spec");
            o.insert("release_status".into(), json!(status.as_str()));
            o.insert("user".into(), json!(release.user));
            o.insert("date".into(), json!(date));
            o.insert("sha1".into(), json!(sha1));
        }
        let meta_path = folder.join("META.json");
        let meta_url = meta_path.display().to_string();
        // What a client will read must be valid: check it before it is published.
        Meta::from_value(mirror_meta.clone(), &meta_url)?;
        write_json(&meta_path, &mirror_meta)?;

        let entry = ReleaseEntry { version: version.clone(), date: date.clone() };
        let newest = self.update_dist(&name, &dist_low, status, &entry)?;
        self.update_user(&release.user, &name, status, &entry)?;
        let provides: Vec<(String, String)> = match meta.get("provides") {
            Some(Value::Object(p)) => p
                .iter()
                .map(|(ext, v)| {
                    (ext.clone(), v.get("version").and_then(Value::as_str).unwrap_or("").to_owned())
                })
                .collect(),
            _ => vec![(dist_low.clone(), version.clone())],
        };
        for (extension, ext_version) in &provides {
            let release =
                ExtRelease { dist: &name, version: &version, status, sha1: &sha1, newest };
            self.update_extension(extension, ext_version, &release)?;
        }
        self.update_stats(&name, &version, &abstract_, &date, &release.user)?;
        Ok(Published { dist: name, version, status, sha1, zip: zip_path, n_members })
    }

    fn update_dist(
        &self,
        name: &str,
        low: &str,
        status: ReleaseStatus,
        entry: &ReleaseEntry,
    ) -> Result<bool> {
        let path = self.root.join("dist").join(format!("{low}.json"));
        let mut dist: Dist = read_json(&path)?
            .unwrap_or(Dist { name: name.to_owned(), releases: Releases::default() });
        for s in ReleaseStatus::ALL {
            list_mut(&mut dist.releases, s).retain(|r| r.version != entry.version);
        }
        insert_newest_first(list_mut(&mut dist.releases, status), entry.clone());
        write_json(&path, &serde_json::to_value(&dist).unwrap_or_default())?;
        Ok(dist.releases.of(status).first().is_some_and(|r| r.version == entry.version))
    }

    fn update_user(
        &self,
        user: &str,
        dist: &str,
        status: ReleaseStatus,
        entry: &ReleaseEntry,
    ) -> Result<()> {
        let path = self.root.join("user").join(format!("{}.json", user.to_lowercase()));
        let mut doc = read_json::<Value>(&path)?.unwrap_or_else(|| {
            json!({"nickname": user.to_lowercase(), "name": user, "email": format!("{}@localhost", user.to_lowercase()), "releases": {}})
        });
        let releases = &mut doc["releases"];
        if !releases.is_object() {
            *releases = json!({});
        }
        let mut by_status: Releases =
            serde_json::from_value(releases[dist].clone()).unwrap_or_default();
        for s in ReleaseStatus::ALL {
            list_mut(&mut by_status, s).retain(|r| r.version != entry.version);
        }
        insert_newest_first(list_mut(&mut by_status, status), entry.clone());
        releases[dist] = serde_json::to_value(&by_status).unwrap_or_default();
        write_json(&path, &doc)
    }

    fn update_extension(
        &self,
        extension: &str,
        ext_version: &str,
        release: &ExtRelease<'_>,
    ) -> Result<()> {
        let ExtRelease { dist, version, status, sha1, newest } = *release;
        let low = extension.to_lowercase();
        let path = self.root.join("extension").join(format!("{low}.json"));
        let mut doc =
            read_json::<Value>(&path)?.unwrap_or_else(|| json!({"extension": low, "versions": {}}));
        // The status's entry is its newest release (an older one added later leaves it).
        if newest || doc.get(status.as_str()).is_none() {
            doc[status.as_str()] = json!({"dist": dist, "version": version, "sha1": sha1});
        }
        let versions = &mut doc["versions"];
        if !versions.is_object() {
            *versions = json!({});
        }
        let mut list: Vec<Value> = versions[ext_version].as_array().cloned().unwrap_or_default();
        list.retain(|v| v["dist"] != json!(dist) || v["version"] != json!(version));
        list.insert(0, json!({"dist": dist, "version": version, "status": status.as_str()}));
        versions[ext_version] = Value::Array(list);
        // `latest`: the most stable status the extension has a release in.
        let latest = ReleaseStatus::ALL.into_iter().find(|s| doc.get(s.as_str()).is_some());
        doc["latest"] = json!(latest.unwrap_or(status).as_str());
        write_json(&path, &doc)
    }

    fn update_stats(
        &self,
        dist: &str,
        version: &str,
        abstract_: &str,
        date: &str,
        user: &str,
    ) -> Result<()> {
        let path = self.root.join("stats").join("dist.json");
        let mut recent: Vec<Value> = read_json::<Value>(&path)?
            .and_then(|doc| doc["recent"].as_array().cloned())
            .unwrap_or_default();
        recent.retain(|r| r["dist"] != json!(dist) || r["version"] != json!(version));
        recent.push(json!({"dist": dist, "version": version, "abstract": abstract_,
            "date": date, "user": user.to_lowercase(), "user_name": user}));
        recent
            .sort_by(|a, b| b["date"].as_str().unwrap_or("").cmp(a["date"].as_str().unwrap_or("")));
        recent.truncate(RECENT);
        // Counts over the whole mirror, from the dist documents.
        let (mut n_dists, mut n_releases) = (0usize, 0usize);
        let dist_dir = self.root.join("dist");
        for entry in fs::read_dir(&dist_dir).map_err(|e| Error::io("read", &dist_dir, e))? {
            let entry = entry.map_err(|e| Error::io("read", &dist_dir, e))?;
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "json")
                && let Some(doc) = read_json::<Dist>(&p)?
            {
                n_dists += 1;
                n_releases += doc.releases.iter().count();
            }
        }
        write_json(&path, &json!({"count": n_dists, "releases": n_releases, "recent": recent}))
    }
}

/// A release as an extension document lists it.
#[derive(Clone, Copy)]
struct ExtRelease<'a> {
    dist: &'a str,
    version: &'a str,
    status: ReleaseStatus,
    sha1: &'a str,
    /// The newest release of its status in its distribution.
    newest: bool,
}

fn list_mut(releases: &mut Releases, status: ReleaseStatus) -> &mut Vec<ReleaseEntry> {
    match status {
        ReleaseStatus::Stable => &mut releases.stable,
        ReleaseStatus::Testing => &mut releases.testing,
        ReleaseStatus::Unstable => &mut releases.unstable,
    }
}

/// Newest first by date; equal dates keep the newcomer first.
fn insert_newest_first(list: &mut Vec<ReleaseEntry>, entry: ReleaseEntry) {
    let at = list.iter().position(|r| r.date <= entry.date).unwrap_or(list.len());
    list.insert(at, entry);
}

fn string(meta: &Value, field: &str, source: &Path) -> Result<String> {
    meta.get(field).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| Error::Field {
        url: source.join("META.json").display().to_string(),
        field: field.to_owned(),
        reason: "missing or not a string".into(),
    })
}

/// The folder's `META.json` (v1), or a v1 META written from its first control file.
fn author_meta(source: &Path, license: &str) -> Result<Value> {
    let path = source.join("META.json");
    if path.is_file() {
        let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let meta: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Document {
            url: path.display().to_string(),
            document: "META.json",
            reason: e.to_string(),
        })?;
        if meta
            .pointer("/meta-spec/version")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with('2'))
        {
            return Err(Error::Field {
                url: path.display().to_string(),
                field: "meta-spec.version".into(),
                reason: "a v2 META needs PGXN's signed `certs`, which only PGXN can write; the mirror writer publishes v1 META files".into(),
            });
        }
        return Ok(meta);
    }
    let mut controls: Vec<PathBuf> = fs::read_dir(source)
        .map_err(|e| Error::io("read", source, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "control"))
        .collect();
    controls.sort();
    let Some(control) = controls.first() else {
        return Err(Error::Field {
            url: path.display().to_string(),
            field: "name".into(),
            reason: "the folder has neither a META.json nor a control file to name the release"
                .into(),
        });
    };
    let text = fs::read_to_string(control).map_err(|e| Error::io("read", control, e))?;
    let name = control.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut default_version = None;
    let mut comment = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim().trim_matches('\'').to_owned();
        match key.trim() {
            "default_version" => default_version = Some(value),
            "comment" => comment = Some(value),
            _ => {}
        }
    }
    let Some(default_version) = default_version else {
        return Err(Error::Field {
            url: control.display().to_string(),
            field: "default_version".into(),
            reason: "missing (needed to version the release; or give one)".into(),
        });
    };
    let version = semver_of(&default_version);
    let file = first_sql(source, &name).unwrap_or_else(|| format!("{name}.control"));
    Ok(json!({
        "name": name,
        "abstract": comment.unwrap_or_else(|| format!("The {name} extension")),
        "version": version,
        "maintainer": "unknown",
        "license": license,
        "provides": {name.clone(): {"file": file, "version": version}},
        "meta-spec": {"version": "1.0.0", "url": "https://pgxn.org/meta/spec.txt"},
    }))
}

/// `1.0` -> `1.0.0`, `2` -> `2.0.0`; a version that already has three parts stays.
fn semver_of(version: &str) -> String {
    let (core, rest) = match version.find(['-', '+']) {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    format!("{}{rest}", parts.join("."))
}

fn first_sql(source: &Path, name: &str) -> Option<String> {
    let mut files: Vec<String> = fs::read_dir(source)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".sql") && f.starts_with(name))
        .collect();
    files.sort();
    files.into_iter().next()
}

/// Folders pgfarm writes its own output into carry this marker (pgfarm-runner's `copy`); they and
/// `.git` are not part of a release.
const OUTPUT_MARKER: &str = ".pgfarm-output";

fn write_zip(source: &Path, top: &str, meta_text: &str, to: &Path) -> Result<usize> {
    use zip::write::SimpleFileOptions;
    let tmp = to.with_extension(format!("zip.{}.partial", std::process::id()));
    let file = fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let mut zip = zip::ZipWriter::new(file);
    let time = zip::DateTime::from_date_and_time(2000, 1, 1, 0, 0, 0).unwrap_or_default();
    let options = |mode: u32| {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(mode)
    };
    let zip_err =
        |e: zip::result::ZipError| Error::Zip { archive: to.to_owned(), reason: e.to_string() };
    let mut members = Vec::new();
    collect(source, Path::new(""), &mut members)?;
    members.sort();
    let mut n = 0;
    zip.add_directory(format!("{top}/"), options(0o755)).map_err(zip_err)?;
    n += 1;
    let mut wrote_meta = false;
    for relative in members {
        let path = source.join(&relative);
        let name = format!("{top}/{}", relative.to_string_lossy());
        let meta = fs::symlink_metadata(&path).map_err(|e| Error::io("read", &path, e))?;
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).map_err(|e| Error::io("read link", &path, e))?;
            zip.add_symlink(name, target.to_string_lossy(), options(0o777)).map_err(zip_err)?;
        } else if meta.is_dir() {
            zip.add_directory(format!("{name}/"), options(mode)).map_err(zip_err)?;
        } else if relative == Path::new("META.json") {
            zip.start_file(name, options(mode)).map_err(zip_err)?;
            zip.write_all(meta_text.as_bytes()).map_err(|e| Error::io("write", &tmp, e))?;
            wrote_meta = true;
        } else {
            zip.start_file(name, options(mode)).map_err(zip_err)?;
            let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
            zip.write_all(&bytes).map_err(|e| Error::io("write", &tmp, e))?;
        }
        n += 1;
    }
    if !wrote_meta {
        zip.start_file(format!("{top}/META.json"), options(0o644)).map_err(zip_err)?;
        zip.write_all(meta_text.as_bytes()).map_err(|e| Error::io("write", &tmp, e))?;
        n += 1;
    }
    let file = zip.finish().map_err(zip_err)?;
    file.sync_all().map_err(|e| Error::io("write", &tmp, e))?;
    fs::rename(&tmp, to).map_err(|e| Error::io("rename", &tmp, e))?;
    Ok(n)
}

fn collect(root: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(relative);
    for entry in fs::read_dir(&dir).map_err(|e| Error::io("read", &dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", &dir, e))?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let rel = relative.join(&name);
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io("read", &path, e))?;
        if file_type.is_dir() {
            if path.join(OUTPUT_MARKER).exists() {
                continue;
            }
            out.push(rel.clone());
            collect(root, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

fn sha1_of(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut hasher = sha1::Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Document {
            url: path.display().to_string(),
            document: "mirror",
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
    }
    let tmp = path.with_extension(format!("json.{}.partial", std::process::id()));
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    fs::write(&tmp, text).map_err(|e| Error::io("write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_get_three_parts() {
        assert_eq!(semver_of("1.0"), "1.0.0");
        assert_eq!(semver_of("2"), "2.0.0");
        assert_eq!(semver_of("1.2.3"), "1.2.3");
        assert_eq!(semver_of("1.0-beta1"), "1.0.0-beta1");
    }

    #[test]
    fn newer_releases_go_first() {
        let mut list = Vec::new();
        let e = |v: &str, d: &str| ReleaseEntry { version: v.into(), date: d.into() };
        insert_newest_first(&mut list, e("1", "2020-01-01T00:00:00Z"));
        insert_newest_first(&mut list, e("3", "2022-01-01T00:00:00Z"));
        insert_newest_first(&mut list, e("2", "2021-01-01T00:00:00Z"));
        let versions: Vec<&str> = list.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["3", "2", "1"]);
    }
}
