//! Which tests a run executes: `--filter PATTERN` (a substring, or a glob when it has `*`, `?`
//! or `[`, on a test's name and its file's path), `--tag a,b` / `--exclude-tag slow` from the
//! header annotations of test files (`-- @tag smoke, auth`; tags of files the header includes
//! with `\i`/`\ir` count; an excluded tag wins), `--stage regress,isolation`; and `--fail-fast`
//! ([`FailFast`]): once a test fails, nothing new is scheduled.
//!
//! One [`Selection`] is shared by `pgfarm test`, `pgfarm regress` and `pgfarm prove`; each
//! engine asks [`Selection::choose`] about every test before it schedules it and records what
//! was left out, so the summary and the bundle (`selection`) can say the run was narrowed.
//!
//! The header of a test file is its leading run of blank lines, comments (`--`, and `#` in
//! isolation `.spec` files) and psql meta-commands (`\i file`, `\set ..`); the first other
//! line ends it. Annotations there: `@tag`/`@tags NAMES`, `@setup NAMES`, `@teardown NAMES`
//! (comma or space separated; steps are [`crate::steps`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pgfarm_model::StageKind;

use crate::error::{Error, Result};

/// How deep `\i` includes are followed for tags.
const MAX_INCLUDE_DEPTH: usize = 8;

/// What a run was asked to select (empty lists select everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--filter`: a test runs when one of these matches its name or path.
    pub filters: Vec<String>,
    /// `--tag`: a test runs when it has one of these tags.
    pub tags: Vec<String>,
    /// `--exclude-tag`: a test with one of these tags does not run (wins over `tags`).
    pub exclude_tags: Vec<String>,
    /// `--stage`: only these stages run (`pgfarm test`; set-up stages always run).
    pub stages: Vec<StageKind>,
}

/// Whether one test is selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// It runs.
    Selected,
    /// It does not, for this reason (`"no --filter matches"`, `"tag slow is excluded"`).
    Deselected(String),
}

/// A test file's header annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `@tag` names, with those of included files.
    pub tags: Vec<String>,
    /// `@setup` step names, in order.
    pub setup: Vec<String>,
    /// `@teardown` step names, in order.
    pub teardown: Vec<String>,
    /// Files the header includes (`\i` relative to the psql working folder, `\ir` to the file).
    pub includes: Vec<(bool, String)>,
}

/// Splits comma-separated flag values (`--tag a,b --tag c`) into names, trimmed, empty ones
/// dropped.
pub fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Selection {
    /// A selection from the flags' values (`--tag`, `--exclude-tag` and `--stage` take comma
    /// lists); an unknown stage name is a usage error naming the known ones.
    pub fn from_flags(
        filters: &[String],
        tags: &[String],
        exclude_tags: &[String],
        stages: &[String],
    ) -> Result<Selection> {
        let mut kinds = Vec::new();
        for name in split_list(stages) {
            let kind: StageKind = name
                .parse()
                .map_err(|e: pgfarm_model::UnknownVariant| Error::Usage(format!("--stage: {e}")))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(Selection {
            filters: filters.iter().filter(|f| !f.is_empty()).cloned().collect(),
            tags: split_list(tags),
            exclude_tags: split_list(exclude_tags),
            stages: kinds,
        })
    }

    /// True when something narrows the run.
    pub fn is_narrowed(&self) -> bool {
        !self.filters.is_empty()
            || !self.tags.is_empty()
            || !self.exclude_tags.is_empty()
            || !self.stages.is_empty()
    }

    /// True when tests are chosen one by one (filters or tags given).
    pub fn picks_tests(&self) -> bool {
        !self.filters.is_empty() || !self.tags.is_empty() || !self.exclude_tags.is_empty()
    }

    /// Whether stage `kind` runs (every stage when `--stage` was not given).
    pub fn stage_selected(&self, kind: StageKind) -> bool {
        self.stages.is_empty() || self.stages.contains(&kind)
    }

    /// Whether the test `name` whose file is `path` runs; `file` is where its header can be
    /// read (`None`: no header, so no tags), `cwd` what `\i` resolves against.
    pub fn choose(&self, name: &str, path: &str, file: Option<&Path>, cwd: &Path) -> Choice {
        if !self.filters.is_empty()
            && !self.filters.iter().any(|f| pattern_matches(f, name) || pattern_matches(f, path))
        {
            return Choice::Deselected(format!(
                "no --filter matches ({})",
                self.filters.join(", ")
            ));
        }
        if self.tags.is_empty() && self.exclude_tags.is_empty() {
            return Choice::Selected;
        }
        let tags = file.map(|f| read_header(f, cwd).tags).unwrap_or_default();
        if let Some(tag) = tags.iter().find(|t| self.exclude_tags.contains(t)) {
            return Choice::Deselected(format!("tag {tag} is excluded"));
        }
        if !self.tags.is_empty() && !tags.iter().any(|t| self.tags.contains(t)) {
            return Choice::Deselected(format!("has none of the tags {}", self.tags.join(", ")));
        }
        Choice::Selected
    }

    /// The flags that narrowed the run, as a user would type them (for summaries).
    pub fn describe(&self) -> String {
        let mut words = Vec::new();
        for filter in &self.filters {
            words.push(format!("--filter {filter}"));
        }
        if !self.tags.is_empty() {
            words.push(format!("--tag {}", self.tags.join(",")));
        }
        if !self.exclude_tags.is_empty() {
            words.push(format!("--exclude-tag {}", self.exclude_tags.join(",")));
        }
        if !self.stages.is_empty() {
            let names: Vec<&str> = self.stages.iter().map(|s| s.as_str()).collect();
            words.push(format!("--stage {}", names.join(",")));
        }
        words.join(" ")
    }

    /// The bundle's record of this selection, with the tests left out.
    pub fn record(
        &self,
        fail_fast: bool,
        deselected: Vec<pgfarm_model::TestRef>,
        not_run: Vec<pgfarm_model::TestRef>,
    ) -> Option<pgfarm_model::Selection> {
        (self.is_narrowed() || fail_fast || !deselected.is_empty() || !not_run.is_empty()).then(
            || pgfarm_model::Selection {
                filters: self.filters.clone(),
                tags: self.tags.clone(),
                exclude_tags: self.exclude_tags.clone(),
                stages: self.stages.clone(),
                fail_fast,
                deselected,
                not_run,
            },
        )
    }
}

/// Whether `pattern` matches `text`: a glob (whole text, `*` and `?` within a folder, `**`
/// across) when it has `*`, `?` or `[`, else a substring.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    if pattern.contains(['*', '?', '[']) {
        crate::extension::glob_match(pattern, text)
    } else {
        text.contains(pattern)
    }
}

/// Reads the header annotations of `text` (see the module docs).
pub fn parse_header(text: &str) -> Header {
    let mut header = Header::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix("--").or_else(|| line.strip_prefix('#'));
        if let Some(comment) = comment {
            let comment = comment.trim_start();
            let Some(rest) = comment.strip_prefix('@') else { continue };
            let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let names = value
                .split([',', ' ', '\t'])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            match key {
                "tag" | "tags" => header.tags.extend(names),
                "setup" => header.setup.extend(names),
                "teardown" => header.teardown.extend(names),
                _ => {}
            }
            continue;
        }
        if let Some(meta) = line.strip_prefix('\\') {
            let (command, rest) = meta.split_once(char::is_whitespace).unwrap_or((meta, ""));
            let target = rest.trim().trim_matches('\'').to_owned();
            match command {
                "i" | "include" if !target.is_empty() => header.includes.push((false, target)),
                "ir" | "include_relative" if !target.is_empty() => {
                    header.includes.push((true, target))
                }
                _ => {}
            }
            continue;
        }
        break;
    }
    header
}

/// The header of the file at `path`, with the tags of the files its header includes
/// (`\i NAME` resolved against `cwd`, `\ir NAME` against the file's folder; followed
/// `MAX_INCLUDE_DEPTH` (8) deep). An unreadable file has an empty header.
pub fn read_header(path: &Path, cwd: &Path) -> Header {
    let mut seen = Vec::new();
    read_header_at(path, cwd, 0, &mut seen)
}

fn read_header_at(path: &Path, cwd: &Path, depth: usize, seen: &mut Vec<PathBuf>) -> Header {
    let Ok(text) = std::fs::read_to_string(path) else { return Header::default() };
    seen.push(path.to_path_buf());
    let mut header = parse_header(&text);
    if depth >= MAX_INCLUDE_DEPTH {
        return header;
    }
    for (relative, target) in header.includes.clone() {
        let target = Path::new(&target);
        let included = if target.is_absolute() {
            target.to_path_buf()
        } else if relative {
            path.parent().unwrap_or(Path::new("")).join(target)
        } else {
            cwd.join(target)
        };
        if seen.contains(&included) {
            continue;
        }
        for tag in read_header_at(&included, cwd, depth + 1, seen).tags {
            if !header.tags.contains(&tag) {
                header.tags.push(tag);
            }
        }
    }
    header
}

/// `--fail-fast`: a flag shared by every engine of a run. Once [`trip`](FailFast::trip)ped
/// (by the first failure or error), no new test, stage or installation is scheduled; what is
/// running finishes. A disabled one never trips.
#[derive(Debug, Clone, Default)]
pub struct FailFast {
    enabled: bool,
    tripped: Arc<AtomicBool>,
}

impl FailFast {
    /// A flag that trips on the first failure when `enabled`.
    pub fn new(enabled: bool) -> FailFast {
        FailFast { enabled, tripped: Arc::default() }
    }

    /// Whether `--fail-fast` was given.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// A failure happened: stop scheduling (no effect when disabled).
    pub fn trip(&self) {
        if self.enabled {
            self.tripped.store(true, Ordering::SeqCst);
        }
    }

    /// True once a failure stopped the scheduling.
    pub fn is_tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_pattern(pattern: &str, text: &str, expect: bool) {
        assert_eq!(pattern_matches(pattern, text), expect, "{pattern} on {text}");
    }

    #[test]
    fn a_pattern_without_wildcards_is_a_substring() {
        check_pattern("auth", "test_auth_login", true);
        check_pattern("sql/base", "test/sql/base.sql", true);
        check_pattern("Auth", "test_auth", false);
    }

    #[test]
    fn a_pattern_with_wildcards_is_a_glob_on_the_whole_text() {
        check_pattern("auth*", "auth_login", true);
        check_pattern("auth*", "test_auth", false);
        check_pattern("*auth*", "test_auth", true);
        check_pattern("test/*.sql", "test/a.sql", true);
        check_pattern("test/*.sql", "test/sub/a.sql", false);
        check_pattern("test/**/*.sql", "test/sub/a.sql", true);
        check_pattern("t?st", "test", true);
        check_pattern("[ab]x", "bx", true);
    }

    #[test]
    fn header_tags_setup_and_teardown_are_read_until_the_first_statement() {
        let header = parse_header(
            "-- a test\n--   @tag smoke, auth\n-- @tags  slow db\n\n-- @setup seed,roles\n-- @teardown drop\n\\i helpers.sql\nSELECT 1;\n-- @tag late\n",
        );
        assert_eq!(header.tags, ["smoke", "auth", "slow", "db"]);
        assert_eq!(header.setup, ["seed", "roles"]);
        assert_eq!(header.teardown, ["drop"]);
        assert_eq!(header.includes, [(false, "helpers.sql".to_owned())]);
    }

    #[test]
    fn spec_files_use_hash_comments_and_unknown_annotations_are_ignored() {
        let header = parse_header("# @tag iso\n# @owner me\nsetup { SELECT 1; }\n");
        assert_eq!(header.tags, ["iso"]);
        assert!(parse_header("SELECT 1;\n-- @tag x\n").tags.is_empty());
    }

    #[test]
    fn tags_of_included_files_count_and_cycles_end() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sql")).unwrap();
        std::fs::write(
            root.join("sql/t.sql"),
            "-- @tag own\n\\ir inc.sql\n\\i common.sql\nSELECT 1;\n",
        )
        .unwrap();
        std::fs::write(root.join("sql/inc.sql"), "-- @tag included\n\\ir t.sql\n").unwrap();
        std::fs::write(root.join("common.sql"), "-- @tag common\n").unwrap();
        let header = read_header(&root.join("sql/t.sql"), root);
        assert_eq!(header.tags, ["own", "included", "common"]);
    }

    #[test]
    fn choose_applies_filters_then_tags_with_exclusion_winning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.sql");
        std::fs::write(&file, "-- @tag smoke, slow\nSELECT 1;\n").unwrap();
        let select = |f: &[&str], t: &[&str], x: &[&str]| {
            let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            Selection::from_flags(&strings(f), &strings(t), &strings(x), &[]).unwrap()
        };
        let choose = |s: &Selection| s.choose("a", "sql/a.sql", Some(&file), dir.path());
        assert_eq!(choose(&select(&[], &[], &[])), Choice::Selected);
        assert_eq!(choose(&select(&["sql/a"], &[], &[])), Choice::Selected);
        assert!(matches!(choose(&select(&["b"], &[], &[])), Choice::Deselected(_)));
        assert_eq!(choose(&select(&[], &["auth,smoke"], &[])), Choice::Selected);
        assert!(matches!(choose(&select(&[], &["auth"], &[])), Choice::Deselected(_)));
        assert_eq!(
            choose(&select(&[], &["smoke"], &["slow"])),
            Choice::Deselected("tag slow is excluded".into())
        );
    }

    #[test]
    fn stages_are_parsed_by_their_wire_names() {
        let s = Selection::from_flags(&[], &[], &[], &["regress,isolation".into()]).unwrap();
        assert_eq!(s.stages, [StageKind::Regress, StageKind::Isolation]);
        assert!(s.stage_selected(StageKind::Regress) && !s.stage_selected(StageKind::Tap));
        let err = Selection::from_flags(&[], &[], &[], &["regres".into()]).unwrap_err();
        assert!(err.to_string().contains("--stage: unknown stage kind `regres`"), "{err}");
    }

    #[test]
    fn fail_fast_trips_only_when_enabled_and_is_shared_by_clones() {
        let off = FailFast::new(false);
        off.trip();
        assert!(!off.is_tripped());
        let on = FailFast::new(true);
        let clone = on.clone();
        clone.trip();
        assert!(on.is_tripped());
    }
}
