//! The pgfarm dashboard and offline bundle viewer: a Leptos client-side app.
//!
//! Trunk compiles this crate to wasm32 (`Trunk.toml` at the repository root, `web/index.html`) into
//! static files that `pgfarm-server --static-dir web/dist` serves. The browser reads the JSON API
//! (types from `pgfarm_model::api`) and renders TAP trees and regression diffs itself, from the raw
//! outputs in a bundle, with the same crates the server uses (`pgfarm-model`, `pgfarm-tap-parser`,
//! `pgfarm-diff`). The offline viewer (`/view`) reads a bundle file dropped on the page without any
//! request to a server.
//!
//! Layout:
//! - [`logic`]: pure view-model code (no DOM, no clock): tested natively with `cargo test -p pgfarm-web`.
//!   Main types: [`logic::matrix::Matrix`] (extension x PostgreSQL major cells),
//!   [`logic::matrix::MachineGrid`], [`logic::filters::RunFilters`] and
//!   [`logic::filters::FailureFilters`] (URL query <-> API path), [`logic::badges::BadgeSnippet`].
//! - [`components`]: reusable Leptos components (shell, states, [`components::status::StatusBadge`],
//!   URL-bound filter controls, run table, TAP tree, diff view, logs, charts).
//! - [`pages`]: one module per route ([`app`] holds the table); paths mirror the API's
//!   (`/runs/{uuid}` reads `/api/v1/runs/{uuid}`). Every page root is
//!   `<section class="page" data-page="NAME">`, and its filters live in the URL query.
//! - [`mod@api`]: the HTTP client for the JSON API; failures carry the server's `{code, message}`.
//!
//! Example: the run filters of `/runs?extension=tiny&status=failed` as the API call they make.
//!
//! ```
//! use pgfarm_web::logic::filters::{RunFilters, parse_query};
//!
//! let pairs = parse_query("?extension=tiny&status=failed&after=");
//! let filters = RunFilters::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
//! assert_eq!(filters.api_path(50), "/api/v1/runs?extension=tiny&status=failed&limit=50");
//! assert_eq!(
//!     pgfarm_web::logic::time_ago::time_ago("2026-11-22T09:00:00Z", 1_795_348_800_000).unwrap(),
//!     "3 h ago"
//! );
//! ```
//!
//! What it does not do: server-side rendering (the server serves static files), or trust any
//! string it shows (every log, name, TAP line and diff is rendered as text, never as HTML). The
//! admin token lives in the tab's sessionStorage only and is sent as a bearer header.
//!
//! Tests: logic and component tests in the modules (`cargo test -p pgfarm-web`; components are
//! rendered to HTML natively, hostile strings included, against real server answers in
//! `src/logic/fixtures/`); browser tests against a real server in `web/e2e/`.

pub mod api;
pub mod app;
pub mod components;
pub mod logic;
pub mod pages;

pub use app::App;

/// Mounts the app on `<body>`; the wasm binary's `main` calls this.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
