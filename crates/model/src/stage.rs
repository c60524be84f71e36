//! `Stage` and `StageKind`: the steps of a run, in their fixed order.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{RawText, StageStatus};

/// One step of a run (format: docs/bundle-format.md, "stages").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Stage {
    /// Which step this is; a bundle has each kind at most once, in [`StageKind`] order.
    pub kind: StageKind,
    /// Outcome of the step.
    pub status: StageStatus,
    /// When the step started, UTC; absent for steps that did not run.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    #[schemars(schema_with = "crate::timestamp::option_schema")]
    pub started_at: Option<OffsetDateTime>,
    /// Wall-clock duration in milliseconds (0 for steps that did not run).
    pub duration_ms: u64,
    /// Everything the step's commands wrote (stdout and stderr interleaved as captured).
    pub log: RawText,
    /// One-line reason for a `failed` (or `skipped`) status, e.g. `"make exited with code 2"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Stage {
    /// A stage with an empty log, no start time and no error.
    pub fn new(kind: StageKind, status: StageStatus, duration_ms: u64) -> Stage {
        Stage { kind, status, started_at: None, duration_ms, log: RawText::new(), error: None }
    }
}

/// The kind of a stage; declaration order is run order (`Ord` follows it)
/// (format: docs/bundle-format.md, "stages").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// `"build"`: compile the extension (`make` with PGXS).
    Build,
    /// `"install"`: install it into the PostgreSQL tree (`make install`).
    Install,
    /// `"cluster"`: create and start the temporary test cluster (initdb, start).
    Cluster,
    /// `"load"`: `CREATE EXTENSION` (with its dependencies) in a fresh database.
    Load,
    /// `"regress"`: the pg_regress suite (expected-output tests); details in `Bundle::regress`.
    Regress,
    /// `"isolation"`: the pg_isolation_regress suite (`ISOLATION`, `specs/*.spec`); details in
    /// `Bundle::isolation` (format version 2).
    Isolation,
    /// `"tap"`: the pgTAP files; details in `Bundle::tap`.
    Tap,
    /// `"perl_tap"`: the Perl TAP suite (`TAP_TESTS = 1`, `t/*.pl`) run as PGXS's
    /// `prove_installcheck`; details in `Bundle::perl_tap` (format version 2).
    PerlTap,
    /// `"installcheck"`: the extension's own `make installcheck` recipe, when it runs tests pgfarm
    /// cannot see itself (format version 2).
    Installcheck,
    /// `"upgrade"`: `ALTER EXTENSION ... UPDATE` from older versions to this one.
    Upgrade,
}

crate::status::wire_names!(StageKind, "stage kind", [
    Build => "build",
    Install => "install",
    Cluster => "cluster",
    Load => "load",
    Regress => "regress",
    Isolation => "isolation",
    Tap => "tap",
    PerlTap => "perl_tap",
    Installcheck => "installcheck",
    Upgrade => "upgrade",
]);

impl StageKind {
    /// Position in the run order, 0 for `build`.
    pub const fn position(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_order_is_declaration_order() {
        let mut sorted = StageKind::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, StageKind::ALL);
        for (idx, kind) in StageKind::ALL.iter().enumerate() {
            assert_eq!(kind.position(), idx);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
