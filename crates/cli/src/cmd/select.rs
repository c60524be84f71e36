//! The selection flags shared by `pgfarm test`, `pgfarm regress` and `pgfarm prove`
//! (`--filter`, `--tag`, `--exclude-tag`, `--fail-fast`, `--allow-empty`), parsed here and
//! applied by `pgfarm_runner::select`; and the lines that say a run was narrowed.

use pgfarm_runner::select::{FailFast, Selection};

/// Help text on how the selection flags and pgfarm.toml steps apply.
pub(crate) const SELECTION_HELP: &str = "\
Selection: --filter PATTERN (a substring, or a glob when it has *, ? or [, on a test's name
and its file's path; repeatable, any may match), --tag a,b and --exclude-tag slow (from `-- @tag
smoke, auth` in the header of a test file: its leading comment and \\i lines; tags of files the
header \\i-includes count; an excluded tag wins). Filters and tags compose; a narrowed run says
so on stderr and in its bundle (`selection`, with the tests left out). --fail-fast: after the
first failure or error no new test starts; running ones finish; the rest are listed as not run.
Steps: pgfarm.toml `[steps.NAME]` (sql, sql_file or command; dir, database, enabled), run by
`setup = [..]` / `teardown = [..]` and by `-- @setup NAME` / `-- @teardown NAME` in a test
file's header; {rnd1}..{rnd10} are random tokens stable for the run; teardown always runs, also
after Ctrl-C or SIGTERM; an unknown step name is a configuration error (exit 3).";

/// The selection flags.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SelectArgs {
    /// Run only tests whose name or file path matches PATTERN: a substring, or a glob when it
    /// has `*`, `?` or `[` (repeatable; a test runs when any matches).
    #[arg(long, value_name = "PATTERN")]
    filter: Vec<String>,
    /// Run only tests whose file header has one of these tags (`-- @tag smoke, auth`; tags of
    /// files the header includes with \i count); comma-separated, repeatable.
    #[arg(long, value_name = "TAGS")]
    tag: Vec<String>,
    /// Leave out tests with one of these tags (wins over --tag); comma-separated, repeatable.
    #[arg(long, value_name = "TAGS")]
    exclude_tag: Vec<String>,
    /// After the first failed or erroring test, start nothing new; running tests finish and
    /// the rest are listed as not run.
    #[arg(long)]
    fail_fast: bool,
    /// Exit 0 instead of 4 when no test was found or selected.
    #[arg(long)]
    allow_empty: bool,
}

impl SelectArgs {
    /// The selection, with `stages` from `--stage` (`pgfarm test` only); a usage error names
    /// the bad value.
    pub(crate) fn selection(&self, stages: &[String]) -> pgfarm_runner::Result<Selection> {
        Selection::from_flags(&self.filter, &self.tag, &self.exclude_tag, stages)
    }

    /// The `--fail-fast` flag for the engines.
    pub(crate) fn fail_fast(&self) -> FailFast {
        FailFast::new(self.fail_fast)
    }

    /// `--allow-empty`.
    pub(crate) fn allow_empty(&self) -> bool {
        self.allow_empty
    }
}

/// The lines (for stderr) that say what a narrowed or stopped run left out: `what` names the
/// run (`pg17`, `regress`); empty when it ran everything.
pub(crate) fn report_lines(
    what: &str,
    selection: &Selection,
    deselected: &[String],
    not_run: &[String],
) -> Vec<String> {
    let mut lines = Vec::new();
    if selection.is_narrowed() || !deselected.is_empty() {
        lines.push(format!(
            "{what}: narrowed by {}: {} left out{}",
            selection.describe(),
            deselected.len(),
            if deselected.is_empty() {
                String::new()
            } else {
                format!(" ({})", deselected.join(", "))
            }
        ));
    }
    if !not_run.is_empty() {
        lines.push(format!(
            "{what}: not run (--fail-fast stopped after a failure): {}",
            not_run.join(", ")
        ));
    }
    lines
}
