//! Running the scripts: each through psql (stdout read on a thread, stderr through a file),
//! `jobs` at a time, with the time-out and cancel flag, CPU times measured as prove does.

use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::judge::{FileResult, judge};
use super::options::{ProveOptions, Script, psql_command};
use crate::error::Result;
use crate::process::{self, CancelFlag, Ended, Spawn};

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
#[derive(Debug, Clone)]
pub struct ProveReport {
    /// Results in completion order.
    pub files: Vec<FileResult>,
    /// Wall time.
    pub duration: Duration,
    /// True when interrupted before every file ran.
    pub interrupted: bool,
    /// CPU time of the whole run (the `Files=` line's figures).
    pub cpu: CpuTimes,
}

impl ProveReport {
    /// True when every script passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.files.is_empty() && !self.interrupted && self.files.iter().all(|f| f.passed)
    }

    /// Test points run in all files (prove's `Tests=`).
    pub fn n_tests(&self) -> u64 {
        self.files.iter().map(|f| f.summary.count).sum()
    }
}

/// The database copy a script runs in with [`ProveOptions::isolate`].
struct Isolated {
    /// psql running one SQL command in the maintenance database, connected as the scripts are.
    admin: Spawn,
    name: String,
    strategy: Option<String>,
}

impl Isolated {
    fn new(options: &ProveOptions, template: &str, index: usize) -> Isolated {
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
        admin = admin.args(["--dbname", "postgres", "--set", "ON_ERROR_STOP=1"]);
        Isolated {
            admin,
            name: format!("{template}_pgfarm_{index}"),
            strategy: options.copy_strategy.clone(),
        }
    }

    /// Runs the commands in one psql (each its own transaction, as `--command` gives them).
    fn run(&self, commands: &[String]) -> Result<()> {
        let mut spawn = self.admin.clone();
        for sql in commands {
            spawn = spawn.arg("--command").arg(sql);
        }
        spawn.output_ok().map(|_| ())
    }

    fn create(&self, template: &str) -> Result<()> {
        let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let strategy = self.strategy.as_ref().map(|s| format!(" STRATEGY {s}")).unwrap_or_default();
        self.run(&[
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(&self.name)),
            format!("CREATE DATABASE {} TEMPLATE {}{strategy}", quote(&self.name), quote(template)),
        ])
    }

    fn drop_copy(&self) {
        let name = self.name.replace('"', "\"\"");
        let _ = self.run(&[format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")]);
    }
}

/// Runs the scripts, `jobs` at a time, reporting each as it finishes.
pub fn run(
    options: &ProveOptions,
    scripts: &[Script],
    on_event: &mut dyn FnMut(ProveEvent<'_>),
) -> Result<ProveReport> {
    let started = Instant::now();
    let cpu_at_start = CpuTimes::now();
    let (sender, receiver) = mpsc::channel::<FileResult>();
    let mut next = 0;
    let mut running = 0;
    let mut files = Vec::new();
    let jobs = options.jobs.max(1);
    while next < scripts.len() || running > 0 {
        while running < jobs && next < scripts.len() && !options.cancel.is_cancelled() {
            let script = scripts[next].clone();
            next += 1;
            running += 1;
            let sender = sender.clone();
            let timeout = options.timeout;
            let cancel = options.cancel.clone();
            let isolated = match (&options.dbname, options.isolate) {
                (Some(template), true) => {
                    Some((Isolated::new(options, template, next - 1), template.clone()))
                }
                _ => None,
            };
            let spawn = match &isolated {
                Some((copy, _)) => psql_command(
                    &ProveOptions { dbname: Some(copy.name.clone()), ..options.clone() },
                    &script,
                ),
                None => psql_command(options, &script),
            };
            std::thread::spawn(move || {
                // The copy is made in this thread, so making it overlaps the running scripts.
                let result = match &isolated {
                    Some((copy, template)) => match copy.create(template) {
                        Ok(()) => {
                            let result = run_script(&spawn, &script, timeout, &cancel);
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
                    },
                    None => run_script(&spawn, &script, timeout, &cancel),
                };
                let _ = sender.send(result);
            });
        }
        if running == 0 {
            break;
        }
        let Ok(result) = receiver.recv() else { break };
        running -= 1;
        on_event(ProveEvent::Finished(&result));
        files.push(result);
    }
    let interrupted = options.cancel.is_cancelled() && files.len() < scripts.len();
    let cpu = CpuTimes::now().since(&cpu_at_start);
    Ok(ProveReport { files, duration: started.elapsed(), interrupted, cpu })
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
