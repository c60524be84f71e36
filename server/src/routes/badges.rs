//! Badges: `/badge/{extension}.svg`, `/badge/{extension}/pg{major}.svg`, and the same paths with
//! `.json` for shields.io's endpoint badge.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use pgfarm_model::api;

use super::{Caching, cached, cached_json};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::verdict;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/badge/{file}", get(extension_badge))
        .route("/badge/{extension}/{file}", get(major_badge))
}

/// Splits `name.svg` / `name.json`.
fn split_file(file: &str) -> Result<(&str, bool), ApiError> {
    if let Some(name) = file.strip_suffix(".svg") {
        Ok((name, false))
    } else if let Some(name) = file.strip_suffix(".json") {
        Ok((name, true))
    } else {
        Err(ApiError::not_found(format!("badge `{file}` (use .svg or .json)")))
    }
}

/// A flat shields-style SVG badge. Text is XML-escaped.
pub(crate) fn svg(label: &str, message: &str, color: &str) -> String {
    // About 6.5 px per character at 11 px Verdana, plus padding.
    let width_of = |text: &str| 10 + (text.chars().count() as u32 * 13).div_ceil(2);
    let (label_width, message_width) = (width_of(label), width_of(message));
    let total = label_width + message_width;
    let (label, message) = (xml_escape(label), xml_escape(message));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" \
         aria-label=\"{label}: {message}\"><title>{label}: {message}</title>\
         <rect width=\"{label_width}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{label_width}\" width=\"{message_width}\" height=\"20\" fill=\"{color}\"/>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" \
         font-size=\"11\"><text x=\"{lx}\" y=\"14\">{label}</text>\
         <text x=\"{mx}\" y=\"14\">{message}</text></g></svg>",
        lx = label_width / 2,
        mx = label_width + message_width / 2,
    )
}

/// Escapes `& < > " '` for XML text and attributes.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

async fn badge(
    state: &AppState,
    headers: &HeaderMap,
    extension: &str,
    major: Option<i64>,
    json: bool,
) -> ApiResult<Response> {
    let cells: Vec<api::MatrixCell> = state
        .store
        .matrix(Some(extension))
        .await?
        .into_iter()
        .filter(|row| major.is_none_or(|major| row.pg_major == major))
        .map(super::reads::cell)
        .collect();
    let verdict::Badge { message, color } = verdict::badge(
        cells.iter().map(|cell| verdict::cell(cell.status, cell.failed_stage, cell.tested).word),
    );
    let label = match major {
        Some(major) => format!("{extension} pg{major}"),
        None => extension.to_owned(),
    };
    if json {
        let endpoint = api::ShieldsEndpoint {
            schema_version: 1,
            label,
            message: message.to_owned(),
            color: color.trim_start_matches('#').to_owned(),
        };
        Ok(cached_json(headers, &endpoint, Caching::Revalidate))
    } else {
        Ok(cached(
            headers,
            "image/svg+xml",
            svg(&label, message, color).into_bytes(),
            Caching::Revalidate,
        ))
    }
}

async fn extension_badge(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (extension, json) = split_file(&file)?;
    badge(&state, &headers, extension, None, json).await
}

async fn major_badge(
    State(state): State<AppState>,
    Path((extension, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (name, json) = split_file(&file)?;
    let major = name
        .strip_prefix("pg")
        .and_then(|major| major.parse::<i64>().ok())
        .ok_or_else(|| ApiError::not_found(format!("badge `{file}` (use pg<major>.svg)")))?;
    badge(&state, &headers, &extension, Some(major), json).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_text_is_escaped() {
        let badge = svg("<script>x</script>", "passing", "#4c1");
        assert!(!badge.contains("<script>"));
        assert!(badge.contains("&lt;script&gt;"));
    }
}
