//! Failures: failed runs of the last 7/30/90/365 days with their failure cause, filterable (by
//! cause too), with "hide now green", all kept in the URL query.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::api::{Page, RunSummary};

use crate::api::get_json;
use crate::components::filter_bar::{CheckFilter, SelectFilter, TextFilter, word_options};
use crate::components::remote::{Remote, query_pairs, remote_view, set_title};
use crate::components::run_table::{Pager, RunTable};
use crate::components::states::Empty;
use crate::logic::causes;
use crate::logic::filters::{DAY_CHOICES, FailureFilters, PAGE_SIZE, STAGES};
use crate::pages::runs::pg_options;

/// `/failures`.
#[component]
pub fn FailuresPage() -> impl IntoView {
    set_title("Failures");
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let pairs = query_pairs(q);
            FailureFilters::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        })
    });
    let failures: Remote<Page<RunSummary>> = LocalResource::new(move || {
        let path = filters.get().api_path(PAGE_SIZE);
        async move { get_json::<Page<RunSummary>>(&path).await }
    });
    let day_options: Vec<(String, String)> = DAY_CHOICES
        .iter()
        .filter(|days| **days != 7)
        .map(|days| (days.to_string(), format!("last {days} days")))
        .collect();
    view! {
        <section class="page" data-page="failures">
            <h1>"Failures"</h1>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <SelectFilter key="days" label="Period" options=day_options any="last 7 days"/>
                <TextFilter key="extension" label="Extension"/>
                <TextFilter key="version" label="Version"/>
                <TextFilter key="machine" label="Machine"/>
                <SelectFilter key="pg" label="PostgreSQL" options=pg_options()/>
                <SelectFilter key="stage" label="Failed at" options=word_options(STAGES)/>
                <SelectFilter key="cause" label="Cause" options=causes::filter_options()/>
                <CheckFilter key="hide_now_green" label="Hide those that pass now"/>
            </form>
            {remote_view(
                failures,
                "failures",
                move |page: Page<RunSummary>| {
                    let filters = filters.get_untracked();
                    let first = filters
                        .after
                        .is_some()
                        .then(|| {
                            format!(
                                "/failures{}",
                                FailureFilters { after: None, ..filters.clone() }.query(),
                            )
                        });
                    let older = page
                        .next
                        .as_deref()
                        .map(|next| format!("/failures{}", filters.next_page(next).query()));
                    if page.items.is_empty() {
                        let message = format!(
                            "No failed runs in the last {} days with these filters.",
                            filters.days,
                        );
                        return view! {
                            <Empty message=message/>
                            <Pager first=first older=None/>
                        }
                            .into_any();
                    }
                    view! {
                        <RunTable runs=page.items/>
                        <Pager first=first older=older/>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}
