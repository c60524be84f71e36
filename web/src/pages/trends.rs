//! Trends: charts drawn with plotters on a canvas.

use leptos::prelude::*;

/// TrendsPage (being built).
#[component]
pub fn TrendsPage() -> impl IntoView {
    view! { <h1>"TrendsPage"</h1> }
}
