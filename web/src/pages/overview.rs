//! Overview: the status matrix, extension x PostgreSQL major (and platform).

use leptos::prelude::*;

/// OverviewPage (being built).
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! { <h1>"OverviewPage"</h1> }
}
