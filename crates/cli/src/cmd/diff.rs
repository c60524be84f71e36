//! `pgfarm diff`: compare an expected and an actual output with pg_regress's rules.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::UNIX_EPOCH;

use anyhow::Context as _;
use pgfarm_diff::{
    Diff, Labels, LineKind, Options, PG_REGRESS_CONTEXT, Resultmap, Whitespace,
    alternative_expected_file, closest_expected_bytes, diff_bytes, expected_candidates,
};
use serde_json::{Value, json};

const AFTER_HELP: &str = "\
Exit status: 0 when the files match under pg_regress's rules (with --variants: when any
candidate matches), 1 when they differ (the diff is on stdout), 2 on a usage error or an
unreadable file (one line on stderr naming it).

White space (--whitespace): pg_regress compares with plain `diff` on Linux, macOS and the BSDs
(exact, the default), with `--strip-trailing-cr` on Windows in current releases and with `-w`
(ignore-all) on Windows in older ones.

Unified and context output look like pg_regress's regression.diffs: a line
`diff -U3 EXPECTED ACTUAL`, then GNU diff's `--- EXPECTED<TAB>mtime` / `+++ ACTUAL<TAB>mtime`
headers (UTC) and the hunks; `patch` applies it to EXPECTED.

--variants: EXPECTED names the base file (expected/name.out); its alternatives name_0.out ..
name_9.out in the same directory are tried in pg_regress's order: the first that matches wins,
else the one whose plain-diff output has the fewest lines (ties keep the earlier file). With
--resultmap, a `test:out:platform=file` entry for this test and --platform replaces the base
file and the original base is tried last. The chosen file is named on stderr and in the diff.

--format json prints one object:
  matched         true when the files match (exit status 0)
  expected_file   the expected file reported against (the chosen variant with --variants)
  actual_file     ACTUAL as given
  whitespace      \"exact\", \"strip-trailing-cr\" or \"ignore-all\"
  changed_lines   removed_lines + added_lines
  removed_lines   lines of expected_file missing from ACTUAL
  added_lines     lines of ACTUAL missing from expected_file
  diff_lines      the number of lines plain `diff` prints (pg_regress's variant metric)
  candidates      [{file, matched, diff_lines, changed_lines}] for every file compared, in
                  order (comparison stops at the first match, as in pg_regress)
  hunks           [{header, expected_start, expected_lines, actual_start, actual_lines,
                  lines: [{kind: context|removed|added, text, expected_line, actual_line,
                  missing_newline}]}] with -U context; line numbers are 1-based, null
                  when the line is not on that side
  unified         the unified diff text (header lines included; empty when matched)";

/// Arguments of `pgfarm diff`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct Args {
    /// The expected output (with --variants: the base file, e.g. expected/name.out).
    expected: PathBuf,
    /// The actual output (e.g. results/name.out).
    actual: PathBuf,
    /// Also try EXPECTED's alternatives name_0.out .. name_9.out (pg_regress's rule).
    #[arg(long)]
    variants: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Unified)]
    format: Format,
    /// Which white space differences count (see below).
    #[arg(long, value_enum, default_value_t = WhitespaceArg::Exact)]
    whitespace: WhitespaceArg,
    /// Lines of context around each change.
    #[arg(short = 'U', long, default_value_t = PG_REGRESS_CONTEXT)]
    context: usize,
    /// pg_regress resultmap file applied with --variants (`test:out:platform=file` lines).
    #[arg(long, requires = "variants")]
    resultmap: Option<PathBuf>,
    /// Host triple matched against resultmap patterns [default: this machine's, e.g.
    /// x86_64-pc-linux-gnu].
    #[arg(long, requires = "resultmap")]
    platform: Option<String>,
}

/// Output formats of `pgfarm diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `diff -U3` as in regression.diffs.
    Unified,
    /// `diff -C3` (what pg_regress printed before it switched to unified diffs).
    Context,
    /// One JSON object (fields below).
    Json,
}

/// `--whitespace` values; the names are `Whitespace::name()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum WhitespaceArg {
    /// Byte-exact lines (plain `diff`; pg_regress on non-Windows systems).
    Exact,
    /// Ignore a CR before the newline (`diff --strip-trailing-cr`).
    StripTrailingCr,
    /// Ignore all white space (`diff -w`).
    IgnoreAll,
}

impl From<WhitespaceArg> for Whitespace {
    fn from(arg: WhitespaceArg) -> Whitespace {
        match arg {
            WhitespaceArg::Exact => Whitespace::Exact,
            WhitespaceArg::StripTrailingCr => Whitespace::StripTrailingCr,
            WhitespaceArg::IgnoreAll => Whitespace::IgnoreAll,
        }
    }
}

/// Runs `pgfarm diff`.
pub(crate) fn run(args: Args) -> ExitCode {
    match compare(&args) {
        Ok(Outcome::Matched) => ExitCode::SUCCESS,
        Ok(Outcome::Differ) => ExitCode::from(1),
        Err(err) => {
            eprintln!("pgfarm diff: {err:#}");
            ExitCode::from(2)
        }
    }
}

enum Outcome {
    Matched,
    Differ,
}

/// A candidate expected file that exists, with its contents.
struct Candidate {
    path: String,
    contents: Vec<u8>,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} \"{}\"", path.display()))
}

fn compare(args: &Args) -> anyhow::Result<Outcome> {
    let options = Options::new().whitespace(args.whitespace.into());
    let actual = read(&args.actual, "actual file")?;
    let candidates = load_candidates(args)?;
    let choice = closest_expected_bytes(
        &actual,
        candidates.iter().map(|candidate| candidate.contents.as_slice()),
        &options,
    )
    .context("no expected file to compare with")?;
    let chosen = &candidates[choice.index];
    let diff = diff_bytes(&chosen.contents, &actual, &options);
    let actual_path = args.actual.display().to_string();

    if args.variants && args.format != Format::Json {
        if choice.matched {
            eprintln!("pgfarm diff: {actual_path} matches {}", chosen.path);
        } else {
            eprintln!(
                "pgfarm diff: no candidate matches {actual_path}; reporting against {} ({} of {} compared)",
                chosen.path,
                choice.index + 1,
                choice.scores.len()
            );
        }
    }

    let mut out = String::new();
    match args.format {
        Format::Unified | Format::Context if !diff.is_empty() => {
            let letter = if args.format == Format::Unified { 'U' } else { 'C' };
            // pg_regress writes this line before the diff of each failing test.
            writeln!(
                out,
                "diff {} {} {}",
                options.pretty_diff_flags(letter, args.context),
                chosen.path,
                actual_path
            )?;
            let expected_label = label(&chosen.path);
            let actual_label = label(&actual_path);
            let labels = Labels { expected: &expected_label, actual: &actual_label };
            if args.format == Format::Unified {
                diff.write_unified(&mut out, &labels, args.context)?;
            } else {
                diff.write_context(&mut out, &labels, args.context)?;
            }
        }
        Format::Unified | Format::Context => {}
        Format::Json => {
            let report =
                json_report(&diff, args, &candidates, &choice, &chosen.path, &actual_path)?;
            out = serde_json::to_string_pretty(&report)?;
            out.push('\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`pgfarm diff ... | head`) is not an error.
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(err).context("cannot write to stdout");
        }
    }
    Ok(if choice.matched { Outcome::Matched } else { Outcome::Differ })
}

/// The expected files to compare, in pg_regress's order, that exist.
fn load_candidates(args: &Args) -> anyhow::Result<Vec<Candidate>> {
    let base = args.expected.display().to_string();
    if !args.variants {
        let contents = read(&args.expected, "expected file")?;
        return Ok(vec![Candidate { path: base, contents }]);
    }
    let names = match &args.resultmap {
        Some(resultmap_path) => {
            let text = read(resultmap_path, "resultmap")?;
            let text = String::from_utf8_lossy(&text);
            let resultmap = Resultmap::parse(&text).with_context(|| {
                format!("cannot use resultmap \"{}\"", resultmap_path.display())
            })?;
            let test = test_name(&args.expected);
            let platform = args.platform.clone().unwrap_or_else(pgfarm_diff::host_platform);
            expected_candidates(&test, &base, Some(&resultmap), &platform)
        }
        None => std::iter::once(base.clone())
            .chain((0..=9).filter_map(|i| alternative_expected_file(&base, i)))
            .collect(),
    };
    let mut candidates = Vec::new();
    for (idx, name) in names.into_iter().enumerate() {
        let path = PathBuf::from(&name);
        // The first name must exist (pg_regress stops when `diff` cannot open it); the others
        // are optional alternatives.
        if idx == 0 || path.exists() {
            let contents = read(&path, "expected file")?;
            candidates.push(Candidate { path: name, contents });
        }
    }
    Ok(candidates)
}

/// The test name pg_regress would use for an expected file: its file name without extension.
fn test_name(expected: &Path) -> String {
    expected.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
}

/// GNU diff's header label: the path, a tab and the file's modification time in UTC.
fn label(path: &str) -> String {
    let modified = std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    match modified.and_then(|time| time.duration_since(UNIX_EPOCH).ok()) {
        Some(since_epoch) => format!("{path}\t{}", format_utc(since_epoch)),
        None => path.to_owned(),
    }
}

/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn +0000`, the timestamp format of GNU diff's headers.
fn format_utc(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:09} +0000",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60,
        since_epoch.subsec_nanos()
    )
}

fn json_report(
    diff: &Diff<'_>,
    args: &Args,
    candidates: &[Candidate],
    choice: &pgfarm_diff::Choice,
    expected_path: &str,
    actual_path: &str,
) -> anyhow::Result<Value> {
    let hunks: Vec<Value> = diff
        .hunks(args.context)
        .iter()
        .map(|hunk| {
            let mut header = String::new();
            diff.write_unified_hunk(&mut header, hunk).ok();
            let header = header.lines().next().unwrap_or_default().to_owned();
            let lines: Vec<Value> = diff
                .hunk_lines(hunk)
                .iter()
                .map(|line| {
                    json!({
                        "kind": match line.kind {
                            LineKind::Context => "context",
                            LineKind::Removed => "removed",
                            LineKind::Added => "added",
                        },
                        "text": line.text(),
                        "expected_line": line.expected_line.map(|idx| idx + 1),
                        "actual_line": line.actual_line.map(|idx| idx + 1),
                        "missing_newline": line.missing_newline,
                    })
                })
                .collect();
            json!({
                "header": header,
                "expected_start": hunk.expected.start + 1,
                "expected_lines": hunk.expected.len(),
                "actual_start": hunk.actual.start + 1,
                "actual_lines": hunk.actual.len(),
                "lines": lines,
            })
        })
        .collect();
    let candidate_reports: Vec<Value> = choice
        .scores
        .iter()
        .map(|score| {
            json!({
                "file": candidates[score.index].path,
                "matched": score.matched,
                "diff_lines": score.n_diff_lines,
                "changed_lines": score.n_changed_lines,
            })
        })
        .collect();
    let mut unified = String::new();
    let expected_label = label(expected_path);
    let actual_label = label(actual_path);
    diff.write_unified(
        &mut unified,
        &Labels { expected: &expected_label, actual: &actual_label },
        args.context,
    )?;
    Ok(json!({
        "matched": choice.matched,
        "expected_file": expected_path,
        "actual_file": actual_path,
        "whitespace": diff.options().whitespace_mode().name(),
        "changed_lines": diff.n_changed_lines(),
        "removed_lines": diff.n_removed_lines(),
        "added_lines": diff.n_added_lines(),
        "diff_lines": diff.n_normal_diff_lines(),
        "candidates": candidate_reports,
        "hunks": hunks,
        "unified": unified,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_timestamps_look_like_gnu_diff() {
        let time = std::time::Duration::new(1_795_318_566, 813_222_725);
        assert_eq!(format_utc(time), "2026-11-22 03:36:06.813222725 +0000");
        assert_eq!(format_utc(std::time::Duration::ZERO), "1970-01-01 00:00:00.000000000 +0000");
        assert_eq!(
            format_utc(std::time::Duration::from_secs(951_782_400)),
            "2000-02-29 00:00:00.000000000 +0000"
        );
    }
}
