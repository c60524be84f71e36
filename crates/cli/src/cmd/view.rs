//! `pgfarm view BUNDLE`: serves the built dashboard and one bundle file on 127.0.0.1 and opens
//! the offline viewer (`/view?src=/local/bundle...`) in a browser.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pgfarm_model::Bundle;
use pgfarm_pgnode::command::Command;
use pgfarm_webapp::WebApp;

/// Arguments of `pgfarm view`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reads and validates BUNDLE (a .pgfarm.json.gz or .pgfarm.json file) first, then serves the web
app embedded in this binary (or --static-dir DIR) and the bundle's bytes, unchanged, on
127.0.0.1 at a random port. It prints the viewer's URL, opens it in a browser ($BROWSER, else
xdg-open) unless --no-open, and serves until Ctrl-C. The page parses and renders the bundle in
the browser; nothing else is served (no API, no other file).

The web app is embedded when pgfarm is built after scripts/web-build.sh (which needs the wasm
toolchain); --static-dir (or $PGFARM_WEB_DIR) serves a folder instead, for development.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when it cannot serve (built without the web app, the address
cannot be bound), 2 on a usage error or when BUNDLE cannot be read or is not a valid bundle
(the message names the file and the problem).")]
pub(crate) struct Args {
    /// The bundle file to show.
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// Address to listen on (port 0: a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve the web app from this folder (with index.html) instead of the embedded one.
    #[arg(
        long = "static-dir",
        visible_alias = "web-dir",
        env = "PGFARM_WEB_DIR",
        value_name = "DIR"
    )]
    web_dir: Option<PathBuf>,
    /// Print the URL but do not start a browser.
    #[arg(long)]
    no_open: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let bytes = match std::fs::read(&args.bundle) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("pgfarm view: cannot read {}: {err}", args.bundle.display());
            return ExitCode::from(2);
        }
    };
    let bundle = match Bundle::from_slice(&bytes) {
        Ok(bundle) => bundle,
        Err(err) => {
            eprintln!("pgfarm view: {} is not a valid bundle: {err}", args.bundle.display());
            return ExitCode::from(2);
        }
    };
    let web = match WebApp::resolve(args.web_dir.as_deref()) {
        Ok(web) => web,
        Err(err) => {
            eprintln!("pgfarm view: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The bundle keeps its kind in the URL: the viewer sniffs gzip by its bytes anyway.
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let (bundle_path, content_type) = if gzip {
        ("/local/bundle.pgfarm.json.gz", "application/gzip")
    } else {
        ("/local/bundle.pgfarm.json", "application/json")
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                eprintln!("pgfarm view: cannot start the async runtime: {err}");
                return ExitCode::FAILURE;
            }
        };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("pgfarm view: cannot listen on {}: {err}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(err) => {
                eprintln!("pgfarm view: cannot read the listening address: {err}");
                return ExitCode::FAILURE;
            }
        };
        let url = format!("http://{addr}/view?src={bundle_path}");
        println!("{url}");
        eprintln!(
            "pgfarm view: {} ({} {}, PostgreSQL {}, {}) from {}; Ctrl-C to stop",
            args.bundle.display(),
            bundle.extension.name,
            bundle.extension.version,
            bundle.postgres.version,
            bundle.run.status,
            web.describe(),
        );
        if !args.no_open {
            open_browser(&url);
        }
        let app = router(&web, bundle_path, content_type, Bytes::from(bytes));
        match axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("pgfarm view: serving on {addr} failed: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

/// The bundle at `bundle_path`, a JSON 404 under /api (the viewer needs no API), and the
/// dashboard's files, with index.html for every other path (the client router routes them).
fn router(
    web: &WebApp,
    bundle_path: &'static str,
    content_type: &'static str,
    body: Bytes,
) -> Router {
    Router::new()
        .route(
            bundle_path,
            get(move || {
                let body = body.clone();
                async move {
                    let mut response = body.into_response();
                    let headers = response.headers_mut();
                    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    headers.insert(
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    );
                    response
                }
            }),
        )
        .route("/api", get(no_api))
        .route("/api/{*rest}", get(no_api))
        .fallback_service(web.router())
}

/// Every API path: the viewer works without a server, so say so in the API's error shape.
async fn no_api() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"code":"not_found","message":"pgfarm view serves one bundle and the viewer, no API"}"#,
    )
        .into_response()
}

/// Starts $BROWSER (its first entry when it is a colon-separated list) or xdg-open on `url`,
/// without waiting for it; says so when neither is there.
fn open_browser(url: &str) {
    let browser = std::env::var("BROWSER")
        .ok()
        .and_then(|value| value.split(':').next().map(str::to_owned))
        .filter(|value| !value.trim().is_empty())
        .or_else(|| on_path("xdg-open").then(|| "xdg-open".to_owned()));
    let Some(browser) = browser else {
        eprintln!("pgfarm view: no browser found (set BROWSER or install xdg-open): open {url}");
        return;
    };
    let spawned =
        Command::new(&browser).arg(url).spawn(Stdio::null(), Stdio::null(), Stdio::null());
    match spawned {
        // Reap it whenever it exits (xdg-open returns at once; a browser may keep running).
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(err) => eprintln!("pgfarm view: could not start {browser}: {err}; open {url}"),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("pgfarm view: stopped");
}
