//! Extensions, one extension, and one extension version: versions, the platform matrix, the
//! machine x PostgreSQL grid, badges to copy and the feed.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use pgfarm_model::api::{Extension, RunSummary};

use crate::api::{ApiFailure, ExtensionDetail, get_json, segment};
use crate::components::releases::{ReleaseFacts, ReleaseStatusBadge, ReleasesTable};
use crate::components::remote::{RelativeTime, Remote, origin, remote_view, set_title};
use crate::components::states::Empty;
use crate::components::status::{StatusBadge, status_class, status_icon};
use crate::logic::badges::badge_snippets;
use crate::logic::filters::{RunFilters, to_query};
use crate::logic::matrix::{MachineGrid, run_verdict};
use crate::pages::overview::MatrixTable;

/// The machine grid's runs: the latest run per machine and PostgreSQL major of an extension
/// (or version), from `/api/v1/extensions/{ext}/machines`; none when the server has none (404).
async fn grid_runs(
    extension: String,
    version: Option<String>,
) -> Result<Vec<RunSummary>, ApiFailure> {
    let query = to_query(&[("version", version.unwrap_or_default())]);
    let path = format!(crate::api!("/extensions/{}/machines{}"), segment(&extension), query);
    match get_json::<Vec<RunSummary>>(&path).await {
        Err(ApiFailure::Status { status: 404, .. }) => Ok(Vec::new()),
        answer => answer,
    }
}

/// `/extensions`: every extension with its cell counts.
#[component]
pub fn ExtensionsPage() -> impl IntoView {
    set_title("Extensions");
    let list: Remote<Vec<Extension>> = LocalResource::new(|| async {
        get_json::<Vec<Extension>>(crate::api!("/extensions")).await
    });
    view! {
        <section class="page" data-page="extensions">
            <h1>"Extensions"</h1>
            {remote_view(
                list,
                "extensions",
                |extensions: Vec<Extension>| {
                    if extensions.is_empty() {
                        return view! { <Empty message="No extension has a run yet."/> }.into_any();
                    }
                    let rows = extensions
                        .into_iter()
                        .map(|extension| {
                            let href = format!("/extensions/{}", segment(&extension.name));
                            let word = if extension.n_failing > 0 { "failed" } else { "ok" };
                            let label = if extension.n_failing > 0 {
                                format!("{} failing", extension.n_failing)
                            } else {
                                "all passing".to_owned()
                            };
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=href>{extension.name}</a>
                                    </th>
                                    <td>
                                        <StatusBadge status=word label=label/>
                                    </td>
                                    <td>{extension.n_cells}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="table-scroll">
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"Extension"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Cells (PostgreSQL x platform)"</th>
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

/// The grid machine x PostgreSQL major from the latest runs, each cell linking to its run
/// (`<a class="cell status-X" data-machine-cell="MACHINE/PGMAJOR">`; `data-cell` is the platform
/// matrix's, so a page showing both has one element per `data-cell` value).
#[component]
pub fn MachineGridTable(
    /// The latest run per machine and major of the extension (or version).
    runs: Vec<RunSummary>,
) -> impl IntoView {
    let grid = MachineGrid::from_runs(&runs);
    if grid.rows.is_empty() {
        return view! { <Empty message="No runs."/> }.into_any();
    }
    let head = grid
        .majors
        .iter()
        .map(|major| view! { <th scope="col">{format!("PG {major}")}</th> })
        .collect_view();
    let rows = grid
        .rows
        .into_iter()
        .map(|(machine, slots)| {
            let machine_href = format!("/machines/{}", segment(&machine));
            let cells = slots
                .into_iter()
                .map(|slot| match slot {
                    Some(run) => {
                        let verdict = run_verdict(&run);
                        let class = format!("cell {}", status_class(verdict.word.as_str()));
                        let key = format!("{}/{}", run.machine, run.pg_major);
                        let href = format!("/runs/{}", segment(&run.uuid));
                        view! {
                            <td>
                                <a class=class data-machine-cell=key href=href>
                                    <span class="cell-verdict">
                                        <span aria-hidden="true">{status_icon(verdict.word.as_str())}</span>
                                        " "
                                        {verdict.label}
                                    </span>
                                    <span class="cell-version">{run.version}</span>
                                    <span class="cell-ago">
                                        <RelativeTime when=Some(run.created_at)/>
                                    </span>
                                </a>
                            </td>
                        }
                        .into_any()
                    }
                    None => view! {
                        <td class="cell-none">
                            <span aria-label="no run">"—"</span>
                        </td>
                    }
                    .into_any(),
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">
                        <a href=machine_href>{machine}</a>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="matrix machine-grid">
                <thead>
                    <tr>
                        <th scope="col">"Machine"</th>
                        {head}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Badge snippets for an extension, in read-only fields that select themselves on focus.
#[component]
pub fn BadgeSnippets(
    /// Extension name.
    extension: String,
    /// PostgreSQL majors with runs.
    majors: Vec<i64>,
) -> impl IntoView {
    let items = badge_snippets(&origin(), &extension, &majors)
        .into_iter()
        .map(|badge| {
            view! {
                <li class="badge-snippet">
                    <h3>{badge.title}</h3>
                    <img src=badge.image_url alt="" loading="lazy"/>
                    <label>
                        "Markdown"
                        <textarea readonly rows="2" on:focus=select_all>
                            {badge.markdown}
                        </textarea>
                    </label>
                    <label>
                        "HTML"
                        <textarea readonly rows="2" on:focus=select_all>
                            {badge.html}
                        </textarea>
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="badges" aria-labelledby="badges-title">
            <h2 id="badges-title">"Badges"</h2>
            <p class="muted">"Select a snippet (it selects itself) and copy it into your README."</p>
            <ul class="badge-list">{items}</ul>
        </section>
    }
}

/// Selects a text field's content when it gets focus (copy hint for snippets and secrets).
pub fn select_all(ev: leptos::ev::FocusEvent) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        if let Some(area) =
            ev.target().and_then(|target| target.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        {
            area.select();
        } else if let Some(input) =
            ev.target().and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = ev;
}

fn extension_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("extension").unwrap_or_default()))
}

fn runs_of(extension: String, version: Option<String>) -> RunFilters {
    RunFilters { extension: Some(extension), version, ..RunFilters::default() }
}

/// `/extensions/:extension`: versions, platform matrix, machine grid, badges, feed.
#[component]
pub fn ExtensionPage() -> impl IntoView {
    let extension = extension_param();
    Effect::new(move |_| set_title(&extension.get()));
    let detail: Remote<ExtensionDetail> = LocalResource::new(move || {
        let path = format!(crate::api!("/extensions/{}"), segment(&extension.get()));
        async move { get_json::<ExtensionDetail>(&path).await }
    });
    let runs: Remote<Vec<RunSummary>> =
        LocalResource::new(move || grid_runs(extension.get(), None));
    view! {
        <section class="page" data-page="extension">
            <h1>{move || extension.get()}</h1>
            <p class="page-links">
                <a href=move || format!("/runs{}", runs_of(extension.get(), None).query())>
                    "All runs"
                </a>
                " · "
                <a href=move || {
                    format!("/failures{}", to_query(&[("extension", extension.get())]))
                }>"Failures"</a>
                " · "
                <a href=move || {
                    format!(crate::api!("/extensions/{}/feed.atom"), segment(&extension.get()))
                }>"Atom feed of status changes"</a>
            </p>
            {remote_view(
                detail,
                "the extension",
                |detail: ExtensionDetail| {
                    view! {
                        <h2>"Latest run per PostgreSQL major and platform"</h2>
                        <MatrixTable cells=detail.cells platform=None/>
                    }
                },
            )}
            <h2>"Latest run per machine and PostgreSQL major"</h2>
            {remote_view(
                runs,
                "the machine grid",
                |runs: Vec<RunSummary>| view! { <MachineGridTable runs=runs/> },
            )}
            {remote_view(
                detail,
                "the versions",
                move |detail: ExtensionDetail| {
                    let mut majors: Vec<i64> = detail.cells.iter().map(|c| c.pg_major).collect();
                    majors.sort_unstable();
                    majors.dedup();
                    let name = detail.name.clone();
                    let releases = detail.releases.clone();
                    let status_of = move |version: &str| {
                        releases
                            .iter()
                            .find(|release| release.version == version)
                            .map(|release| release.release_status.clone())
                    };
                    let versions = detail
                        .versions
                        .into_iter()
                        .map(|version| {
                            let status = status_of(&version.version)
                                .map(|status| view! { <ReleaseStatusBadge status=status/> });
                            let href = format!(
                                "/extensions/{}/versions/{}",
                                segment(&name),
                                segment(&version.version),
                            );
                            let word = if version.n_failed > 0 { "failed" } else { "ok" };
                            view! {
                                <tr>
                                    <th scope="row">
                                        <a href=href>{version.version}</a>
                                    </th>
                                    <td>{status}</td>
                                    <td>{version.n_runs}</td>
                                    <td>
                                        <StatusBadge status=word label=version.n_failed.to_string()/>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <h2>"Versions"</h2>
                        <div class="table-scroll">
                            <table class="versions">
                                <thead>
                                    <tr>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"Release status"</th>
                                        <th scope="col">"Runs"</th>
                                        <th scope="col">"Failed runs"</th>
                                    </tr>
                                </thead>
                                <tbody>{versions}</tbody>
                            </table>
                        </div>
                        {(!detail.releases.is_empty()).then(|| {
                            view! {
                                <h2>"Releases"</h2>
                                <ReleasesTable releases=detail.releases.clone()/>
                            }
                        })}
                        <BadgeSnippets extension=detail.name majors=majors/>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}

/// `/extensions/:extension/versions/:version`: the machine grid for that version.
#[component]
pub fn ExtensionVersionPage() -> impl IntoView {
    let extension = extension_param();
    let params = use_params_map();
    let version = Memo::new(move |_| params.with(|p| p.get("version").unwrap_or_default()));
    Effect::new(move |_| set_title(&format!("{} {}", extension.get(), version.get())));
    let runs: Remote<Vec<RunSummary>> =
        LocalResource::new(move || grid_runs(extension.get(), Some(version.get())));
    let detail: Remote<ExtensionDetail> = LocalResource::new(move || {
        let path = format!(crate::api!("/extensions/{}"), segment(&extension.get()));
        async move { get_json::<ExtensionDetail>(&path).await }
    });
    view! {
        <section class="page" data-page="extension-version">
            <h1>
                <a href=move || format!("/extensions/{}", segment(&extension.get()))>
                    {move || extension.get()}
                </a>
                " "
                {move || version.get()}
            </h1>
            <p class="page-links">
                <a href=move || {
                    format!("/runs{}", runs_of(extension.get(), Some(version.get())).query())
                }>"All runs of this version"</a>
            </p>
            {remote_view(
                detail,
                "the release",
                move |detail: ExtensionDetail| {
                    let wanted = version.get_untracked();
                    detail
                        .releases
                        .into_iter()
                        .find(|release| release.version == wanted)
                        .map(|release| view! { <ReleaseFacts release=release/> })
                },
            )}
            <h2>"Latest run per machine and PostgreSQL major"</h2>
            {remote_view(
                runs,
                "the machine grid",
                |runs: Vec<RunSummary>| {
                    if runs.is_empty() {
                        view! { <Empty message="No runs of this version."/> }.into_any()
                    } else {
                        view! { <MachineGridTable runs=runs/> }.into_any()
                    }
                },
            )}
        </section>
    }
}
