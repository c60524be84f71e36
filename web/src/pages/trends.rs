//! Trends: charts drawn with plotters on a canvas from `/api/v1/trends?days=N` (runs per day by
//! status, pass rate per PostgreSQL major, runs per major) and the counts of `/api/v1/stats`.
//! The period (`days`) lives in the URL.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::api::{Stats, TrendPoint};

use crate::api::get_json;
use crate::components::charts::{
    Chart, DrawFn, draw_pass_rates, draw_runs_per_day, draw_runs_per_major,
};
use crate::components::filter_bar::SelectFilter;
use crate::components::remote::{Remote, remote_view, set_title};
use crate::components::states::Empty;
use crate::logic::trends::{RunsPerDay, pass_rates, runs_per_major};

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
        <p class="muted">
            "Stage durations are not charted: the trends API does not report them yet."
        </p>
    }
    .into_any()
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
    view! { <dl class="stats">{items}</dl> }
}

/// `/trends`.
#[component]
pub fn TrendsPage() -> impl IntoView {
    set_title("Trends");
    let query = use_query_map();
    let days = Memo::new(move |_| query.with(|q| period(q.get("days").as_deref())));
    let trends: Remote<Vec<TrendPoint>> = LocalResource::new(move || {
        let path = format!("/api/v1/trends?days={}", days.get());
        async move { get_json::<Vec<TrendPoint>>(&path).await }
    });
    let stats: Remote<Stats> =
        LocalResource::new(|| async { get_json::<Stats>("/api/v1/stats").await });
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
            </form>
            {remote_view(stats, "counts", stats_view)}
            {remote_view(trends, "trends", charts)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
