//! The run table shared by the runs, failures, machine and extension pages: one row per run,
//! each linking to the run, with keyset pagination links.

use leptos::prelude::*;
use pgfarm_model::api::RunSummary;

use crate::components::remote::RelativeTime;
use crate::components::status::StatusBadge;
use crate::logic::filters::encode_component;
use crate::logic::matrix::verdict;

/// A table of runs (newest first as the API sends them). Every text is rendered as text.
#[component]
pub fn RunTable(
    /// The runs.
    runs: Vec<RunSummary>,
) -> impl IntoView {
    let rows = runs
        .into_iter()
        .map(|run| {
            let verdict = verdict(run.status, run.failed_stage);
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
            view! {
                <tr data-run=run.uuid.clone()>
                    <td>
                        <a href=href.clone() class="run-link">
                            <StatusBadge status=verdict.word label=verdict.label/>
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
