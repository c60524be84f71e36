//! The HTTP client of the pgfarm server: machine registration, signed bundle upload and the
//! work queue (what `pgfarm worker` asks for).
//!
//! A bundle is sent as the exact bytes of its file (gzip JSON) to `POST /api/v1/runs` with
//! `X-Pgfarm-Machine`, `X-Pgfarm-Timestamp` (unix seconds) and `X-Pgfarm-Signature:
//! sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` (see docs/api.md). The server
//! answers errors as `pgfarm_model::api::ErrorBody`; [`UploadError`] keeps its code and message
//! and tells whether a retry may help ([`UploadError::is_retryable`]).
//!
//! Credentials come from `PGFARM_MACHINE` / `PGFARM_MACHINE_SECRET` or a TOML file
//! (`machine = "..."`, `secret = "..."`, optionally `server = "..."`) that must not be readable
//! by group or others ([`Credentials::from_file`] refuses it otherwise).
//!
//! Blocking (ureq with rustls): a runner submits one bundle at a time, so an async runtime
//! would buy nothing here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use pgfarm_model::api;
use sha2::Sha256;

/// Why a server call failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The server answered with an error status (and usually an `ErrorBody`).
    #[error("{url}: HTTP {status} {}: {message}", code.map(|c| c.as_str()).unwrap_or("error"))]
    Http {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The error code from the body, if it had one.
        code: Option<api::ErrorCode>,
        /// The message from the body (or the raw body).
        message: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("{url}: {message}")]
    Transport {
        /// The URL called.
        url: String,
        /// What happened.
        message: String,
    },
    /// The server's answer was not what the API promises.
    #[error("{url}: unexpected answer: {message}")]
    Decode {
        /// The URL called.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Credentials are missing or unsafe.
    #[error("{0}")]
    Credentials(String),
}

impl UploadError {
    /// True for failures a later retry may fix: transport errors, 429, 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            UploadError::Transport { .. } => true,
            UploadError::Http { status, .. } => *status == 429 || *status >= 500,
            UploadError::Decode { .. } | UploadError::Credentials(_) => false,
        }
    }

    /// The HTTP status, for `Http` errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            UploadError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A machine's name and secret.
#[derive(Clone)]
pub struct Credentials {
    /// Machine name.
    pub machine: String,
    /// HMAC secret (as shown once at approval).
    pub secret: String,
    /// Server URL, when the credentials file names one.
    pub server: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("machine", &self.machine)
            .field("secret", &"***")
            .field("server", &self.server)
            .finish()
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    machine: Option<String>,
    secret: Option<String>,
    server: Option<String>,
}

impl Credentials {
    /// The default credentials file: `$XDG_CONFIG_HOME/pgfarm/machine.toml` (or
    /// `~/.config/pgfarm/machine.toml`).
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
        Some(base.join("pgfarm").join("machine.toml"))
    }

    /// Reads a credentials file, refusing one that group or others may read.
    pub fn from_file(path: &Path) -> Result<Credentials, UploadError> {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path)
            .map_err(|err| UploadError::Credentials(format!("{}: {err}", path.display())))?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(UploadError::Credentials(format!(
                "{} has mode {mode:04o} but holds a machine secret; run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|err| UploadError::Credentials(format!("{}: {err}", path.display())))?;
        let file: CredentialsFile = toml::from_str(&text)
            .map_err(|err| UploadError::Credentials(format!("{}: {err}", path.display())))?;
        let (Some(machine), Some(secret)) = (file.machine, file.secret) else {
            return Err(UploadError::Credentials(format!(
                "{}: needs both `machine` and `secret`",
                path.display()
            )));
        };
        Ok(Credentials { machine, secret, server: file.server })
    }

    /// Writes the credentials file `path` (TOML, `machine`, `secret` and `server` when known)
    /// with mode 0600, atomically (a temp file made 0600 before the secret goes in, then
    /// renamed): the one writer of the file [`Credentials::from_file`] reads.
    pub fn write_file(&self, path: &Path) -> Result<(), UploadError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let fail = |err: &dyn std::fmt::Display| {
            UploadError::Credentials(format!("{}: {err}", path.display()))
        };
        let file = CredentialsFile {
            machine: Some(self.machine.clone()),
            secret: Some(self.secret.clone()),
            server: self.server.clone(),
        };
        let text = toml::to_string(&file).map_err(|err| fail(&err))?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|err| fail(&err))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut out =
                std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            out.write_all(text.as_bytes())?;
            out.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(err) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(&err));
        }
        Ok(())
    }

    /// Credentials from `machine` (or `PGFARM_MACHINE`) and `PGFARM_MACHINE_SECRET`, else from
    /// `file` (or the default file).
    pub fn resolve(machine: Option<&str>, file: Option<&Path>) -> Result<Credentials, UploadError> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let machine = machine.map(str::to_owned).or_else(|| env("PGFARM_MACHINE"));
        if let (Some(machine), Some(secret)) = (machine.clone(), env("PGFARM_MACHINE_SECRET")) {
            return Ok(Credentials { machine, secret, server: None });
        }
        let path = match file {
            Some(path) => path.to_owned(),
            None => Credentials::default_path().ok_or_else(|| {
                UploadError::Credentials("no HOME to find the credentials file in".into())
            })?,
        };
        if file.is_none() && !path.exists() {
            return Err(UploadError::Credentials(format!(
                "no machine secret: set PGFARM_MACHINE_SECRET (and --machine or PGFARM_MACHINE), \
                 or write {} (mode 0600) with `machine` and `secret`",
                path.display()
            )));
        }
        let mut credentials = Credentials::from_file(&path)?;
        if let Some(machine) = machine {
            credentials.machine = machine;
        }
        Ok(credentials)
    }
}

/// What [`UploadClient::machine_secret`] asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretAction {
    /// Approve a pending machine.
    Approve,
    /// Give an approved machine a new secret (the old one stops working).
    RotateSecret,
}

/// A URL path segment, percent-encoded (machine names are `A-Z a-z 0-9 . _ -`, but a path must
/// never be built from anything else unencoded).
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"._-".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `sha256=<hex HMAC-SHA256(secret, timestamp "." body)>`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A client of one pgfarm server.
#[derive(Debug, Clone)]
pub struct UploadClient {
    base: String,
    agent: ureq::Agent,
}

impl UploadClient {
    /// A client of the server at `base_url` (`http://host:port`, no trailing path).
    pub fn new(base_url: &str) -> UploadClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent(concat!("pgfarm-runner/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        UploadClient { base: base_url.trim_end_matches('/').to_owned(), agent }
    }

    /// The server URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn finish<T: serde::de::DeserializeOwned>(
        url: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, UploadError> {
        let mut response = response.map_err(|err| UploadError::Transport {
            url: url.to_owned(),
            message: err.to_string(),
        })?;
        let status = response.status().as_u16();
        let body =
            response.body_mut().with_config().limit(16 << 20).read_to_vec().map_err(|err| {
                UploadError::Transport { url: url.to_owned(), message: err.to_string() }
            })?;
        if !(200..300).contains(&status) {
            let (code, message) = match serde_json::from_slice::<api::ErrorBody>(&body) {
                Ok(error) => (Some(error.code), error.message),
                Err(_) => (None, String::from_utf8_lossy(&body).chars().take(500).collect()),
            };
            return Err(UploadError::Http { url: url.to_owned(), status, code, message });
        }
        serde_json::from_slice(&body)
            .map_err(|err| UploadError::Decode { url: url.to_owned(), message: err.to_string() })
    }

    /// `POST /api/v1/machines`: asks to join; the machine is `pending` until an admin approves.
    pub fn register(
        &self,
        registration: &api::MachineRegistration,
    ) -> Result<api::Machine, UploadError> {
        let url = format!("{}/api/v1/machines", self.base);
        let body = serde_json::to_vec(registration)
            .map_err(|err| UploadError::Decode { url: url.clone(), message: err.to_string() })?;
        let response =
            self.agent.post(&url).header("content-type", "application/json").send(&body[..]);
        UploadClient::finish(&url, response)
    }

    /// `GET /api/v1/machines/{machine}/queue?pg={pg_major}&limit={limit}`: the released
    /// extension versions this machine has not tested on that PostgreSQL major yet, newest
    /// release first (an empty list when there is nothing to do).
    pub fn queue(
        &self,
        machine: &str,
        pg_major: u32,
        limit: u32,
    ) -> Result<Vec<api::QueueItem>, UploadError> {
        self.queue_statuses(machine, pg_major, limit, &[])
    }

    /// The queue restricted to PGXN releases of these statuses (`&status=stable,testing`; none:
    /// the server's default).
    pub fn queue_statuses(
        &self,
        machine: &str,
        pg_major: u32,
        limit: u32,
        statuses: &[&str],
    ) -> Result<Vec<api::QueueItem>, UploadError> {
        let mut url = format!(
            "{}/api/v1/machines/{}/queue?pg={pg_major}&limit={}",
            self.base,
            path_segment(machine),
            limit.clamp(1, 500)
        );
        if !statuses.is_empty() {
            url.push_str(&format!("&status={}", statuses.join(",")));
        }
        let response = self.agent.get(&url).call();
        UploadClient::finish(&url, response)
    }

    /// `POST /api/v1/admin/machines/{machine}/approve` (or `.../rotate-secret`) with the admin
    /// token: the machine's new secret, which the server shows only in this answer.
    pub fn machine_secret(
        &self,
        admin_token: &str,
        machine: &str,
        action: SecretAction,
    ) -> Result<api::MachineSecret, UploadError> {
        let action = match action {
            SecretAction::Approve => "approve",
            SecretAction::RotateSecret => "rotate-secret",
        };
        let url = format!("{}/api/v1/admin/machines/{}/{action}", self.base, path_segment(machine));
        let response = self
            .agent
            .post(&url)
            .header("authorization", format!("Bearer {admin_token}"))
            .header("content-type", "application/json")
            .send(&b"{}"[..]);
        UploadClient::finish(&url, response)
    }

    /// `POST /api/v1/runs`: submits the bundle file `bundle` (its exact bytes) signed now.
    pub fn submit(
        &self,
        credentials: &Credentials,
        bundle: &[u8],
    ) -> Result<api::RunCreated, UploadError> {
        let url = format!("{}/api/v1/runs", self.base);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0)
            .to_string();
        let signature = sign(&credentials.secret, &timestamp, bundle);
        let content_type =
            if bundle.starts_with(&[0x1f, 0x8b]) { "application/gzip" } else { "application/json" };
        let response = self
            .agent
            .post(&url)
            .header("content-type", content_type)
            .header(api::HEADER_MACHINE, credentials.machine.as_str())
            .header(api::HEADER_TIMESTAMP, timestamp.as_str())
            .header(api::HEADER_SIGNATURE, signature.as_str())
            .send(bundle);
        UploadClient::finish(&url, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // `printf '1700000000.body' | openssl dgst -sha256 -hmac secret`
        assert_eq!(
            sign("secret", "1700000000", b"body"),
            "sha256=42ac6f0448c1d9c3e1e82b9726248f58fef84afffcbad5188246e96070e0ea46"
        );
    }

    #[test]
    fn credentials_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("machine.toml");
        std::fs::write(&path, "machine = \"m1\"\nsecret = \"abc\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Credentials::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let credentials = Credentials::from_file(&path).unwrap();
        assert_eq!(credentials.machine, "m1");
        assert!(!format!("{credentials:?}").contains("abc"));
    }

    #[test]
    fn the_written_credentials_file_is_0600_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/machine.toml");
        let written = Credentials {
            machine: "m \"quoted\"".into(),
            secret: "s3cr3t".into(),
            server: Some("http://127.0.0.1:1".into()),
        };
        written.write_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let read = Credentials::from_file(&path).unwrap();
        assert_eq!(
            (read.machine, read.secret, read.server),
            (written.machine, written.secret, written.server)
        );
        // Written again (a rotated secret): replaced whole, no temp file left.
        Credentials { secret: "new".into(), ..Credentials::from_file(&path).unwrap() }
            .write_file(&path)
            .unwrap();
        assert_eq!(Credentials::from_file(&path).unwrap().secret, "new");
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
