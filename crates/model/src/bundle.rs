//! `Bundle`: one run's complete result, and `FORMAT_VERSION`; pure helpers over it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    BuildCache, Coverage, Extension, KeptCluster, Machine, Postgres, RawText, RegressTest, Run,
    RunConfig, Selection, Stage, StageKind, StageStatus, TapFile, TestCounts,
};

/// The bundle format version this build writes, and the newest it reads.
///
/// Bumped for every change an older reader would misread: a removed or renamed field, a changed
/// meaning, a new enum value. Adding an optional field keeps the version (older readers ignore
/// unknown fields). See docs/bundle-format.md, "Versioning".
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build still reads. Version 1 bundles have no `isolation` or
/// `perl_tap` arrays and none of the version 2 stage kinds; they read as empty arrays. Version 1
/// and 2 bundles have no `coverage`, `build_cache` or `kept`; they read as absent.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// One run's complete result: the unit that travels from runner to server to browser
/// (format: docs/bundle-format.md).
///
/// Read one with [`Bundle::from_slice`], write one with [`Bundle::to_gzip_vec`] or
/// [`Bundle::write_gzip`], check one with [`Bundle::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "pgfarm result bundle",
    description = "One run's complete result, format version 3: the unit that travels from runner to server to browser. A bundle file is this object as JSON, usually gzip-compressed (.pgfarm.json.gz). Described field by field in docs/bundle-format.md."
)]
pub struct Bundle {
    /// Format version of this bundle: `3` ([`FORMAT_VERSION`]; `1` and `2` are still read). A reader refuses versions it
    /// does not know before reading anything else.
    #[schemars(range(min = 1))]
    pub format_version: u32,
    /// Identity, times and outcome of the run.
    pub run: Run,
    /// The computer it ran on.
    pub machine: Machine,
    /// The extension under test.
    pub extension: Extension,
    /// The PostgreSQL installation tested against.
    pub postgres: Postgres,
    /// How pgfarm was asked to run.
    pub config: RunConfig,
    /// The steps of the run, in [`StageKind`] order, each kind at most once.
    pub stages: Vec<Stage>,
    /// pg_regress tests, in schedule order (empty when the extension has none).
    pub regress: Vec<RegressTest>,
    /// pg_isolation_regress specs, in schedule order (format version 2; empty when the extension
    /// has none or in a version 1 bundle). Same shape as `regress`: `actual` is the spec's
    /// `output_iso/results/NAME.out`, `expected` its `expected/NAME.out` and `_N` variants.
    #[serde(default)]
    pub isolation: Vec<RegressTest>,
    /// pgTAP files, in run order (empty when the extension has none).
    pub tap: Vec<TapFile>,
    /// Perl TAP files (`t/*.pl` run by prove as PGXS's `prove_installcheck`), in run order
    /// (format version 2; empty when none ran or in a version 1 bundle). `stream` is prove's
    /// verbose output of the file, `stderr` the file's own log (`tmp_check/log`).
    #[serde(default)]
    pub perl_tap: Vec<TapFile>,
    /// What the test cluster's server log gained during the run.
    pub server_log: RawText,
    /// How the run was narrowed (`--filter`, `--tag`, `--stage`, `--fail-fast`) and the tests
    /// it left out; absent when it ran everything (optional, added in format version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// SQL function and C line coverage (format version 3; only from `pgfarm test --coverage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// How the build cache served the run (format version 3; absent when it was not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_cache: Option<BuildCache>,
    /// The test cluster left running after the run (format version 3; `pgfarm test --keep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<KeptCluster>,
}

impl Bundle {
    /// A bundle of the current [`FORMAT_VERSION`] with no stages, tests or server log yet.
    pub fn new(
        run: Run,
        machine: Machine,
        extension: Extension,
        postgres: Postgres,
        config: RunConfig,
    ) -> Bundle {
        Bundle {
            format_version: FORMAT_VERSION,
            run,
            machine,
            extension,
            postgres,
            config,
            stages: Vec::new(),
            regress: Vec::new(),
            isolation: Vec::new(),
            tap: Vec::new(),
            perl_tap: Vec::new(),
            server_log: RawText::new(),
            selection: None,
            coverage: None,
            build_cache: None,
            kept: None,
        }
    }

    /// The stage of a kind, if the bundle has it.
    pub fn stage(&self, kind: StageKind) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.kind == kind)
    }

    /// Sorts the stages into run order (stable, so duplicates keep their relative order and are
    /// still reported by [`Bundle::validate`]).
    pub fn sort_stages(&mut self) {
        self.stages.sort_by_key(|stage| stage.kind);
    }

    /// The worst stage status by [`StageStatus::severity`], or `None` without stages.
    pub fn worst_stage_status(&self) -> Option<StageStatus> {
        StageStatus::worst(self.stages.iter().map(|stage| stage.status))
    }

    /// The earliest stage in run order whose status is `failed`.
    pub fn first_failed_stage(&self) -> Option<&Stage> {
        self.stages
            .iter()
            .filter(|stage| stage.status == StageStatus::Failed)
            .min_by_key(|stage| stage.kind)
    }

    /// Regression tests whose status counts as a failure (`failed`, `timeout`, `error`).
    pub fn failed_regress_tests(&self) -> impl Iterator<Item = &RegressTest> {
        self.regress.iter().filter(|test| test.status.is_failure())
    }

    /// How many regression tests ended with each status.
    ///
    /// ```
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/regress-fail.pgfarm.json");
    /// # let bundle = pgfarm_model::Bundle::from_slice(&std::fs::read(path).unwrap()).unwrap();
    /// let counts = bundle.regress_counts();
    /// assert_eq!((counts.n_failures(), counts.total()), (1, 4)); // "1 of 4 tests failed"
    /// ```
    pub fn regress_counts(&self) -> TestCounts {
        TestCounts::from_statuses(self.regress.iter().map(|test| test.status))
    }

    /// How many TAP files ended with each status.
    pub fn tap_counts(&self) -> TestCounts {
        TestCounts::from_statuses(self.tap.iter().map(|file| file.status))
    }

    /// TAP files whose status counts as a failure (`failed`, `timeout`, `error`).
    pub fn failed_tap_files(&self) -> impl Iterator<Item = &TapFile> {
        self.tap.iter().filter(|file| file.status.is_failure())
    }
}
