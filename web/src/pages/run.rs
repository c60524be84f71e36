//! One run: stages, logs, regress diffs and TAP trees computed in the browser from its bundle.

use leptos::prelude::*;

/// RunPage (being built).
#[component]
pub fn RunPage() -> impl IntoView {
    view! { <h1>"RunPage"</h1> }
}
