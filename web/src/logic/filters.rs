//! Filters kept in the URL query: the run list's and the failure list's, with their round trip
//! to query strings (page links) and to API paths, and query-string encoding.

/// The run statuses a filter can ask for (serde names of `RunStatus`).
pub const RUN_STATUSES: [&str; 4] = ["ok", "failed", "error", "interrupted"];
/// The stages a "first failed stage" filter can ask for (serde names of `StageKind`).
pub const STAGES: [&str; 7] = ["build", "install", "cluster", "load", "regress", "tap", "upgrade"];
/// The PGXN release statuses a filter can ask for.
pub const RELEASE_STATUSES: [&str; 3] = ["stable", "testing", "unstable"];
/// The "days back" choices of the failures page.
pub const DAY_CHOICES: [u32; 4] = [7, 30, 90, 365];
/// Rows per page asked of the API.
pub const PAGE_SIZE: u32 = 50;

/// Percent-encodes a query component: everything but RFC 3986 unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes a query component: `%XX` escapes and `+` as a space; a broken escape stays as written
/// and invalid UTF-8 becomes U+FFFD.
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push(high * 16 + low);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|digit| u8::try_from(digit).ok())
}

/// The pairs of a query string (with or without the leading `?`), decoded, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((key, value)) => (decode_component(key), decode_component(value)),
            None => (decode_component(part), String::new()),
        })
        .collect()
}

/// `?k=v&...` for the pairs with a non-empty value, or `""` when there are none.
pub fn to_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.as_ref().is_empty())
        .map(|(key, value)| {
            format!("{}={}", encode_component(key.as_ref()), encode_component(value.as_ref()))
        })
        .collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// The query after a filter control changed: `key` set to `value` (removed when empty), and the
/// page cursor `after` dropped, since a new filter starts again at the newest page.
pub fn with_param(pairs: &[(String, String)], key: &str, value: &str) -> String {
    let mut next: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| k != key && k != "after").cloned().collect();
    if !value.trim().is_empty() {
        next.push((key.to_owned(), value.trim().to_owned()));
    }
    to_query(&next)
}

fn text(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The filters of the run list (`/runs`), mirroring `GET /api/v1/runs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilters {
    /// Extension name.
    pub extension: Option<String>,
    /// Extension version.
    pub version: Option<String>,
    /// Machine name.
    pub machine: Option<String>,
    /// PostgreSQL major.
    pub pg: Option<String>,
    /// First failed stage.
    pub stage: Option<String>,
    /// Run status.
    pub status: Option<String>,
    /// Received at or after (RFC 3339 or `YYYY-MM-DD`).
    pub since: Option<String>,
    /// Received before (RFC 3339 or `YYYY-MM-DD`).
    pub until: Option<String>,
    /// Page cursor: the previous page's `next`.
    pub after: Option<String>,
}

impl RunFilters {
    /// Reads the filters from query pairs; unknown keys and empty values are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> RunFilters {
        let mut filters = RunFilters::default();
        for (key, value) in pairs {
            let slot = match key {
                "extension" => &mut filters.extension,
                "version" => &mut filters.version,
                "machine" => &mut filters.machine,
                "pg" => &mut filters.pg,
                "stage" => &mut filters.stage,
                "status" => &mut filters.status,
                "since" => &mut filters.since,
                "until" => &mut filters.until,
                "after" => &mut filters.after,
                _ => continue,
            };
            *slot = text(value);
        }
        filters
    }

    /// The set filters as query pairs, in a fixed order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("extension", &self.extension),
            ("version", &self.version),
            ("machine", &self.machine),
            ("pg", &self.pg),
            ("stage", &self.stage),
            ("status", &self.status),
            ("since", &self.since),
            ("until", &self.until),
            ("after", &self.after),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|value| (key, value)))
        .collect()
    }

    /// The page's query string (`?extension=...`), or `""`.
    pub fn query(&self) -> String {
        to_query(&self.to_pairs())
    }

    /// `GET /api/v1/runs?...&limit=N` for these filters.
    pub fn api_path(&self, limit: u32) -> String {
        let mut pairs = self.to_pairs();
        pairs.push(("limit", limit.to_string()));
        format!(crate::api!("/runs{}"), to_query(&pairs))
    }

    /// The same filters on the page after `next`.
    pub fn next_page(&self, next: &str) -> RunFilters {
        RunFilters { after: Some(next.to_owned()), ..self.clone() }
    }
}

/// The filters of the failures page (`/failures`), mirroring `GET /api/v1/failures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureFilters {
    /// Days back (the API accepts 1 to 3660; the page offers [`DAY_CHOICES`]).
    pub days: u32,
    /// Drop failures whose matrix cell is green now.
    pub hide_now_green: bool,
    /// Extension name.
    pub extension: Option<String>,
    /// Extension version.
    pub version: Option<String>,
    /// Machine name.
    pub machine: Option<String>,
    /// PostgreSQL major.
    pub pg: Option<String>,
    /// First failed stage.
    pub stage: Option<String>,
    /// Page cursor: the previous page's `next`.
    pub after: Option<String>,
}

impl Default for FailureFilters {
    fn default() -> FailureFilters {
        FailureFilters {
            days: 7,
            hide_now_green: false,
            extension: None,
            version: None,
            machine: None,
            pg: None,
            stage: None,
            after: None,
        }
    }
}

impl FailureFilters {
    /// Reads the filters from query pairs; a `days` that is not a number in 1..=3660 reads as
    /// 7, `hide_now_green` is on for `true`, `1` or `on`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> FailureFilters {
        let mut filters = FailureFilters::default();
        for (key, value) in pairs {
            let slot = match key {
                "days" => {
                    filters.days = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|days| (1..=3660).contains(days))
                        .unwrap_or(7);
                    continue;
                }
                "hide_now_green" => {
                    filters.hide_now_green = matches!(value.trim(), "true" | "1" | "on");
                    continue;
                }
                "extension" => &mut filters.extension,
                "version" => &mut filters.version,
                "machine" => &mut filters.machine,
                "pg" => &mut filters.pg,
                "stage" => &mut filters.stage,
                "after" => &mut filters.after,
                _ => continue,
            };
            *slot = text(value);
        }
        filters
    }

    /// The filters as query pairs: `days` only when not 7, `hide_now_green` only when on.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.days != 7 {
            pairs.push(("days", self.days.to_string()));
        }
        if self.hide_now_green {
            pairs.push(("hide_now_green", "true".to_owned()));
        }
        for (key, value) in [
            ("extension", &self.extension),
            ("version", &self.version),
            ("machine", &self.machine),
            ("pg", &self.pg),
            ("stage", &self.stage),
            ("after", &self.after),
        ] {
            if let Some(value) = value {
                pairs.push((key, value.clone()));
            }
        }
        pairs
    }

    /// The page's query string, or `""` for the defaults.
    pub fn query(&self) -> String {
        to_query(&self.to_pairs())
    }

    /// `GET /api/v1/failures?days=N&...&limit=N` for these filters (`days` always given).
    pub fn api_path(&self, limit: u32) -> String {
        let mut pairs = vec![("days", self.days.to_string())];
        pairs.extend(self.to_pairs().into_iter().filter(|(key, _)| *key != "days"));
        pairs.push(("limit", limit.to_string()));
        format!(crate::api!("/failures{}"), to_query(&pairs))
    }

    /// The same filters on the page after `next`.
    pub fn next_page(&self, next: &str) -> FailureFilters {
        FailureFilters { after: Some(next.to_owned()), ..self.clone() }
    }
}

/// The filters of the matrix (`/`): a platform and a release status, applied to the cells the
/// page read once (`GET /api/v1/matrix` answers the same `release_status` filter for API users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixFilters {
    /// `os/arch`.
    pub platform: Option<String>,
    /// `stable`, `testing` or `unstable`.
    pub release_status: Option<String>,
}

impl MatrixFilters {
    /// Reads the filters from query pairs; unknown keys, empty values and unknown release
    /// statuses are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> MatrixFilters {
        let mut filters = MatrixFilters::default();
        for (key, value) in pairs {
            match key {
                "platform" => filters.platform = text(value),
                "release_status" => {
                    filters.release_status =
                        text(value).filter(|status| RELEASE_STATUSES.contains(&status.as_str()));
                }
                _ => {}
            }
        }
        filters
    }

    /// The set filters as query pairs, in a fixed order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        [("platform", &self.platform), ("release_status", &self.release_status)]
            .into_iter()
            .filter_map(|(key, value)| value.clone().map(|value| (key, value)))
            .collect()
    }

    /// The page's query string, or `""`.
    pub fn query(&self) -> String {
        to_query(&self.to_pairs())
    }

    /// Whether a cell passes the release status filter (a version without a known release
    /// counts as stable, as the server counts it); the platform is the matrix table's.
    pub fn keeps(&self, cell: &pgfarm_model::api::MatrixCell) -> bool {
        self.release_status
            .as_deref()
            .is_none_or(|wanted| cell.release_status.as_deref().unwrap_or("stable") == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_filters_round_trip_and_filter_by_release_status() {
        let filters = MatrixFilters {
            platform: Some("linux/x86_64".into()),
            release_status: Some("testing".into()),
        };
        assert_eq!(filters.query(), "?platform=linux%2Fx86_64&release_status=testing");
        let pairs = parse_query(&filters.query());
        assert_eq!(MatrixFilters::from_pairs(borrowed(&pairs)), filters);
        assert_eq!(
            MatrixFilters::from_pairs([("release_status", "nightly")]),
            MatrixFilters::default()
        );
        let mut cell: pgfarm_model::api::MatrixCell =
            serde_json::from_str::<Vec<pgfarm_model::api::MatrixCell>>(include_str!(
                "fixtures/matrix.json"
            ))
            .unwrap()
            .remove(0);
        cell.release_status = None;
        let stable =
            MatrixFilters { release_status: Some("stable".into()), ..MatrixFilters::default() };
        assert!(stable.keeps(&cell), "a version without a known release counts as stable");
        assert!(!filters.keeps(&cell));
        cell.release_status = Some("testing".into());
        assert!(filters.keeps(&cell) && !stable.keeps(&cell));
        assert!(MatrixFilters::default().keeps(&cell));
    }

    fn pairs_of(query: &str) -> Vec<(String, String)> {
        parse_query(query)
    }

    fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    #[test]
    fn run_filters_survive_a_round_trip_through_the_query_string() {
        let filters = RunFilters {
            extension: Some("pg_partman".into()),
            version: Some("5.0.0 beta+1".into()),
            machine: Some("bookworm-x86".into()),
            pg: Some("17".into()),
            stage: Some("regress".into()),
            status: Some("failed".into()),
            since: Some("2026-11-01".into()),
            until: Some("2026-11-22T10:00:00+01:00".into()),
            after: Some("12345".into()),
        };
        let query = filters.query();
        assert!(query.contains("version=5.0.0%20beta%2B1"), "{query}");
        assert!(query.contains("until=2026-11-22T10%3A00%3A00%2B01%3A00"), "{query}");
        let pairs = pairs_of(&query);
        assert_eq!(RunFilters::from_pairs(borrowed(&pairs)), filters);
    }

    #[test]
    fn empty_and_unknown_parameters_are_dropped() {
        let pairs = pairs_of("?extension=&pg=%2015%20&bogus=1&status=ok");
        let filters = RunFilters::from_pairs(borrowed(&pairs));
        assert_eq!(
            filters,
            RunFilters {
                pg: Some("15".into()),
                status: Some("ok".into()),
                ..RunFilters::default()
            }
        );
        assert_eq!(RunFilters::default().query(), "");
    }

    #[test]
    fn run_filters_make_the_api_path_with_a_limit() {
        let filters = RunFilters { extension: Some("a&b=c".into()), ..RunFilters::default() };
        assert_eq!(filters.api_path(50), "/api/v1/runs?extension=a%26b%3Dc&limit=50");
        assert_eq!(
            filters.next_page("99").api_path(10),
            "/api/v1/runs?extension=a%26b%3Dc&after=99&limit=10"
        );
    }

    #[test]
    fn failure_filters_default_to_seven_days_and_round_trip() {
        assert_eq!(FailureFilters::default().query(), "");
        assert_eq!(FailureFilters::default().api_path(50), "/api/v1/failures?days=7&limit=50");
        let filters = FailureFilters {
            days: 90,
            hide_now_green: true,
            pg: Some("16".into()),
            after: Some("1763790000000_42".into()),
            ..FailureFilters::default()
        };
        assert_eq!(filters.query(), "?days=90&hide_now_green=true&pg=16&after=1763790000000_42");
        let pairs = pairs_of(&filters.query());
        assert_eq!(FailureFilters::from_pairs(borrowed(&pairs)), filters);
        assert_eq!(
            filters.api_path(50),
            "/api/v1/failures?days=90&hide_now_green=true&pg=16&after=1763790000000_42&limit=50"
        );
    }

    #[test]
    fn failure_days_out_of_range_fall_back_to_seven() {
        for bad in ["0", "-3", "99999", "week"] {
            let filters = FailureFilters::from_pairs([("days", bad)]);
            assert_eq!(filters.days, 7, "{bad}");
        }
        assert!(!FailureFilters::from_pairs([("hide_now_green", "false")]).hide_now_green);
        assert!(FailureFilters::from_pairs([("hide_now_green", "on")]).hide_now_green);
    }

    #[test]
    fn changing_a_filter_drops_the_page_cursor() {
        let pairs = pairs_of("?extension=tiny&after=77&pg=15");
        assert_eq!(with_param(&pairs, "pg", "16"), "?extension=tiny&pg=16");
        assert_eq!(with_param(&pairs, "extension", ""), "?pg=15");
        assert_eq!(with_param(&[], "status", "failed"), "?status=failed");
    }

    #[test]
    fn decoding_tolerates_broken_escapes_and_multibyte_text() {
        assert_eq!(decode_component("a%2"), "a%2");
        assert_eq!(decode_component("%zz"), "%zz");
        assert_eq!(decode_component("caf%C3%A9+au+lait"), "café au lait");
        assert_eq!(decode_component("%é"), "%é");
        assert_eq!(encode_component("café"), "caf%C3%A9");
        assert_eq!(decode_component(&encode_component("<script>\"&'")), "<script>\"&'");
    }
}
