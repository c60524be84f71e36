//! One test's history (`GET /api/v1/extensions/{ext}/tests/{test}/history`): entries grouped by
//! PostgreSQL major, flaky marks per entry, and the flip rate in words.

use std::collections::BTreeMap;

use pgfarm_model::api::{TestHistory, TestHistoryEntry};

/// Whether an entry lies on a combination the server found flaky (passed and failed on one
/// extension version, PostgreSQL version and machine). The API gives full PostgreSQL versions
/// for flaky combinations and majors for entries, so the major of the full version is compared.
pub fn is_flaky_entry(history: &TestHistory, entry: &TestHistoryEntry) -> bool {
    history.flaky_on.iter().any(|combination| {
        combination.version == entry.version
            && combination.machine == entry.machine
            && major_of(&combination.pg_version) == Some(entry.pg_major)
    })
}

/// The major of a full PostgreSQL version: `17.2` gives 17, `9.6.24` gives 9, `18beta1` 18.
pub fn major_of(pg_version: &str) -> Option<i64> {
    let digits: String = pg_version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Entries per PostgreSQL major, newest major first, each list in the API's order (newest
/// first).
pub fn by_major(entries: &[TestHistoryEntry]) -> Vec<(i64, Vec<&TestHistoryEntry>)> {
    let mut groups: BTreeMap<i64, Vec<&TestHistoryEntry>> = BTreeMap::new();
    for entry in entries {
        groups.entry(entry.pg_major).or_default().push(entry);
    }
    groups.into_iter().rev().collect()
}

/// The flip rate as a percentage with words: "0 % (stable)", "33 % of consecutive runs changed".
pub fn flip_rate_words(flip_rate: f64) -> String {
    let rate = if flip_rate.is_finite() { flip_rate.clamp(0.0, 1.0) } else { 0.0 };
    let percent = (rate * 100.0).round();
    if percent == 0.0 {
        "0 % (stable)".to_owned()
    } else {
        format!("{percent} % of consecutive runs changed status")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real answer of pgfarm-server for tiny's regress test `three`.
    const HISTORY: &str = include_str!("fixtures/history.json");

    fn history() -> TestHistory {
        serde_json::from_str(HISTORY).expect("fixtures/history.json is a TestHistory")
    }

    #[test]
    fn real_history_groups_by_major_newest_first_and_keeps_every_entry() {
        let history = history();
        let groups = by_major(&history.entries);
        let majors: Vec<i64> = groups.iter().map(|(major, _)| *major).collect();
        let mut sorted = majors.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(majors, sorted);
        assert_eq!(groups.iter().map(|(_, e)| e.len()).sum::<usize>(), history.entries.len());
        assert!(groups.iter().all(|(major, entries)| entries.iter().all(|e| e.pg_major == *major)));
    }

    #[test]
    fn entries_on_a_flaky_combination_are_marked() {
        let mut history = history();
        assert!(!history.flaky, "the seeded history is stable");
        assert!(history.entries.iter().all(|e| !is_flaky_entry(&history, e)));
        let first = history.entries[0].clone();
        history.flaky_on.push(pgfarm_model::api::FlakyCombination {
            version: first.version.clone(),
            pg_version: format!("{}.2", first.pg_major),
            machine: first.machine.clone(),
        });
        assert!(is_flaky_entry(&history, &first));
        let other = history.entries.iter().find(|e| e.machine != first.machine).unwrap();
        assert!(!is_flaky_entry(&history, other));
    }

    #[test]
    fn majors_come_from_full_versions() {
        assert_eq!(major_of("17.2"), Some(17));
        assert_eq!(major_of("9.6.24"), Some(9));
        assert_eq!(major_of("18beta1"), Some(18));
        assert_eq!(major_of("devel"), None);
    }

    #[test]
    fn flip_rates_read_as_percentages() {
        assert_eq!(flip_rate_words(0.0), "0 % (stable)");
        assert_eq!(flip_rate_words(2.0 / 3.0), "67 % of consecutive runs changed status");
        assert_eq!(flip_rate_words(f64::NAN), "0 % (stable)");
    }
}
