//! `Selection`: how a run was narrowed (`--filter`, `--tag`, `--exclude-tag`, `--stage`,
//! `--fail-fast`) and the tests it left out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::StageKind;

/// How a run was narrowed, and the tests that did not run (format: docs/bundle-format.md,
/// "selection"). Absent from a bundle of a run that ran everything.
///
/// Tests left out are not in `regress`, `tap`, ...: they have no output and no status. They
/// are named here so a reader can tell a narrowed run from a complete one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Selection {
    /// `--filter` patterns: a substring, or a glob when it has `*`, `?` or `[`, on a test's name
    /// or path; a test ran when one matched (empty: no filter).
    #[serde(default)]
    pub filters: Vec<String>,
    /// `--tag`: a test ran when its file's header has one of these `@tag`s (empty: any).
    #[serde(default)]
    pub tags: Vec<String>,
    /// `--exclude-tag`: a test with one of these tags did not run (wins over `tags`).
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// `--stage`: only these stages ran (empty: all); the others are `skipped`.
    #[serde(default)]
    pub stages: Vec<StageKind>,
    /// `--fail-fast`: nothing new was scheduled after the first failure or error.
    #[serde(default)]
    pub fail_fast: bool,
    /// Tests the filters and tags left out.
    #[serde(default)]
    pub deselected: Vec<TestRef>,
    /// Tests that were selected but not run: `--fail-fast` stopped the scheduling first.
    #[serde(default)]
    pub not_run: Vec<TestRef>,
}

/// A test named by its stage and name (a regress test or spec name, a TAP file's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestRef {
    /// The stage it belongs to (`regress`, `isolation`, `tap`, `perl_tap`).
    pub stage: StageKind,
    /// Its name (regress, isolation) or path (tap, perl_tap).
    pub name: String,
}

impl TestRef {
    /// A test of `stage` named `name`.
    pub fn new(stage: StageKind, name: impl Into<String>) -> TestRef {
        TestRef { stage, name: name.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_round_trips_and_reads_with_its_lists_absent() {
        let selection = Selection {
            filters: vec!["smoke".into()],
            stages: vec![StageKind::Regress],
            fail_fast: true,
            not_run: vec![TestRef::new(StageKind::Regress, "b")],
            ..Selection::default()
        };
        let json = serde_json::to_string(&selection).unwrap();
        assert_eq!(serde_json::from_str::<Selection>(&json).unwrap(), selection);
        let sparse: Selection = serde_json::from_str(r#"{"fail_fast": true}"#).unwrap();
        assert_eq!(sparse, Selection { fail_fast: true, ..Selection::default() });
    }
}
