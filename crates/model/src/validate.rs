//! `Bundle::validate`: pure consistency checks of a decoded bundle, and `ValidationError`.

use std::collections::HashSet;
use std::fmt::Display;

use time::OffsetDateTime;

use crate::{
    Bundle, FORMAT_VERSION, OLDEST_FORMAT_VERSION, Postgres, RunStatus, StageKind, StageStatus,
    TestStatus,
};

/// Longest name accepted (machine, extension, test, file names and paths, versions), in bytes.
///
/// Names become database keys and URL segments on the server; 255 bytes is the longest file
/// name on common filesystems, and a TAP path may be longer, so paths get [`MAX_PATH_BYTES`].
pub const MAX_NAME_BYTES: usize = 255;

/// Longest TAP file path and source location accepted, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// A bundle that decoded but is inconsistent; names the field and the problem.
///
/// ```
/// # let json = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/pass.pgfarm.json")).unwrap();
/// use pgfarm_model::Bundle;
/// let mut bundle = Bundle::from_slice(&json).unwrap();
/// bundle.postgres.major = 16;
/// let err = bundle.validate().unwrap_err();
/// assert_eq!(err.field(), "postgres.major");
/// assert_eq!(err.to_string(), "postgres.major: is 16 but version \"15.18\" has major 15");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    field: String,
    problem: String,
}

impl ValidationError {
    fn new(field: impl Display, problem: impl Display) -> ValidationError {
        ValidationError { field: field.to_string(), problem: problem.to_string() }
    }

    /// Path of the offending field, e.g. `stages[2].kind` or `regress[0].name`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

type Check = Result<(), ValidationError>;

impl Bundle {
    /// Checks the consistency that the types alone cannot express, and returns the first problem
    /// ([`Bundle::problems`] lists them all).
    ///
    /// Pure: no clock, no I/O. [`Bundle::from_slice`] calls it unless told not to; a writer
    /// should call it before writing. The checks (docs/bundle-format.md, "Validation"):
    /// - `format_version` is one this build reads ([`OLDEST_FORMAT_VERSION`] to [`FORMAT_VERSION`]);
    /// - timestamps are UTC with a year from 0000 to 9999, and `run.finished_at` is not before
    ///   `run.created_at`;
    /// - names are non-empty, at most [`MAX_NAME_BYTES`] (paths [`MAX_PATH_BYTES`]) and contain
    ///   no control characters; `extension.git_commit` is 4 to 64 lowercase hex digits;
    /// - `postgres.major` and `postgres.minor` agree with `postgres.version`;
    /// - stages are in run order, each kind at most once;
    /// - regression test names are unique within a group, groups never decrease, expected file
    ///   names are unique per test, and `chosen_expected` names one of them; TAP files have
    ///   unique paths and are never `ignored`;
    /// - statuses agree: tests require their stage with status `ok` or `failed`; a stage `ok`
    ///   has no failing test; a run `ok` has no failed stage.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self.problems().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Every problem [`Bundle::validate`] checks for, in field order (empty when valid); for
    /// showing a broken bundle with all that is wrong with it.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Problems::default();
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&self.format_version) {
            problems.add(
                "format_version",
                format_args!(
                    "is {}, this build handles {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}",
                    self.format_version
                ),
            );
        }
        self.check_run(&mut problems);
        self.check_names(&mut problems);
        self.check_postgres(&mut problems);
        self.check_stages(&mut problems);
        self.check_regress(&mut problems);
        self.check_tap(&mut problems);
        self.check_statuses(&mut problems);
        problems.0
    }

    fn check_run(&self, problems: &mut Problems) {
        let run = &self.run;
        problems.check(timestamp("run.created_at", run.created_at));
        problems.check(timestamp("run.finished_at", run.finished_at));
        if run.finished_at < run.created_at {
            problems.add(
                "run.finished_at",
                format_args!("is before run.created_at ({} < {})", run.finished_at, run.created_at),
            );
        }
        for (idx, stage) in self.stages.iter().enumerate() {
            if let Some(started_at) = stage.started_at {
                problems.check(timestamp(format_args!("stages[{idx}].started_at"), started_at));
            }
        }
    }

    fn check_names(&self, problems: &mut Problems) {
        problems.check(name("run.runner_version", &self.run.runner_version, MAX_NAME_BYTES));
        let machine = &self.machine;
        problems.check(name("machine.name", &machine.name, MAX_NAME_BYTES));
        problems.check(name("machine.os", &machine.os, MAX_NAME_BYTES));
        problems.check(name("machine.os_version", &machine.os_version, MAX_NAME_BYTES));
        problems.check(name("machine.arch", &machine.arch, MAX_NAME_BYTES));
        problems.check(name("machine.compiler", &machine.compiler, MAX_NAME_BYTES));
        if let Some(hostname) = &machine.hostname {
            problems.check(name("machine.hostname", hostname, MAX_NAME_BYTES));
        }
        let extension = &self.extension;
        problems.check(name("extension.name", &extension.name, MAX_NAME_BYTES));
        problems.check(name("extension.version", &extension.version, MAX_NAME_BYTES));
        if let Some(git_ref) = &extension.git_ref {
            problems.check(name("extension.git_ref", git_ref, MAX_NAME_BYTES));
        }
        if let Some(commit) = &extension.git_commit {
            let is_hex = commit.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !(4..=64).contains(&commit.len()) || !is_hex {
                problems.add(
                    "extension.git_commit",
                    format_args!("{commit:?} is not 4 to 64 lowercase hex digits"),
                );
            }
        }
        if let Some(source) = &extension.source {
            problems.check(name("extension.source.location", &source.location, MAX_PATH_BYTES));
        }
        problems.check(name("postgres.version", &self.postgres.version, MAX_NAME_BYTES));
    }

    fn check_postgres(&self, problems: &mut Problems) {
        let postgres = &self.postgres;
        let Some((major, minor)) = Postgres::split_version(&postgres.version) else {
            problems.add(
                "postgres.version",
                format_args!("{:?} does not start with a major version number", postgres.version),
            );
            return;
        };
        if postgres.major != major {
            problems.add(
                "postgres.major",
                format_args!(
                    "is {} but version {:?} has major {major}",
                    postgres.major, postgres.version
                ),
            );
        }
        if postgres.minor != minor {
            let show = |minor: Option<u16>| minor.map_or("none".to_owned(), |m| m.to_string());
            problems.add(
                "postgres.minor",
                format_args!(
                    "is {} but version {:?} has minor {}",
                    show(postgres.minor),
                    postgres.version,
                    show(minor)
                ),
            );
        }
    }

    fn check_stages(&self, problems: &mut Problems) {
        for (idx, pair) in self.stages.windows(2).enumerate() {
            let (before, after) = (pair[0].kind, pair[1].kind);
            let field = format!("stages[{}].kind", idx + 1);
            if after == before {
                problems.add(field, format_args!("stage `{after}` appears twice"));
            } else if after < before {
                problems.add(
                    field,
                    format_args!(
                        "stage `{after}` comes after `{before}`; the order is {}",
                        order()
                    ),
                );
            }
        }
    }

    fn check_regress(&self, problems: &mut Problems) {
        let mut names = HashSet::new();
        let mut last_group = 0;
        for (idx, test) in self.regress.iter().enumerate() {
            problems.check(name(format_args!("regress[{idx}].name"), &test.name, MAX_NAME_BYTES));
            // pg_regress runs a test named twice (a schedule line and a positional name), so a
            // name may repeat, but not within one parallel group: both runs would write the
            // same results file at the same time.
            if !names.insert((test.group, test.name.as_str())) {
                problems.add(
                    format_args!("regress[{idx}].name"),
                    format_args!("test {:?} appears twice in group {}", test.name, test.group),
                );
            }
            if test.group < last_group {
                problems.add(
                    format_args!("regress[{idx}].group"),
                    format_args!(
                        "is {} after group {last_group}; tests are listed in schedule order",
                        test.group
                    ),
                );
            }
            last_group = last_group.max(test.group);
            let mut file_names = HashSet::new();
            for (e_idx, expected) in test.expected.iter().enumerate() {
                let field = format!("regress[{idx}].expected[{e_idx}].file_name");
                problems.check(name(&field, &expected.file_name, MAX_NAME_BYTES));
                if !file_names.insert(expected.file_name.as_str()) {
                    problems.add(field, format_args!("{:?} appears twice", expected.file_name));
                }
            }
            if let Some(chosen) = &test.chosen_expected
                && !file_names.contains(chosen.as_str())
            {
                problems.add(
                    format_args!("regress[{idx}].chosen_expected"),
                    format_args!("{chosen:?} is not one of the expected files of the test"),
                );
            }
        }
    }

    fn check_tap(&self, problems: &mut Problems) {
        let mut paths = HashSet::new();
        for (idx, file) in self.tap.iter().enumerate() {
            problems.check(name(format_args!("tap[{idx}].path"), &file.path, MAX_PATH_BYTES));
            if !paths.insert(file.path.as_str()) {
                problems.add(
                    format_args!("tap[{idx}].path"),
                    format_args!("{:?} appears twice", file.path),
                );
            }
            if file.status == TestStatus::Ignored {
                problems.add(
                    format_args!("tap[{idx}].status"),
                    "`ignored` is for regression tests only",
                );
            }
        }
    }

    fn check_statuses(&self, problems: &mut Problems) {
        let regress = self.regress.iter().map(|test| test.status);
        problems.check(self.check_tests_against_stage(StageKind::Regress, "regress", regress));
        let tap = self.tap.iter().map(|file| file.status);
        problems.check(self.check_tests_against_stage(StageKind::Tap, "tap", tap));
        if self.run.status == RunStatus::Ok
            && let Some(stage) = self.first_failed_stage()
        {
            problems.add("run.status", format_args!("is `ok` but stage `{}` failed", stage.kind));
        }
    }

    /// Tests need their stage with status `ok` or `failed`; an `ok` stage has no failing test.
    fn check_tests_against_stage(
        &self,
        kind: StageKind,
        list: &str,
        mut statuses: impl ExactSizeIterator<Item = TestStatus>,
    ) -> Check {
        if statuses.len() == 0 {
            return Ok(());
        }
        let Some(stage_idx) = self.stages.iter().position(|stage| stage.kind == kind) else {
            return Err(ValidationError::new(
                list,
                format_args!("has {} entries but there is no `{kind}` stage", statuses.len()),
            ));
        };
        let field = format!("stages[{stage_idx}].status");
        match self.stages[stage_idx].status {
            StageStatus::Failed => Ok(()),
            StageStatus::Ok => match statuses.position(TestStatus::is_failure) {
                Some(idx) => Err(ValidationError::new(
                    field,
                    format_args!("is `ok` but {list}[{idx}] did not pass"),
                )),
                None => Ok(()),
            },
            status @ (StageStatus::Missing | StageStatus::Skipped) => Err(ValidationError::new(
                field,
                format_args!("is `{status}` but {list} has {} entries", statuses.len()),
            )),
        }
    }
}

/// The problems found so far, in the order they were found.
#[derive(Default)]
struct Problems(Vec<ValidationError>);

impl Problems {
    fn add(&mut self, field: impl Display, problem: impl Display) {
        self.0.push(ValidationError::new(field, problem));
    }

    fn check(&mut self, result: Check) {
        if let Err(problem) = result {
            self.0.push(problem);
        }
    }
}

/// The stage order for messages: `build, install, ...`.
fn order() -> String {
    StageKind::ALL.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ")
}

/// UTC, and a year RFC 3339 can write (0000 to 9999): what the writer needs to not fail.
fn timestamp(field: impl Display, at: OffsetDateTime) -> Check {
    let offset = at.offset();
    if !offset.is_utc() {
        return Err(ValidationError::new(
            field,
            format_args!("has offset {offset}, expected UTC (Z)"),
        ));
    }
    if !(0..=9999).contains(&at.year()) {
        return Err(ValidationError::new(
            field,
            format_args!("has year {}, RFC 3339 allows 0000 to 9999", at.year()),
        ));
    }
    Ok(())
}

fn name(field: impl Display, value: &str, max_bytes: usize) -> Check {
    if value.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    if value.len() > max_bytes {
        return Err(ValidationError::new(
            field,
            format_args!("is {} bytes long, the limit is {max_bytes}", value.len()),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(ValidationError::new(
            field,
            format_args!("contains the control character {c:?}"),
        ));
    }
    Ok(())
}
