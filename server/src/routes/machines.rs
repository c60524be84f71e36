//! `/api/v1/machines`: registration (pending until an admin approves), the public machine
//! list with last-seen times, owners, and a machine's work queue.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pgfarm_model::api;
use serde::Deserialize;

use super::{ApiJson, ApiQuery, Caching, cached_json};
use crate::db::{MachineRow, NewMachine};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/machines", post(register).get(list))
        .route("/api/v1/machines/{name}", get(one))
        .route("/api/v1/machines/{name}/queue", get(queue))
        .route("/api/v1/owners", get(owners))
}

/// The public view of a machine row.
pub(crate) fn machine_json(row: &MachineRow) -> api::Machine {
    api::Machine {
        name: row.name.clone(),
        description: row.description.clone(),
        os: row.os.clone(),
        arch: row.arch.clone(),
        compiler: row.compiler.clone(),
        state: api::MachineState::parse(&row.state).unwrap_or(api::MachineState::Pending),
        created_at: crate::rfc3339(row.created_at),
        last_seen_at: row.last_seen_at.map(crate::rfc3339),
    }
}

/// Checks a machine name: 1 to 64 of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
pub(crate) fn check_machine_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte));
    if ok {
        Ok(())
    } else {
        Err(ApiError::malformed(
            "field `name`: must be 1 to 64 characters of A-Z a-z 0-9 . _ - (not starting with . or -)",
        ))
    }
}

fn check_text(field: &str, value: &str, max: usize, required: bool) -> Result<(), ApiError> {
    if required && value.trim().is_empty() {
        return Err(ApiError::malformed(format!("field `{field}`: must not be empty")));
    }
    if value.chars().count() > max {
        return Err(ApiError::malformed(format!("field `{field}`: longer than {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::malformed(format!("field `{field}`: contains control characters")));
    }
    Ok(())
}

fn check_registration(registration: &api::MachineRegistration) -> Result<(), ApiError> {
    check_machine_name(&registration.name)?;
    check_text("owner_email", &registration.owner_email, 254, true)?;
    let email_ok = registration
        .owner_email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.contains('@'));
    if !email_ok || registration.owner_email.contains(char::is_whitespace) {
        return Err(ApiError::malformed("field `owner_email`: not an e-mail address"));
    }
    check_text("description", &registration.description, 2000, false)?;
    check_text("os", &registration.os, 64, true)?;
    check_text("arch", &registration.arch, 64, true)?;
    check_text("compiler", &registration.compiler, 128, false)?;
    Ok(())
}

async fn register(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(registration): ApiJson<api::MachineRegistration>,
) -> ApiResult<Response> {
    check_registration(&registration)?;
    let client_addr = client.ip().to_string();
    if let Err(wait) = state.registrations.check(&client_addr) {
        return Err(ApiError::rate_limited("registrations from this address", wait));
    }
    let row = state
        .store
        .register_machine(&NewMachine {
            name: registration.name,
            owner_email: registration.owner_email,
            description: registration.description,
            os: registration.os,
            arch: registration.arch,
            compiler: registration.compiler,
            client_addr,
            created_at: crate::now_ms(),
        })
        .await?;
    tracing::info!(machine = %row.name, "machine registered, pending approval");
    Ok((StatusCode::CREATED, Json(machine_json(&row))).into_response())
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let machines: Vec<api::Machine> =
        state.store.machines().await?.iter().map(machine_json).collect();
    Ok(cached_json(&headers, &machines, Caching::Revalidate))
}

async fn one(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let row = state
        .store
        .machine(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("machine `{name}`")))?;
    Ok(cached_json(&headers, &machine_json(&row), Caching::Revalidate))
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((user, host)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{host}")
        }
        None => "***".to_owned(),
    }
}

async fn owners(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let mut by_owner: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in state.store.machines().await? {
        by_owner.entry(mask_email(&row.owner_email)).or_default().push(row.name);
    }
    let owners: Vec<api::Owner> =
        by_owner.into_iter().map(|(owner, machines)| api::Owner { owner, machines }).collect();
    Ok(cached_json(&headers, &owners, Caching::Revalidate))
}

#[derive(Debug, Deserialize)]
struct QueueQuery {
    pg: i64,
    limit: Option<i64>,
    status: Option<String>,
}

/// The release statuses of `?status=stable,testing` (default `stable`), each once.
pub(super) fn release_statuses(param: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let Some(param) = param else { return Ok(vec!["stable"]) };
    let mut statuses = Vec::new();
    for value in param.split(',').map(str::trim) {
        let status = match value {
            "stable" => "stable",
            "testing" => "testing",
            "unstable" => "unstable",
            other => {
                return Err(ApiError::malformed(format!(
                    "parameter `status`: `{other}` is not a release status (stable, testing, \
                     unstable)"
                )));
            }
        };
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    Ok(statuses)
}

async fn queue(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Vec<api::QueueItem>>> {
    if !(9..=99).contains(&query.pg) {
        return Err(ApiError::malformed(format!(
            "parameter `pg`: {} is not a PostgreSQL major version",
            query.pg
        )));
    }
    let limit = super::page_limit(query.limit)?;
    let statuses = release_statuses(query.status.as_deref())?;
    let machine = state
        .store
        .machine(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("machine `{name}`")))?;
    let items = state
        .store
        .queue(machine.id, query.pg, &statuses, limit)
        .await?
        .into_iter()
        .map(|release| api::QueueItem {
            extension: release.extension,
            version: release.version,
            pg_major: query.pg,
            dist: release.dist,
            release_status: Some(release.release_status),
            download_url: release.download_url,
            sha1: release.sha1,
            mirror: release.mirror,
        })
        .collect();
    Ok(Json(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_are_restricted_to_a_safe_alphabet() {
        assert!(check_machine_name("bookworm-x86_64.1").is_ok());
        for bad in ["", "-x", ".x", "a b", "a/b", "<script>", &"a".repeat(65)] {
            assert!(check_machine_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn release_statuses_default_to_stable_and_unknown_ones_are_named() {
        assert_eq!(release_statuses(None).unwrap(), ["stable"]);
        assert_eq!(
            release_statuses(Some("testing,stable,testing")).unwrap(),
            ["testing", "stable"]
        );
        let err = release_statuses(Some("stable,beta")).unwrap_err();
        assert!(err.message.contains("`beta`"), "{}", err.message);
    }

    #[test]
    fn owner_addresses_are_masked() {
        assert_eq!(mask_email("alice@example.org"), "a***@example.org");
    }
}
