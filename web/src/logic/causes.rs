//! Failure causes as the pages say them: a run's cause (pgfarm-verdict's rule `run-cause`,
//! computed in the browser from the bundle, so an offline bundle shows it too), the cause column
//! and filter of run lists, and the causes of the trends page (`/api/v1/trends/causes` points
//! summed over the period). "Unknown cause" is always said, never left blank.

use std::collections::BTreeMap;

use pgfarm_model::api::CauseTrendPoint;
use pgfarm_verdict::{Cause, RunCause};

/// What a page shows of a cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseText {
    /// The wire name (`missing_header`), or the name as the server sent it when this build
    /// does not know it.
    pub name: String,
    /// A short label: the wire name with spaces (`missing header`), `unknown cause` for
    /// [`Cause::Unknown`].
    pub label: String,
    /// The sentence for people.
    pub sentence: String,
    /// False for [`Cause::Unknown`].
    pub known: bool,
}

impl CauseText {
    /// The words of a cause.
    pub fn of(cause: Cause) -> CauseText {
        let label = if cause == Cause::Unknown {
            "unknown cause".to_owned()
        } else {
            cause.wire_name().replace('_', " ")
        };
        CauseText {
            name: cause.wire_name().to_owned(),
            label,
            sentence: cause.sentence().to_owned(),
            known: cause != Cause::Unknown,
        }
    }

    /// The words of a cause's wire name from the server; a name this build does not know is
    /// shown as it came.
    pub fn of_name(name: &str) -> CauseText {
        match Cause::from_wire_name(name) {
            Some(cause) => CauseText::of(cause),
            None => CauseText {
                name: name.to_owned(),
                label: name.replace('_', " "),
                sentence: format!("Failure cause `{name}` (unknown to this dashboard)."),
                known: true,
            },
        }
    }
}

/// A run's cause on its page: the words, and where the matching line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCauseView {
    /// The cause's words.
    pub text: CauseText,
    /// `build log, line 12` (absent for an unknown cause).
    pub place: Option<String>,
    /// The line (absent for an unknown cause).
    pub line: Option<String>,
}

impl RunCauseView {
    /// The view of a derived cause.
    pub fn of(cause: &RunCause) -> RunCauseView {
        RunCauseView {
            text: CauseText::of(cause.cause),
            place: cause.line.as_ref().map(|line| format!("{}, line {}", line.source, line.number)),
            line: cause.line.as_ref().map(|line| line.text.clone()),
        }
    }
}

/// The choices of a cause filter: every cause's wire name with its label, known causes by
/// label, `unknown` last.
pub fn filter_options() -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Cause::ALL
        .iter()
        .filter(|cause| **cause != Cause::Unknown)
        .map(|cause| {
            let text = CauseText::of(*cause);
            (text.name, text.label)
        })
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    let unknown = CauseText::of(Cause::Unknown);
    options.push((unknown.name, unknown.label));
    options
}

/// Runs per cause over a period: the points of `/api/v1/trends/causes` summed over days and
/// majors, most frequent first, then by name.
pub fn totals(points: &[CauseTrendPoint]) -> Vec<(CauseText, i64)> {
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for point in points {
        *sums.entry(point.cause.as_str()).or_default() += point.n_runs;
    }
    let mut totals: Vec<(CauseText, i64)> =
        sums.into_iter().map(|(name, n)| (CauseText::of_name(name), n)).collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgfarm_verdict::{CauseLine, LogSource};

    fn point(day: &str, pg_major: i64, cause: &str, n_runs: i64) -> CauseTrendPoint {
        CauseTrendPoint { day: day.into(), pg_major, cause: cause.into(), n_runs }
    }

    #[test]
    fn unknown_is_said_explicitly() {
        let text = CauseText::of(Cause::Unknown);
        assert_eq!(text.label, "unknown cause");
        assert!(!text.known);
        assert_eq!(text.sentence, "No known cause was found in the logs.");
        assert_eq!(CauseText::of_name("unknown"), text);
        let view = RunCauseView::of(&RunCause { cause: Cause::Unknown, line: None });
        assert_eq!((view.place, view.line), (None, None));
    }

    #[test]
    fn a_known_cause_has_its_label_sentence_and_line() {
        let cause = RunCause {
            cause: Cause::MissingHeader,
            line: Some(CauseLine {
                source: LogSource::Stage(pgfarm_model::StageKind::Build),
                number: 12,
                text: "x.c:1:10: fatal error: utils/rel.h: No such file or directory".into(),
            }),
        };
        let view = RunCauseView::of(&cause);
        assert_eq!(view.text.label, "missing header");
        assert!(view.text.sentence.starts_with("A header file was not found"));
        assert_eq!(view.place.as_deref(), Some("build log, line 12"));
        assert!(view.line.unwrap().contains("utils/rel.h"));
    }

    #[test]
    fn a_name_from_a_newer_server_is_shown_as_it_came() {
        let text = CauseText::of_name("quantum_flux");
        assert_eq!((text.name.as_str(), text.label.as_str()), ("quantum_flux", "quantum flux"));
        assert!(text.sentence.contains("quantum_flux"));
    }

    #[test]
    fn the_filter_offers_every_cause_with_unknown_last() {
        let options = filter_options();
        assert_eq!(options.len(), Cause::ALL.len());
        assert_eq!(options.last().unwrap(), &("unknown".to_owned(), "unknown cause".to_owned()));
        assert!(
            options.iter().any(|(name, label)| name == "server_crash" && label == "server crash")
        );
        let labels: Vec<&str> = options[..options.len() - 1].iter().map(|o| o.1.as_str()).collect();
        let mut sorted = labels.clone();
        sorted.sort_unstable();
        assert_eq!(labels, sorted);
    }

    #[test]
    fn totals_sum_days_and_majors_most_frequent_first() {
        let points = [
            point("2026-12-01", 15, "missing_header", 2),
            point("2026-12-01", 17, "server_crash", 1),
            point("2026-12-02", 16, "missing_header", 3),
            point("2026-12-02", 16, "unknown", 1),
        ];
        let totals: Vec<(String, i64)> =
            totals(&points).into_iter().map(|(text, n)| (text.label, n)).collect();
        assert_eq!(
            totals,
            [("missing header".into(), 5), ("server crash".into(), 1), ("unknown cause".into(), 1)]
        );
        assert!(super::totals(&[]).is_empty());
    }
}
