//! The page shell: skip link, header with navigation and the theme switch, and the main area.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

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
            _ => {
                window.match_media(DARK_SCHEME).ok().flatten().is_some_and(|query| query.matches())
            }
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

/// The media query of the system's dark colour scheme.
const DARK_SCHEME: &str = "(prefers-color-scheme: dark)";

/// A listener on changes of the system colour scheme; [`SchemeListener::stop`] removes it.
/// (Browser only: construct it in code that runs in wasm.)
pub struct SchemeListener {
    query: web_sys::MediaQueryList,
    callback: Closure<dyn Fn()>,
}

impl SchemeListener {
    /// Calls `changed` whenever the system switches between light and dark.
    pub fn new(changed: impl Fn() + 'static) -> Option<SchemeListener> {
        let query = web_sys::window()?.match_media(DARK_SCHEME).ok().flatten()?;
        let callback = Closure::<dyn Fn()>::new(changed);
        query.add_event_listener_with_callback("change", callback.as_ref().unchecked_ref()).ok()?;
        Some(SchemeListener { query, callback })
    }

    /// Removes the listener.
    pub fn stop(&self) {
        let _ = self
            .query
            .remove_event_listener_with_callback("change", self.callback.as_ref().unchecked_ref());
    }
}

/// The button that switches between the light and the dark theme; until it is used, the page
/// follows the system colour scheme, also when that changes while the page is open.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(dark_now());
    // The page follows the system until the button is used; the shell is never unmounted, so
    // the listener lives as long as the page.
    #[cfg(target_arch = "wasm32")]
    std::mem::forget(SchemeListener::new(move || dark.set(dark_now())));
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
                <a href="/users">"Authors"</a>
                <a href="/trends">"Trends"</a>
                <a href="/view">"Open a bundle"</a>
                <a href="/admin">"Admin"</a>
            </nav>
            <ThemeToggle/>
        </header>
        <main id="main" tabindex="-1" node_ref=main_ref>{children()}</main>
    }
}
