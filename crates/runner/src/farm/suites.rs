//! The suites PGXS runs beyond pg_regress: pg_isolation_regress specs (the tree's own
//! `pg_isolation_regress` and `isolationtester`), Perl TAP files (`prove_installcheck`'s
//! environment, each file run by perl and its TAP parsed by pgfarm-tap-parser), and an
//! extension's own installcheck recipe; plus telling a crashed server from a diff.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pgfarm_model::{ExpectedOutput, RawText, RegressTest, StageKind, TapFile, TestRef, TestStatus};

use super::stages::tail;
use super::{Job, StageOutcome};
use crate::error::{Error, Result};
use crate::pgxs::{Driver, RegressArgs};
use crate::process::{Ended, Spawn};

/// The step wait limit given to isolationtester when `--timeout` is not set (seconds; the
/// value PostgreSQL's own test suites use).
const DEFAULT_ISOLATION_TIMEOUT_S: u64 = 180;

/// A server crash seen in the server log during a suite.
#[derive(Debug, Clone)]
pub(super) struct Crash {
    /// The signal number, when the log names one.
    pub(super) signal: Option<i32>,
    /// The log lines around it.
    pub(super) excerpt: String,
}

impl Crash {
    /// `"server crashed (signal 11)"` and the log lines.
    pub(super) fn summary(&self) -> String {
        let head = match self.signal {
            Some(signal) => format!("server crashed (signal {signal})"),
            None => "server crashed".to_owned(),
        };
        format!("{head}:\n{}", self.excerpt)
    }
}

/// Reads a server log slice for a backend killed by a signal (`server process (PID 123) was
/// terminated by signal 11: Segmentation fault`) or a PANIC.
pub(super) fn find_crash(log: &str) -> Option<Crash> {
    let lines: Vec<&str> = log.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("was terminated by signal") || l.contains("PANIC:"))?;
    let signal = lines[at]
        .split("terminated by signal ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok());
    // The crash line and what the postmaster says about it (DETAIL: Failed process was
    // running: ..., the other backends terminated).
    let start = at;
    let end = (at + 3).min(lines.len());
    Some(Crash { signal, excerpt: lines[start..end].join("\n") })
}

/// Marks the tests a crash cut short: every test that did not pass gets status `error` and
/// the crash as its reason (the diff a crash leaves is a symptom, not the cause).
pub(super) fn mark_crashed(tests: &mut [RegressTest], crash: &Crash) {
    for test in tests.iter_mut().filter(|t| t.status != TestStatus::Ok) {
        test.status = TestStatus::Error;
        test.reason = Some(crash.summary());
    }
}

impl Job<'_> {
    /// A crash in the server log since `position`. `lost_connection` says a client saw its
    /// connection die (psql's "server closed the connection unexpectedly"): the postmaster may
    /// log the reason a moment after, so it is waited for (up to 5 s).
    pub(super) fn crash_since(&self, position: u64, lost_connection: bool) -> Option<Crash> {
        let cluster = self.cluster.as_ref()?;
        if let Some(crash) = find_crash(&cluster.log_since(position).ok()?) {
            return Some(crash);
        }
        if !lost_connection {
            return None;
        }
        let text = cluster
            .wait_for_log(position, "terminated by signal", std::time::Duration::from_secs(5))
            .ok()?;
        find_crash(&text)
    }

    pub(super) fn isolation(&mut self, log: &mut String) -> Result<StageOutcome> {
        let calls: Vec<_> =
            self.calls.iter().filter(|c| c.driver == Driver::Isolation).cloned().collect();
        if calls.is_empty() {
            return Ok(StageOutcome::Missing(
                "make installcheck runs no isolation specs (no ISOLATION)".into(),
            ));
        }
        let binary = self
            .installation
            .pgxs
            .parent()
            .and_then(Path::parent)
            .map(|src| src.join("test/isolation/pg_isolation_regress"))
            .unwrap_or_default();
        if !binary.is_file() {
            return Ok(StageOutcome::Missing(format!(
                "this PostgreSQL {} tree has no pg_isolation_regress (PGXS installs it from 14; looked for {})",
                self.installation.major(),
                binary.display()
            )));
        }
        let timeout =
            self.options.timeout.map_or(DEFAULT_ISOLATION_TIMEOUT_S, |t| t.as_secs().max(1));
        log.push_str(&format!("isolationtester step wait limit: {timeout} s\n"));
        let mut failures = Vec::new();
        let mut n_specs = 0;
        let (mut n_deselected, mut n_not_run) = (0, 0);
        for call in &calls {
            let args = match RegressArgs::parse(&call.args) {
                Ok(args) => args,
                Err(e) => return Ok(StageOutcome::Failed(format!("pg_isolation_regress: {e}"))),
            };
            // The same option rules as pg_regress (it is pg_regress with isolationtester).
            let options = match self.regress_options(&args, &call.cwd, &call.cwd.join("output_iso"))
            {
                Ok(options) => options,
                Err(e) => {
                    return Ok(StageOutcome::Failed(
                        e.replace("pg_regress", "pg_isolation_regress"),
                    ));
                }
            };
            // The selection: with specs left out, the chosen ones run as positional names.
            let all_specs = spec_names(&args, &call.cwd)?;
            let mut chosen = Vec::new();
            for name in &all_specs {
                let file = options.inputdir.join("specs").join(format!("{name}.spec"));
                let path = format!("specs/{name}.spec");
                match self.options.selection.choose(name, &path, Some(&file), &call.cwd) {
                    crate::select::Choice::Selected => chosen.push(name.clone()),
                    crate::select::Choice::Deselected(_) => {
                        n_deselected += 1;
                        self.deselected.push(TestRef::new(StageKind::Isolation, name));
                    }
                }
            }
            if self.options.fail_fast.is_tripped() {
                n_not_run += chosen.len();
                self.not_run
                    .extend(chosen.iter().map(|name| TestRef::new(StageKind::Isolation, name)));
                continue;
            }
            if chosen.is_empty() {
                continue;
            }
            let narrowed = chosen.len() < all_specs.len();
            let cluster = self.cluster()?;
            let mut spawn = Spawn::new(&binary)
                .current_dir(&call.cwd)
                .env("PGISOLATIONTIMEOUT", timeout.to_string())
                .env("PG_TEST_TIMEOUT_DEFAULT", timeout.to_string())
                .arg(format!("--bindir={}", self.installation.bindir.display()))
                .arg(format!("--host={}", cluster.host()))
                .arg(format!("--port={}", cluster.port()))
                .arg(format!("--user={}", cluster.superuser()));
            for (name, value) in &args.options {
                if matches!(
                    name.as_str(),
                    "temp-instance" | "temp-config" | "port" | "host" | "user" | "bindir"
                ) || (narrowed && name == "schedule")
                {
                    continue;
                }
                spawn = spawn.arg(if value.is_empty() && !takes_value(name) {
                    format!("--{name}")
                } else {
                    format!("--{name}={value}")
                });
            }
            spawn = if narrowed {
                spawn.args(chosen.iter().cloned())
            } else {
                spawn.args(args.tests.iter().cloned())
            };
            let position = cluster.log_position();
            let deadline = self.options.timeout.map(|t| {
                Instant::now() + t * u32::try_from(args.tests.len().max(1)).unwrap_or(u32::MAX)
            });
            let started = Instant::now();
            let (ended, output) = spawn.run_logged(deadline, &self.options.cancel)?;
            log.push_str(&format!("$ {}\n{output}", spawn.display()));
            let specs = if narrowed { chosen } else { all_specs };
            let durations = console_durations(&output);
            let mut tests = Vec::new();
            for (group, name) in specs.iter().enumerate() {
                let test = judge_spec(
                    name,
                    u32::try_from(group).unwrap_or(u32::MAX),
                    &options.outputdir,
                    options.expecteddir.as_deref().unwrap_or(&options.inputdir),
                    durations.iter().find(|(n, _)| n == name).map(|(_, d)| *d),
                )?;
                tests.push(test);
            }
            let lost = output.contains("server closed the connection unexpectedly")
                || tests.iter().any(|t| lost_connection(&t.actual));
            if let Some(crash) = self.crash_since(position, lost) {
                mark_crashed(&mut tests, &crash);
                failures.push(crash.summary());
            }
            n_specs += tests.len();
            failures.extend(tests.iter().filter(|t| t.status.is_failure()).map(|t| t.name.clone()));
            if let Ok(diffs) = std::fs::read_to_string(options.outputdir.join("regression.diffs")) {
                log.push_str(&diffs);
            }
            self.isolation.extend(tests);
            match ended {
                Ended::Exited(status) if status.code() == Some(2) => {
                    return Ok(StageOutcome::Failed(format!(
                        "pg_isolation_regress could not run; last lines:\n{}",
                        tail(&output, 8)
                    )));
                }
                Ended::Exited(_) => {}
                Ended::TimedOut => {
                    return Ok(StageOutcome::Failed(format!(
                        "pg_isolation_regress timed out after {:.0} s",
                        started.elapsed().as_secs_f64()
                    )));
                }
                Ended::Cancelled => return Ok(StageOutcome::Failed("interrupted".into())),
            }
        }
        if n_specs == 0 && n_deselected + n_not_run > 0 {
            return Ok(self.nothing_selected("isolation specs", n_not_run));
        }
        if n_specs == 0 {
            return Ok(StageOutcome::Missing("make installcheck runs no isolation specs".into()));
        }
        Ok(if failures.is_empty() {
            StageOutcome::Ok
        } else {
            StageOutcome::Failed(format!(
                "{} of {n_specs} specs failed: {}",
                failures.len(),
                failures.join(", ")
            ))
        })
    }

    pub(super) fn perl_tap(&mut self, log: &mut String) -> Result<StageOutcome> {
        let Some(call) = self.calls.iter().find(|c| c.driver == Driver::Prove).cloned() else {
            return Ok(StageOutcome::Missing(
                "make installcheck runs no Perl TAP tests (no TAP_TESTS)".into(),
            ));
        };
        let mut args = call.args.iter();
        if args.next().map(String::as_str) != Some("tap_enabled=yes") {
            return Ok(StageOutcome::Missing(format!(
                "TAP tests not enabled in this PostgreSQL {} build (configured without --enable-tap-tests; PGXS prints \"TAP tests not enabled\" and exits 0): choose a tree that has them, e.g. --pg 15@debian",
                self.installation.major()
            )));
        }
        // prove's options: -I DIR goes to perl; the rest are files (prove's other options only
        // shape its own output).
        let mut includes: Vec<String> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        let mut rest: Vec<String> = args.cloned().collect();
        rest.reverse();
        while let Some(arg) = rest.pop() {
            if arg == "-I" {
                if let Some(dir) = rest.pop() {
                    includes.push(dir);
                }
            } else if let Some(dir) = arg.strip_prefix("-I") {
                includes.push(dir.to_owned());
            } else if arg.starts_with('-') {
                log.push_str(&format!(
                    "prove option {arg}: shapes prove's output only; not used\n"
                ));
            } else {
                files.push(arg);
            }
        }
        let files: Vec<String> = files.into_iter().filter(|f| call.cwd.join(f).is_file()).collect();
        if files.is_empty() {
            return Ok(StageOutcome::Missing("TAP_TESTS is set but no t/*.pl file exists".into()));
        }
        let mut chosen = Vec::new();
        for file in files {
            let path = call.cwd.join(&file);
            match self.options.selection.choose(&file, &file, Some(&path), &call.cwd) {
                crate::select::Choice::Selected => chosen.push(file),
                crate::select::Choice::Deselected(_) => {
                    self.deselected.push(TestRef::new(StageKind::PerlTap, file))
                }
            }
        }
        let files = chosen;
        if files.is_empty() {
            return Ok(self.nothing_selected("Perl TAP files", 0));
        }
        let cluster = self.cluster()?;
        let os_user = cluster.os_user().cloned();
        let port = cluster.port();
        let tmp_check = self.src.join("tmp_check");
        let _ = std::fs::remove_dir_all(&tmp_check);
        std::fs::create_dir_all(tmp_check.join("log"))
            .map_err(|e| Error::io("could not create directory", &tmp_check, e))?;
        if let Some(user) = &os_user {
            super::stages::chown_tree(&tmp_check, user.uid, user.gid)?;
        }
        let pgxs_src = self
            .installation
            .pgxs
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let pg_regress = pgxs_src.join("test/regress/pg_regress");
        let path = format!(
            "{}:{}:{}",
            self.installation.bindir.display(),
            self.src.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let timeout = self.options.timeout;
        let mut failed = Vec::new();
        let temp_config = self.temp_config_for_tap()?;
        let mut n_ran = 0;
        for file in &files {
            if self.options.fail_fast.is_tripped() {
                self.not_run.push(TestRef::new(StageKind::PerlTap, file));
                continue;
            }
            n_ran += 1;
            let started = Instant::now();
            let mut spawn = Spawn::new("perl");
            for dir in &includes {
                spawn = spawn.arg("-I").arg(dir);
            }
            spawn = spawn
                .arg(file)
                .current_dir(&call.cwd)
                .env("TESTDIR", self.src.display().to_string())
                .env("TESTLOGDIR", tmp_check.join("log").display().to_string())
                .env("TESTDATADIR", tmp_check.display().to_string())
                .env("PATH", path.clone())
                .env("PGPORT", port.to_string())
                .env("PG_REGRESS", pg_regress.display().to_string())
                .env("PG_CONFIG", self.installation.pg_config.display().to_string());
            if let Some(conf) = &temp_config {
                spawn = spawn.env("TEMP_CONFIG", conf.display().to_string());
            }
            if let Some(user) = &os_user {
                spawn = spawn.run_as(user.clone());
            }
            let deadline = timeout.map(|t| Instant::now() + t);
            let (status, stdout, stderr) = spawn.output_until(deadline, &self.options.cancel)?;
            let duration = started.elapsed();
            let stem = Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let file_log =
                std::fs::read_to_string(tmp_check.join("log").join(format!("regress_log_{stem}")))
                    .unwrap_or_default();
            let summary = pgfarm_tap_parser::summarize(pgfarm_tap_parser::Parser::new(&stdout));
            let (test_status, exit_code) = match status {
                Ended::Exited(s) => {
                    let ok = summary.ok && s.success();
                    (if ok { TestStatus::Ok } else { TestStatus::Failed }, s.code())
                }
                Ended::TimedOut => (TestStatus::Timeout, None),
                Ended::Cancelled => (TestStatus::Error, None),
            };
            log.push_str(&format!(
                "{file} .. {} ({} ms)\n{}",
                if test_status == TestStatus::Ok { "ok" } else { "not ok" },
                duration.as_millis(),
                if test_status == TestStatus::Ok {
                    String::new()
                } else {
                    format!("{stdout}{stderr}")
                }
            ));
            if test_status != TestStatus::Ok {
                failed.push(file.clone());
                self.options.fail_fast.trip();
            }
            let mut err_text = stderr;
            if !file_log.is_empty() {
                err_text.push_str(&file_log);
            }
            self.perl_tap.push(TapFile {
                path: file.clone(),
                status: test_status,
                duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
                exit_code,
                stream: RawText::from(stdout),
                stderr: RawText::from(err_text),
            });
            if self.options.cancel.is_cancelled() {
                return Ok(StageOutcome::Failed("interrupted".into()));
            }
        }
        if n_ran == 0 {
            return Ok(self.nothing_selected("Perl TAP files", files.len()));
        }
        Ok(if failed.is_empty() {
            StageOutcome::Ok
        } else {
            StageOutcome::Failed(format!(
                "{} of {} files failed: {}",
                failed.len(),
                n_ran,
                failed.join(", ")
            ))
        })
    }

    /// pgfarm.toml and `--set` settings as a `TEMP_CONFIG` file, so the servers the Perl tests
    /// start get them too (`PostgreSQL::Test::Cluster::init` appends it to every node).
    fn temp_config_for_tap(&self) -> Result<Option<PathBuf>> {
        let settings: Vec<&(String, String)> =
            self.source.cluster_settings.iter().chain(&self.options.settings).collect();
        if settings.is_empty() {
            return Ok(None);
        }
        let path = self.dir.join("perl-tap-temp.conf");
        let text: String =
            settings.iter().map(|(n, v)| format!("{n} = '{}'\n", v.replace('\'', "''"))).collect();
        std::fs::write(&path, text).map_err(|e| Error::io("could not write", &path, e))?;
        Ok(Some(path))
    }

    pub(super) fn installcheck(&mut self, log: &mut String) -> Result<StageOutcome> {
        let Some(origin) = self.custom_installcheck.clone() else {
            return Ok(StageOutcome::NotApplicable);
        };
        let cluster = self.cluster()?;
        log.push_str(&format!(
            "running the extension's own installcheck recipe ({origin}) against pgfarm's cluster; PGXS's drivers in it are recorded, not run (their suites are the stages above)\n"
        ));
        let env = vec![
            ("PGHOST".to_owned(), cluster.host()),
            ("PGPORT".to_owned(), cluster.port().to_string()),
            ("PGUSER".to_owned(), cluster.superuser().to_owned()),
            ("PGDATABASE".to_owned(), "postgres".to_owned()),
        ];
        let deadline = self.options.build_timeout.map(|t| Instant::now() + t);
        let recording = crate::pgxs::record_installcheck(
            &self.make,
            &self.src,
            &self.dir.join("record-installcheck"),
            &env,
            false,
            deadline,
            &self.options.cancel,
        )?;
        log.push_str(&recording.log);
        let summary = pgfarm_tap_parser::summarize(pgfarm_tap_parser::Parser::new(&recording.log));
        let tap_note = if summary.count > 0 {
            format!(" ({} TAP points, {} failed)", summary.count, summary.fail)
        } else {
            String::new()
        };
        Ok(match recording.ended {
            Ended::Exited(status) if status.success() && (summary.count == 0 || summary.ok) => {
                log.push_str(&format!("installcheck recipe passed{tap_note}\n"));
                StageOutcome::Ok
            }
            Ended::Exited(status) => StageOutcome::Failed(format!(
                "the installcheck recipe ({origin}) exited with {}{tap_note}; last lines:\n{}",
                crate::process::describe_status(status),
                tail(&recording.log, 12)
            )),
            Ended::TimedOut => StageOutcome::Failed("the installcheck recipe timed out".into()),
            Ended::Cancelled => StageOutcome::Failed("interrupted".into()),
        })
    }
}

/// Whether a test's output shows its connection died under it.
pub(super) fn lost_connection(actual: &RawText) -> bool {
    let text = actual.to_string_lossy();
    text.contains("server closed the connection unexpectedly")
        || text.contains("connection to server was lost")
}

fn takes_value(name: &str) -> bool {
    crate::pgxs::REGRESS_OPTIONS.iter().any(|(n, v)| *n == name && *v)
        || name == "max-concurrent-tests"
}

/// The spec names a pg_isolation_regress call runs: its positional names, then the `test:`
/// lines of its schedules.
fn spec_names(args: &RegressArgs, cwd: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for schedule in args.values("schedule") {
        let path = cwd.join(schedule);
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io("could not read", &path, e))?;
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("test:") {
                names.extend(rest.split_whitespace().map(str::to_owned));
            }
        }
    }
    names.extend(args.tests.iter().cloned());
    Ok(names)
}

/// Durations per spec from pg_isolation_regress's console (`ok 1 - name  123 ms`, or
/// `test name ... ok  123 ms` up to 15).
fn console_durations(output: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 || words.last() != Some(&"ms") {
            continue;
        }
        let Some(ms) = words.get(words.len() - 2).and_then(|w| w.parse::<u64>().ok()) else {
            continue;
        };
        let name = if let Some(pos) = words.iter().position(|w| *w == "-") {
            words.get(pos + 1)
        } else if words.first() == Some(&"test") {
            words.get(1)
        } else {
            None
        };
        if let Some(name) = name {
            out.push(((*name).to_owned(), ms));
        }
    }
    out
}

/// One spec's verdict from its files, as pg_regress compares them: `results/NAME.out` against
/// `NAME.out` and its `NAME_0`..`NAME_9` variants (the first match passes; otherwise the
/// closest is shown).
fn judge_spec(
    name: &str,
    group: u32,
    outputdir: &Path,
    expecteddir: &Path,
    duration_ms: Option<u64>,
) -> Result<RegressTest> {
    let result_path = outputdir.join("results").join(format!("{name}.out"));
    let actual = std::fs::read(&result_path).unwrap_or_default();
    let mut expected = Vec::new();
    let mut variants = vec![format!("{name}.out")];
    variants.extend((0..10).map(|i| format!("{name}_{i}.out")));
    for file_name in variants {
        let path = expecteddir.join("expected").join(&file_name);
        let path = if path.is_file() { path } else { expecteddir.join(&file_name) };
        if let Ok(content) = std::fs::read(&path) {
            expected.push(ExpectedOutput { file_name, content: RawText::from(content) });
        }
    }
    let choice = pgfarm_diff::closest_expected_bytes(
        &actual,
        expected.iter().map(|e| e.content.as_bytes()),
        &pgfarm_diff::Options::default(),
    );
    let status = match (&choice, result_path.is_file()) {
        (_, false) => TestStatus::Error,
        (None, true) => TestStatus::Error,
        (Some(c), true) if c.matched => TestStatus::Ok,
        (Some(_), true) => TestStatus::Failed,
    };
    let reason = match (result_path.is_file(), expected.is_empty()) {
        (false, _) => Some(format!("no result file: looked for {}", result_path.display())),
        (true, true) => Some(format!(
            "no expected file for {name}: looked in {}",
            expecteddir.join("expected").display()
        )),
        _ => None,
    };
    Ok(RegressTest {
        name: name.to_owned(),
        group,
        status,
        duration_ms: duration_ms.unwrap_or(0),
        actual: RawText::from(actual),
        chosen_expected: choice.and_then(|c| expected.get(c.index)).map(|e| e.file_name.clone()),
        expected,
        psql_exit_code: None,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_killed_by_a_signal_is_a_crash_with_its_lines() {
        let log = "LOG:  checkpoint\nLOG:  server process (PID 42) was terminated by signal 11: Segmentation fault\nDETAIL:  Failed process was running: SELECT crash();\nLOG:  terminating any other active server processes\n";
        let crash = find_crash(log).unwrap();
        assert_eq!(crash.signal, Some(11));
        assert!(crash.summary().starts_with("server crashed (signal 11):\n"));
        assert!(crash.excerpt.contains("SELECT crash()"));
        assert!(find_crash("LOG:  database system is ready\n").is_none());
    }

    #[test]
    fn isolation_console_gives_durations_in_both_styles() {
        let d = console_durations(
            "ok 1         - predicate-rum                    27 ms\ntest insert-conflict ... ok          123 ms\n",
        );
        assert_eq!(d, [("predicate-rum".to_owned(), 27), ("insert-conflict".to_owned(), 123)]);
    }
}
