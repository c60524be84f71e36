//! A whole run rendered from its bundle: header, stages with collapsible logs, regression
//! tests with diffs computed in the browser, pgTAP files as trees, and the server log.
//! Used by the run page (with the server's `RunDetail`, for links) and the offline viewer.

use std::sync::Arc;

use leptos::prelude::*;
use pgfarm_model::api::RunDetail;
use pgfarm_model::{
    Bundle, RawText, RegressTest, Stage, StageKind, StageStatus, TestCounts, TestStatus,
};
use pgfarm_verdict::Verdict;

use crate::components::diff_view::DiffView;
use crate::components::log_view::LogView;
use crate::components::status::StatusBadge;
use crate::components::tap_tree::TapFileView;
use crate::logic::causes::RunCauseView;
use crate::logic::diff_rows::DiffRows;
use crate::logic::durations::{elapsed_ms, format_ms, format_utc};
use crate::logic::filters::encode_component;

/// The performance mark a page sets when a bundle's bytes have arrived; RunView measures
/// `pgfarm:render` from it to the moment it is rendered.
pub const DATA_ARRIVED_MARK: &str = "pgfarm:data-arrived";
/// The performance measure RunView records.
pub const RENDER_MEASURE: &str = "pgfarm:render";

/// Sets [`DATA_ARRIVED_MARK`] (replacing an older one): call it when the bytes are in.
pub fn mark_data_arrived() {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        performance.clear_marks_with_mark_name(DATA_ARRIVED_MARK);
        performance.clear_measures_with_measure_name(RENDER_MEASURE);
        let _ = performance.mark(DATA_ARRIVED_MARK);
    }
}

/// Sets a performance mark (`pgfarm:parsed`, `pgfarm:tap-tree`, `pgfarm:diff`) so a profile of
/// a slow render shows where the time went; a no-op outside the browser.
pub fn mark(name: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = name;
}

#[cfg(target_arch = "wasm32")]
fn measure_render() {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.measure_with_start_mark(RENDER_MEASURE, DATA_ARRIVED_MARK);
    }
}

fn text_and_raw(raw: &RawText) -> (Arc<str>, Arc<[u8]>) {
    (Arc::from(raw.to_string_lossy().as_ref()), Arc::from(raw.as_bytes()))
}

/// A log inside `<details>`: the lines are only built when it is opened.
#[component]
fn CollapsedLog(
    /// What the summary line says.
    summary: AnyView,
    /// The log.
    log: RawText,
    /// Download name.
    #[prop(into)]
    file_name: String,
    /// Open at first.
    open: bool,
    /// `data-stage` of the details element, if any.
    #[prop(optional, into)]
    stage: Option<String>,
) -> impl IntoView {
    let opened = RwSignal::new(open);
    let log = Arc::new(log);
    view! {
        <details
            class="stage-log"
            data-stage=stage
            open=open
            on:toggle=move |ev| {
                let details = event_target::<web_sys::HtmlDetailsElement>(&ev);
                opened.set(details.open());
            }
        >
            <summary>{summary}</summary>
            {move || {
                opened
                    .get()
                    .then(|| {
                        let (text, raw) = text_and_raw(&log);
                        view! { <LogView text=text raw=raw file_name=file_name.clone()/> }.into_any()
                    })
            }}
        </details>
    }
}

fn stage_section(bundle: &Bundle, verdict: &Verdict) -> AnyView {
    // Stages with their derived status, in the bundle's order.
    let stages: Vec<(&Stage, StageStatus)> = bundle
        .stages
        .iter()
        .zip(&verdict.stages)
        .map(|(stage, derived)| (stage, derived.status))
        .collect();
    let rows = stages
        .iter()
        .map(|(stage, status)| {
            let kind = stage.kind.as_str();
            let status = status.as_str();
            let error = stage.error.clone().unwrap_or_default();
            view! {
                <tr data-stage=kind data-status=status>
                    <th scope="row">{kind}</th>
                    <td><StatusBadge status=status/></td>
                    <td class="num">{format_ms(stage.duration_ms)}</td>
                    <td class="stage-error">{error}</td>
                </tr>
            }
        })
        .collect_view();
    let logs = stages
        .iter()
        .filter(|(stage, status)| !stage.log.is_empty() || *status == StageStatus::Failed)
        .map(|(stage, status)| {
            let kind = stage.kind.as_str();
            let lines = stage.log.to_string_lossy().lines().count();
            let summary = view! {
                <span class="stage-log-title">{format!("{kind} log")}</span>
                " "
                <StatusBadge status=status.as_str()/>
                <span class="muted">{format!(" {lines} lines")}</span>
            }
            .into_any();
            view! {
                <CollapsedLog
                    summary=summary
                    log=stage.log.clone()
                    file_name=format!("{kind}.log")
                    open=*status == StageStatus::Failed
                    stage=kind
                />
            }
        })
        .collect_view();
    view! {
        <section class="run-stages">
            <h2>"Stages"</h2>
            <div class="table-scroll">
                <table class="stages">
                    <thead>
                        <tr>
                            <th scope="col">"Stage"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Duration"</th>
                            <th scope="col">"Reason"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {logs}
        </section>
    }
    .into_any()
}

fn regress_test(
    test: &RegressTest,
    derived: TestStatus,
    history: Option<String>,
    results_dir: &str,
) -> AnyView {
    let status = derived.as_str();
    let name = test.name.clone();
    let title = match history {
        Some(href) => view! { <a class="test-name" href=href>{name.clone()}</a> }.into_any(),
        None => view! { <span class="test-name">{name.clone()}</span> }.into_any(),
    };
    let shows_diff = derived.is_failure() || derived == TestStatus::Ignored;
    let diff = shows_diff.then(|| {
        let rows = Arc::new(DiffRows::for_test(test));
        mark("pgfarm:diff");
        let expected_label = rows
            .expected
            .as_ref()
            .map(|e| format!("expected/{}", e.file_name))
            .unwrap_or_else(|| "(no expected file)".to_owned());
        let note = rows.expected.as_ref().and_then(|e| e.runner_chose.clone()).map(|runner| {
            view! {
                <p class="diff-note">
                    "The runner compared with " {runner} "; the closest variant here is "
                    {rows.expected.as_ref().map(|e| e.file_name.clone())} "."
                </p>
            }
        });
        let body = if rows.is_empty() {
            view! { <p class="muted">"The output equals the expected file."</p> }.into_any()
        } else {
            view! {
                <DiffView
                    rows=rows.clone()
                    expected_label=expected_label
                    actual_label=format!("{results_dir}/{}.out", test.name)
                />
            }
            .into_any()
        };
        view! { <div class="regress-diff">{note} {body}</div> }
    });
    let variants = test.expected.len();
    let psql = test
        .psql_exit_code
        .filter(|code| *code != 0)
        .map(|code| view! { <span class="muted">{format!(" psql exit {code}")}</span> });
    view! {
        <li class="regress-test" data-test=name data-status=status>
            <div class="regress-test-line">
                <StatusBadge status=status/>
                {title}
                <span class="muted num">{format_ms(test.duration_ms)}</span>
                <span class="muted">
                    {format!(
                        "group {} · {variants} expected file{}",
                        test.group,
                        if variants == 1 { "" } else { "s" },
                    )}
                </span>
                {psql}
            </div>
            {test.reason.clone().map(|reason| view! { <p class="test-reason">{reason}</p> })}
            {diff}
        </li>
    }
    .into_any()
}

/// The derived statuses of one stage's tests, in the bundle's order.
fn statuses_of(verdict: &Verdict, stage: StageKind) -> Vec<TestStatus> {
    verdict.tests.iter().filter(|test| test.stage == stage).map(|test| test.status).collect()
}

fn failed_of(statuses: &[TestStatus]) -> String {
    let counts = TestCounts::from_statuses(statuses.iter().copied());
    format!("{} of {}", counts.n_failures(), counts.total())
}

/// Regression tests (`regress`) or isolation specs (`isolation`), each with its diff.
fn regress_section(bundle: &Bundle, verdict: &Verdict, stage: StageKind, linked: bool) -> AnyView {
    let (tests, title, noun, results_dir, class) = match stage {
        StageKind::Isolation => {
            (&bundle.isolation, "Isolation specs", "specs", "output_iso/results", "run-isolation")
        }
        _ => (&bundle.regress, "Regression tests", "tests", "results", "run-regress"),
    };
    if tests.is_empty() {
        return ().into_any();
    }
    let statuses = statuses_of(verdict, stage);
    let extension = encode_component(&bundle.extension.name);
    let items = tests
        .iter()
        .zip(&statuses)
        .map(|(test, status)| {
            let history = linked.then(|| {
                format!("/extensions/{extension}/tests/{}/history", encode_component(&test.name))
            });
            regress_test(test, *status, history, results_dir)
        })
        .collect_view();
    view! {
        <section class=class>
            <h2>{title}</h2>
            <p class="muted">{format!("{} {noun} failed", failed_of(&statuses))}</p>
            <ul class="regress-tests">{items}</ul>
        </section>
    }
    .into_any()
}

/// pgTAP files (`tap`) or Perl TAP files (`perl_tap`) as trees.
fn tap_section(bundle: &Bundle, verdict: &Verdict, stage: StageKind) -> AnyView {
    let (files, title, class) = match stage {
        StageKind::PerlTap => (&bundle.perl_tap, "Perl TAP files", "run-perl-tap"),
        _ => (&bundle.tap, "pgTAP files", "run-tap"),
    };
    if files.is_empty() {
        return ().into_any();
    }
    let statuses = statuses_of(verdict, stage);
    let views = files
        .iter()
        .zip(&statuses)
        .map(|(file, status)| view! { <TapFileView file=file.clone() stage=stage status=*status/> })
        .collect_view();
    view! {
        <section class=class>
            <h2>{title}</h2>
            <p class="muted">{format!("{} files failed", failed_of(&statuses))}</p>
            {views}
        </section>
    }
    .into_any()
}

/// `3-5, 9`: ascending line numbers as ranges.
fn line_ranges(lines: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end + 1 {
            i += 1;
            end = lines[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(", ")
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |p| format!("{}%", p.floor()))
}

/// Coverage (format version 3): per function with its calls, per C file with the uncovered
/// line numbers; and how the build cache and `--keep` served the run.
fn coverage_section(bundle: &Bundle) -> AnyView {
    let cache = bundle.build_cache.as_ref().map(|cache| {
        let text = match (cache.build_reused, cache.install_skipped) {
            (true, true) => "Build reused from the build cache; nothing needed installing.",
            (true, false) => "Build reused from the build cache; its files were installed again.",
            _ => "Built and stored in the build cache.",
        };
        view! { <p class="run-build-cache" data-build-reused=cache.build_reused.to_string()>{text}</p> }
    });
    let kept = bundle.kept.as_ref().map(|kept| {
        view! {
            <p class="run-kept">
                "Cluster kept after the run: " <code>{kept.uri.clone()}</code> " (" {kept.stop.clone()} ")"
            </p>
        }
    });
    let coverage = bundle.coverage.as_ref().map(|coverage| {
        let functions = coverage
            .functions
            .iter()
            .map(|f| {
                let status = if f.calls > 0 { "covered" } else { "untested" };
                view! {
                    <tr data-function=f.name.clone() data-coverage=status>
                        <td><code>{f.name.clone()}</code></td>
                        <td>{f.calls.to_string()}</td>
                        <td>{status}</td>
                    </tr>
                }
            })
            .collect_view();
        let files = coverage
            .files
            .iter()
            .map(|f| {
                let lines = percent(
                    (f.lines > 0).then(|| f64::from(f.lines_covered) * 100.0 / f64::from(f.lines)),
                );
                view! {
                    <tr data-c-file=f.path.clone()>
                        <td><code>{f.path.clone()}</code></td>
                        <td>{format!("{} of {} ({lines})", f.lines_covered, f.lines)}</td>
                        <td>{format!("{} of {}", f.branches_covered, f.branches)}</td>
                        <td class="uncovered-lines">{line_ranges(&f.uncovered_lines)}</td>
                    </tr>
                }
            })
            .collect_view();
        let (lines, covered) = coverage.line_totals();
        let c_summary = (lines > 0).then(|| {
            format!("; C lines covered: {covered} of {lines} ({})", percent(coverage.line_percent()))
        });
        let c_table = (!coverage.files.is_empty()).then(|| {
            view! {
                <table class="coverage-files">
                    <thead><tr><th>"C file"</th><th>"Lines"</th><th>"Branches"</th><th>"Uncovered lines"</th></tr></thead>
                    <tbody>{files}</tbody>
                </table>
            }
        });
        view! {
            <p class="coverage-summary">
                {format!(
                    "Functions covered: {} of {} ({}){}",
                    coverage.functions_covered(),
                    coverage.functions.len(),
                    percent(coverage.function_percent()),
                    c_summary.unwrap_or_default()
                )}
            </p>
            <table class="coverage-functions">
                <thead><tr><th>"Function"</th><th>"Calls"</th><th>"Status"</th></tr></thead>
                <tbody>{functions}</tbody>
            </table>
            {c_table}
        }
    });
    if cache.is_none() && kept.is_none() && coverage.is_none() {
        return ().into_any();
    }
    let title = coverage.is_some().then(|| view! { <h2>"Coverage"</h2> });
    view! { <section class="run-coverage">{cache}{kept}{title}{coverage}</section> }.into_any()
}

fn header(bundle: &Bundle, verdict: &Verdict, detail: Option<&RunDetail>) -> AnyView {
    let run = &bundle.run;
    let ext = &bundle.extension;
    let machine = &bundle.machine;
    let linked = detail.is_some();
    let ext_link = if linked {
        view! {
            <a href=format!("/extensions/{}", encode_component(&ext.name))>{ext.name.clone()}</a>
        }
        .into_any()
    } else {
        ext.name.clone().into_any()
    };
    let machine_link = if linked {
        view! {
            <a href=format!("/machines/{}", encode_component(&machine.name))>
                {machine.name.clone()}
            </a>
        }
        .into_any()
    } else {
        machine.name.clone().into_any()
    };
    let cell = verdict.run.cell();
    let platform =
        format!("{}/{} ({} {})", machine.os, machine.arch, machine.os_version, machine.compiler);
    let received = detail.map(|d| {
        view! {
            <dt>"Received"</dt>
            <dd>{d.run.received_at.clone()}</dd>
        }
    });
    let git = ext
        .git_commit
        .clone()
        .or_else(|| ext.git_ref.clone())
        .map(|git| view! { <dt>"Git"</dt> <dd><code>{git}</code></dd> });
    let command = run_command(bundle);
    view! {
        <header class="run-header">
            <h1>
                {ext_link}
                " "
                <span class="run-version">{ext.version.clone()}</span>
                " on PostgreSQL "
                {bundle.postgres.version.clone()}
            </h1>
            <p class="run-status">
                <StatusBadge status=cell.word.as_str() label=cell.label/>
            </p>
            <dl class="run-facts">
                <dt>"Machine"</dt>
                <dd>{machine_link}</dd>
                <dt>"Platform"</dt>
                <dd>{platform}</dd>
                <dt>"PostgreSQL"</dt>
                <dd>{format!("{} (major {})", bundle.postgres.version, bundle.postgres.major)}</dd>
                <dt>"Started"</dt>
                <dd>{format_utc(run.created_at)}</dd>
                <dt>"Duration"</dt>
                <dd>{format_ms(elapsed_ms(run.created_at, run.finished_at))}</dd>
                {received}
                {git}
                <dt>"Runner"</dt>
                <dd>{format!("pgfarm {}", run.runner_version)}</dd>
                <dt>"Run id"</dt>
                <dd><code>{run.id.to_string()}</code></dd>
                <dt>"Command"</dt>
                <dd><code>{command}</code></dd>
            </dl>
        </header>
    }
    .into_any()
}

/// The failure cause of a `failed` or `error` run (pgfarm-verdict's rule `run-cause`, computed
/// here from the bundle, so an offline bundle shows it too): its sentence and the log line it
/// was read from, or "unknown cause" said as such.
fn cause_section(bundle: &Bundle, verdict: &Verdict) -> Option<AnyView> {
    let cause = pgfarm_verdict::cause(bundle, &verdict.run)?;
    let view = RunCauseView::of(&cause);
    let line = match (view.place, view.line) {
        (Some(place), Some(line)) => view! {
            <figure class="cause-line">
                <figcaption>{place}</figcaption>
                <pre><code>{line}</code></pre>
            </figure>
        }
        .into_any(),
        _ => view! {
            <p class="muted">"No log line of this run matches a known failure cause."</p>
        }
        .into_any(),
    };
    let name = view.text.name.clone();
    Some(
        view! {
            <section class="run-cause" data-cause=name>
                <h2>"Cause"</h2>
                <p>
                    <strong class="cause-label">{view.text.label}</strong>
                    ": "
                    {view.text.sentence}
                </p>
                {line}
            </section>
        }
        .into_any(),
    )
}

fn run_command(bundle: &Bundle) -> String {
    bundle.config.command_line.join(" ")
}

/// A run rendered from its bundle. `detail` (from the server) turns names into links; without
/// it (the offline viewer) nothing links anywhere. The root gets `data-rendered="true"` once
/// the view is built, and the `pgfarm:render` measure is recorded from
/// [`DATA_ARRIVED_MARK`].
#[component]
pub fn RunView(
    /// The parsed bundle.
    bundle: Arc<Bundle>,
    /// The server's summary of the run, when it came from the server.
    #[prop(optional)]
    detail: Option<RunDetail>,
    /// A note shown above the run (e.g. the bundle did not validate).
    #[prop(optional, into)]
    warning: Option<String>,
) -> impl IntoView {
    let rendered = RwSignal::new(false);
    // Runs once the view is in the document (browser only: native tests have no executor).
    #[cfg(target_arch = "wasm32")]
    Effect::new(move |_| {
        if !rendered.get_untracked() {
            rendered.set(true);
            measure_render();
        }
    });
    let linked = detail.is_some();
    // Every status this page shows, derived once from the bundle's raw outputs (the rules the
    // server stores by).
    let verdict = pgfarm_verdict::derive(&bundle);
    let warning = warning
        .filter(|w| !w.is_empty())
        .map(|w| view! { <p class="run-warning" role="note">{w}</p> }.into_any());
    let server_log = (!bundle.server_log.is_empty()).then(|| {
        let summary = view! { <span class="stage-log-title">"Server log"</span> }.into_any();
        view! {
            <section class="run-server-log">
                <h2>"Server log"</h2>
                <CollapsedLog
                    summary=summary
                    log=bundle.server_log.clone()
                    file_name="server.log"
                    open=false
                    stage="server"
                />
            </section>
        }
        .into_any()
    });
    view! {
        <div
            class="run-view"
            data-run=bundle.run.id.to_string()
            data-rendered=move || rendered.get().to_string()
        >
            {warning}
            {header(&bundle, &verdict, detail.as_ref())}
            {cause_section(&bundle, &verdict)}
            {stage_section(&bundle, &verdict)}
            {regress_section(&bundle, &verdict, StageKind::Regress, linked)}
            {regress_section(&bundle, &verdict, StageKind::Isolation, linked)}
            {tap_section(&bundle, &verdict, StageKind::Tap)}
            {tap_section(&bundle, &verdict, StageKind::PerlTap)}
            {coverage_section(&bundle)}
            {server_log}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(name: &str) -> Arc<Bundle> {
        let path = format!("{}/../testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Arc::new(Bundle::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    fn render(bundle: Arc<Bundle>) -> String {
        Owner::new().with(|| view! { <RunView bundle=bundle/> }.to_html())
    }

    /// Elements RunView and its parts make; any other element in the HTML came from data.
    const OUR_TAGS: [&str; 32] = [
        "div",
        "section",
        "header",
        "article",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "span",
        "ul",
        "li",
        "p",
        "h1",
        "h2",
        "h3",
        "strong",
        "code",
        "dl",
        "dt",
        "dd",
        "button",
        "details",
        "summary",
        "mark",
        "figure",
        "figcaption",
        "canvas",
        "label",
        "pre",
    ];

    /// Fails on an element the views do not make (`<script>`, `<img>`, `<svg>`), an
    /// event-handler attribute or a `javascript:` link. Quoted attribute values are skipped
    /// (the renderer escapes `"` inside them).
    fn assert_inert(html: &str) {
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after.find('>').unwrap_or_else(|| panic!("unclosed tag in {html}"));
            let tag = &after[..end];
            rest = &after[end + 1..];
            if tag.starts_with('!') {
                continue;
            }
            let mut outside = String::new();
            let mut values = Vec::new();
            for (i, part) in tag.split('"').enumerate() {
                if i % 2 == 0 {
                    outside.push_str(part);
                    outside.push(' ');
                } else {
                    values.push(part);
                }
            }
            let mut tokens =
                outside.split(|c: char| c.is_whitespace() || c == '=').filter(|t| !t.is_empty());
            let name = tokens.next().unwrap_or_default().trim_start_matches('/');
            assert!(OUR_TAGS.contains(&name), "element <{name}> rendered from data");
            for attribute in tokens {
                assert!(!attribute.to_ascii_lowercase().starts_with("on"), "handler in <{tag}>");
            }
            for value in values {
                assert!(!value.trim().to_ascii_lowercase().starts_with("javascript:"), "<{tag}>");
            }
        }
    }

    #[test]
    fn the_inertness_check_catches_live_markup() {
        for live in ["<div><img src=x onerror=alert(1)></div>", "<p><script>x</script></p>"] {
            assert!(std::panic::catch_unwind(|| assert_inert(live)).is_err(), "{live} passed");
        }
        assert_inert("<div data-x=\"&lt;img onerror=x&gt;\">&lt;script&gt;</div>");
    }

    #[test]
    fn a_hostile_bundle_renders_as_text() {
        let html = render(bundle("hostile.pgfarm.json"));
        assert_inert(&html);
        assert!(html.contains("&lt;script&gt;alert"), "payload shown as text");
        // The failed regress test's diff and the failed TAP file are rendered too.
        assert!(html.contains("class=\"diff\""), "diff missing");
        assert!(html.contains("tap-file"), "TAP file missing");
    }

    #[test]
    fn a_failed_regress_test_shows_its_coloured_diff() {
        let html = render(bundle("regress-fail.pgfarm.json"));
        assert_inert(&html);
        assert!(html.contains("data-test=\"three\" data-status=\"failed\""), "{html}");
        assert!(html.contains("data-test=\"one\" data-status=\"ok\""));
        assert!(html.contains("data-diff-mode=\"unified\""));
        for class in ["diff-add", "diff-del", "diff-ctx", "diff-hunk"] {
            assert!(html.contains(class), "no {class}");
        }
        assert!(html.contains("expected/three.out"));
        // The failed stage's log is open; the passing stages' logs are folded.
        assert!(html.contains("data-stage=\"regress\" open"), "{html}");
        assert!(html.contains("1 of 4 tests failed"));
    }

    #[test]
    fn a_tap_failure_shows_its_diagnostics() {
        let html = render(bundle("tap-fail.pgfarm.json"));
        assert_inert(&html);
        assert!(html.contains("tap-point tap-fail"), "no failed point");
        assert!(html.contains("tap-diag"), "no diagnostics");
        assert!(html.contains("have: foo") || html.contains("have:"), "no have/want");
        assert!(html.contains("status-todo") || html.contains("status-skipped"));
        assert!(
            html.contains("data-rendered=\"false\""),
            "set to true by an effect in the browser"
        );
    }

    #[test]
    fn every_status_shown_is_the_derived_one() {
        // tap-fail's runner wrote `failed` for 08-special-chars, whose only `not ok` is a TODO.
        let html = render(bundle("tap-fail.pgfarm.json"));
        assert!(
            html.contains("data-tap-file=\"test/sql/08-special-chars.sql\" data-status=\"ok\""),
            "{html}"
        );
        assert!(html.contains("The runner reported failed; the stream says ok."));
        // A regress test the runner called ok whose output differs, in a stage it called ok.
        let mut lying = (*bundle("pass.pgfarm.json")).clone();
        lying.regress[0].actual = RawText::from("something else\n".to_owned());
        let html = render(Arc::new(lying));
        assert!(html.contains("data-test=\"one\" data-status=\"failed\""), "{html}");
        assert!(html.contains("data-stage=\"regress\" data-status=\"failed\""), "{html}");
        assert!(html.contains("failed at regress"), "the header shows the derived run status");
    }

    #[test]
    fn isolation_specs_perl_tap_files_and_the_installcheck_log_are_shown() {
        let mut run = (*bundle("pass.pgfarm.json")).clone();
        let mut spec = run.regress[0].clone();
        spec.name = "deadlock".into();
        spec.actual = RawText::from("step s1: changed\n".to_owned());
        run.isolation.push(spec);
        run.perl_tap.push(pgfarm_model::TapFile {
            path: "t/001_basic.pl".into(),
            status: TestStatus::Ok,
            duration_ms: 5,
            exit_code: Some(0),
            stream: RawText::from("ok 1 - server starts\n1..1\n".to_owned()),
            stderr: RawText::new(),
        });
        for (kind, log) in [
            (StageKind::Isolation, ""),
            (StageKind::PerlTap, ""),
            (StageKind::Installcheck, "make installcheck\n# All 3 tests passed\n"),
        ] {
            let mut stage = Stage::new(kind, StageStatus::Ok, 1);
            stage.log = RawText::from(log.to_owned());
            run.stages.push(stage);
        }
        run.sort_stages();
        let html = render(Arc::new(run));
        assert_inert(&html);
        assert!(
            html.contains("Isolation specs") && html.contains("output_iso/results/deadlock.out")
        );
        assert!(html.contains("data-test=\"deadlock\" data-status=\"failed\""), "{html}");
        assert!(
            html.contains("Perl TAP files") && html.contains("data-tap-file=\"t/001_basic.pl\"")
        );
        assert!(html.contains("installcheck log"), "{html}");
    }

    #[test]
    fn a_failed_run_shows_its_cause_and_the_matching_line() {
        let html = render(bundle("regress-fail.pgfarm.json"));
        assert!(html.contains("data-cause=\"test_failures\""), "{html}");
        assert!(html.contains("Tests ran and some failed."), "{html}");
        assert!(html.contains("regress log, line"), "{html}");
        // A crash in the server log explains more than the failing tests.
        let mut crashed = (*bundle("regress-fail.pgfarm.json")).clone();
        let log = std::fs::read_to_string(format!(
            "{}/../testdata/causes/server_crash.log",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        crashed.server_log = RawText::from(log);
        let html = render(Arc::new(crashed));
        assert_inert(&html);
        assert!(html.contains("data-cause=\"server_crash\""), "{html}");
        assert!(html.contains("server log, line"), "{html}");
        assert!(html.contains("terminated by signal 11"), "{html}");
    }

    #[test]
    fn a_failed_run_without_a_known_cause_says_so() {
        let mut run = (*bundle("pass.pgfarm.json")).clone();
        let load = run.stages.iter_mut().find(|stage| stage.kind == StageKind::Load).unwrap();
        load.status = StageStatus::Failed;
        load.log = RawText::from("something odd happened\n".to_owned());
        let html = render(Arc::new(run));
        assert!(html.contains("data-cause=\"unknown\""), "{html}");
        assert!(html.contains("unknown cause"), "{html}");
        assert!(html.contains("No known cause was found in the logs."), "{html}");
        assert!(html.contains("No log line of this run matches"), "{html}");
    }

    #[test]
    fn coverage_shows_per_function_and_per_c_file_with_the_uncovered_lines() {
        use pgfarm_model::{BuildCache, Coverage, FileCoverage, FunctionCoverage};
        let mut run = (*bundle("pass.pgfarm.json")).clone();
        run.coverage = Some(Coverage {
            functions: vec![
                FunctionCoverage { name: "public.add_one(integer)".into(), calls: 3 },
                FunctionCoverage { name: "public.<script>()".into(), calls: 0 },
            ],
            files: vec![FileCoverage {
                path: "src/add.c".into(),
                lines: 10,
                lines_covered: 6,
                uncovered_lines: vec![3, 4, 5, 9],
                branches: 4,
                branches_covered: 2,
            }],
        });
        run.build_cache =
            Some(BuildCache { key: "ab".into(), build_reused: true, install_skipped: true });
        let html = render(Arc::new(run));
        assert_inert(&html);
        assert!(
            html.contains("Functions covered: 1 of 2 (50%); C lines covered: 6 of 10 (60%)"),
            "{html}"
        );
        assert!(
            html.contains("data-function=\"public.add_one(integer)\" data-coverage=\"covered\""),
            "{html}"
        );
        assert!(html.contains("data-coverage=\"untested\""), "{html}");
        assert!(html.contains("3-5, 9"), "{html}");
        assert!(html.contains("data-build-reused=\"true\""), "{html}");
        assert!(!render(bundle("pass.pgfarm.json")).contains("run-coverage"));
    }

    #[test]
    fn a_passing_bundle_folds_everything() {
        let html = render(bundle("pass.pgfarm.json"));
        assert_inert(&html);
        assert!(!html.contains("tap-fail"));
        assert!(!html.contains("class=\"diff\""));
        assert!(!html.contains("run-cause"), "an ok run has no cause");
    }
}
