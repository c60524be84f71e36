//! `TapFile`: one pgTAP test file with its raw TAP stream.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{RawText, TestStatus};

/// One pgTAP file run through psql (format: docs/bundle-format.md, "tap").
///
/// The raw stream travels; the server and the browser parse it with `pgfarm-tap-parser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TapFile {
    /// Path of the test file relative to the extension's source root, e.g. `"test/sql/base.sql"`.
    pub path: String,
    /// Verdict of the runner (`ignored` is not used for TAP); the server re-derives it.
    pub status: TestStatus,
    /// Wall-clock duration in milliseconds.
    pub duration_ms: u64,
    /// Exit code of psql; absent when it was killed by a signal or never started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The TAP stream: psql's standard output, exactly.
    pub stream: RawText,
    /// psql's standard error (server errors, `psql:file:line: ERROR: ...`).
    pub stderr: RawText,
}
