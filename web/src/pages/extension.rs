//! Extensions, one extension, and one extension version: versions, machine x PostgreSQL grid, badges.

use leptos::prelude::*;

/// ExtensionsPage (being built).
#[component]
pub fn ExtensionsPage() -> impl IntoView {
    view! { <h1>"ExtensionsPage"</h1> }
}

/// ExtensionPage (being built).
#[component]
pub fn ExtensionPage() -> impl IntoView {
    view! { <h1>"ExtensionPage"</h1> }
}

/// ExtensionVersionPage (being built).
#[component]
pub fn ExtensionVersionPage() -> impl IntoView {
    view! { <h1>"ExtensionVersionPage"</h1> }
}
