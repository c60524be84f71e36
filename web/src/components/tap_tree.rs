//! One pgTAP file rendered from its raw stream: counts, plan problems, bail-out, psql's
//! stderr, and the tree of test points (subtests folded unless failing, long passing runs
//! folded, pgTAP have/want and YAML diagnostics under their point, TODO/SKIP marked).

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use pgfarm_model::{StageKind, TapFile, TestStatus};

use crate::components::log_view::LogView;
use crate::components::status::StatusBadge;
use crate::components::virtual_list::{RowRenderer, VirtualList};
use crate::logic::durations::format_ms;
use crate::logic::tap_tree::{NodeKind, TapRow, TapTree};

/// Height of one tree row in CSS pixels (render.css `.vrow`).
pub const ROW_PX: u32 = 22;

fn render_row(
    tree: &TapTree,
    rows: &[TapRow],
    i: usize,
    open: RwSignal<HashSet<usize>>,
    open_runs: RwSignal<HashSet<usize>>,
) -> AnyView {
    let Some(&row) = rows.get(i) else { return ().into_any() };
    match row {
        TapRow::Folded { first, n_points, .. } => view! {
            <div class="vrow tap-row tap-folded" style="--depth:0">
                <button
                    type="button"
                    class="tap-fold"
                    aria-expanded="false"
                    on:click=move |_| {
                        open_runs.update(|runs| {
                            runs.insert(first);
                        })
                    }
                >
                    {format!("▸ {n_points} passing test points")}
                </button>
            </div>
        }
        .into_any(),
        TapRow::Diagnostic { node, line } => {
            let n = &tree.nodes[node];
            let text = n.diagnostics.get(line).cloned().unwrap_or_default();
            view! {
                <div class="vrow tap-row tap-diag" style=format!("--depth:{}", n.depth + 1)>
                    <span class="tx">{text}</span>
                </div>
            }
            .into_any()
        }
        TapRow::Yaml { node, line } => {
            let n = &tree.nodes[node];
            let text = n.yaml.as_deref().and_then(|y| y.lines().nth(line)).unwrap_or("").to_owned();
            view! {
                <div class="vrow tap-row tap-diag tap-yaml" style=format!("--depth:{}", n.depth + 1)>
                    <span class="tx">{text}</span>
                </div>
            }
            .into_any()
        }
        TapRow::Node(index) => {
            let node = &tree.nodes[index];
            let depth = format!("--depth:{}", node.depth);
            match node.kind {
                NodeKind::Comment => view! {
                    <div class="vrow tap-row tap-comment" style=depth>
                        <span class="tx">"# " {node.text.clone()}</span>
                    </div>
                }
                .into_any(),
                NodeKind::Unknown => view! {
                    <div class="vrow tap-row tap-unknown" style=depth>
                        <span class="tx">{node.text.clone()}</span>
                    </div>
                }
                .into_any(),
                NodeKind::BailOut => view! {
                    <div class="vrow tap-row tap-bailout tap-fail" style=depth>
                        <span class="tx">"Bail out! " {node.text.clone()}</span>
                    </div>
                }
                .into_any(),
                NodeKind::Point | NodeKind::Subtest => {
                    let status = node.status.map(|s| s.word()).unwrap_or("missing");
                    let class = format!(
                        "vrow tap-row tap-point{}{}",
                        if node.is_failure() || node.failing { " tap-fail" } else { "" },
                        if node.kind == NodeKind::Subtest { " tap-subtest" } else { "" },
                    );
                    let fold = node.has_children(index).then(|| {
                        let is_open = open.with(|o| o.contains(&index)) != node.failing;
                        view! {
                            <button
                                type="button"
                                class="tap-fold"
                                aria-expanded=is_open.to_string()
                                aria-label=if is_open { "Fold subtest" } else { "Unfold subtest" }
                                on:click=move |_| {
                                    open.update(|o| {
                                        if !o.remove(&index) {
                                            o.insert(index);
                                        }
                                    })
                                }
                            >
                                {if is_open { "▾" } else { "▸" }}
                            </button>
                        }
                    });
                    let number = node.number.map(|n| format!("{n}")).unwrap_or_default();
                    let reason = node.directive_reason.clone().map(|r| {
                        view! { <span class="tap-reason">{format!("# {status}: {r}")}</span> }
                    });
                    view! {
                        <div class=class style=depth data-status=status>
                            {fold}
                            <StatusBadge status=status.to_owned()/>
                            <span class="tap-number">{number}</span>
                            <span class="tx">{node.text.clone()}</span>
                            {reason}
                        </div>
                    }
                    .into_any()
                }
            }
        }
    }
}

/// One TAP file: header with counts, problems, stderr and the test point tree.
#[component]
pub fn TapFileView(
    /// The file from the bundle.
    file: TapFile,
    /// Its stage (`tap` or `perl_tap`): decides the TAP dialect (pgfarm-verdict's `tap_options`).
    stage: StageKind,
    /// Its status as pgfarm-verdict derived it (once per run page).
    status: TestStatus,
) -> impl IntoView {
    let tree =
        Arc::new(TapTree::parse_with(file.stream.as_bytes(), pgfarm_verdict::tap_options(stage)));
    crate::components::run_view::mark("pgfarm:tap-tree");
    // Toggled subtests (XOR their default) and unfolded passing runs.
    let open = RwSignal::new(HashSet::<usize>::new());
    let open_runs = RwSignal::new(HashSet::<usize>::new());
    let rows = {
        let tree = tree.clone();
        Memo::new(move |_| {
            let toggled = open.get();
            let runs = open_runs.get();
            Arc::new(tree.rows(
                |i| tree.open_by_default(i) != toggled.contains(&i),
                |first| runs.contains(&first),
            ))
        })
    };
    let render: RowRenderer = {
        let tree = tree.clone();
        Arc::new(move |i| rows.with(|rows| render_row(&tree, rows, i, open, open_runs)))
    };
    let summary = &tree.summary;
    let mut counts = format!("{} tests, {} passed", summary.count, summary.pass);
    for (n, word) in [(summary.fail, "failed"), (summary.todo, "todo"), (summary.skip, "skipped")] {
        if n > 0 {
            counts.push_str(&format!(", {n} {word}"));
        }
    }
    let plan = tree.plan.clone().map(|p| format!("plan {p}")).unwrap_or_else(|| "no plan".into());
    let exit = file.exit_code.map(|c| format!("psql exit {c}")).unwrap_or_else(|| "killed".into());
    let problems = (!tree.problems.is_empty()).then(|| {
        let items = tree
            .problems
            .iter()
            .map(|p| {
                let class =
                    if p.is_error { "tap-problem tap-problem-error" } else { "tap-problem" };
                view! { <li class=class>{p.message.clone()}</li> }
            })
            .collect_view();
        view! { <ul class="tap-problems">{items}</ul> }
    });
    let bail = tree.bail_out.clone().map(|reason| {
        view! { <p class="tap-bailout-note" role="note">"Bail out! " {reason}</p> }
    });
    let stderr_title = if stage == StageKind::Tap { "psql standard error" } else { "log" };
    let stderr = (!file.stderr.is_empty()).then(|| {
        let text: Arc<str> = Arc::from(file.stderr.to_string_lossy().as_ref());
        let raw: Arc<[u8]> = Arc::from(file.stderr.as_bytes());
        view! {
            <details class="tap-stderr" open=true>
                <summary>{stderr_title}</summary>
                <LogView text=text raw=raw file_name="stderr.txt"/>
            </details>
        }
    });
    let n_rows = Signal::derive(move || rows.with(|r| r.len()));
    let derived = status;
    let status = derived.as_str();
    let reported = (derived != file.status).then(|| {
        view! {
            <p class="tap-reported muted" role="note">
                {format!("The runner reported {}; the stream says {}.", file.status.as_str(), status)}
            </p>
        }
    });
    view! {
        <article class="tap-file" data-tap-file=file.path.clone() data-status=status>
            <header class="tap-file-header">
                <StatusBadge status=status/>
                <h3 class="tap-path">{file.path.clone()}</h3>
                <span class="tap-counts">{counts}</span>
                <span class="muted">{plan} " · " {exit} " · " {format_ms(file.duration_ms)}</span>
            </header>
            {reported}
            {problems}
            {bail}
            {stderr}
            <VirtualList
                n_rows=n_rows
                row_px=ROW_PX
                render_row=render
                class="tap-tree"
                label=format!("Test points of {}", file.path)
            />
        </article>
    }
    .into_any()
}
