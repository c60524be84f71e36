//! `/api/v1/admin/...`: machine lifecycle and extension releases, behind the admin token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pgfarm_model::api;

use super::ApiJson;
use super::machines::machine_json;
use crate::auth::Admin;
use crate::db::ReleaseRow;
use crate::error::{ApiError, ApiResult};
use crate::lifecycle::{self, Action};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/machines/{name}/{action}", post(machine_action))
        .route("/api/v1/admin/extensions", post(add_release))
}

async fn machine_action(
    _admin: Admin,
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
) -> ApiResult<Response> {
    let action = Action::parse(&action).ok_or_else(|| {
        ApiError::not_found(format!(
            "action `{action}` (known: approve, reject, suspend, retire, rotate-secret)"
        ))
    })?;
    let (row, secret) = lifecycle::apply(state.store.as_ref(), &state.key, &name, action).await?;
    Ok(match secret {
        Some(secret) => Json(api::MachineSecret { name: row.name, secret }).into_response(),
        None => Json(machine_json(&row)).into_response(),
    })
}

async fn add_release(
    _admin: Admin,
    State(state): State<AppState>,
    ApiJson(release): ApiJson<api::ExtensionRelease>,
) -> ApiResult<Response> {
    for (field, value) in [("extension", &release.extension), ("version", &release.version)] {
        if value.is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
            return Err(ApiError::malformed(format!(
                "field `{field}`: must be 1 to 200 printable characters"
            )));
        }
    }
    let row = ReleaseRow {
        extension: release.extension.clone(),
        version: release.version.clone(),
        pg_min: release.pg_min,
        pg_max: release.pg_max,
    };
    state.store.add_release(&row, "admin", crate::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(release)).into_response())
}
