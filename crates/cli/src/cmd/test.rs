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
     whose archive is hostile (the member is named)
  3  usage or configuration error (bad option, bad pgfarm.toml/META.json, no installation, an
     unknown distribution or no release of the accepted statuses)
  4  nothing was tested (no suite ran on any installation)";

/// Arguments of `pgfarm test`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
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
    /// https://api.pgxn.org/ for pgxn: sources; a directory or zip uses the network only when
    /// this is given).
    #[arg(long, env = "PGFARM_PGXN_MIRROR", value_name = "URL")]
    pgxn_mirror: Option<String>,
    /// Build and test inside a sandbox (bubblewrap): as the unprivileged user, without network
    /// (loopback only), read-only outside the work folder (make install goes through a staging
    /// folder), private /tmp, process, memory, CPU and file-size limits; the test cluster's
    /// server runs inside it too. Needs `bwrap` (package bubblewrap). See docs/sandbox.md.
    #[arg(long)]
    sandbox: bool,
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
        cancel,
        installations,
        sandbox,
    };
    let tty = std::io::stderr().is_terminal() && !args.plain;
    let (name, version) = match &source.provenance.release {
        Some(release) => (&release.dist, &release.version),
        None => (&source.name, &source.version),
    };
    eprintln!(
        "pgfarm test: {name} {version} on {}",
        farm::labels(&options.installations).join(", ")
    );
    let results = if tty { run_with_bars(&options, &source) } else { run_plain(&options, &source) };
    let all_passed = results.iter().all(|r| r.status == RunStatus::Ok);
    if scratch && all_passed {
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
    ExitCode::from(exit_code(&results, write_failed))
}

fn exit_code(results: &[InstallationResult], write_failed: bool) -> u8 {
    let verdicts: Vec<pgfarm_verdict::Verdict> =
        results.iter().map(|result| pgfarm_verdict::derive(&result.bundle)).collect();
    pgfarm_verdict::exit_code(verdicts.iter().map(|verdict| &verdict.run), write_failed).code()
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
