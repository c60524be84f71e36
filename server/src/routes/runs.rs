//! `/api/v1/runs`: signed submission of a bundle, the filtered run list, one run, its raw
//! bundle and its logs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pgfarm_model::{Bundle, BundleError, ReadOptions, api};
use serde::Deserialize;

use super::{ApiQuery, Caching, cached, cached_json, page_limit, parse_cursor, parse_time};
use crate::auth::SignedBody;
use crate::db::{NewRun, RunCauseRow, RunFilter, RunRow, StageRow, TestRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::verdict;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/runs", post(submit).get(list))
        .route("/api/v1/runs/{uuid}", get(one))
        .route("/api/v1/runs/{uuid}/bundle", get(bundle))
        .route("/api/v1/runs/{uuid}/logs", get(logs))
}

/// Maps a bundle decoding error to the answer: 413 over the size cap, 422 for a bundle that
/// decodes but is inconsistent or of an unknown format version, 400 for everything else.
fn bundle_error(err: BundleError) -> ApiError {
    let message = err.to_string();
    match err {
        BundleError::TooLarge { .. } => ApiError::new(api::ErrorCode::TooLarge, message),
        BundleError::Invalid(_) | BundleError::UnsupportedFormatVersion { .. } => {
            ApiError::new(api::ErrorCode::InconsistentBundle, message)
        }
        _ => ApiError::malformed(message),
    }
}

/// Decodes and judges a submitted body into the row to store (CPU work: runs off the
/// async threads).
fn prepare_run(
    body: &[u8],
    machine: &crate::db::MachineRow,
    max_decompressed_bytes: u64,
    received_at: i64,
) -> Result<NewRun, ApiError> {
    let options = ReadOptions { max_decompressed_bytes, ..ReadOptions::default() };
    let bundle = Bundle::from_slice_with(body, &options).map_err(bundle_error)?;
    if bundle.machine.name != machine.name {
        return Err(ApiError::new(
            api::ErrorCode::InconsistentBundle,
            format!(
                "machine.name: the bundle names machine `{}` but was signed by `{}`",
                bundle.machine.name, machine.name
            ),
        ));
    }
    let verdict = verdict::derive(&bundle);
    let cause = verdict::cause(&bundle, &verdict.run);
    let created_at = (bundle.run.created_at.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(NewRun {
        uuid: bundle.run.id.to_string(),
        machine_id: machine.id,
        extension: bundle.extension.name.clone(),
        ext_version: bundle.extension.version.clone(),
        pg_version: bundle.postgres.version.clone(),
        pg_major: i64::from(bundle.postgres.major),
        platform: format!("{}/{}", machine.os, machine.arch),
        status: verdict.run.status.as_str().to_owned(),
        failed_stage: verdict.run.failed_stage.map(|kind| kind.as_str().to_owned()),
        tested: verdict.run.tested,
        n_tests: verdict.run.n_tests as i64,
        n_failed: verdict.run.n_failed as i64,
        cause: cause.as_ref().map(RunCauseRow::of),
        created_at,
        received_at,
        pg_min: required_pg_major(&bundle),
        bundle: body.to_vec(),
        stages: verdict
            .stages
            .iter()
            .map(|stage| StageRow {
                name: stage.kind.as_str().to_owned(),
                status: stage.status.as_str().to_owned(),
                duration_ms: i64::try_from(stage.duration_ms).unwrap_or(i64::MAX),
            })
            .collect(),
        tests: verdict
            .tests
            .iter()
            .map(|test| TestRow {
                stage: test.stage.as_str().to_owned(),
                test_name: test.name.clone(),
                status: test.status.as_str().to_owned(),
                duration_ms: i64::try_from(test.duration_ms).unwrap_or(i64::MAX),
            })
            .collect(),
    })
}

/// The PostgreSQL major of META.json's `prereqs.runtime.requires.PostgreSQL` (for example
/// `13.0.0` gives 13), used for releases learned from runs.
fn required_pg_major(bundle: &Bundle) -> Option<i64> {
    let requirement = bundle
        .extension
        .prerequisites
        .as_ref()?
        .get("runtime")?
        .get("requires")?
        .get("PostgreSQL")?;
    let digits: String = requirement
        .trim_start_matches(['>', '=', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

async fn submit(State(state): State<AppState>, signed: SignedBody) -> ApiResult<Response> {
    let max = state.config.max_decompressed_bytes;
    let received_at = crate::now_ms();
    let SignedBody { machine, body } = signed;
    let run = tokio::task::spawn_blocking(move || prepare_run(&body, &machine, max, received_at))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "bundle decoding task failed");
            ApiError::new(api::ErrorCode::Internal, "internal error; see the server log")
        })??;
    state.store.insert_run(&run).await?;
    state.matrix.invalidate();
    state.metrics.record_run(run.bundle.len() as u64);
    tracing::info!(run = %run.uuid, extension = %run.extension, status = %run.status, "run stored");
    let url = format!("/api/v1/runs/{}", run.uuid);
    let mut response =
        (StatusCode::CREATED, Json(api::RunCreated { uuid: run.uuid, url: url.clone() }))
            .into_response();
    if let Ok(location) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The list filters of `GET /api/v1/runs` (and of failures).
#[derive(Debug, Default, Deserialize)]
pub(super) struct RunQuery {
    pub(super) extension: Option<String>,
    pub(super) version: Option<String>,
    pub(super) machine: Option<String>,
    pub(super) pg: Option<i64>,
    pub(super) stage: Option<String>,
    pub(super) status: Option<String>,
    pub(super) cause: Option<String>,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    pub(super) after: Option<String>,
    pub(super) limit: Option<i64>,
}

impl RunQuery {
    pub(super) fn filter(&self) -> Result<RunFilter, ApiError> {
        if let Some(stage) = &self.stage
            && stage.parse::<pgfarm_model::StageKind>().is_err()
        {
            return Err(ApiError::malformed(format!("parameter `stage`: unknown stage `{stage}`")));
        }
        if let Some(status) = &self.status
            && status.parse::<pgfarm_model::RunStatus>().is_err()
        {
            return Err(ApiError::malformed(format!(
                "parameter `status`: unknown status `{status}` (ok, failed, error, interrupted)"
            )));
        }
        if let Some(cause) = &self.cause
            && verdict::Cause::from_wire_name(cause).is_none()
        {
            let names: Vec<&str> = verdict::Cause::ALL.iter().map(|c| c.wire_name()).collect();
            return Err(ApiError::malformed(format!(
                "parameter `cause`: unknown cause `{cause}` ({})",
                names.join(", ")
            )));
        }
        Ok(RunFilter {
            extension: self.extension.clone(),
            version: self.version.clone(),
            machine: self.machine.clone(),
            pg_major: self.pg,
            stage: self.stage.clone(),
            status: self.status.clone(),
            cause: self.cause.clone(),
            since: parse_time("since", self.since.as_deref())?,
            until: parse_time("until", self.until.as_deref())?,
            hide_now_green: false,
        })
    }
}

/// The wire form of a run row.
pub(crate) fn run_summary(row: &RunRow) -> api::RunSummary {
    api::RunSummary {
        uuid: row.uuid.clone(),
        machine: row.machine.clone(),
        extension: row.extension.clone(),
        version: row.ext_version.clone(),
        pg_version: row.pg_version.clone(),
        pg_major: row.pg_major,
        platform: row.platform.clone(),
        status: row.status.parse().unwrap_or(pgfarm_model::RunStatus::Error),
        failed_stage: row.failed_stage.as_deref().and_then(|stage| stage.parse().ok()),
        tested: row.tested != 0,
        n_tests: row.n_tests,
        n_failed: row.n_failed,
        cause: row.cause.clone(),
        cause_line: row.cause_line.clone(),
        created_at: crate::rfc3339(row.created_at),
        received_at: crate::rfc3339(row.received_at),
    }
}

/// A page of runs with its `next` cursor.
pub(super) fn run_page(rows: Vec<RunRow>, limit: i64) -> api::Page<api::RunSummary> {
    let next =
        if rows.len() as i64 == limit { rows.last().map(|row| row.id.to_string()) } else { None };
    api::Page { items: rows.iter().map(run_summary).collect(), next }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> ApiResult<Response> {
    let filter = query.filter()?;
    let limit = page_limit(query.limit)?;
    let before = parse_cursor(query.after.as_deref())?;
    let rows = state.store.runs(&filter, before, limit).await?;
    Ok(cached_json(&headers, &run_page(rows, limit), Caching::Revalidate))
}

async fn find_run(state: &AppState, uuid: &str) -> ApiResult<RunRow> {
    if uuid::Uuid::parse_str(uuid).is_err() {
        return Err(ApiError::malformed(format!("path: `{uuid}` is not a uuid")));
    }
    state.store.run(uuid).await?.ok_or_else(|| ApiError::not_found(format!("run {uuid}")))
}

async fn one(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let row = find_run(&state, &uuid).await?;
    let (stages, tests) = state.store.run_parts(row.id).await?;
    let detail = api::RunDetail {
        run: run_summary(&row),
        stages: stages
            .iter()
            .filter_map(|stage| {
                Some(api::StageSummary {
                    kind: stage.name.parse().ok()?,
                    status: stage.status.parse().ok()?,
                    duration_ms: stage.duration_ms,
                })
            })
            .collect(),
        tests: tests
            .iter()
            .filter_map(|test| {
                Some(api::TestSummary {
                    stage: test.stage.parse().ok()?,
                    name: test.test_name.clone(),
                    status: test.status.parse().ok()?,
                    duration_ms: test.duration_ms,
                })
            })
            .collect(),
        bundle_url: format!("/api/v1/runs/{}/bundle", row.uuid),
    };
    Ok(cached_json(&headers, &detail, Caching::Immutable))
}

/// The raw bundle of a stored run, exactly as it was submitted; 404 when the run is unknown.
async fn stored_bundle(state: &AppState, uuid: &str) -> ApiResult<Vec<u8>> {
    find_run(state, uuid).await?;
    state
        .store
        .run_bundle(uuid)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("bundle of run {uuid}")))
}

async fn bundle(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = stored_bundle(&state, &uuid).await?;
    // The bundle is stored exactly as received: gzip (what the runner writes) or plain JSON.
    let (content_type, file_name) = if body.starts_with(&[0x1f, 0x8b]) {
        ("application/gzip", format!("{uuid}.pgfarm.json.gz"))
    } else {
        ("application/json", format!("{uuid}.pgfarm.json"))
    };
    let mut response = cached(&headers, content_type, body, Caching::Immutable);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /api/v1/runs/{uuid}/logs`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct RunLogs {
    /// Each stage's log, in order.
    stages: Vec<StageLog>,
    /// The PostgreSQL server log written during the run (invalid UTF-8 replaced).
    server_log: String,
}

/// The log of one stage.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct StageLog {
    /// Stage kind.
    stage: pgfarm_model::StageKind,
    /// Its log (invalid UTF-8 replaced).
    log: String,
    /// Why it failed, if it did.
    error: Option<String>,
}

/// `GET /api/v1/runs/{uuid}/logs`: each stage's log and the server log slice, as text.
async fn logs(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = stored_bundle(&state, &uuid).await?;
    let max = state.config.max_decompressed_bytes;
    let logs = tokio::task::spawn_blocking(move || -> Result<RunLogs, ApiError> {
        let options = ReadOptions { max_decompressed_bytes: max, validate: false };
        let bundle = Bundle::from_slice_with(&body, &options).map_err(bundle_error)?;
        let stages = bundle
            .stages
            .iter()
            .map(|stage| StageLog {
                stage: stage.kind,
                log: stage.log.to_string_lossy().into_owned(),
                error: stage.error.clone(),
            })
            .collect();
        Ok(RunLogs { stages, server_log: bundle.server_log.to_string_lossy().into_owned() })
    })
    .await
    .map_err(|_| ApiError::new(api::ErrorCode::Internal, "internal error"))??;
    Ok(cached_json(&headers, &logs, Caching::Immutable))
}
