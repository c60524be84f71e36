//! The offline viewer: a dropped or picked bundle file rendered with no request to any server.

use leptos::prelude::*;

/// ViewPage (being built).
#[component]
pub fn ViewPage() -> impl IntoView {
    view! { <h1>"ViewPage"</h1> }
}
