//! The page shell: header with navigation and the theme switch, and the main area.

use leptos::prelude::*;
use leptos_router::components::A;

/// Header, navigation and main area around the routed page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <A href="/">"pgfarm"</A>
            <nav>
                <A href="/runs">"Runs"</A>
                <A href="/failures">"Failures"</A>
                <A href="/machines">"Machines"</A>
                <A href="/trends">"Trends"</A>
                <A href="/view">"Open a bundle"</A>
            </nav>
        </header>
        <main id="main">{children()}</main>
    }
}
