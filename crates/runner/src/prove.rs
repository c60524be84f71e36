//! `pgfarm prove`: pgTAP test files run through psql exactly as pg_prove runs them, their TAP
//! parsed with `pgfarm-tap-parser` in pgTAP mode, judged as TAP::Harness judges them, and
//! summarised in prove's words (`All tests successful.`, `Files=.., Tests=..`, `Result: PASS`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pgfarm_tap_parser::{Options as TapOptions, Parser, Summary, summarize};

use crate::error::{Error, Result};
use crate::process::{self, CancelFlag, Ended, Spawn};

/// pg_prove's options that matter, plus pgfarm's timeout and cancel flag.
#[derive(Debug, Clone)]
pub struct ProveOptions {
    /// Test files and directories (directories are searched for `ext` files; with
    /// `recurse`, their subdirectories too). Ignored with `runtests`.
    pub paths: Vec<PathBuf>,
    /// `-r`: search directories recursively.
    pub recurse: bool,
    /// `--ext`: file extensions searched in directories (default `.pg`).
    pub ext: Vec<String>,
    /// `-d`.
    pub dbname: Option<String>,
    /// `-U`.
    pub username: Option<String>,
    /// `-h`.
    pub host: Option<String>,
    /// `-p`.
    pub port: Option<u16>,
    /// `--psql-bin`: the psql to run (default `psql` on PATH).
    pub psql: PathBuf,
    /// `-j`: files run at once.
    pub jobs: usize,
    /// `--runtests`: run `SELECT * FROM runtests(..)` instead of files.
    pub runtests: bool,
    /// `-s`: the schema given to runtests().
    pub schema: Option<String>,
    /// `-x`: the function name pattern given to runtests().
    pub match_pattern: Option<String>,
    /// `--shuffle`: run files in random order.
    pub shuffle: bool,
    /// `-S name=value`: psql variables (`--set`).
    pub set: Vec<String>,
    /// `-P name=value`: psql print options (`--pset`), after pg_prove's own.
    pub pset: Vec<String>,
    /// pgfarm: kill a file's psql after this long; the file fails.
    pub timeout: Option<Duration>,
    /// Stops the run when set.
    pub cancel: CancelFlag,
    /// The directory psql runs in (relative file paths resolve against it).
    pub cwd: Option<PathBuf>,
    /// pgfarm: run each script in its own database, a copy of `dbname` made with
    /// `CREATE DATABASE "DBNAME_pgfarm_N" TEMPLATE "DBNAME"` (through the maintenance database
    /// `postgres`) just before the script starts and dropped when it ends, so scripts running
    /// at once (`jobs`) cannot see or lock each other's objects. Needs `dbname`; a script
    /// whose output names its database sees the copy's name.
    pub isolate: bool,
    /// pgfarm: `STRATEGY` of the [`isolate`](ProveOptions::isolate) copies (PostgreSQL 15+;
    /// `FILE_COPY` copies a small database faster than the default `WAL_LOG` where
    /// checkpoints are cheap, as on a throwaway server).
    pub copy_strategy: Option<String>,
}

impl Default for ProveOptions {
    fn default() -> ProveOptions {
        ProveOptions {
            paths: Vec::new(),
            recurse: false,
            ext: vec![".pg".into()],
            dbname: None,
            username: None,
            host: None,
            port: None,
            psql: PathBuf::from("psql"),
            jobs: 1,
            runtests: false,
            schema: None,
            match_pattern: None,
            shuffle: false,
            set: Vec::new(),
            pset: Vec::new(),
            timeout: None,
            cancel: CancelFlag::new(),
            cwd: None,
            isolate: false,
            copy_strategy: None,
        }
    }
}

/// What to run: a file, or a runtests() call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// A test file.
    File(PathBuf),
    /// `SELECT * FROM runtests(..)`, shown under this name (pg_prove's: `runtests('unit'::name);`).
    Runtests {
        /// The name prove shows.
        name: String,
        /// The SQL run.
        sql: String,
    },
}

impl Script {
    /// The name shown in output and reports.
    pub fn name(&self) -> String {
        match self {
            Script::File(path) => path.display().to_string(),
            Script::Runtests { name, .. } => name.clone(),
        }
    }
}

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

/// One finished script.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The name shown.
    pub name: String,
    /// psql's standard output: the TAP stream.
    pub stdout: String,
    /// psql's standard error.
    pub stderr: String,
    /// psql's exit code; `None` when killed (timeout, signal, cancel).
    pub exit_code: Option<i32>,
    /// True when killed after the timeout.
    pub timed_out: bool,
    /// Wall time.
    pub duration: Duration,
    /// The parsed TAP verdict and counts.
    pub summary: Summary,
    /// Prove's verdict: all planned tests ran and passed, psql exited with 0.
    pub passed: bool,
    /// Ids of failed tests, including ones outside the plan (as TAP::Harness counts them).
    pub failed_ids: Vec<u64>,
    /// TAP::Harness's parse errors ("Bad plan.  You planned 5 tests but ran 3.", "No plan found in TAP output").
    pub parse_errors: Vec<String>,
    /// Top-level TODO tests that passed (prove's `TODO passed:` line).
    pub todo_passed: Vec<u64>,
    /// CPU time used while the script ran (prove's `--timer` figures).
    pub cpu: CpuTimes,
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

/// The scripts a run would execute, in order (`--dry` prints these).
pub fn plan(options: &ProveOptions) -> Result<Vec<Script>> {
    if options.runtests {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let args = match (&options.schema, &options.match_pattern) {
            (Some(schema), Some(pattern)) => format!("{}::name, {}", quote(schema), quote(pattern)),
            (Some(schema), None) => format!("{}::name", quote(schema)),
            (None, Some(pattern)) => quote(pattern),
            (None, None) => String::new(),
        };
        return Ok(vec![Script::Runtests {
            name: format!("runtests({args});"),
            sql: format!("SELECT * FROM runtests({args});"),
        }]);
    }
    let mut scripts = Vec::new();
    let paths =
        if options.paths.is_empty() { vec![PathBuf::from("test")] } else { options.paths.clone() };
    for path in &paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect(path, options, &mut found)?;
            found.sort();
            scripts.extend(found.into_iter().map(Script::File));
        } else if path.is_file() {
            scripts.push(Script::File(path.clone()));
        } else {
            return Err(Error::Usage(format!("cannot detect source of '{}'", path.display())));
        }
    }
    if options.shuffle {
        shuffle(&mut scripts);
    }
    Ok(scripts)
}

fn collect(dir: &Path, options: &ProveOptions, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io("could not read directory", dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if options.recurse {
                collect(&path, options, out)?;
            }
        } else if options.ext.iter().any(|ext| path.to_string_lossy().ends_with(ext.as_str())) {
            out.push(path);
        }
    }
    Ok(())
}

/// A Fisher-Yates shuffle seeded from the clock (no rand dependency needed for this).
fn shuffle<T>(items: &mut [T]) {
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// The psql command pg_prove (TAP::Parser::SourceHandler::pgTAP) runs for a script.
pub fn psql_command(options: &ProveOptions, script: &Script) -> Spawn {
    let mut spawn = Spawn::new(&options.psql).args([
        "--no-psqlrc",
        "--no-align",
        "--quiet",
        "--pset",
        "pager=off",
        "--pset",
        "tuples_only=true",
        "--set",
        "ON_ERROR_STOP=1",
    ]);
    for pset in &options.pset {
        spawn = spawn.arg("--pset").arg(pset);
    }
    if let Some(host) = &options.host {
        spawn = spawn.arg("--host").arg(host);
    }
    if let Some(port) = options.port {
        spawn = spawn.arg("--port").arg(port.to_string());
    }
    if let Some(user) = &options.username {
        spawn = spawn.arg("--username").arg(user);
    }
    if let Some(db) = &options.dbname {
        spawn = spawn.arg("--dbname").arg(db);
    }
    for set in &options.set {
        spawn = spawn.arg("--set").arg(set);
    }
    if let Some(dir) = &options.cwd {
        spawn = spawn.current_dir(dir);
    }
    match script {
        Script::File(path) => spawn.arg("--file").arg(path),
        Script::Runtests { sql, .. } => spawn.arg("--command").arg(sql),
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

/// Parses a script's TAP and applies TAP::Harness's rules.
pub fn judge(
    name: String,
    stdout: String,
    stderr: String,
    exit_code: Option<i32>,
    timed_out: bool,
    duration: Duration,
) -> FileResult {
    let summary = summarize(Parser::with_options(&stdout, TapOptions::pgtap()));
    let mut failed_ids: Vec<u64> = summary.failures.iter().map(|f| f.id).collect();
    let mut parse_errors = Vec::new();
    match &summary.plan {
        None => parse_errors.push("No plan found in TAP output".to_owned()),
        Some(plan) if !plan.skip_all => {
            let planned = plan.end.saturating_sub(plan.start) + 1;
            if summary.count != planned {
                parse_errors.push(format!(
                    "Bad plan.  You planned {planned} tests but ran {}.",
                    summary.count
                ));
            }
            // Test points past the plan count as failed (prove's "Failed tests: 3-4").
            for id in (plan.end + 1)..=summary.count.max(plan.end) {
                if id > plan.end && !failed_ids.contains(&id) {
                    failed_ids.push(id);
                }
            }
        }
        Some(_) => {}
    }
    failed_ids.sort_unstable();
    let mut todo_passed = Vec::new();
    let mut depth = 0usize;
    for event in Parser::with_options(&stdout, TapOptions::pgtap()) {
        match event {
            pgfarm_tap_parser::Event::SubtestStart(_) => depth += 1,
            pgfarm_tap_parser::Event::SubtestEnd(_) => depth = depth.saturating_sub(1),
            pgfarm_tap_parser::Event::TestPoint(point)
                if depth == 0
                    && point.ok
                    && point
                        .directive
                        .as_ref()
                        .is_some_and(|d| d.kind == pgfarm_tap_parser::DirectiveKind::Todo) =>
            {
                todo_passed.push(point.number);
            }
            _ => {}
        }
    }
    let passed = exit_code == Some(0)
        && !timed_out
        && summary.bailout.is_none()
        && failed_ids.is_empty()
        && parse_errors.is_empty()
        && summary.fail == 0;
    FileResult {
        name,
        stdout,
        stderr,
        exit_code,
        timed_out,
        duration,
        summary,
        passed,
        failed_ids,
        parse_errors,
        todo_passed,
        cpu: CpuTimes::default(),
    }
}

/// The lines prove prints for a finished file after its name and dots: the failure
/// diagnostics (pgTAP `#` lines) and the verdict (`ok`, `Failed 2/5 subtests`, `Dubious, ...`).
///
/// A passing file with nothing to show reads `name .. ok` on one line, as prove prints it;
/// otherwise the diagnostics start on the next line. With `timer`, the line starts with the
/// wall-clock time (`[14:02:33] `, UTC) and an `ok` carries prove's time report
/// (`ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)`).
pub fn render_file(result: &FileResult, width: usize, verbose: bool, timer: bool) -> String {
    let mut out = String::new();
    let dots = ".".repeat(width.saturating_sub(result.name.chars().count()) + 2);
    if timer {
        let _ = write!(out, "{} ", clock_stamp());
    }
    let _ = write!(out, "{} {dots} ", result.name);
    let shown: Vec<&str> = result
        .stdout
        .lines()
        .filter(|line| !line.is_empty() && (verbose || line.starts_with('#')))
        .collect();
    let show_stderr = !result.stderr.is_empty() && !result.passed;
    if result.passed && shown.is_empty() {
        out.push_str("ok");
        if timer {
            let _ = write!(out, " {:8} ms {}", result.duration.as_millis(), result.cpu.render());
        }
        out.push('\n');
        return out;
    }
    out.push('\n');
    if show_stderr {
        out.push_str(&result.stderr);
        if !result.stderr.ends_with('\n') {
            out.push('\n');
        }
    }
    for line in shown {
        out.push_str(line);
        out.push('\n');
    }
    if result.passed {
        out.push_str("ok");
        if timer {
            let _ = write!(out, " {:8} ms {}", result.duration.as_millis(), result.cpu.render());
        }
        out.push('\n');
        return out;
    }
    if result.timed_out {
        out.push_str("Timed out (killed by pgfarm)\n");
    } else if let Some(code) = result.exit_code.filter(|c| *c != 0) {
        let wstat = code << 8;
        let _ = writeln!(out, "Dubious, test returned {code} (wstat {wstat}, 0x{wstat:x})");
    } else if result.exit_code.is_none() {
        out.push_str("Dubious, test was killed\n");
    }
    let planned = result
        .summary
        .plan
        .as_ref()
        .map(|p| p.end.saturating_sub(p.start) + 1)
        .unwrap_or(result.summary.count);
    let missing = planned.saturating_sub(result.summary.count);
    let failed_in_plan =
        result.failed_ids.iter().filter(|id| **id <= planned).count() as u64 + missing;
    if failed_in_plan > 0 {
        let _ = writeln!(out, "Failed {failed_in_plan}/{planned} subtests ");
    } else if planned > 0 {
        let _ = writeln!(out, "All {planned} subtests passed ");
    } else {
        out.push_str("No subtests run \n");
    }
    out
}

/// `[HH:MM:SS]` now, in UTC (prove prints local time; pgfarm does not read the time zone).
pub fn clock_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("[{:02}:{:02}:{:02}]", now.hour(), now.minute(), now.second())
}

/// `2-3, 5, 8, 10-12, 14`.
pub fn id_ranges(ids: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut idx = 0;
    while idx < ids.len() {
        let start = ids[idx];
        let mut end = start;
        while idx + 1 < ids.len() && ids[idx + 1] == end + 1 {
            idx += 1;
            end = ids[idx];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        idx += 1;
    }
    parts.join(", ")
}

/// prove's closing report: `Test Summary Report` for failed files, `Files=.., Tests=..`, and
/// `Result: PASS` / `Result: FAIL` (or `All tests successful.` first when all passed).
///
/// With `timer`, prove's closing `[HH:MM:SS]` line comes first.
pub fn render_summary(report: &ProveReport, timer: bool) -> String {
    let mut out = String::new();
    if timer {
        out.push_str(&clock_stamp());
        out.push('\n');
    }
    let failed: Vec<&FileResult> = report.files.iter().filter(|f| !f.passed).collect();
    // TAP::Harness lists failed files and files with passing TODO tests.
    let listed: Vec<&FileResult> =
        report.files.iter().filter(|f| !f.passed || !f.todo_passed.is_empty()).collect();
    if failed.is_empty() && !report.files.is_empty() && !report.interrupted {
        out.push_str("All tests successful.\n");
    }
    if !failed.is_empty() {
        out.push_str("\nTest Summary Report\n-------------------\n");
        // TAP::Harness pads names to one less than the longest, then writes " (Wstat".
        let width = report.files.iter().map(|f| f.name.chars().count()).max().unwrap_or(1) - 1;
        for file in listed {
            let wstat = match file.exit_code {
                Some(0) => "0".to_owned(),
                Some(code) => format!("{} (exited {code})", code << 8),
                None => "9 (killed)".to_owned(),
            };
            let n_failed = file.failed_ids.len();
            let _ = writeln!(
                out,
                "{:<width$} (Wstat: {wstat} Tests: {} Failed: {n_failed})",
                file.name, file.summary.count
            );
            if n_failed > 0 {
                let label = if n_failed == 1 { "Failed test:" } else { "Failed tests:" };
                let _ = writeln!(out, "  {label}  {}", id_ranges(&file.failed_ids));
            }
            if !file.todo_passed.is_empty() {
                let _ = writeln!(out, "  TODO passed:   {}", id_ranges(&file.todo_passed));
            }
            if let Some(code) = file.exit_code.filter(|c| *c != 0) {
                let _ = writeln!(out, "  Non-zero exit status: {code}");
            }
            if file.timed_out {
                out.push_str("  Timed out\n");
            }
            for error in &file.parse_errors {
                let _ = writeln!(out, "  Parse errors: {error}");
            }
        }
    }
    if report.interrupted {
        out.push_str("Interrupted.\n");
    }
    let _ = writeln!(
        out,
        "Files={}, Tests={}, {:>2} wallclock secs {}",
        report.files.len(),
        report.n_tests(),
        report.duration.as_secs(),
        report.cpu.render()
    );
    out.push_str(if report.passed() { "Result: PASS\n" } else { "Result: FAIL\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGTAP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/tap/pgtap");

    fn corpus_result(stem: &str) -> FileResult {
        let read = |ext: &str| {
            std::fs::read_to_string(format!("{PGTAP}/tap/{stem}.{ext}")).expect("corpus missing")
        };
        let code: i32 = read("exitcode").trim().parse().unwrap();
        judge(
            format!("sql/{stem}.sql"),
            read("tap"),
            read("stderr"),
            Some(code),
            false,
            Duration::ZERO,
        )
    }

    /// pg_prove's verdict per file, from pg_prove-summary.txt: a file passed when its block
    /// ends with a line that is exactly `ok` (03 and 08); every other ending is a failure.
    #[test]
    fn verdicts_match_pg_prove_on_the_corpus() {
        let summary = std::fs::read_to_string(format!("{PGTAP}/pg_prove-summary.txt")).unwrap();
        let report_start = summary.find("Test Summary Report").unwrap();
        let mut expected = Vec::new();
        let mut current: Option<String> = None;
        for line in summary[..report_start].lines() {
            if let Some(name) = line.strip_prefix("sql/").and_then(|l| l.split(".sql ").next())
                && line.contains(".sql ..")
            {
                current = Some(name.to_owned());
                continue;
            }
            let verdict_line =
                line == "ok" || line.starts_with("Failed ") || line.starts_with("All ");
            if verdict_line && let Some(name) = current.take() {
                expected.push((name, line == "ok"));
            }
        }
        assert_eq!(expected.len(), 11, "{expected:?}");
        for (stem, passed) in expected {
            assert_eq!(corpus_result(&stem).passed, passed, "{stem}");
        }
    }

    #[test]
    fn failed_ids_and_plan_errors_match_pg_prove() {
        assert_eq!(
            id_ranges(&corpus_result("01-basic-pass-fail").failed_ids),
            "2-3, 5, 8, 10-12, 14"
        );
        let r05 = corpus_result("05-plan-mismatch");
        assert_eq!(r05.parse_errors, ["Bad plan.  You planned 5 tests but ran 3."]);
        assert!(render_file(&r05, 30, false, false).ends_with("Failed 2/5 subtests \n"));
        let r09 = corpus_result("09-died-midway");
        assert!(
            render_file(&r09, 30, false, false)
                .contains("Dubious, test returned 3 (wstat 768, 0x300)\nFailed 2/4 subtests \n")
        );
        let r10 = corpus_result("10-too-many");
        assert_eq!(id_ranges(&r10.failed_ids), "3-4");
        assert!(render_file(&r10, 30, false, false).ends_with("All 2 subtests passed \n"));
    }

    #[test]
    fn summary_report_names_failed_files_and_totals() {
        let files: Vec<FileResult> = ["01-basic-pass-fail", "03-skip-todo-diag", "09-died-midway"]
            .iter()
            .map(|s| corpus_result(s))
            .collect();
        let report = ProveReport {
            files,
            duration: Duration::from_secs(1),
            interrupted: false,
            cpu: CpuTimes::default(),
        };
        let text = render_summary(&report, false);
        assert!(text.contains("sql/01-basic-pass-fail.sql (Wstat: 0 Tests: 14 Failed: 8)\n  Failed tests:  2-3, 5, 8, 10-12, 14\n"), "{text}");
        assert!(text.contains("sql/09-died-midway.sql    (Wstat: 768 (exited 3) Tests: 2 Failed: 0)\n  Non-zero exit status: 3\n  Parse errors: Bad plan.  You planned 4 tests but ran 2.\n"), "{text}");
        assert!(
            text.ends_with("Files=3, Tests=25,  1 wallclock secs ( 0.00 usr  0.00 sys +  0.00 cusr  0.00 csys =  0.00 CPU)\nResult: FAIL\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "sql/03-skip-todo-diag.sql (Wstat: 0 Tests: 9 Failed: 0)\n  TODO passed:   6\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn file_line_is_padded_with_dots_like_prove() {
        let r = corpus_result("03-skip-todo-diag");
        let text = render_file(&r, "sql/11-psql-default-format.sql".len(), false, false);
        assert!(text.starts_with("sql/03-skip-todo-diag.sql ....... \n"), "{text}");
        assert!(text.ends_with("ok\n"));
    }

    #[test]
    fn a_clean_pass_reads_ok_on_the_name_line_and_timer_adds_prove_time_report() {
        let mut r = judge(
            "test/sql/cmpok.sql".into(),
            "1..2\nok 1 - a\nok 2 - b\n".into(),
            String::new(),
            Some(0),
            false,
            Duration::from_millis(80),
        );
        assert_eq!(render_file(&r, 18, false, false), "test/sql/cmpok.sql .. ok\n");
        r.cpu = CpuTimes { user: 0.0, system: 0.01, children_user: 0.02, children_system: 0.0 };
        let timed = render_file(&r, 18, false, true);
        // pg_prove --timer: "[07:55:57] test/sql/cmpok.sql .. ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)"
        let (stamp, rest) = timed.split_at(11);
        assert!(
            stamp.starts_with('[') && stamp.ends_with("] ") && stamp.as_bytes()[3] == b':',
            "{timed}"
        );
        assert_eq!(
            rest,
            "test/sql/cmpok.sql .. ok       80 ms ( 0.00 usr  0.01 sys +  0.02 cusr  0.00 csys =  0.03 CPU)\n"
        );
        // Verbose output moves the verdict to its own line, as prove does.
        assert!(render_file(&r, 18, true, false).ends_with(" .. \n1..2\nok 1 - a\nok 2 - b\nok\n"));
    }

    #[test]
    fn timer_summary_starts_with_the_clock_line() {
        let report = ProveReport {
            files: vec![corpus_result("03-skip-todo-diag")],
            duration: Duration::from_secs(0),
            interrupted: false,
            cpu: CpuTimes::default(),
        };
        let text = render_summary(&report, true);
        let first = text.lines().next().unwrap();
        assert_eq!(first.len(), 10, "{text}");
        assert!(first.starts_with('[') && first.ends_with(']'), "{text}");
        assert_eq!(text.lines().nth(1), Some("All tests successful."));
    }

    #[test]
    fn runtests_sql_quotes_schema_and_pattern() {
        let options =
            ProveOptions { runtests: true, schema: Some("unit".into()), ..ProveOptions::default() };
        let scripts = plan(&options).unwrap();
        assert_eq!(scripts[0].name(), "runtests('unit'::name);");
    }

    #[test]
    fn psql_flags_are_pg_proves() {
        let options = ProveOptions { dbname: Some("tapdb".into()), ..ProveOptions::default() };
        let spawn = psql_command(&options, &Script::File("t/a.pg".into()));
        assert_eq!(
            spawn.display(),
            "psql --no-psqlrc --no-align --quiet --pset pager=off --pset tuples_only=true --set ON_ERROR_STOP=1 --dbname tapdb --file t/a.pg"
        );
    }
}
