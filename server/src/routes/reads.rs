//! Read-only views: extensions and versions, the status matrix, failures, per-test history
//! with flaky marks, trends and stats.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use pgfarm_model::api;
use serde::Deserialize;

use super::runs::{RunQuery, run_summary};
use super::{ApiQuery, Caching, cached, cached_json, page_limit};
use crate::db::{LatestRow, sql::MS_PER_DAY};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/extensions", get(extensions))
        .route("/api/v1/extensions/{extension}", get(extension))
        .route("/api/v1/extensions/{extension}/versions", get(versions))
        .route("/api/v1/extensions/{extension}/machines", get(machine_grid))
        .route("/api/v1/extensions/{extension}/tests/{test}/history", get(history))
        .route("/api/v1/matrix", get(matrix))
        .route("/api/v1/failures", get(failures))
        .route("/api/v1/trends", get(trends))
        .route("/api/v1/trends/stages", get(stage_trends))
        .route("/api/v1/stats", get(stats))
}

async fn extensions(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let items: Vec<api::Extension> = state
        .store
        .extensions()
        .await?
        .into_iter()
        .map(|row| api::Extension {
            name: row.name,
            n_cells: row.n_cells,
            n_failing: row.n_failing,
        })
        .collect();
    Ok(cached_json(&headers, &items, Caching::Revalidate))
}

pub(super) fn cell(row: LatestRow) -> api::MatrixCell {
    api::MatrixCell {
        extension: row.extension,
        pg_major: row.pg_major,
        platform: row.platform,
        version: row.ext_version,
        status: row.status.parse().unwrap_or(pgfarm_model::RunStatus::Error),
        failed_stage: row.failed_stage.as_deref().and_then(|stage| stage.parse().ok()),
        tested: row.tested != 0,
        n_tests: row.n_tests,
        run: row.run_uuid,
        when: crate::rfc3339(row.created_at),
        release_status: row.release_status,
    }
}

/// The wire form of a known release.
pub(super) fn release(row: crate::db::ReleaseInfoRow) -> api::Release {
    let pgxn_url = (row.source == "pgxn").then(|| {
        crate::pgxn::release_page(row.dist.as_deref().unwrap_or(&row.extension), &row.version)
    });
    api::Release {
        extension: row.extension,
        version: row.version,
        release_status: row.release_status,
        source: row.source,
        date: crate::rfc3339(row.released_at),
        r#abstract: row.abstract_text.filter(|text| !text.is_empty()),
        user: row.pgxn_user,
        pg_range: row.pg_range,
        pg_min: row.pg_min,
        pg_max: row.pg_max,
        pgxn_url,
        n_runs: row.n_runs,
        n_failed: row.n_failed,
    }
}

async fn versions_of(state: &AppState, extension: &str) -> ApiResult<Vec<api::VersionCounts>> {
    Ok(state
        .store
        .extension_versions(extension)
        .await?
        .into_iter()
        .map(|row| api::VersionCounts {
            version: row.version,
            n_runs: row.n_runs,
            n_failed: row.n_failed,
        })
        .collect())
}

async fn extension(
    State(state): State<AppState>,
    Path(extension): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let cells: Vec<api::MatrixCell> =
        state.store.matrix(Some(&extension)).await?.into_iter().map(cell).collect();
    let releases: Vec<api::Release> =
        state.store.releases_of(&extension).await?.into_iter().map(release).collect();
    if cells.is_empty() && releases.is_empty() {
        return Err(ApiError::not_found(format!("extension `{extension}`")));
    }
    let versions = versions_of(&state, &extension).await?;
    Ok(cached_json(
        &headers,
        &api::ExtensionDetail { name: extension, cells, versions, releases },
        Caching::Revalidate,
    ))
}

async fn versions(
    State(state): State<AppState>,
    Path(extension): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let versions = versions_of(&state, &extension).await?;
    Ok(cached_json(&headers, &versions, Caching::Revalidate))
}

#[derive(Debug, Deserialize)]
struct GridQuery {
    version: Option<String>,
}

/// The latest run per machine and PostgreSQL major of an extension (or of one version of it),
/// by machine name then major; 404 when the extension (or version) has no run.
async fn machine_grid(
    State(state): State<AppState>,
    Path(extension): Path<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<GridQuery>,
) -> ApiResult<Response> {
    let rows = state.store.machine_grid(&extension, query.version.as_deref()).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(match &query.version {
            Some(version) => format!("runs of extension `{extension}` version `{version}`"),
            None => format!("extension `{extension}`"),
        }));
    }
    let runs: Vec<api::RunSummary> = rows.iter().map(run_summary).collect();
    Ok(cached_json(&headers, &runs, Caching::Revalidate))
}

#[derive(Debug, Deserialize)]
struct MatrixQuery {
    extension: Option<String>,
    /// `stable,testing`: only cells whose version has one of these release statuses.
    release_status: Option<String>,
}

async fn matrix(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<MatrixQuery>,
) -> ApiResult<Response> {
    if query.extension.is_some() || query.release_status.is_some() {
        let statuses = match query.release_status.as_deref() {
            Some(param) => Some(super::machines::release_statuses(Some(param))?),
            None => None,
        };
        let cells: Vec<api::MatrixCell> = state
            .store
            .matrix(query.extension.as_deref())
            .await?
            .into_iter()
            .map(cell)
            .filter(|cell| {
                statuses.as_ref().is_none_or(|statuses| {
                    // A version the server knows no release of counts as stable, as the queue
                    // counts admin-added releases.
                    statuses.contains(&cell.release_status.as_deref().unwrap_or("stable"))
                })
            })
            .collect();
        return Ok(cached_json(&headers, &cells, Caching::Revalidate));
    }
    // The full matrix: served from `state.matrix` while no run was stored (see MatrixCache).
    let body = match state.matrix.get() {
        Some(body) => body,
        None => {
            let generation = state.matrix.generation();
            let cells: Vec<api::MatrixCell> =
                state.store.matrix(None).await?.into_iter().map(cell).collect();
            let body = std::sync::Arc::new(serde_json::to_vec(&cells).map_err(|err| {
                tracing::error!(error = %err, "serialising the matrix failed");
                ApiError::new(api::ErrorCode::Internal, "internal error")
            })?);
            state.matrix.put(generation, body.clone());
            body
        }
    };
    Ok(cached(&headers, "application/json", body.to_vec(), Caching::Revalidate))
}

// Not `#[serde(flatten)] RunQuery`: flattened query strings lose their types (numbers arrive
// as strings and fail to parse), a serde_urlencoded limitation.
#[derive(Debug, Deserialize)]
struct FailuresQuery {
    days: Option<i64>,
    hide_now_green: Option<bool>,
    extension: Option<String>,
    version: Option<String>,
    machine: Option<String>,
    pg: Option<i64>,
    stage: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/failures?days=7&hide_now_green=true&extension=..&pg=..&machine=..`: failed
/// runs received in the last `days` days (default 7), newest first, keyset-paginated.
async fn failures(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FailuresQuery>,
) -> ApiResult<Response> {
    let days = query.days.unwrap_or(7);
    if !(1..=3660).contains(&days) {
        return Err(ApiError::malformed(format!("parameter `days`: {days} is not in 1..=3660")));
    }
    let runs = RunQuery {
        extension: query.extension,
        version: query.version,
        machine: query.machine,
        pg: query.pg,
        stage: query.stage,
        ..RunQuery::default()
    };
    let mut filter = runs.filter()?;
    filter.status = Some("failed".into());
    filter.since = Some(filter.since.unwrap_or(0).max(crate::now_ms() - days * MS_PER_DAY));
    filter.hide_now_green = query.hide_now_green.unwrap_or(false);
    let limit = page_limit(query.limit)?;
    let after = parse_failures_cursor(query.after.as_deref())?;
    let rows = state.store.failures(&filter, after, limit).await?;
    let next = if rows.len() as i64 == limit {
        rows.last().map(|row| format!("{}_{}", row.received_at, row.id))
    } else {
        None
    };
    let page = api::Page { items: rows.iter().map(run_summary).collect(), next };
    Ok(cached_json(&headers, &page, Caching::Revalidate))
}

/// Parses a failures cursor: `<received_at ms>_<id>` of the last run of the previous page
/// (failures are ordered by receive time, then id).
fn parse_failures_cursor(after: Option<&str>) -> Result<Option<(i64, i64)>, ApiError> {
    let Some(text) = after.filter(|text| !text.is_empty()) else { return Ok(None) };
    text.split_once('_')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.parse::<i64>().ok()?)))
        .filter(|(at, id)| *at >= 0 && *id > 0)
        .map(Some)
        .ok_or_else(|| ApiError::malformed(format!("parameter `after`: `{text}` is not a cursor")))
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    limit: Option<i64>,
}

/// Flaky marks and flip rate over a test's history (newest first).
pub(crate) fn flakiness(
    entries: &[api::TestHistoryEntry],
    pg_versions: &[String],
) -> (Vec<api::FlakyCombination>, f64) {
    let mut seen: HashMap<(&str, &str, &str), (bool, bool)> = HashMap::new();
    for (entry, pg_version) in entries.iter().zip(pg_versions) {
        let slot = seen.entry((&entry.version, pg_version, &entry.machine)).or_default();
        match entry.status {
            pgfarm_model::TestStatus::Ok => slot.0 = true,
            status if status.is_failure() => slot.1 = true,
            _ => {}
        }
    }
    let mut flaky_on: Vec<api::FlakyCombination> = seen
        .into_iter()
        .filter(|(_, (passed, failed))| *passed && *failed)
        .map(|((version, pg_version, machine), _)| api::FlakyCombination {
            version: version.to_owned(),
            pg_version: pg_version.to_owned(),
            machine: machine.to_owned(),
        })
        .collect();
    flaky_on.sort_by(|a, b| {
        (&a.version, &a.pg_version, &a.machine).cmp(&(&b.version, &b.pg_version, &b.machine))
    });
    let flips = entries.windows(2).filter(|pair| pair[0].status != pair[1].status).count();
    let flip_rate = if entries.len() > 1 { flips as f64 / (entries.len() - 1) as f64 } else { 0.0 };
    (flaky_on, flip_rate)
}

async fn history(
    State(state): State<AppState>,
    Path((extension, test)): Path<(String, String)>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Response> {
    let limit = match query.limit {
        None => 100,
        Some(limit) if (1..=1000).contains(&limit) => limit,
        Some(limit) => {
            return Err(ApiError::malformed(format!(
                "parameter `limit`: {limit} is not in 1..=1000"
            )));
        }
    };
    let rows = state.store.test_history(&extension, &test, limit).await?;
    let pg_versions: Vec<String> = rows.iter().map(|row| row.pg_version.clone()).collect();
    let entries: Vec<api::TestHistoryEntry> = rows
        .into_iter()
        .map(|row| api::TestHistoryEntry {
            run: row.run_uuid,
            machine: row.machine,
            version: row.ext_version,
            pg_major: row.pg_major,
            status: row.status.parse().unwrap_or(pgfarm_model::TestStatus::Error),
            created_at: crate::rfc3339(row.created_at),
        })
        .collect();
    let (flaky_on, flip_rate) = flakiness(&entries, &pg_versions);
    let history = api::TestHistory {
        extension,
        test,
        flaky: !flaky_on.is_empty(),
        flaky_on,
        flip_rate,
        entries,
    };
    Ok(cached_json(&headers, &history, Caching::Revalidate))
}

#[derive(Debug, Deserialize)]
struct TrendsQuery {
    days: Option<i64>,
    extension: Option<String>,
}

/// The first day (days since 1970-01-01, UTC) of the last `days` days, today included.
fn since_day(days: Option<i64>) -> ApiResult<i64> {
    let days = days.unwrap_or(30);
    if !(1..=3660).contains(&days) {
        return Err(ApiError::malformed(format!("parameter `days`: {days} is not in 1..=3660")));
    }
    Ok(crate::now_ms().div_euclid(MS_PER_DAY) - days + 1)
}

fn day_text(day: i64) -> String {
    crate::rfc3339(day * MS_PER_DAY)[..10].to_owned()
}

async fn trends(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TrendsQuery>,
) -> ApiResult<Response> {
    let since_day = since_day(query.days)?;
    let points: Vec<api::TrendPoint> = state
        .store
        .trends(since_day, query.extension.as_deref())
        .await?
        .into_iter()
        .map(|row| api::TrendPoint {
            day: day_text(row.day),
            pg_major: row.pg_major,
            status: row.status.parse().unwrap_or(pgfarm_model::RunStatus::Error),
            n_runs: row.n_runs,
        })
        .collect();
    Ok(cached_json(&headers, &points, Caching::Revalidate))
}

async fn stage_trends(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TrendsQuery>,
) -> ApiResult<Response> {
    let since_day = since_day(query.days)?;
    let points: Vec<api::StageTrendPoint> = state
        .store
        .stage_trends(since_day, query.extension.as_deref())
        .await?
        .into_iter()
        // Stage names were validated at ingest; a name this build does not know is left out.
        .filter_map(|row| {
            Some(api::StageTrendPoint {
                day: day_text(row.day),
                pg_major: row.pg_major,
                stage: row.stage.parse().ok()?,
                n_runs: row.n_runs,
                total_ms: row.total_ms,
                max_ms: row.max_ms,
            })
        })
        .collect();
    Ok(cached_json(&headers, &points, Caching::Revalidate))
}

async fn stats(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let row = state.store.stats().await?;
    let stats = api::Stats {
        n_runs: row.n_runs,
        n_machines: row.n_machines,
        n_extensions: row.n_extensions,
        n_test_results: row.n_test_results,
        n_failing_cells: row.n_failing_cells,
    };
    Ok(cached_json(&headers, &stats, Caching::Revalidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(machine: &str, status: pgfarm_model::TestStatus) -> api::TestHistoryEntry {
        api::TestHistoryEntry {
            run: "r".into(),
            machine: machine.into(),
            version: "1.0".into(),
            pg_major: 17,
            status,
            created_at: String::new(),
        }
    }

    #[test]
    fn a_test_that_passed_and_failed_on_one_combination_is_flaky() {
        use pgfarm_model::TestStatus::{Failed, Ok};
        let entries = [entry("a", Ok), entry("a", Failed), entry("b", Failed), entry("a", Ok)];
        let pg = vec!["17.2".to_owned(); 4];
        let (flaky_on, flip_rate) = flakiness(&entries, &pg);
        assert_eq!(flaky_on.len(), 1);
        assert_eq!(flaky_on[0].machine, "a");
        assert!((flip_rate - 2.0 / 3.0).abs() < 1e-9);
    }
}
