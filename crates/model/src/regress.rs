//! `RegressTest` and `ExpectedOutput`: one pg_regress test with its raw outputs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{RawText, TestStatus};

/// One pg_regress test (format: docs/bundle-format.md, "regress").
///
/// The raw actual output and every expected variant travel, so the server and the browser can
/// re-derive the verdict and draw the diff themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegressTest {
    /// Test name as in the schedule, e.g. `"base"` (the file is `sql/base.sql`).
    pub name: String,
    /// Index (from 0) of the schedule line (`test: a b c`, a parallel group) that ran the test;
    /// positional tests each get their own group. Tests are listed in schedule order, so groups
    /// never decrease.
    pub group: u32,
    /// Verdict of the runner; the server re-derives it from `actual` and `expected`.
    pub status: TestStatus,
    /// Wall-clock duration in milliseconds.
    pub duration_ms: u64,
    /// The output psql produced (`results/<name>.out`), exactly.
    pub actual: RawText,
    /// The expected files it was compared with: `<name>.out`, then the `<name>_N.out` variants.
    /// Empty when no expected file exists (the status is then `error`).
    pub expected: Vec<ExpectedOutput>,
    /// Exit code of psql; absent when it was killed by a signal or never started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psql_exit_code: Option<i32>,
    /// `file_name` of the variant the result was judged against (the one with the fewest
    /// differing lines, as pg_regress chooses); absent when there was nothing to compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_expected: Option<String>,
    /// Why the test did not run to completion, when it is a cause rather than a diff: `"server
    /// crashed (signal 11)"` with the server log's lines, or `"timed out after 60 s"` with the
    /// backend's `pg_stat_activity` row (format version 2; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RegressTest {
    /// The expected variant named by `chosen_expected`, if any.
    pub fn chosen(&self) -> Option<&ExpectedOutput> {
        let name = self.chosen_expected.as_deref()?;
        self.expected.iter().find(|e| e.file_name == name)
    }
}

/// One expected-output file of a regression test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedOutput {
    /// File name inside the expected directory, e.g. `"base.out"` or `"base_1.out"`.
    pub file_name: String,
    /// Its content, exactly.
    pub content: RawText,
}
