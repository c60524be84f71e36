//! Extractors that authenticate requests: `SignedBody` (a machine's HMAC over the exact body
//! bytes) and `Admin` (the admin bearer token).
//!
//! `SignedBody` must consume the body, so it is a `FromRequest` extractor (not
//! `FromRequestParts`): the signature covers the raw bytes, before any decoding.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use pgfarm_model::api;

use crate::db::MachineRow;
use crate::error::ApiError;
use crate::secrets;
use crate::state::AppState;

/// How far in the past a signature timestamp may lie (24 hours), so a runner may submit runs
/// it kept while offline the same day.
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// How far in the future a timestamp may lie (2 minutes of clock skew).
pub const MAX_SKEW_SECS: i64 = 120;

/// How much of an over-limit body is drained before the connection is cut, as a multiple of
/// the limit.
const DRAIN_FACTOR: u64 = 4;

/// Reads `body` up to `limit` bytes: `Ok(None)` when it is longer (having drained at most
/// `drain_cap` bytes of it).
async fn read_limited(
    mut body: axum::body::Body,
    limit: u64,
    drain_cap: u64,
) -> Result<Option<Bytes>, axum::Error> {
    use axum::body::HttpBody;
    let mut buffer = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame?.into_data() else { continue };
        total = total.saturating_add(data.len() as u64);
        if total > drain_cap {
            return Ok(None);
        }
        if total <= limit {
            buffer.extend_from_slice(&data);
        }
    }
    Ok((total <= limit).then(|| Bytes::from(buffer)))
}

/// The body of a request signed by an approved machine, and that machine.
#[derive(Debug)]
pub struct SignedBody {
    /// The machine that signed.
    pub machine: MachineRow,
    /// The body exactly as received.
    pub body: Bytes,
}

fn header_text<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim)
}

impl FromRequest<AppState> for SignedBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<SignedBody, ApiError> {
        let limit = state.config.max_bundle_bytes;
        let too_large = || {
            ApiError::new(
                api::ErrorCode::TooLarge,
                format!("the body is larger than the limit of {limit} bytes (max_bundle_bytes)"),
            )
        };
        let (parts, body) = request.into_parts();
        // A body over the limit is still read (and dropped) up to DRAIN_FACTOR times the limit,
        // so the client gets to read the 413 instead of a broken pipe; beyond that the
        // connection is cut.
        let drain_cap = limit.saturating_mul(DRAIN_FACTOR);
        if let Some(length) = header_text(&parts, header::CONTENT_LENGTH.as_str())
            .and_then(|text| text.parse::<u64>().ok())
            && length > drain_cap
        {
            return Err(too_large());
        }
        let body = match read_limited(body, limit, drain_cap).await {
            Ok(Some(body)) => body,
            Ok(None) => return Err(too_large()),
            Err(err) => return Err(ApiError::malformed(format!("reading the body failed: {err}"))),
        };

        let Some(name) = header_text(&parts, api::HEADER_MACHINE).filter(|name| !name.is_empty())
        else {
            return Err(ApiError::new(
                api::ErrorCode::UnknownMachine,
                "missing header X-Pgfarm-Machine",
            ));
        };
        let Some(timestamp) = header_text(&parts, api::HEADER_TIMESTAMP) else {
            return Err(ApiError::new(
                api::ErrorCode::StaleTimestamp,
                "missing header X-Pgfarm-Timestamp (unix seconds)",
            ));
        };
        let Some(signature) = header_text(&parts, api::HEADER_SIGNATURE) else {
            return Err(ApiError::new(
                api::ErrorCode::BadSignature,
                "missing header X-Pgfarm-Signature (sha256=<hex>)",
            ));
        };
        let Some(machine) = state.store.machine(name).await? else {
            return Err(ApiError::new(
                api::ErrorCode::UnknownMachine,
                "X-Pgfarm-Machine names no registered machine",
            ));
        };
        let Ok(seconds) = timestamp.parse::<i64>() else {
            return Err(ApiError::new(
                api::ErrorCode::StaleTimestamp,
                "X-Pgfarm-Timestamp is not an integer number of unix seconds",
            ));
        };
        let now = crate::now_ms() / 1000;
        if seconds < now - MAX_AGE_SECS || seconds > now + MAX_SKEW_SECS {
            return Err(ApiError::new(
                api::ErrorCode::StaleTimestamp,
                format!(
                    "X-Pgfarm-Timestamp {seconds} is outside the accepted window \
                     ({MAX_AGE_SECS} s back, {MAX_SKEW_SECS} s ahead of the server's {now})"
                ),
            ));
        }
        let Some(signature_hex) = signature.strip_prefix("sha256=") else {
            return Err(ApiError::new(
                api::ErrorCode::BadSignature,
                "X-Pgfarm-Signature must be sha256=<hex>",
            ));
        };
        let secret = state.key.machine_secret(&machine.name, machine.secret_generation);
        // A machine that was never approved has no valid secret (generation 0 is never handed
        // out), so its signatures fail here; the state check below then gives approved-but-
        // suspended machines their 403.
        if machine.secret_generation == 0
            || !secrets::verify(&secret, timestamp, &body, signature_hex)
        {
            if machine.secret_generation == 0 {
                return Err(ApiError::new(
                    api::ErrorCode::MachineNotApproved,
                    format!("machine `{}` is {}, not approved", machine.name, machine.state),
                ));
            }
            return Err(ApiError::new(
                api::ErrorCode::BadSignature,
                "X-Pgfarm-Signature does not match the body and timestamp",
            ));
        }
        if machine.state != api::MachineState::Approved.as_str() {
            return Err(ApiError::new(
                api::ErrorCode::MachineNotApproved,
                format!("machine `{}` is {}, not approved", machine.name, machine.state),
            ));
        }
        if let Err(wait) = state.submissions.check(&machine.name) {
            return Err(ApiError::rate_limited("submissions from this machine", wait));
        }
        Ok(SignedBody { machine, body })
    }
}

/// Proof that the request carried the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// Settings key of the admin token's SHA-256 digest.
pub const ADMIN_TOKEN_SETTING: &str = "admin_token_sha256";

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        let Some(token) = header_text(parts, header::AUTHORIZATION.as_str())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Err(ApiError::unauthorized());
        };
        let Some(digest) = state.store.setting(ADMIN_TOKEN_SETTING).await? else {
            return Err(ApiError::unauthorized());
        };
        if secrets::constant_time_eq(secrets::token_digest(token).as_bytes(), digest.as_bytes()) {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

/// Ensures an admin token exists: stores the digest of `configured` when given; otherwise
/// generates one on first start and returns it so the caller can print it once.
pub async fn prepare_admin_token(
    store: &dyn crate::db::Store,
    configured: Option<&str>,
) -> Result<Option<String>, anyhow::Error> {
    if let Some(token) = configured {
        store.set_setting(ADMIN_TOKEN_SETTING, &secrets::token_digest(token)).await?;
        return Ok(None);
    }
    let token = secrets::new_admin_token()?;
    if store.insert_setting_if_absent(ADMIN_TOKEN_SETTING, &secrets::token_digest(&token)).await? {
        Ok(Some(token))
    } else {
        Ok(None)
    }
}
