//! Badge snippets to copy: Markdown and HTML for the server's `/badge/EXT.svg` and
//! `/badge/EXT/pgN.svg`, linking to the extension's page.

use crate::logic::filters::encode_component;

/// One badge with the snippets that embed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeSnippet {
    /// What the badge covers ("all PostgreSQL versions", "PostgreSQL 17").
    pub title: String,
    /// Absolute URL of the SVG.
    pub image_url: String,
    /// Markdown: `[![pgfarm EXT](SVG)](PAGE)`.
    pub markdown: String,
    /// HTML: `<a href="PAGE"><img src="SVG" alt="pgfarm EXT"></a>`, attribute values escaped.
    pub html: String,
}

/// Escapes text for an HTML attribute value in double quotes.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

/// Escapes the characters Markdown link text treats specially.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\[]()<>*_`!".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The snippets for an extension: the overall badge, then one per PostgreSQL major in `majors`.
/// `origin` is the site's origin (`https://farm.example.org`, no trailing slash); the extension
/// name is percent-encoded in every URL, so any name gives working, inert snippets.
pub fn badge_snippets(origin: &str, extension: &str, majors: &[i64]) -> Vec<BadgeSnippet> {
    let origin = origin.trim_end_matches('/');
    let name = encode_component(extension);
    let page = format!("{origin}/extensions/{name}");
    let alt = format!("pgfarm {extension}");
    let mut badges =
        vec![("all PostgreSQL versions".to_owned(), format!("{origin}/badge/{name}.svg"))];
    badges.extend(majors.iter().map(|major| {
        (format!("PostgreSQL {major}"), format!("{origin}/badge/{name}/pg{major}.svg"))
    }));
    badges
        .into_iter()
        .map(|(title, image_url)| BadgeSnippet {
            markdown: format!("[![{}]({image_url})]({page})", markdown_text(&alt)),
            html: format!(
                "<a href=\"{}\"><img src=\"{}\" alt=\"{}\"></a>",
                attribute(&page),
                attribute(&image_url),
                attribute(&alt)
            ),
            title,
            image_url,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_point_at_the_servers_badge_routes() {
        let badges = badge_snippets("https://farm.example.org/", "pg_partman", &[16, 17]);
        assert_eq!(badges.len(), 3);
        assert_eq!(badges[0].image_url, "https://farm.example.org/badge/pg_partman.svg");
        assert_eq!(badges[2].image_url, "https://farm.example.org/badge/pg_partman/pg17.svg");
        assert_eq!(
            badges[0].markdown,
            "[![pgfarm pg\\_partman](https://farm.example.org/badge/pg_partman.svg)](https://farm.example.org/extensions/pg_partman)"
        );
        assert_eq!(
            badges[1].html,
            "<a href=\"https://farm.example.org/extensions/pg_partman\"><img src=\"https://farm.example.org/badge/pg_partman/pg16.svg\" alt=\"pgfarm pg_partman\"></a>"
        );
    }

    #[test]
    fn hostile_extension_names_cannot_break_out_of_the_snippets() {
        let name = "x\"><script>alert(1)</script>](javascript:alert(2))";
        let badges = badge_snippets("http://h", name, &[15]);
        for badge in &badges {
            assert!(!badge.html.contains("<script"), "{}", badge.html);
            assert!(!badge.image_url.contains('"') && !badge.image_url.contains('<'));
            assert!(!badge.markdown.contains("](javascript"), "{}", badge.markdown);
        }
    }
}
