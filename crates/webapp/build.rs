//! Embeds the built web app: every file of `$PGFARM_WEB_DIST` (default `web/dist` of this
//! workspace, written by scripts/web-build.sh) when it holds an index.html; nothing otherwise,
//! and the binaries then say that they were built without it.

use std::path::{Path, PathBuf};

fn files(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push((rel.to_string_lossy().replace('\\', "/"), path.clone()));
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=PGFARM_WEB_DIST");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = std::env::var_os("PGFARM_WEB_DIST")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../web/dist"));
    // Watch the folder when it is there, else its parent (so a first build of it is noticed).
    let watched =
        if dist.is_dir() { dist.clone() } else { dist.parent().unwrap_or(&dist).to_path_buf() };
    if watched.exists() {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    let mut list = Vec::new();
    if dist.join("index.html").is_file() {
        files(&dist, &dist, &mut list);
    }
    let mut code = String::from(
        "/// The embedded files: (path relative to the app's root, bytes).\npub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, path) in &list {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    code.push_str(&format!(
        "/// Where the embedded files came from.\npub(crate) static SOURCE: &str = {:?};\n",
        dist.display().to_string()
    ));
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("embedded.rs");
    std::fs::write(&out, code).expect("OUT_DIR is writable");
}
