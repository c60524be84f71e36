//! pgfarm-webapp: the pgfarm web app (the dashboard and the offline bundle viewer) as one axum
//! service, shared by `pgfarm view` and `pgfarm-server` so that `pgfarm` needs no database
//! crates to show a bundle.
//!
//! The app's files are embedded at build time from `web/dist` (or `$PGFARM_WEB_DIST`), made by
//! `scripts/web-build.sh`; a binary built where they were not built has none
//! ([`WebApp::embedded`] is `None`) and says so. A folder given at run time (`--static-dir`,
//! for development) overrides them. Either way every path that is not a file gets
//! `index.html`, so the client-side router routes it.
//!
//! ```
//! use pgfarm_webapp::WebApp;
//!
//! match WebApp::resolve(None) {
//!     Ok(app) => {
//!         let _service: axum::Router = app.router();
//!     }
//!     Err(err) => assert!(err.to_string().contains("built without the web app")),
//! }
//! ```

#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Why there is no web app to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The folder given at run time has no `index.html`.
    NoIndex {
        /// The folder.
        dir: PathBuf,
    },
    /// No folder was given and the binary was built without the app's files.
    NotBuilt,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoIndex { dir } => write!(
                f,
                "{} has no index.html: pass the folder scripts/web-build.sh writes (web/dist)",
                dir.display()
            ),
            Error::NotBuilt => write!(
                f,
                "this binary was built without the web app (no index.html in {SOURCE} at build \
                 time, which needs the wasm toolchain): build it with scripts/web-build.sh and \
                 rebuild, or pass --static-dir DIR"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Where the app's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebApp {
    /// The files embedded at build time.
    Embedded,
    /// A folder given at run time.
    Dir(PathBuf),
}

impl WebApp {
    /// The embedded app, `None` when the binary was built without it.
    pub fn embedded() -> Option<WebApp> {
        FILES.iter().any(|(path, _)| *path == "index.html").then_some(WebApp::Embedded)
    }

    /// The app in `dir` (it must hold an `index.html`).
    pub fn from_dir(dir: &Path) -> Result<WebApp, Error> {
        if dir.join("index.html").is_file() {
            Ok(WebApp::Dir(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())))
        } else {
            Err(Error::NoIndex { dir: dir.to_path_buf() })
        }
    }

    /// The folder when one is given (`--static-dir`), else the embedded app.
    pub fn resolve(dir: Option<&Path>) -> Result<WebApp, Error> {
        match dir {
            Some(dir) => WebApp::from_dir(dir),
            None => WebApp::embedded().ok_or(Error::NotBuilt),
        }
    }

    /// A description for logs: `embedded (N files)` or the folder.
    pub fn describe(&self) -> String {
        match self {
            WebApp::Embedded => format!("the embedded web app ({} files)", FILES.len()),
            WebApp::Dir(dir) => dir.display().to_string(),
        }
    }

    /// A service answering every path with the app's file, or `index.html`; mount it as a
    /// router's fallback.
    pub fn router(&self) -> Router {
        match self {
            WebApp::Embedded => Router::new().fallback(embedded_file),
            WebApp::Dir(dir) => {
                let index = dir.join("index.html");
                Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
            }
        }
    }
}

fn lookup(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

async fn embedded_file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let (path, bytes) = match lookup(path) {
        Some(bytes) if !path.is_empty() => (path, bytes),
        _ => match lookup("index.html") {
            Some(bytes) => ("index.html", bytes),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // index.html names the hashed asset files: always ask again for it.
    let cache = if path == "index.html" { "no-cache" } else { "public, max-age=3600" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    async fn get(router: Router, path: &str) -> (StatusCode, String, String) {
        let request = axum::http::Request::get(path).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
        (status, kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_folder_serves_its_files_and_index_html_for_other_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>app</p>").unwrap();
        std::fs::write(dir.path().join("app.js"), "let x;").unwrap();
        let app = WebApp::resolve(Some(dir.path())).unwrap();
        assert_eq!(get(app.router(), "/app.js").await.2, "let x;");
        let (status, _, body) = get(app.router(), "/runs/some-uuid").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "<p>app</p>"));
    }

    #[test]
    fn a_folder_without_index_html_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = WebApp::resolve(Some(dir.path())).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{} has no index.html", dir.path().display())), "{err}");
    }

    #[tokio::test]
    async fn the_embedded_app_serves_index_html_or_says_it_was_not_built() {
        match WebApp::embedded() {
            Some(app) => {
                let (status, kind, body) = get(app.router(), "/view").await;
                assert_eq!(status, StatusCode::OK);
                assert!(kind.starts_with("text/html"), "{kind}");
                assert_eq!(body.as_bytes(), lookup("index.html").unwrap());
                for (path, bytes) in FILES {
                    let (status, _, body) = get(app.router(), &format!("/{path}")).await;
                    assert_eq!(status, StatusCode::OK, "{path}");
                    assert_eq!(body.len(), String::from_utf8_lossy(bytes).len(), "{path}");
                }
            }
            None => {
                assert!(FILES.is_empty());
                let err = WebApp::resolve(None).unwrap_err().to_string();
                assert!(err.contains("built without the web app"), "{err}");
            }
        }
    }
}
