//! `pgfarm worker` end to end: a real `pgfarm serve` on a free port, a machine registered and
//! approved over HTTP, a released extension version (`testdata/extensions/pure_sql` 1.0)
//! announced to the queue, and `pgfarm worker --once` testing it on a real PostgreSQL
//! installation (from `.pg/` or the system) and submitting the bundle: the run then appears in
//! `/api/v1/runs` and the queue is empty. Also: an unreachable server fails the round, and
//! SIGINT stops a waiting worker with status 130.
//!
//! The end-to-end test needs a PostgreSQL installation with PGXS (scripts/setup-pg.sh puts
//! 13-18 under .pg/); without one it prints a note and returns.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pgfarm_pgnode::Installation;

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) base: String,
    pub(crate) admin_token: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pgfarm serve` runs the `pgfarm-server` beside `pgfarm`: build it when this test binary
/// was built alone (`cargo test -p pgfarm-cli`).
fn ensure_server_binary() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let beside = Path::new(PGFARM).with_file_name("pgfarm-server");
        if !beside.is_file() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-q", "-p", "pgfarm-server"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build -p pgfarm-server failed");
        }
    });
}

pub(crate) fn start_server(data_dir: &Path) -> ServerProcess {
    start_server_with(data_dir, &[])
}

/// [`start_server`] with more environment for the server (for example `PGFARM_PGXN_MIRROR`).
pub(crate) fn start_server_with(data_dir: &Path, env: &[(&str, &str)]) -> ServerProcess {
    ensure_server_binary();
    let mut child = Command::new(PGFARM);
    child.env_remove("PGFARM_PGXN_MIRROR");
    for (key, value) in env {
        child.env(key, value);
    }
    let mut child = child
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("PGFARM_ADMIN_TOKEN")
        .env_remove("DATABASE_URL")
        .env_remove("PGFARM_DATABASE_URL")
        .env("PGFARM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pgfarm serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut admin_token = String::new();
    let mut base = String::new();
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        if line.trim_start().starts_with("pgfarm_") {
            admin_token = line.trim().to_owned();
        }
        if let Some(rest) = line.strip_prefix("pgfarm-server listening on ") {
            base = rest.split_whitespace().next().unwrap_or_default().to_owned();
            break;
        }
    }
    assert!(!base.is_empty(), "the server printed no address");
    assert!(!admin_token.is_empty(), "a first start prints the admin token");
    std::thread::spawn(move || for _ in lines {});
    ServerProcess { child, base, admin_token }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().new_agent()
}

/// `(status, JSON body)` of a call.
pub(crate) fn call(
    request: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (u16, serde_json::Value) {
    let mut response = request.expect("HTTP call");
    let mut body = String::new();
    response.body_mut().as_reader().read_to_string(&mut body).expect("body");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

pub(crate) fn post_json(
    url: String,
    admin_token: Option<&str>,
    body: serde_json::Value,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    let mut request = agent().post(url).header("content-type", "application/json");
    if let Some(token) = admin_token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send(body.to_string().as_bytes())
}

/// Registers and approves `name`; returns its secret.
pub(crate) fn approved_machine(server: &ServerProcess, name: &str) -> String {
    let (status, body) = call(post_json(
        format!("{}/api/v1/machines", server.base),
        None,
        serde_json::json!({"name": name, "owner_email": "w@example.org", "os": "linux", "arch": "x86_64"}),
    ));
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        agent()
            .post(format!("{}/api/v1/admin/machines/{name}/approve", server.base))
            .header("authorization", format!("Bearer {}", server.admin_token))
            .send_empty(),
    );
    assert_eq!(status, 200, "{body}");
    body["secret"].as_str().expect("secret").to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions")).join(name)
}

pub(crate) fn worker(args: &[&str], secret: &str) -> Command {
    let mut command = Command::new(PGFARM);
    command
        .arg("worker")
        .args(args)
        .env_remove("PGFARM_MACHINE")
        .env_remove("PGFARM_SERVER")
        .env("XDG_CONFIG_HOME", "/nonexistent-pgfarm-test")
        .env("PGFARM_MACHINE_SECRET", secret);
    command
}

#[test]
fn worker_once_tests_the_queued_release_and_the_run_appears_on_the_server() {
    let Some(major) = Installation::discover()
        .iter()
        .filter(|installation| installation.has_pgxs() && installation.major() >= 13)
        .map(Installation::major)
        .max()
    else {
        pgfarm_testsupport::require(
            "worker_once_tests_the_queued_release_and_the_run_appears_on_the_server",
            "a PostgreSQL installation with PGXS (scripts/setup-pg.sh)",
            false,
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&dir.path().join("data"));
    let secret = approved_machine(&server, "worker-1");
    let (status, body) = call(post_json(
        format!("{}/api/v1/admin/extensions", server.base),
        Some(&server.admin_token),
        serde_json::json!({"extension": "pure_sql", "version": "1.0", "pg_min": 13}),
    ));
    assert!(status == 200 || status == 201, "{status} {body}");
    let queue_url = format!("{}/api/v1/machines/worker-1/queue?pg={major}", server.base);
    let (_, queue) = call(agent().get(&queue_url).call());
    assert_eq!(queue[0]["extension"], "pure_sql", "{queue}");

    let sources = dir.path().join("sources");
    copy_dir(&fixture("pure_sql"), &sources.join("pure_sql-1.0"));
    let workdir = dir.path().join("jobs");
    let major_text = major.to_string();
    let args = [
        "--server",
        &server.base,
        "--machine",
        "worker-1",
        "--pg",
        &major_text,
        "--once",
        "--sources",
        sources.to_str().unwrap(),
        "--workdir",
        workdir.to_str().unwrap(),
    ];
    let output = worker(&args, &secret).output().expect("pgfarm worker runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("stored as"), "{stdout}\n{stderr}");

    let (status, runs) =
        call(agent().get(format!("{}/api/v1/runs?extension=pure_sql", server.base)).call());
    assert_eq!(status, 200);
    let items = runs["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{runs}");
    assert_eq!(items[0]["machine"], "worker-1");
    assert_eq!(items[0]["version"], "1.0");
    assert_eq!(items[0]["pg_major"], i64::from(major));
    assert_eq!(items[0]["status"], "ok", "{runs}");
    assert!(items[0]["n_tests"].as_i64().unwrap() > 0, "{runs}");
    // The job folder is gone once its bundle is stored; the queue has nothing left.
    assert_eq!(std::fs::read_dir(&workdir).map(|entries| entries.count()).unwrap_or(0), 0);
    let (_, queue) = call(agent().get(&queue_url).call());
    assert_eq!(queue, serde_json::json!([]));

    // A second round finds nothing to do and succeeds without a new run.
    let output = worker(&args, &secret).output().expect("pgfarm worker runs");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let (_, runs) =
        call(agent().get(format!("{}/api/v1/runs?extension=pure_sql", server.base)).call());
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn worker_once_fails_when_the_server_is_unreachable() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A port nothing listens on: bind one, note it, drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = format!("http://127.0.0.1:{port}");
    let output = worker(
        &[
            "--server",
            &server,
            "--machine",
            "worker-x",
            "--pg",
            "17",
            "--once",
            "--sources",
            dir.path().to_str().unwrap(),
        ],
        "secret",
    )
    .output()
    .expect("pgfarm worker runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("queue for PostgreSQL 17") && stderr.contains(&server), "{stderr}");
}

#[test]
fn worker_without_credentials_is_a_usage_error() {
    let output = Command::new(PGFARM)
        .args(["worker", "--server", "http://127.0.0.1:9", "--pg", "17", "--once"])
        .env_remove("PGFARM_MACHINE_SECRET")
        .env_remove("PGFARM_MACHINE")
        .env("XDG_CONFIG_HOME", "/nonexistent-pgfarm-test")
        .output()
        .expect("pgfarm worker runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PGFARM_MACHINE_SECRET"), "{stderr}");
}

#[test]
fn sigint_stops_a_waiting_worker_with_status_130() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&dir.path().join("data"));
    let secret = approved_machine(&server, "worker-2");
    let mut child = worker(
        &[
            "--server",
            &server.base,
            "--machine",
            "worker-2",
            "--pg",
            "17",
            "--interval",
            "3600",
            "--sources",
            dir.path().to_str().unwrap(),
        ],
        &secret,
    )
    .stderr(Stdio::piped())
    .spawn()
    .expect("pgfarm worker starts");
    // Wait until it has asked the queue once (its first line), then interrupt it.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("first line");
    assert!(first.contains("machine worker-2"), "{first}");
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let killed =
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the worker did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("rest of stderr");
    assert!(rest.contains("stopped"), "{rest}");
}
