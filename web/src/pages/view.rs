//! The offline viewer: a dropped or picked bundle file rendered with no request to any server;
//! or `?src=/path` (a same-origin path, used by `pgfarm view BUNDLE`) fetched and rendered.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pgfarm_model::{Bundle, BundleError, ReadOptions};
use wasm_bindgen_futures::JsFuture;

use crate::api::get_bytes;
use crate::components::remote::set_title;
use crate::components::run_view::{RunView, mark_data_arrived};
use crate::components::states::Loading;
use crate::pages::run::MAX_BUNDLE_BYTES;

/// What the viewer shows.
#[derive(Clone)]
enum Viewed {
    /// Nothing picked yet.
    Idle,
    /// Reading `name`.
    Reading(String),
    /// A parsed bundle from `name`, with a note when it did not validate.
    Shown { name: String, bundle: Arc<Bundle>, warning: Option<String> },
    /// Why `name` could not be shown.
    Failed { name: String, message: String },
}

/// Checks a `?src=` value: a same-origin absolute path (`/x/y.pgfarm.json.gz`), never a URL,
/// a protocol-relative `//host`, or a path with a backslash.
pub fn check_src(src: &str) -> Result<&str, String> {
    let ok = src.starts_with('/')
        && !src.starts_with("//")
        && !src.contains('\\')
        && !src.chars().any(|c| c.is_control());
    if ok {
        Ok(src)
    } else {
        Err(format!(
            "refused to fetch {src:?}: the src parameter must be a path on this server starting with \"/\""
        ))
    }
}

/// Parses bundle bytes as the viewer does: validated; a bundle that decodes but does not
/// validate is still shown, with the validation problem as a warning.
pub fn parse_bundle(bytes: &[u8]) -> Result<(Bundle, Option<String>), BundleError> {
    let strict = ReadOptions { max_decompressed_bytes: MAX_BUNDLE_BYTES, validate: true };
    match Bundle::from_slice_with(bytes, &strict) {
        Ok(bundle) => Ok((bundle, None)),
        Err(BundleError::Invalid(problem)) => {
            let lax = ReadOptions { validate: false, ..strict };
            let bundle = Bundle::from_slice_with(bytes, &lax)?;
            Ok((bundle, Some(format!("This bundle is inconsistent: {problem}"))))
        }
        Err(other) => Err(other),
    }
}

fn show(state: RwSignal<Viewed>, name: String, bytes: &[u8]) {
    mark_data_arrived();
    let parsed = parse_bundle(bytes);
    crate::components::run_view::mark("pgfarm:parsed");
    state.set(match parsed {
        Ok((bundle, warning)) => {
            set_title(&format!("{} {}", bundle.extension.name, bundle.extension.version));
            Viewed::Shown { name, bundle: Arc::new(bundle), warning }
        }
        Err(e) => Viewed::Failed { name, message: e.to_string() },
    });
}

fn read_file(state: RwSignal<Viewed>, file: web_sys::File) {
    let name = file.name();
    state.set(Viewed::Reading(name.clone()));
    leptos::task::spawn_local(async move {
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                show(state, name, &bytes);
            }
            Err(e) => {
                let message = format!("the browser could not read the file: {e:?}");
                state.set(Viewed::Failed { name, message });
            }
        }
    });
}

/// `/view`.
#[component]
pub fn ViewPage() -> impl IntoView {
    set_title("Open a bundle");
    let state = RwSignal::new(Viewed::Idle);
    let dragging = RwSignal::new(false);
    let query = use_query_map();
    Effect::new(move |_| {
        let Some(src) = query.with(|q| q.get("src")) else { return };
        match check_src(&src) {
            Err(message) => state.set(Viewed::Failed { name: src, message }),
            Ok(path) => {
                let path = path.to_owned();
                state.set(Viewed::Reading(path.clone()));
                leptos::task::spawn_local(async move {
                    match get_bytes(&path).await {
                        Ok(bytes) => show(state, path, &bytes),
                        Err(e) => state.set(Viewed::Failed { name: path, message: e.to_string() }),
                    }
                });
            }
        }
    });
    let on_change = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            read_file(state, file);
        }
        // Picking the same file again must fire `change` again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            read_file(state, file);
        }
    };
    view! {
        <section class="page" data-page="view">
            <h1>"Open a bundle"</h1>
            <div
                class="drop-zone"
                class:dragging=move || dragging.get()
                data-testid="drop-zone"
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>
                    "Drop a result bundle here ("
                    <code>".pgfarm.json.gz"</code>
                    " or "
                    <code>".pgfarm.json"</code>
                    "), or pick one. It is read and rendered in this browser; nothing is uploaded."
                </p>
                <label class="file-pick">
                    "Bundle file "
                    <input
                        type="file"
                        data-testid="bundle-file"
                        accept=".gz,.json,application/json,application/gzip"
                        on:change=on_change
                    />
                </label>
            </div>
            {move || match state.get() {
                Viewed::Idle => ().into_any(),
                Viewed::Reading(name) => view! { <Loading what=name/> }.into_any(),
                Viewed::Failed { name, message } => {
                    view! {
                        <div class="state state-error" role="alert">
                            <strong>"Could not open " {name} ": "</strong>
                            <span class="error-message">{message}</span>
                        </div>
                    }
                        .into_any()
                }
                Viewed::Shown { name, bundle, warning } => {
                    view! {
                        <p class="muted view-file">"From " <code>{name}</code></p>
                        <RunView bundle=bundle warning=warning.unwrap_or_default()/>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn src_must_be_a_same_origin_path() {
        assert_eq!(check_src("/bundles/x.pgfarm.json.gz"), Ok("/bundles/x.pgfarm.json.gz"));
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "x.json",
            "",
            "/\\evil",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            let err = check_src(bad).unwrap_err();
            assert!(err.contains("refused"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_bad_file_is_refused_with_a_message_naming_the_problem() {
        let err = parse_bundle(b"<html>not a bundle</html>").unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        let err = parse_bundle(&[0x1f, 0x8b, 0, 1, 2]).unwrap_err().to_string();
        assert!(err.contains("gzip"), "{err}");
        let err = parse_bundle(br#"{"format_version": 1, "run": 3}"#).unwrap_err().to_string();
        assert!(err.contains("run"), "{err}");
    }

    #[test]
    fn the_sample_bundles_open_gzip_and_plain() {
        for name in [
            "pass.pgfarm.json.gz",
            "pass.pgfarm.json",
            "hostile.pgfarm.json",
            "tap-fail.pgfarm.json",
        ] {
            let path = format!("{}/../testdata/bundles/{name}", env!("CARGO_MANIFEST_DIR"));
            let (bundle, warning) = parse_bundle(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(warning, None, "{name}");
            assert!(!bundle.stages.is_empty());
        }
    }
}
