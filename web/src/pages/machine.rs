//! Machines and one machine: owner, platform, last seen, what it tested.

use leptos::prelude::*;

/// MachinesPage (being built).
#[component]
pub fn MachinesPage() -> impl IntoView {
    view! { <h1>"MachinesPage"</h1> }
}

/// MachinePage (being built).
#[component]
pub fn MachinePage() -> impl IntoView {
    view! { <h1>"MachinePage"</h1> }
}
