//! pgfarm-server: stores signed result bundles from test machines and serves the status API
//! (JSON under `/api/v1`, badges, Atom feeds) and the built web UI.
//!
//! # Overview
//!
//! - [`config::Config`] resolves flags, `PGFARM_*` variables and a TOML file.
//! - [`db::Store`] is everything the server keeps, with one SQLite and one PostgreSQL
//!   implementation sharing their SQL (`db/sql.rs`); [`db::open`] picks one by URL and
//!   applies the migrations of `migrations/`.
//! - [`auth::SignedBody`] verifies a machine's HMAC over the exact body bytes;
//!   [`verdict::derive`] re-derives every status from the raw outputs of a bundle.
//! - [`app`] builds the axum `Router` (routes + middleware + static UI), [`serve`] runs it with
//!   graceful shutdown, and [`Server::start`] does all of it on a listener (what the binary and
//!   the tests use).
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let config = pgfarm_server::config::Config::for_data_dir(dir.path());
//! let server = pgfarm_server::Server::start(config).await?;
//! println!("listening on http://{}", server.addr);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What it does not do
//!
//! It never shells out and never runs tests (the runner does); it never trusts a client's
//! statuses; it keeps no machine secret (they are derived, see [`secrets`]); rate limits are
//! per process.
//!
//! # Tests
//!
//! Unit tests sit at the bottom of the modules; `tests/api.rs` starts real servers on
//! 127.0.0.1:0 and talks HTTP to them (signed submissions, hostile requests, reads), against
//! SQLite and, when a PostgreSQL installation is found, PostgreSQL; `tests/tidy.rs` checks that
//! the two migration folders stay in lockstep.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod lifecycle;
pub mod limits;
pub mod metrics;
pub mod pgxn;
pub mod routes;
pub mod secrets;
pub mod state;
/// The status rules, shared with the dashboard (crate `pgfarm-verdict`).
pub use pgfarm_verdict as verdict;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest JSON request body outside bundle submission (registrations, admin calls).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Unix milliseconds as RFC 3339 UTC (`1970-01-01T00:00:00Z` for out-of-range values).
pub fn rfc3339(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

const BUILTIN_INDEX: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pgfarm</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body>
<h1>pgfarm</h1>
<p>This server runs without its web UI: it was built without the web app (build it with <code>scripts/web-build.sh</code> and rebuild, or start the server with <code>--static-dir web/dist</code>).
The JSON API is available:</p>
<ul>
<li><a href="/api/v1">/api/v1</a>: index of the API's URI templates</li>
<li><a href="/api/v1/matrix">/api/v1/matrix</a>: the status matrix</li>
<li><a href="/api/v1/runs">/api/v1/runs</a>: recent runs</li>
<li><a href="/api/v1/failures">/api/v1/failures</a>: recent failures</li>
<li><a href="/api/v1/openapi.json">/api/v1/openapi.json</a>: OpenAPI document</li>
<li><a href="/healthz">/healthz</a>, <a href="/metrics">/metrics</a></li>
</ul></body></html>
"#;

async fn builtin_index() -> Html<&'static str> {
    Html(BUILTIN_INDEX)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.record_request(
        response.status().as_u16(),
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    response
}

/// The request time limit (`--request-timeout`): a request still running after it (a slow
/// upload, a stuck database call) is dropped and answered 503 with a JSON `ErrorBody`
/// (`unavailable`, `Retry-After: 5`), like every other error.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_s = limit.as_secs_f64(), "request time limit reached");
            ApiError {
                code: pgfarm_model::api::ErrorCode::Unavailable,
                message: format!(
                    "the request took longer than the server's time limit of {} s; retry later",
                    limit.as_secs_f64()
                ),
                retry_after: Some(5),
            }
            .into_response()
        }
    }
}

/// The whole application: API routes, the web UI (or a built-in index page), middleware.
pub fn app(state: AppState) -> Router {
    // Every /api path the API does not route is the API's JSON 404, never the web app's page.
    let mut router = routes::router()
        .route("/api", axum::routing::any(not_found))
        .route("/api/{*rest}", axum::routing::any(not_found));
    // The web app: --static-dir when given, else the files embedded at build time
    // (pgfarm-webapp); without either, a built-in index page and the API.
    router = match pgfarm_webapp::WebApp::resolve(state.config.static_dir.as_deref()) {
        Ok(web) => router.fallback_service(web.router()),
        Err(err) => {
            tracing::warn!(%err, "serving the API without the web UI");
            router.route("/", axum::routing::get(builtin_index)).fallback(not_found)
        }
    };
    let timeout = state.config.request_timeout;
    router
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(axum::middleware::from_fn_with_state(state.clone(), record_metrics))
        // Fastest gzip: a third of the CPU of the default level on JSON for a few % more bytes
        // (the 2,300-cell matrix: 20 ms less per request; see README).
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(axum::middleware::from_fn_with_state(timeout, time_limit))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::new(
                pgfarm_model::api::ErrorCode::Internal,
                "internal error; see the server log",
            )
            .into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Opens the store (migrating it), loads the server key and prepares the admin token.
/// Returns the state and, on first start without `PGFARM_ADMIN_TOKEN`, the generated token.
pub async fn prepare(config: Config) -> anyhow::Result<(AppState, Option<String>)> {
    let store = db::open(&config).await?;
    let key = secrets::ServerKey::load_or_create(config.server_key.as_deref(), &config.data_dir)?;
    let new_token =
        auth::prepare_admin_token(store.as_ref(), config.admin_token.as_deref()).await?;
    Ok((AppState::new(store, config, key), new_token))
}

/// Starts the periodic PGXN sync when `--pgxn-mirror` is set.
pub fn periodic_pgxn_sync(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let mirror = state.config.pgxn_mirror.clone()?;
    Some(pgxn::spawn_periodic(state.store.clone(), mirror, state.config.pgxn_interval))
}

/// A running server (for tests and embedding): its address and a shutdown handle.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its state (store, configuration).
    pub state: AppState,
    /// The admin token generated at first start, if one was.
    pub new_admin_token: Option<String>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    pgxn: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Prepares the state and serves it on `config.listen` in a background task.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (state, new_admin_token) = prepare(config).await?;
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = signal.await;
        }));
        let pgxn = periodic_pgxn_sync(&state);
        Ok(Server { addr, state, new_admin_token, shutdown, task, pgxn })
    }

    /// Stops the PGXN sync and accepting connections, waits (at most 30 s) for requests in
    /// flight.
    pub async fn shutdown(self) {
        if let Some(pgxn) = self.pgxn {
            pgxn.abort();
        }
        let _ = self.shutdown.send(());
        let _ = tokio::time::timeout(Duration::from_secs(30), self.task).await;
    }
}
