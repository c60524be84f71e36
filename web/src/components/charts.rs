//! Charts drawn with plotters on a `<canvas data-chart="NAME">`: runs per day by status
//! (stacked bars), pass rate per PostgreSQL major (lines), runs per major by status, mean stage
//! durations per day (lines). Colours
//! come from the theme's CSS variables at draw time; charts redraw when the window resizes or
//! the theme changes.

use std::sync::Arc;

use leptos::prelude::*;
use pgfarm_model::RunStatus;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::HtmlCanvasElement;

use crate::components::layout::SchemeListener;
use crate::logic::durations::format_ms;
use crate::logic::trends::{PassRate, RunsPerDay, StageDurations, parse_css_color};

/// The theme's colours, read from the CSS variables of `<html>`.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// `--bg`.
    pub bg: RGBColor,
    /// `--fg`.
    pub fg: RGBColor,
    /// `--muted`.
    pub muted: RGBColor,
    /// `--border`.
    pub border: RGBColor,
    /// `--ok`.
    pub ok: RGBColor,
    /// `--fail`.
    pub fail: RGBColor,
    /// `--warn`.
    pub warn: RGBColor,
    /// `--skip`.
    pub skip: RGBColor,
    /// `--link`.
    pub link: RGBColor,
}

impl Theme {
    /// Reads the variables now (light defaults for any that cannot be read).
    pub fn read() -> Theme {
        let style = web_sys::window().and_then(|window| {
            let root = window.document()?.document_element()?;
            window.get_computed_style(&root).ok().flatten()
        });
        let get = |name: &str, fallback: (u8, u8, u8)| {
            let (r, g, b) = style
                .as_ref()
                .and_then(|s| s.get_property_value(name).ok())
                .and_then(|v| parse_css_color(&v))
                .unwrap_or(fallback);
            RGBColor(r, g, b)
        };
        Theme {
            bg: get("--bg", (255, 255, 255)),
            fg: get("--fg", (31, 35, 40)),
            muted: get("--muted", (101, 109, 118)),
            border: get("--border", (208, 215, 222)),
            ok: get("--ok", (26, 127, 55)),
            fail: get("--fail", (207, 34, 46)),
            warn: get("--warn", (154, 103, 0)),
            skip: get("--skip", (110, 119, 129)),
            link: get("--link", (9, 105, 218)),
        }
    }

    /// The colour of a run status.
    pub fn status(&self, status: RunStatus) -> RGBColor {
        match status {
            RunStatus::Ok => self.ok,
            RunStatus::Failed => self.fail,
            RunStatus::Error => self.warn,
            RunStatus::Interrupted => self.skip,
        }
    }

    /// A line colour for the `i`th series: the theme's colours, then a purple and a teal that
    /// read on both backgrounds, so the seven stages get seven colours.
    pub fn series(&self, i: usize) -> RGBColor {
        let palette = [
            self.link,
            self.ok,
            self.fail,
            self.warn,
            RGBColor(137, 87, 229),
            RGBColor(27, 140, 150),
            self.skip,
            self.fg,
        ];
        palette[i % palette.len()]
    }
}

/// Draws a chart on a canvas with the current theme.
pub type DrawFn = Arc<dyn Fn(HtmlCanvasElement, &Theme) -> Result<(), String> + Send + Sync>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn font(theme: &Theme) -> TextStyle<'static> {
    ("sans-serif", 13).into_font().color(&theme.fg)
}

/// A canvas with `data-chart=name`, drawn by `draw`, redrawn on resize and theme change.
#[component]
pub fn Chart(
    /// `data-chart` value.
    name: &'static str,
    /// What the chart shows (caption and accessible name).
    #[prop(into)]
    label: String,
    /// The drawing.
    draw: DrawFn,
    /// Height in CSS pixels.
    #[prop(default = 300)]
    height: u32,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let failure = RwSignal::new(None::<String>);
    let redraw = move || {
        let Some(element) = canvas.try_get_untracked().flatten() else { return };
        let width = element.client_width().max(300) as u32;
        element.set_width(width);
        element.set_height(height);
        if let Err(e) = draw(element, &Theme::read()) {
            failure.set(Some(e));
        }
    };
    let first = redraw.clone();
    Effect::new(move |_| {
        if canvas.get().is_some() {
            first();
        }
    });
    let on_resize = redraw.clone();
    let resize = window_event_listener(leptos::ev::resize, move |_| on_resize());
    // The theme switch sets `data-theme` on <html>; the OS theme fires a media query change.
    let observer = StoredValue::new_local(theme_observer(redraw));
    on_cleanup(move || {
        resize.remove();
        observer.try_with_value(|watch| watch.as_ref().map(ThemeWatch::stop));
    });
    view! {
        <figure class="chart">
            <canvas
                node_ref=canvas
                data-chart=name
                role="img"
                aria-label=label.clone()
                height=height
                style=format!("height:{height}px")
            ></canvas>
            <figcaption>{label}</figcaption>
            {move || failure.get().map(|e| view! { <p class="state state-error">{e}</p> })}
        </figure>
    }
}

/// What makes a chart redraw on a theme change; [`ThemeWatch::stop`] detaches it when the chart
/// goes away.
struct ThemeWatch {
    observer: web_sys::MutationObserver,
    _on_attribute: Closure<dyn Fn()>,
    scheme: Option<SchemeListener>,
}

impl ThemeWatch {
    fn stop(&self) {
        self.observer.disconnect();
        if let Some(scheme) = &self.scheme {
            scheme.stop();
        }
    }
}

/// Calls `redraw` when `<html>`'s `data-theme` or the OS colour scheme changes (a listener per
/// chart: every chart of a page redraws).
fn theme_observer(redraw: impl Fn() + Clone + 'static) -> Option<ThemeWatch> {
    let root = web_sys::window()?.document()?.document_element()?;
    let on_attribute = Closure::<dyn Fn()>::new(redraw.clone());
    let observer = web_sys::MutationObserver::new(on_attribute.as_ref().unchecked_ref()).ok()?;
    let options = web_sys::MutationObserverInit::new();
    options.set_attribute_filter(&js_sys::Array::of1(&"data-theme".into()));
    observer.observe_with_options(&root, &options).ok()?;
    Some(ThemeWatch { observer, _on_attribute: on_attribute, scheme: SchemeListener::new(redraw) })
}

/// Runs per day, stacked by status, with a legend.
pub fn draw_runs_per_day(
    canvas: HtmlCanvasElement,
    theme: &Theme,
    data: &RunsPerDay,
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let n = data.days.len().max(1);
    let top = data.max_total().max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d(0..n, 0..top + top * 2 / 5 + 1)
        .map_err(err)?;
    let days = data.days.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(theme.border)
        .light_line_style(theme.border.mix(0.3))
        .axis_style(theme.muted)
        .label_style(font(theme))
        .axis_desc_style(font(theme))
        .x_labels(n.min(8))
        .x_label_formatter(&|x| {
            days.get(*x).map(|d| d.get(5..).unwrap_or(d).to_owned()).unwrap_or_default()
        })
        .x_desc("day (UTC)")
        .y_desc("runs")
        .draw()
        .map_err(err)?;
    let mut base = vec![0_i64; n];
    for (status, counts) in &data.series {
        let color = theme.status(*status);
        let mut bars = Vec::new();
        for (day, &count) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let corners = [(day, base[day]), (day + 1, base[day] + count)];
            bars.push(Rectangle::new(corners, color.filled()));
            bars.push(Rectangle::new(corners, theme.bg.stroke_width(1)));
            base[day] += count;
        }
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(status.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    legend(&mut chart, theme)?;
    root.present().map_err(err)
}

fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    theme: &Theme,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(theme.bg.mix(0.9))
        .border_style(theme.border)
        .label_font(font(theme))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)
}

/// One line of a day chart: legend text, `(day index, value)` points, and the short text drawn
/// at its last point so lines are told apart without colour.
pub struct DayLine {
    /// Legend entry.
    pub label: String,
    /// Points on the day axis.
    pub points: Vec<(usize, f64)>,
    /// Marker text at the last point.
    pub tag: String,
}

/// Lines over a day axis with round markers, a legend and axis descriptions; `y_max` is the top
/// of the data (the axis gets 35% headroom for the legend), `y_label` formats tick values.
fn draw_day_lines(
    canvas: HtmlCanvasElement,
    theme: &Theme,
    days: &[String],
    lines: &[DayLine],
    (y_max, y_desc, y_label): (f64, &str, &dyn Fn(f64) -> String),
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let last = days.len().saturating_sub(1).max(1) as f64;
    let y_max = if y_max > 0.0 { y_max } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.5..last + 0.5, 0.0..y_max * 1.35)
        .map_err(err)?;
    let labels = days.to_vec();
    chart
        .configure_mesh()
        .bold_line_style(theme.border)
        .light_line_style(theme.border.mix(0.3))
        .axis_style(theme.muted)
        .label_style(font(theme))
        .axis_desc_style(font(theme))
        .x_labels(days.len().clamp(2, 8))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            labels.get(i as usize).map(|d| d.get(5..).unwrap_or(d).to_owned()).unwrap_or_default()
        })
        .y_label_formatter(&|y| if *y <= y_max * 1.001 { y_label(*y) } else { String::new() })
        .x_desc("day (UTC)")
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let color = theme.series(i);
        let points: Vec<(f64, f64)> = line.points.iter().map(|&(day, v)| (day as f64, v)).collect();
        chart
            .draw_series(std::iter::once(PathElement::new(points.clone(), color.stroke_width(2))))
            .map_err(err)?
            .label(line.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&(x, y)| Circle::new((x, y), 3, color.filled())))
            .map_err(err)?;
        if let Some(&(x, y)) = points.last() {
            chart
                .draw_series(std::iter::once(Text::new(line.tag.clone(), (x, y), font(theme))))
                .map_err(err)?;
        }
    }
    legend(&mut chart, theme)?;
    root.present().map_err(err)
}

/// Pass rate (ok / all runs, percent) per PostgreSQL major per day, one line per major.
pub fn draw_pass_rates(
    canvas: HtmlCanvasElement,
    theme: &Theme,
    days: &[String],
    rates: &[PassRate],
) -> Result<(), String> {
    let lines: Vec<DayLine> = rates
        .iter()
        .map(|rate| {
            let overall = if rate.n_runs > 0 { 100 * rate.n_ok / rate.n_runs } else { 0 };
            DayLine {
                label: format!("PG {} ({overall}% of {})", rate.pg_major, rate.n_runs),
                points: rate.points.iter().map(|&(day, r)| (day, r * 100.0)).collect(),
                tag: rate.pg_major.to_string(),
            }
        })
        .collect();
    draw_day_lines(canvas, theme, days, &lines, (100.0, "runs ok", &|y| format!("{y:.0}%")))
}

/// Mean duration per stage per day, one line per stage.
pub fn draw_stage_durations(
    canvas: HtmlCanvasElement,
    theme: &Theme,
    durations: &StageDurations,
) -> Result<(), String> {
    // A phone-width canvas gets the short legend (the long one would be cut off).
    let narrow = canvas.width() < 560;
    let lines: Vec<DayLine> = durations
        .series
        .iter()
        .map(|series| DayLine {
            label: if narrow {
                format!("{} {}", series.stage.as_str(), seconds(series.mean_s))
            } else {
                format!(
                    "{} (mean {}, longest {}, {} runs)",
                    series.stage.as_str(),
                    seconds(series.mean_s),
                    seconds(series.max_s),
                    series.n_runs
                )
            },
            points: series.points.clone(),
            tag: series.stage.as_str().to_owned(),
        })
        .collect();
    draw_day_lines(
        canvas,
        theme,
        &durations.days,
        &lines,
        (durations.max_mean(), "mean duration", &seconds),
    )
}

/// Seconds as the dashboard writes durations elsewhere (`850 ms`, `1.2 s`, `1 min 15 s`).
fn seconds(value: f64) -> String {
    format_ms((value * 1000.0).round().max(0.0) as u64)
}

/// Runs per PostgreSQL major, stacked by status.
pub fn draw_runs_per_major(
    canvas: HtmlCanvasElement,
    theme: &Theme,
    per_major: &[(i64, Vec<(RunStatus, i64)>)],
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    let n = per_major.len().max(1);
    let top = per_major
        .iter()
        .map(|(_, s)| s.iter().map(|(_, c)| c).sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(52)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0..top + top * 2 / 5 + 1)
        .map_err(err)?;
    let majors: Vec<i64> = per_major.iter().map(|(m, _)| *m).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(theme.border)
        .light_line_style(theme.border.mix(0.3))
        .axis_style(theme.muted)
        .label_style(font(theme))
        .axis_desc_style(font(theme))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => {
                majors.get(*i).map(|m| format!("PG {m}")).unwrap_or_default()
            }
            _ => String::new(),
        })
        .x_desc("PostgreSQL major")
        .y_desc("runs")
        .draw()
        .map_err(err)?;
    for &status in RunStatus::ALL {
        let color = theme.status(status);
        let mut bars = Vec::new();
        for (i, (_, statuses)) in per_major.iter().enumerate() {
            let below: i64 =
                statuses.iter().take_while(|(s, _)| *s != status).map(|(_, c)| c).sum();
            let count = statuses.iter().find(|(s, _)| *s == status).map_or(0, |(_, c)| *c);
            if count > 0 {
                let corners =
                    [(SegmentValue::Exact(i), below), (SegmentValue::Exact(i + 1), below + count)];
                bars.push(Rectangle::new(corners.clone(), color.filled()));
                bars.push(Rectangle::new(corners, theme.bg.stroke_width(2)));
            }
        }
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(status.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    legend(&mut chart, theme)?;
    root.present().map_err(err)
}
