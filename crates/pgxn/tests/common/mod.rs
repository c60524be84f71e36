//! A real HTTP/1.1 server on 127.0.0.1 serving a folder, for the client to talk to over a socket.
//! `/status/N/...` answers status N for any path under it, `/redirect/...` a redirect off the machine.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

pub fn mirror_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pgxn-mirror"))
        .canonicalize()
        .unwrap()
}

/// Serves `root` until the test process ends; returns the base URL.
pub fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
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
                let mut extra = String::new();
                let (status, body) = if path.starts_with("/redirect/") {
                    extra = "Location: http://example.invalid/index.json\r\n".into();
                    (302, Vec::new())
                } else if let Some(rest) = path.strip_prefix("/status/") {
                    (
                        rest.split('/').next().unwrap().parse::<u16>().unwrap(),
                        b"failing on purpose\n".to_vec(),
                    )
                } else if path.contains("..") {
                    (400, Vec::new())
                } else {
                    match std::fs::read(root.join(path.trim_start_matches('/'))) {
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
    format!("http://127.0.0.1:{port}/")
}
