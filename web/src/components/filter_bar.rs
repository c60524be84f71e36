//! Filter controls bound to the URL query: each change navigates to the same path with the
//! parameter set (and the page cursor dropped), so every filtered view is a link.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::components::remote::query_pairs;
use crate::logic::filters::with_param;

/// Returns a function that sets one query parameter of the current page (empty: removes it).
fn param_setter() -> impl Fn(&str, &str) + Clone + 'static {
    let navigate = use_navigate();
    let location = use_location();
    let query = use_query_map();
    move |key: &str, value: &str| {
        let pairs = query.with_untracked(query_pairs);
        let path = location.pathname.get_untracked();
        navigate(&format!("{path}{}", with_param(&pairs, key, value)), NavigateOptions::default());
    }
}

/// The current value of a query parameter, reactive.
fn param_value(key: &'static str) -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(key).unwrap_or_default()))
}

/// A text field for a query parameter; applied on change (Enter or leaving the field).
#[component]
pub fn TextFilter(
    /// Query parameter.
    key: &'static str,
    /// Visible label.
    label: &'static str,
    /// Placeholder text.
    #[prop(optional)]
    placeholder: &'static str,
    /// Input type (`text`, `date`, `number`).
    #[prop(default = "text")]
    kind: &'static str,
) -> impl IntoView {
    let set = param_setter();
    let value = param_value(key);
    view! {
        <label class="filter">
            <span class="filter-label">{label}</span>
            <input
                type=kind
                name=key
                placeholder=placeholder
                prop:value=move || value.get()
                on:change=move |ev| set(key, &event_target_value(&ev))
            />
        </label>
    }
}

/// A select for a query parameter, with an "any" choice that removes it.
#[component]
pub fn SelectFilter(
    /// Query parameter.
    key: &'static str,
    /// Visible label.
    label: &'static str,
    /// Choices: (value, text).
    options: Vec<(String, String)>,
    /// Text of the empty choice.
    #[prop(default = "any")]
    any: &'static str,
) -> impl IntoView {
    let set = param_setter();
    let value = param_value(key);
    let options = options
        .into_iter()
        .map(|(choice, text)| {
            let selected_choice = choice.clone();
            view! {
                <option value=choice selected=move || value.get() == selected_choice>
                    {text}
                </option>
            }
        })
        .collect_view();
    view! {
        <label class="filter">
            <span class="filter-label">{label}</span>
            <select name=key on:change=move |ev| set(key, &event_target_value(&ev))>
                <option value="" selected=move || value.get().is_empty()>
                    {any}
                </option>
                {options}
            </select>
        </label>
    }
}

/// A checkbox for a boolean query parameter (`true` when checked, removed when not).
#[component]
pub fn CheckFilter(
    /// Query parameter.
    key: &'static str,
    /// Visible label.
    label: &'static str,
) -> impl IntoView {
    let set = param_setter();
    let value = param_value(key);
    view! {
        <label class="filter filter-check">
            <input
                type="checkbox"
                name=key
                prop:checked=move || matches!(value.get().as_str(), "true" | "1" | "on")
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    set(key, if on { "true" } else { "" })
                }
            />
            <span class="filter-label">{label}</span>
        </label>
    }
}

/// Choices from a list of words (value and text the same).
pub fn word_options<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    words.into_iter().map(|word| (word.to_owned(), word.to_owned())).collect()
}
