//! One test's history across runs and PostgreSQL versions, with flaky marks and the flip rate.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use pgfarm_model::api::TestHistory;

use crate::api::{get_json, segment};
use crate::components::remote::{RelativeTime, Remote, remote_view, set_title};
use crate::components::states::Empty;
use crate::components::status::{StatusBadge, status_class, status_icon};
use crate::logic::history::{by_major, flip_rate_words, is_flaky_entry};

/// The history view for a loaded [`TestHistory`].
#[component]
pub fn HistoryView(
    /// The API's answer.
    history: TestHistory,
) -> impl IntoView {
    if history.entries.is_empty() {
        return view! { <Empty message="This test has no results yet."/> }.into_any();
    }
    let flaky_word = if history.flaky { "flaky" } else { "stable" };
    let flaky_list = history
        .flaky_on
        .iter()
        .map(|combination| {
            view! {
                <li>
                    {format!(
                        "version {} on PostgreSQL {} on machine {}",
                        combination.version,
                        combination.pg_version,
                        combination.machine,
                    )}
                </li>
            }
        })
        .collect_view();
    let strips = by_major(&history.entries)
        .into_iter()
        .map(|(major, entries)| {
            let dots = entries
                .into_iter()
                .map(|entry| {
                    let flaky = is_flaky_entry(&history, entry);
                    let class = format!(
                        "history-dot {}{}",
                        status_class(entry.status.as_str()),
                        if flaky { " flaky" } else { "" }
                    );
                    let title = format!(
                        "{} — {} {} on {}, {}",
                        entry.status.as_str(),
                        history.extension,
                        entry.version,
                        entry.machine,
                        entry.created_at
                    );
                    view! {
                        <a class=class href=format!("/runs/{}", segment(&entry.run)) title=title>
                            {status_icon(entry.status.as_str())}
                        </a>
                    }
                })
                .collect_view();
            view! {
                <li class="history-strip">
                    <span class="history-major">{format!("PG {major}")}</span>
                    <span class="history-dots">{dots}</span>
                </li>
            }
        })
        .collect_view();
    let rows = history
        .entries
        .iter()
        .map(|entry| {
            let flaky = is_flaky_entry(&history, entry);
            view! {
                <tr data-status=entry.status.as_str() class:flaky=flaky>
                    <td>
                        <a href=format!("/runs/{}", segment(&entry.run))>
                            <StatusBadge status=entry.status.as_str()/>
                        </a>
                    </td>
                    <td>{entry.pg_major}</td>
                    <td>{entry.version.clone()}</td>
                    <td>
                        <a href=format!(
                            "/machines/{}",
                            segment(&entry.machine),
                        )>{entry.machine.clone()}</a>
                    </td>
                    <td>
                        <RelativeTime when=Some(entry.created_at.clone())/>
                    </td>
                    <td>
                        {flaky
                            .then(|| {
                                view! {
                                    <span class="flaky-mark" title="passed and failed on this combination">
                                        "⚠ flaky"
                                    </span>
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="history-summary">
            <StatusBadge status=if history.flaky { "failed" } else { "ok" } label=flaky_word/>
            " Flip rate: "
            {flip_rate_words(history.flip_rate)}
            {format!(" over {} results.", history.entries.len())}
        </div>
        {history
            .flaky
            .then(|| {
                view! {
                    <p>"Passed and failed on:"</p>
                    <ul class="flaky-on">{flaky_list}</ul>
                }
            })}
        <h2>"By PostgreSQL major (newest first)"</h2>
        <ul class="history-strips">{strips}</ul>
        <h2>"Results"</h2>
        <div class="table-scroll">
            <table class="history">
                <thead>
                    <tr>
                        <th scope="col">"Result"</th>
                        <th scope="col">"PG"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Machine"</th>
                        <th scope="col">"Run"</th>
                        <th scope="col">"Flaky"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// `/extensions/:extension/tests/:test/history`.
#[component]
pub fn TestHistoryPage() -> impl IntoView {
    let params = use_params_map();
    let extension = Memo::new(move |_| params.with(|p| p.get("extension").unwrap_or_default()));
    let test = Memo::new(move |_| params.with(|p| p.get("test").unwrap_or_default()));
    Effect::new(move |_| set_title(&format!("{} / {} history", extension.get(), test.get())));
    let history: Remote<TestHistory> = LocalResource::new(move || {
        let path = format!(
            crate::api!("/extensions/{}/tests/{}/history"),
            segment(&extension.get()),
            segment(&test.get())
        );
        async move { get_json::<TestHistory>(&path).await }
    });
    view! {
        <section class="page" data-page="history">
            <h1>
                "Test "
                <code>{move || test.get()}</code>
                " of "
                <a href=move || format!("/extensions/{}", segment(&extension.get()))>
                    {move || extension.get()}
                </a>
            </h1>
            {remote_view(
                history,
                "the test history",
                |history: TestHistory| view! { <HistoryView history=history/> },
            )}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use pgfarm_model::api::TestHistory;

    use super::HistoryView;

    #[test]
    fn real_history_renders_one_row_per_result_and_hostile_names_stay_text() {
        let mut history: TestHistory =
            serde_json::from_str(include_str!("../logic/fixtures/history.json")).unwrap();
        let n = history.entries.len();
        let html = Owner::new().with(|| view! { <HistoryView history=history.clone()/> }.to_html());
        assert_eq!(html.matches("<tr data-status=").count(), n, "{html}");
        history.entries[0].machine = "<script>alert(1)</script>".into();
        history.flaky = true;
        history.flaky_on.push(pgfarm_model::api::FlakyCombination {
            version: "\"><img src=x onerror=alert(2)>".into(),
            pg_version: "17.2".into(),
            machine: "<svg onload=alert(3)>".into(),
        });
        let html = Owner::new().with(|| view! { <HistoryView history=history/> }.to_html());
        crate::components::run_table::tests::assert_inert(&html);
        assert!(html.contains("flaky"));
    }
}
