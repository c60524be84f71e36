//! Overview: the status matrix, extension x PostgreSQL major, one row per platform (or one
//! platform picked with `?platform=`), each cell the latest run's verdict with its age.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::api::MatrixCell;

use crate::api::{get_json, segment};
use crate::components::filter_bar::{SelectFilter, word_options};
use crate::components::remote::{Remote, now_ms, query_pairs, remote_view, set_title};
use crate::components::states::Empty;
use crate::components::status::{StatusBadge, status_class, status_icon};
use crate::logic::filters::{MatrixFilters, RELEASE_STATUSES};
use crate::logic::matrix::{Matrix, cell_verdict, count_by_word, platforms};
use crate::logic::time_ago::{absolute_utc, time_ago_or_unknown};

/// One matrix cell: a link to the run, classed by status, with the verdict and the age.
#[component]
pub fn MatrixCellLink(
    /// The cell.
    cell: MatrixCell,
    /// Now, in Unix milliseconds.
    now: i64,
) -> impl IntoView {
    let verdict = cell_verdict(&cell);
    let class = format!("cell {}", status_class(verdict.word.as_str()));
    let key = format!("{}/{}/{}", cell.extension, cell.pg_major, cell.platform);
    let href = format!("/runs/{}", segment(&cell.run));
    let ago = time_ago_or_unknown(Some(&cell.when), now);
    let title = format!(
        "{} {}{} on PostgreSQL {} ({}): {}, {}",
        cell.extension,
        cell.version,
        cell.release_status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
        cell.pg_major,
        cell.platform,
        verdict.label,
        absolute_utc(&cell.when)
    );
    view! {
        <a class=class data-cell=key href=href title=title>
            <span class="cell-verdict">
                <span aria-hidden="true">{status_icon(verdict.word.as_str())}</span>
                " "
                {verdict.label}
            </span>
            <span class="cell-version">{cell.version}</span>
            <span class="cell-ago">{ago}</span>
        </a>
    }
}

/// The matrix table for a set of cells (used by the overview and the extension page).
#[component]
pub fn MatrixTable(
    /// Cells from the API.
    cells: Vec<MatrixCell>,
    /// Only this platform, if set.
    platform: Option<String>,
) -> impl IntoView {
    let now = now_ms();
    let matrix = Matrix::from_cells(&cells, platform.as_deref());
    if matrix.rows.is_empty() {
        return view! { <Empty message="No runs match."/> }.into_any();
    }
    let head = matrix
        .majors
        .iter()
        .map(|major| view! { <th scope="col">{format!("PG {major}")}</th> })
        .collect_view();
    let rows = matrix
        .rows
        .into_iter()
        .map(|row| {
            let ext_href = format!("/extensions/{}", segment(&row.extension));
            let cells = row
                .cells
                .into_iter()
                .map(|slot| match slot {
                    Some(cell) => view! {
                        <td>
                            <MatrixCellLink cell=cell now=now/>
                        </td>
                    }
                    .into_any(),
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
                        <a href=ext_href>{row.extension}</a>
                    </th>
                    <td class="platform">{row.platform}</td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="matrix">
                <thead>
                    <tr>
                        <th scope="col">"Extension"</th>
                        <th scope="col">"Platform"</th>
                        {head}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The legend: what each status means, with the number of cells in it.
#[component]
pub fn MatrixLegend(
    /// Cells counted.
    cells: Vec<MatrixCell>,
) -> impl IntoView {
    let counts = count_by_word(&cells);
    let count_of =
        move |word: &str| counts.iter().find(|(w, _)| *w == word).map(|(_, n)| *n).unwrap_or(0);
    let items = [
        ("ok", "every stage that ran passed"),
        ("failed", "the extension failed: the first failed stage is named (build, install, load, regress, tap, upgrade)"),
        ("error", "pgfarm or the machine failed; says nothing about the extension"),
        ("interrupted", "the run was stopped before it finished"),
    ]
    .into_iter()
    .map(|(word, meaning)| {
        let n = count_of(word);
        view! {
            <li>
                <StatusBadge status=word/>
                " "
                {meaning}
                <span class="muted">{format!(" ({n})")}</span>
            </li>
        }
    })
    .collect_view();
    view! {
        <section class="legend" aria-label="Legend">
            <ul>{items}</ul>
            <p class="muted">
                "Each cell is the latest run of the extension on that PostgreSQL major and platform; "
                "“—” means no run yet. Stages with no tests to run count as missing, not failed."
            </p>
        </section>
    }
}

/// `/`: the matrix.
#[component]
pub fn OverviewPage() -> impl IntoView {
    set_title("Matrix");
    let query = use_query_map();
    let matrix: Remote<Vec<MatrixCell>> =
        LocalResource::new(|| async { get_json::<Vec<MatrixCell>>(crate::api!("/matrix")).await });
    view! {
        <section class="page" data-page="overview">
            <h1>"Extension status by PostgreSQL version"</h1>
            {remote_view(
                matrix,
                "the matrix",
                move |cells: Vec<MatrixCell>| {
                    if cells.is_empty() {
                        return view! {
                            <Empty message="No runs yet. Machines send them with `pgfarm submit`."/>
                        }
                            .into_any();
                    }
                    let platform_options = word_options(
                        platforms(&cells).iter().map(String::as_str),
                    );
                    let legend_cells = cells.clone();
                    view! {
                        <div class="filters">
                            <SelectFilter
                                key="platform"
                                label="Platform"
                                options=platform_options
                                any="all platforms"
                            />
                            <SelectFilter
                                key="release_status"
                                label="Release status"
                                options=word_options(RELEASE_STATUSES)
                                any="any status"
                            />
                        </div>
                        {move || {
                            let filters = query.with(|q| {
                                let pairs = query_pairs(q);
                                MatrixFilters::from_pairs(
                                    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                                )
                            });
                            let shown: Vec<MatrixCell> =
                                cells.iter().filter(|cell| filters.keeps(cell)).cloned().collect();
                            view! { <MatrixTable cells=shown platform=filters.platform/> }
                        }}
                        <MatrixLegend cells=legend_cells/>
                    }
                        .into_any()
                },
            )}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use pgfarm_model::api::MatrixCell;

    use super::{MatrixLegend, MatrixTable};

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

    #[test]
    fn real_matrix_renders_cells_with_the_e2e_conventions() {
        let cells: Vec<MatrixCell> =
            serde_json::from_str(include_str!("../logic/fixtures/matrix.json")).unwrap();
        let html = Owner::new()
            .with(|| view! { <MatrixTable cells=cells.clone() platform=None/> }.to_html());
        for cell in &cells {
            let key =
                format!("data-cell=\"{}/{}/{}\"", cell.extension, cell.pg_major, cell.platform);
            assert!(html.contains(&key), "{key} missing");
            assert!(html.contains(&format!("href=\"/runs/{}\"", cell.run)));
        }
        assert!(html.contains("class=\"cell status-failed\""), "{html}");
        assert!(html.contains("failed at tap"));
        let legend = Owner::new().with(|| view! { <MatrixLegend cells=cells/> }.to_html());
        assert!(legend.contains("status-interrupted"));
    }

    #[test]
    fn hostile_matrix_cells_render_as_text() {
        let cell = MatrixCell {
            extension: HOSTILE.into(),
            pg_major: 17,
            platform: HOSTILE.into(),
            version: HOSTILE.into(),
            status: pgfarm_model::RunStatus::Ok,
            failed_stage: None,
            tested: true,
            n_tests: 1,
            run: HOSTILE.into(),
            when: HOSTILE.into(),
            release_status: Some(HOSTILE.into()),
        };
        let html =
            Owner::new().with(|| view! { <MatrixTable cells=vec![cell] platform=None/> }.to_html());
        crate::components::run_table::tests::assert_inert(&html);
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
