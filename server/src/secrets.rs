//! Secrets: the server key, per-machine HMAC secrets derived from it, and the admin token.
//!
//! # Why machine secrets are derived, not stored
//!
//! Checking an HMAC needs the secret itself, so a hash of it is not enough. Instead of storing
//! machine secrets (encrypted or not), the server derives each one when needed:
//! `secret = HMAC-SHA256(server_key, "pgfarm machine secret v1" 0x00 name 0x00 generation)`.
//! The database only holds the `generation` counter; rotating a secret increments it. A copy of
//! the database alone therefore reveals no secret; the server key (32 random bytes in
//! `<data dir>/server.key`, mode 0600, or `PGFARM_SERVER_KEY`) must leak too. Several server
//! processes on one PostgreSQL database must share the key. The cost: changing the server key
//! invalidates every machine secret at once (each machine then needs `rotate-secret`).
//!
//! The admin token is stored as its SHA-256 digest in the `settings` table and compared in
//! constant time.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The 32-byte key that machine secrets are derived from.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

/// A problem loading or creating the server key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file or variable does not hold 64 hex characters.
    #[error("server key {origin}: expected 64 hex characters")]
    Malformed {
        /// Where the key came from.
        origin: String,
    },
    /// The key file could not be read or written.
    #[error("server key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No randomness available.
    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),
}

impl ServerKey {
    /// Parses 64 hex characters.
    pub fn from_hex(text: &str, origin: &str) -> Result<ServerKey, KeyError> {
        let bytes = hex::decode(text.trim())
            .map_err(|_| KeyError::Malformed { origin: origin.to_owned() })?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| KeyError::Malformed { origin: origin.to_owned() })?;
        Ok(ServerKey(key))
    }

    /// Uses `hex` when given, else reads `<data_dir>/server.key`, creating it (mode 0600) with
    /// a fresh random key the first time.
    pub fn load_or_create(hex: Option<&str>, data_dir: &Path) -> Result<ServerKey, KeyError> {
        if let Some(hex) = hex {
            return ServerKey::from_hex(hex, "PGFARM_SERVER_KEY");
        }
        let path = data_dir.join("server.key");
        let io_err =
            |source: std::io::Error| KeyError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => ServerKey::from_hex(&text, &path.display().to_string()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io_err)?;
                let key = random_bytes::<32>()?;
                write_private_file(&path, &hex::encode(key)).map_err(io_err)?;
                Ok(ServerKey(key))
            }
            Err(err) => Err(io_err(err)),
        }
    }

    /// The secret of machine `name` at `generation`, as 64 hex characters.
    pub fn machine_secret(&self, name: &str, generation: i64) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"pgfarm machine secret v1\0");
        mac.update(name.as_bytes());
        mac.update(b"\0");
        mac.update(generation.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Writes `text` to a new file readable only by its owner.
fn write_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// `N` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| KeyError::Random(err.to_string()))?;
    Ok(bytes)
}

/// A fresh admin token: `pgfarm_` and 48 hex characters.
pub fn new_admin_token() -> Result<String, KeyError> {
    Ok(format!("pgfarm_{}", hex::encode(random_bytes::<24>()?)))
}

/// The stored form of an admin token (hex SHA-256).
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in constant time (for equal lengths).
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter().zip(right).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The signature a client sends: `sha256=` + hex HMAC-SHA256(secret, timestamp "." body).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks `signature_hex` (without the `sha256=` prefix) in constant time.
pub fn verify(secret: &str, timestamp: &str, body: &[u8], signature_hex: &str) -> bool {
    let Ok(expected) = hex::decode(signature_hex) else { return false };
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_secrets_differ_by_name_and_generation_and_are_stable() {
        let key = ServerKey([7; 32]);
        let first = key.machine_secret("alpha", 1);
        assert_eq!(first.len(), 64);
        assert_eq!(first, key.machine_secret("alpha", 1));
        assert_ne!(first, key.machine_secret("alpha", 2));
        assert_ne!(first, key.machine_secret("alphb", 1));
    }

    #[test]
    fn signature_verifies_only_for_the_same_bytes() {
        let signature = sign("s3cret", "1700000000", b"body");
        let hex = signature.strip_prefix("sha256=").unwrap();
        assert!(verify("s3cret", "1700000000", b"body", hex));
        assert!(!verify("s3cret", "1700000001", b"body", hex));
        assert!(!verify("s3cret", "1700000000", b"bodY", hex));
        assert!(!verify("other", "1700000000", b"body", hex));
        assert!(!verify("s3cret", "1700000000", b"body", "zz"));
    }

    #[test]
    fn key_file_is_created_once_with_owner_only_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = ServerKey::load_or_create(None, dir.path()).unwrap();
        let second = ServerKey::load_or_create(None, dir.path()).unwrap();
        assert_eq!(first.0, second.0);
        let mode = std::fs::metadata(dir.path().join("server.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
