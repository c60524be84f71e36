//! The run table shared by the runs, failures, machine and extension pages: one row per run,
//! each linking to the run, with keyset pagination links.

use leptos::prelude::*;
use pgfarm_model::api::RunSummary;

use crate::components::remote::RelativeTime;
use crate::components::status::StatusBadge;
use crate::logic::causes::CauseText;
use crate::logic::filters::encode_component;
use crate::logic::matrix::run_verdict;

/// A table of runs (newest first as the API sends them). Every text is rendered as text.
#[component]
pub fn RunTable(
    /// The runs.
    runs: Vec<RunSummary>,
) -> impl IntoView {
    let rows = runs
        .into_iter()
        .map(|run| {
            let verdict = run_verdict(&run);
            let href = format!("/runs/{}", encode_component(&run.uuid));
            let ext_href = format!("/extensions/{}", encode_component(&run.extension));
            let machine_href = format!("/machines/{}", encode_component(&run.machine));
            let tests = if run.n_tests == 0 {
                "no tests".to_owned()
            } else if run.n_failed == 0 {
                format!("{} passed", run.n_tests)
            } else {
                format!("{} of {} failed", run.n_failed, run.n_tests)
            };
            // `failed` and `error` runs have a cause (`unknown` said as such); others none.
            let cause = run.cause.as_deref().map(|name| {
                let text = CauseText::of_name(name);
                let class = if text.known { "cause" } else { "cause cause-unknown" };
                view! {
                    <span class=class data-cause=text.name.clone() title=text.sentence>
                        {text.label}
                    </span>
                }
            });
            view! {
                <tr data-run=run.uuid.clone()>
                    <td>
                        <a href=href.clone() class="run-link">
                            <StatusBadge status=verdict.word.as_str() label=verdict.label/>
                        </a>
                    </td>
                    <td>
                        <a href=ext_href>{run.extension}</a>
                    </td>
                    <td>{run.version}</td>
                    <td>{run.pg_version}</td>
                    <td>{run.platform}</td>
                    <td>
                        <a href=machine_href>{run.machine}</a>
                    </td>
                    <td>{tests}</td>
                    <td class="run-cause-cell">{cause}</td>
                    <td>
                        <a href=href>
                            <RelativeTime when=Some(run.created_at)/>
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="runs">
                <thead>
                    <tr>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Extension"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"PostgreSQL"</th>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"Machine"</th>
                        <th scope="col">"Tests"</th>
                        <th scope="col">"Cause"</th>
                        <th scope="col">"Run"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// "Newest" and "Older" links for keyset pagination: `first` is the page without a cursor,
/// `older` the page after the API's `next` (none on the last page).
#[component]
pub fn Pager(
    /// Link to the newest page, shown when this is not it.
    first: Option<String>,
    /// Link to the next (older) page.
    older: Option<String>,
) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {first.map(|href| view! { <a href=href rel="first">"« Newest"</a> })}
            {older.map(|href| view! { <a href=href rel="next">"Older »"</a> })}
        </nav>
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use leptos::prelude::*;
    use pgfarm_model::api::RunSummary;
    use pgfarm_model::{RunStatus, StageKind};

    use super::RunTable;

    /// The payload of testdata/bundles/hostile.pgfarm.json: every field of that bundle holds it.
    const HOSTILE: &str = concat!(
        "<script>alert(\"xss\")</script><img src=x onerror=alert(1)>\"><svg onload=alert(2)>",
        "javascript:alert(3)&amp;&lt;{{7*7}}${7*7}"
    );

    fn hostile_run() -> RunSummary {
        RunSummary {
            uuid: format!("\"><img onerror=alert(9)>{HOSTILE}"),
            machine: HOSTILE.into(),
            extension: HOSTILE.into(),
            version: HOSTILE.into(),
            pg_version: HOSTILE.into(),
            pg_major: 15,
            platform: HOSTILE.into(),
            status: RunStatus::Failed,
            failed_stage: Some(StageKind::Regress),
            tested: true,
            n_tests: 3,
            n_failed: 1,
            cause: Some(HOSTILE.into()),
            cause_line: Some(HOSTILE.into()),
            created_at: HOSTILE.into(),
            received_at: HOSTILE.into(),
        }
    }

    /// Elements the dashboard's own views use; anything else in rendered HTML came from data.
    const OUR_TAGS: [&str; 27] = [
        "div", "section", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "time", "ul",
        "li", "p", "h1", "h2", "h3", "strong", "code", "dl", "dt", "dd", "nav", "label", "input",
        "button", "textarea",
    ];

    /// Fails when rendered HTML holds an element the views do not make (`<script>`, `<img>`,
    /// `<svg>` from data), an event-handler attribute, or a `javascript:` link. Attribute values
    /// are quoted with `"` escaped, so the tags are read by skipping quoted values.
    pub(crate) fn assert_inert(html: &str) {
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>').unwrap_or_else(|| panic!("unclosed tag in {html}"));
            let tag = &after[..end];
            rest = &after[end + 1..];
            if tag.starts_with('!') {
                continue; // a `<!>` marker
            }
            let mut names = String::new();
            let mut values = Vec::new();
            let mut parts = tag.split('"');
            while let Some(outside) = parts.next() {
                names.push_str(outside);
                names.push(' ');
                if let Some(value) = parts.next() {
                    values.push(value);
                }
            }
            let mut tokens =
                names.split(|c: char| c.is_whitespace() || c == '=').filter(|t| !t.is_empty());
            let name = tokens.next().unwrap_or_default().trim_start_matches('/');
            assert!(OUR_TAGS.contains(&name), "element <{name}> rendered from data: {html}");
            for attribute in tokens {
                assert!(
                    !attribute.to_ascii_lowercase().starts_with("on"),
                    "event handler `{attribute}` in <{tag}>"
                );
            }
            for value in values {
                assert!(
                    !value.trim().to_ascii_lowercase().starts_with("javascript:"),
                    "javascript: URL in <{tag}>"
                );
            }
        }
    }

    #[test]
    fn the_inertness_check_catches_live_markup() {
        for live in [
            "<div><img src=x onerror=alert(1)></div>",
            "<a href=\"/x\" onclick=\"alert(1)\">x</a>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<p><script>alert(1)</script></p>",
        ] {
            assert!(std::panic::catch_unwind(|| assert_inert(live)).is_err(), "{live} passed");
        }
        assert_inert("<div class=\"a\" data-x=\"&lt;img onerror=x&gt;\">&lt;script&gt;</div>");
    }

    #[test]
    fn hostile_run_fields_render_as_text() {
        let html = Owner::new().with(|| view! { <RunTable runs=vec![hostile_run()]/> }.to_html());
        assert_inert(&html);
        assert!(html.contains("&lt;script&gt;alert"), "the text is shown escaped: {html}");
        assert!(html.contains("failed at regress"), "{html}");
        assert!(html.contains("1 of 3 failed"), "{html}");
        // A cause name this build does not know is shown as it came, as text.
        assert!(html.contains("data-cause=\"&lt;script&gt;"), "{html}");
        // the uuid only appears percent-encoded in the link
        assert!(html.contains("href=\"/runs/%22%3E%3Cimg"), "{html}");
    }

    #[test]
    fn the_cause_column_names_the_cause_and_says_unknown() {
        let mut crashed = hostile_run();
        crashed.cause = Some("server_crash".into());
        let mut unknown = hostile_run();
        unknown.cause = Some("unknown".into());
        let mut passed = hostile_run();
        passed.status = RunStatus::Ok;
        passed.cause = None;
        let html = Owner::new()
            .with(|| view! { <RunTable runs=vec![crashed, unknown, passed]/> }.to_html());
        assert!(html.contains("<th scope=\"col\">Cause</th>"), "{html}");
        assert!(html.contains("data-cause=\"server_crash\""), "{html}");
        assert!(html.contains(">server crash<"), "{html}");
        assert!(html.contains("data-cause=\"unknown\""), "{html}");
        assert_eq!(html.matches("class=\"cause cause-unknown\"").count(), 1, "{html}");
        assert!(html.contains(">unknown cause<"), "{html}");
        assert_eq!(html.matches("data-cause=").count(), 2, "an ok run has no cause: {html}");
    }
}
