//! Operations and discovery: `/healthz`, `/metrics`, the `/api/v1` index of URI templates and
//! the OpenAPI document, both built from one table of endpoints (`ENDPOINTS`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

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
        name: "register_machine",
        method: "post",
        path: "/api/v1/machines",
        query: &[],
        summary: "Ask to join: registers a machine as pending (rate-limited per client address).",
        statuses: &[201, 400, 409, 413, 429],
    },
    Endpoint {
        name: "machines",
        method: "get",
        path: "/api/v1/machines",
        query: &[],
        summary: "Machines with their state and last-seen time.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "machine",
        method: "get",
        path: "/api/v1/machines/{name}",
        query: &[],
        summary: "One machine.",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "queue",
        method: "get",
        path: "/api/v1/machines/{name}/queue",
        query: &["pg", "limit"],
        summary: "Extension versions this machine has not tested on PostgreSQL `pg` yet.",
        statuses: &[200, 400, 404],
    },
    Endpoint {
        name: "owners",
        method: "get",
        path: "/api/v1/owners",
        query: &[],
        summary: "Machine owners (addresses masked) and their machines.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "admin_machine",
        method: "post",
        path: "/api/v1/admin/machines/{name}/{action}",
        query: &[],
        summary: "Admin: approve, reject, suspend, retire or rotate-secret (approve and rotate-secret answer the secret, once).",
        statuses: &[200, 401, 404, 409],
    },
    Endpoint {
        name: "admin_release",
        method: "post",
        path: "/api/v1/admin/extensions",
        query: &[],
        summary: "Admin: announce a released extension version for the work queue.",
        statuses: &[201, 400, 401],
    },
    Endpoint {
        name: "submit_run",
        method: "post",
        path: "/api/v1/runs",
        query: &[],
        summary: "Submit one signed bundle (gzip JSON body; X-Pgfarm-Machine, X-Pgfarm-Timestamp, X-Pgfarm-Signature).",
        statuses: &[201, 400, 401, 403, 409, 413, 422, 429],
    },
    Endpoint {
        name: "runs",
        method: "get",
        path: "/api/v1/runs",
        query: RUN_FILTERS,
        summary: "Runs, newest first, filtered, keyset-paginated (`after` = the previous page's `next`).",
        statuses: &[200, 304, 400],
    },
    Endpoint {
        name: "run",
        method: "get",
        path: "/api/v1/runs/{uuid}",
        query: &[],
        summary: "One run with its re-derived stages and tests (immutable).",
        statuses: &[200, 304, 400, 404],
    },
    Endpoint {
        name: "run_bundle",
        method: "get",
        path: "/api/v1/runs/{uuid}/bundle",
        query: &[],
        summary: "The raw bundle exactly as submitted (immutable).",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "run_logs",
        method: "get",
        path: "/api/v1/runs/{uuid}/logs",
        query: &[],
        summary: "Stage logs and the server log slice of a run.",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "extensions",
        method: "get",
        path: "/api/v1/extensions",
        query: &[],
        summary: "Extensions with their matrix counts.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "extension",
        method: "get",
        path: "/api/v1/extensions/{extension}",
        query: &[],
        summary: "One extension: its matrix cells and versions.",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "extension_versions",
        method: "get",
        path: "/api/v1/extensions/{extension}/versions",
        query: &[],
        summary: "Versions of an extension with run counts.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "test_history",
        method: "get",
        path: "/api/v1/extensions/{extension}/tests/{test}/history",
        query: &["limit"],
        summary: "A test's results across runs, with flaky marks and flip rate.",
        statuses: &[200, 304, 400],
    },
    Endpoint {
        name: "extension_feed",
        method: "get",
        path: "/api/v1/extensions/{extension}/feed.atom",
        query: &[],
        summary: "Atom feed of one extension's status changes.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "matrix",
        method: "get",
        path: "/api/v1/matrix",
        query: &["extension"],
        summary: "Extension x PostgreSQL major x platform: the latest run of each cell.",
        statuses: &[200, 304],
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
    },
    Endpoint {
        name: "trends",
        method: "get",
        path: "/api/v1/trends",
        query: &["days"],
        summary: "Runs per day, status and PostgreSQL major.",
        statuses: &[200, 304, 400],
    },
    Endpoint {
        name: "stats",
        method: "get",
        path: "/api/v1/stats",
        query: &[],
        summary: "Overall counts.",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "feed",
        method: "get",
        path: "/api/v1/feed.atom",
        query: &[],
        summary: "Atom feed of all status changes (green to red and back).",
        statuses: &[200, 304],
    },
    Endpoint {
        name: "badge",
        method: "get",
        path: "/badge/{extension}.svg",
        query: &[],
        summary: "SVG badge of an extension (`.json`: shields.io endpoint).",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "badge_major",
        method: "get",
        path: "/badge/{extension}/pg{major}.svg",
        query: &[],
        summary: "SVG badge of an extension on one PostgreSQL major (`.json`: shields.io endpoint).",
        statuses: &[200, 304, 404],
    },
    Endpoint {
        name: "openapi",
        method: "get",
        path: "/api/v1/openapi.json",
        query: &[],
        summary: "This API as OpenAPI 3.1.",
        statuses: &[200],
    },
    Endpoint {
        name: "healthz",
        method: "get",
        path: "/healthz",
        query: &[],
        summary: "Liveness and database reachability.",
        statuses: &[200, 503],
    },
    Endpoint {
        name: "metrics",
        method: "get",
        path: "/metrics",
        query: &[],
        summary: "Prometheus metrics.",
        statuses: &[200],
    },
];

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "database": state.store.kind()})).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": state.store.kind()})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
        .into_response()
}

async fn index(headers: HeaderMap) -> Response {
    let mut links = serde_json::Map::new();
    for endpoint in ENDPOINTS {
        let template = if endpoint.query.is_empty() {
            endpoint.path.to_owned()
        } else {
            format!("{}{{?{}}}", endpoint.path, endpoint.query.join(","))
        };
        links.insert(
            endpoint.name.to_owned(),
            json!({"method": endpoint.method.to_uppercase(), "href": template, "summary": endpoint.summary}),
        );
    }
    cached_json(&headers, &json!({"version": "v1", "links": links}), Caching::Revalidate)
}

async fn openapi(headers: HeaderMap) -> Response {
    cached_json(&headers, &openapi_document(), Caching::Revalidate)
}

/// The OpenAPI document of this API, built with utoipa from `ENDPOINTS`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{
        InfoBuilder, OpenApiBuilder, PathItem, PathsBuilder, ResponseBuilder, ResponsesBuilder,
    };

    let mut paths = PathsBuilder::new();
    for endpoint in ENDPOINTS {
        let mut responses = ResponsesBuilder::new();
        for status in endpoint.statuses.iter().chain(&[500, 503]) {
            let description = match status {
                200 => "OK (JSON unless stated)",
                201 => "Created",
                304 => "Not modified (the If-None-Match ETag still holds)",
                400 => "Malformed request: ErrorBody {code: malformed, message naming the field}",
                401 => {
                    "Unknown machine, bad signature, stale timestamp, or missing admin token: ErrorBody"
                }
                403 => "Machine not approved: ErrorBody",
                404 => "Not found: ErrorBody",
                409 => "Exists already: ErrorBody",
                413 => "Too large: ErrorBody",
                422 => "Inconsistent bundle: ErrorBody",
                429 => "Rate limited (Retry-After): ErrorBody",
                503 => "Database unavailable (Retry-After): ErrorBody",
                _ => "Internal error: ErrorBody",
            };
            responses = responses.response(
                status.to_string(),
                ResponseBuilder::new().description(description).build(),
            );
        }
        let mut operation = OperationBuilder::new()
            .operation_id(Some(endpoint.name))
            .summary(Some(endpoint.summary))
            .responses(responses.build());
        let path_params = endpoint
            .path
            .split('/')
            .filter_map(|segment| Some(segment.split_once('{')?.1.split_once('}')?.0));
        for name in path_params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(utoipa::openapi::Required::True)
                    .build(),
            );
        }
        for name in endpoint.query {
            operation = operation.parameter(
                ParameterBuilder::new().name(*name).parameter_in(ParameterIn::Query).build(),
            );
        }
        let method = if endpoint.method == "post" { HttpMethod::Post } else { HttpMethod::Get };
        paths = paths.path(endpoint.path, PathItem::new(method, operation.build()));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("pgfarm API")
                .version("1")
                .description(Some("The pgfarm server's JSON API; see docs/api.md."))
                .build(),
        )
        .paths(paths.build())
        .build()
}
