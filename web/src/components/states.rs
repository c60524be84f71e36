//! Loading, error and empty states shared by every page, so no page is ever blank.

use leptos::prelude::*;

use crate::api::ApiFailure;

/// A placeholder of fixed height while data loads (no layout jump when it arrives).
#[component]
pub fn Loading(#[prop(optional, into)] what: Option<String>) -> impl IntoView {
    let label = what.map(|w| format!("Loading {w}…")).unwrap_or_else(|| "Loading…".to_owned());
    view! {
        <div class="state state-loading" role="status" aria-live="polite">
            {label}
        </div>
    }
}

/// An API failure, with the server's message.
#[component]
pub fn ErrorState(
    /// What failed, with the server's message.
    failure: ApiFailure,
    /// The sentence before the message (default: "Could not load this page.").
    #[prop(optional, into)]
    title: Option<String>,
) -> impl IntoView {
    let title = title.unwrap_or_else(|| "Could not load this page.".to_owned());
    view! {
        <div class="state state-error" role="alert">
            <strong>{title}</strong>
            " "
            <span class="error-message">{failure.to_string()}</span>
        </div>
    }
}

/// Nothing to show, and why.
#[component]
pub fn Empty(#[prop(into)] message: String) -> impl IntoView {
    view! { <div class="state state-empty">{message}</div> }
}
