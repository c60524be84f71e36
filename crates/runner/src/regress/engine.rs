//! The pg_regress run loop: schedules (parallel groups, batched by `--max-connections`) and
//! positional tests (serially, or `--jobs` at a time, each in its own copy of the prepared
//! database), psql started and waited for per test, the verdicts, the summary and the bail-outs.
//! Set-up is in `setup.rs`, result comparison in `compare.rs`.

use std::fs;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pgfarm_diff::Resultmap;

use super::bail::Bail;
use super::console::{ChildFailure, Console, ConsoleSink, Style, Verdict};
use super::diff_style::DiffStyle;
use super::{RegressOptions, RegressReport, TestReport, TestStatus};
use crate::dbcopy::DbCopy;
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::process::{self, CancelFlag, Ended, EnvChanges, Spawn};
use crate::schedule::{Dialect, Entry, Schedule};

/// Runs a pg_regress-compatible suite. Console output goes to `sink` as it happens; the
/// report carries the exit status pg_regress would have returned. `Err` is only returned
/// for problems pg_regress would also die on before printing anything useful; everything
/// else (a failing psql set-up command, a bad schedule line) is a bail-out inside the report.
pub fn run(options: &RegressOptions, sink: &mut dyn ConsoleSink) -> Result<RegressReport> {
    run_on(options, sink, Server::Existing)
}

/// Which server the tests run against, for the lines printed before the tests.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Server {
    /// A running server named by host/port (pg_regress prints `using postmaster on ...`).
    Existing,
    /// A temporary instance started for this run.
    Temp {
        /// Its port.
        port: u16,
        /// The postmaster's process id.
        pid: u32,
    },
}

pub(crate) fn run_on(
    options: &RegressOptions,
    sink: &mut dyn ConsoleSink,
    server: Server,
) -> Result<RegressReport> {
    let started = Instant::now();
    let mut console = Console::new(options.style, sink);
    if let Server::Temp { port, pid } = server {
        match options.style {
            Style::Classic => {
                console.header("creating temporary instance");
                console.header("initializing database system");
                console.header("starting postmaster");
                console.note(&format!("running on port {port} with PID {pid}"));
            }
            Style::Tap => {
                console.note("initializing database system by copying initdb template");
                console.note(&format!("using temp instance on port {port} with PID {pid}"));
            }
        }
    }
    let mut state = match Engine::prepare(options) {
        Ok(state) => state,
        Err(err) => return Ok(bail_report(&mut console, &Bail::Prepare(err), started)),
    };
    state.announce_existing = matches!(server, Server::Existing);
    let outcome = state.run_all(&mut console);
    // The run-wide teardown steps run whatever happened (a failure, a bail-out, Ctrl-C).
    let outcome = match (state.teardown(), outcome) {
        (Err(teardown), Ok(())) => Err(teardown),
        (_, outcome) => outcome,
    };
    state.finish(&mut console, outcome, started)
}

fn bail_report(console: &mut Console<'_>, bail: &Bail, started: Instant) -> RegressReport {
    let message = bail.to_string();
    console.bail(&message);
    RegressReport {
        tests: Vec::new(),
        exit_code: 2,
        bail: Some(message),
        diffs_file: None,
        log_file: None,
        duration: started.elapsed(),
        deselected: Vec::new(),
        not_run: Vec::new(),
    }
}

/// A run's state: set up in `setup.rs`, read by `compare.rs`.
pub(super) struct Engine<'o> {
    pub(super) options: &'o RegressOptions,
    pub(super) inputdir: PathBuf,
    pub(super) outputdir: PathBuf,
    pub(super) expecteddir: PathBuf,
    pub(super) psql: PathBuf,
    pub(super) env: EnvChanges,
    pub(super) resultmap: Option<Resultmap>,
    pub(super) diffs_file: PathBuf,
    pub(super) log_file: PathBuf,
    pub(super) ignore: Vec<String>,
    pub(super) tests: Vec<TestReport>,
    pub(super) dialect: Dialect,
    pub(super) group: u32,
    pub(super) announce_existing: bool,
    pub(super) diff_style: DiffStyle,
    /// Tests the selection left out.
    pub(super) deselected: Vec<String>,
    /// Tests `--fail-fast` kept from starting.
    pub(super) not_run: Vec<String>,
    /// The run-wide set-up steps started (so the teardown steps run).
    pub(super) setup_ran: bool,
}

impl<'o> Engine<'o> {
    pub(super) fn db(&self) -> &str {
        &self.options.dbnames[0]
    }

    /// Where pgfarm.toml steps connect: the tests' server and database.
    fn step_connection(&self, database: &str) -> crate::steps::Connection {
        crate::steps::Connection {
            psql: self.psql.clone(),
            host: None,
            port: None,
            user: None,
            database: database.to_owned(),
            env: self.env.clone(),
        }
    }

    /// The run-wide teardown steps, when their set-up started.
    fn teardown(&self) -> Result<(), Bail> {
        if !self.setup_ran {
            return Ok(());
        }
        let steps = &self.options.steps;
        let mut log = String::new();
        steps
            .run_teardown(&steps.teardown, &self.step_connection(self.db()), &mut log)
            .map_err(|e| Bail::Step(format!("teardown {e}")))
    }

    /// The tests of `names` the selection keeps (the others are recorded as deselected), or
    /// none when `--fail-fast` has tripped (they are recorded as not run).
    fn select(&mut self, names: &[String]) -> Vec<String> {
        let mut chosen = Vec::new();
        for name in names {
            let file = self.sql_file(name);
            let path = file.strip_prefix(&self.inputdir).unwrap_or(&file).display().to_string();
            let cwd = self.options.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
            match self.options.selection.choose(name, &path, Some(&file), &cwd) {
                crate::select::Choice::Selected => chosen.push(name.clone()),
                crate::select::Choice::Deselected(_) => self.deselected.push(name.clone()),
            }
        }
        if self.options.fail_fast.is_tripped() {
            self.not_run.extend(chosen);
            return Vec::new();
        }
        chosen
    }

    /// Runs set-up, schedules and positional tests.
    fn run_all(&mut self, console: &mut Console<'_>) -> Result<(), Bail> {
        self.set_up(console)?;
        if self.options.run_wide_steps && !self.options.steps.setup.is_empty() {
            self.setup_ran = true;
            let steps = &self.options.steps;
            let mut log = String::new();
            steps
                .run_setup(
                    &steps.setup,
                    &self.step_connection(self.db()),
                    &self.options.cancel,
                    &mut log,
                )
                .map_err(|e| Bail::Step(format!("setup {e}")))?;
        }
        console.header("running regression test queries");

        for schedule_path in &self.options.schedules {
            let text = fs::read_to_string(schedule_path)
                .map_err(|source| Bail::OpenForReading { path: schedule_path.clone(), source })?;
            let schedule = Schedule::parse(&text, self.dialect);
            let file = schedule_path.display().to_string();
            for entry in schedule.entries {
                if self.options.cancel.is_cancelled() {
                    return Err(Bail::Interrupted);
                }
                match entry {
                    Entry::Ignore { name } => self.ignore.push(name),
                    Entry::Invalid { error } => return Err(Bail::invalid_line(&error, &file)),
                    Entry::Group { line, text, tests } => {
                        if tests.len() > 1
                            && self.options.max_concurrent_tests > 0
                            && self.options.max_concurrent_tests < tests.len()
                        {
                            return Err(Bail::Process(Error::TooManyParallelTests {
                                max: self.options.max_concurrent_tests,
                                file: file.clone(),
                                line,
                                text,
                            }));
                        }
                        let tests = self.select(&tests);
                        if !tests.is_empty() {
                            self.run_group(console, &tests)?;
                        }
                    }
                }
            }
        }
        let positional = self.options.tests.clone();
        let positional = if self.options.selection.picks_tests() {
            self.select(&positional)
        } else {
            positional
        };
        if self.options.jobs > 1 && positional.len() > 1 {
            self.run_positional_parallel(console, &positional)?;
        } else {
            for name in &positional {
                if self.options.cancel.is_cancelled() {
                    return Err(Bail::Interrupted);
                }
                if self.options.fail_fast.is_tripped() {
                    self.not_run.push(name.clone());
                    continue;
                }
                self.run_group(console, std::slice::from_ref(name))?;
            }
        }
        Ok(())
    }

    fn sql_file(&self, name: &str) -> PathBuf {
        let in_output = self.outputdir.join("sql").join(format!("{name}.sql"));
        if in_output.is_file() {
            in_output
        } else {
            self.inputdir.join("sql").join(format!("{name}.sql"))
        }
    }

    /// How test `name` runs against database `db`: pg_regress's psql command line and files.
    fn launch(&self, name: &str, db: &str) -> Launch {
        let mut words: Vec<String> = self
            .options
            .launcher
            .as_deref()
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        words.push(self.psql.display().to_string());
        let spawn = Spawn::new(&words[0])
            .args(words[1..].iter())
            .args([
                "-X",
                "-a",
                "-q",
                "-d",
                db,
                "-v",
                "HIDE_TABLEAM=on",
                "-v",
                "HIDE_TOAST_COMPRESSION=on",
            ])
            .envs(&self.env)
            .env("PGAPPNAME", format!("pg_regress/{name}"));
        let spawn = match &self.options.cwd {
            Some(dir) => spawn.current_dir(dir),
            None => spawn,
        };
        Launch {
            name: name.to_owned(),
            spawn,
            infile: self.sql_file(name),
            outfile: self.outputdir.join("results").join(format!("{name}.out")),
            terminate: self.options.timeout.map(|_| self.terminate_command(name)),
        }
    }

    /// Runs one `test:` line (or one positional test) between the `@setup` and `@teardown`
    /// steps its tests' headers name (teardown whatever happened), and reports its results.
    fn run_group(&mut self, console: &mut Console<'_>, tests: &[String]) -> Result<(), Bail> {
        let steps = &self.options.steps;
        if steps.defs.is_empty() {
            return self.run_group_between_steps(console, tests, &[]);
        }
        let cwd = self.options.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
        let headers: Vec<crate::select::Header> = tests
            .iter()
            .map(|name| crate::select::read_header(&self.sql_file(name), &cwd))
            .collect();
        let connection = self.step_connection(self.db());
        let mut setup_errors = Vec::with_capacity(tests.len());
        for header in &headers {
            let mut log = String::new();
            setup_errors.push(
                steps.run_setup(&header.setup, &connection, &self.options.cancel, &mut log).err(),
            );
        }
        let outcome = self.run_group_between_steps(console, tests, &setup_errors);
        let mut teardown_error = None;
        for header in &headers {
            let mut log = String::new();
            if let Err(err) = steps.run_teardown(&header.teardown, &connection, &mut log) {
                teardown_error.get_or_insert(Bail::Step(format!("@teardown {err}")));
            }
        }
        match (outcome, teardown_error) {
            (Ok(()), Some(err)) => Err(err),
            (outcome, _) => outcome,
        }
    }

    /// [`Engine::run_group`]'s work: a test whose `@setup` failed (`setup_errors[i]`) does not
    /// start; its result file holds the step's error, so it fails.
    fn run_group_between_steps(
        &mut self,
        console: &mut Console<'_>,
        tests: &[String],
        setup_errors: &[Option<String>],
    ) -> Result<(), Bail> {
        let parallel = tests.len() > 1;
        let max_conn = self.options.max_connections;
        let batched = parallel && max_conn > 0 && max_conn < tests.len();
        if !parallel {
            console.start_single(&tests[0]);
        } else {
            console.start_group(tests.len(), batched.then_some(max_conn));
        }
        let batch_size = if batched { max_conn } else { tests.len() };
        let db = self.db().to_owned();
        let options = self.options;
        let mut finished: Vec<Option<Finished>> = vec![None; tests.len()];
        let mut outfiles = vec![PathBuf::new(); tests.len()];
        // pg_regress starts a batch, waits for all of it, then starts the next.
        for batch_start in (0..tests.len()).step_by(batch_size.max(1)) {
            let batch_end = (batch_start + batch_size).min(tests.len());
            let mut running: Vec<(usize, Launch, (Child, Instant))> =
                Vec::with_capacity(batch_end - batch_start);
            for idx in batch_start..batch_end {
                let launch = self.launch(&tests[idx], &db);
                if let Some(Some(error)) = setup_errors.get(idx) {
                    outfiles[idx] = launch.outfile.clone();
                    finished[idx] = Some(Finished::setup_failed(&launch.outfile, error));
                    continue;
                }
                let child = match launch.start() {
                    Ok(child) => child,
                    Err(bail) => {
                        // The run bails out: stop the tests of this batch already started.
                        for (_, _, (mut child, _)) in running {
                            let _ = child.kill();
                            let _ = child.wait();
                        }
                        return Err(bail);
                    }
                };
                outfiles[idx] = launch.outfile.clone();
                running.push((idx, launch, child));
            }
            let done = Pool::new(running.len()).run(
                running,
                |_, (idx, launch, child)| {
                    (idx, launch.wait(child, options.timeout, &options.cancel))
                },
                |_, (idx, _)| {
                    if parallel {
                        console.group_member_done(&tests[*idx]);
                    }
                    ControlFlow::Continue(())
                },
            );
            for (idx, done) in done.into_iter().flatten() {
                finished[idx] = Some(done);
            }
        }
        if parallel {
            console.end_group();
        }
        for (idx, name) in tests.iter().enumerate() {
            let done =
                finished[idx].clone().ok_or_else(|| Bail::WaitTest { name: name.clone() })?;
            self.report_test(console, name, &outfiles[idx], &done, parallel)?;
        }
        self.group += 1;
        if self.options.cancel.is_cancelled() {
            return Err(Bail::Interrupted);
        }
        Ok(())
    }

    fn terminate_command(&self, name: &str) -> Spawn {
        let sql = format!(
            "SELECT format('pid %s, state %s, wait_event %s/%s, for %s, query: %s', pid, state, \
             coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), \
             date_trunc('second', now() - query_start), left(query, 500)) \
             FROM pg_stat_activity, pg_terminate_backend(pid) \
             WHERE application_name = 'pg_regress/{}'",
            name.replace('\'', "''")
        );
        Spawn::new(&self.psql)
            .args(["-X", "-q", "-A", "-t", "-c", &sql, "postgres"])
            .envs(&self.env)
            .env("PGAPPNAME", "pgfarm")
    }

    fn report_test(
        &mut self,
        console: &mut Console<'_>,
        name: &str,
        outfile: &Path,
        done: &Finished,
        parallel: bool,
    ) -> Result<(), Bail> {
        let compared = self.compare(name, outfile)?;
        let ignored = self.ignore.iter().any(|n| n == name);
        let child = if done.timed_out {
            Some(ChildFailure::Timeout(self.options.timeout.map_or(0.0, |t| t.as_secs_f64())))
        } else {
            done.exit.clone()
        };
        let (verdict, status) = if done.timed_out {
            (Verdict::Failed, TestStatus::TimedOut)
        } else {
            match (self.options.style, compared.differ, child.is_some(), ignored) {
                (Style::Tap, _, true, _) | (Style::Tap, true, _, _) => {
                    (Verdict::Failed, TestStatus::Failed)
                }
                (Style::Classic, true, _, true) => {
                    (Verdict::FailedIgnored, TestStatus::FailedIgnored)
                }
                (Style::Classic, true, _, false) => (Verdict::Failed, TestStatus::Failed),
                _ => (Verdict::Ok, TestStatus::Passed),
            }
        };
        if status != TestStatus::Passed {
            self.options.fail_fast.trip();
        }
        console.test_result(name, verdict, child.as_ref(), done.millis, parallel);
        self.tests.push(TestReport {
            name: name.to_owned(),
            status,
            millis: done.millis,
            parallel,
            group: self.group,
            result_file: outfile.to_path_buf(),
            actual: compared.actual,
            expected: compared.expected,
            chosen: compared.chosen,
            diff: compared.diff,
            reason: done.setup_error.clone().or_else(|| {
                done.timed_out.then(|| {
                    let limit = self.options.timeout.map_or(0.0, |t| t.as_secs_f64());
                    match &done.activity {
                        Some(row) => format!("timed out after {limit} s; the backend was: {row}"),
                        None => format!("timed out after {limit} s"),
                    }
                })
            }),
            child_failure: child,
        });
        Ok(())
    }

    /// `--jobs N` for positional tests: each test in its own copy of the prepared database,
    /// N at a time, reported in the given order.
    fn run_positional_parallel(
        &mut self,
        console: &mut Console<'_>,
        tests: &[String],
    ) -> Result<(), Bail> {
        let db = self.db().to_owned();
        let admin = Spawn::new(&self.psql)
            .args(["-X", "-q", "-d", "postgres"])
            .envs(&self.env)
            .env("PGAPPNAME", "pgfarm");
        let jobs: Vec<(DbCopy, Launch)> = tests
            .iter()
            .enumerate()
            .map(|(idx, name)| {
                let copy = DbCopy::new(admin.clone(), &db, idx, None);
                let launch = self.launch(name, copy.name());
                (copy, launch)
            })
            .collect();
        let options = self.options;
        let mut bail = None;
        let cwd = options.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
        let (psql, env) = (self.psql.clone(), self.env.clone());
        let mut not_run = Vec::new();
        Pool::new(options.jobs).cancel_on(&options.cancel).run_in_order(
            jobs,
            |_, (copy, launch)| -> Result<Option<(Launch, Finished)>, Bail> {
                if options.fail_fast.is_tripped() {
                    return Ok(None);
                }
                copy.create()?;
                let header = if options.steps.defs.is_empty() {
                    crate::select::Header::default()
                } else {
                    crate::select::read_header(&launch.infile, &cwd)
                };
                let connection = crate::steps::Connection {
                    psql: psql.clone(),
                    host: None,
                    port: None,
                    user: None,
                    database: copy.name().to_owned(),
                    env: env.clone(),
                };
                let mut log = String::new();
                let finished = match options.steps.run_setup(
                    &header.setup,
                    &connection,
                    &options.cancel,
                    &mut log,
                ) {
                    Err(error) => Ok(Finished::setup_failed(&launch.outfile, &error)),
                    Ok(()) => launch
                        .start()
                        .map(|child| launch.wait(child, options.timeout, &options.cancel)),
                };
                let teardown = options.steps.run_teardown(&header.teardown, &connection, &mut log);
                copy.drop_copy();
                teardown.map_err(|e| Bail::Step(format!("@teardown {e}")))?;
                Ok(Some((launch, finished?)))
            },
            |idx, result| {
                let reported = result.and_then(|ran| {
                    let Some((launch, finished)) = ran else {
                        not_run.push(tests[idx].clone());
                        return Ok(());
                    };
                    console.start_single(&launch.name);
                    self.report_test(console, &launch.name, &launch.outfile, &finished, false)?;
                    self.group += 1;
                    Ok(())
                });
                match reported {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(err) => {
                        bail = Some(err);
                        ControlFlow::Break(())
                    }
                }
            },
        );
        self.not_run.extend(not_run);
        match bail {
            Some(err) => Err(err),
            None if self.options.cancel.is_cancelled() => Err(Bail::Interrupted),
            None => Ok(()),
        }
    }

    fn finish(
        self,
        console: &mut Console<'_>,
        outcome: Result<(), Bail>,
        started: Instant,
    ) -> Result<RegressReport> {
        let has_diffs = fs::metadata(&self.diffs_file).map(|m| m.len() > 0).unwrap_or(false);
        let bail = outcome.err().map(|bail| bail.to_string());
        if let Some(message) = &bail {
            console.bail(message);
        } else {
            console.summary(
                has_diffs,
                &self.diffs_file.display().to_string(),
                &self.log_file.display().to_string(),
            );
        }
        let log = console.log().to_owned();
        fs::write(&self.log_file, log)
            .map_err(|e| Error::io("could not write", &self.log_file, e))?;
        let keep = has_diffs || bail.is_some();
        if !keep {
            let _ = fs::remove_file(&self.diffs_file);
            let _ = fs::remove_file(&self.log_file);
        }
        Ok(RegressReport {
            exit_code: if bail.is_some() { 2 } else { console.exit_code() },
            bail,
            tests: self.tests,
            diffs_file: keep.then(|| self.diffs_file.clone()),
            log_file: keep.then(|| self.log_file.clone()),
            duration: started.elapsed(),
            deselected: self.deselected,
            not_run: self.not_run,
        })
    }
}

/// One test's psql, ready to start: the command, its input and output files, and (with a
/// time-out) the query that ends its backend.
struct Launch {
    name: String,
    spawn: Spawn,
    infile: PathBuf,
    outfile: PathBuf,
    terminate: Option<Spawn>,
}

impl Launch {
    /// Starts psql with stdin from the sql file and stdout+stderr into the result file.
    /// Returns the child and when it started (its duration and time-out count from there).
    fn start(&self) -> Result<(Child, Instant), Bail> {
        if let Some(parent) = self.outfile.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let input = fs::File::open(&self.infile)
            .map_err(|source| Bail::OpenForReading { path: self.infile.clone(), source })?;
        let output = fs::File::create(&self.outfile)
            .map_err(|source| Bail::OpenForWriting { path: self.outfile.clone(), source })?;
        let output2 = output.try_clone().map_err(Bail::DuplicateHandle)?;
        self.spawn
            .start(Stdio::from(input), Stdio::from(output), Stdio::from(output2))
            .map(|child| (child, Instant::now()))
            .map_err(|_| Bail::StartTest { name: self.name.clone() })
    }

    /// Waits for the test's psql, killing it after `timeout` or when `cancel` is set (and then
    /// ending its backend, keeping what pg_stat_activity said of it).
    fn wait(
        &self,
        (mut child, started): (Child, Instant),
        timeout: Option<Duration>,
        cancel: &CancelFlag,
    ) -> Finished {
        let deadline = timeout.map(|t| started + t);
        let ended = process::wait(&mut child, deadline, Some(cancel));
        let mut activity = None;
        if matches!(ended, Ok(Ended::TimedOut) | Ok(Ended::Cancelled))
            && let Some(spawn) = &self.terminate
        {
            // The server keeps running the statement after psql dies; end it too.
            activity = spawn
                .output()
                .ok()
                .map(|(_, out, _)| out.trim().to_owned())
                .filter(|row| !row.is_empty());
        }
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        match ended {
            Ok(Ended::Exited(status)) => Finished {
                exit: child_failure(status),
                timed_out: false,
                millis,
                activity,
                setup_error: None,
            },
            Ok(Ended::TimedOut) | Ok(Ended::Cancelled) | Err(_) => {
                Finished { exit: None, timed_out: true, millis, activity, setup_error: None }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Finished {
    exit: Option<ChildFailure>,
    timed_out: bool,
    millis: f64,
    /// The test's backend as `pg_stat_activity` showed it when the time-out killed it.
    activity: Option<String>,
    /// Why its `@setup` steps failed (psql was not started).
    setup_error: Option<String>,
}

impl Finished {
    /// A test whose `@setup` failed: its result file gets the error (so it differs from every
    /// expected file), and psql counts as having exited with 3.
    fn setup_failed(outfile: &Path, error: &str) -> Finished {
        if let Some(parent) = outfile.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = fs::write(outfile, format!("pgfarm: @setup {error}\n"));
        Finished {
            exit: Some(ChildFailure::Exit(3)),
            timed_out: false,
            millis: 0.0,
            activity: None,
            setup_error: Some(format!("@setup {error}")),
        }
    }
}

fn child_failure(status: std::process::ExitStatus) -> Option<ChildFailure> {
    use std::os::unix::process::ExitStatusExt;
    if status.success() {
        return None;
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => Some(ChildFailure::Exit(code)),
        (None, Some(sig)) => Some(ChildFailure::Signal(sig, signal_name(sig).to_owned())),
        _ => Some(ChildFailure::Exit(-1)),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "Hangup",
        2 => "Interrupt",
        3 => "Quit",
        6 => "Aborted",
        9 => "Killed",
        11 => "Segmentation fault",
        13 => "Broken pipe",
        15 => "Terminated",
        _ => "Unknown signal",
    }
}

#[cfg(test)]
mod tests {
    //! Bail-outs that need no server: their messages reach the report and the console
    //! exactly as `Bail`'s `Display` writes them.

    use super::*;
    use crate::regress::Stream;

    fn run_in(dir: &Path, options: RegressOptions) -> (RegressReport, String) {
        let options = RegressOptions {
            inputdir: dir.to_path_buf(),
            outputdir: dir.to_path_buf(),
            use_existing: true,
            ..options
        };
        let mut console = String::new();
        let mut sink = |_: Stream, text: &str| console.push_str(text);
        let report = run(&options, &mut sink).expect("the run is carried out");
        (report, console)
    }

    #[test]
    fn a_missing_schedule_bails_out_with_pg_regress_message() {
        let dir = tempfile::tempdir().unwrap();
        let schedule = dir.path().join("missing_schedule");
        let (report, console) = run_in(
            dir.path(),
            RegressOptions { schedules: vec![schedule.clone()], ..Default::default() },
        );
        let message = format!(
            "could not open file \"{}\" for reading: No such file or directory (os error 2)",
            schedule.display()
        );
        assert_eq!(report.exit_code, 2);
        assert_eq!(report.bail.as_deref(), Some(message.as_str()));
        assert!(console.contains(&message), "{console}");
        // regression.out is kept on a bail-out, with the message in it.
        let log = fs::read_to_string(report.log_file.expect("kept")).unwrap();
        assert!(log.contains(&message), "{log}");
    }

    #[test]
    fn a_bad_schedule_line_bails_out_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let schedule = dir.path().join("schedule");
        fs::write(&schedule, "# comment\ntset: a\n").unwrap();
        let (report, _) = run_in(
            dir.path(),
            RegressOptions { schedules: vec![schedule.clone()], ..Default::default() },
        );
        assert_eq!(
            report.bail,
            Some(format!(
                "syntax error in schedule file \"{}\" line 2: tset: a",
                schedule.display()
            ))
        );
    }

    #[test]
    fn a_missing_sql_file_bails_out_before_psql_starts() {
        let dir = tempfile::tempdir().unwrap();
        let (report, _) =
            run_in(dir.path(), RegressOptions { tests: vec!["nope".into()], ..Default::default() });
        let sql = dir.path().join("sql/nope.sql");
        assert_eq!(
            report.bail,
            Some(format!(
                "could not open file \"{}\" for reading: No such file or directory (os error 2)",
                sql.display()
            ))
        );
        assert!(report.tests.is_empty());
    }

    #[test]
    fn no_database_name_bails_out_before_set_up() {
        let dir = tempfile::tempdir().unwrap();
        let (report, console) =
            run_in(dir.path(), RegressOptions { dbnames: Vec::new(), ..Default::default() });
        assert_eq!(report.bail.as_deref(), Some("no database name was specified"));
        assert!(console.contains("no database name was specified"), "{console}");
    }
}
