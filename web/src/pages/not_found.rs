//! The page for paths no route matches.

use leptos::prelude::*;

/// NotFoundPage (being built).
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! { <h1>"NotFoundPage"</h1> }
}
