//! The download cache: a pinned file is used from the cache when its sha256 matches, else
//! fetched (resuming a `.partial` left by an interrupted download), checked, and renamed into
//! place. A file with the wrong digest is deleted and reported with both digests.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::pins::{Pinned, Source};
use crate::{Event, Options};

/// The sha256 of a file, lowercase hex.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut hasher = Sha256::new();
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

/// Checks `path` against the pin; deletes it on a mismatch.
pub(crate) fn verify(path: &Path, pinned: &Pinned) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual != pinned.sha256 {
        let _ = std::fs::remove_file(path);
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            expected: pinned.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The cached, verified file for `pinned`, downloading it first when needed.
pub(crate) fn ensure(
    options: &Options,
    pinned: &Pinned,
    on_event: &mut dyn FnMut(Event),
) -> Result<PathBuf> {
    let cache = &options.cache;
    std::fs::create_dir_all(cache).map_err(|e| Error::io("create directory", cache, e))?;
    let path = cache.join(pinned.file);
    if path.is_file() {
        verify(&path, pinned)?;
        on_event(Event::FromCache { file: pinned.file.to_owned() });
        return Ok(path);
    }
    let partial = cache.join(format!("{}.partial", pinned.file));
    match pinned.source {
        Source::PyPi | Source::Npm => {
            let url = locate(options, pinned)?;
            download(&url, &partial, pinned.file, on_event)?;
        }
        Source::Debian => apt_download(cache, pinned, &partial, on_event)?,
    }
    verify(&partial, pinned).map_err(|err| match err {
        Error::Checksum { expected, actual, .. } => {
            Error::Checksum { path: path.clone(), expected, actual }
        }
        other => other,
    })?;
    std::fs::rename(&partial, &path).map_err(|e| Error::io("rename", &partial, e))?;
    Ok(path)
}

fn agent() -> ureq::Agent {
    let tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .user_agent(concat!("pgfarm/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

fn http(url: &str, err: impl std::fmt::Display) -> Error {
    Error::Http { url: url.to_owned(), reason: err.to_string() }
}

/// The URL of a pinned file, from the registry's own index document (the pinned digest is
/// compared with the one the index states, when it states one).
fn locate(options: &Options, pinned: &Pinned) -> Result<String> {
    let (index, accept) = match pinned.source {
        Source::PyPi => (
            format!("{}/{}/", options.pypi_index.trim_end_matches('/'), pinned.package),
            "application/vnd.pypi.simple.v1+json",
        ),
        Source::Npm => (
            format!(
                "{}/{}/{}",
                options.npm_registry.trim_end_matches('/'),
                pinned.package.replace('/', "%2f"),
                pinned.version
            ),
            "application/json",
        ),
        Source::Debian => unreachable!("Debian packages are fetched by apt-get, not by URL"),
    };
    let bad = |reason: String| Error::Index { index: index.clone(), reason };
    let body = agent()
        .get(&index)
        .header("Accept", accept)
        .call()
        .map_err(|e| http(&index, e))?
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .map_err(|e| http(&index, e))?;
    let doc: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| bad(format!("not a JSON document: {e}")))?;
    match pinned.source {
        Source::PyPi => {
            let files = doc["files"].as_array().ok_or_else(|| bad("no `files` list".into()))?;
            let entry = files
                .iter()
                .find(|f| f["filename"] == pinned.file)
                .ok_or_else(|| bad(format!("{} is not listed", pinned.file)))?;
            if let Some(listed) = entry["hashes"]["sha256"].as_str()
                && listed != pinned.sha256
            {
                return Err(bad(format!(
                    "{} is listed with sha256 {listed}, pinned {}",
                    pinned.file, pinned.sha256
                )));
            }
            entry["url"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("{} has no url", pinned.file)))
        }
        _ => doc["dist"]["tarball"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad("no dist.tarball".into())),
    }
}

/// Downloads `url` into `partial`, resuming from its current length when the server allows.
fn download(url: &str, partial: &Path, file: &str, on_event: &mut dyn FnMut(Event)) -> Result<()> {
    let offset = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = agent().get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = match request.call() {
        // The partial file is already whole: the digest decides.
        Err(ureq::Error::StatusCode(416)) if offset > 0 => return Ok(()),
        other => other.map_err(|e| http(url, e))?,
    };
    let resumed = offset > 0 && response.status().as_u16() == 206;
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let start = if resumed { offset } else { 0 };
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(partial)
        .map_err(|e| Error::io("create", partial, e))?;
    on_event(Event::Download {
        file: file.to_owned(),
        total: length.map(|l| l + start),
        resumed_from: start,
    });
    let mut reader = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = start;
    loop {
        let n = reader.read(&mut buf).map_err(|e| http(url, e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| Error::io("write", partial, e))?;
        done += n as u64;
        on_event(Event::Progress { file: file.to_owned(), done });
    }
    out.sync_all().map_err(|e| Error::io("write", partial, e))?;
    Ok(())
}

/// `apt-get download PACKAGE=VERSION` into a private folder of the cache, then the .deb moved
/// to `partial`.
fn apt_download(
    cache: &Path,
    pinned: &Pinned,
    partial: &Path,
    on_event: &mut dyn FnMut(Event),
) -> Result<()> {
    let dir = cache.join(".apt-download");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
    on_event(Event::Download { file: pinned.file.to_owned(), total: None, resumed_from: 0 });
    let spec = format!("{}={}", pinned.package, pinned.version);
    let result = pgfarm_pgnode::command::Command::new("apt-get")
        .args(["download", "-q", &spec])
        .current_dir(&dir)
        .run();
    if let Err(err) = result {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(Error::Index {
            index: format!("apt-get download {spec}"),
            reason: format!(
                "{err} (pgTAP comes from Debian's {} package: run `apt-get update` or put {} into {})",
                pinned.package,
                pinned.file,
                cache.display()
            ),
        });
    }
    let got = dir.join(pinned.file);
    std::fs::rename(&got, partial).map_err(|e| Error::io("rename", &got, e))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
