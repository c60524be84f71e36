//! Known releases of an extension (or of a PGXN user): release status, date, PostgreSQL range,
//! uploader, run counts and the release's PGXN page.

use leptos::prelude::*;
use pgfarm_model::api::Release;

use crate::api::segment;
use crate::components::status::StatusBadge;
use crate::logic::time_ago::absolute_utc;

/// A release status as a badge (`class="release-status release-stable"`).
#[component]
pub fn ReleaseStatusBadge(
    /// `stable`, `testing` or `unstable` (any other text is shown as it is).
    status: String,
) -> impl IntoView {
    let class = match status.as_str() {
        "stable" => "release-status release-stable",
        "testing" => "release-status release-testing",
        "unstable" => "release-status release-unstable",
        _ => "release-status",
    };
    let text = status.clone();
    view! { <span class=class data-release-status=status>{text}</span> }
}

/// A link to a release's PGXN page, when it came from PGXN.
#[component]
pub fn PgxnLink(
    /// The release.
    release: Release,
) -> impl IntoView {
    release.pgxn_url.map(|href| {
        view! {
            <a class="pgxn-link" href=href rel="external noopener">
                "PGXN"
            </a>
        }
    })
}

/// The releases table; with `show_extension` each row names its extension (a user's page).
#[component]
pub fn ReleasesTable(
    /// Releases, in the order to show.
    releases: Vec<Release>,
    /// Add the extension column.
    #[prop(default = false)]
    show_extension: bool,
) -> impl IntoView {
    let rows = releases
        .into_iter()
        .map(|release| {
            let extension = release.extension.clone();
            let version_href = format!(
                "/extensions/{}/versions/{}",
                segment(&release.extension),
                segment(&release.version)
            );
            let user = release.user.clone().map(|user| {
                let href = format!("/users/{}", segment(&user));
                view! { <a href=href>{user}</a> }
            });
            let range = release.pg_range.clone().unwrap_or_else(|| "any".to_owned());
            let failed_word = if release.n_failed > 0 { "failed" } else { "ok" };
            let key = format!("{}/{}", release.extension, release.version);
            let extension_cell = show_extension.then(|| {
                let href = format!("/extensions/{}", segment(&extension));
                view! {
                    <td>
                        <a href=href>{extension.clone()}</a>
                    </td>
                }
            });
            view! {
                <tr data-release=key>
                    {extension_cell}
                    <th scope="row">
                        <a href=version_href>{release.version.clone()}</a>
                    </th>
                    <td>
                        <ReleaseStatusBadge status=release.release_status.clone()/>
                    </td>
                    <td>{absolute_utc(&release.date)}</td>
                    <td>{range}</td>
                    <td>{user}</td>
                    <td>{release.n_runs}</td>
                    <td>
                        <StatusBadge status=failed_word label=release.n_failed.to_string()/>
                    </td>
                    <td>
                        <PgxnLink release=release/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let extension_head = show_extension.then(|| view! { <th scope="col">"Extension"</th> });
    view! {
        <div class="table-scroll">
            <table class="releases">
                <thead>
                    <tr>
                        {extension_head}
                        <th scope="col">"Version"</th>
                        <th scope="col">"Release status"</th>
                        <th scope="col">"Released"</th>
                        <th scope="col">"PostgreSQL"</th>
                        <th scope="col">"Uploaded by"</th>
                        <th scope="col">"Runs"</th>
                        <th scope="col">"Failed runs"</th>
                        <th scope="col">"PGXN"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// One release's facts, for its version page: status, date, abstract, range, PGXN page.
#[component]
pub fn ReleaseFacts(
    /// The release.
    release: Release,
) -> impl IntoView {
    let user = release.user.clone().map(|user| {
        let href = format!("/users/{}", segment(&user));
        view! {
            " by "
            <a href=href>{user}</a>
        }
    });
    view! {
        <p class="release-facts">
            <ReleaseStatusBadge status=release.release_status.clone()/>
            " released "
            {absolute_utc(&release.date)}
            {user}
            {release.pg_range.clone().map(|range| format!("; PostgreSQL {range}"))}
            " "
            <PgxnLink release=release.clone()/>
        </p>
        {release.r#abstract.map(|text| view! { <p class="abstract">{text}</p> })}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use leptos::prelude::*;
    use pgfarm_model::api::Release;

    use super::{ReleaseFacts, ReleasesTable};

    pub(crate) fn release(extension: &str, version: &str, status: &str) -> Release {
        Release {
            extension: extension.into(),
            version: version.into(),
            release_status: status.into(),
            source: "pgxn".into(),
            date: "2025-04-01T12:00:00Z".into(),
            r#abstract: Some(format!("The {extension} distribution")),
            user: Some("theory".into()),
            pg_range: Some(">= 16".into()),
            pg_min: Some(16),
            pg_max: None,
            pgxn_url: Some(format!(
                "https://pgxn.org/dist/{}/{version}/",
                extension.to_lowercase()
            )),
            n_runs: 3,
            n_failed: 1,
        }
    }

    #[test]
    fn releases_show_their_status_range_uploader_and_pgxn_page() {
        let releases =
            vec![release("pgTAP", "1.3.3", "stable"), release("pgTAP", "1.4.0-rc1", "testing")];
        let html =
            Owner::new().with(|| view! { <ReleasesTable releases=releases.clone()/> }.to_html());
        assert!(html.contains("data-release-status=\"stable\""), "{html}");
        assert!(html.contains("class=\"release-status release-testing\""), "{html}");
        assert!(html.contains("href=\"https://pgxn.org/dist/pgtap/1.3.3/\""), "{html}");
        assert!(html.contains("href=\"/extensions/pgTAP/versions/1.4.0-rc1\""), "{html}");
        assert!(html.contains("href=\"/users/theory\""), "{html}");
        assert!(html.contains("&gt;= 16"), "{html}");
        // not from PGXN: no PGXN link
        let mut admin = release("handmade", "1.0", "stable");
        admin.source = "admin".into();
        admin.pgxn_url = None;
        let html =
            Owner::new().with(|| view! { <ReleasesTable releases=vec![admin.clone()]/> }.to_html());
        assert!(!html.contains("pgxn.org"), "{html}");
        let facts =
            Owner::new().with(|| view! { <ReleaseFacts release=releases[1].clone()/> }.to_html());
        assert!(
            facts.contains("release-testing") && facts.contains("The pgTAP distribution"),
            "{facts}"
        );
    }

    #[test]
    fn hostile_release_text_renders_as_text() {
        const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
        let mut bad = release(HOSTILE, HOSTILE, HOSTILE);
        bad.user = Some(HOSTILE.into());
        bad.r#abstract = Some(HOSTILE.into());
        bad.pg_range = Some(HOSTILE.into());
        bad.pgxn_url = None;
        let html = Owner::new().with(|| {
            view! {
                <ReleasesTable releases=vec![bad.clone()] show_extension=true/>
                <ReleaseFacts release=bad.clone()/>
            }
            .to_html()
        });
        crate::components::run_table::tests::assert_inert(&html);
    }
}
