//! One test's history across runs and PostgreSQL versions, with flaky marks.

use leptos::prelude::*;

/// TestHistoryPage (being built).
#[component]
pub fn TestHistoryPage() -> impl IntoView {
    view! { <h1>"TestHistoryPage"</h1> }
}
