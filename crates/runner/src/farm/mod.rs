//! `pgfarm test`: the farm job. For each selected PostgreSQL installation, in parallel, the
//! stages build, install, cluster, load, regress, isolation, tap, perl_tap, installcheck and
//! upgrade run in order, each timed and logged; each installation's result becomes a bundle.
//!
//! The suites are set up as `make installcheck` sets them up (see [`crate::pgxs`]): the
//! cluster stage asks make what installcheck would run (building the rule's prerequisites on
//! the way), applies the `--temp-config` files and settings it names, and the suite stages run
//! exactly those calls, in the extension's own copy of the source. A failed or missing build,
//! install, cluster or load blocks the stages after it (they need the extension); a failing
//! suite does not block the other suites.
//!
//! Install decision: `make install` writes into the installation's own tree (its `pg_config`
//! directories). pgfarm's trees under `.pg/` are private to pgfarm, so this is safe, needs no
//! `extension_control_path` (PostgreSQL 18 only) and behaves the same on every major.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pgfarm_model::{
    Bundle, Extension, RunConfig, RunStatus, Source, SourceKind, StageKind, StageStatus,
};
use pgfarm_pgnode::{Cluster, Installation, TreeLock};
use time::OffsetDateTime;

use crate::bundle;
use crate::error::{Error, Result};
use crate::extension::ExtensionSource;
use crate::pgxs::{Invocation, Make};
use crate::pool::Pool;
use crate::process::CancelFlag;
use crate::prove::ProveReport;
use crate::regress::RegressReport;
use crate::select::{FailFast, Selection};
use crate::steps::Steps;

mod coverage;
mod pgxn;
mod stages;
mod suites;
pub mod watch;

pub use coverage::{functions_query, gcov};

/// The stages in run order.
pub const STAGES: [StageKind; 10] = [
    StageKind::Build,
    StageKind::Install,
    StageKind::Cluster,
    StageKind::Load,
    StageKind::Regress,
    StageKind::Isolation,
    StageKind::Tap,
    StageKind::PerlTap,
    StageKind::Installcheck,
    StageKind::Upgrade,
];

/// The stages whose failure (or absence) blocks the later ones: the suites need the built,
/// installed and loaded extension in a running cluster.
const SETUP_STAGES: [StageKind; 4] =
    [StageKind::Build, StageKind::Install, StageKind::Cluster, StageKind::Load];

/// The stages after which `--coverage` reads the function counters of every database.
const COVERED_STAGES: [StageKind; 4] =
    [StageKind::Regress, StageKind::Isolation, StageKind::Tap, StageKind::Installcheck];

/// What `pgfarm test` was asked to do.
#[derive(Debug, Clone)]
pub struct FarmOptions {
    /// The extension's source directory.
    pub source: PathBuf,
    /// Installations to test on.
    pub installations: Vec<Installation>,
    /// Installations tested at once.
    pub jobs: usize,
    /// Scratch directory: per-installation source copies and pg_regress output.
    pub workdir: PathBuf,
    /// Where bundles are written.
    pub out_dir: PathBuf,
    /// Per-test timeout (regress tests and TAP files).
    pub timeout: Option<Duration>,
    /// Time limit for build and install commands.
    pub build_timeout: Option<Duration>,
    /// Server settings from `pgfarm test --set NAME=VALUE` (applied after pgfarm.toml's).
    pub settings: Vec<(String, String)>,
    /// `initdb --locale` for the clusters (default: the environment's, as initdb's under make).
    pub locale: Option<String>,
    /// `initdb --encoding` for the clusters (default: the locale's).
    pub encoding: Option<String>,
    /// Stops everything when set.
    pub cancel: CancelFlag,
    /// Runs every stage's processes (configure, make, make install into a staging folder, the
    /// test drivers, psql, perl) and the cluster's server in this sandbox, with the
    /// installation's work folder writable (`pgfarm test --sandbox`). `make install` then writes
    /// into `<work>/stage` (`DESTDIR`) and pgfarm copies what landed under the tree's folders
    /// into the tree.
    pub sandbox: Option<pgfarm_pgnode::Sandbox>,
    /// `--filter`, `--tag`, `--exclude-tag`, `--stage`: what runs (set-up stages always run).
    pub selection: Selection,
    /// `--fail-fast`: after the first failed stage or test, no new test, stage or installation
    /// is scheduled; what runs finishes and the rest is listed as not run.
    pub fail_fast: FailFast,
    /// Reuse (and fill) the build cache ([`crate::build_cache`]).
    pub build_cache: bool,
    /// `--coverage`: a `PROFILE=--coverage` build, `track_functions = 'all'`, and the coverage
    /// collected into the bundle.
    pub coverage: bool,
    /// `--keep`: which clusters stay running after the run.
    pub keep: Keep,
    /// How long a kept cluster may go without clients before it is stopped (recorded in the
    /// bundle; the caller enforces it). `None`: until Ctrl-C/SIGTERM.
    pub keep_idle: Option<Duration>,
}

/// Which test clusters `pgfarm test` leaves running after the run (`--keep`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// None (the default): every cluster is stopped and removed.
    #[default]
    No,
    /// Every installation's cluster (`--keep`).
    All,
    /// Only the clusters of installations whose run did not pass (`--keep=failed`).
    Failed,
}

/// A test cluster left running by [`Keep`].
#[derive(Debug)]
pub struct KeptRun {
    /// The cluster, stopped and removed on drop.
    pub cluster: Cluster,
}

/// Progress of a farm run, sent from the installations' threads.
#[derive(Debug, Clone)]
pub enum FarmEvent {
    /// A stage started on an installation (identified by its label, `pg16`).
    StageStarted {
        /// Installation label.
        label: String,
        /// The stage.
        stage: StageKind,
    },
    /// A stage ended.
    StageFinished {
        /// Installation label.
        label: String,
        /// The stage.
        stage: StageKind,
        /// Its status.
        status: StageStatus,
        /// Its wall time.
        duration: Duration,
        /// One-line reason when not ok.
        error: Option<String>,
    },
    /// An installation was not started: `--fail-fast` stopped the run first (no bundle).
    NotRun {
        /// Installation label.
        label: String,
    },
    /// An installation finished and its bundle was written.
    Finished {
        /// Installation label.
        label: String,
        /// The run status.
        status: RunStatus,
    },
}

/// One stage's outcome.
#[derive(Debug, Clone)]
pub struct StageResult {
    /// Which stage.
    pub kind: StageKind,
    /// Status.
    pub status: StageStatus,
    /// Wall time.
    pub duration: Duration,
    /// One-line reason when not ok.
    pub error: Option<String>,
}

/// One installation's outcome.
#[derive(Debug)]
pub struct InstallationResult {
    /// `pg16` (or `pg16-2` when two installations share a major).
    pub label: String,
    /// PostgreSQL major.
    pub major: u32,
    /// Stages in order (all seven, skipped ones included).
    pub stages: Vec<StageResult>,
    /// The run status written into the bundle.
    pub status: RunStatus,
    /// The bundle.
    pub bundle: Bundle,
    /// Where it was written (`None` when writing failed; see `bundle_error`).
    pub bundle_path: Option<PathBuf>,
    /// Why the bundle could not be written.
    pub bundle_error: Option<String>,
    /// The regress report, if the stage ran.
    pub regress: Option<RegressReport>,
    /// The TAP report, if the stage ran.
    pub tap: Option<ProveReport>,
    /// Why pgfarm.toml's teardown steps failed (they ran after the suites, also when the run
    /// was interrupted).
    pub teardown_error: Option<String>,
    /// The cluster left running (`--keep`).
    pub kept: Option<KeptRun>,
    /// The lcov tracefile written beside the bundle (`--coverage` of a C build), or why it
    /// could not be written.
    pub coverage_info: Option<std::result::Result<PathBuf, String>>,
}

/// Labels for installations: `pg<major>`, suffixed when a major repeats.
pub fn labels(installations: &[Installation]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for inst in installations {
        let base = format!("pg{}", inst.major());
        let n = out.iter().filter(|l| **l == base || l.starts_with(&format!("{base}-"))).count();
        out.push(if n == 0 { base } else { format!("{base}-{}", n + 1) });
    }
    out
}

/// Runs the farm job, installations `jobs` at a time through the [`Pool`]; `on_event` is
/// called from the pool's threads (the calling thread itself when one job runs at a time).
/// An installation that `--fail-fast` kept from starting has no result (a
/// [`FarmEvent::NotRun`] says so).
pub fn run(
    options: &FarmOptions,
    source: &ExtensionSource,
    on_event: &(dyn Fn(FarmEvent) + Sync),
) -> Vec<InstallationResult> {
    let labels = labels(&options.installations);
    let installations: Vec<(&Installation, &String)> =
        options.installations.iter().zip(&labels).collect();
    let jobs = options.jobs.max(1).min(options.installations.len().max(1));
    Pool::new(jobs)
        .run(
            installations,
            |_, (installation, label)| {
                run_installation(options, source, installation, label, on_event)
            },
            |_, _| ControlFlow::Continue(()),
        )
        .into_iter()
        .flatten()
        .flatten()
        .collect()
}

struct Job<'a> {
    options: &'a FarmOptions,
    source: &'a ExtensionSource,
    installation: &'a Installation,
    label: &'a str,
    dir: PathBuf,
    src: PathBuf,
    make: Make,
    cluster: Option<Cluster>,
    /// What `make installcheck` would run, recorded in the cluster stage.
    calls: Vec<Invocation>,
    /// The extension's own installcheck recipe runs more than PGXS's drivers (its file:line).
    custom_installcheck: Option<String>,
    regress: Option<RegressReport>,
    tap: Option<ProveReport>,
    bundle_regress: Vec<pgfarm_model::RegressTest>,
    isolation: Vec<pgfarm_model::RegressTest>,
    tap_files: Vec<pgfarm_model::TapFile>,
    perl_tap: Vec<pgfarm_model::TapFile>,
    logs: Vec<(StageKind, OffsetDateTime, String)>,
    /// PGXN prerequisites looked for in the tree (install stage), for the bundle.
    prerequisites: Vec<pgfarm_model::PrerequisiteDist>,
    /// The run's PGXN mirror, its index read once.
    pgxn_client: Option<pgfarm_pgxn::Client>,
    /// pgfarm.toml's steps, resolving against this installation's copy.
    steps: Steps,
    /// The run-wide set-up steps started (so the teardown steps run).
    setup_ran: bool,
    /// Tests the selection left out.
    deselected: Vec<pgfarm_model::TestRef>,
    /// Tests `--fail-fast` kept from starting.
    not_run: Vec<pgfarm_model::TestRef>,
    /// `--coverage`: the function counters seen after each suite stage.
    function_calls: coverage::FunctionCounts,
    /// The build cache entry of this build, when the cache is used.
    cache: Option<crate::build_cache::Entry>,
    /// What the bundle says about the cache.
    cache_record: Option<pgfarm_model::BuildCache>,
}

impl<'a> Job<'a> {
    /// A fresh job for `installation` in `options.workdir/label`.
    fn new(
        options: &'a FarmOptions,
        source: &'a ExtensionSource,
        installation: &'a Installation,
        label: &'a str,
    ) -> Job<'a> {
        let dir = options.workdir.join(label);
        let make = Make {
            pg_config: installation.pg_config.clone(),
            bindir: installation.bindir.clone(),
            extra_args: source
                .make_args
                .iter()
                .cloned()
                .chain(options.coverage.then(|| "PROFILE=--coverage".to_owned()))
                .collect(),
            // The cores left to this installation by the others building at the same time.
            build_jobs: std::thread::available_parallelism().map_or(1, |n| n.get())
                / options.jobs.min(options.installations.len()).max(1),
        };
        Job {
            options,
            source,
            installation,
            label,
            src: dir.join("src"),
            dir,
            make,
            cluster: None,
            calls: Vec::new(),
            custom_installcheck: None,
            regress: None,
            tap: None,
            bundle_regress: Vec::new(),
            isolation: Vec::new(),
            tap_files: Vec::new(),
            perl_tap: Vec::new(),
            logs: Vec::new(),
            prerequisites: Vec::new(),
            pgxn_client: None,
            steps: Steps { root: options.workdir.join(label).join("src"), ..source.steps.clone() },
            setup_ran: false,
            deselected: Vec::new(),
            not_run: Vec::new(),
            function_calls: Default::default(),
            cache: None,
            cache_record: None,
        }
    }
}

/// How a stage ended, with the one-line reason when not ok.
enum StageOutcome {
    Ok,
    Missing(String),
    Failed(String),
    /// The stage did not run its tests (none selected, or `--fail-fast` stopped first).
    Skipped(String),
    /// The stage does not apply to this extension and is left out of the bundle.
    NotApplicable,
}

/// Takes the installation's tree for this run (another `pgfarm test` installing into the same
/// tree waits, saying so in the install log, until that run's stages end).
fn lock_tree(
    installation: &Installation,
    options: &FarmOptions,
    log: &mut String,
) -> Result<TreeLock> {
    let mut waited = None;
    let lock = installation
        .lock_tree(&|| options.cancel.is_cancelled(), &mut || waited = Some(Instant::now()))
        .map_err(|e| Error::TreeLock(e.to_string()))?;
    if let Some(since) = waited {
        log.push_str(&format!(
            "pgfarm: waited {:.1}s for another pgfarm run using {}\n",
            since.elapsed().as_secs_f64(),
            installation.sharedir.display()
        ));
    }
    lock.ok_or(Error::Interrupted)
}

fn run_installation(
    options: &FarmOptions,
    source: &ExtensionSource,
    installation: &Installation,
    label: &str,
    on_event: &(dyn Fn(FarmEvent) + Sync),
) -> Option<InstallationResult> {
    if options.fail_fast.is_tripped() {
        on_event(FarmEvent::NotRun { label: label.into() });
        return None;
    }
    let created_at = OffsetDateTime::now_utc();
    let mut job = Job::new(options, source, installation, label);
    // Every process of this installation's stages (and the pools they start) runs in the
    // sandbox, with this installation's work folder writable and the clusters' sockets visible.
    let _sandbox_scope = options.sandbox.as_ref().map(|sandbox| {
        let mut config = pgfarm_pgnode::Config::current();
        let sandbox = sandbox.clone().writable(&job.dir).readable(config.clusters_dir());
        config.sandbox = Some(sandbox);
        config.scoped()
    });
    let mut stages: Vec<StageResult> = Vec::new();
    let mut blocked: Option<String> = None;
    let mut log_position = 0;
    // Held from `install` to the last stage: what the tests load is what this run installed.
    let mut tree_lock: Option<TreeLock> = None;
    for kind in STAGES {
        if blocked.is_none() && options.cancel.is_cancelled() {
            blocked = Some("interrupted".into());
        }
        if blocked.is_none() && options.fail_fast.is_tripped() {
            blocked = Some("not run: --fail-fast stopped the run after a failure".into());
        }
        let not_selected = !SETUP_STAGES.contains(&kind)
            && !options.selection.stage_selected(kind)
            && (kind != StageKind::Installcheck || job.custom_installcheck.is_some());
        if blocked.is_none() && not_selected {
            let reason = format!("not selected ({})", options.selection.describe());
            stages.push(StageResult {
                kind,
                status: StageStatus::Skipped,
                duration: Duration::ZERO,
                error: Some(reason.clone()),
            });
            on_event(FarmEvent::StageFinished {
                label: label.into(),
                stage: kind,
                status: StageStatus::Skipped,
                duration: Duration::ZERO,
                error: Some(reason),
            });
            continue;
        }
        if let Some(reason) = &blocked {
            if kind == StageKind::Installcheck {
                // Only listed for extensions whose own recipe runs more; unknown when blocked.
                continue;
            }
            stages.push(StageResult {
                kind,
                status: StageStatus::Skipped,
                duration: Duration::ZERO,
                error: Some(reason.clone()),
            });
            on_event(FarmEvent::StageFinished {
                label: label.into(),
                stage: kind,
                status: StageStatus::Skipped,
                duration: Duration::ZERO,
                error: Some(reason.clone()),
            });
            continue;
        }
        on_event(FarmEvent::StageStarted { label: label.into(), stage: kind });
        let started = Instant::now();
        let started_at = OffsetDateTime::now_utc();
        let mut log = String::new();
        let locked = if kind == StageKind::Install {
            lock_tree(installation, options, &mut log).map(|lock| tree_lock = Some(lock))
        } else {
            Ok(())
        };
        let outcome = match locked.and_then(|()| job.stage(kind, &mut log)) {
            Ok(outcome) => outcome,
            Err(err) => StageOutcome::Failed(err.to_string()),
        };
        // pgfarm.toml's `setup` steps end the load stage: the suites run after them.
        let outcome = match outcome {
            StageOutcome::Ok if kind == StageKind::Load && !job.steps.setup.is_empty() => {
                job.setup_ran = true;
                match job.run_setup_steps(&mut log) {
                    Ok(()) => StageOutcome::Ok,
                    Err(err) => StageOutcome::Failed(format!("pgfarm.toml setup: {err}")),
                }
            }
            other => other,
        };
        if kind == StageKind::Cluster {
            log_position = job.cluster.as_ref().map_or(0, Cluster::log_position);
        }
        if options.coverage
            && COVERED_STAGES.contains(&kind)
            && !matches!(outcome, StageOutcome::NotApplicable)
            && let Err(err) = job.snapshot_functions(&mut log)
        {
            log.push_str(&format!("coverage: the function counters could not be read: {err}\n"));
        }
        let duration = started.elapsed();
        let (status, error) = match outcome {
            StageOutcome::NotApplicable => continue,
            StageOutcome::Ok => (StageStatus::Ok, None),
            StageOutcome::Skipped(why) => (StageStatus::Skipped, Some(why)),
            StageOutcome::Missing(why) => {
                if SETUP_STAGES.contains(&kind) {
                    blocked = Some(format!("{kind} missing: {why}"));
                }
                (StageStatus::Missing, Some(why))
            }
            StageOutcome::Failed(why) => {
                let why =
                    if options.cancel.is_cancelled() { "interrupted".to_owned() } else { why };
                if SETUP_STAGES.contains(&kind) || options.cancel.is_cancelled() {
                    blocked = Some(format!("{kind} failed"));
                }
                options.fail_fast.trip();
                (StageStatus::Failed, Some(why))
            }
        };
        job.logs.push((kind, started_at, log));
        on_event(FarmEvent::StageFinished {
            label: label.into(),
            stage: kind,
            status,
            duration,
            error: error.clone(),
        });
        stages.push(StageResult { kind, status, duration, error });
    }
    // pgfarm.toml's teardown steps, whatever happened (a failure, Ctrl-C or SIGTERM): their
    // log goes to the last stage that ran.
    let teardown_error = if job.setup_ran {
        let mut log = String::from("pgfarm.toml teardown:\n");
        let outcome = job.run_teardown_steps(&mut log);
        if let Err(err) = &outcome {
            log.push_str(&format!("teardown failed: {err}\n"));
        }
        if let Some((_, _, last)) = job.logs.last_mut() {
            last.push_str(&log);
        }
        outcome.err()
    } else {
        None
    };
    let server_log =
        job.cluster.as_ref().and_then(|c| c.log_since(log_position).ok()).unwrap_or_default();
    let cluster = job.cluster.take();

    // The run status is pgfarm-verdict's (after the bundle is assembled, below); the runner
    // only says whether it was interrupted.
    let reported =
        if options.cancel.is_cancelled() { RunStatus::Interrupted } else { RunStatus::Ok };
    let postgres =
        bundle::postgres_from_pg_config(&installation.bin("pg_config")).unwrap_or_else(|_| {
            pgfarm_model::Postgres {
                version: format!("{}", installation.major()),
                major: installation.major() as u16,
                minor: None,
                pg_config: pgfarm_model::OrderedMap::new(),
                configure_flags: Vec::new(),
            }
        });
    // A distribution is named by its META `name` and `version` (the server matches runs to
    // PGXN releases by them), a directory by its extension name and version.
    let (name, version) = source
        .provenance
        .release
        .as_ref()
        .map_or((&source.name, &source.version), |r| (&r.dist, &r.version));
    let mut record_source = match (&source.provenance.release, &source.provenance.location) {
        (Some(release), location) => Source {
            release: Some(release.clone()),
            ..Source::new(
                SourceKind::Pgxn,
                location.clone().unwrap_or_else(|| format!("{}/{}", release.dist, release.version)),
            )
        },
        (None, _) => Source::new(SourceKind::Path, source.root.display().to_string()),
    };
    record_source.prerequisites = std::mem::take(&mut job.prerequisites);
    let extension = Extension {
        name: name.clone(),
        version: version.clone(),
        git_ref: None,
        git_commit: None,
        source: Some(record_source),
        prerequisites: source.prereqs.as_ref().and_then(|p| serde_json::from_value(p.clone()).ok()),
    };
    let mut config = RunConfig { command_line: bundle::command_line(), ..RunConfig::default() };
    config.settings.insert("jobs", options.jobs.to_string());
    if !source.make_args.is_empty() {
        config.settings.insert("make_args", source.make_args.join(" "));
    }
    for (name, value) in source.cluster_settings.iter().chain(&options.settings) {
        config.settings.insert(format!("cluster.{name}"), value.clone());
    }
    if let Some(t) = options.timeout {
        config.settings.insert("test_timeout_s", t.as_secs_f64().to_string());
    }
    if options.sandbox.is_some() {
        config.settings.insert("sandbox", "bwrap".to_owned());
    }
    let mut result_bundle = Bundle::new(
        bundle::run_record(created_at, reported),
        bundle::machine(),
        extension,
        postgres,
        config,
    );
    for stage in &stages {
        let (started_at, log) = job
            .logs
            .iter()
            .find(|(k, _, _)| *k == stage.kind)
            .map(|(_, at, log)| (Some(*at), log.clone()))
            .unwrap_or((None, String::new()));
        let mut record = bundle::stage(
            stage.kind,
            stage.status,
            started_at.unwrap_or(created_at),
            stage.duration,
            log,
            stage.error.clone(),
        );
        record.started_at = started_at;
        result_bundle.stages.push(record);
    }
    result_bundle.regress = std::mem::take(&mut job.bundle_regress);
    result_bundle.isolation = std::mem::take(&mut job.isolation);
    result_bundle.tap = std::mem::take(&mut job.tap_files);
    result_bundle.perl_tap = std::mem::take(&mut job.perl_tap);
    result_bundle.server_log = pgfarm_model::RawText::from(server_log);
    result_bundle.selection = options.selection.record(
        options.fail_fast.is_enabled(),
        std::mem::take(&mut job.deselected),
        std::mem::take(&mut job.not_run),
    );
    result_bundle.build_cache = job.cache_record.take();
    let status = pgfarm_verdict::judge(&mut result_bundle).run.status;
    let keep = match options.keep {
        Keep::No => false,
        Keep::All => true,
        Keep::Failed => status != RunStatus::Ok,
    } && !options.cancel.is_cancelled();
    let kept = match cluster {
        Some(cluster) if keep => {
            result_bundle.kept = Some(pgfarm_model::KeptCluster {
                uri: cluster.uri("postgres"),
                data_dir: cluster.data_dir().display().to_string(),
                idle_timeout_s: options.keep_idle.map(|d| d.as_secs()),
                stop: format!(
                    "Ctrl-C (or SIGTERM) the pgfarm test that keeps it (pid {}){}",
                    std::process::id(),
                    options
                        .keep_idle
                        .map(|d| format!(", or leave it without clients for {}s", d.as_secs()))
                        .unwrap_or_default()
                ),
            });
            // The tree is released: another run may install into it while this cluster is
            // inspected (sessions opened later load what is installed then).
            drop(tree_lock);
            Some(KeptRun { cluster })
        }
        cluster => {
            // Stopped cleanly (fast shutdown): the backends write their gcov data on exit.
            drop(cluster);
            drop(tree_lock);
            None
        }
    };
    let mut coverage_info = None;
    if options.coverage {
        let (coverage, lcov) = job.coverage(kept.is_none());
        result_bundle.coverage = Some(coverage);
        if !lcov.is_empty() {
            let path = options.out_dir.join(format!("{name}-{version}-{label}.coverage.info"));
            coverage_info = Some(
                crate::report::write_atomic(&path, lcov.as_bytes())
                    .map(|()| path)
                    .map_err(|err| err.to_string()),
            );
        }
    }
    let file_name = format!("{name}-{version}-{label}.pgfarm.json.gz");
    let path = options.out_dir.join(file_name);
    let (bundle_path, bundle_error) = match bundle::write_bundle(&path, &result_bundle) {
        Ok(()) => (Some(path), None),
        Err(err) => (None, Some(err.to_string())),
    };
    on_event(FarmEvent::Finished { label: label.into(), status });
    Some(InstallationResult {
        label: label.into(),
        major: installation.major(),
        stages,
        status,
        bundle: result_bundle,
        bundle_path,
        bundle_error,
        regress: job.regress,
        tap: job.tap,
        teardown_error,
        kept,
        coverage_info,
    })
}

/// The catalog objects of extension `name`, one line each, with function signatures, results,
/// volatility and a hash of their bodies, and view definitions: what must agree between an
/// updated and a fresh installation.
pub fn catalog_query(name: &str) -> String {
    format!(
        "SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || coalesce(' => ' || CASE \
           WHEN d.classid = 'pg_proc'::regclass THEN (SELECT pg_get_function_result(p.oid) || ' ' || p.provolatile::text || \
             CASE WHEN p.proisstrict THEN ' strict' ELSE '' END || ' ' || md5(p.prosrc) FROM pg_proc p WHERE p.oid = d.objid) \
           WHEN d.classid = 'pg_class'::regclass THEN (SELECT c.relkind::text || ' ' || coalesce(pg_get_viewdef(c.oid), '') FROM pg_class c WHERE c.oid = d.objid) \
         END, '') \
         FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid \
         WHERE e.extname = '{}' AND d.deptype = 'e' ORDER BY 1",
        name.replace('\'', "''")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_query_quotes_the_name() {
        assert!(catalog_query("it's").contains("e.extname = 'it''s'"));
    }
}
