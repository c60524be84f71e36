//! `pgfarm tap`: parse a TAP stream (a file or stdin) and report its verdict, or re-emit it as normalized TAP.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use pgfarm_tap_parser::{Options, PushParser, Summarizer, Summary, TapVersion, TapWriter};

const AFTER_HELP: &str = "\
Reads TAP 12 (no version line, as pgTAP prints it), 13 or 14 as it arrives (the file is
streamed, never loaded whole) and judges it by the TAP 14 rules: a stream passes when no test
point fails (TODO and SKIP points never fail), every subtest passes, the plan is present and
matches, ids are unique and inside the plan, and there is no `Bail out!`.

Exit status: 0 when the stream passes, 1 when it fails, 2 on a usage error or when FILE cannot
be read (one line on stderr naming it).

--pgtap: comments after a failed test point (`# Failed test 2: \"x\"`, `have:`/`want:`,
`caught:`/`wanted:`, `died:`) are that test's diagnostics, `# Looks like ...` lines are
summary comments, and `# Subtest: f()` matches `ok N - f` as pgTAP's runtests() prints them.

--format json prints one object:
  ok        true when the stream passes (exit status 0)
  count     top-level test points
  pass      top-level `ok` test points (including `ok ... # SKIP/TODO`)
  fail      top-level failed test points (`not ok` without SKIP/TODO)
  todo      top-level test points with a TODO directive
  skip      top-level test points with a SKIP directive
  bailout   null, or the `Bail out!` reason (\"\" when none was given)
  plan      null, or {start, end, skip_all, skip_reason} (skip_reason: null or the reason)
  failures  [{id, name}] of the failed top-level test points
  errors    protocol errors (missing plan, count mismatch, duplicate or out-of-plan ids,
            test points after a trailing plan, ...), each a message with its line number

--format tap14 / tap13 re-emit the stream as normalized TAP (tap13 for Perl's prove): numbered
test points with ` - ` before descriptions, escaped `#` and `\\`, upper-case directives,
4-space indented subtests; blank lines are dropped and nothing is written after `Bail out!`.";

/// Arguments of `pgfarm tap`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct Args {
    /// The TAP stream to read; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Read pgTAP conventions (failure diagnostics in comments, runtests() subtest names).
    #[arg(long)]
    pgtap: bool,
}

/// What `pgfarm tap` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A readable summary: verdict, counts, failures with diagnostics, protocol errors.
    Human,
    /// One JSON object (fields below).
    Json,
    /// Normalized TAP version 13.
    Tap13,
    /// Normalized TAP version 14.
    Tap14,
}

/// Runs `pgfarm tap`.
pub(crate) fn run(args: Args) -> ExitCode {
    let (mut input, label): (Box<dyn Read>, String) = match &args.file {
        None => (Box::new(io::stdin().lock()), "standard input".to_string()),
        Some(path) if path.as_os_str() == "-" => {
            (Box::new(io::stdin().lock()), "standard input".to_string())
        }
        Some(path) => match File::open(path) {
            Ok(file) => (Box::new(file), path.display().to_string()),
            Err(err) => {
                eprintln!("pgfarm tap: cannot open {}: {err}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let options = if args.pgtap { Options::pgtap() } else { Options::default() };
    let writer_version = match args.format {
        Format::Tap13 => Some(TapVersion::V13),
        Format::Tap14 => Some(TapVersion::V14),
        Format::Human | Format::Json => None,
    };
    let mut parser = PushParser::with_options(options);
    let mut summarizer = Summarizer::new();
    let mut writer = writer_version.map(TapWriter::new);
    let mut tap_out = String::new();
    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    let mut stdout_closed = false;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                eprintln!("pgfarm tap: cannot read {label}: {err}");
                return ExitCode::from(2);
            }
        };
        parser.push(&buf[..n], |event, _| {
            summarizer.event(&event);
            if let Some(writer) = writer.as_mut() {
                // Writing into a String cannot fail.
                let _ = writer.write_event(&event, &mut tap_out);
            }
        });
        if !tap_out.is_empty() {
            write_out(&mut stdout, &tap_out, &mut stdout_closed);
            tap_out.clear();
        }
    }
    parser.finish(|event, _| {
        summarizer.event(&event);
        if let Some(writer) = writer.as_mut() {
            let _ = writer.write_event(&event, &mut tap_out);
        }
    });
    let summary = summarizer.finish();
    let text = match args.format {
        Format::Tap13 | Format::Tap14 => tap_out,
        Format::Json => format!("{}\n", json_summary(&summary)),
        Format::Human => human_summary(&summary, &label),
    };
    write_out(&mut stdout, &text, &mut stdout_closed);
    if summary.ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// Writes to stdout; a closed pipe (`pgfarm tap ... | head`) is not an error, other write
/// errors are reported once. Returns false when stdout is gone.
fn write_out(stdout: &mut impl Write, text: &str, closed: &mut bool) -> bool {
    if *closed {
        return false;
    }
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        Err(err) => {
            if err.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("pgfarm tap: cannot write to standard output: {err}");
            }
            *closed = true;
            false
        }
    }
}

/// The `--format json` object (a public interface: field names and order must not change).
#[derive(serde::Serialize)]
struct JsonSummary<'s> {
    ok: bool,
    count: u64,
    pass: u64,
    fail: u64,
    todo: u64,
    skip: u64,
    bailout: Option<&'s str>,
    plan: Option<JsonPlan<'s>>,
    failures: Vec<JsonFailure<'s>>,
    errors: &'s [String],
}

#[derive(serde::Serialize)]
struct JsonPlan<'s> {
    start: u64,
    end: u64,
    skip_all: bool,
    skip_reason: Option<&'s str>,
}

#[derive(serde::Serialize)]
struct JsonFailure<'s> {
    id: u64,
    name: &'s str,
}

fn json_summary(summary: &Summary) -> String {
    let json = JsonSummary {
        ok: summary.ok,
        count: summary.count,
        pass: summary.pass,
        fail: summary.fail,
        todo: summary.todo,
        skip: summary.skip,
        bailout: summary.bailout.as_deref(),
        plan: summary.plan.as_ref().map(|plan| JsonPlan {
            start: plan.start,
            end: plan.end,
            skip_all: plan.skip_all,
            skip_reason: plan.skip_reason.as_deref(),
        }),
        failures: summary
            .failures
            .iter()
            .map(|f| JsonFailure { id: f.id, name: &f.name })
            .collect(),
        errors: &summary.errors,
    };
    // Plain data with string keys: serialization cannot fail.
    serde_json::to_string(&json).unwrap_or_default()
}

/// The `--format human` report.
fn human_summary(summary: &Summary, label: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let verdict = if summary.ok { "PASS" } else { "FAIL" };
    let _ = writeln!(out, "{label}: {verdict}");
    let plan = match &summary.plan {
        Some(plan) if plan.skip_all => match &plan.skip_reason {
            Some(reason) => format!("1..0 (all skipped: {reason})"),
            None => "1..0 (all skipped)".to_string(),
        },
        Some(plan) => format!("{}..{}", plan.start, plan.end),
        None => "none".to_string(),
    };
    let _ = writeln!(
        out,
        "  tests {}, passed {}, failed {}, todo {}, skipped {}, plan {plan}",
        summary.count, summary.pass, summary.fail, summary.todo, summary.skip
    );
    if let Some(reason) = &summary.bailout {
        if reason.is_empty() {
            let _ = writeln!(out, "  bailed out");
        } else {
            let _ = writeln!(out, "  bailed out: {reason}");
        }
    }
    if !summary.failures.is_empty() {
        let _ = writeln!(out, "failed tests:");
        for failure in &summary.failures {
            if failure.name.is_empty() {
                let _ = writeln!(out, "  not ok {}", failure.id);
            } else {
                let _ = writeln!(out, "  not ok {} - {}", failure.id, failure.name);
            }
            for line in &failure.diagnostics {
                let _ = writeln!(out, "      # {line}");
            }
            if let Some(yaml) = &failure.yaml {
                for line in yaml.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
    }
    if !summary.errors.is_empty() {
        let _ = writeln!(out, "protocol errors:");
        for error in &summary.errors {
            let _ = writeln!(out, "  {error}");
        }
    }
    if !summary.warnings.is_empty() {
        let _ = writeln!(out, "notes:");
        for warning in &summary.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    out
}
