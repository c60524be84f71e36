//! `pgfarm serve`, `pgfarm machine register` and `pgfarm submit` end to end: a real server
//! process on a free port, a machine registered and approved over HTTP, a bundle from
//! `testdata/bundles` submitted with the secret from the environment and from a credentials
//! file (refused while readable by others).

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");

struct ServerProcess {
    child: Child,
    base: String,
    admin_token: String,
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

fn start_server(data_dir: &Path) -> ServerProcess {
    ensure_server_binary();
    let mut child = Command::new(PGFARM)
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
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    ServerProcess { child, base, admin_token }
}

fn pgfarm(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(PGFARM);
    command.args(args).env_remove("PGFARM_MACHINE_SECRET").env_remove("PGFARM_MACHINE");
    command.env("XDG_CONFIG_HOME", "/nonexistent-pgfarm-test");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("pgfarm runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn approve(server: &ServerProcess, name: &str) -> String {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut response = agent
        .post(format!("{}/api/v1/admin/machines/{name}/approve", server.base))
        .header("authorization", format!("Bearer {}", server.admin_token))
        .send_empty()
        .expect("approve call");
    let mut body = String::new();
    response.body_mut().as_reader().read_to_string(&mut body).expect("body");
    assert_eq!(response.status().as_u16(), 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    json["secret"].as_str().expect("secret").to_owned()
}

/// The pass sample rewritten for machine `machine` with run uuid `uuid`, gzip-compressed.
fn bundle_file(dir: &Path, machine: &str, uuid: &str) -> std::path::PathBuf {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/pass.pgfarm.json");
    let mut bundle =
        pgfarm_model::Bundle::from_slice(&std::fs::read(sample).expect("sample bundle"))
            .expect("sample decodes");
    bundle.machine.name = machine.to_owned();
    bundle.run.id = uuid.parse().expect("uuid");
    let path = dir.join(format!("{uuid}.pgfarm.json.gz"));
    std::fs::write(&path, bundle.to_gzip_vec()).expect("write bundle");
    path
}

#[test]
fn register_approve_and_submit_through_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&dir.path().join("data"));

    let (code, stdout, stderr) = pgfarm(
        &[
            "machine",
            "register",
            "--server",
            &server.base,
            "--name",
            "cli-m1",
            "--owner-email",
            "o@example.org",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Pending"), "{stdout}");
    let (code, _, stderr) = pgfarm(
        &[
            "machine",
            "register",
            "--server",
            &server.base,
            "--name",
            "cli-m1",
            "--owner-email",
            "o@example.org",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("409") && stderr.contains("exists already"), "{stderr}");

    let secret = approve(&server, "cli-m1");
    let first = bundle_file(dir.path(), "cli-m1", "7b0c6a52-1111-4a5b-8c3d-000000000001");
    let first = first.to_str().unwrap();

    // Secret from the environment.
    let (code, stdout, stderr) = pgfarm(
        &["submit", first, "--server", &server.base, "--machine", "cli-m1"],
        &[("PGFARM_MACHINE_SECRET", &secret)],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("/api/v1/runs/7b0c6a52-1111-4a5b-8c3d-000000000001"), "{stdout}");
    // The same bundle again: already there, still success.
    let (code, stdout, _) = pgfarm(
        &["submit", first, "--server", &server.base, "--machine", "cli-m1"],
        &[("PGFARM_MACHINE_SECRET", &secret)],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("already on the server"), "{stdout}");
    // A wrong secret: refused with the server's message.
    let second = bundle_file(dir.path(), "cli-m1", "7b0c6a52-1111-4a5b-8c3d-000000000002");
    let second = second.to_str().unwrap();
    let (code, _, stderr) = pgfarm(
        &["submit", second, "--server", &server.base, "--machine", "cli-m1"],
        &[("PGFARM_MACHINE_SECRET", &"0".repeat(64))],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("401") && stderr.contains("bad_signature"), "{stderr}");

    // Secret from a credentials file: refused while others may read it.
    let credentials = dir.path().join("machine.toml");
    std::fs::write(
        &credentials,
        format!("machine = \"cli-m1\"\nsecret = \"{secret}\"\nserver = \"{}\"\n", server.base),
    )
    .expect("write credentials");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let credentials_arg = credentials.to_str().unwrap();
    let (code, _, stderr) = pgfarm(&["submit", second, "--credentials", credentials_arg], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (code, stdout, stderr) = pgfarm(&["submit", second, "--credentials", credentials_arg], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // No credentials at all: a usage error naming both ways.
    let (code, _, stderr) = pgfarm(&["submit", second, "--server", &server.base], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("PGFARM_MACHINE_SECRET"), "{stderr}");
}

#[test]
fn machine_approve_writes_the_credentials_file_submit_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(&dir.path().join("data"));
    let register = ["machine", "register", "--server", &server.base, "--name", "cli-m2"];
    let (code, stdout, stderr) =
        pgfarm(&[&register[..], &["--owner-email", "o@example.org"]].concat(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let credentials = dir.path().join("creds/machine.toml");
    let credentials_arg = credentials.to_str().unwrap();
    let approve = ["machine", "approve", "cli-m2", "--server", &server.base];
    let token = [("PGFARM_ADMIN_TOKEN", server.admin_token.as_str())];
    // A wrong admin token: refused, nothing written.
    let (code, _, stderr) = pgfarm(
        &[&approve[..], &["--credentials", credentials_arg]].concat(),
        &[("PGFARM_ADMIN_TOKEN", "pgfarm_wrong")],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(!credentials.exists());
    let (code, stdout, stderr) =
        pgfarm(&[&approve[..], &["--credentials", credentials_arg]].concat(), &token);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("approved") && stdout.contains(credentials_arg), "{stdout}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&credentials).expect("written").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&credentials).unwrap();
    let secret = text.lines().find_map(|l| l.strip_prefix("secret = ")).expect("a secret line");
    assert!(secret.len() > 10 && !stdout.contains(secret.trim_matches('"')), "secret printed");
    let first = bundle_file(dir.path(), "cli-m2", "7b0c6a52-2222-4a5b-8c3d-000000000001");
    let (code, stdout, stderr) =
        pgfarm(&["submit", first.to_str().unwrap(), "--credentials", credentials_arg], &[]);
    assert_eq!(code, 0, "the file names the server and the machine: {stdout}{stderr}");
    // Approved already: approving again is refused; --rotate-secret replaces the file.
    let (code, _, _) =
        pgfarm(&[&approve[..], &["--credentials", credentials_arg]].concat(), &token);
    assert_eq!(code, 1);
    let old = std::fs::read_to_string(&credentials).unwrap();
    let (code, stdout, stderr) = pgfarm(
        &[&approve[..], &["--credentials", credentials_arg, "--rotate-secret"]].concat(),
        &token,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_ne!(std::fs::read_to_string(&credentials).unwrap(), old);
    let second = bundle_file(dir.path(), "cli-m2", "7b0c6a52-2222-4a5b-8c3d-000000000002");
    let (code, stdout, stderr) =
        pgfarm(&["submit", second.to_str().unwrap(), "--credentials", credentials_arg], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
