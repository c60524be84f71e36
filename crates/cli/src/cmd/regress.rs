//! `pgfarm regress`: pg_regress's command line, run by `pgfarm_runner::regress`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pgfarm_runner::regress::{self, RegressOptions, Stream, Style};
use pgfarm_runner::report;

const AFTER_HELP: &str = "\
Accepts pg_regress's options, so PGXS can call it in place of pg_regress:
  make installcheck pg_regress_installcheck='pgfarm regress'   (PGXS then adds --inputdir,
  --bindir, --dbname and the REGRESS_OPTS itself)

Runs each test as pg_regress does: `psql -X -a -q -d DB -v HIDE_TABLEAM=on
-v HIDE_TOAST_COMPRESSION=on < sql/NAME.sql > results/NAME.out 2>&1`, with PGAPPNAME,
PGTZ=America/Los_Angeles, PGDATESTYLE='Postgres, MDY', PGOPTIONS intervalstyle and
LC_MESSAGES=C; compares with expected/NAME.out, its _0.._9 variants and resultmap entries
(fewest differing lines wins); writes results/, regression.diffs and regression.out in the
output directory exactly where pg_regress writes them.

Output is pg_regress 16+'s TAP format; --classic prints pg_regress 15's format and uses its
rules (`ignore:` lines accepted, a psql error exit alone does not fail a test).

{selection}
Here --filter and the tags apply to schedule and positional tests (name and sql/NAME.sql);
there is no --stage (this command runs one stage: see `pgfarm test --stage`). pgfarm.toml is read
from the current folder: its `setup` steps run after the test databases are made (in the first
--dbname), its `teardown` steps at the end.

Exit status (docs/exit-codes.md): 0 all tests passed, 1 some test failed, 2 the tests could not
be run (bad option, schedule syntax error, psql set-up command failed, server not reachable), a
test timed out or crashed the server, a step failed, or a result file could not be written,
3 pgfarm.toml cannot be read or names an unknown step, 4 there was no test to run (or none
selected; 0 with --allow-empty).";

fn after_help() -> String {
    AFTER_HELP.replace("{selection}", super::select::SELECTION_HELP)
}

/// Arguments of `pgfarm regress` (pg_regress's, plus pgfarm's output and speed options).
///
/// As with pg_regress's getopt, a repeated single-valued option takes its last value (PGXS
/// passes `--inputdir=./` and then `--inputdir=test` from REGRESS_OPTS).
#[derive(Debug, clap::Args)]
#[command(after_help = after_help(), args_override_self = true)]
pub(crate) struct Args {
    /// Take input files (sql/, input/, resultmap) from DIR.
    #[arg(long, value_name = "DIR", default_value = ".")]
    inputdir: PathBuf,
    /// Place output files (results/, regression.*) in DIR.
    #[arg(long, value_name = "DIR", default_value = ".")]
    outputdir: PathBuf,
    /// Take expected files from DIR/expected (default: the input directory).
    #[arg(long, value_name = "DIR")]
    expecteddir: Option<PathBuf>,
    /// Use test ordering schedule from FILE (repeatable, concatenated).
    #[arg(long, value_name = "FILE")]
    schedule: Vec<PathBuf>,
    /// Load the named extension before running the tests (repeatable).
    #[arg(long = "load-extension", value_name = "EXT")]
    load_extension: Vec<String>,
    /// Use database DB (comma-separated list allowed; default "regression").
    #[arg(long, value_name = "DB", value_delimiter = ',')]
    dbname: Vec<String>,
    /// Use an existing installation: do not drop and create the databases.
    #[arg(long)]
    use_existing: bool,
    /// Create a temporary instance in DIR (a pgfarm cluster: cached initdb, fast start).
    #[arg(long, value_name = "DIR")]
    temp_instance: Option<PathBuf>,
    /// Append contents of FILE to the temporary instance's configuration (repeatable).
    #[arg(long, value_name = "FILE")]
    temp_config: Vec<PathBuf>,
    /// Use BINPATH for psql (and initdb/postgres); empty means PATH.
    #[arg(long, value_name = "BINPATH")]
    bindir: Option<String>,
    /// Use the postmaster running on HOST.
    #[arg(long)]
    host: Option<String>,
    /// Use the postmaster running at PORT (or start the temporary instance on it).
    #[arg(long)]
    port: Option<u16>,
    /// Connect as USER.
    #[arg(long)]
    user: Option<String>,
    /// Maximum number of concurrent connections (0 = unlimited).
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_connections: usize,
    /// Maximum number of concurrent tests in a schedule group (0 = unlimited).
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_concurrent_tests: usize,
    /// Use ENCODING as the databases' encoding.
    #[arg(long)]
    encoding: Option<String>,
    /// Use the C locale.
    #[arg(long)]
    no_locale: bool,
    /// Use CMD as launcher of psql.
    #[arg(long, value_name = "CMD")]
    launcher: Option<String>,
    /// Create the specified role(s) before testing (comma-separated allowed).
    #[arg(long = "create-role", value_name = "ROLE", value_delimiter = ',')]
    create_role: Vec<String>,
    /// Look for dynamic libraries in DIR (PG_LIBDIR, @libdir@).
    #[arg(long, value_name = "DIR")]
    dlpath: Option<PathBuf>,
    /// Accepted for compatibility; has no effect.
    #[arg(long, hide = true)]
    debug: bool,
    /// Print pg_regress 15's classic format and follow its rules.
    #[arg(long)]
    classic: bool,
    /// Run positional tests N at a time, each in its own clone of the test database.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1)]
    jobs: usize,
    /// Cancel a test that runs longer than SECONDS and mark it failed (timeout).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Also write the results as a pgfarm result bundle to FILE.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a TAP 14 summary to FILE.
    #[arg(long, value_name = "FILE")]
    tap: Option<PathBuf>,
    #[command(flatten)]
    select: super::select::SelectArgs,
    /// Tests to run after the schedules.
    #[arg(value_name = "TEST")]
    tests: Vec<String>,
}

/// Runs `pgfarm regress`.
pub(crate) fn run(args: Args) -> ExitCode {
    let selection = match args.select.selection(&[]) {
        Ok(selection) => selection,
        Err(err) => {
            eprintln!("pgfarm regress: {err}");
            return ExitCode::from(2);
        }
    };
    let steps = match pgfarm_runner::steps::Steps::from_dir(std::path::Path::new(".")) {
        Ok(steps) => steps,
        Err(err) => {
            eprintln!("pgfarm regress: {err}");
            return ExitCode::from(3);
        }
    };
    let options = RegressOptions {
        inputdir: args.inputdir,
        outputdir: args.outputdir,
        expecteddir: args.expecteddir,
        schedules: args.schedule,
        tests: args.tests,
        load_extensions: args.load_extension,
        dbnames: if args.dbname.is_empty() { vec!["regression".into()] } else { args.dbname },
        use_existing: args.use_existing,
        temp_instance: args.temp_instance,
        temp_configs: args.temp_config,
        bindir: args.bindir.filter(|b| !b.is_empty()).map(PathBuf::from),
        host: args.host,
        port: args.port,
        user: args.user,
        max_connections: args.max_connections,
        max_concurrent_tests: args.max_concurrent_tests,
        encoding: args.encoding,
        no_locale: args.no_locale,
        launcher: args.launcher,
        create_roles: args.create_role,
        dlpath: args.dlpath,
        style: if args.classic { Style::Classic } else { Style::Tap },
        jobs: args.jobs.max(1),
        timeout: match args.timeout {
            Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
            Some(secs) => {
                eprintln!(
                    "pgfarm regress: --timeout must be a positive number of seconds, got {secs}"
                );
                return ExitCode::from(2);
            }
            None => None,
        },
        selection,
        fail_fast: args.select.fail_fast(),
        steps,
        run_wide_steps: true,
        ..RegressOptions::default()
    };
    if let Err(err) = regress::check_steps(&options) {
        eprintln!("pgfarm regress: {err}");
        return ExitCode::from(3);
    }
    if let Err(err) = options.cancel.cancel_on_signals() {
        eprintln!("pgfarm regress: {err}");
    }
    let mut sink = |stream: Stream, text: &str| match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
        Stream::Stderr => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
        }
    };
    let report = match regress::run_with_instance(&options, &mut sink) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("pgfarm regress: {err}");
            return ExitCode::from(2);
        }
    };
    for line in super::select::report_lines(
        "pgfarm regress",
        &options.selection,
        &report.deselected,
        &report.not_run,
    ) {
        eprintln!("{line}");
    }
    let run = pgfarm_runner::bundle::regress_run(&report);
    let suites = [report::run_suite("regress", run.parts(), report::Cases::TestsOnly)];
    let mut write_failed = false;
    if let Some(path) = &args.junit
        && let Err(err) = report::junit_xml("pgfarm regress", &suites)
            .and_then(|xml| report::write_atomic(path, xml.as_bytes()))
    {
        eprintln!("pgfarm regress: --junit: {err}");
        write_failed = true;
    }
    if let Some(path) = &args.tap
        && let Err(err) = report::write_atomic(path, report::tap_stream(&suites).as_bytes())
    {
        eprintln!("pgfarm regress: --tap: {err}");
        write_failed = true;
    }
    if let Some(path) = &args.bundle
        && let Err(err) = pgfarm_runner::bundle::write_regress_bundle(path, &options, &run)
    {
        eprintln!("pgfarm regress: --bundle: {err}");
        write_failed = true;
    }
    if report.exit_code == 2 {
        // pg_regress's own status, which PGXS relies on: the tests could not be run.
        return ExitCode::from(2);
    }
    let exit = pgfarm_verdict::exit_code([&run.verdict().run], write_failed);
    ExitCode::from(exit.allow_empty(args.select.allow_empty()).code())
}
