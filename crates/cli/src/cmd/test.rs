//! `pgfarm test`: the farm job over the PostgreSQL installations, with live progress and a
//! final matrix; the work is done by `pgfarm_runner::farm`.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pgfarm_model::{RunStatus, StageKind, StageStatus};
use pgfarm_pgnode::{Installation, Selection};
use pgfarm_runner::dist::{self, Accept, FetchOptions, Mirror, Provenance, Target};
use pgfarm_runner::extension::ExtensionSource;
use pgfarm_runner::farm::{self, FarmEvent, FarmOptions, InstallationResult, STAGES};
use pgfarm_runner::process::CancelFlag;
use pgfarm_runner::report::{self, Suite};

const AFTER_HELP: &str = "\
SOURCE is a directory (default .), pgxn:NAME or pgxn:NAME@VERSION (the highest stable release
on the mirror; --testing, --unstable widen the choice), FILE.zip or an http(s)://...zip URL: a
distribution is downloaded into $PGFARM_HOME/cache/pgxn (keyed by SHA-1, verified against the
release), unpacked into the work folder (no member may escape its one top folder), and its
bundle is named by its META.json name and version, with the release in extension.source. The
mirror (--pgxn-mirror, PGFARM_PGXN_MIRROR, default https://api.pgxn.org/ for pgxn: sources; a
directory or zip uses the network only when one is given) also gives the META.json
prerequisites the tree lacks (installed before the extension, once per tree) and the previous
release for the upgrade stage.

Stages per installation, in order, set up as the extension's own `make installcheck` sets them
up: build (a faithful copy of the source outside it, ./configure when present, make USE_PGXS=1
PG_CONFIG=.. [build] make_args), install (make install into that installation's tree), cluster
(a fresh pgnode cluster in the environment's locale with pgfarm.toml's [cluster] settings and
--set; make installcheck is asked what it would run, its prerequisites are built, and the
--temp-config files it names are applied), load (CREATE EXTENSION .. CASCADE; a dependency the
tree lacks makes it `missing`), regress (the recorded pg_regress calls), isolation (the tree's
pg_isolation_regress over ISOLATION), tap (pgTAP files directly in test/ or t/ that call plan(,
no_plan( or runtests(, or pgfarm.toml [tap] files), perl_tap (TAP_TESTS' t/*.pl as
prove_installcheck runs them; `missing` on a tree without --enable-tap-tests), installcheck
(only when the Makefile's own installcheck recipe runs more than PGXS's drivers), upgrade (from
the newest earlier version the tree can install, else the previous PGXN release, ALTER
EXTENSION .. UPDATE, catalog compared with a fresh install; [upgrade] rerun = true runs the
pgTAP files again in the updated database). A failed or missing build, install, cluster or
load skips the later stages; a failing suite does not stop the others. One bundle per installation is written to
--out (temp file + rename). Details: docs/runner.md.

Exit status:
  0  every stage that ran passed
  1  a test or check failed (load, regress, isolation, tap, perl_tap, installcheck, upgrade)
  2  pgfarm or the machine could not run something: build, install or cluster failure, a
     server crash, a timeout, interrupted (Ctrl-C / SIGTERM: clusters are removed and bundles
     written as `interrupted`), or a bundle could not be written; a distribution whose
     download fails (the URL is named), whose checksum differs (both digests are named) or
     whose archive is hostile (the member is named); or an otherwise passing run's coverage is
     below --coverage-threshold
  3  usage or configuration error (bad option, bad pgfarm.toml/META.json, an unknown step,
     no installation, an unknown distribution or no release of the accepted statuses)
  4  nothing was tested (no suite ran on any installation, or no test was selected; 0 with
     --allow-empty)";

/// How the selection flags and steps apply to `pgfarm test`.
const TEST_SELECTION_HELP: &str = "In pgfarm test, --filter and the tags apply to pg_regress tests (name, sql/NAME.sql), isolation
specs (name, specs/NAME.spec, `# @tag` comments), pgTAP files and Perl TAP files (their paths);
--stage regress,isolation runs only those stages (build, install, cluster and load always run;
the others are `skipped`); --fail-fast also stops new stages and installations (an installation
not started has no bundle). pgfarm.toml's `setup` steps end the load stage (SQL in `postgres`
unless the step names a database), its `teardown` steps run after the last stage, also after
Ctrl-C or SIGTERM; `@setup`/`@teardown` headers apply to pg_regress and pgTAP files.";

fn after_help() -> String {
    format!("{AFTER_HELP}\n\n{}\n{TEST_SELECTION_HELP}", super::select::SELECTION_HELP)
}

/// Arguments of `pgfarm test`.
#[derive(Debug, clap::Args)]
#[command(after_help = after_help())]
pub(crate) struct Args {
    /// What to test: the extension's source directory, `pgxn:NAME` or `pgxn:NAME@VERSION` (a
    /// release on the PGXN mirror), a distribution archive `FILE.zip`, or its `http(s)://...zip`
    /// URL.
    #[arg(default_value = ".", value_name = "SOURCE")]
    extension_dir: PathBuf,
    /// PostgreSQL installations to test: majors and ranges (`13,16..18`), names as `pgfarm pg
    /// list` shows them (`15@debian`) or paths of a pg_config, bin dir or tree (default: every
    /// installation found that META.json allows, one per major, pgfarm's own trees first).
    #[arg(long, value_name = "INSTALLATIONS")]
    pg: Option<String>,
    /// Also test the installation this pg_config belongs to.
    #[arg(long, value_name = "PATH")]
    pg_config: Option<PathBuf>,
    /// Installations tested at once.
    #[arg(short = 'j', long, default_value_t = 6)]
    jobs: usize,
    /// Where bundles go (the folder is left out of the source copies, also when it lies
    /// inside the extension's folder).
    #[arg(long, value_name = "DIR", default_value = "pgfarm-results")]
    out: PathBuf,
    /// Scratch directory for source copies and test output (default: a fresh folder under the
    /// system's temporary folder, never inside the source; removed after a run where everything
    /// passed, kept and named otherwise).
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
    /// A server setting for the test clusters, `NAME=VALUE` (repeatable; after pgfarm.toml's
    /// `[cluster] settings`), e.g. `--set shared_preload_libraries=pg_cron`.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// initdb's locale for the test clusters (default: the environment's, as under make).
    #[arg(long, value_name = "LOCALE")]
    locale: Option<String>,
    /// initdb's encoding for the test clusters (default: the locale's).
    #[arg(long, value_name = "ENCODING")]
    encoding: Option<String>,
    /// Cancel a regress test or TAP file running longer than SECONDS.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
    /// Also write JUnit XML (all installations) to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a TAP 14 summary (all installations) to FILE.
    #[arg(long, value_name = "FILE")]
    tap: Option<PathBuf>,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    plain: bool,
    /// pgxn:NAME: also accept testing releases (default: stable only).
    #[arg(long, conflicts_with = "unstable")]
    testing: bool,
    /// pgxn:NAME: accept any release (stable, testing, unstable).
    #[arg(long)]
    unstable: bool,
    /// The PGXN mirror or API (`https://`, `file://`, loopback `http://`) for pgxn: sources,
    /// PGXN prerequisites and the previous release in the upgrade stage (default
    /// `https://api.pgxn.org/` for pgxn: sources; a directory or zip uses the network only when
    /// this is given).
    #[arg(long, env = "PGFARM_PGXN_MIRROR", value_name = "URL")]
    pgxn_mirror: Option<String>,
    /// Build and test inside a sandbox (bubblewrap): as the unprivileged user, without network
    /// (loopback only), read-only outside the work folder (make install goes through a staging
    /// folder), private /tmp, process, memory, CPU and file-size limits; the test cluster's
    /// server runs inside it too. Needs `bwrap` (package bubblewrap). See docs/sandbox.md.
    #[arg(long)]
    sandbox: bool,
    /// Run only these stages (comma-separated stage names: regress, isolation, tap, perl_tap,
    /// installcheck, upgrade; build, install, cluster and load always run).
    #[arg(long, value_name = "STAGES")]
    stage: Vec<String>,
    #[command(flatten)]
    select: super::select::SelectArgs,
    /// Leave the cluster of each installation running after the run, its databases as the
    /// tests left them (`--keep=failed`: only where the run did not pass); prints each one's
    /// connection URI; they stop on Ctrl-C/SIGTERM or after --keep-idle without clients.
    #[arg(long, value_name = "WHICH", num_args = 0..=1, require_equals = true, default_missing_value = "all", value_parser = ["all", "failed"])]
    keep: Option<String>,
    /// With --keep: stop the kept clusters after no client was connected for this long (`90s`,
    /// `5m`, `1h`); `0` waits for Ctrl-C/SIGTERM only.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::tmp::parse_duration)]
    keep_idle: Duration,
    /// Measure coverage: `track_functions = 'all'` for the SQL functions the extension owns, and
    /// a `PROFILE=--coverage` build read with gcov for its C files (an lcov `.coverage.info`
    /// beside each bundle); a summary per installation and merged.
    #[arg(long)]
    coverage: bool,
    /// With --coverage (implied): exit 2 when an otherwise passing run's merged function
    /// coverage, or C line coverage, is below N percent, naming what is uncovered.
    #[arg(long, value_name = "N")]
    coverage_threshold: Option<f64>,
    /// Do not reuse or fill the build cache (a build is reused when the sources, the
    /// installation, the make variables and pgfarm are the same).
    #[arg(long)]
    no_build_cache: bool,
    /// Run once, keep one warm cluster per installation, then on every saved change re-run
    /// only what it affects (a test or expected file: that test; an install script or control
    /// file: reinstall and all suites; a C source: rebuild, reinstall, restart, all suites).
    /// pg_regress and pgTAP suites; no bundles. Ctrl-C stops and removes every cluster.
    #[arg(long)]
    watch: bool,
}

/// The sandbox of `--sandbox`, checked to work here (bwrap present, namespaces allowed).
fn sandbox() -> Result<pgfarm_pgnode::Sandbox, pgfarm_pgnode::Error> {
    let user = pgfarm_pgnode::OsUser::for_servers(&pgfarm_pgnode::Config::current().pg_user)?;
    let sandbox = pgfarm_pgnode::Sandbox::new(user)?;
    sandbox.check()?;
    Ok(sandbox)
}

/// Runs `pgfarm test`.
pub(crate) fn run(args: Args) -> ExitCode {
    let usage = |message: String| {
        eprintln!("pgfarm test: {message}");
        ExitCode::from(3)
    };
    let target = match Target::parse(&args.extension_dir.to_string_lossy()) {
        Ok(target) => target,
        Err(err) => return usage(err.to_string()),
    };
    let scratch = args.workdir.is_none();
    let workdir = args.workdir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join("pgfarm-work").join(format!(
            "{}-{}",
            target.label(),
            std::process::id()
        ))
    });
    let explicit_mirror = args.pgxn_mirror.clone().filter(|m| !m.trim().is_empty());
    let accept = if args.unstable {
        Accept::Unstable
    } else if args.testing {
        Accept::Testing
    } else {
        Accept::Stable
    };
    let mirror = |base: String| Mirror { base, accept, cache: dist::default_cache() };
    let (source_dir, provenance) = if target.is_distribution() {
        if let Err(err) = pgfarm_runner::copy::mark_output(&workdir) {
            return usage(err.to_string());
        }
        let options = FetchOptions {
            mirror: mirror(explicit_mirror.clone().unwrap_or_else(|| dist::DEFAULT_MIRROR.into())),
            into: workdir.join("dist"),
            limits: Default::default(),
        };
        let fetched = match dist::fetch(&target, &options) {
            Ok(Some(fetched)) => fetched,
            Ok(None) => return usage(format!("{}: not a distribution", target.label())),
            Err(err) => {
                eprintln!("pgfarm test: {err}");
                return ExitCode::from(if err.is_usage() { 3 } else { 2 });
            }
        };
        eprintln!(
            "pgfarm test: {} {} unpacked into {} (sha1 {})",
            fetched.release.dist,
            fetched.release.version,
            fetched.root.display(),
            fetched.release.sha1
        );
        let from_mirror = matches!(target, Target::Pgxn { .. });
        let provenance = Provenance {
            location: Some(format!("{}/{}", fetched.release.dist, fetched.release.version)),
            release: Some(fetched.release),
            mirror: if from_mirror {
                Some(options.mirror.clone())
            } else {
                explicit_mirror.clone().map(mirror)
            },
        };
        (fetched.root, provenance)
    } else {
        (
            args.extension_dir.clone(),
            Provenance { mirror: explicit_mirror.clone().map(mirror), ..Provenance::default() },
        )
    };
    let mut source = match ExtensionSource::discover(&source_dir) {
        Ok(source) => source,
        Err(err) => return usage(err.to_string()),
    };
    source.provenance = provenance.clone();
    let installations = match Selection::from_flags(args.pg.as_deref(), args.pg_config.as_deref())
        .and_then(|selection| {
            selection.select(&Installation::discover(), |major| source.allows_major(major))
        }) {
        Ok(installations) => installations,
        Err(err) => return usage(err.to_string()),
    };
    if installations.is_empty() {
        return usage(
            "no PostgreSQL installation found (install some with `pgfarm pg install 13..18`, or name one with --pg-config PATH)"
                .into(),
        );
    }
    // Makefile functions left unevaluated (no pg_config on PATH): ask make again with the
    // first selected installation's pg_config.
    let source = if !source.make_evaluated && source.make_vars.values().any(|v| v.contains("$(")) {
        ExtensionSource::discover_with(&source_dir, Some(&installations[0].pg_config))
            .map(|mut again| {
                again.provenance = provenance;
                again
            })
            .unwrap_or(source)
    } else {
        source
    };
    let mut settings = Vec::new();
    for item in &args.set {
        match item.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                settings.push((name.trim().to_owned(), value.to_owned()))
            }
            _ => return usage(format!("--set {item}: expected NAME=VALUE")),
        }
    }
    for warning in &source.warnings {
        // A distribution is named by its META version whatever the control file says.
        if source.provenance.release.is_some() && warning.starts_with("META.json version") {
            continue;
        }
        eprintln!("pgfarm test: warning: {warning}");
    }
    let sandbox = match args.sandbox.then(sandbox).transpose() {
        Ok(sandbox) => sandbox,
        Err(err) => return usage(format!("--sandbox: {err}")),
    };
    let selection = match args.select.selection(&args.stage) {
        Ok(selection) => selection,
        Err(err) => return usage(err.to_string()),
    };
    let cancel = CancelFlag::new();
    if let Err(err) = cancel.cancel_on_signals() {
        eprintln!("pgfarm test: {err}");
    }
    let out_dir = args.out.clone();
    if let Err(err) = pgfarm_runner::copy::mark_output(&out_dir) {
        return usage(err.to_string());
    }
    if let Err(err) = pgfarm_runner::copy::mark_output(&workdir) {
        return usage(err.to_string());
    }
    let options = FarmOptions {
        source: source_dir.clone(),
        workdir: workdir.clone(),
        settings,
        locale: args.locale.clone(),
        encoding: args.encoding.clone(),
        out_dir,
        jobs: args.jobs.max(1),
        timeout: (args.timeout.is_finite() && args.timeout > 0.0)
            .then(|| Duration::from_secs_f64(args.timeout)),
        build_timeout: Some(Duration::from_secs(1800)),
        cancel: cancel.clone(),
        installations,
        sandbox,
        selection,
        fail_fast: args.select.fail_fast(),
        build_cache: !args.no_build_cache,
        coverage: args.coverage || args.coverage_threshold.is_some(),
        keep: match args.keep.as_deref() {
            Some("failed") => farm::Keep::Failed,
            Some(_) => farm::Keep::All,
            None => farm::Keep::No,
        },
        keep_idle: (!args.keep_idle.is_zero()).then_some(args.keep_idle),
    };
    let tty = std::io::stderr().is_terminal() && !args.plain;
    if args.watch {
        if options.selection.is_narrowed() || args.select.fail_fast().is_enabled() {
            return usage(
                "--watch re-runs what a change affects: it takes no selection flags".into(),
            );
        }
        if args.junit.is_some() || args.tap.is_some() {
            return usage("--watch writes no bundles, JUnit or TAP files".into());
        }
        return run_watch(&options, &source, std::io::stdout().is_terminal());
    }
    let (name, version) = match &source.provenance.release {
        Some(release) => (&release.dist, &release.version),
        None => (&source.name, &source.version),
    };
    eprintln!(
        "pgfarm test: {name} {version} on {}",
        farm::labels(&options.installations).join(", ")
    );
    let mut results =
        if tty { run_with_bars(&options, &source) } else { run_plain(&options, &source) };
    let all_passed = results.iter().all(|r| r.status == RunStatus::Ok);
    let any_kept = results.iter().any(|r| r.kept.is_some());
    if scratch && all_passed && !any_kept {
        let _ = std::fs::remove_dir_all(&workdir);
    } else {
        eprintln!("pgfarm test: work folder kept: {}", workdir.display());
    }
    print_matrix(&results, std::io::stdout().is_terminal());
    for result in &results {
        match (&result.bundle_path, &result.bundle_error) {
            (Some(path), _) => println!("bundle {}: {}", result.label, path.display()),
            (None, Some(err)) => eprintln!("pgfarm test: bundle for {}: {err}", result.label),
            _ => {}
        }
    }
    print_selection(&options, &results);
    let mut coverage_met = true;
    if options.coverage {
        coverage_met = print_coverage(&results, args.coverage_threshold);
        for result in &results {
            match &result.coverage_info {
                Some(Ok(path)) => println!("coverage.info {}: {}", result.label, path.display()),
                Some(Err(err)) => {
                    eprintln!("pgfarm test: coverage.info for {}: {err}", result.label)
                }
                None => {}
            }
        }
    }
    let suites = suites(&results);
    let mut write_failed = results.iter().any(|r| r.bundle_error.is_some());
    if let Some(path) = &args.junit
        && let Err(err) = report::junit_xml("pgfarm test", &suites)
            .and_then(|xml| report::write_atomic(path, xml.as_bytes()))
    {
        eprintln!("pgfarm test: --junit: {err}");
        write_failed = true;
    }
    if let Some(path) = &args.tap
        && let Err(err) = report::write_atomic(path, report::tap_stream(&suites).as_bytes())
    {
        eprintln!("pgfarm test: --tap: {err}");
        write_failed = true;
    }
    let code = exit_code(&results, write_failed, args.select.allow_empty(), coverage_met);
    keep_clusters(&mut results, &options);
    ExitCode::from(code)
}

/// `pgfarm test --watch`: renders the rounds of `farm::watch` (a matrix of the tests that ran
/// and the diff of what newly failed) until Ctrl-C or SIGTERM; 0 then.
fn run_watch(options: &FarmOptions, source: &ExtensionSource, colour: bool) -> ExitCode {
    use pgfarm_runner::farm::watch::{self, SourceWatcher, WatchEvent};
    let skip = [options.out_dir.clone(), options.workdir.clone()];
    let watcher = match SourceWatcher::new(&options.source, &skip) {
        Ok(watcher) => watcher,
        Err(err) => {
            eprintln!("pgfarm test: --watch: {err}");
            return ExitCode::from(3);
        }
    };
    let labels = farm::labels(&options.installations);
    eprintln!("pgfarm test --watch: {} {} on {}", source.name, source.version, labels.join(", "));
    let on_event = |event: WatchEvent| match event {
        WatchEvent::Ready { label, error: None } => eprintln!("{label:<6} warm"),
        WatchEvent::Ready { label, error: Some(err) } => {
            eprintln!("{label:<6} not ready, left out: {err}")
        }
        WatchEvent::Round { number, what, results, duration } => {
            print_round(number, &what, &results, duration, colour);
            eprintln!("watching {} (Ctrl-C to stop)", options.source.display());
        }
    };
    let mut next = || watcher.next(&options.cancel);
    watch::watch(options, source, &mut next, &on_event);
    let _ = std::fs::remove_dir_all(&options.workdir);
    eprintln!("pgfarm test --watch: stopped; clusters removed");
    ExitCode::SUCCESS
}

fn print_round(
    number: usize,
    what: &str,
    results: &[pgfarm_runner::farm::watch::RoundResult],
    duration: Duration,
    colour: bool,
) {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "round {number} ({what}): {} ms", duration.as_millis());
    let mut names: Vec<String> = Vec::new();
    for result in results {
        for test in &result.tests {
            let name = format!("{}/{}", test.stage, test.name);
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let width = names.iter().map(String::len).max().unwrap_or(4).max(4);
    let mut header = format!("{:<width$}", "");
    for result in results {
        header.push_str(&format!("  {:<6}", result.label));
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for name in &names {
        let mut line = format!("{name:<width$}");
        for result in results {
            let cell = result
                .tests
                .iter()
                .find(|t| format!("{}/{}", t.stage, t.name) == *name)
                .map(|t| t.status);
            let word = match cell {
                Some(pgfarm_model::TestStatus::Ok) => "ok",
                Some(pgfarm_model::TestStatus::Ignored) => "ignored",
                Some(status) if status.is_failure() => "FAIL",
                Some(_) => "?",
                None => "-",
            };
            let text = format!("{word:<6}");
            let text = match (colour, word) {
                (true, "ok") => format!("\x1b[32m{text}\x1b[0m"),
                (true, "FAIL") => format!("\x1b[31m{text}\x1b[0m"),
                _ => text,
            };
            line.push_str("  ");
            line.push_str(&text);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for result in results {
        if let Some(err) = &result.error {
            let _ = writeln!(out, "{}: {err}", result.label);
        }
        for test in result.tests.iter().filter(|t| t.newly_failed) {
            let _ = writeln!(out, "newly failed on {}: {}/{}", result.label, test.stage, test.name);
            out.push_str(&test.detail);
            if !test.detail.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    print!("{out}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
}

fn exit_code(
    results: &[InstallationResult],
    write_failed: bool,
    allow_empty: bool,
    coverage_met: bool,
) -> u8 {
    let verdicts: Vec<pgfarm_verdict::Verdict> =
        results.iter().map(|result| pgfarm_verdict::derive(&result.bundle)).collect();
    let exit = pgfarm_verdict::exit_code(verdicts.iter().map(|verdict| &verdict.run), write_failed)
        .allow_empty(allow_empty);
    pgfarm_verdict::exit_with_coverage(exit, coverage_met).code()
}

/// What the selection and `--fail-fast` left out, per installation (from its bundle), the
/// installations never started, and failed teardown steps.
fn print_selection(options: &FarmOptions, results: &[InstallationResult]) {
    let name = |t: &pgfarm_model::TestRef| format!("{}/{}", t.stage, t.name);
    for result in results {
        let (deselected, not_run) = match &result.bundle.selection {
            Some(s) => (
                s.deselected.iter().map(name).collect::<Vec<_>>(),
                s.not_run.iter().map(name).collect::<Vec<_>>(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        for line in
            super::select::report_lines(&result.label, &options.selection, &deselected, &not_run)
        {
            eprintln!("pgfarm test: {line}");
        }
        if let Some(err) = &result.teardown_error {
            eprintln!("pgfarm test: {}: pgfarm.toml teardown failed: {err}", result.label);
        }
    }
    for label in farm::labels(&options.installations) {
        if !results.iter().any(|r| r.label == label) {
            eprintln!("pgfarm test: {label}: not run (--fail-fast stopped after a failure)");
        }
    }
}

/// `--keep`: prints each kept cluster's URI and how to stop it, then serves them as `pgfarm
/// tmp` does until Ctrl-C/SIGTERM or --keep-idle without clients; then stops them.
fn keep_clusters(results: &mut [InstallationResult], options: &FarmOptions) {
    let kept: Vec<(String, farm::KeptRun)> = results
        .iter_mut()
        .filter_map(|result| result.kept.take().map(|kept| (result.label.clone(), kept)))
        .collect();
    if kept.is_empty() {
        if options.keep != farm::Keep::No {
            eprintln!("pgfarm test: --keep: no cluster to keep");
        }
        return;
    }
    for (label, run) in &kept {
        println!("kept {label}: {}", run.cluster.uri("postgres"));
        eprintln!("pgfarm test:   data directory {}", run.cluster.data_dir().display());
    }
    eprintln!(
        "pgfarm test: the kept clusters run until Ctrl-C (or kill -TERM {}){}",
        std::process::id(),
        options
            .keep_idle
            .map(|idle| format!(" or until no client was connected for {idle:?}"))
            .unwrap_or_default()
    );
    let clusters: Vec<&pgfarm_pgnode::Cluster> = kept.iter().map(|(_, run)| &run.cluster).collect();
    if let Err(err) = super::tmp::serve_until_idle(
        &clusters,
        options.keep_idle.unwrap_or(Duration::ZERO),
        &|| options.cancel.is_cancelled(),
    ) {
        eprintln!("pgfarm test: --keep: {err:#}");
    }
    eprintln!("pgfarm test: stopping the kept clusters");
    drop(clusters);
    drop(kept);
}

/// Prints the coverage per installation and merged ("functions covered: 41 of 48 (85%)", the
/// untested functions, C lines per file); whether the merged coverage meets the threshold
/// (naming what is uncovered when not).
fn print_coverage(results: &[InstallationResult], threshold: Option<f64>) -> bool {
    let summary = |coverage: &pgfarm_model::Coverage| {
        let mut text = format!(
            "functions covered: {} of {} ({})",
            coverage.functions_covered(),
            coverage.functions.len(),
            percent(coverage.function_percent())
        );
        let (lines, covered) = coverage.line_totals();
        if lines > 0 {
            text.push_str(&format!(
                "; C lines covered: {covered} of {lines} ({})",
                percent(coverage.line_percent())
            ));
        }
        text
    };
    let mut all = Vec::new();
    for result in results {
        let Some(coverage) = &result.bundle.coverage else { continue };
        println!("coverage {}: {}", result.label, summary(coverage));
        all.push(coverage);
    }
    let merged = pgfarm_model::Coverage::merge(all.iter().copied());
    println!("coverage merged: {}", summary(&merged));
    let untested: Vec<&str> = merged.untested_functions().map(|f| f.name.as_str()).collect();
    if !untested.is_empty() {
        println!("untested functions ({}):", untested.len());
        for name in &untested {
            println!("  {name}");
        }
    }
    for file in &merged.files {
        println!(
            "  {}: {} of {} lines ({}), {} of {} branches{}",
            file.path,
            file.lines_covered,
            file.lines,
            percent(
                (file.lines > 0)
                    .then(|| f64::from(file.lines_covered) * 100.0 / f64::from(file.lines))
            ),
            file.branches_covered,
            file.branches,
            if file.uncovered_lines.is_empty() {
                String::new()
            } else {
                format!("; uncovered lines {}", line_ranges(&file.uncovered_lines))
            }
        );
    }
    let Some(threshold) = threshold else { return true };
    let met = pgfarm_verdict::coverage_meets(&merged, threshold);
    if !met {
        eprintln!(
            "pgfarm test: coverage is below --coverage-threshold {threshold}%: {}",
            summary(&merged)
        );
        if !untested.is_empty() {
            eprintln!("pgfarm test: untested functions: {}", untested.join(", "));
        }
        for file in merged.files.iter().filter(|f| !f.uncovered_lines.is_empty()) {
            eprintln!(
                "pgfarm test: uncovered lines of {}: {}",
                file.path,
                line_ranges(&file.uncovered_lines)
            );
        }
    }
    met
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |p| format!("{}%", p.floor()))
}

/// `3-5, 9`: ascending line numbers as ranges.
fn line_ranges(lines: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        let mut end = start;
        while i + 1 < lines.len() && lines[i + 1] == end + 1 {
            i += 1;
            end = lines[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(", ")
}

fn stage_name(kind: StageKind) -> &'static str {
    kind.as_str()
}

fn status_name(status: StageStatus) -> &'static str {
    match status {
        StageStatus::Ok => "ok",
        StageStatus::Failed => "failed",
        StageStatus::Missing => "missing",
        StageStatus::Skipped => "skipped",
    }
}

fn run_plain(options: &FarmOptions, source: &ExtensionSource) -> Vec<InstallationResult> {
    let on_event = |event: FarmEvent| {
        let line = match event {
            FarmEvent::StageStarted { .. } => return,
            FarmEvent::StageFinished { label, stage, status, duration, error } => format!(
                "{label:<6} {:<12} {:<8} {:>7.2}s{}",
                stage_name(stage),
                status_name(status),
                duration.as_secs_f64(),
                error.map(|e| format!("  {e}")).unwrap_or_default()
            ),
            FarmEvent::Finished { label, status } => format!("{label:<6} done     {status:?}"),
            FarmEvent::NotRun { label } => format!("{label:<6} not run  (--fail-fast)"),
        };
        eprintln!("{line}");
    };
    farm::run(options, source, &on_event)
}

fn run_with_bars(options: &FarmOptions, source: &ExtensionSource) -> Vec<InstallationResult> {
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} {prefix:<6} [{bar:7}] {msg} {elapsed:>4}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ");
    let bars: BTreeMap<String, ProgressBar> = farm::labels(&options.installations)
        .into_iter()
        .map(|label| {
            let bar = multi.add(ProgressBar::new(STAGES.len() as u64));
            bar.set_style(style.clone());
            bar.set_prefix(label.clone());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            (label, bar)
        })
        .collect();
    let bars = Mutex::new(bars);
    let on_event = |event: FarmEvent| {
        let Ok(bars) = bars.lock() else { return };
        match event {
            FarmEvent::StageStarted { label, stage } => {
                if let Some(bar) = bars.get(&label) {
                    bar.set_message(format!("{}…", stage_name(stage)));
                }
            }
            FarmEvent::StageFinished { label, stage, status, .. } => {
                if let Some(bar) = bars.get(&label) {
                    bar.inc(1);
                    if status == StageStatus::Failed {
                        bar.set_message(format!("{} failed", stage_name(stage)));
                    }
                }
            }
            FarmEvent::Finished { label, status } => {
                if let Some(bar) = bars.get(&label) {
                    bar.finish_with_message(format!("{status:?}").to_lowercase());
                }
            }
            FarmEvent::NotRun { label } => {
                if let Some(bar) = bars.get(&label) {
                    bar.finish_with_message("not run (--fail-fast)");
                }
            }
        }
    };
    let results = farm::run(options, source, &on_event);
    let _ = multi.clear();
    results
}

fn print_matrix(results: &[InstallationResult], colour: bool) {
    let paint = |status: StageStatus, text: String| -> String {
        if !colour {
            return text;
        }
        let code = match status {
            StageStatus::Ok => "32",
            StageStatus::Failed => "31",
            StageStatus::Missing => "33",
            _ => "90",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    };
    let mut header = format!("{:<8}", "");
    for kind in STAGES {
        header.push_str(&format!("{:<16}", stage_name(kind)));
    }
    println!("{}", header.trim_end());
    for result in results {
        let mut line = format!("{:<8}", result.label);
        for kind in STAGES {
            // The bundle's stages: their statuses are pgfarm-verdict's.
            let cell = result.bundle.stages.iter().find(|s| s.kind == kind).map(|s| {
                let text = if s.status == StageStatus::Skipped || s.status == StageStatus::Missing {
                    status_name(s.status).to_owned()
                } else {
                    format!("{} {:.1}s", status_name(s.status), s.duration_ms as f64 / 1000.0)
                };
                paint(s.status, format!("{text:<15}"))
            });
            line.push_str(&cell.unwrap_or_else(|| format!("{:<15}", "-")));
            line.push(' ');
        }
        println!("{}", line.trim_end());
    }
    for result in results {
        for stage in result.bundle.stages.iter().filter(|s| s.status == StageStatus::Failed) {
            println!(
                "{} {}: {}",
                result.label,
                stage_name(stage.kind),
                stage.error.as_deref().unwrap_or("")
            );
        }
        let verdict = pgfarm_verdict::derive(&result.bundle);
        if let Some(cause) = pgfarm_verdict::cause(&result.bundle, &verdict.run) {
            println!("{} cause: {}", result.label, cause_text(&cause));
        }
    }
}

/// The summary's words for a failed run's cause: its wire name and the line it was read from.
fn cause_text(cause: &pgfarm_verdict::RunCause) -> String {
    match &cause.line {
        Some(line) => {
            let text: String = line.text.trim().chars().take(160).collect();
            format!("{} ({} line {}: {text})", cause.cause, line.source, line.number)
        }
        None => format!("{} ({})", cause.cause, cause.cause.sentence()),
    }
}

fn suites(results: &[InstallationResult]) -> Vec<Suite> {
    results
        .iter()
        .map(|result| {
            let parts = pgfarm_verdict::RunParts::of(&result.bundle);
            report::run_suite(result.label.clone(), parts, report::Cases::StagesAndTests)
        })
        .collect()
}
