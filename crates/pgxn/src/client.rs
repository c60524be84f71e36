//! The client: index, documents, downloads into a checksum-keyed cache.

use crate::docs::{Dist, DistStats, ExtensionDoc, User};
use crate::meta::{Digests, Meta};
use crate::url::{BaseUrl, expand, file_path};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use sha1::Digest as _;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Size caps on what the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Any JSON document (default 16 MiB).
    pub document_bytes: u64,
    /// A release archive (default 256 MiB).
    pub archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { document_bytes: 16 << 20, archive_bytes: 256 << 20 }
    }
}

/// `GET {base}/index.json`: the URI templates of a mirror or API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub templates: BTreeMap<String, String>,
    url: String,
}

impl Index {
    /// The path of template `name` expanded with `vars` (values percent-encoded).
    pub fn path(&self, name: &str, vars: &[(&str, &str)]) -> Result<String> {
        let template = self
            .templates
            .get(name)
            .ok_or_else(|| Error::NoTemplate { url: self.url.clone(), name: name.to_owned() })?;
        expand(template, vars).map_err(|reason| Error::Template {
            name: name.to_owned(),
            template: template.clone(),
            reason,
        })
    }
}

/// A PGXN mirror or API server, its index read.
#[derive(Debug, Clone)]
pub struct Client {
    base: BaseUrl,
    index: Index,
    limits: Limits,
    agent: ureq::Agent,
}

/// An HTTPS base follows redirects only to HTTPS; a loopback HTTP base (tests) follows none, so
/// nothing leaves the machine over plain HTTP.
fn agent(https: bool) -> ureq::Agent {
    let tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .https_only(https)
        .max_redirects(if https { 5 } else { 0 })
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .user_agent(concat!("pgfarm/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

impl Client {
    /// Reads `{base}/index.json`.
    pub fn new(base: &str) -> Result<Client> {
        Client::with_limits(base, Limits::default())
    }

    pub fn with_limits(base: &str, limits: Limits) -> Result<Client> {
        let base = BaseUrl::parse(base)?;
        let https = base.as_str().starts_with("https://");
        let mut client = Client {
            index: Index { templates: BTreeMap::new(), url: base.join("/index.json") },
            base,
            limits,
            agent: agent(https),
        };
        let url = client.index.url.clone();
        let templates: BTreeMap<String, String> = client.document(&url, "index.json")?;
        client.index.templates = templates;
        Ok(client)
    }

    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The URL of template `name` expanded with `vars`.
    pub fn url(&self, name: &str, vars: &[(&str, &str)]) -> Result<String> {
        Ok(self.base.join(&self.index.path(name, vars)?))
    }

    /// `dist` template: the releases of a distribution. The name is lowercased, as PGXN stores it.
    pub fn dist(&self, dist: &str) -> Result<Dist> {
        let url = self.url("dist", &[("dist", &dist.to_lowercase())])?;
        self.document(&url, "dist")
    }

    /// The URL of a release's META.json (`meta` template, name and version lowercased).
    pub fn meta_url(&self, dist: &str, version: &str) -> Result<String> {
        self.url("meta", &[("dist", &dist.to_lowercase()), ("version", &version.to_lowercase())])
    }

    /// `meta` template: a release's META.json, validated.
    pub fn meta(&self, dist: &str, version: &str) -> Result<Meta> {
        let url = self.meta_url(dist, version)?;
        let bytes = self.get(&url, self.limits.document_bytes)?;
        Meta::from_slice(&bytes, &url)
    }

    /// The archive URL of a release (`download` template, name and version lowercased).
    pub fn download_url(&self, dist: &str, version: &str) -> Result<String> {
        self.url(
            "download",
            &[("dist", &dist.to_lowercase()), ("version", &version.to_lowercase())],
        )
    }

    /// `stats` template with `dist`: the counts and the most recent releases.
    pub fn dist_stats(&self) -> Result<DistStats> {
        let url = self.url("stats", &[("stats", "dist")])?;
        self.document(&url, "stats")
    }

    /// `user` template (the nickname lowercased, as PGXN stores it).
    pub fn user(&self, user: &str) -> Result<User> {
        let url = self.url("user", &[("user", &user.to_lowercase())])?;
        self.document(&url, "user")
    }

    /// `extension` template (the name lowercased, as PGXN stores it).
    pub fn extension(&self, extension: &str) -> Result<ExtensionDoc> {
        let url = self.url("extension", &[("extension", &extension.to_lowercase())])?;
        self.document(&url, "extension")
    }

    /// Downloads the release described by `meta` into `cache` unless it is already there, verifies
    /// every digest the release carries, and returns the archive's path:
    /// `{cache}/{sha1}/{dist}-{version}.zip` (lowercased; [`Digests::key`]), so the cache is keyed by
    /// checksum. A file
    /// whose digest differs is deleted and the error names both digests.
    pub fn download(&self, meta: &Meta, cache: &Path) -> Result<PathBuf> {
        let url = self.download_url(&meta.name, &meta.version)?;
        let key = meta.digests.key().ok_or_else(|| Error::Field {
            url: url.clone(),
            field: "digests".into(),
            reason: "the release carries no digest".into(),
        })?;
        let dir = cache.join(key);
        let file = format!("{}-{}.zip", meta.name.to_lowercase(), meta.version.to_lowercase());
        let path = dir.join(&file);
        if path.is_file() {
            match verify(&path, &meta.digests, &url) {
                Ok(()) => return Ok(path),
                // deleted by verify; fetch again
                Err(Error::Checksum { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        // per process, so that two downloads of one release never write the same file
        let partial = dir.join(format!("{file}.{}.partial", std::process::id()));
        let result = self
            .get_into(&url, &partial, self.limits.archive_bytes)
            .and_then(|()| verify(&partial, &meta.digests, &url));
        if let Err(err) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
        std::fs::rename(&partial, &path).map_err(|e| Error::io("rename", &partial, e))?;
        Ok(path)
    }

    fn document<T: DeserializeOwned>(&self, url: &str, document: &'static str) -> Result<T> {
        let bytes = self.get(url, self.limits.document_bytes)?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Document {
            url: url.to_owned(),
            document,
            reason: match e.path().to_string().as_str() {
                "." => e.inner().to_string(),
                path => format!("{path}: {}", e.inner()),
            },
        })
    }

    /// The body of `url`, at most `limit` bytes.
    pub fn get(&self, url: &str, limit: u64) -> Result<Vec<u8>> {
        if self.base.is_file() {
            let path = local(url)?;
            let size = std::fs::metadata(&path).map_err(|e| not_found_or(url, &path, e))?.len();
            if size > limit {
                return Err(Error::TooLarge { url: url.to_owned(), limit });
            }
            return std::fs::read(&path).map_err(|e| not_found_or(url, &path, e));
        }
        let response = self.call(url)?;
        response
            .into_body()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| http_error(url, limit, e))
    }

    /// Streams `url` into the file `to`, at most `limit` bytes.
    fn get_into(&self, url: &str, to: &Path, limit: u64) -> Result<()> {
        let mut reader: Box<dyn Read> = if self.base.is_file() {
            let path = local(url)?;
            Box::new(std::fs::File::open(&path).map_err(|e| not_found_or(url, &path, e))?)
        } else {
            Box::new(self.call(url)?.into_body().into_reader())
        };
        let mut out = std::fs::File::create(to).map_err(|e| Error::io("create", to, e))?;
        let mut buf = vec![0u8; 1 << 16];
        let mut done = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| Error::Http { url: url.to_owned(), reason: e.to_string() })?;
            if n == 0 {
                break;
            }
            done += n as u64;
            if done > limit {
                return Err(Error::TooLarge { url: url.to_owned(), limit });
            }
            out.write_all(&buf[..n]).map_err(|e| Error::io("write", to, e))?;
        }
        out.sync_all().map_err(|e| Error::io("write", to, e))
    }

    fn call(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let response = self.agent.get(url).call().map_err(|e| http_error(url, 0, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::Status { url: url.to_owned(), status });
        }
        Ok(response)
    }
}

fn local(url: &str) -> Result<PathBuf> {
    file_path(url)
        .ok_or_else(|| Error::BaseUrl { url: url.to_owned(), reason: "not a file URL".into() })
}

fn not_found_or(url: &str, path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::NotFound { url: url.to_owned() }
    } else {
        Error::io("read", path, e)
    }
}

fn http_error(url: &str, limit: u64, e: ureq::Error) -> Error {
    let url = url.to_owned();
    match e {
        ureq::Error::StatusCode(404) => Error::NotFound { url },
        ureq::Error::StatusCode(status) => Error::Status { url, status },
        ureq::Error::BodyExceedsLimit(_) => Error::TooLarge { url, limit },
        other => Error::Http { url, reason: other.to_string() },
    }
}

/// Checks `path` against every digest in `digests` (SHA-1, SHA-256 and SHA-512, each when the
/// release carries it). On a mismatch the file is deleted and the error names both digests;
/// `url` names where the file came from.
pub fn verify(path: &Path, digests: &Digests, url: &str) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut sha1 = sha1::Sha1::new();
    let mut sha256 = digests.sha256.as_ref().map(|_| sha2::Sha256::new());
    let mut sha512 = digests.sha512.as_ref().map(|_| sha2::Sha512::new());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        sha1.update(&buf[..n]);
        if let Some(h) = &mut sha256 {
            h.update(&buf[..n]);
        }
        if let Some(h) = &mut sha512 {
            h.update(&buf[..n]);
        }
    }
    let checks = [
        ("SHA-512", digests.sha512.as_deref(), sha512.map(|h| hex::encode(h.finalize()))),
        ("SHA-256", digests.sha256.as_deref(), sha256.map(|h| hex::encode(h.finalize()))),
        ("SHA-1", digests.sha1.as_deref(), Some(hex::encode(sha1.finalize()))),
    ];
    for (algorithm, expected, actual) in checks {
        if let (Some(expected), Some(actual)) = (expected, actual)
            && !expected.eq_ignore_ascii_case(&actual)
        {
            let _ = std::fs::remove_file(path);
            return Err(Error::Checksum {
                url: url.to_owned(),
                path: path.to_owned(),
                algorithm,
                expected: expected.to_ascii_lowercase(),
                actual,
            });
        }
    }
    Ok(())
}
