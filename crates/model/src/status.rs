//! The status enums of a run, a stage and a test, with their severities.
//!
//! Each enum travels as a lowercase string (see docs/bundle-format.md, "Statuses"). A reader that
//! meets a value it does not know refuses the bundle: adding a value needs a new format version.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An enum value that is not one of the known names, from `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{found}`, expected one of {expected}")]
pub struct UnknownVariant {
    pub(crate) what: &'static str,
    pub(crate) found: String,
    pub(crate) expected: &'static str,
}

/// Gives a format enum its wire names: `ALL`, `as_str`, `Display` and `FromStr`.
/// The names must equal the serde names; a test checks that they do.
macro_rules! wire_names {
    ($ty:ident, $what:literal, [$($variant:ident => $name:literal),+ $(,)?]) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The wire name (the JSON string).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::status::UnknownVariant;

            fn from_str(s: &str) -> Result<$ty, $crate::status::UnknownVariant> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err($crate::status::UnknownVariant {
                        what: $what,
                        found: s.to_owned(),
                        expected: concat!($($name, ", "),+).trim_end_matches(", "),
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_names;

/// Outcome of a whole run (format: docs/bundle-format.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// `"ok"`: every stage that ran passed (stages may be `missing` or `skipped`).
    Ok,
    /// `"failed"`: the extension failed: a stage or a test failed.
    Failed,
    /// `"error"`: pgfarm or the machine failed (a cluster did not start, a disk filled up), so the
    /// run says nothing about the extension.
    Error,
    /// `"interrupted"`: the run was stopped (Ctrl-C, a signal, a deadline) before it finished.
    Interrupted,
}

wire_names!(RunStatus, "run status", [Ok => "ok", Failed => "failed", Error => "error", Interrupted => "interrupted"]);

/// Outcome of one stage (format: docs/bundle-format.md, "Statuses").
///
/// Severity, from best to worst: `ok`, `skipped`, `missing`, `failed`
/// (see [`StageStatus::severity`] and [`StageStatus::worst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// `"ok"`: the stage ran and passed.
    Ok,
    /// `"failed"`: the stage ran and failed; its `log` and `error` say why.
    Failed,
    /// `"missing"`: there was nothing to run ("no tests"), e.g. an extension without TAP tests.
    Missing,
    /// `"skipped"`: the stage was not run, because an earlier stage failed or the user asked.
    Skipped,
}

wire_names!(StageStatus, "stage status", [Ok => "ok", Failed => "failed", Missing => "missing", Skipped => "skipped"]);

impl StageStatus {
    /// Rank for summaries, higher is worse: ok 0, skipped 1, missing 2, failed 3.
    pub const fn severity(self) -> u8 {
        match self {
            StageStatus::Ok => 0,
            StageStatus::Skipped => 1,
            StageStatus::Missing => 2,
            StageStatus::Failed => 3,
        }
    }

    /// The worse of two statuses by [`StageStatus::severity`].
    pub const fn worse(self, other: StageStatus) -> StageStatus {
        if other.severity() > self.severity() { other } else { self }
    }

    /// The worst status of a list, or `None` for an empty list.
    ///
    /// ```
    /// use pgfarm_model::StageStatus;
    /// let statuses = [StageStatus::Ok, StageStatus::Missing, StageStatus::Skipped];
    /// assert_eq!(StageStatus::worst(statuses), Some(StageStatus::Missing));
    /// assert_eq!(StageStatus::worst([]), None);
    /// ```
    pub fn worst(statuses: impl IntoIterator<Item = StageStatus>) -> Option<StageStatus> {
        statuses.into_iter().reduce(StageStatus::worse)
    }
}

/// Outcome of one regression test or TAP file (format: docs/bundle-format.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    /// `"ok"`: output matched an expected variant (regress) or every TAP point passed.
    Ok,
    /// `"failed"`: output differed from every expected variant, or a TAP point failed.
    Failed,
    /// `"ignored"`: failed, but the schedule marks it `ignore:` (regress only; not a failure).
    Ignored,
    /// `"timeout"`: killed after exceeding its time limit; the output is what it wrote until then.
    Timeout,
    /// `"error"`: could not be run or judged (psql missing, expected file missing, crash).
    Error,
}

wire_names!(TestStatus, "test status", [Ok => "ok", Failed => "failed", Ignored => "ignored", Timeout => "timeout", Error => "error"]);

impl TestStatus {
    /// Whether this status counts as a failure of the suite: `failed`, `timeout` or `error`.
    pub const fn is_failure(self) -> bool {
        matches!(self, TestStatus::Failed | TestStatus::Timeout | TestStatus::Error)
    }
}

/// How many tests (or TAP files) ended with each [`TestStatus`]; see
/// [`Bundle::regress_counts`](crate::Bundle::regress_counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TestCounts {
    /// Number with status `ok`.
    pub ok: usize,
    /// Number with status `failed`.
    pub failed: usize,
    /// Number with status `ignored`.
    pub ignored: usize,
    /// Number with status `timeout`.
    pub timeout: usize,
    /// Number with status `error`.
    pub error: usize,
}

impl TestCounts {
    /// Counts a list of statuses.
    pub fn from_statuses(statuses: impl IntoIterator<Item = TestStatus>) -> TestCounts {
        let mut counts = TestCounts::default();
        for status in statuses {
            *counts.get_mut(status) += 1;
        }
        counts
    }

    /// The count of one status.
    pub const fn get(&self, status: TestStatus) -> usize {
        match status {
            TestStatus::Ok => self.ok,
            TestStatus::Failed => self.failed,
            TestStatus::Ignored => self.ignored,
            TestStatus::Timeout => self.timeout,
            TestStatus::Error => self.error,
        }
    }

    fn get_mut(&mut self, status: TestStatus) -> &mut usize {
        match status {
            TestStatus::Ok => &mut self.ok,
            TestStatus::Failed => &mut self.failed,
            TestStatus::Ignored => &mut self.ignored,
            TestStatus::Timeout => &mut self.timeout,
            TestStatus::Error => &mut self.error,
        }
    }

    /// All counted.
    pub const fn total(&self) -> usize {
        self.ok + self.failed + self.ignored + self.timeout + self.error
    }

    /// Those that count as failures (`failed`, `timeout`, `error`; see [`TestStatus::is_failure`]).
    pub const fn n_failures(&self) -> usize {
        self.failed + self.timeout + self.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn wire_names_equal_serde_names_and_parse_back() {
        for &s in RunStatus::ALL {
            assert_eq!(serde_name(s), s.as_str());
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
        }
        for &s in StageStatus::ALL {
            assert_eq!(serde_name(s), s.as_str());
            assert_eq!(s.as_str().parse::<StageStatus>(), Ok(s));
        }
        for &s in TestStatus::ALL {
            assert_eq!(serde_name(s), s.as_str());
            assert_eq!(s.as_str().parse::<TestStatus>(), Ok(s));
        }
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "passed".parse::<StageStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown stage status `passed`, expected one of ok, failed, missing, skipped"
        );
    }

    #[test]
    fn failed_is_the_worst_stage_status() {
        assert_eq!(StageStatus::worst(StageStatus::ALL.iter().copied()), Some(StageStatus::Failed));
        assert_eq!(StageStatus::Ok.worse(StageStatus::Skipped), StageStatus::Skipped);
        assert_eq!(StageStatus::Missing.worse(StageStatus::Skipped), StageStatus::Missing);
    }

    #[test]
    fn counts_add_up_and_failures_exclude_ignored() {
        use TestStatus::*;
        let counts = TestCounts::from_statuses([Ok, Ok, Failed, Ignored, Timeout, Error]);
        assert_eq!(counts.get(Ok), 2);
        assert_eq!(counts.total(), 6);
        assert_eq!(counts.n_failures(), 3);
        assert_eq!(TestCounts::from_statuses([]), TestCounts::default());
    }

    #[test]
    fn ignored_is_not_a_failure() {
        assert!(!TestStatus::Ignored.is_failure());
        assert!(TestStatus::Timeout.is_failure());
    }
}
