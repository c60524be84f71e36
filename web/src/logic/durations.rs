//! Durations and run times as a run page shows them (`1.2 s`, `3 min 4 s`).

use pgfarm_model::OffsetDateTime;

/// Milliseconds as `850 ms`, `1.2 s`, `1 min 15 s` or `2 h 5 min`.
pub fn format_ms(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// A bundle timestamp as `2026-11-22 07:41:03 UTC`.
pub fn format_utc(when: OffsetDateTime) -> String {
    let when = when.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    )
}

/// Wall-clock time between two instants in milliseconds (0 when `end` is before `start`).
pub fn elapsed_ms(start: OffsetDateTime, end: OffsetDateTime) -> u64 {
    u64::try_from((end - start).whole_milliseconds()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(format_ms(0), "0 ms");
        assert_eq!(format_ms(999), "999 ms");
        assert_eq!(format_ms(1234), "1.2 s");
        assert_eq!(format_ms(75_000), "1 min 15 s");
        assert_eq!(format_ms(7_500_000), "2 h 5 min");
    }

    #[test]
    fn bundle_times_print_in_utc() {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/bundles/regress-fail.pgfarm.json");
        let bundle = pgfarm_model::Bundle::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let text = format_utc(bundle.run.created_at);
        assert!(text.ends_with(" UTC") && text.len() == 23, "{text}");
        assert!(elapsed_ms(bundle.run.created_at, bundle.run.finished_at) > 0);
        assert_eq!(elapsed_ms(bundle.run.finished_at, bundle.run.created_at), 0);
    }
}
