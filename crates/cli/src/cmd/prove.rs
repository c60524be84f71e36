//! `pgfarm prove`: pg_prove for pgTAP files, run by `pgfarm_runner::prove`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pgfarm_runner::prove::{self, ProveEvent, ProveOptions};
use pgfarm_runner::report;

const AFTER_HELP: &str = "\
Runs each file as pg_prove does: psql --no-psqlrc --no-align --quiet --pset pager=off
--pset tuples_only=true --set ON_ERROR_STOP=1 [connection options] --file FILE, parses the TAP
in pgTAP mode and judges it as TAP::Harness does: a file passes when every planned test ran
and passed (TODO failures excepted), no test ran past the plan and psql exited with 0, so a
script that dies midway fails even when the TAP it printed looks fine.

{selection}
Here --filter applies to a file's path (a --runtests call has no file and no tags); there is no
--stage (this command runs one stage: see `pgfarm test --stage`). pgfarm.toml is read from the
current folder: its `setup` steps run before the files (SQL in -d, else `postgres`), its
`teardown` steps after them.

Exit status (docs/exit-codes.md): 0 all files passed, 1 some file failed, 2 an error (psql could
not be started, bad option, a file timed out, a step failed, interrupted, a result file could not
be written), 3 pgfarm.toml cannot be read or names an unknown step, 4 no test files found or
none selected (0 with --allow-empty).";

fn after_help() -> String {
    AFTER_HELP.replace("{selection}", super::select::SELECTION_HELP)
}

/// Arguments of `pgfarm prove` (pg_prove's options that matter).
#[derive(Debug, clap::Args)]
#[command(after_help = after_help(), disable_help_flag = true)]
pub(crate) struct Args {
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Database to which to connect.
    #[arg(short = 'd', long)]
    dbname: Option<String>,
    /// User with which to connect.
    #[arg(short = 'U', long)]
    username: Option<String>,
    /// Host to which to connect.
    #[arg(short = 'h', long)]
    host: Option<String>,
    /// Port to which to connect.
    #[arg(short = 'p', long)]
    port: Option<u16>,
    /// psql program to run.
    #[arg(short = 'b', long = "psql-bin", default_value = "psql")]
    psql_bin: PathBuf,
    /// Run N test files at once.
    #[arg(short = 'j', long, default_value_t = 1)]
    jobs: usize,
    /// Extension of test files searched in directories (repeatable; default .pg).
    #[arg(long)]
    ext: Vec<String>,
    /// Search directories recursively.
    #[arg(short = 'r', long)]
    recurse: bool,
    /// Print all TAP output.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Show only failing files.
    #[arg(short = 'f', long)]
    failures: bool,
    /// Print only the summary (and failures' diagnostics are not shown).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Print only the final result.
    #[arg(short = 'Q', long = "QUIET")]
    really_quiet: bool,
    /// Run xUnit tests with pgTAP's runtests() instead of files.
    #[arg(short = 'R', long)]
    runtests: bool,
    /// Schema for --runtests.
    #[arg(short = 's', long, requires = "runtests")]
    schema: Option<String>,
    /// Function name pattern for --runtests.
    #[arg(short = 'x', long = "match", requires = "runtests")]
    match_pattern: Option<String>,
    /// Run the files in random order.
    #[arg(long)]
    shuffle: bool,
    /// Print the time each file took.
    #[arg(short = 't', long)]
    timer: bool,
    /// List the files that would run, without running them.
    #[arg(short = 'D', long)]
    dry: bool,
    /// Set a psql variable (NAME=VALUE; repeatable).
    #[arg(short = 'S', long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Set a psql print option (NAME=VALUE; repeatable).
    #[arg(short = 'P', long = "pset", value_name = "NAME=VALUE")]
    pset: Vec<String>,
    /// pgfarm: run each file in its own copy of the database (`CREATE DATABASE DB_pgfarm_N
    /// TEMPLATE DB`, dropped afterwards), so files run at once (-j) cannot see or lock each
    /// other's objects. Needs -d; a file that prints its database name sees the copy's.
    #[arg(long, requires = "dbname")]
    isolate: bool,
    /// Kill a file's psql after SECONDS (the file fails).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a TAP 14 summary to FILE.
    #[arg(long, value_name = "FILE")]
    tap: Option<PathBuf>,
    /// Also write the results as a pgfarm result bundle to FILE.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    select: super::select::SelectArgs,
    /// Test files or directories (default: test/).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Runs `pgfarm prove`.
pub(crate) fn run(args: Args) -> ExitCode {
    let selection = match args.select.selection(&[]) {
        Ok(selection) => selection,
        Err(err) => {
            eprintln!("pgfarm prove: {err}");
            return ExitCode::from(2);
        }
    };
    let steps = match pgfarm_runner::steps::Steps::from_dir(std::path::Path::new(".")) {
        Ok(steps) => steps,
        Err(err) => {
            eprintln!("pgfarm prove: {err}");
            return ExitCode::from(3);
        }
    };
    let allow_empty = args.select.allow_empty();
    let empty = if allow_empty { ExitCode::SUCCESS } else { ExitCode::from(4) };
    let options = ProveOptions {
        paths: args.paths,
        recurse: args.recurse,
        ext: if args.ext.is_empty() { vec![".pg".into()] } else { args.ext },
        dbname: args.dbname,
        username: args.username,
        host: args.host,
        port: args.port,
        psql: args.psql_bin,
        jobs: args.jobs.max(1),
        runtests: args.runtests,
        schema: args.schema,
        match_pattern: args.match_pattern,
        shuffle: args.shuffle,
        isolate: args.isolate,
        set: args.set,
        pset: args.pset,
        timeout: args.timeout.filter(|s| s.is_finite() && *s > 0.0).map(Duration::from_secs_f64),
        selection,
        fail_fast: args.select.fail_fast(),
        steps,
        run_wide_steps: true,
        ..ProveOptions::default()
    };
    let scripts = match prove::plan(&options) {
        Ok(scripts) if scripts.is_empty() => {
            eprintln!("pgfarm prove: no test files found");
            return empty;
        }
        Ok(scripts) => scripts,
        Err(err) => {
            eprintln!("pgfarm prove: {err}");
            return ExitCode::from(2);
        }
    };
    for script in &scripts {
        if let prove::Script::File(path) = script
            && let Err(err) = options.steps.check_file(path, &path.display().to_string())
        {
            eprintln!("pgfarm prove: {err}");
            return ExitCode::from(3);
        }
    }
    if args.dry {
        for script in prove::choose(&options, &scripts).0 {
            println!("{}", script.name());
        }
        return ExitCode::SUCCESS;
    }
    if let Err(err) = options.cancel.cancel_on_signals() {
        eprintln!("pgfarm prove: {err}");
    }
    let file_line = prove::FileLine {
        width: scripts.iter().map(|s| s.name().chars().count()).max().unwrap_or(0),
        verbose: args.verbose,
        timer: args.timer,
    };
    let mut on_event = |event: ProveEvent<'_>| {
        let ProveEvent::Finished(result) = event;
        if args.really_quiet || (args.failures && result.passed) {
            return;
        }
        let mut text = file_line.render(result);
        if args.quiet && !args.verbose {
            // Keep the name line and the verdict only.
            let lines: Vec<&str> = text.lines().collect();
            text = match (lines.first(), lines.last()) {
                (Some(first), Some(last)) if lines.len() > 1 => format!("{first}\n{last}\n"),
                _ => text,
            };
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    };
    let report = match prove::run(&options, &scripts, &mut on_event) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("pgfarm prove: {err}");
            return ExitCode::from(2);
        }
    };
    for line in super::select::report_lines(
        "pgfarm prove",
        &options.selection,
        &report.deselected,
        &report.not_run,
    ) {
        eprintln!("{line}");
    }
    if let Some(err) = &report.step_error {
        eprintln!("pgfarm prove: {err}");
    }
    let summary = prove::render_summary(&report, args.timer);
    if args.really_quiet {
        print!("{}", summary.lines().last().map(|l| format!("{l}\n")).unwrap_or_default());
    } else {
        print!("{summary}");
    }
    let run = pgfarm_runner::bundle::prove_run(&report);
    let suites = [report::run_suite("tap", run.parts(), report::Cases::TestsOnly)];
    let mut write_failed = false;
    if let Some(path) = &args.junit
        && let Err(err) = report::junit_xml("pgfarm prove", &suites)
            .and_then(|xml| report::write_atomic(path, xml.as_bytes()))
    {
        eprintln!("pgfarm prove: --junit: {err}");
        write_failed = true;
    }
    if let Some(path) = &args.tap
        && let Err(err) = report::write_atomic(path, report::tap_stream(&suites).as_bytes())
    {
        eprintln!("pgfarm prove: --tap: {err}");
        write_failed = true;
    }
    if let Some(path) = &args.bundle
        && let Err(err) = pgfarm_runner::bundle::write_prove_bundle(path, &options, &run)
    {
        eprintln!("pgfarm prove: --bundle: {err}");
        write_failed = true;
    }
    let exit = pgfarm_verdict::exit_code([&run.verdict().run], write_failed);
    ExitCode::from(exit.allow_empty(allow_empty).code())
}
