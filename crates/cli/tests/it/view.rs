//! `pgfarm view` end to end: the real binary serves a dashboard folder and one bundle on
//! 127.0.0.1; the tests GET the printed URL, the bundle's bytes and a client-side route, check
//! that a bad bundle or a missing dashboard is refused before anything is served, and that
//! SIGINT stops it with exit status 0.
//!
//! The dashboard folder is a temporary one with a small index.html, so these tests do not need
//! the wasm build; the browser tests in web/e2e/ open the real viewer.

#![allow(
    clippy::disallowed_methods,
    reason = "a test harness runs the binaries under test and the peer tools it compares with"
)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const PGFARM: &str = env!("CARGO_BIN_EXE_pgfarm");
const INDEX: &str = "<!doctype html><title>pgfarm test dashboard</title>";

fn sample(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles")).join(name)
}

fn web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("index.html"), INDEX).expect("write index.html");
    std::fs::write(dir.path().join("app.css"), "body { color: black }").expect("write app.css");
    dir
}

/// A running `pgfarm view`, killed on drop if a test fails before stopping it.
struct Viewer {
    child: Child,
    url: String,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bundle: &Path, web: &Path) -> Viewer {
    let mut child = Command::new(PGFARM)
        .arg("view")
        .arg(bundle)
        .arg("--web-dir")
        .arg(web)
        .arg("--no-open")
        .env_remove("PGFARM_WEB_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pgfarm view starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the URL line");
    if line.is_empty() {
        let mut stderr = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
        panic!("pgfarm view printed no URL; stderr: {stderr}");
    }
    Viewer { child, url: line.trim().to_owned() }
}

fn get(url: &str) -> (u16, String, Vec<u8>) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut response = agent.get(url).call().expect("GET");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.body_mut().read_to_vec().expect("body");
    (response.status().as_u16(), content_type, body)
}

fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").expect("scheme") + 3;
    let path = url[after_scheme..].find('/').expect("path") + after_scheme;
    &url[..path]
}

#[test]
fn view_serves_the_viewer_page_and_the_gzip_bundle_unchanged() {
    let web = web_dir();
    let bundle = sample("pass.pgfarm.json.gz");
    let viewer = start(&bundle, web.path());
    assert!(
        viewer.url.starts_with("http://127.0.0.1:")
            && viewer.url.ends_with("/view?src=/local/bundle.pgfarm.json.gz"),
        "{}",
        viewer.url
    );

    let (status, content_type, body) = get(&viewer.url);
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_eq!(String::from_utf8(body).expect("utf-8"), INDEX);

    let base = origin(&viewer.url);
    let (status, content_type, body) = get(&format!("{base}/local/bundle.pgfarm.json.gz"));
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/gzip");
    assert_eq!(body, std::fs::read(&bundle).expect("read sample"));

    // Static files as they are; any other path is the client router's (index.html).
    let (status, _, body) = get(&format!("{base}/app.css"));
    assert_eq!((status, body.as_slice()), (200, b"body { color: black }".as_slice()));
    let (status, _, body) = get(&format!("{base}/runs/anything"));
    assert_eq!((status, String::from_utf8(body).expect("utf-8")), (200, INDEX.to_owned()));
    // No API behind the viewer: a JSON error in the API's shape.
    let (status, content_type, body) = get(&format!("{base}/api/v1/matrix"));
    assert_eq!((status, content_type.as_str()), (404, "application/json"));
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json error body");
    assert_eq!(json["code"], "not_found");
}

#[test]
fn view_serves_a_plain_json_bundle_under_a_json_name() {
    let web = web_dir();
    let bundle = sample("hostile.pgfarm.json");
    let viewer = start(&bundle, web.path());
    assert!(viewer.url.ends_with("/view?src=/local/bundle.pgfarm.json"), "{}", viewer.url);
    let (status, content_type, body) =
        get(&format!("{}/local/bundle.pgfarm.json", origin(&viewer.url)));
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(body, std::fs::read(&bundle).expect("read sample"));
}

#[test]
fn view_stops_with_exit_status_zero_on_sigint() {
    let web = web_dir();
    let mut viewer = start(&sample("pass.pgfarm.json"), web.path());
    let (status, _, _) = get(&viewer.url);
    assert_eq!(status, 200);
    let killed = Command::new("kill")
        .args(["-INT", &viewer.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = viewer.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

fn run_view(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(PGFARM)
        .arg("view")
        .args(args)
        .arg("--no-open")
        .env_remove("PGFARM_WEB_DIR")
        .output()
        .expect("pgfarm view runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn view_refuses_a_file_that_is_not_a_bundle_with_exit_status_two() {
    let web = web_dir();
    let bad = web.path().join("not-a-bundle.pgfarm.json");
    std::fs::write(&bad, "<html>not json</html>").expect("write");
    let (code, stdout, stderr) =
        run_view(&[bad.to_str().expect("utf-8 path"), "--web-dir", web.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "nothing is served: {stdout}");
    assert!(stderr.contains("not-a-bundle.pgfarm.json is not a valid bundle"), "{stderr}");
    assert!(stderr.contains("not a JSON object"), "{stderr}");
}

#[test]
fn view_refuses_a_missing_bundle_file_with_exit_status_two() {
    let web = web_dir();
    let missing = web.path().join("missing.pgfarm.json.gz");
    let (code, _, stderr) = run_view(&[
        missing.to_str().expect("utf-8 path"),
        "--web-dir",
        web.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot read") && stderr.contains("missing.pgfarm.json.gz"),
        "{stderr}"
    );
}

#[test]
fn view_without_a_built_dashboard_says_to_run_the_web_build() {
    let empty = tempfile::tempdir().expect("temp dir");
    let bundle = sample("pass.pgfarm.json");
    let (code, _, stderr) = run_view(&[
        bundle.to_str().expect("utf-8 path"),
        "--web-dir",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("has no index.html"), "{stderr}");
    assert!(stderr.contains("scripts/web-build.sh"), "{stderr}");
}
