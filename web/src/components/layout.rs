//! The page shell: skip link, header with navigation and the theme switch, and the main area.

use leptos::prelude::*;

/// The theme saved in localStorage under this key: `light` or `dark`.
const THEME_KEY: &str = "pgfarm-theme";

/// Whether the page shows the dark theme now: `html[data-theme]` when set, else the system
/// preference.
fn dark_now() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(window) = web_sys::window() else { return false };
        let attribute = window
            .document()
            .and_then(|document| document.document_element())
            .and_then(|root| root.get_attribute("data-theme"));
        match attribute.as_deref() {
            Some("dark") => true,
            Some("light") => false,
            _ => window
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .is_some_and(|query| query.matches()),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// Shows `theme` (`light` or `dark`) and remembers it in localStorage.
fn apply_theme(theme: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let Some(window) = web_sys::window() else { return };
        if let Some(root) = window.document().and_then(|document| document.document_element()) {
            let _ = root.set_attribute("data-theme", theme);
        }
        if let Ok(Some(storage)) = window.local_storage() {
            let _ = storage.set_item(THEME_KEY, theme);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (theme, THEME_KEY);
}

/// Calls `changed` when the system colour scheme changes (the page follows it while the user has
/// not chosen a theme). The listener lives as long as the page: the shell is never unmounted.
fn on_system_theme_change(changed: impl Fn() + 'static) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Some(window) = web_sys::window() else { return };
        let Ok(Some(query)) = window.match_media("(prefers-color-scheme: dark)") else { return };
        let callback = Closure::<dyn Fn()>::new(changed);
        if query
            .add_event_listener_with_callback("change", callback.as_ref().unchecked_ref())
            .is_ok()
        {
            callback.forget();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = changed;
}

/// The button that switches between the light and the dark theme; until it is used, the page
/// follows the system colour scheme, also when that changes while the page is open.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(dark_now());
    on_system_theme_change(move || dark.set(dark_now()));
    view! {
        <button
            type="button"
            class="theme-toggle"
            aria-pressed=move || if dark.get() { "true" } else { "false" }
            title="Switch between the light and the dark theme"
            on:click=move |_| {
                let next = !dark.get_untracked();
                apply_theme(if next { "dark" } else { "light" });
                dark.set(next);
            }
        >
            <span aria-hidden="true">{move || if dark.get() { "☀" } else { "☾" }}</span>
            " "
            {move || if dark.get() { "Light theme" } else { "Dark theme" }}
        </button>
    }
}

/// Skip link, header, navigation and main area around the routed page.
#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let main_ref = NodeRef::<leptos::html::Main>::new();
    // The router handles link clicks itself, so the browser's own move of focus to `#main` does
    // not happen: the skip link moves it.
    let skip = move |ev: leptos::ev::MouseEvent| {
        if let Some(main) = main_ref.get() {
            ev.prevent_default();
            let _ = main.focus();
        }
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip>
            "Skip to content"
        </a>
        <header class="site-header">
            <a class="brand" href="/">"pgfarm"</a>
            <nav class="site-nav" aria-label="Main">
                <a href="/">"Matrix"</a>
                <a href="/extensions">"Extensions"</a>
                <a href="/runs">"Runs"</a>
                <a href="/failures">"Failures"</a>
                <a href="/machines">"Machines"</a>
                <a href="/trends">"Trends"</a>
                <a href="/view">"Open a bundle"</a>
                <a href="/admin">"Admin"</a>
            </nav>
            <ThemeToggle/>
        </header>
        <main id="main" tabindex="-1" node_ref=main_ref>{children()}</main>
    }
}
