//! Machines and one machine: owner, platform, state, last seen, and what it tested.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use pgfarm_model::api::{Machine, Page, RunSummary};

use crate::api::{Owner, get_json, segment};
use crate::components::remote::{RelativeTime, Remote, remote_view, set_title};
use crate::components::run_table::RunTable;
use crate::components::states::Empty;
use crate::components::status::StatusBadge;
use crate::logic::filters::{PAGE_SIZE, RunFilters};

/// `/machines`: every machine with its state and last run.
#[component]
pub fn MachinesPage() -> impl IntoView {
    set_title("Machines");
    let machines: Remote<Vec<Machine>> =
        LocalResource::new(|| async { get_json::<Vec<Machine>>(crate::api!("/machines")).await });
    view! {
        <section class="page" data-page="machines">
            <h1>"Machines"</h1>
            {remote_view(
                machines,
                "machines",
                |machines: Vec<Machine>| {
                    if machines.is_empty() {
                        return view! { <Empty message="No machine has registered yet."/> }
                            .into_any();
                    }
                    let rows = machines
                        .into_iter()
                        .map(|machine| {
                            let href = format!("/machines/{}", segment(&machine.name));
                            let key = machine.name.clone();
                            view! {
                                <tr data-machine=key>
                                    <th scope="row">
                                        <a href=href>{machine.name}</a>
                                    </th>
                                    <td>
                                        <StatusBadge status=machine.state.as_str()/>
                                    </td>
                                    <td>{format!("{}/{}", machine.os, machine.arch)}</td>
                                    <td>{machine.compiler}</td>
                                    <td>
                                        <RelativeTime when=machine.last_seen_at/>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="table-scroll">
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"Machine"</th>
                                        <th scope="col">"State"</th>
                                        <th scope="col">"Platform"</th>
                                        <th scope="col">"Compiler"</th>
                                        <th scope="col">"Last run"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}

/// `/machines/:name`: the machine, its owner, and its latest runs.
#[component]
pub fn MachinePage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    Effect::new(move |_| set_title(&format!("Machine {}", name.get())));
    let machine: Remote<Machine> = LocalResource::new(move || {
        let path = format!(crate::api!("/machines/{}"), segment(&name.get()));
        async move { get_json::<Machine>(&path).await }
    });
    let owners: Remote<Vec<Owner>> =
        LocalResource::new(|| async { get_json::<Vec<Owner>>(crate::api!("/owners")).await });
    let filters = move || RunFilters { machine: Some(name.get()), ..RunFilters::default() };
    let runs: Remote<Page<RunSummary>> = LocalResource::new(move || {
        let path = filters().api_path(PAGE_SIZE);
        async move { get_json::<Page<RunSummary>>(&path).await }
    });
    let owner = move || {
        let name = name.get();
        match owners.get() {
            None => "…".to_owned(),
            Some(Err(_)) => "unknown".to_owned(),
            Some(Ok(owners)) => owners
                .into_iter()
                .find(|owner| owner.machines.contains(&name))
                .map(|owner| owner.owner)
                .unwrap_or_else(|| "unknown".to_owned()),
        }
    };
    view! {
        <section class="page" data-page="machine">
            <h1>"Machine " {move || name.get()}</h1>
            {remote_view(
                machine,
                "the machine",
                move |machine: Machine| {
                    view! {
                        <dl class="facts">
                            <dt>"State"</dt>
                            <dd>
                                <StatusBadge status=machine.state.as_str()/>
                            </dd>
                            <dt>"Owner"</dt>
                            <dd>{owner}</dd>
                            <dt>"Platform"</dt>
                            <dd>{format!("{}/{}", machine.os, machine.arch)}</dd>
                            <dt>"Compiler"</dt>
                            <dd>{machine.compiler}</dd>
                            <dt>"Last run"</dt>
                            <dd>
                                <RelativeTime when=machine.last_seen_at/>
                            </dd>
                            <dt>"Registered"</dt>
                            <dd>
                                <RelativeTime when=Some(machine.created_at)/>
                            </dd>
                        </dl>
                        <p class="description">{machine.description}</p>
                    }
                },
            )}
            <h2>"Latest runs"</h2>
            {remote_view(
                runs,
                "its runs",
                move |page: Page<RunSummary>| {
                    if page.items.is_empty() {
                        return view! { <Empty message="This machine has sent no runs yet."/> }
                            .into_any();
                    }
                    let more = page
                        .next
                        .is_some()
                        .then(|| {
                            view! {
                                <p>
                                    <a href=format!("/runs{}", filters().query())>
                                        "All runs of this machine »"
                                    </a>
                                </p>
                            }
                        });
                    view! {
                        <RunTable runs=page.items/>
                        {more}
                    }
                        .into_any()
                },
            )}
        </section>
    }
}
