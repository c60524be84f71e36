//! Runs: a list filtered by the URL query (extension, version, machine, pg, stage, status,
//! since, until), keyset-paginated with the API's `next` cursor (`?after=`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::api::{Page, RunSummary};

use crate::api::get_json;
use crate::components::filter_bar::{SelectFilter, TextFilter, word_options};
use crate::components::remote::{Remote, query_pairs, remote_view, set_title};
use crate::components::run_table::{Pager, RunTable};
use crate::components::states::Empty;
use crate::logic::filters::{PAGE_SIZE, RUN_STATUSES, RunFilters, STAGES};

/// The PostgreSQL majors offered by the `pg` filters.
pub fn pg_options() -> Vec<(String, String)> {
    (13..=18).map(|major| (major.to_string(), format!("PostgreSQL {major}"))).collect()
}

/// `/runs`.
#[component]
pub fn RunsPage() -> impl IntoView {
    set_title("Runs");
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let pairs = query_pairs(q);
            RunFilters::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        })
    });
    let runs: Remote<Page<RunSummary>> = LocalResource::new(move || {
        let path = filters.get().api_path(PAGE_SIZE);
        async move { get_json::<Page<RunSummary>>(&path).await }
    });
    view! {
        <section class="page" data-page="runs">
            <h1>"Runs"</h1>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <TextFilter key="extension" label="Extension"/>
                <TextFilter key="version" label="Version"/>
                <TextFilter key="machine" label="Machine"/>
                <SelectFilter key="pg" label="PostgreSQL" options=pg_options()/>
                <SelectFilter key="status" label="Status" options=word_options(RUN_STATUSES)/>
                <SelectFilter key="stage" label="Failed at" options=word_options(STAGES)/>
                <TextFilter key="since" label="Since" kind="date"/>
                <TextFilter key="until" label="Until" kind="date"/>
            </form>
            {remote_view(
                runs,
                "runs",
                move |page: Page<RunSummary>| {
                    let filters = filters.get_untracked();
                    let first = filters
                        .after
                        .is_some()
                        .then(|| {
                            format!("/runs{}", RunFilters { after: None, ..filters.clone() }.query())
                        });
                    let older = page
                        .next
                        .as_deref()
                        .map(|next| format!("/runs{}", filters.next_page(next).query()));
                    if page.items.is_empty() {
                        return view! {
                            <Empty message="No runs match these filters."/>
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
