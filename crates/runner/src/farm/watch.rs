//! `pgfarm test --watch`: one warm cluster per installation, and on every saved change a re-run
//! of only what the change can affect ([`plan`]): a pg_regress input or expected file re-runs
//! that test, a pgTAP file that file, on every installation; an install script or control
//! file reinstalls and recreates the extension, then re-runs the suites; a C source (or a
//! makefile) rebuilds, reinstalls and restarts the cluster first. [`SourceWatcher`] turns the
//! file system's events into batches: what arrives while a round runs is coalesced into the
//! next one. Each round reports every installation's verdicts ([`WatchEvent::Round`]) with
//! the tests that newly failed and their diff; statuses are pgfarm-verdict's.
//!
//! Scope: pg_regress and pgTAP suites (isolation, Perl TAP and custom installcheck stages run
//! in plain `pgfarm test` only); no bundles are written.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use pgfarm_model::{StageKind, TestStatus};
use pgfarm_pgnode::TreeLock;

use super::{FarmOptions, Job, StageOutcome, lock_tree};
use crate::bundle;
use crate::error::{Error, Result};
use crate::extension::ExtensionSource;
use crate::pgxs::{Driver, RegressArgs};
use crate::pool::Pool;
use crate::process::CancelFlag;
use crate::prove::{self, ProveOptions, Script};
use crate::regress::{self, Stream};

/// What a batch of changed files asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Rebuild, reinstall and restart (a C source, header or makefile changed).
    pub rebuild: bool,
    /// Reinstall and recreate the extension (a control file or install script changed).
    pub reinstall: bool,
    /// pg_regress tests to re-run (their input or expected files changed).
    pub regress: Vec<String>,
    /// pgTAP files to re-run.
    pub tap: Vec<PathBuf>,
    /// The changed files, relative to the source root (copied into each installation's copy).
    pub files: Vec<PathBuf>,
}

impl Plan {
    /// True when the change affects nothing pgfarm runs.
    pub fn is_empty(&self) -> bool {
        !self.rebuild && !self.reinstall && self.regress.is_empty() && self.tap.is_empty()
    }

    /// What the round does, in words (`"rebuild"`, `"tests: base, era"`).
    pub fn describe(&self) -> String {
        if self.rebuild {
            return "rebuild, reinstall, restart, all suites".into();
        }
        if self.reinstall {
            return "reinstall, all suites".into();
        }
        let mut names: Vec<String> = self.regress.clone();
        names.extend(self.tap.iter().map(|p| p.display().to_string()));
        format!("tests: {}", names.join(", "))
    }
}

/// What the changed files (relative to the extension's root) ask for.
pub fn plan(source: &ExtensionSource, changed: &[PathBuf]) -> Plan {
    let mut plan = Plan::default();
    let inputdir = &source.regress_inputdir;
    for rel in changed {
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = rel.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        let parent = rel.parent().unwrap_or(Path::new(""));
        let stem = rel.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let relevant = if matches!(ext.as_str(), "c" | "h" | "cc" | "cpp")
            || matches!(name.as_str(), "Makefile" | "GNUmakefile" | "makefile")
        {
            plan.rebuild = true;
            true
        } else if ext == "control" || (ext == "sql" && name.contains("--")) {
            plan.reinstall = true;
            true
        } else if source.tap_files.iter().any(|t| normalized(t) == normalized(rel)) {
            if !plan.tap.contains(rel) {
                plan.tap.push(rel.clone());
            }
            true
        } else if let Some(test) = regress_test_of(inputdir, parent, &stem, &ext) {
            if source.regress_tests.contains(&test) && !plan.regress.contains(&test) {
                plan.regress.push(test);
            }
            true
        } else {
            false
        };
        if relevant && !plan.files.contains(rel) {
            plan.files.push(rel.clone());
        }
    }
    plan
}

/// The pg_regress test a file belongs to: `INPUTDIR/sql/NAME.sql`, `INPUTDIR/expected/NAME.out`
/// (and `NAME_N.out`), `INPUTDIR/input/NAME.source`, `INPUTDIR/output/NAME.source`.
fn regress_test_of(inputdir: &Path, parent: &Path, stem: &str, ext: &str) -> Option<String> {
    let inputdir = normalized(inputdir);
    let parent = normalized(parent);
    let folder = parent.strip_prefix(&inputdir).ok()?.to_string_lossy().into_owned();
    match (folder.as_str(), ext) {
        ("sql", "sql") | ("input", "source") | ("output", "source") => Some(stem.to_owned()),
        ("expected", "out") => {
            // `NAME_1.out` is a variant of NAME.
            let base = match stem.rsplit_once('_') {
                Some((base, n)) if n.len() == 1 && n.chars().all(|c| c.is_ascii_digit()) => base,
                _ => stem,
            };
            Some(base.to_owned())
        }
        _ => None,
    }
}

fn normalized(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// Progress and results of a watch session.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// An installation's warm cluster is ready (or could not be made ready).
    Ready {
        /// Installation label.
        label: String,
        /// Why it is not (it takes no part in the rounds).
        error: Option<String>,
    },
    /// A round ended on every ready installation.
    Round {
        /// 0 for the first full run, then 1, 2, ...
        number: usize,
        /// What the round did ([`Plan::describe`]).
        what: String,
        /// Per installation, in the order of `--pg`.
        results: Vec<RoundResult>,
        /// From the first change seen to the last verdict.
        duration: Duration,
    },
}

/// One installation's verdicts in a round.
#[derive(Debug, Clone)]
pub struct RoundResult {
    /// Installation label.
    pub label: String,
    /// The tests that ran.
    pub tests: Vec<TestOutcome>,
    /// Why the round failed before its tests (a build or install error).
    pub error: Option<String>,
}

/// One test's verdict in a round.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// `regress` or `tap`.
    pub stage: StageKind,
    /// Test name or TAP file path.
    pub name: String,
    /// pgfarm-verdict's status.
    pub status: TestStatus,
    /// It failed now and had not failed in the previous round that ran it.
    pub newly_failed: bool,
    /// For a failure: the unified diff (regress) or the TAP stream and stderr (tap).
    pub detail: String,
}

/// A warm installation: its job (holding the cluster), the tree lock and the last verdicts.
struct Warm<'a> {
    job: Job<'a>,
    _tree: TreeLock,
    last: BTreeMap<(StageKind, String), TestStatus>,
    tap_ready: bool,
}

/// Runs the watch session: warms every installation up (build, install, cluster, load), runs
/// the suites once (round 0), then for every batch `next_changes` returns (paths relative to
/// the source root; `None` ends the session) runs the [`plan`]'s round. The clusters are
/// stopped when it returns.
pub fn watch(
    options: &FarmOptions,
    source: &ExtensionSource,
    next_changes: &mut dyn FnMut() -> Option<(Vec<PathBuf>, Instant)>,
    on_event: &(dyn Fn(WatchEvent) + Sync),
) {
    let labels = super::labels(&options.installations);
    let items: Vec<(&pgfarm_pgnode::Installation, &String)> =
        options.installations.iter().zip(&labels).collect();
    let mut warm: Vec<Warm<'_>> = Pool::new(options.jobs.max(1))
        .run(
            items,
            |_, (installation, label)| {
                let result = warm_up(options, source, installation, label);
                on_event(WatchEvent::Ready {
                    label: label.clone(),
                    error: result.as_ref().err().cloned(),
                });
                result.ok()
            },
            |_, _| ControlFlow::Continue(()),
        )
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    if warm.is_empty() {
        return;
    }
    let everything = Plan {
        regress: source.regress_tests.clone(),
        tap: source.tap_files.clone(),
        ..Plan::default()
    };
    let started = Instant::now();
    run_round(&mut warm, source, &everything, 0, started, on_event);
    let mut number = 0;
    while let Some((changed, first_seen)) = next_changes() {
        if options.cancel.is_cancelled() {
            break;
        }
        let plan = plan(source, &changed);
        if plan.is_empty() {
            continue;
        }
        number += 1;
        run_round(&mut warm, source, &plan, number, first_seen, on_event);
    }
}

fn warm_up<'a>(
    options: &'a FarmOptions,
    source: &'a ExtensionSource,
    installation: &'a pgfarm_pgnode::Installation,
    label: &'a str,
) -> std::result::Result<Warm<'a>, String> {
    let mut job = Job::new(options, source, installation, label);
    let mut tree = None;
    for kind in [StageKind::Build, StageKind::Install, StageKind::Cluster, StageKind::Load] {
        let mut log = String::new();
        if kind == StageKind::Install {
            tree = Some(lock_tree(installation, options, &mut log).map_err(|e| e.to_string())?);
        }
        match job.stage(kind, &mut log) {
            Ok(StageOutcome::Ok | StageOutcome::NotApplicable | StageOutcome::Skipped(_)) => {}
            Ok(StageOutcome::Missing(why) | StageOutcome::Failed(why)) => {
                return Err(format!("{kind}: {why}"));
            }
            Err(err) => return Err(format!("{kind}: {err}")),
        }
    }
    let tree = tree.ok_or_else(|| "install: the tree was not locked".to_owned())?;
    Ok(Warm { job, _tree: tree, last: BTreeMap::new(), tap_ready: false })
}

fn run_round(
    warm: &mut [Warm<'_>],
    source: &ExtensionSource,
    plan: &Plan,
    number: usize,
    first_seen: Instant,
    on_event: &(dyn Fn(WatchEvent) + Sync),
) {
    let items: Vec<&mut Warm<'_>> = warm.iter_mut().collect();
    let results: Vec<RoundResult> = Pool::new(items.len())
        .run(items, |_, warm| round(warm, source, plan), |_, _| ControlFlow::Continue(()))
        .into_iter()
        .flatten()
        .collect();
    on_event(WatchEvent::Round {
        number,
        what: plan.describe(),
        results,
        duration: first_seen.elapsed(),
    });
}

/// One installation's part of a round.
fn round(warm: &mut Warm<'_>, source: &ExtensionSource, plan: &Plan) -> RoundResult {
    let label = warm.job.label.to_owned();
    let mut result = RoundResult { label, tests: Vec::new(), error: None };
    if let Err(err) = prepare(warm, source, plan) {
        result.error = Some(err);
        return result;
    }
    let (regress, tap) = if plan.rebuild || plan.reinstall {
        (source.regress_tests.clone(), source.tap_files.clone())
    } else {
        (plan.regress.clone(), plan.tap.clone())
    };
    let mut tests = Vec::new();
    if !regress.is_empty() {
        match run_regress(&warm.job, &regress) {
            Ok(outcomes) => tests.extend(outcomes),
            Err(err) => result.error = Some(format!("regress: {err}")),
        }
    }
    if !tap.is_empty() {
        match run_tap(warm, &tap) {
            Ok(outcomes) => tests.extend(outcomes),
            Err(err) => result.error = Some(format!("tap: {err}")),
        }
    }
    for test in &mut tests {
        let key = (test.stage, test.name.clone());
        let before = warm.last.get(&key).copied();
        test.newly_failed = test.status.is_failure() && !before.is_some_and(|s| s.is_failure());
        warm.last.insert(key, test.status);
    }
    result.tests = tests;
    result
}

/// Copies the changed files into the installation's copy, then rebuilds or reinstalls.
fn prepare(
    warm: &mut Warm<'_>,
    source: &ExtensionSource,
    plan: &Plan,
) -> std::result::Result<(), String> {
    let job = &mut warm.job;
    for rel in &plan.files {
        let from = source.root.join(rel);
        let to = job.src.join(rel);
        if from.is_file() {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("could not create {}: {e}", parent.display()))?;
            }
            std::fs::copy(&from, &to).map_err(|e| {
                format!("could not copy {} to {}: {e}", from.display(), to.display())
            })?;
        } else {
            let _ = std::fs::remove_file(&to);
        }
    }
    if !plan.rebuild && !plan.reinstall {
        return Ok(());
    }
    let mut log = String::new();
    // PGXS's `install` depends on `all`: one make call rebuilds what changed and installs.
    match job.run_make(&["install"], &mut log).map_err(|e| e.to_string())? {
        StageOutcome::Ok | StageOutcome::Skipped(_) | StageOutcome::NotApplicable => {}
        StageOutcome::Failed(why) | StageOutcome::Missing(why) => return Err(why),
    }
    if plan.rebuild {
        // A rebuilt shared library is only loaded by a new server.
        job.cluster
            .as_mut()
            .ok_or_else(|| "no cluster".to_owned())?
            .restart()
            .map_err(|e| e.to_string())?;
    }
    let name = source.name.replace('"', "\"\"");
    let sql =
        format!("DROP EXTENSION IF EXISTS \"{name}\" CASCADE; CREATE EXTENSION \"{name}\" CASCADE");
    job.sql("postgres", &sql, &mut log).map_err(|e| e.to_string())??;
    // The TAP database is made again with the new extension.
    warm.tap_ready = false;
    Ok(())
}

/// Re-runs the named pg_regress tests through the recorded pg_regress calls that run them.
fn run_regress(job: &Job<'_>, names: &[String]) -> Result<Vec<TestOutcome>> {
    let mut outcomes = Vec::new();
    for call in job.calls.iter().filter(|c| c.driver == Driver::Regress) {
        let args = RegressArgs::parse(&call.args).map_err(Error::Usage)?;
        let mut options = job.regress_options(&args, &call.cwd, &call.cwd).map_err(Error::Usage)?;
        let mut in_call: Vec<String> = options.tests.clone();
        for schedule in &options.schedules {
            let text = std::fs::read_to_string(schedule)
                .map_err(|e| Error::io("could not read", schedule, e))?;
            let dialect = match options.style {
                regress::Style::Classic => crate::schedule::Dialect::Classic,
                regress::Style::Tap => crate::schedule::Dialect::Tap,
            };
            in_call.extend(
                crate::schedule::Schedule::parse(&text, dialect)
                    .tests()
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        let tests: Vec<String> = names.iter().filter(|n| in_call.contains(n)).cloned().collect();
        if tests.is_empty() {
            continue;
        }
        options.schedules.clear();
        options.tests = tests;
        let mut sink = |_: Stream, _: &str| {};
        let report = regress::run(&options, &mut sink)?;
        if let Some(bail) = &report.bail {
            return Err(Error::Usage(bail.clone()));
        }
        for test in bundle::regress_tests(&report) {
            let status = pgfarm_verdict::regress_test_status(&test);
            let detail = if status.is_failure() { regress_diff(&test) } else { String::new() };
            outcomes.push(TestOutcome {
                stage: StageKind::Regress,
                name: test.name.clone(),
                status,
                newly_failed: false,
                detail,
            });
        }
    }
    Ok(outcomes)
}

/// The unified diff of a failed test against the expected variant it was judged by.
fn regress_diff(test: &pgfarm_model::RegressTest) -> String {
    let Some(expected) = test.chosen().or(test.expected.first()) else {
        return test.reason.clone().unwrap_or_else(|| "no expected file".into());
    };
    let expected_text = expected.content.to_string_lossy();
    let actual = test.actual.to_string_lossy();
    let diff = pgfarm_diff::diff_lines(&expected_text, &actual, &pgfarm_diff::Options::default());
    let mut text = String::new();
    let labels = pgfarm_diff::Labels {
        expected: &format!("expected/{}", expected.file_name),
        actual: &format!("results/{}.out", test.name),
    };
    let _ = diff.write_unified(&mut text, &labels, 3);
    text
}

/// Re-runs pgTAP files in the installation's TAP database (made, with `[tap] setup`, the first
/// time and after every reinstall).
fn run_tap(warm: &mut Warm<'_>, files: &[PathBuf]) -> Result<Vec<TestOutcome>> {
    let job = &warm.job;
    if !warm.tap_ready {
        let mut log = String::new();
        let make = "DROP DATABASE IF EXISTS pgfarm_tap WITH (FORCE)";
        job.sql("postgres", make, &mut log)?.map_err(Error::Usage)?;
        job.sql("postgres", "CREATE DATABASE pgfarm_tap", &mut log)?.map_err(Error::Usage)?;
        for setup in &job.source.tap_setup {
            job.sql("pgfarm_tap", setup, &mut log)?.map_err(Error::Usage)?;
        }
        warm.tap_ready = true;
    }
    let cluster = job.cluster()?;
    let options = ProveOptions {
        dbname: Some("pgfarm_tap".into()),
        username: Some(cluster.superuser().to_owned()),
        host: Some(cluster.host()),
        port: Some(cluster.port()),
        psql: job.installation.bin("psql"),
        timeout: job.options.timeout,
        cancel: job.options.cancel.clone(),
        cwd: Some(job.src.clone()),
        ..ProveOptions::default()
    };
    let scripts: Vec<Script> = files.iter().map(|f| Script::File(f.clone())).collect();
    let report = prove::run(&options, &scripts, &mut |_| {})?;
    Ok(bundle::tap_files(&report)
        .into_iter()
        .map(|file| {
            let status = pgfarm_verdict::tap_file_status(&file, StageKind::Tap);
            let detail = if status.is_failure() {
                format!("{}{}", file.stream.to_string_lossy(), file.stderr.to_string_lossy())
            } else {
                String::new()
            };
            TestOutcome {
                stage: StageKind::Tap,
                name: file.path,
                status,
                newly_failed: false,
                detail,
            }
        })
        .collect())
}

/// Batches of changed files under a source folder, from the operating system's file events
/// (inotify on Linux, through `notify`).
pub struct SourceWatcher {
    _watcher: notify::RecommendedWatcher,
    events: Receiver<PathBuf>,
    root: PathBuf,
    skip: Vec<PathBuf>,
}

/// How long a batch stays open after its first event, so an editor's burst (write, rename,
/// chmod) is one change.
const SETTLE: Duration = Duration::from_millis(15);

impl SourceWatcher {
    /// Watches `root` recursively, leaving out `skip` (the output and work folders), version
    /// control folders and pg_regress's own output (`results/`, `regression.*`, `log/`).
    pub fn new(root: &Path, skip: &[PathBuf]) -> Result<SourceWatcher> {
        use notify::Watcher as _;
        let (send, events) = channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && !matches!(event.kind, notify::EventKind::Access(_))
                {
                    for path in event.paths {
                        let _ = send.send(path);
                    }
                }
            })
            .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", root.display())))?;
        watcher
            .watch(root, notify::RecursiveMode::Recursive)
            .map_err(|e| Error::Usage(format!("cannot watch {}: {e}", root.display())))?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let skip =
            skip.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect();
        Ok(SourceWatcher { _watcher: watcher, events, root, skip })
    }

    fn relevant(&self, path: &Path) -> Option<PathBuf> {
        if self.skip.iter().any(|s| path.starts_with(s)) {
            return None;
        }
        let rel = path.strip_prefix(&self.root).ok()?.to_path_buf();
        let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
        let name = rel.file_name()?.to_string_lossy().into_owned();
        let ignored = matches!(first.as_str(), ".git" | ".hg" | ".svn" | "results" | "log")
            || name.starts_with("regression.")
            || name.ends_with('~')
            || name.starts_with(".#")
            || name.ends_with(".swp");
        (!ignored).then_some(rel)
    }

    /// Blocks until a relevant file changed, then returns every change queued by then (and
    /// within `SETTLE` of the first), with when the first was seen; `None` once `cancel` is
    /// set.
    pub fn next(&self, cancel: &CancelFlag) -> Option<(Vec<PathBuf>, Instant)> {
        let mut batch: Vec<PathBuf> = Vec::new();
        let mut first_seen = None;
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            let wait = match first_seen {
                Some(at) => SETTLE.saturating_sub(Instant::elapsed(&at)),
                None => Duration::from_millis(100),
            };
            match self.events.recv_timeout(wait) {
                Ok(path) => {
                    if let Some(rel) = self.relevant(&path) {
                        first_seen.get_or_insert_with(Instant::now);
                        if !batch.contains(&rel) {
                            batch.push(rel);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) if first_seen.is_some() => {
                    return first_seen.map(|at| (batch, at));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> ExtensionSource {
        ExtensionSource {
            name: "x".into(),
            regress_inputdir: PathBuf::from("test"),
            regress_tests: vec!["base".into(), "era".into()],
            tap_files: vec![PathBuf::from("t/a.sql")],
            ..ExtensionSource::default()
        }
    }

    fn check(changed: &[&str], expect: Plan) {
        let changed: Vec<PathBuf> = changed.iter().map(PathBuf::from).collect();
        let got = Plan { files: Vec::new(), ..plan(&source(), &changed) };
        assert_eq!(got, expect, "{changed:?}");
    }

    #[test]
    fn a_test_or_expected_file_reruns_that_test() {
        check(&["test/sql/base.sql"], Plan { regress: vec!["base".into()], ..Plan::default() });
        check(
            &["test/expected/era_1.out"],
            Plan { regress: vec!["era".into()], ..Plan::default() },
        );
        check(
            &["test/expected/era.out", "./test/sql/era.sql"],
            Plan { regress: vec!["era".into()], ..Plan::default() },
        );
        check(&["t/a.sql"], Plan { tap: vec![PathBuf::from("t/a.sql")], ..Plan::default() });
    }

    #[test]
    fn install_scripts_reinstall_and_c_sources_rebuild() {
        check(&["x--1.0.sql"], Plan { reinstall: true, ..Plan::default() });
        check(&["x.control"], Plan { reinstall: true, ..Plan::default() });
        check(&["src/x.c"], Plan { rebuild: true, ..Plan::default() });
        check(&["Makefile"], Plan { rebuild: true, ..Plan::default() });
    }

    #[test]
    fn other_files_and_unknown_tests_change_nothing() {
        check(&["README.md"], Plan::default());
        check(&["test/sql/unlisted.sql"], Plan::default());
        assert!(plan(&source(), &[PathBuf::from("README.md")]).files.is_empty());
    }
}
