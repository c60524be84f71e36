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
//! - [`components`]: reusable Leptos components (layout, states, TAP tree, diff view, logs, charts).
//! - [`pages`]: one module per route; paths mirror the API's (`/runs/{uuid}` reads `/api/v1/runs/{uuid}`).
//! - [`api`]: the HTTP client for the JSON API.
//!
//! What it does not do: server-side rendering (the server serves static files), or trust any
//! string it shows (every log, name, TAP line and diff is rendered as text, never as HTML).

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
