//! A regression test's diff, unified or side by side (a toggle), coloured, with line numbers
//! on both sides and the changed part of paired lines marked; long diffs are virtualised.

use std::sync::Arc;

use leptos::prelude::*;

use crate::components::virtual_list::{RowRenderer, VirtualList};
use crate::logic::diff_rows::{DiffRows, SideCell, SideKind, UnifiedKind};

/// Height of one diff line in CSS pixels (render.css `.vrow`).
pub const LINE_PX: u32 = 18;

/// How a diff is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffMode {
    /// One column: `-` and `+` lines under each other.
    Unified,
    /// Expected on the left, actual on the right.
    SideBySide,
}

impl DiffMode {
    /// The `data-diff-mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffMode::Unified => "unified",
            DiffMode::SideBySide => "side-by-side",
        }
    }
}

fn number(n: Option<usize>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn unified_renderer(rows: Arc<DiffRows>) -> RowRenderer {
    Arc::new(move |i: usize| {
        let row = &rows.unified[i];
        if row.kind == UnifiedKind::HunkHeader {
            return view! { <div class="vrow diff-line diff-hunk">{row.text.clone()}</div> }
                .into_any();
        }
        let class = format!("vrow diff-line {}", row.kind.class());
        let marker = row.kind.marker().to_string();
        let eol = row.missing_newline.then_some(
            view! { <span class="diff-eol" title="No newline at end of file">"⏎̸"</span> },
        );
        view! {
            <div class=class>
                <span class="ln">{number(row.expected_line)}</span>
                <span class="ln">{number(row.actual_line)}</span>
                <span class="mk" aria-hidden="true">{marker}</span>
                <span class="tx">{row.text.clone()}{eol}</span>
            </div>
        }
        .into_any()
    })
}

/// One side's cell: line number and text, the changed part in `<mark>`.
fn side_cell(cell: Option<&SideCell>, class: &'static str) -> impl IntoView + use<> {
    match cell {
        None => view! {
            <span class="ln"></span>
            <span class="tx diff-none"></span>
        }
        .into_any(),
        Some(cell) => {
            let range = cell.changed.clone();
            let text = &cell.text;
            let valid = !range.is_empty()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end)
                && range.end <= text.len();
            let content = if valid {
                let (before, changed, after) =
                    (&text[..range.start], &text[range.clone()], &text[range.end..]);
                view! {
                    {before.to_owned()}
                    <mark class="diff-change">{changed.to_owned()}</mark>
                    {after.to_owned()}
                }
                .into_any()
            } else {
                text.clone().into_any()
            };
            view! {
                <span class="ln">{cell.line}</span>
                <span class=format!("tx {class}") title=text.clone()>{content}</span>
            }
            .into_any()
        }
    }
}

fn side_renderer(rows: Arc<DiffRows>) -> RowRenderer {
    Arc::new(move |i: usize| {
        let row = &rows.side_by_side[i];
        let (left, right, kind) = match row.kind {
            SideKind::HunkHeader => {
                return view! { <div class="vrow diff-sbs diff-hunk">{row.header.clone()}</div> }
                    .into_any();
            }
            SideKind::Equal => ("diff-ctx", "diff-ctx", "equal"),
            SideKind::Changed => ("diff-del", "diff-add", "changed"),
            SideKind::Removed => ("diff-del", "diff-none", "removed"),
            SideKind::Added => ("diff-none", "diff-add", "added"),
        };
        view! {
            <div class=format!("vrow diff-sbs diff-{kind}")>
                {side_cell(row.left.as_ref(), left)}
                {side_cell(row.right.as_ref(), right)}
            </div>
        }
        .into_any()
    })
}

/// A diff with its mode toggle. `expected_label` and `actual_label` name the two files.
#[component]
pub fn DiffView(
    /// The rows of both modes.
    rows: Arc<DiffRows>,
    /// The expected file (`expected/three.out`).
    #[prop(into)]
    expected_label: String,
    /// The actual output (`results/three.out`).
    #[prop(into)]
    actual_label: String,
) -> impl IntoView {
    let mode = RwSignal::new(DiffMode::Unified);
    let n_unified = rows.unified.len();
    let n_side = rows.side_by_side.len();
    let unified = unified_renderer(rows.clone());
    let side = side_renderer(rows.clone());
    let stats = format!("−{} +{}", rows.n_removed, rows.n_added);
    let button = move |target: DiffMode, text: &'static str| {
        view! {
            <button
                type="button"
                class="diff-mode"
                data-diff-mode=target.as_str()
                aria-pressed=move || (mode.get() == target).to_string()
                on:click=move |_| mode.set(target)
            >
                {text}
            </button>
        }
    };
    view! {
        <div class="diff" data-diff-mode=move || mode.get().as_str()>
            <div class="diff-tools">
                <span class="diff-files">
                    <span class="diff-del-label">"− " {expected_label}</span>
                    " "
                    <span class="diff-add-label">"+ " {actual_label}</span>
                </span>
                <span class="diff-stats">{stats}</span>
                <span class="diff-toggle" role="group" aria-label="Diff layout">
                    {button(DiffMode::Unified, "Unified")}
                    {button(DiffMode::SideBySide, "Side by side")}
                </span>
            </div>
            {move || match mode.get() {
                DiffMode::Unified => {
                    view! {
                        <VirtualList
                            n_rows=Signal::stored(n_unified)
                            row_px=LINE_PX
                            render_row=unified.clone()
                            class="diff-lines diff-unified"
                            label="Unified diff"
                        />
                    }
                        .into_any()
                }
                DiffMode::SideBySide => {
                    view! {
                        <VirtualList
                            n_rows=Signal::stored(n_side)
                            row_px=LINE_PX
                            render_row=side.clone()
                            class="diff-lines diff-side-by-side"
                            label="Side-by-side diff"
                        />
                    }
                        .into_any()
                }
            }}
        </div>
    }
    .into_any()
}
