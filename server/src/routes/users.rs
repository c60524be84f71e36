//! PGXN users (authors) of the synced releases, with their distributions, as PGXN Tester had.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use pgfarm_model::api;

use super::{Caching, cached_json};
use crate::db::UserSummaryRow;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users", get(list)).route("/api/v1/users/{name}", get(one))
}

fn summary(row: UserSummaryRow) -> api::UserSummary {
    api::UserSummary {
        pgxn_url: crate::pgxn::user_page(&row.nickname),
        nickname: row.nickname,
        name: row.name,
        uri: row.uri,
        n_dists: row.n_dists,
        n_releases: row.n_releases,
    }
}

/// `GET /api/v1/users`: every synced PGXN user, by nickname.
async fn list(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let users: Vec<api::UserSummary> =
        state.store.pgxn_users().await?.into_iter().map(summary).collect();
    Ok(cached_json(&headers, &users, Caching::Revalidate))
}

/// `GET /api/v1/users/{name}`: a user and the distributions they released (the nickname is
/// matched as PGXN stores it, lowercased).
async fn one(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let nickname = name.to_lowercase();
    let user = state
        .store
        .pgxn_user(&nickname)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user `{name}`")))?;
    let mut distributions: Vec<api::UserDistribution> = Vec::new();
    for row in state.store.pgxn_user_releases(&nickname).await? {
        let release = super::reads::release(row);
        match distributions.last_mut() {
            Some(last) if last.dist == release.extension => last.releases.push(release),
            _ => distributions.push(api::UserDistribution {
                dist: release.extension.clone(),
                r#abstract: release.r#abstract.clone(),
                releases: vec![release],
            }),
        }
    }
    Ok(cached_json(
        &headers,
        &api::UserDetail { user: summary(user), distributions },
        Caching::Revalidate,
    ))
}
