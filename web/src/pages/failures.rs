//! Failures over the last days, filterable, with "hide now green".

use leptos::prelude::*;

/// FailuresPage (being built).
#[component]
pub fn FailuresPage() -> impl IntoView {
    view! { <h1>"FailuresPage"</h1> }
}
