//! `ApiError`: every failed request answers with a status code and a JSON `ErrorBody`.
//!
//! Internal details (SQL errors, file paths) go to the log, never to the client: a 500 or 503
//! answer carries a fixed message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pgfarm_model::api;

use crate::db::DbError;

/// An error answer: its code decides the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Machine-readable kind.
    pub code: api::ErrorCode,
    /// Human-readable message naming the field, header or limit.
    pub message: String,
    /// Seconds for a `Retry-After` header (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: api::ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after: None }
    }

    /// 400 naming a field or parameter.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(api::ErrorCode::Malformed, message)
    }

    /// 404 naming what was not found.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(api::ErrorCode::NotFound, format!("{} not found", what.into()))
    }

    /// 401 for admin endpoints.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            api::ErrorCode::Unauthorized,
            "missing or wrong admin token in `Authorization: Bearer ...`",
        )
    }

    /// 429 with a `Retry-After`.
    pub fn rate_limited(what: &str, retry_after: u64) -> ApiError {
        ApiError {
            code: api::ErrorCode::RateLimited,
            message: format!("too many {what}; retry in {retry_after} s"),
            retry_after: Some(retry_after),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let body = api::ErrorBody { code: self.code, message: self.message };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> ApiError {
        match err {
            DbError::Conflict(what) => ApiError::new(api::ErrorCode::Conflict, what),
            DbError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store unavailable");
                ApiError {
                    code: api::ErrorCode::Unavailable,
                    message: "the database is unavailable; retry later".into(),
                    retry_after: Some(5),
                }
            }
            DbError::Other(detail) => {
                tracing::error!(error = %detail, "store error");
                ApiError::new(api::ErrorCode::Internal, "internal error; see the server log")
            }
            DbError::TooNew { .. } | DbError::Migrate(_) => {
                tracing::error!(error = %err, "store error");
                ApiError::new(api::ErrorCode::Internal, "internal error; see the server log")
            }
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
