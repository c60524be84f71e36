//! The status badge: a status word with an icon and the class `status-<word>`, so colour is never
//! the only signal.

use leptos::prelude::*;

/// The icon shown before a status word (text, so it works without images and in every theme).
pub fn status_icon(word: &str) -> &'static str {
    match word {
        "ok" | "passed" => "✓",
        "failed" | "fail" => "✗",
        "error" => "!",
        "timeout" => "⏱",
        "skipped" | "skip" => "↷",
        "missing" => "∅",
        "interrupted" => "■",
        "ignored" => "~",
        "pending" => "…",
        "todo" => "?",
        _ => "•",
    }
}

/// The CSS class for a status word: `status-` followed by the word reduced to `[a-z0-9_-]`, so a
/// strange word from the API cannot produce another class.
pub fn status_class(word: &str) -> String {
    let clean: String = word
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if clean.is_empty() { "status-unknown".to_owned() } else { format!("status-{clean}") }
}

/// A status word (the serde name of `RunStatus`, `StageStatus` or `TestStatus`, or `pending`,
/// `timeout` ...) rendered as `<span class="badge status-WORD">ICON WORD</span>`.
///
/// `label` replaces the shown word (e.g. "failed at regress") while the class keeps `status`.
#[component]
pub fn StatusBadge(
    /// The status word: decides the class and the icon.
    #[prop(into)]
    status: String,
    /// Text to show instead of the status word.
    #[prop(optional, into)]
    label: Option<String>,
) -> impl IntoView {
    let class = format!("badge {}", status_class(&status));
    let icon = status_icon(&status);
    let text = label.unwrap_or_else(|| status.clone());
    view! {
        <span class=class data-status=status>
            <span class="badge-icon" aria-hidden="true">{icon}</span>
            " "
            <span class="badge-word">{text}</span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_class_keeps_serde_names_and_strips_everything_else() {
        assert_eq!(status_class("ok"), "status-ok");
        assert_eq!(status_class("interrupted"), "status-interrupted");
        assert_eq!(status_class("Failed"), "status-failed");
        assert_eq!(status_class("x\" onclick=\"y"), "status-xonclicky");
        assert_eq!(status_class("<>"), "status-unknown");
    }

    #[test]
    fn every_model_status_has_its_own_icon() {
        for word in
            ["ok", "failed", "error", "timeout", "skipped", "missing", "interrupted", "ignored"]
        {
            assert_ne!(status_icon(word), "•", "{word} has no icon");
        }
    }
}
