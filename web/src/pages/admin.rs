//! Admin: machines pending approval, approved with the admin token.

use leptos::prelude::*;

/// AdminPage (being built).
#[component]
pub fn AdminPage() -> impl IntoView {
    view! { <h1>"AdminPage"</h1> }
}
