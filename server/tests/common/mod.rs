//! Test harness: a real pgfarm-server on 127.0.0.1:0 (SQLite in a temp dir, or PostgreSQL from
//! a throwaway cluster) and a real HTTP client (ureq), plus bundle fixtures from
//! `testdata/bundles/`.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use pgfarm_model::Bundle;
use pgfarm_server::Server;
use pgfarm_server::config::Config;

/// A running server and a client for it.
pub struct Farm {
    pub runtime: tokio::runtime::Runtime,
    pub server: Option<Server>,
    pub base: String,
    pub agent: ureq::Agent,
    pub admin_token: String,
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "answer {} is not JSON ({err}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status and, for errors, the JSON error code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let json = self.json();
        assert_eq!(json["code"], code, "body: {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {json}");
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .new_agent()
}

impl Farm {
    /// A server on SQLite in a fresh temp dir.
    pub fn sqlite() -> Farm {
        Farm::sqlite_with(|_| {})
    }

    /// A server on SQLite with configuration changes.
    pub fn sqlite_with(change: impl FnOnce(&mut Config)) -> Farm {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path());
        change(&mut config);
        Farm::start(config, dir)
    }

    /// A server on the PostgreSQL database `url`.
    pub fn postgres(url: &str) -> Farm {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path());
        config.database_url = url.to_owned();
        Farm::start(config, dir)
    }

    fn start(config: Config, dir: tempfile::TempDir) -> Farm {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let server = runtime.block_on(Server::start(config.clone())).expect("server starts");
        let base = format!("http://{}", server.addr);
        let admin_token =
            server.new_admin_token.clone().expect("a fresh database generates an admin token");
        Farm { runtime, server: Some(server), base, agent: agent(), admin_token, config, _dir: dir }
    }

    /// Stops the server (graceful) and starts a new one on the same database and data dir.
    pub fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
        let server =
            self.runtime.block_on(Server::start(self.config.clone())).expect("server restarts");
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = response.expect("HTTP round trip");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(key, value)| (key.as_str().to_owned(), value.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = response.body_mut().with_config().limit(64 << 20).read_to_vec().expect("body");
        Answer { status, headers, body }
    }

    pub fn get(&self, path: &str) -> Answer {
        Farm::answer(self.agent.get(format!("{}{path}", self.base)).call())
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        for (key, value) in headers {
            request = request.header(*key, *value);
        }
        Farm::answer(request.call())
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        for (key, value) in headers {
            request = request.header(*key, *value);
        }
        Farm::answer(request.send(body))
    }

    pub fn post_json(&self, path: &str, json: &serde_json::Value) -> Answer {
        self.post(path, &[("content-type", "application/json")], json.to_string().as_bytes())
    }

    pub fn admin(&self, path: &str, json: &serde_json::Value) -> Answer {
        let auth = format!("Bearer {}", self.admin_token);
        self.post(
            path,
            &[("content-type", "application/json"), ("authorization", &auth)],
            json.to_string().as_bytes(),
        )
    }

    /// Registers and approves `name`; returns its secret.
    pub fn approved_machine(&self, name: &str) -> String {
        let answer = self.post_json(
            "/api/v1/machines",
            &serde_json::json!({"name": name, "owner_email": "owner@example.org", "os": "linux", "arch": "x86_64"}),
        );
        assert_eq!(answer.status, 201, "{}", answer.text());
        let answer =
            self.admin(&format!("/api/v1/admin/machines/{name}/approve"), &serde_json::json!({}));
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["secret"].as_str().expect("secret").to_owned()
    }

    /// Submits `body` signed by `machine` with `secret` at `timestamp` (now if `None`).
    pub fn submit_at(
        &self,
        machine: &str,
        secret: &str,
        body: &[u8],
        timestamp: Option<i64>,
    ) -> Answer {
        let timestamp = timestamp.unwrap_or_else(now_secs).to_string();
        let signature = pgfarm_server::secrets::sign(secret, &timestamp, body);
        self.post(
            "/api/v1/runs",
            &[
                ("content-type", "application/gzip"),
                ("x-pgfarm-machine", machine),
                ("x-pgfarm-timestamp", &timestamp),
                ("x-pgfarm-signature", &signature),
            ],
            body,
        )
    }

    pub fn submit(&self, machine: &str, secret: &str, body: &[u8]) -> Answer {
        self.submit_at(machine, secret, body, None)
    }

    /// Counts of stored things, to check that a rejected request changed nothing.
    pub fn counts(&self) -> (i64, i64, i64) {
        let store = self.server.as_ref().expect("running").state.store.clone();
        let stats = self.runtime.block_on(store.stats()).expect("stats");
        (stats.n_runs, stats.n_test_results, stats.n_machines)
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

pub fn now_secs() -> i64 {
    pgfarm_server::now_ms() / 1000
}

/// Path of a sample bundle in `testdata/bundles/`.
pub fn sample_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/bundles").join(name)
}

/// A sample bundle, decoded.
pub fn sample(name: &str) -> Bundle {
    let bytes = std::fs::read(sample_path(name))
        .unwrap_or_else(|err| panic!("sample bundle {name} (testdata/bundles): {err}"));
    Bundle::from_slice(&bytes).expect("sample bundles decode")
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh run uuid, unique within the process and across runs of the test suite.
pub fn fresh_uuid() -> pgfarm_model::Uuid {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let count = u128::from(COUNTER.fetch_add(1, Ordering::Relaxed));
    // Version 4 / variant 1 bits set so the value is a valid random-style uuid.
    let raw = (nanos << 32) ^ count;
    let raw = (raw & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    pgfarm_model::Uuid::from_u128(raw)
}

/// `sample(name)` as machine `machine` with a fresh uuid, gzip-compressed like the runner
/// writes it.
pub fn bundle_for(name: &str, machine: &str) -> (Vec<u8>, Bundle) {
    let mut bundle = sample(name);
    bundle.machine.name = machine.to_owned();
    bundle.run.id = fresh_uuid();
    (bundle.to_gzip_vec(), bundle)
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A fresh database in the shared throwaway PostgreSQL cluster.
    Postgres,
}

/// The throwaway PostgreSQL cluster shared by the tests of this binary (`None`: no
/// installation found). Its postmaster is stopped by pgnode's supervisor when the test process
/// exits.
fn cluster() -> Option<&'static Mutex<pgfarm_pgnode::Cluster>> {
    static CLUSTER: OnceLock<Option<Mutex<pgfarm_pgnode::Cluster>>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let installation = match pgfarm_pgnode::Installation::newest() {
                Ok(installation) => installation,
                Err(err) => {
                    eprintln!("note: PostgreSQL tests skipped, no installation found ({err}); run scripts/setup-pg.sh");
                    return None;
                }
            };
            let cluster = pgfarm_pgnode::Cluster::builder(&installation)
                .start()
                .unwrap_or_else(|err| panic!("starting a PostgreSQL {} cluster: {err}", installation.major()));
            Some(Mutex::new(cluster))
        })
        .as_ref()
}

/// Kills every connection to `database` in the shared cluster; returns how many.
pub fn terminate_backends(database: &str) -> usize {
    let cluster = cluster()
        .expect("PostgreSQL available")
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let rows = cluster
        .execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ))
        .expect("pg_terminate_backend");
    rows.len()
}

static DATABASES: AtomicU64 = AtomicU64::new(1);

/// A URL of a new, empty database in the shared cluster.
pub fn fresh_postgres_url() -> Option<String> {
    let cluster = cluster()?.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let name = format!("farm_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
    cluster.create_database(&name, None).expect("CREATE DATABASE");
    Some(format!("postgres://{}@{}:{}/{name}", cluster.superuser(), cluster.host(), cluster.port()))
}

impl Backend {
    /// `sqlite` or `postgres`, as `/healthz` names it.
    pub fn kind(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// True when this backend can run here (PostgreSQL needs an installation).
    pub fn available(self) -> bool {
        self == Backend::Sqlite || cluster().is_some()
    }

    /// A server on a fresh database of this backend.
    pub fn farm(self) -> Farm {
        self.farm_with(|_| {})
    }

    /// A server on a fresh database of this backend, with configuration changes.
    pub fn farm_with(self, change: impl FnOnce(&mut Config)) -> Farm {
        match self {
            Backend::Sqlite => Farm::sqlite_with(change),
            Backend::Postgres => {
                let url =
                    fresh_postgres_url().expect("PostgreSQL available (checked by the caller)");
                let dir = tempfile::tempdir().expect("temp dir");
                let mut config = Config::for_data_dir(dir.path());
                config.database_url = url;
                config.max_connections = 8;
                change(&mut config);
                Farm::start(config, dir)
            }
        }
    }
}

/// Runs each listed `fn name(backend: Backend)` as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::common::Backend::Sqlite) })+
        }
        mod postgres {
            $(#[test] fn $name() {
                if super::common::Backend::Postgres.available() {
                    super::$name(super::common::Backend::Postgres)
                } else {
                    eprintln!("note: {} skipped on PostgreSQL (no installation)", stringify!($name));
                }
            })+
        }
    };
}
#[allow(unused_imports)] // Not every test binary runs on both backends.
pub use on_both_backends;
