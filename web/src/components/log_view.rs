//! A log (stage output, psql stderr, server log) as numbered lines in a virtual list, with
//! ERROR/FATAL/PANIC lines highlighted and a download of the exact bytes through a Blob URL.

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::virtual_list::{RowRenderer, VirtualList};
use crate::logic::log_lines::LogLines;

/// Height of one log line in CSS pixels (render.css `.vrow`).
pub const LINE_PX: u32 = 18;

/// A log's lines with their numbers; `raw` is what the download button saves (the exact
/// bytes, also when they are not UTF-8), `file_name` its name.
#[component]
pub fn LogView(
    /// The log as text (invalid UTF-8 already replaced).
    text: Arc<str>,
    /// The exact bytes, for the download.
    raw: Arc<[u8]>,
    /// File name offered by the download (`build.log`).
    #[prop(into)]
    file_name: String,
) -> impl IntoView {
    let lines = Arc::new(LogLines::split(&text));
    let n = lines.lines.len();
    let summary = match (n, lines.n_errors) {
        (0, _) => "empty".to_owned(),
        (n, 0) => format!("{n} lines"),
        (n, e) => format!("{n} lines, {e} with errors"),
    };
    let render: RowRenderer = {
        let lines = lines.clone();
        let text = text.clone();
        Arc::new(move |i: usize| {
            let line = &lines.lines[i];
            let class = format!("vrow log-line {}", line.level.class());
            let content = text[line.range.clone()].to_owned();
            view! {
                <div class=class>
                    <span class="ln" aria-hidden="true">{line.number}</span>
                    <span class="tx">{content}</span>
                </div>
            }
            .into_any()
        })
    };
    let download_name = file_name.clone();
    view! {
        <div class="log-view">
            <div class="log-tools">
                <span class="log-summary">{summary}</span>
                <button
                    type="button"
                    class="log-download"
                    on:click=move |_| download(&raw, &download_name)
                >
                    "Download "
                    {file_name.clone()}
                </button>
            </div>
            {(n > 0)
                .then(|| {
                    view! {
                        <VirtualList
                            n_rows=Signal::stored(n)
                            row_px=LINE_PX
                            render_row=render
                            class="log-lines"
                            label=file_name
                        />
                    }
                })}
        </div>
    }
    .into_any()
}

/// Saves `bytes` as `name` through a temporary Blob URL (no request to any server).
pub fn download(bytes: &[u8], name: &str) {
    let Some(window) = web_sys::window() else { return };
    let Some(document) = window.document() else { return };
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(anchor) = document.create_element("a")
        && let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    // Revoke after the click has been handled.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
}
