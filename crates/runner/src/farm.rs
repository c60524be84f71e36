//! `pgfarm test`: the farm job. For each selected PostgreSQL installation, in parallel, the
//! stages build, install, cluster, load, regress, tap and upgrade run in order, each timed and
//! logged; a failed stage skips the later ones; each installation's result becomes a bundle.
//!
//! Install decision: `make install` writes into the installation's own tree (its `pg_config`
//! directories). pgfarm's trees under `.pg/` are private to pgfarm, so this is safe, needs no
//! `extension_control_path` (PostgreSQL 18 only) and behaves the same on every major.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pgfarm_model::{
    Bundle, Extension, RunConfig, RunStatus, Source, SourceKind, StageKind, StageStatus,
};
use pgfarm_pgnode::{Cluster, Installation, TreeLock};
use time::OffsetDateTime;

use crate::bundle;
use crate::error::{Error, Result};
use crate::extension::ExtensionSource;
use crate::process::{CancelFlag, Ended, Spawn};
use crate::prove::{self, ProveOptions, ProveReport, Script};
use crate::regress::{self, RegressOptions, RegressReport, Stream, Style};

/// The stages in run order.
pub const STAGES: [StageKind; 7] = [
    StageKind::Build,
    StageKind::Install,
    StageKind::Cluster,
    StageKind::Load,
    StageKind::Regress,
    StageKind::Tap,
    StageKind::Upgrade,
];

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
    /// Stops everything when set.
    pub cancel: CancelFlag,
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

/// Runs the farm job; `on_event` is called from worker threads.
pub fn run(
    options: &FarmOptions,
    source: &ExtensionSource,
    on_event: &(dyn Fn(FarmEvent) + Sync),
) -> Vec<InstallationResult> {
    let labels = labels(&options.installations);
    let queue: Arc<Mutex<Vec<usize>>> =
        Arc::new(Mutex::new((0..options.installations.len()).rev().collect()));
    let results: Arc<Mutex<Vec<(usize, InstallationResult)>>> = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1).min(options.installations.len().max(1)) {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            let labels = &labels;
            scope.spawn(move || {
                // The lock is taken and released inside pop_next, not held by the loop.
                while let Some(idx) = pop_next(&queue) {
                    let result = run_installation(
                        options,
                        source,
                        &options.installations[idx],
                        &labels[idx],
                        on_event,
                    );
                    if let Ok(mut r) = results.lock() {
                        r.push((idx, result));
                    }
                }
            });
        }
    });
    let mut results =
        Arc::try_unwrap(results).map(|m| m.into_inner().unwrap_or_default()).unwrap_or_default();
    results.sort_by_key(|(idx, _)| *idx);
    results.into_iter().map(|(_, r)| r).collect()
}

fn pop_next(queue: &Mutex<Vec<usize>>) -> Option<usize> {
    queue.lock().ok().and_then(|mut q| q.pop())
}

struct Job<'a> {
    options: &'a FarmOptions,
    source: &'a ExtensionSource,
    installation: &'a Installation,
    label: &'a str,
    dir: PathBuf,
    src: PathBuf,
    cluster: Option<Cluster>,
    regress: Option<RegressReport>,
    tap: Option<ProveReport>,
    tap_files: Vec<pgfarm_model::TapFile>,
    logs: Vec<(StageKind, OffsetDateTime, String)>,
}

enum StageOutcome {
    Ok,
    Missing(String),
    Failed(String),
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
) -> InstallationResult {
    let created_at = OffsetDateTime::now_utc();
    let dir = options.workdir.join(label);
    let mut job = Job {
        options,
        source,
        installation,
        label,
        src: dir.join("src"),
        dir,
        cluster: None,
        regress: None,
        tap: None,
        tap_files: Vec::new(),
        logs: Vec::new(),
    };
    let mut stages: Vec<StageResult> = Vec::new();
    let mut blocked: Option<String> = None;
    let mut log_position = 0;
    // Held from `install` to the last stage: what the tests load is what this run installed.
    let mut tree_lock: Option<TreeLock> = None;
    for kind in STAGES {
        if blocked.is_none() && options.cancel.is_cancelled() {
            blocked = Some("interrupted".into());
        }
        if let Some(reason) = &blocked {
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
        if kind == StageKind::Cluster {
            log_position = job.cluster.as_ref().map_or(0, Cluster::log_position);
        }
        let duration = started.elapsed();
        let (status, error) = match outcome {
            StageOutcome::Ok => (StageStatus::Ok, None),
            StageOutcome::Missing(why) => (StageStatus::Missing, Some(why)),
            StageOutcome::Failed(why) => {
                let why =
                    if options.cancel.is_cancelled() { "interrupted".to_owned() } else { why };
                blocked = Some(format!("{kind:?} failed").to_lowercase());
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
    let server_log =
        job.cluster.as_ref().and_then(|c| c.log_since(log_position).ok()).unwrap_or_default();
    drop(job.cluster.take());
    drop(tree_lock);

    let interrupted = options.cancel.is_cancelled();
    let status = if interrupted {
        RunStatus::Interrupted
    } else if stages.iter().any(|s| {
        s.status == StageStatus::Failed
            && matches!(s.kind, StageKind::Build | StageKind::Install | StageKind::Cluster)
    }) {
        RunStatus::Error
    } else if stages.iter().any(|s| s.status == StageStatus::Failed) {
        RunStatus::Failed
    } else {
        RunStatus::Ok
    };
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
    let extension = Extension {
        name: source.name.clone(),
        version: source.version.clone(),
        git_ref: None,
        git_commit: None,
        source: Some(Source {
            kind: SourceKind::Path,
            location: source.root.display().to_string(),
        }),
        prerequisites: source.prereqs.as_ref().and_then(|p| serde_json::from_value(p.clone()).ok()),
    };
    let mut config = RunConfig { command_line: bundle::command_line(), ..RunConfig::default() };
    config.settings.insert("jobs", options.jobs.to_string());
    if let Some(t) = options.timeout {
        config.settings.insert("test_timeout_s", t.as_secs_f64().to_string());
    }
    let mut result_bundle = Bundle::new(
        bundle::run_record(created_at, status),
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
    if let Some(report) = &job.regress {
        result_bundle.regress = bundle::regress_tests(report);
    }
    result_bundle.tap = std::mem::take(&mut job.tap_files);
    result_bundle.server_log = pgfarm_model::RawText::from(server_log);
    let file_name = format!("{}-{}-{}.pgfarm.json.gz", source.name, source.version, label);
    let path = options.out_dir.join(file_name);
    let (bundle_path, bundle_error) = match bundle::write_bundle(&path, &result_bundle) {
        Ok(()) => (Some(path), None),
        Err(err) => (None, Some(err.to_string())),
    };
    on_event(FarmEvent::Finished { label: label.into(), status });
    InstallationResult {
        label: label.into(),
        major: installation.major(),
        stages,
        status,
        bundle: result_bundle,
        bundle_path,
        bundle_error,
        regress: job.regress,
        tap: job.tap,
    }
}

impl Job<'_> {
    fn stage(&mut self, kind: StageKind, log: &mut String) -> Result<StageOutcome> {
        match kind {
            StageKind::Build => self.build(log),
            StageKind::Install => self.make(&["install"], log),
            StageKind::Cluster => self.start_cluster(log),
            StageKind::Load => self.load(log),
            StageKind::Regress => self.regress(log),
            StageKind::Tap => self.tap(log),
            StageKind::Upgrade => self.upgrade(log),
            StageKind::Isolation | StageKind::PerlTap | StageKind::Installcheck => {
                Ok(StageOutcome::Missing("not run by this version of the runner".into()))
            }
        }
    }

    fn build(&mut self, log: &mut String) -> Result<StageOutcome> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .map_err(|e| Error::io("could not remove", &self.dir, e))?;
        }
        copy_tree(&self.source.root, &self.src)?;
        if !self.source.has_makefile {
            return Ok(StageOutcome::Missing("no Makefile".into()));
        }
        self.make(&[], log)
    }

    fn make(&mut self, targets: &[&str], log: &mut String) -> Result<StageOutcome> {
        if !self.source.has_makefile {
            return Ok(StageOutcome::Missing("no Makefile".into()));
        }
        let pg_config = self.installation.bin("pg_config");
        let spawn = Spawn::new("make")
            .args(targets.iter().copied())
            .arg(format!("PG_CONFIG={}", pg_config.display()))
            .current_dir(&self.src);
        let deadline = self.options.build_timeout.map(|t| Instant::now() + t);
        let (ended, output) = spawn.run_logged(deadline, &self.options.cancel)?;
        log.push_str(&format!("$ {}\n{output}", spawn.display()));
        Ok(match ended {
            Ended::Exited(status) if status.success() => StageOutcome::Ok,
            Ended::Exited(status) => StageOutcome::Failed(format!(
                "make {}exited with {}",
                targets.first().map(|t| format!("{t} ")).unwrap_or_default(),
                crate::process::describe_status(status)
            )),
            Ended::TimedOut => StageOutcome::Failed("make timed out".into()),
            Ended::Cancelled => StageOutcome::Failed("interrupted".into()),
        })
    }

    fn start_cluster(&mut self, log: &mut String) -> Result<StageOutcome> {
        let cluster = Cluster::builder(self.installation)
            .name(format!("test-{}", self.label))
            .log_statement("none")
            .conf("max_prepared_transactions = 2")
            .conf("synchronous_commit = off")
            .conf("full_page_writes = off")
            .start()
            .map_err(|e| Error::Cluster(e.to_string()))?;
        log.push_str(&format!(
            "cluster {} on port {} ({})\n",
            cluster.name(),
            cluster.port(),
            cluster.data_dir().display()
        ));
        self.cluster = Some(cluster);
        Ok(StageOutcome::Ok)
    }

    fn cluster(&self) -> Result<&Cluster> {
        self.cluster.as_ref().ok_or_else(|| Error::Cluster("no cluster".into()))
    }

    fn psql(&self, db: &str, sql: &str) -> Result<Spawn> {
        let cluster = self.cluster()?;
        Ok(Spawn::new(self.installation.bin("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(cluster.host())
            .arg("-p")
            .arg(cluster.port().to_string())
            .arg("-U")
            .arg(cluster.superuser())
            .arg("-d")
            .arg(db)
            .arg("-c")
            .arg(sql)
            .env("PGAPPNAME", "pgfarm")
            .current_dir(&self.src))
    }

    /// Runs SQL, appending the command and its output to `log`; `Err` text on failure.
    fn sql(&self, db: &str, sql: &str, log: &mut String) -> Result<Result<String, String>> {
        let spawn = self.psql(db, sql)?;
        let (status, stdout, stderr) = spawn.output()?;
        log.push_str(&format!("{db}=# {sql}\n{stdout}{stderr}"));
        Ok(if status.success() {
            Ok(stdout)
        } else {
            Err(stderr.lines().find(|l| l.contains("ERROR")).unwrap_or(stderr.trim()).to_owned())
        })
    }

    /// `CREATE EXTENSION .. CASCADE` in the fresh cluster's `postgres` database (as pristine
    /// as a new database, and a `CREATE DATABASE` cheaper; later stages make their own
    /// databases from template1, which the extension does not touch).
    fn load(&mut self, log: &mut String) -> Result<StageOutcome> {
        let name = &self.source.name;
        Ok(match self.sql("postgres", &format!("CREATE EXTENSION \"{name}\" CASCADE"), log)? {
            Ok(_) => StageOutcome::Ok,
            Err(e) => StageOutcome::Failed(e),
        })
    }

    fn regress(&mut self, log: &mut String) -> Result<StageOutcome> {
        // Makefile variables that needed make are asked again with this installation's
        // pg_config (conditionals on $(VERSION_NUM) and the like give per-major tests).
        let per_installation = if self.source.make_evaluated {
            match ExtensionSource::discover_with(&self.src, Some(&self.installation.pg_config)) {
                Ok(source) => {
                    log.push_str(&format!(
                        "make (PG_CONFIG={}): REGRESS = {}\n",
                        self.installation.pg_config.display(),
                        source.regress_tests.join(" ")
                    ));
                    Some(source)
                }
                Err(err) => return Ok(StageOutcome::Failed(err.to_string())),
            }
        } else {
            None
        };
        let source = per_installation.as_ref().unwrap_or(self.source);
        if source.regress_tests.is_empty() {
            return Ok(StageOutcome::Missing("no pg_regress tests".into()));
        }
        let cluster = self.cluster()?;
        let mut options = RegressOptions {
            inputdir: self.src.join(&source.regress_inputdir),
            outputdir: self.dir.join("regress"),
            tests: source.regress_tests.clone(),
            dbnames: vec!["contrib_regression".into()],
            bindir: Some(
                self.installation.bin("psql").parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            host: Some(cluster.host()),
            port: Some(cluster.port()),
            user: Some(cluster.superuser().to_owned()),
            style: if self.installation.major() >= 16 { Style::Tap } else { Style::Classic },
            timeout: self.options.timeout,
            cancel: self.options.cancel.clone(),
            cwd: Some(self.src.clone()),
            ..RegressOptions::default()
        };
        apply_regress_opts(&mut options, &source.regress_opts, &self.src);
        let mut console = String::new();
        let mut sink = |_: Stream, text: &str| console.push_str(text);
        let report = regress::run(&options, &mut sink)?;
        log.push_str(&console);
        if let Some(diffs) =
            report.diffs_file.as_ref().and_then(|p| std::fs::read_to_string(p).ok())
        {
            log.push_str(&diffs);
        }
        let outcome = match report.exit_code {
            0 => StageOutcome::Ok,
            1 => {
                let failed: Vec<&str> = report
                    .tests
                    .iter()
                    .filter(|t| {
                        matches!(
                            t.status,
                            regress::TestStatus::Failed | regress::TestStatus::TimedOut
                        )
                    })
                    .map(|t| t.name.as_str())
                    .collect();
                StageOutcome::Failed(format!(
                    "{} of {} tests failed: {}",
                    failed.len(),
                    report.tests.len(),
                    failed.join(", ")
                ))
            }
            _ => StageOutcome::Failed(
                report.bail.clone().unwrap_or_else(|| "pg_regress could not run".into()),
            ),
        };
        self.regress = Some(report);
        Ok(outcome)
    }

    fn tap(&mut self, log: &mut String) -> Result<StageOutcome> {
        if self.source.tap_files.is_empty() {
            return Ok(StageOutcome::Missing("no pgTAP tests".into()));
        }
        if let Err(e) = self.sql("postgres", "CREATE DATABASE pgfarm_tap", log)? {
            return Ok(StageOutcome::Failed(e));
        }
        for setup in &self.source.tap_setup {
            if let Err(e) = self.sql("pgfarm_tap", setup, log)? {
                return Ok(StageOutcome::Failed(format!("TAP set-up failed: {e}")));
            }
        }
        let cluster = self.cluster()?;
        let options = ProveOptions {
            dbname: Some("pgfarm_tap".into()),
            username: Some(cluster.superuser().to_owned()),
            host: Some(cluster.host()),
            port: Some(cluster.port()),
            psql: self.installation.bin("psql"),
            timeout: self.options.timeout,
            cancel: self.options.cancel.clone(),
            cwd: Some(self.src.clone()),
            ..ProveOptions::default()
        };
        // --jobs left over by the installations runs TAP files at once, each in its own copy
        // of the prepared database (set-up included) so they cannot see or block each other.
        let spare_jobs = self.options.jobs / self.options.installations.len().max(1);
        let options = if spare_jobs > 1 && self.source.tap_files.len() > 1 {
            let copy_strategy = (self.installation.major() >= 15).then(|| "FILE_COPY".to_owned());
            ProveOptions { jobs: spare_jobs, isolate: true, copy_strategy, ..options }
        } else {
            options
        };
        let scripts: Vec<Script> =
            self.source.tap_files.iter().map(|f| Script::File(f.clone())).collect();
        let width = scripts.iter().map(|s| s.name().len()).max().unwrap_or(0);
        let mut text = String::new();
        let report = prove::run(&options, &scripts, &mut |prove::ProveEvent::Finished(result)| {
            text.push_str(&prove::render_file(result, width, true, true));
        })?;
        text.push_str(&prove::render_summary(&report, true));
        log.push_str(&text);
        self.tap_files = bundle::tap_files(&report);
        let failed: Vec<&str> =
            report.files.iter().filter(|f| !f.passed).map(|f| f.name.as_str()).collect();
        let outcome = if report.passed() {
            StageOutcome::Ok
        } else {
            StageOutcome::Failed(format!(
                "{} of {} files failed: {}",
                failed.len(),
                report.files.len(),
                failed.join(", ")
            ))
        };
        self.tap = Some(report);
        Ok(outcome)
    }

    fn upgrade(&mut self, log: &mut String) -> Result<StageOutcome> {
        let Some((from, to)) = self.source.upgrade_from() else {
            return Ok(StageOutcome::Missing("no update script to the default version".into()));
        };
        let name = self.source.name.clone();
        for db in ["pgfarm_upgraded", "pgfarm_fresh"] {
            if let Err(e) = self.sql("postgres", &format!("CREATE DATABASE {db}"), log)? {
                return Ok(StageOutcome::Failed(e));
            }
        }
        if let Err(e) = self.sql(
            "pgfarm_upgraded",
            &format!("CREATE EXTENSION \"{name}\" VERSION '{from}' CASCADE"),
            log,
        )? {
            return Ok(StageOutcome::Failed(format!("cannot install version {from}: {e}")));
        }
        if let Err(e) = self.sql(
            "pgfarm_upgraded",
            &format!("ALTER EXTENSION \"{name}\" UPDATE TO '{to}'"),
            log,
        )? {
            return Ok(StageOutcome::Failed(format!(
                "ALTER EXTENSION UPDATE {from} -> {to} failed: {e}"
            )));
        }
        if let Err(e) = self.sql(
            "pgfarm_fresh",
            &format!("CREATE EXTENSION \"{name}\" VERSION '{to}' CASCADE"),
            log,
        )? {
            return Ok(StageOutcome::Failed(format!("cannot install version {to}: {e}")));
        }
        let query = catalog_query(&name);
        let upgraded = match self.sql("pgfarm_upgraded", &query, &mut String::new())? {
            Ok(text) => text,
            Err(e) => return Ok(StageOutcome::Failed(e)),
        };
        let fresh = match self.sql("pgfarm_fresh", &query, &mut String::new())? {
            Ok(text) => text,
            Err(e) => return Ok(StageOutcome::Failed(e)),
        };
        let diff = pgfarm_diff::diff_lines(&fresh, &upgraded, &pgfarm_diff::Options::default());
        if diff.is_empty() {
            log.push_str(&format!(
                "catalog objects after {from} -> {to} equal a fresh {to} ({} objects)\n",
                fresh.lines().count()
            ));
            return Ok(StageOutcome::Ok);
        }
        let mut text = String::new();
        let labels = pgfarm_diff::Labels {
            expected: &format!("fresh {to}"),
            actual: &format!("updated {from} -> {to}"),
        };
        let _ = diff.write_unified(&mut text, &labels, 3);
        log.push_str(&text);
        Ok(StageOutcome::Failed(format!(
            "catalog after ALTER EXTENSION UPDATE {from} -> {to} differs from a fresh install ({} lines)",
            diff.n_changed_lines()
        )))
    }
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

/// Applies the REGRESS_OPTS pgfarm understands to `options` (others are ignored).
pub fn apply_regress_opts(options: &mut RegressOptions, opts: &[String], src: &Path) {
    for opt in opts {
        let (key, value) = opt.split_once('=').unwrap_or((opt.as_str(), ""));
        match key {
            "--load-extension" => options.load_extensions.push(value.into()),
            "--dbname" => options.dbnames = value.split(',').map(str::to_owned).collect(),
            "--encoding" => options.encoding = Some(value.into()),
            "--no-locale" => options.no_locale = true,
            "--schedule" => options.schedules.push(src.join(value)),
            "--expecteddir" => options.expecteddir = Some(src.join(value)),
            "--max-connections" => options.max_connections = value.parse().unwrap_or(0),
            "--create-role" => options.create_roles.extend(value.split(',').map(str::to_owned)),
            "--use-existing" => options.use_existing = true,
            _ => {}
        }
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("could not create directory", to, e))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| Error::io("could not read directory", from, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if matches!(
            name_text.as_ref(),
            ".git" | "results" | "regression.out" | "regression.diffs" | "target"
        ) {
            continue;
        }
        let target = to.join(&name);
        let file_type =
            entry.file_type().map_err(|e| Error::io("could not stat", entry.path(), e))?;
        if file_type.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if file_type.is_file() {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| Error::io("could not copy", entry.path(), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regress_opts_are_applied() {
        let mut options = RegressOptions::default();
        apply_regress_opts(
            &mut options,
            &["--load-extension=hstore".into(), "--dbname=x".into(), "--weird".into()],
            Path::new("/s"),
        );
        assert_eq!(options.load_extensions, ["hstore"]);
        assert_eq!(options.dbnames, ["x"]);
    }

    #[test]
    fn catalog_query_quotes_the_name() {
        assert!(catalog_query("it's").contains("e.extname = 'it''s'"));
    }
}
