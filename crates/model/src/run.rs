//! `Run` (identity, times and outcome of one run) and `RunConfig` (how pgfarm was asked to run it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{OrderedMap, RunStatus};

/// Identity, times and outcome of one run (format: docs/bundle-format.md, "run").
///
/// Timestamps are passed in by the runner: this crate never reads the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    /// Unique id of the run, chosen by the runner (a random v4 uuid); the server refuses a second
    /// bundle with the same id.
    pub id: Uuid,
    /// When the run started, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(schema_with = "crate::timestamp::schema")]
    pub created_at: OffsetDateTime,
    /// When the run ended (also for interrupted runs), UTC; not before `created_at`.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(schema_with = "crate::timestamp::schema")]
    pub finished_at: OffsetDateTime,
    /// Outcome of the whole run.
    pub status: RunStatus,
    /// Version of the pgfarm runner that wrote the bundle, e.g. `"0.1.0"`.
    pub runner_version: String,
}

/// How pgfarm was asked to run (format: docs/bundle-format.md, "config").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct RunConfig {
    /// The pgfarm command line, program name first, e.g. `["pgfarm", "test", "--pg", "17"]`.
    /// Secrets must not be passed on the command line: this travels to a public server.
    pub command_line: Vec<String>,
    /// Effective runner settings after defaults, flags and environment were merged, by name,
    /// e.g. `{"jobs": "4", "test_timeout_s": "300"}`.
    pub settings: OrderedMap,
    /// Server settings (GUCs) given to the test cluster, e.g. `{"max_connections": "100"}`.
    pub server_settings: OrderedMap,
}
