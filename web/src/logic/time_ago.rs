//! Relative times ("3 h ago") from the API's RFC 3339 strings and a `now` passed in by the page
//! (no clock here, so the wording is tested with fixed times).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch of an RFC 3339 time, or `None` when `text` is not one.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// How long before `now_ms` (Unix milliseconds) the RFC 3339 time `when` was, in words:
/// "just now", "5 min ago", "3 h ago", "2 d ago", "4 mo ago", "1 y ago"; a time more than a
/// minute ahead (clock skew) reads "in 5 min". `None` when `when` is not RFC 3339.
pub fn time_ago(when: &str, now_ms: i64) -> Option<String> {
    parse_rfc3339_ms(when).map(|at| describe_elapsed(now_ms.saturating_sub(at)))
}

/// [`time_ago`], or `"unknown"` for a missing or unreadable time (the page shows it as is).
pub fn time_ago_or_unknown(when: Option<&str>, now_ms: i64) -> String {
    when.and_then(|when| time_ago(when, now_ms)).unwrap_or_else(|| "unknown".to_owned())
}

/// Words for an elapsed time in milliseconds (negative: in the future).
pub fn describe_elapsed(elapsed_ms: i64) -> String {
    if elapsed_ms < -60_000 {
        return format!("in {}", magnitude(elapsed_ms.saturating_neg()));
    }
    if elapsed_ms < 60_000 {
        return "just now".to_owned();
    }
    format!("{} ago", magnitude(elapsed_ms))
}

/// "5 min", "3 h", "2 d", "4 mo", "1 y" for a positive duration of at least a minute.
fn magnitude(ms: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    if ms < HOUR {
        format!("{} min", ms / MINUTE)
    } else if ms < 2 * DAY {
        format!("{} h", ms / HOUR)
    } else if ms < 60 * DAY {
        format!("{} d", ms / DAY)
    } else if ms < 730 * DAY {
        format!("{} mo", ms / (30 * DAY))
    } else {
        format!("{} y", ms / (365 * DAY))
    }
}

/// The time as `YYYY-MM-DD HH:MM UTC` (for a tooltip next to the relative time), or the text
/// itself when it is not RFC 3339.
pub fn absolute_utc(when: &str) -> String {
    match OffsetDateTime::parse(when.trim(), &Rfc3339) {
        Ok(at) => {
            let at = at.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute()
            )
        }
        Err(_) => when.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22T12:00:00Z
    const NOW: i64 = 1_795_348_800_000;

    #[test]
    fn parses_the_servers_millisecond_times_and_offsets() {
        assert_eq!(parse_rfc3339_ms("2026-11-22T12:00:00Z"), Some(NOW));
        assert_eq!(parse_rfc3339_ms("2026-11-22T08:06:50.372Z"), Some(NOW - 13_989_628));
        assert_eq!(parse_rfc3339_ms("2026-11-22T13:00:00+01:00"), Some(NOW));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
        assert_eq!(parse_rfc3339_ms(""), None);
    }

    #[test]
    fn elapsed_times_read_in_the_largest_whole_unit() {
        let cases = [
            ("2026-11-22T11:59:30Z", "just now"),
            ("2026-11-22T11:55:00Z", "5 min ago"),
            ("2026-11-22T09:00:00Z", "3 h ago"),
            ("2026-11-21T00:00:00Z", "36 h ago"),
            ("2026-11-19T12:00:00Z", "3 d ago"),
            ("2026-07-22T12:00:00Z", "4 mo ago"),
            ("2023-11-22T12:00:00Z", "3 y ago"),
            ("2026-11-22T12:05:00Z", "in 5 min"),
            ("2026-11-22T12:00:30Z", "just now"),
        ];
        for (when, words) in cases {
            assert_eq!(time_ago(when, NOW).as_deref(), Some(words), "{when}");
        }
    }

    #[test]
    fn unreadable_or_missing_times_say_unknown() {
        assert_eq!(time_ago("not a time", NOW), None);
        assert_eq!(time_ago_or_unknown(Some("<script>"), NOW), "unknown");
        assert_eq!(time_ago_or_unknown(None, NOW), "unknown");
    }

    #[test]
    fn absolute_times_are_shown_in_utc() {
        assert_eq!(absolute_utc("2026-11-22T13:04:00+01:00"), "2026-11-22 12:04 UTC");
        assert_eq!(absolute_utc("garbage"), "garbage");
    }
}
