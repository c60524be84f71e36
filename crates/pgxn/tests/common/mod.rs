//! The test mirror's folder; the HTTP server is pgfarm-testsupport's.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

pub use pgfarm_testsupport::http::serve_dir as serve;

pub fn mirror_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pgxn-mirror"))
        .canonicalize()
        .unwrap()
}
