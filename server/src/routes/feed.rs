//! Atom feeds of matrix status changes (green to red and back): `/api/v1/feed.atom` for all
//! extensions, `/api/v1/extensions/{extension}/feed.atom` for one.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::badges::xml_escape;
use super::{Caching, cached};
use crate::db::ChangeRow;
use crate::error::ApiResult;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/feed.atom", get(global))
        .route("/api/v1/extensions/{extension}/feed.atom", get(per_extension))
}

/// Entries per feed.
const FEED_ENTRIES: i64 = 50;

/// Renders an Atom document (RFC 4287). All text is XML-escaped.
pub(crate) fn atom(base_url: &str, self_path: &str, title: &str, changes: &[ChangeRow]) -> String {
    let updated =
        changes.first().map_or_else(|| crate::rfc3339(0), |change| crate::rfc3339(change.at));
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("  <title>{}</title>\n", xml_escape(title)));
    out.push_str(&format!("  <id>{}</id>\n", xml_escape(&format!("{base_url}{self_path}"))));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"{}\"/>\n",
        xml_escape(&format!("{base_url}{self_path}"))
    ));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str("  <author><name>pgfarm</name></author>\n");
    for change in changes {
        let cell = |status: &str| {
            let status = status.parse().unwrap_or(pgfarm_model::RunStatus::Error);
            let failed_stage = change.failed_stage.as_deref().and_then(|s| s.parse().ok());
            crate::verdict::cell(status, failed_stage, change.tested != 0)
        };
        let to = cell(&change.to_status);
        let verb = match to.word {
            crate::verdict::CellWord::Ok => "fixed",
            crate::verdict::CellWord::Missing => "lost its tests",
            _ => "broken",
        };
        // The run before is only known by its status: its label is the status word.
        let title = format!(
            "{} {} on PostgreSQL {} ({}): {} -> {}",
            change.extension, verb, change.pg_major, change.platform, change.from_status, to.label
        );
        let link = format!("{base_url}/api/v1/runs/{}", change.run_uuid);
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <title>{}</title>\n", xml_escape(&title)));
        out.push_str(&format!(
            "    <id>{}</id>\n",
            xml_escape(&format!("{base_url}/changes/{}", change.id))
        ));
        out.push_str(&format!("    <link href=\"{}\"/>\n", xml_escape(&link)));
        out.push_str(&format!("    <updated>{}</updated>\n", crate::rfc3339(change.at)));
        out.push_str(&format!("    <summary>{}</summary>\n", xml_escape(&title)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

async fn global(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let changes = state.store.status_changes(None, FEED_ENTRIES).await?;
    let body =
        atom(&state.config.public_url, "/api/v1/feed.atom", "pgfarm status changes", &changes);
    Ok(cached(&headers, "application/atom+xml", body.into_bytes(), Caching::Revalidate))
}

async fn per_extension(
    State(state): State<AppState>,
    Path(extension): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let changes = state.store.status_changes(Some(&extension), FEED_ENTRIES).await?;
    let path = format!("/api/v1/extensions/{extension}/feed.atom");
    let body = atom(&state.config.public_url, &path, &format!("pgfarm: {extension}"), &changes);
    Ok(cached(&headers, "application/atom+xml", body.into_bytes(), Caching::Revalidate))
}
