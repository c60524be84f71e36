//! Trends: charts drawn with plotters on a canvas from `/api/v1/trends?days=N&extension=E` (runs
//! per day by status, pass rate per PostgreSQL major, runs per major) and
//! `/api/v1/trends/stages` (mean stage durations per day), `/api/v1/trends/causes` (failed and
//! error runs per failure cause over the period), and the counts of `/api/v1/stats`.
//! The period (`days`), the extension and the major of the durations chart (`pg`) live in the
//! URL.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::api::{CauseTrendPoint, StageTrendPoint, Stats, TrendPoint};

use crate::api::get_json;
use crate::components::charts::{
    Chart, DrawFn, draw_pass_rates, draw_runs_per_day, draw_runs_per_major, draw_stage_durations,
};
use crate::components::filter_bar::{SelectFilter, TextFilter};
use crate::components::remote::{Remote, remote_view, set_title};
use crate::components::states::Empty;
use crate::logic::causes;
use crate::logic::filters::{encode_component, to_query};
use crate::logic::trends::{RunsPerDay, StageDurations, pass_rates, runs_per_major};

/// The periods offered, in days; the API accepts 1..=3660.
pub const PERIODS: [u32; 5] = [7, 30, 90, 365, 3660];

/// The `days` query value as a period the API accepts (30 when absent or wrong).
pub fn period(days: Option<&str>) -> u32 {
    days.and_then(|d| d.trim().parse::<u32>().ok()).filter(|d| (1..=3660).contains(d)).unwrap_or(30)
}

fn charts(points: Vec<TrendPoint>) -> impl IntoView {
    if points.is_empty() {
        return view! { <Empty message="No runs in this period."/> }.into_any();
    }
    let per_day = Arc::new(RunsPerDay::from_points(&points));
    let (days, rates) = pass_rates(&points);
    let rates = Arc::new((days, rates));
    let per_major = Arc::new(runs_per_major(&points));
    let draw_days: DrawFn =
        Arc::new(move |canvas, theme| draw_runs_per_day(canvas, theme, &per_day));
    let draw_rates: DrawFn =
        Arc::new(move |canvas, theme| draw_pass_rates(canvas, theme, &rates.0, &rates.1));
    let draw_majors: DrawFn =
        Arc::new(move |canvas, theme| draw_runs_per_major(canvas, theme, &per_major));
    view! {
        <div class="charts">
            <Chart name="runs-per-day" label="Runs per day by status" draw=draw_days/>
            <Chart name="pass-rate" label="Pass rate per PostgreSQL major (share of runs ok)" draw=draw_rates/>
            <Chart name="runs-per-major" label="Runs per PostgreSQL major by status" draw=draw_majors/>
        </div>
    }
    .into_any()
}

/// The stage durations chart, over every major or the one in `pg`, with its major choice.
fn stage_chart(points: Vec<StageTrendPoint>, pg: Option<i64>) -> impl IntoView {
    let majors = StageDurations::majors(&points)
        .into_iter()
        .map(|m| (m.to_string(), format!("PG {m}")))
        .collect::<Vec<_>>();
    let durations = StageDurations::from_points(&points, pg);
    let body = if durations.series.is_empty() {
        view! { <Empty message="No stage ran in this period."/> }.into_any()
    } else {
        let label = match pg {
            Some(major) => format!("Mean stage durations per day on PostgreSQL {major}"),
            None => "Mean stage durations per day (every PostgreSQL major)".to_owned(),
        };
        let durations = Arc::new(durations);
        let draw: DrawFn =
            Arc::new(move |canvas, theme| draw_stage_durations(canvas, theme, &durations));
        view! {
            <div class="charts">
                <Chart name="stage-durations" label=label draw=draw/>
            </div>
        }
        .into_any()
    };
    view! {
        <h2>"Stage durations"</h2>
        <form class="filters" on:submit=|ev| ev.prevent_default()>
            <SelectFilter key="pg" label="PostgreSQL" options=majors any="every major"/>
        </form>
        {body}
    }
}

/// Failed and error runs per cause over the period, most frequent first, each linking to the
/// failures of that cause ("unknown cause" included and said as such).
pub fn cause_table(points: Vec<CauseTrendPoint>, days: u32) -> AnyView {
    let totals = causes::totals(&points);
    if totals.is_empty() {
        return view! {
            <h2>"Failure causes"</h2>
            <Empty message="No failed runs in this period."/>
        }
        .into_any();
    }
    let all: i64 = totals.iter().map(|(_, n)| n).sum();
    let rows = totals
        .into_iter()
        .map(|(text, n)| {
            let href =
                format!("/failures?days={}&cause={}", days.min(3660), encode_component(&text.name));
            let share = format!("{:.0} %", 100.0 * n as f64 / all as f64);
            view! {
                <tr data-cause=text.name.clone()>
                    <th scope="row">
                        <a href=href title=text.sentence.clone()>{text.label}</a>
                    </th>
                    <td class="num">{n}</td>
                    <td class="num">{share}</td>
                    <td class="muted">{text.sentence}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Failure causes"</h2>
        <div class="table-scroll">
            <table class="causes">
                <thead>
                    <tr>
                        <th scope="col">"Cause"</th>
                        <th scope="col">"Runs"</th>
                        <th scope="col">"Share"</th>
                        <th scope="col">"What it means"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The `/api/v1/trends...` query for a period and an optional extension.
pub fn trends_query(days: u32, extension: &str) -> String {
    to_query(&[("days", days.to_string()), ("extension", extension.to_owned())])
}

fn stats_view(stats: Stats) -> impl IntoView {
    let items = [
        ("runs", stats.n_runs),
        ("machines", stats.n_machines),
        ("extensions", stats.n_extensions),
        ("test results", stats.n_test_results),
        ("failing cells", stats.n_failing_cells),
    ]
    .into_iter()
    .map(|(label, n)| {
        view! {
            <div class="stat" data-stat=label>
                <dt>{label}</dt>
                <dd>{n}</dd>
            </div>
        }
    })
    .collect_view();
    view! {
        <dl class="stats" aria-describedby="stats-scope">{items}</dl>
        <p id="stats-scope" class="muted">"Totals over every extension and all time."</p>
    }
}

/// `/trends`.
#[component]
pub fn TrendsPage() -> impl IntoView {
    set_title("Trends");
    let query = use_query_map();
    let days = Memo::new(move |_| query.with(|q| period(q.get("days").as_deref())));
    let extension = Memo::new(move |_| {
        query.with(|q| q.get("extension").unwrap_or_default().trim().to_owned())
    });
    let pg = Memo::new(move |_| query.with(|q| q.get("pg").and_then(|v| v.trim().parse().ok())));
    let trends: Remote<Vec<TrendPoint>> = LocalResource::new(move || {
        let path = format!(crate::api!("/trends{}"), trends_query(days.get(), &extension.get()));
        async move { get_json::<Vec<TrendPoint>>(&path).await }
    });
    let stages: Remote<Vec<StageTrendPoint>> = LocalResource::new(move || {
        let path =
            format!(crate::api!("/trends/stages{}"), trends_query(days.get(), &extension.get()));
        async move { get_json::<Vec<StageTrendPoint>>(&path).await }
    });
    let causes: Remote<Vec<CauseTrendPoint>> = LocalResource::new(move || {
        let path =
            format!(crate::api!("/trends/causes{}"), trends_query(days.get(), &extension.get()));
        async move { get_json::<Vec<CauseTrendPoint>>(&path).await }
    });
    let stats: Remote<Stats> =
        LocalResource::new(|| async { get_json::<Stats>(crate::api!("/stats")).await });
    let options = PERIODS
        .iter()
        .map(|d| {
            (d.to_string(), if *d == 3660 { "10 years".to_owned() } else { format!("{d} days") })
        })
        .collect::<Vec<_>>();
    view! {
        <section class="page" data-page="trends">
            <h1>"Trends"</h1>
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <SelectFilter key="days" label="Period" options=options any="30 days"/>
                <TextFilter key="extension" label="Extension"/>
            </form>
            {remote_view(stats, "counts", stats_view)}
            {remote_view(trends, "trends", charts)}
            {remote_view(stages, "stage durations", move |points| stage_chart(points, pg.get()))}
            {remote_view(causes, "failure causes", move |points| cause_table(points, days.get()))}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trends_query_carries_the_extension_only_when_given() {
        assert_eq!(trends_query(30, ""), "?days=30");
        assert_eq!(trends_query(7, "pg_trgm & co"), "?days=7&extension=pg_trgm%20%26%20co");
    }

    #[test]
    fn the_cause_table_counts_each_cause_and_links_to_its_failures() {
        let point = |day: &str, cause: &str, n_runs| CauseTrendPoint {
            day: day.into(),
            pg_major: 17,
            cause: cause.into(),
            n_runs,
        };
        let points = vec![
            point("2026-12-01", "unknown", 1),
            point("2026-12-01", "missing_header", 2),
            point("2026-12-02", "missing_header", 1),
        ];
        let html = Owner::new().with(|| cause_table(points, 90).to_html());
        assert!(html.contains("href=\"/failures?days=90&amp;cause=missing_header\""), "{html}");
        assert!(html.contains(">missing header<"), "{html}");
        assert!(html.contains(">3<") && html.contains("75 %"), "{html}");
        assert!(html.contains(">unknown cause<") && html.contains("25 %"), "{html}");
        let html = Owner::new().with(|| cause_table(Vec::new(), 30).to_html());
        assert!(html.contains("No failed runs in this period."), "{html}");
    }

    #[test]
    fn period_defaults_to_thirty_days_and_refuses_what_the_api_refuses() {
        assert_eq!(period(None), 30);
        assert_eq!(period(Some("7")), 7);
        assert_eq!(period(Some("0")), 30);
        assert_eq!(period(Some("99999")), 30);
        assert_eq!(period(Some("x")), 30);
        assert_eq!(period(Some("3660")), 3660);
    }
}
