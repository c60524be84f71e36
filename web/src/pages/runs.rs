//! Runs: a filterable, keyset-paginated list.

use leptos::prelude::*;

/// RunsPage (being built).
#[component]
pub fn RunsPage() -> impl IntoView {
    view! { <h1>"RunsPage"</h1> }
}
