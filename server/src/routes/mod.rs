//! The HTTP routes, one module per resource, merged into one `Router`; plus the helpers every
//! handler shares (JSON and query extractors with JSON errors, cached JSON answers, cursors).

mod admin;
mod badges;
mod feed;
mod machines;
mod openapi;
mod ops;
mod reads;
mod runs;
mod users;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub use openapi::openapi_document;

/// Every route of the server (without the static UI and the middleware).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(ops::router())
        .merge(machines::router())
        .merge(admin::router())
        .merge(runs::router())
        .merge(reads::router())
        .merge(badges::router())
        .merge(feed::router())
        .merge(users::router())
}

/// `Json<T>` whose rejection is a JSON `ApiError` naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let status = rejection.status();
                let message = rejection.body_text();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiError::new(pgfarm_model::api::ErrorCode::TooLarge, message))
                } else {
                    Err(ApiError::malformed(message))
                }
            }
        }
    }
}

/// `Query<T>` whose rejection is a JSON `ApiError` naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiQuery<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::malformed(rejection.body_text())),
        }
    }
}

/// How an answer may be cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caching {
    /// Never changes (a run, its bundle): one year, immutable.
    Immutable,
    /// May change: clients revalidate with `If-None-Match` and get `304` when unchanged.
    Revalidate,
}

/// A strong ETag over the bytes of an answer.
pub(crate) fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Answers `body` with its content type, an ETag and caching headers, or `304 Not Modified`
/// when the request's `If-None-Match` carries the same ETag.
pub(crate) fn cached(
    request_headers: &HeaderMap,
    content_type: &'static str,
    body: Vec<u8>,
    caching: Caching,
) -> Response {
    let etag = etag_of(&body);
    let cache_control = match caching {
        Caching::Immutable => "public, max-age=31536000, immutable",
        Caching::Revalidate => "public, no-cache",
    };
    let not_modified = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == etag
        });
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response
}

/// `cached` for a JSON value.
pub(crate) fn cached_json<T: Serialize>(
    request_headers: &HeaderMap,
    value: &T,
    caching: Caching,
) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => cached(request_headers, "application/json", body, caching),
        Err(err) => {
            tracing::error!(error = %err, "serialising an answer failed");
            ApiError::new(pgfarm_model::api::ErrorCode::Internal, "internal error").into_response()
        }
    }
}

/// Default and largest page sizes.
pub(crate) const DEFAULT_PAGE: i64 = 50;
/// Largest page size.
pub(crate) const MAX_PAGE: i64 = 500;

/// Checks a `limit` parameter.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(limit) => {
            Err(ApiError::malformed(format!("parameter `limit`: {limit} is not in 1..={MAX_PAGE}")))
        }
    }
}

/// Parses an `after` cursor (an opaque decimal id).
pub(crate) fn parse_cursor(after: Option<&str>) -> Result<Option<i64>, ApiError> {
    match after {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<i64>().ok().filter(|id| *id > 0).map(Some).ok_or_else(|| {
            ApiError::malformed(format!("parameter `after`: `{text}` is not a cursor"))
        }),
    }
}

/// Parses a `since`/`until` parameter: RFC 3339 or a `YYYY-MM-DD` day (UTC midnight).
pub(crate) fn parse_time(name: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(text) = text.filter(|text| !text.is_empty()) else { return Ok(None) };
    let bad = || {
        ApiError::malformed(format!(
            "parameter `{name}`: `{text}` is neither RFC 3339 nor YYYY-MM-DD"
        ))
    };
    if let Ok(at) =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    {
        return Ok(Some((at.unix_timestamp_nanos() / 1_000_000) as i64));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text, &format).map_err(|_| bad())?;
    Ok(Some(day.midnight().assume_utc().unix_timestamp() * 1000))
}
