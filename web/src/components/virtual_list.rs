//! A scroll box that renders only the rows in view (plus a margin), with spacer elements above
//! and below standing in for the rest, so lists of 20,000 rows cost as much as 60.

use std::sync::Arc;

use leptos::prelude::*;

use crate::logic::virtual_window::VirtualWindow;

/// Rows rendered above and below the viewport, so fast scrolling shows no gaps.
const OVERSCAN: usize = 10;

/// Lists up to this many rows are rendered whole (searchable with the browser's find).
pub const RENDER_ALL_BELOW: usize = 100;

/// Renders one row by index.
pub type RowRenderer = Arc<dyn Fn(usize) -> AnyView + Send + Sync>;

/// A scroll box of `n_rows` rows of `row_px` pixels each, at most `viewport_px` tall; rows
/// outside the view are replaced by two spacers. Each row must be exactly `row_px` tall
/// (render.css gives `.vrow` that height).
#[component]
pub fn VirtualList(
    /// Number of rows (may change, e.g. when a subtest unfolds).
    #[prop(into)]
    n_rows: Signal<usize>,
    /// Height of every row in CSS pixels.
    row_px: u32,
    /// Largest height of the scroll box in CSS pixels.
    #[prop(default = 560)]
    viewport_px: u32,
    /// Renders row `i`.
    render_row: RowRenderer,
    /// Extra classes of the scroll box.
    #[prop(optional, into)]
    class: String,
    /// Accessible name of the list.
    #[prop(optional, into)]
    label: String,
) -> impl IntoView {
    let scroll_top = RwSignal::new(0.0_f64);
    let window = Memo::new(move |_| {
        let n = n_rows.get();
        if n <= RENDER_ALL_BELOW {
            VirtualWindow { start: 0, end: n, top_px: 0, bottom_px: 0 }
        } else {
            VirtualWindow::compute(n, row_px, scroll_top.get(), f64::from(viewport_px), OVERSCAN)
        }
    });
    let rows = move || {
        let w = window.get();
        (w.start..w.end).map(|i| render_row(i)).collect_view()
    };
    view! {
        <div
            class=format!("vlist {class}")
            style=format!("max-height:{viewport_px}px;--row:{row_px}px")
            tabindex="0"
            role="region"
            aria-label=label
            on:scroll=move |ev| {
                let element = event_target::<web_sys::Element>(&ev);
                scroll_top.set(f64::from(element.scroll_top()));
            }
        >
            <div class="vlist-inner">
                <div class="vlist-spacer" style=move || format!("height:{}px", window.get().top_px)></div>
                {rows}
                <div
                    class="vlist-spacer"
                    style=move || format!("height:{}px", window.get().bottom_px)
                ></div>
            </div>
        </div>
    }
    .into_any()
}
