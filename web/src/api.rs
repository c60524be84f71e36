//! The HTTP client for the JSON API (`/api/v1/...`): typed GETs and POSTs whose failures carry the
//! server's `{code, message}`, so a page can always say what went wrong.

use gloo_net::http::{Request, Response};
use pgfarm_model::api::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::logic::filters::encode_component;

/// Why an API call failed, in words fit for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
    /// The request never got an answer (server down, network off, CORS).
    Network(String),
    /// The server answered with an error status; `code` and `message` come from its JSON body
    /// when it sent one.
    Status {
        /// HTTP status.
        status: u16,
        /// The API's error code (`not_found`, `unauthorized`, ...), or empty.
        code: String,
        /// The server's message, or the status text.
        message: String,
    },
    /// The answer did not have the expected shape.
    Decode(String),
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Network(message) => write!(f, "the server could not be reached: {message}"),
            ApiFailure::Status { status, code, message } if code.is_empty() => {
                write!(f, "HTTP {status}: {message}")
            }
            ApiFailure::Status { status, code, message } => {
                write!(f, "HTTP {status} ({code}): {message}")
            }
            ApiFailure::Decode(message) => {
                write!(f, "unexpected answer from the server: {message}")
            }
        }
    }
}

impl std::error::Error for ApiFailure {}

/// `GET path` and decode the JSON answer.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    let response =
        Request::get(path).send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    let response = check(response).await?;
    response.json::<T>().await.map_err(|e| ApiFailure::Decode(e.to_string()))
}

/// `GET path` and return the raw bytes (a bundle file).
pub async fn get_bytes(path: &str) -> Result<Vec<u8>, ApiFailure> {
    let response =
        Request::get(path).send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    let response = check(response).await?;
    response.binary().await.map_err(|e| ApiFailure::Decode(e.to_string()))
}

/// `POST path` with a JSON body and an optional bearer token; decode the JSON answer.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    bearer: Option<&str>,
) -> Result<T, ApiFailure> {
    let mut builder = Request::post(path);
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = builder.json(body).map_err(|e| ApiFailure::Decode(e.to_string()))?;
    let response = request.send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    let response = check(response).await?;
    response.json::<T>().await.map_err(|e| ApiFailure::Decode(e.to_string()))
}

/// `POST path` with no body and an optional bearer token (the admin actions); decode the JSON
/// answer.
pub async fn post_empty<T: DeserializeOwned>(
    path: &str,
    bearer: Option<&str>,
) -> Result<T, ApiFailure> {
    let mut builder = Request::post(path);
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let response = builder.send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    let response = check(response).await?;
    response.json::<T>().await.map_err(|e| ApiFailure::Decode(e.to_string()))
}

/// `api!("/runs/{}")` is `"/api/v1/runs/{}"`, a string literal (usable as a `format!` string):
/// the API's version prefix is written only here (a tidy test checks that no other file of
/// `web/src` writes it).
#[macro_export]
macro_rules! api {
    ($rest:literal) => {
        concat!("/api/v1", $rest)
    };
}

/// A path segment for an API or page URL, percent-encoded (names may hold any character).
pub fn segment(text: &str) -> String {
    encode_component(text)
}

pub use pgfarm_model::api::{ExtensionDetail, Owner, VersionCounts};

/// Turns an error status into [`ApiFailure::Status`] with the server's `{code, message}`.
async fn check(response: Response) -> Result<Response, ApiFailure> {
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let status_text = response.status_text();
    let text = response.text().await.unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiFailure::Status {
            status,
            code: body.code.as_str().to_owned(),
            message: body.message,
        },
        Err(_) if text.trim().is_empty() => {
            ApiFailure::Status { status, code: String::new(), message: status_text }
        }
        Err(_) => ApiFailure::Status {
            status,
            code: String::new(),
            message: text.chars().take(500).collect(),
        },
    })
}
