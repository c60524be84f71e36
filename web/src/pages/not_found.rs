//! The page for paths no route matches.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::remote::set_title;

/// Any unknown path: says which, and where to go.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_title("Not found");
    let location = use_location();
    view! {
        <section class="page" data-page="not-found">
            <h1>"Page not found"</h1>
            <p>
                "Nothing lives at "
                <code>{move || location.pathname.get()}</code>
                "."
            </p>
            <p>
                <a href="/">"Go to the matrix"</a>
                " or "
                <a href="/runs">"the latest runs"</a>
                "."
            </p>
        </section>
    }
}
