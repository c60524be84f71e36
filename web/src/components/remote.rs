//! Glue between the API and the page: a data slot that shows [`Loading`], [`ErrorState`] or the
//! data, the page title, the current time at the page edge, query-string reading, and relative
//! times.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::ApiFailure;
use crate::components::states::{ErrorState, Loading};
use crate::logic::time_ago::{absolute_utc, time_ago_or_unknown};

/// An API answer that is loading (`None`) or arrived.
pub type Remote<T> = LocalResource<Result<T, ApiFailure>>;

/// Renders `resource`: [`Loading`] until it arrives, [`ErrorState`] with the server's message on
/// failure, else `render(data)`.
pub fn remote_view<T, V, F>(resource: Remote<T>, what: &'static str, render: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
{
    move || match resource.get() {
        None => view! { <Loading what=what/> }.into_any(),
        Some(Err(failure)) => view! { <ErrorState failure=failure/> }.into_any(),
        Some(Ok(data)) => render(data).into_any(),
    }
}

/// The current time in Unix milliseconds: the browser's clock in wasm, the system clock in
/// native tests. Called at the page edge only; `logic` takes it as an argument.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// Sets `document.title` to `"{title} · pgfarm"` (no-op outside the browser).
pub fn set_title(title: &str) {
    let full = if title.is_empty() { "pgfarm".to_owned() } else { format!("{title} · pgfarm") };
    #[cfg(target_arch = "wasm32")]
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        document.set_title(&full);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = full;
}

/// The origin of the page (`https://farm.example.org`), or `""` outside the browser.
pub fn origin() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}

/// The latest value of each query parameter, in order.
pub fn query_pairs(map: &ParamsMap) -> Vec<(String, String)> {
    map.latest_values().map(|(key, value)| (key.to_string(), value.to_owned())).collect()
}

/// A relative time ("3 h ago") in a `<time>` element whose tooltip is the UTC time.
#[component]
pub fn RelativeTime(
    /// RFC 3339 time; `None` reads "never".
    #[prop(into)]
    when: Option<String>,
) -> impl IntoView {
    match when {
        None => view! { <span class="muted">"never"</span> }.into_any(),
        Some(when) => {
            let words = time_ago_or_unknown(Some(&when), now_ms());
            let title = absolute_utc(&when);
            view! { <time datetime=when title=title>{words}</time> }.into_any()
        }
    }
}
