//! The numbers behind the trends charts: `/api/v1/trends` points grouped into runs per day by
//! status, pass rate per PostgreSQL major per day, and runs per major; `/api/v1/trends/stages`
//! points as the mean duration of each stage per day; plus the CSS colour parser the charts use
//! to read the theme's variables.

use std::collections::BTreeMap;

use pgfarm_model::api::{StageTrendPoint, TrendPoint};
use pgfarm_model::{RunStatus, StageKind};
use time::{Date, Month};

/// Run counts per day, one series per status (stacked in the chart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunsPerDay {
    /// Every day from the first to the last day with runs, `YYYY-MM-DD`, days without runs
    /// included (with zero counts) so the axis is even.
    pub days: Vec<String>,
    /// One series per status, in `RunStatus::ALL` order: `counts[day]`.
    pub series: Vec<(RunStatus, Vec<i64>)>,
}

impl RunsPerDay {
    /// Groups the points (any PostgreSQL major) by day and status.
    pub fn from_points(points: &[TrendPoint]) -> RunsPerDay {
        let days = day_axis(points.iter().map(|p| p.day.as_str()));
        let index: BTreeMap<&str, usize> =
            days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
        let series = RunStatus::ALL
            .iter()
            .map(|&status| {
                let mut counts = vec![0; days.len()];
                for point in points.iter().filter(|p| p.status == status) {
                    if let Some(&i) = index.get(point.day.as_str()) {
                        counts[i] += point.n_runs;
                    }
                }
                (status, counts)
            })
            .collect();
        RunsPerDay { days, series }
    }

    /// The highest day total (the y axis range).
    pub fn max_total(&self) -> i64 {
        (0..self.days.len())
            .map(|day| self.series.iter().map(|(_, counts)| counts[day]).sum::<i64>())
            .max()
            .unwrap_or(0)
    }
}

/// Share of `ok` runs per day for one PostgreSQL major.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRate {
    /// The PostgreSQL major version.
    pub pg_major: i64,
    /// `(day index into the day axis, ok / all runs)`, only for days with runs of this major.
    pub points: Vec<(usize, f64)>,
    /// Runs of this major over the whole period.
    pub n_runs: i64,
    /// `ok` runs of this major over the whole period.
    pub n_ok: i64,
}

/// The pass rate series of every major (ascending), on the same day axis as [`RunsPerDay`].
pub fn pass_rates(points: &[TrendPoint]) -> (Vec<String>, Vec<PassRate>) {
    let days = day_axis(points.iter().map(|p| p.day.as_str()));
    let index: BTreeMap<&str, usize> =
        days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
    // major -> day -> (ok, all)
    let mut by_major: BTreeMap<i64, BTreeMap<usize, (i64, i64)>> = BTreeMap::new();
    for point in points {
        let Some(&day) = index.get(point.day.as_str()) else { continue };
        let entry = by_major.entry(point.pg_major).or_default().entry(day).or_default();
        entry.1 += point.n_runs;
        if point.status == RunStatus::Ok {
            entry.0 += point.n_runs;
        }
    }
    let rates = by_major
        .into_iter()
        .map(|(pg_major, per_day)| {
            let n_runs = per_day.values().map(|(_, all)| all).sum();
            let n_ok = per_day.values().map(|(ok, _)| ok).sum();
            let points = per_day
                .into_iter()
                .filter(|(_, (_, all))| *all > 0)
                .map(|(day, (ok, all))| (day, ok as f64 / all as f64))
                .collect();
            PassRate { pg_major, points, n_runs, n_ok }
        })
        .collect();
    (days, rates)
}

/// Runs per PostgreSQL major (ascending) and status over the whole period.
pub fn runs_per_major(points: &[TrendPoint]) -> Vec<(i64, Vec<(RunStatus, i64)>)> {
    let mut by_major: BTreeMap<i64, Vec<(RunStatus, i64)>> = BTreeMap::new();
    for point in points {
        let entry = by_major
            .entry(point.pg_major)
            .or_insert_with(|| RunStatus::ALL.iter().map(|&s| (s, 0)).collect());
        if let Some(slot) = entry.iter_mut().find(|(s, _)| *s == point.status) {
            slot.1 += point.n_runs;
        }
    }
    by_major.into_iter().collect()
}

/// The mean duration of each stage per day, over the runs in which it ran (every PostgreSQL
/// major, or one).
#[derive(Debug, Clone, PartialEq)]
pub struct StageDurations {
    /// Every day from the first to the last day with points, `YYYY-MM-DD`.
    pub days: Vec<String>,
    /// One series per stage that ran in the period, in run order.
    pub series: Vec<StageSeries>,
}

/// One stage's durations on the day axis of [`StageDurations`].
#[derive(Debug, Clone, PartialEq)]
pub struct StageSeries {
    /// The stage.
    pub stage: StageKind,
    /// `(day index, mean seconds)` for days on which the stage ran.
    pub points: Vec<(usize, f64)>,
    /// Runs in which it ran over the period.
    pub n_runs: i64,
    /// Mean seconds over the period.
    pub mean_s: f64,
    /// The longest single duration over the period, in seconds.
    pub max_s: f64,
}

impl StageDurations {
    /// Sums the points of every major (or of `pg_major` only) per stage and day, then divides.
    pub fn from_points(points: &[StageTrendPoint], pg_major: Option<i64>) -> StageDurations {
        let points: Vec<&StageTrendPoint> =
            points.iter().filter(|p| pg_major.is_none_or(|m| p.pg_major == m)).collect();
        let days = day_axis(points.iter().map(|p| p.day.as_str()));
        let index: BTreeMap<&str, usize> =
            days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
        // stage -> day -> (runs, total ms); stage -> max ms
        let mut sums: BTreeMap<StageKind, BTreeMap<usize, (i64, i64)>> = BTreeMap::new();
        let mut longest: BTreeMap<StageKind, i64> = BTreeMap::new();
        for point in points {
            let Some(&day) = index.get(point.day.as_str()) else { continue };
            let entry = sums.entry(point.stage).or_default().entry(day).or_default();
            entry.0 += point.n_runs;
            entry.1 += point.total_ms;
            let max = longest.entry(point.stage).or_default();
            *max = (*max).max(point.max_ms);
        }
        let series = sums
            .into_iter()
            .map(|(stage, per_day)| {
                let n_runs: i64 = per_day.values().map(|(n, _)| n).sum();
                let total_ms: i64 = per_day.values().map(|(_, t)| t).sum();
                let points = per_day
                    .into_iter()
                    .filter(|(_, (n, _))| *n > 0)
                    .map(|(day, (n, total))| (day, total as f64 / n as f64 / 1000.0))
                    .collect();
                StageSeries {
                    stage,
                    points,
                    n_runs,
                    mean_s: if n_runs > 0 { total_ms as f64 / n_runs as f64 / 1000.0 } else { 0.0 },
                    max_s: longest.get(&stage).copied().unwrap_or(0) as f64 / 1000.0,
                }
            })
            .collect();
        StageDurations { days, series }
    }

    /// The highest daily mean (the y axis range), in seconds.
    pub fn max_mean(&self) -> f64 {
        self.series.iter().flat_map(|s| s.points.iter().map(|(_, v)| *v)).fold(0.0, f64::max)
    }

    /// PostgreSQL majors present in the points, ascending (the chart's filter choices).
    pub fn majors(points: &[StageTrendPoint]) -> Vec<i64> {
        let mut majors: Vec<i64> = points.iter().map(|p| p.pg_major).collect();
        majors.sort_unstable();
        majors.dedup();
        majors
    }
}

/// Every day from the earliest to the latest day in the points (at most 3660 days; unparsable
/// days are listed after, as they are).
fn day_axis<'a>(input: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let mut parsed: Vec<Date> = input.clone().filter_map(parse_day).collect();
    parsed.sort();
    let mut days = Vec::new();
    if let (Some(&first), Some(&last)) = (parsed.first(), parsed.last()) {
        let mut day = first;
        while day <= last && days.len() < 3660 {
            days.push(format_day(day));
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    let mut odd: Vec<String> =
        input.filter(|d| parse_day(d).is_none()).map(str::to_owned).collect();
    odd.sort();
    odd.dedup();
    days.extend(odd);
    days
}

/// `YYYY-MM-DD` as a date.
pub fn parse_day(text: &str) -> Option<Date> {
    let mut parts = text.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn format_day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A CSS colour as `getComputedStyle(...).getPropertyValue("--ok")` returns it: `#rgb`,
/// `#rrggbb`, `#rrggbbaa` (alpha dropped), `rgb(r, g, b)` / `rgba(...)` / `rgb(r g b / a)`.
pub fn parse_css_color(text: &str) -> Option<(u8, u8, u8)> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        let digit = |i: usize| u8::from_str_radix(hex.get(i..i + 1)?, 16).ok();
        let pair = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        return match hex.len() {
            3 | 4 => Some((digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 | 8 => Some((pair(0)?, pair(2)?, pair(4)?)),
            _ => None,
        };
    }
    let inner =
        text.strip_prefix("rgba(").or_else(|| text.strip_prefix("rgb("))?.strip_suffix(')')?;
    let mut channels = inner
        .split(|c: char| c == ',' || c == '/' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<f64>().ok().map(|v| v.clamp(0.0, 255.0).round() as u8));
    Some((channels.next()??, channels.next()??, channels.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: &str, pg_major: i64, status: RunStatus, n_runs: i64) -> TrendPoint {
        TrendPoint { day: day.to_owned(), pg_major, status, n_runs }
    }

    fn sample() -> Vec<TrendPoint> {
        vec![
            point("2026-11-20", 16, RunStatus::Ok, 3),
            point("2026-11-20", 17, RunStatus::Failed, 1),
            point("2026-11-22", 17, RunStatus::Ok, 2),
            point("2026-11-22", 17, RunStatus::Failed, 2),
            point("2026-11-22", 16, RunStatus::Error, 1),
        ]
    }

    #[test]
    fn runs_per_day_fills_missing_days_and_stacks_statuses() {
        let runs = RunsPerDay::from_points(&sample());
        assert_eq!(runs.days, ["2026-11-20", "2026-11-21", "2026-11-22"]);
        let ok = &runs.series.iter().find(|(s, _)| *s == RunStatus::Ok).unwrap().1;
        let failed = &runs.series.iter().find(|(s, _)| *s == RunStatus::Failed).unwrap().1;
        assert_eq!((ok.as_slice(), failed.as_slice()), (&[3, 0, 2][..], &[1, 0, 2][..]));
        assert_eq!(runs.max_total(), 5);
        assert_eq!(RunsPerDay::from_points(&[]).max_total(), 0);
    }

    #[test]
    fn pass_rate_is_ok_over_all_runs_per_major_and_day() {
        let (days, rates) = pass_rates(&sample());
        assert_eq!(days.len(), 3);
        let majors: Vec<i64> = rates.iter().map(|r| r.pg_major).collect();
        assert_eq!(majors, [16, 17]);
        assert_eq!(rates[1].points, [(0, 0.0), (2, 0.5)]);
        assert_eq!(rates[0].points, [(0, 1.0), (2, 0.0)]);
        assert_eq!((rates[1].n_ok, rates[1].n_runs), (2, 5));
    }

    #[test]
    fn runs_per_major_counts_every_status() {
        let per_major = runs_per_major(&sample());
        assert_eq!(per_major[0].0, 16);
        let seventeen: i64 = per_major[1].1.iter().map(|(_, n)| n).sum();
        assert_eq!(seventeen, 5);
    }

    fn stage(
        day: &str,
        pg_major: i64,
        stage: StageKind,
        n: i64,
        total: i64,
        max: i64,
    ) -> StageTrendPoint {
        StageTrendPoint {
            day: day.to_owned(),
            pg_major,
            stage,
            n_runs: n,
            total_ms: total,
            max_ms: max,
        }
    }

    #[test]
    fn stage_durations_are_means_over_every_major_or_one() {
        let points = vec![
            stage("2026-11-20", 17, StageKind::Build, 2, 3_000, 2_000),
            stage("2026-11-20", 18, StageKind::Build, 1, 3_000, 3_000),
            stage("2026-11-22", 17, StageKind::Build, 1, 1_000, 1_000),
            stage("2026-11-22", 17, StageKind::Regress, 4, 10_000, 4_000),
        ];
        let all = StageDurations::from_points(&points, None);
        assert_eq!(all.days, ["2026-11-20", "2026-11-21", "2026-11-22"]);
        assert_eq!(all.series.len(), 2);
        let build = &all.series[0];
        assert_eq!(build.stage, StageKind::Build);
        // Day 0: (3000 + 3000) ms over 3 runs; no point on the day without runs.
        assert_eq!(build.points, [(0, 2.0), (2, 1.0)]);
        assert_eq!((build.n_runs, build.mean_s, build.max_s), (4, 1.75, 3.0));
        assert_eq!(all.series[1].stage, StageKind::Regress);
        assert_eq!(all.max_mean(), 2.5);
        let eighteen = StageDurations::from_points(&points, Some(18));
        assert_eq!(eighteen.days, ["2026-11-20"]);
        assert_eq!(eighteen.series[0].points, [(0, 3.0)]);
        assert_eq!(StageDurations::majors(&points), [17, 18]);
        assert!(StageDurations::from_points(&[], None).series.is_empty());
    }

    #[test]
    fn real_server_stage_trends_answer_decodes() {
        // The shape of `GET /api/v1/trends/stages` (docs/api.md).
        let json = r#"[{"day":"2026-11-22","pg_major":17,"stage":"tap","n_runs":2,
                        "total_ms":900,"max_ms":600}]"#;
        let points: Vec<StageTrendPoint> = serde_json::from_str(json).unwrap();
        let durations = StageDurations::from_points(&points, None);
        assert_eq!(durations.series[0].points, [(0, 0.45)]);
    }

    #[test]
    fn a_month_boundary_and_a_leap_day_are_on_the_axis() {
        let runs = RunsPerDay::from_points(&[
            point("2028-02-28", 17, RunStatus::Ok, 1),
            point("2028-03-01", 17, RunStatus::Ok, 1),
        ]);
        assert_eq!(runs.days, ["2028-02-28", "2028-02-29", "2028-03-01"]);
    }

    #[test]
    fn css_colours_in_every_form_getcomputedstyle_returns() {
        assert_eq!(parse_css_color(" #1a7f37"), Some((0x1a, 0x7f, 0x37)));
        assert_eq!(parse_css_color("#fff"), Some((255, 255, 255)));
        assert_eq!(parse_css_color("#11223344"), Some((0x11, 0x22, 0x33)));
        assert_eq!(parse_css_color("rgb(10, 20, 30)"), Some((10, 20, 30)));
        assert_eq!(parse_css_color("rgba(10, 20, 30, 0.5)"), Some((10, 20, 30)));
        assert_eq!(parse_css_color("rgb(10 20 30 / 50%)"), Some((10, 20, 30)));
        assert_eq!(parse_css_color("red"), None);
        assert_eq!(parse_css_color("#12"), None);
        assert_eq!(parse_css_color(""), None);
    }

    #[test]
    fn real_server_trends_answer_decodes_and_aggregates() {
        // The shape pgfarm-server returns (docs/api.md): a JSON array of points.
        let json = r#"[{"day":"2026-11-21","pg_major":15,"status":"ok","n_runs":4},
                       {"day":"2026-11-22","pg_major":15,"status":"failed","n_runs":1}]"#;
        let points: Vec<TrendPoint> = serde_json::from_str(json).unwrap();
        let (_, rates) = pass_rates(&points);
        assert_eq!(rates[0].points, [(0, 1.0), (1, 0.0)]);
    }
}
