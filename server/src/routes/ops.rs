//! Operations and discovery: `/healthz`, `/metrics`, the `/api/v1` index of URI templates and
//! the OpenAPI document, both built from one table of endpoints (`ENDPOINTS`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pgfarm_model::api;
use schemars::JsonSchema;
use serde::Serialize;

use super::openapi::{self, BodyFn, json_of};
use super::{Caching, cached_json};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1", get(index))
        .route("/api/v1/", get(index))
        .route("/api/v1/openapi.json", get(openapi))
}

/// One endpoint of the API: method, path template, query parameters, summary, answers.
pub(crate) struct Endpoint {
    /// Name in the `/api/v1` index.
    pub(crate) name: &'static str,
    /// HTTP method.
    pub(crate) method: &'static str,
    /// Path template (`{name}` segments).
    pub(crate) path: &'static str,
    /// Query parameters.
    pub(crate) query: &'static [&'static str],
    /// One line.
    pub(crate) summary: &'static str,
    /// Status codes it answers with, besides 500/503.
    pub(crate) statuses: &'static [u16],
    /// The request body, if it takes one.
    pub(crate) request: Option<BodyFn>,
    /// The body of its success answer (200 or 201).
    pub(crate) response: BodyFn,
}

const RUN_FILTERS: &[&str] = &[
    "extension",
    "version",
    "machine",
    "pg",
    "stage",
    "status",
    "since",
    "until",
    "after",
    "limit",
];

/// Every endpoint, the single source of the index and the OpenAPI document.
pub(crate) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        name: "index",
        method: "get",
        path: "/api/v1",
        query: &[],
        summary: "This index: every endpoint's method, URI template (RFC 6570) and summary.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<ApiIndex>,
    },
    Endpoint {
        name: "register_machine",
        method: "post",
        path: "/api/v1/machines",
        query: &[],
        summary: "Ask to join: registers a machine as pending (rate-limited per client address).",
        statuses: &[201, 400, 409, 413, 429],
        request: Some(json_of::<api::MachineRegistration>),
        response: json_of::<api::Machine>,
    },
    Endpoint {
        name: "machines",
        method: "get",
        path: "/api/v1/machines",
        query: &[],
        summary: "Machines with their state and last-seen time.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<Vec<api::Machine>>,
    },
    Endpoint {
        name: "machine",
        method: "get",
        path: "/api/v1/machines/{name}",
        query: &[],
        summary: "One machine.",
        statuses: &[200, 304, 404],
        request: None,
        response: json_of::<api::Machine>,
    },
    Endpoint {
        name: "queue",
        method: "get",
        path: "/api/v1/machines/{name}/queue",
        query: &["pg", "status", "limit"],
        summary: "Extension versions this machine has not tested on PostgreSQL `pg` yet, of the release statuses in `status` (`stable,testing,unstable`; default `stable`), allowed by their PostgreSQL range; PGXN releases carry their download URL and SHA-1.",
        statuses: &[200, 400, 404],
        request: None,
        response: json_of::<Vec<api::QueueItem>>,
    },
    Endpoint {
        name: "users",
        method: "get",
        path: "/api/v1/users",
        query: &[],
        summary: "PGXN users (authors) of the synced releases, with counts.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<Vec<api::UserSummary>>,
    },
    Endpoint {
        name: "user",
        method: "get",
        path: "/api/v1/users/{name}",
        query: &[],
        summary: "A PGXN user and the distributions and releases they uploaded, with run counts.",
        statuses: &[200, 304, 404],
        request: None,
        response: json_of::<api::UserDetail>,
    },
    Endpoint {
        name: "owners",
        method: "get",
        path: "/api/v1/owners",
        query: &[],
        summary: "Machine owners (addresses masked) and their machines.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<Vec<api::Owner>>,
    },
    Endpoint {
        name: "admin_machine",
        method: "post",
        path: "/api/v1/admin/machines/{name}/{action}",
        query: &[],
        summary: "Admin: approve, reject, suspend, retire or rotate-secret (approve and rotate-secret answer the secret, once).",
        statuses: &[200, 401, 404, 409],
        request: None,
        response: openapi::admin_answer,
    },
    Endpoint {
        name: "admin_release",
        method: "post",
        path: "/api/v1/admin/extensions",
        query: &[],
        summary: "Admin: announce a released extension version for the work queue.",
        statuses: &[201, 400, 401],
        request: Some(json_of::<api::ExtensionRelease>),
        response: json_of::<api::ExtensionRelease>,
    },
    Endpoint {
        name: "submit_run",
        method: "post",
        path: "/api/v1/runs",
        query: &[],
        summary: "Submit one signed bundle (gzip JSON body; X-Pgfarm-Machine, X-Pgfarm-Timestamp, X-Pgfarm-Signature).",
        statuses: &[201, 400, 401, 403, 409, 413, 422, 429],
        request: Some(openapi::bundle_file),
        response: json_of::<api::RunCreated>,
    },
    Endpoint {
        name: "runs",
        method: "get",
        path: "/api/v1/runs",
        query: RUN_FILTERS,
        summary: "Runs, newest first, filtered, keyset-paginated (`after` = the previous page's `next`).",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<api::Page<api::RunSummary>>,
    },
    Endpoint {
        name: "run",
        method: "get",
        path: "/api/v1/runs/{uuid}",
        query: &[],
        summary: "One run with its re-derived stages and tests (immutable).",
        statuses: &[200, 304, 400, 404],
        request: None,
        response: json_of::<api::RunDetail>,
    },
    Endpoint {
        name: "run_bundle",
        method: "get",
        path: "/api/v1/runs/{uuid}/bundle",
        query: &[],
        summary: "The raw bundle exactly as submitted (immutable).",
        statuses: &[200, 304, 404],
        request: None,
        response: openapi::bundle_file,
    },
    Endpoint {
        name: "run_logs",
        method: "get",
        path: "/api/v1/runs/{uuid}/logs",
        query: &[],
        summary: "Stage logs and the server log slice of a run.",
        statuses: &[200, 304, 404],
        request: None,
        response: json_of::<super::runs::RunLogs>,
    },
    Endpoint {
        name: "extensions",
        method: "get",
        path: "/api/v1/extensions",
        query: &[],
        summary: "Extensions with their matrix counts.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<Vec<api::Extension>>,
    },
    Endpoint {
        name: "extension",
        method: "get",
        path: "/api/v1/extensions/{extension}",
        query: &[],
        summary: "One extension: its matrix cells and versions.",
        statuses: &[200, 304, 404],
        request: None,
        response: json_of::<api::ExtensionDetail>,
    },
    Endpoint {
        name: "extension_versions",
        method: "get",
        path: "/api/v1/extensions/{extension}/versions",
        query: &[],
        summary: "Versions of an extension with run counts.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<Vec<api::VersionCounts>>,
    },
    Endpoint {
        name: "extension_machines",
        method: "get",
        path: "/api/v1/extensions/{extension}/machines",
        query: &["version"],
        summary: "The latest run per machine and PostgreSQL major of an extension (or of one \
                  version), by machine then major: the machine grid.",
        statuses: &[200, 304, 400, 404],
        request: None,
        response: json_of::<Vec<api::RunSummary>>,
    },
    Endpoint {
        name: "test_history",
        method: "get",
        path: "/api/v1/extensions/{extension}/tests/{test}/history",
        query: &["limit"],
        summary: "A test's results across runs, with flaky marks and flip rate.",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<api::TestHistory>,
    },
    Endpoint {
        name: "extension_feed",
        method: "get",
        path: "/api/v1/extensions/{extension}/feed.atom",
        query: &[],
        summary: "Atom feed of one extension's status changes.",
        statuses: &[200, 304],
        request: None,
        response: openapi::atom,
    },
    Endpoint {
        name: "matrix",
        method: "get",
        path: "/api/v1/matrix",
        query: &["extension", "release_status"],
        summary: "Extension x PostgreSQL major x platform: the latest run of each cell (`release_status=stable,testing`: only cells whose version has one of these release statuses).",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<Vec<api::MatrixCell>>,
    },
    Endpoint {
        name: "failures",
        method: "get",
        path: "/api/v1/failures",
        query: &[
            "days",
            "hide_now_green",
            "extension",
            "version",
            "machine",
            "pg",
            "stage",
            "after",
            "limit",
        ],
        summary: "Failed runs of the last `days` days (default 7).",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<api::Page<api::RunSummary>>,
    },
    Endpoint {
        name: "trends",
        method: "get",
        path: "/api/v1/trends",
        query: &["days", "extension"],
        summary: "Runs per day, status and PostgreSQL major over the last `days` days (default \
                  30), of all extensions or one.",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<Vec<api::TrendPoint>>,
    },
    Endpoint {
        name: "stage_trends",
        method: "get",
        path: "/api/v1/trends/stages",
        query: &["days", "extension"],
        summary: "Stage durations per day, stage and PostgreSQL major (runs, total and longest \
                  milliseconds of the stages that ran) over the last `days` days (default 30), \
                  of all extensions or one.",
        statuses: &[200, 304, 400],
        request: None,
        response: json_of::<Vec<api::StageTrendPoint>>,
    },
    Endpoint {
        name: "stats",
        method: "get",
        path: "/api/v1/stats",
        query: &[],
        summary: "Overall counts.",
        statuses: &[200, 304],
        request: None,
        response: json_of::<api::Stats>,
    },
    Endpoint {
        name: "feed",
        method: "get",
        path: "/api/v1/feed.atom",
        query: &[],
        summary: "Atom feed of all status changes (green to red and back).",
        statuses: &[200, 304],
        request: None,
        response: openapi::atom,
    },
    Endpoint {
        name: "badge",
        method: "get",
        path: "/badge/{extension}.svg",
        query: &[],
        summary: "SVG badge of an extension (`.json`: shields.io endpoint).",
        statuses: &[200, 304, 404],
        request: None,
        response: openapi::badge,
    },
    Endpoint {
        name: "badge_major",
        method: "get",
        path: "/badge/{extension}/pg{major}.svg",
        query: &[],
        summary: "SVG badge of an extension on one PostgreSQL major (`.json`: shields.io endpoint).",
        statuses: &[200, 304, 404],
        request: None,
        response: openapi::badge,
    },
    Endpoint {
        name: "openapi",
        method: "get",
        path: "/api/v1/openapi.json",
        query: &[],
        summary: "This API as OpenAPI 3.1.",
        statuses: &[200],
        request: None,
        response: openapi::openapi_json,
    },
    Endpoint {
        name: "healthz",
        method: "get",
        path: "/healthz",
        query: &[],
        summary: "Liveness and database reachability.",
        statuses: &[200, 503],
        request: None,
        response: json_of::<Health>,
    },
    Endpoint {
        name: "metrics",
        method: "get",
        path: "/metrics",
        query: &[],
        summary: "Prometheus metrics.",
        statuses: &[200],
        request: None,
        response: openapi::prometheus,
    },
];

/// `/healthz`: whether the server can reach its database.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Health {
    /// `ok`, or `unavailable` (with status 503) when the database does not answer.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.store.kind();
    match state.store.ping().await {
        Ok(()) => Json(Health { status: "ok", database }).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable", database }))
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
        .into_response()
}

/// `/api/v1`: the index of endpoints.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ApiIndex {
    /// `v1`.
    version: &'static str,
    /// Endpoints by name.
    links: std::collections::BTreeMap<&'static str, Link>,
}

/// One endpoint in the index.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Link {
    /// `GET` or `POST`.
    method: String,
    /// URI template (RFC 6570), query parameters as `{?a,b}`.
    href: String,
    /// One line.
    summary: &'static str,
}

async fn index(headers: HeaderMap) -> Response {
    let links = ENDPOINTS
        .iter()
        .map(|endpoint| {
            let href = if endpoint.query.is_empty() {
                endpoint.path.to_owned()
            } else {
                format!("{}{{?{}}}", endpoint.path, endpoint.query.join(","))
            };
            let method = endpoint.method.to_uppercase();
            (endpoint.name, Link { method, href, summary: endpoint.summary })
        })
        .collect();
    cached_json(&headers, &ApiIndex { version: "v1", links }, Caching::Revalidate)
}

async fn openapi(headers: HeaderMap) -> Response {
    cached_json(&headers, &openapi::openapi_document(), Caching::Revalidate)
}
