//! Running the scripts: each through psql (stdout read on a thread, stderr through a file),
//! `jobs` at a time, with the time-out and cancel flag, CPU times measured as prove does.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::judge::{FileResult, judge};
use super::options::{ProveOptions, Script, psql_command};
use crate::dbcopy::DbCopy;
use crate::error::Result;
use crate::pool::Pool;
use crate::process::{self, CancelFlag, Ended, Spawn};
use crate::steps::Connection;

/// CPU seconds as prove reports them (`( 0.03 usr  0.01 sys +  0.06 cusr  0.01 csys =  0.11 CPU)`):
/// this process's user and system time and its waited-for children's (psql), as deltas of
/// `getrusage` over a span. Like prove's figures under `-j`, they are process-wide: files
/// running at the same time share them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// `usr`: this process, user mode.
    pub user: f64,
    /// `sys`: this process, kernel mode.
    pub system: f64,
    /// `cusr`: waited-for children, user mode.
    pub children_user: f64,
    /// `csys`: waited-for children, kernel mode.
    pub children_system: f64,
}

impl CpuTimes {
    /// The process's counters now (zero where `getrusage` fails).
    pub fn now() -> CpuTimes {
        use nix::sys::resource::{UsageWho, getrusage};
        let seconds =
            |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1_000_000.0;
        let (user, system) = getrusage(UsageWho::RUSAGE_SELF)
            .map(|u| (seconds(u.user_time()), seconds(u.system_time())))
            .unwrap_or_default();
        let (children_user, children_system) = getrusage(UsageWho::RUSAGE_CHILDREN)
            .map(|u| (seconds(u.user_time()), seconds(u.system_time())))
            .unwrap_or_default();
        CpuTimes { user, system, children_user, children_system }
    }

    /// `self - earlier`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
            children_user: self.children_user - earlier.children_user,
            children_system: self.children_system - earlier.children_system,
        }
    }

    /// prove's rendering: `( 0.03 usr  0.01 sys +  0.06 cusr  0.01 csys =  0.11 CPU)`.
    pub fn render(&self) -> String {
        format!(
            "({:5.2} usr {:5.2} sys + {:5.2} cusr {:5.2} csys = {:5.2} CPU)",
            self.user,
            self.system,
            self.children_user,
            self.children_system,
            self.user + self.system + self.children_user + self.children_system
        )
    }
}

/// Progress of a prove run.
#[derive(Debug)]
pub enum ProveEvent<'a> {
    /// A script finished (events come in completion order).
    Finished(&'a FileResult),
}

/// The outcome of a prove run.
#[derive(Debug, Clone, Default)]
pub struct ProveReport {
    /// Results in completion order.
    pub files: Vec<FileResult>,
    /// Wall time.
    pub duration: Duration,
    /// True when interrupted before every file ran.
    pub interrupted: bool,
    /// CPU time of the whole run (the `Files=` line's figures).
    pub cpu: CpuTimes,
    /// Files the selection left out.
    pub deselected: Vec<String>,
    /// Files not started because `--fail-fast` tripped.
    pub not_run: Vec<String>,
    /// Why the run-wide `setup` or `teardown` steps failed (the run then fails).
    pub step_error: Option<String>,
}

impl ProveReport {
    /// True when every script passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.files.is_empty()
            && !self.interrupted
            && self.step_error.is_none()
            && self.files.iter().all(|f| f.passed)
    }

    /// Test points run in all files (prove's `Tests=`).
    pub fn n_tests(&self) -> u64 {
        self.files.iter().map(|f| f.summary.count).sum()
    }
}

/// The copy of `template` script `index` runs in with [`ProveOptions::isolate`], made through
/// a psql connected to the maintenance database as the scripts connect.
fn isolated_copy(options: &ProveOptions, template: &str, index: usize) -> DbCopy {
    let mut admin = Spawn::new(&options.psql).args(["--no-psqlrc", "--quiet"]);
    if let Some(host) = &options.host {
        admin = admin.arg("--host").arg(host);
    }
    if let Some(port) = options.port {
        admin = admin.arg("--port").arg(port.to_string());
    }
    if let Some(user) = &options.username {
        admin = admin.arg("--username").arg(user);
    }
    admin = admin.args(["--dbname", "postgres"]);
    DbCopy::new(admin, template, index, options.copy_strategy.clone())
}

/// Where pgfarm.toml steps of a prove run connect: the scripts' server, `database`.
fn step_connection(options: &ProveOptions, database: Option<&str>) -> Connection {
    Connection {
        psql: options.psql.clone(),
        host: options.host.clone(),
        port: options.port,
        user: options.username.clone(),
        database: database.or(options.dbname.as_deref()).unwrap_or("postgres").to_owned(),
        env: Vec::new(),
    }
}

/// Runs the scripts the selection keeps ([`super::choose`]), `jobs` at a time, reporting each
/// as it finishes; each between its `@setup` and `@teardown` steps, and all of them between
/// the run-wide ones with [`ProveOptions::run_wide_steps`] (teardown whatever happened).
pub fn run(
    options: &ProveOptions,
    scripts: &[Script],
    on_event: &mut dyn FnMut(ProveEvent<'_>),
) -> Result<ProveReport> {
    let started = Instant::now();
    let (scripts, deselected) = super::choose(options, scripts);
    let steps = &options.steps;
    let run_wide = options.run_wide_steps && !steps.setup.is_empty();
    let mut step_log = String::new();
    let mut step_error = None;
    if run_wide {
        let connection = step_connection(options, None);
        step_error = steps
            .run_setup(&steps.setup, &connection, &options.cancel, &mut step_log)
            .err()
            .map(|e| format!("setup {e}"));
    }
    let mut report = if step_error.is_some() {
        ProveReport {
            files: Vec::new(),
            duration: Duration::ZERO,
            interrupted: false,
            cpu: CpuTimes::default(),
            deselected: Vec::new(),
            not_run: scripts.iter().map(Script::name).collect(),
            step_error: None,
        }
    } else {
        run_selected(options, &scripts, on_event)?
    };
    if run_wide {
        let connection = step_connection(options, None);
        if let Err(err) = steps.run_teardown(&steps.teardown, &connection, &mut step_log) {
            step_error.get_or_insert(format!("teardown {err}"));
        }
    }
    report.deselected = deselected;
    report.step_error = step_error;
    report.duration = started.elapsed();
    Ok(report)
}

/// Runs `script` between the `@setup` and `@teardown` steps its header names, in `database`.
fn with_file_steps(
    options: &ProveOptions,
    script: &Script,
    database: Option<&str>,
    run: impl FnOnce() -> FileResult,
) -> FileResult {
    let Script::File(path) = script else { return run() };
    if options.steps.defs.is_empty() {
        return run();
    }
    let cwd = options.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let header = crate::select::read_header(&cwd.join(path), &cwd);
    let connection = step_connection(options, database);
    let mut log = String::new();
    let mut result =
        match options.steps.run_setup(&header.setup, &connection, &options.cancel, &mut log) {
            Ok(()) => run(),
            Err(err) => judge(
                script.name(),
                String::new(),
                format!("{log}pgfarm: @setup {err}\n"),
                None,
                false,
                Duration::ZERO,
            ),
        };
    if let Err(err) = options.steps.run_teardown(&header.teardown, &connection, &mut log) {
        result.stderr.push_str(&format!("{log}pgfarm: @teardown {err}\n"));
        result.passed = false;
    }
    result
}

fn run_selected(
    options: &ProveOptions,
    scripts: &[Script],
    on_event: &mut dyn FnMut(ProveEvent<'_>),
) -> Result<ProveReport> {
    let started = Instant::now();
    let cpu_at_start = CpuTimes::now();
    let template = options.dbname.as_deref().filter(|_| options.isolate);
    let run_one = |index: usize, script: &Script| -> Option<FileResult> {
        if options.fail_fast.is_tripped() {
            return None;
        }
        let result = run_one_script(options, template, index, script);
        if !result.passed {
            options.fail_fast.trip();
        }
        Some(result)
    };
    // prove reports files in the order they finish.
    let mut finished = Vec::with_capacity(scripts.len());
    let mut results = Pool::new(options.jobs).cancel_on(&options.cancel).run(
        scripts.iter().collect(),
        run_one,
        |index, result| {
            if let Some(result) = result {
                on_event(ProveEvent::Finished(result));
                finished.push(index);
            }
            ControlFlow::Continue(())
        },
    );
    let files: Vec<FileResult> =
        finished.iter().filter_map(|&index| results[index].take().flatten()).collect();
    let not_run: Vec<String> = scripts
        .iter()
        .enumerate()
        .filter(|(index, _)| !finished.contains(index))
        .map(|(_, script)| script.name())
        .collect();
    let interrupted = options.cancel.is_cancelled() && files.len() < scripts.len();
    let cpu = CpuTimes::now().since(&cpu_at_start);
    Ok(ProveReport {
        files,
        duration: started.elapsed(),
        interrupted,
        cpu,
        deselected: Vec::new(),
        not_run: if interrupted { Vec::new() } else { not_run },
        step_error: None,
    })
}

/// One script, in its own database copy with [`ProveOptions::isolate`].
fn run_one_script(
    options: &ProveOptions,
    template: Option<&str>,
    index: usize,
    script: &Script,
) -> FileResult {
    match template {
        // The copy is made in the job's thread, so making it overlaps the running scripts.
        Some(template) => {
            let copy = isolated_copy(options, template, index);
            match copy.create() {
                Ok(()) => {
                    let options =
                        ProveOptions { dbname: Some(copy.name().to_owned()), ..options.clone() };
                    let result = with_file_steps(&options, script, Some(copy.name()), || {
                        run_script(
                            &psql_command(&options, script),
                            script,
                            options.timeout,
                            &options.cancel,
                        )
                    });
                    copy.drop_copy();
                    result
                }
                Err(err) => judge(
                    script.name(),
                    String::new(),
                    format!("could not create the script's database: {err}\n"),
                    None,
                    false,
                    Duration::ZERO,
                ),
            }
        }
        None => with_file_steps(options, script, None, || {
            run_script(&psql_command(options, script), script, options.timeout, &options.cancel)
        }),
    }
}

fn run_script(
    spawn: &Spawn,
    script: &Script,
    timeout: Option<Duration>,
    cancel: &CancelFlag,
) -> FileResult {
    let started = Instant::now();
    let cpu_at_start = CpuTimes::now();
    let name = script.name();
    let mut stderr_file = tempfile_for_stderr();
    let child = spawn.start(
        Stdio::null(),
        Stdio::piped(),
        stderr_file.as_ref().map_or_else(Stdio::piped, |f| {
            f.try_clone().map(Stdio::from).unwrap_or_else(|_| Stdio::piped())
        }),
    );
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            return judge(name, String::new(), err.to_string(), None, false, started.elapsed());
        }
    };
    // Read stdout on a thread so a large TAP stream cannot fill the pipe and block psql.
    let stdout_reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut out, &mut buf);
            buf
        })
    });
    let ended = process::wait(&mut child, timeout.map(|t| started + t), Some(cancel));
    let stdout = stdout_reader.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = match stderr_file.as_mut() {
        Some(file) => {
            use std::io::{Read, Seek};
            let mut text = String::new();
            let _ = file.seek(std::io::SeekFrom::Start(0));
            let _ = file.read_to_string(&mut text);
            text
        }
        None => String::new(),
    };
    let (exit_code, timed_out) = match ended {
        Ok(Ended::Exited(status)) => (status.code(), false),
        Ok(Ended::TimedOut) => (None, true),
        Ok(Ended::Cancelled) | Err(_) => (None, false),
    };
    let mut result = judge(
        name,
        String::from_utf8_lossy(&stdout).into_owned(),
        stderr,
        exit_code,
        timed_out,
        started.elapsed(),
    );
    result.cpu = CpuTimes::now().since(&cpu_at_start);
    result
}

fn tempfile_for_stderr() -> Option<std::fs::File> {
    let path = std::env::temp_dir().join(format!(
        "pgfarm-prove-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .ok()?;
    let _ = std::fs::remove_file(&path);
    Some(file)
}
