//! Server configuration: command-line flags, `PGFARM_*` environment variables and a TOML file.
//!
//! Precedence, highest first: a flag, its environment variable, the TOML file given with
//! `--config` (or `PGFARM_CONFIG`), the built-in default. Every field is reachable in all three
//! ways; the TOML keys are the flag names with `_` instead of `-`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data folder, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".data";
/// Default limit of a compressed bundle upload (32 MiB).
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 32 * 1024 * 1024;
/// Default limit of a decompressed bundle (256 MiB), the guard against zip bombs.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// Flags shared by `pgfarm-server` (serve) and `pgfarm-server admin ...`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// A TOML file with any of these settings (keys as flag names, `-` written `_`).
    #[arg(long, env = "PGFARM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PGFARM_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Folder for the SQLite database and the server key [default: ./.data].
    #[arg(long, env = "PGFARM_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Use this PostgreSQL database (postgres://...) instead of SQLite in the data folder;
    /// `sqlite://FILE` selects another SQLite file. Also read from DATABASE_URL.
    #[arg(long, env = "PGFARM_DATABASE_URL", value_name = "URL", global = true)]
    pub database_url: Option<String>,
    /// Serve the built web UI from this folder (with single-page-app fallback to index.html).
    #[arg(long, env = "PGFARM_STATIC_DIR", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// Largest accepted bundle upload, compressed, in bytes [default: 33554432].
    #[arg(long, env = "PGFARM_MAX_BUNDLE_BYTES", value_name = "BYTES")]
    pub max_bundle_bytes: Option<u64>,
    /// Largest accepted bundle after gzip decompression, in bytes [default: 268435456].
    #[arg(long, env = "PGFARM_MAX_DECOMPRESSED_BYTES", value_name = "BYTES")]
    pub max_decompressed_bytes: Option<u64>,
    /// Time limit of one request, in seconds [default: 30].
    #[arg(long, env = "PGFARM_REQUEST_TIMEOUT", value_name = "SECONDS")]
    pub request_timeout: Option<u64>,
    /// Machine registrations accepted per client address per hour [default: 10].
    #[arg(long, env = "PGFARM_REGISTRATIONS_PER_HOUR", value_name = "N")]
    pub registrations_per_hour: Option<u32>,
    /// Run submissions accepted per machine per minute [default: 600].
    #[arg(long, env = "PGFARM_SUBMISSIONS_PER_MINUTE", value_name = "N")]
    pub submissions_per_minute: Option<u32>,
    /// Largest number of database connections [default: 8 for SQLite, 16 for PostgreSQL].
    #[arg(long, env = "PGFARM_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<u32>,
    /// Public base URL used in feeds and answers, for example `https://farm.example.org`
    /// Default: `http://<listen>`.
    #[arg(long, env = "PGFARM_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Sync releases from this PGXN mirror or API server (`https://api.pgxn.org/`) while
    /// serving: at start, then every `--pgxn-interval`.
    #[arg(long, env = "PGFARM_PGXN_MIRROR", value_name = "URL")]
    pub pgxn_mirror: Option<String>,
    /// Time between two PGXN syncs: `90s`, `30m`, `1h`, `1d` or combined (`1h30m`)
    /// [default: 1h].
    #[arg(long, env = "PGFARM_PGXN_INTERVAL", value_name = "DURATION")]
    pub pgxn_interval: Option<String>,
}

/// The same settings as read from a TOML file; every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    static_dir: Option<PathBuf>,
    max_bundle_bytes: Option<u64>,
    max_decompressed_bytes: Option<u64>,
    request_timeout: Option<u64>,
    registrations_per_hour: Option<u32>,
    submissions_per_minute: Option<u32>,
    max_connections: Option<u32>,
    public_url: Option<String>,
    pgxn_mirror: Option<String>,
    pgxn_interval: Option<String>,
    admin_token: Option<String>,
    server_key: Option<String>,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The data folder (SQLite file, server key).
    pub data_dir: PathBuf,
    /// The database: `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Built web UI folder, if any.
    pub static_dir: Option<PathBuf>,
    /// Limit of a compressed upload.
    pub max_bundle_bytes: u64,
    /// Limit of a decompressed bundle.
    pub max_decompressed_bytes: u64,
    /// Time limit of one request.
    pub request_timeout: Duration,
    /// Registrations per client address per hour.
    pub registrations_per_hour: u32,
    /// Submissions per machine per minute.
    pub submissions_per_minute: u32,
    /// Database connection pool size.
    pub max_connections: u32,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Admin token given by `PGFARM_ADMIN_TOKEN` or the file (`None`: keep or generate one).
    pub admin_token: Option<String>,
    /// Server key in hex given by `PGFARM_SERVER_KEY` or the file (`None`: `<data_dir>/server.key`).
    pub server_key: Option<String>,
    /// The PGXN mirror the running server syncs from, if any.
    pub pgxn_mirror: Option<String>,
    /// Time between two PGXN syncs.
    pub pgxn_interval: Duration,
}

/// A configuration problem, naming the file or setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML file is not valid.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A setting has a value the server cannot use.
    #[error("setting `{name}`: {message}")]
    Invalid {
        /// Setting name.
        name: &'static str,
        /// The problem.
        message: String,
    },
}

impl Config {
    /// Resolves flags and environment (already merged by clap) with the optional TOML file and
    /// the defaults. `admin_token` and `server_key` come from the environment here because
    /// they are secrets and have no flag (flags show in `ps`).
    pub fn resolve(args: &ConfigArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default listen address parses"));
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = args
            .database_url
            .clone()
            .or_else(|| env("DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pgfarm.sqlite3").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "database_url",
                message: format!(
                    "`{}` is neither sqlite://FILE nor postgres://...",
                    redact_url(&database_url)
                ),
            });
        }
        let is_sqlite = database_url.starts_with("sqlite:");
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let config = Config {
            listen,
            data_dir,
            database_url,
            static_dir: args.static_dir.clone().or(file.static_dir),
            max_bundle_bytes: args
                .max_bundle_bytes
                .or(file.max_bundle_bytes)
                .unwrap_or(DEFAULT_MAX_BUNDLE_BYTES),
            max_decompressed_bytes: args
                .max_decompressed_bytes
                .or(file.max_decompressed_bytes)
                .unwrap_or(DEFAULT_MAX_DECOMPRESSED_BYTES),
            request_timeout: Duration::from_secs(
                args.request_timeout.or(file.request_timeout).unwrap_or(30),
            ),
            registrations_per_hour: args
                .registrations_per_hour
                .or(file.registrations_per_hour)
                .unwrap_or(10),
            submissions_per_minute: args
                .submissions_per_minute
                .or(file.submissions_per_minute)
                .unwrap_or(600),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(if is_sqlite { 8 } else { 16 }),
            public_url,
            admin_token: env("PGFARM_ADMIN_TOKEN").or(file.admin_token),
            server_key: env("PGFARM_SERVER_KEY").or(file.server_key),
            pgxn_mirror: args.pgxn_mirror.clone().or(file.pgxn_mirror),
            pgxn_interval: match args.pgxn_interval.clone().or(file.pgxn_interval) {
                Some(text) => parse_duration(&text)
                    .map_err(|message| ConfigError::Invalid { name: "pgxn_interval", message })?,
                None => DEFAULT_PGXN_INTERVAL,
            },
        };
        if config.max_bundle_bytes == 0 || config.max_decompressed_bytes < config.max_bundle_bytes {
            return Err(ConfigError::Invalid {
                name: "max_decompressed_bytes",
                message: "must be at least max_bundle_bytes, and both above 0".into(),
            });
        }
        if config.max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "max_connections",
                message: "must be at least 1".into(),
            });
        }
        Ok(config)
    }

    /// A configuration for tests and embedding: SQLite in `data_dir`, port 0 on 127.0.0.1.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        let args = ConfigArgs {
            listen: Some("127.0.0.1:0".parse().expect("literal address parses")),
            data_dir: Some(data_dir.to_owned()),
            database_url: Some(format!("sqlite://{}", data_dir.join("pgfarm.sqlite3").display())),
            ..ConfigArgs::default()
        };
        let mut config = Config::resolve(&args).expect("built-in defaults are valid");
        config.admin_token = None;
        config.server_key = None;
        config
    }

    /// True when the database is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Default time between two PGXN syncs (PGXN's mirrors sync at most hourly).
pub const DEFAULT_PGXN_INTERVAL: Duration = Duration::from_secs(3600);

/// Parses `90s`, `30m`, `1h`, `1d`, `1h30m` (at least one second).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration such as 90s, 30m, 1h or 1h30m");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|n| total.checked_add(n)).ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text)
        .map_err(|err| ConfigError::Parse { path: path.to_owned(), message: err.to_string() })
}

/// A database URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "1", "h", "1x", "0s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn password_is_redacted_from_database_urls() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x"), "sqlite://x");
    }

    #[test]
    fn toml_file_fills_what_flags_leave_open_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9999\"\nmax_bundle_bytes = 1000\n").unwrap();
        let args = ConfigArgs {
            config: Some(path.clone()),
            max_bundle_bytes: Some(2000),
            ..ConfigArgs::default()
        };
        let config = Config::resolve(&args).unwrap();
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.max_bundle_bytes, 2000);
        std::fs::write(&path, "listn = \"127.0.0.1:9999\"\n").unwrap();
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("server.toml") && err.contains("listn"), "{err}");
    }
}
