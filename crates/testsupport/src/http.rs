//! A real HTTP/1.1 server on 127.0.0.1 serving a folder, for tests that talk to a PGXN mirror (or
//! any static files) over a socket.
//!
//! `GET /path` answers the file `root/path` (404 when absent, 400 for `..`), with `Content-Length`
//! and `Connection: close`. Two test paths: `/status/N/...` answers status N for any path under it,
//! and `/redirect/...` a redirect off the machine. Every request's path is recorded
//! ([`Served::requests`]), so a test can assert what a client fetched.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A running server: its base URL and the paths it was asked for.
#[derive(Debug, Clone)]
pub struct Served {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// The request paths so far, in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        if let Ok(mut r) = self.requests.lock() {
            r.clear();
        }
    }
}

/// Serves `root` until the test process ends; returns the base URL.
pub fn serve_dir(root: PathBuf) -> String {
    serve(root).url
}

/// Serves `root` until the test process ends.
pub fn serve(root: PathBuf) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else { return };
                let mut reader = BufReader::new(read_half);
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                if let Ok(mut log) = log.lock() {
                    log.push(path.clone());
                }
                let mut extra = String::new();
                let (status, body) = if path.starts_with("/redirect/") {
                    extra = "Location: http://example.invalid/index.json\r\n".into();
                    (302, Vec::new())
                } else if let Some(rest) = path.strip_prefix("/status/") {
                    let code = rest.split('/').next().and_then(|c| c.parse::<u16>().ok());
                    (code.unwrap_or(400), b"failing on purpose\n".to_vec())
                } else if path.contains("..") {
                    (400, Vec::new())
                } else {
                    let relative = path.split('?').next().unwrap_or("").trim_start_matches('/');
                    match std::fs::read(root.join(relative)) {
                        Ok(body) => (200, body),
                        Err(_) => (404, b"not found\n".to_vec()),
                    }
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n{extra}\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    Served { url: format!("http://127.0.0.1:{port}/"), requests }
}
