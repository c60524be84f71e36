//! The pg_regress run loop: environment, database set-up, schedules and positional tests,
//! result comparison, regression.diffs/regression.out, summary.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use pgfarm_diff::{Labels, Options as DiffOptions, Resultmap};

use super::console::{ChildFailure, Console, ConsoleSink, Style, Verdict};
use super::diff_style::DiffStyle;
use super::substitute::{Substitutions, convert_source_files};
use super::{ExpectedFile, RegressOptions, RegressReport, TestReport, TestStatus};
use crate::error::{Error, Result};
use crate::process::{self, Ended, EnvChanges, Spawn};
use crate::schedule::{Dialect, Entry, Schedule};

/// The host triple resultmap patterns are matched against (`config.guess` on x86_64 Linux).
pub(crate) const HOST_PLATFORM: &str = "x86_64-pc-linux-gnu";

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
        Err(err) => return Ok(bail_report(&mut console, &err.to_string(), started)),
    };
    state.announce_existing = matches!(server, Server::Existing);
    let outcome = state.run_all(&mut console);
    state.finish(&mut console, outcome, started)
}

fn bail_report(console: &mut Console<'_>, message: &str, started: Instant) -> RegressReport {
    console.bail(message);
    RegressReport {
        tests: Vec::new(),
        exit_code: 2,
        bail: Some(message.to_owned()),
        diffs_file: None,
        log_file: None,
        duration: started.elapsed(),
    }
}

struct Engine<'o> {
    options: &'o RegressOptions,
    inputdir: PathBuf,
    outputdir: PathBuf,
    expecteddir: PathBuf,
    psql: PathBuf,
    env: EnvChanges,
    resultmap: Option<Resultmap>,
    diffs_file: PathBuf,
    log_file: PathBuf,
    ignore: Vec<String>,
    tests: Vec<TestReport>,
    dialect: Dialect,
    group: u32,
    announce_existing: bool,
    diff_style: DiffStyle,
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("could not read the current directory", ".", e))?
            .join(path)
    };
    // Keep the spelling pg_regress uses (make_absolute_path canonicalizes "./" away).
    let mut clean = PathBuf::new();
    for part in abs.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

impl<'o> Engine<'o> {
    fn prepare(options: &'o RegressOptions) -> Result<Engine<'o>> {
        if options.dbnames.first().is_none_or(String::is_empty) {
            return Err(Error::Usage("no database name was specified".into()));
        }
        let inputdir = absolute(&options.inputdir)?;
        let outputdir = absolute(&options.outputdir)?;
        let expecteddir = match &options.expecteddir {
            Some(dir) => absolute(dir)?,
            None => inputdir.clone(),
        };
        let dlpath = match &options.dlpath {
            Some(dir) => absolute(dir)?,
            None => outputdir.clone(),
        };
        fs::create_dir_all(&outputdir)
            .map_err(|e| Error::io("could not create directory", &outputdir, e))?;
        let diffs_file = outputdir.join("regression.diffs");
        let log_file = outputdir.join("regression.out");
        File::create(&log_file)
            .map_err(|e| Error::io("could not open file for writing", &log_file, e))?;
        File::create(&diffs_file)
            .map_err(|e| Error::io("could not open file for writing", &diffs_file, e))?;
        let results = outputdir.join("results");
        fs::create_dir_all(&results)
            .map_err(|e| Error::io("could not create directory", &results, e))?;

        let subs = Substitutions {
            abs_srcdir: inputdir.display().to_string(),
            abs_builddir: outputdir.display().to_string(),
            libdir: dlpath.display().to_string(),
            dlsuffix: ".so".into(),
        };
        convert_source_files(&inputdir, &outputdir, &subs)?;

        let env = environment(options, &inputdir, &outputdir, &dlpath);
        let resultmap_path = inputdir.join("resultmap");
        let resultmap = match fs::read_to_string(&resultmap_path) {
            Ok(text) => Some(Resultmap::parse(&text).map_err(|e| Error::Resultmap(e.to_string()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("could not open file for reading", resultmap_path, e)),
        };
        let psql = match &options.bindir {
            Some(dir) => dir.join("psql"),
            None => PathBuf::from("psql"),
        };
        let dialect = match options.style {
            Style::Classic => Dialect::Classic,
            Style::Tap => Dialect::Tap,
        };
        Ok(Engine {
            options,
            inputdir,
            outputdir,
            expecteddir,
            psql,
            env,
            resultmap,
            diffs_file,
            log_file,
            ignore: Vec::new(),
            tests: Vec::new(),
            dialect,
            group: 0,
            announce_existing: true,
            diff_style: DiffStyle::from_env(),
        })
    }

    fn db(&self) -> &str {
        &self.options.dbnames[0]
    }

    /// Runs set-up, schedules and positional tests. `Err` is a bail-out message.
    fn run_all(&mut self, console: &mut Console<'_>) -> Result<(), String> {
        if self.announce_existing {
            let (host, port) = self.effective_host_port();
            console.using_postmaster(host.as_deref(), port.as_deref());
        }
        if !self.options.use_existing {
            for db in &self.options.dbnames {
                console.header(&format!("dropping database \"{db}\""));
                self.psql_setup(
                    console,
                    "postgres",
                    &[
                        "SET client_min_messages = warning".into(),
                        format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                    ],
                )?;
            }
            for role in &self.options.create_roles {
                console.header(&format!("dropping role \"{role}\""));
                self.psql_setup(
                    console,
                    "postgres",
                    &[
                        "SET client_min_messages = warning".into(),
                        format!("DROP ROLE IF EXISTS \"{role}\""),
                    ],
                )?;
            }
            for db in &self.options.dbnames {
                self.create_database(console, db)?;
            }
            for role in &self.options.create_roles {
                console.header(&format!("creating role \"{role}\""));
                let mut commands = vec![format!("CREATE ROLE \"{role}\" WITH LOGIN")];
                for db in &self.options.dbnames {
                    commands.push(format!("GRANT ALL ON DATABASE \"{db}\" TO \"{role}\""));
                }
                self.psql_setup(console, "postgres", &commands)?;
            }
        }
        console.header("running regression test queries");

        for schedule_path in &self.options.schedules {
            let text = fs::read_to_string(schedule_path).map_err(|e| {
                format!("could not open file \"{}\" for reading: {e}", schedule_path.display())
            })?;
            let schedule = Schedule::parse(&text, self.dialect);
            let file = schedule_path.display().to_string();
            for entry in schedule.entries {
                if self.options.cancel.is_cancelled() {
                    return Err("interrupted".into());
                }
                match entry {
                    Entry::Ignore { name } => self.ignore.push(name),
                    Entry::Invalid { error } => return Err(error.to_error(&file).to_string()),
                    Entry::Group { line, text, tests } => {
                        if tests.len() > 1
                            && self.options.max_concurrent_tests > 0
                            && self.options.max_concurrent_tests < tests.len()
                        {
                            return Err(Error::TooManyParallelTests {
                                max: self.options.max_concurrent_tests,
                                file: file.clone(),
                                line,
                                text,
                            }
                            .to_string());
                        }
                        self.run_group(console, &tests)?;
                    }
                }
            }
        }
        let positional = self.options.tests.clone();
        if self.options.jobs > 1 && positional.len() > 1 {
            self.run_positional_parallel(console, &positional)?;
        } else {
            for name in &positional {
                if self.options.cancel.is_cancelled() {
                    return Err("interrupted".into());
                }
                self.run_group(console, std::slice::from_ref(name))?;
            }
        }
        Ok(())
    }

    fn effective_host_port(&self) -> (Option<String>, Option<String>) {
        let lookup = |key: &str| -> Option<String> {
            for (k, v) in self.env.iter().rev() {
                if k == key {
                    return v.clone();
                }
            }
            std::env::var(key).ok()
        };
        (lookup("PGHOST"), lookup("PGPORT"))
    }

    fn create_database(&self, console: &mut Console<'_>, db: &str) -> Result<(), String> {
        console.header(&format!("creating database \"{db}\""));
        let locale = if self.options.no_locale { " LC_COLLATE='C' LC_CTYPE='C'" } else { "" };
        let create = match &self.options.encoding {
            Some(enc) => {
                format!("CREATE DATABASE \"{db}\" TEMPLATE=template0 ENCODING='{enc}'{locale}")
            }
            None => format!("CREATE DATABASE \"{db}\" TEMPLATE=template0{locale}"),
        };
        let alter = [
            "lc_messages TO 'C'",
            "lc_monetary TO 'C'",
            "lc_numeric TO 'C'",
            "lc_time TO 'C'",
            "bytea_output TO 'hex'",
            "timezone_abbreviations TO 'Default'",
        ]
        .iter()
        .map(|setting| format!("ALTER DATABASE \"{db}\" SET {setting};"))
        .collect::<String>();
        match self.options.style {
            // pg_regress 15 runs one psql per command; 16+ one psql with several -c.
            Style::Classic => {
                self.psql_setup(console, "postgres", &[create])?;
                self.psql_setup(console, "postgres", &[alter])?;
            }
            Style::Tap => self.psql_setup(console, "postgres", &[create, alter])?,
        }
        for ext in &self.options.load_extensions {
            console.header(&format!("installing {ext}"));
            self.psql_setup(console, db, &[format!("CREATE EXTENSION IF NOT EXISTS \"{ext}\"")])?;
        }
        Ok(())
    }

    /// `psql -X [-q] -c .. -c .. db`, its stdout shown in the classic style.
    fn psql_setup(
        &self,
        console: &mut Console<'_>,
        db: &str,
        commands: &[String],
    ) -> Result<(), String> {
        let mut spawn = Spawn::new(&self.psql).arg("-X");
        if self.options.style == Style::Tap {
            spawn = spawn.arg("-q");
        }
        for command in commands {
            spawn = spawn.arg("-c").arg(command);
        }
        let mut spawn = spawn.arg(db).envs(&self.env).env("PGAPPNAME", "pg_regress");
        if let Some(dir) = &self.options.cwd {
            spawn = spawn.current_dir(dir);
        }
        let (status, stdout, stderr) = spawn.output().map_err(|e| e.to_string())?;
        console.classic_stdout(&stdout);
        if !stderr.is_empty() {
            console.diag(stderr.trim_end());
        }
        if !status.success() {
            return Err(format!("command failed: {}", spawn.display()));
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

    fn expected_file(&self, name: &str) -> PathBuf {
        let in_output = self.outputdir.join("expected").join(format!("{name}.out"));
        if in_output.is_file() {
            in_output
        } else {
            self.expecteddir.join("expected").join(format!("{name}.out"))
        }
    }

    fn start_test(&self, name: &str, db: &str) -> Result<(std::process::Child, PathBuf), String> {
        let infile = self.sql_file(name);
        let outfile = self.outputdir.join("results").join(format!("{name}.out"));
        if let Some(parent) = outfile.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let input = File::open(&infile).map_err(|e| {
            format!("could not open file \"{}\" for reading: {e}", infile.display())
        })?;
        let output = File::create(&outfile).map_err(|e| {
            format!("could not open file \"{}\" for writing: {e}", outfile.display())
        })?;
        let output2 =
            output.try_clone().map_err(|e| format!("could not duplicate a file handle: {e}"))?;
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
        let child = spawn
            .start(Stdio::from(input), Stdio::from(output), Stdio::from(output2))
            .map_err(|_| format!("could not start process for test {name}"))?;
        Ok((child, outfile))
    }

    /// Runs one `test:` line (or one positional test) and reports its results.
    fn run_group(&mut self, console: &mut Console<'_>, tests: &[String]) -> Result<(), String> {
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
        let mut finished: Vec<Option<Finished>> = vec![None; tests.len()];
        let mut outfiles = vec![PathBuf::new(); tests.len()];
        for batch_start in (0..tests.len()).step_by(batch_size.max(1)) {
            let batch_end = (batch_start + batch_size).min(tests.len());
            let (sender, receiver) = mpsc::channel();
            for idx in batch_start..batch_end {
                let (child, outfile) = self.start_test(&tests[idx], &db)?;
                outfiles[idx] = outfile;
                self.spawn_waiter(idx, tests[idx].clone(), child, sender.clone());
            }
            drop(sender);
            for (idx, done) in receiver {
                if parallel {
                    console.group_member_done(&tests[idx]);
                }
                finished[idx] = Some(done);
            }
        }
        if parallel {
            console.end_group();
        }
        for (idx, name) in tests.iter().enumerate() {
            let done =
                finished[idx].clone().ok_or_else(|| format!("failed to wait for test {name}"))?;
            self.report_test(console, name, &outfiles[idx], &done, parallel)?;
        }
        self.group += 1;
        if self.options.cancel.is_cancelled() {
            return Err("interrupted".into());
        }
        Ok(())
    }

    fn spawn_waiter(
        &self,
        idx: usize,
        name: String,
        mut child: std::process::Child,
        sender: mpsc::Sender<(usize, Finished)>,
    ) {
        let started = Instant::now();
        let deadline = self.options.timeout.map(|t| started + t);
        let cancel = self.options.cancel.clone();
        let terminate = self.options.timeout.map(|_| self.terminate_command(&name));
        std::thread::spawn(move || {
            let ended = process::wait(&mut child, deadline, Some(&cancel));
            let mut activity = None;
            if matches!(ended, Ok(Ended::TimedOut) | Ok(Ended::Cancelled))
                && let Some(spawn) = terminate
            {
                // The server keeps running the statement after psql dies; end it too, keeping
                // what pg_stat_activity said of it.
                activity = spawn
                    .output()
                    .ok()
                    .map(|(_, out, _)| out.trim().to_owned())
                    .filter(|row| !row.is_empty());
            }
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            let done = match ended {
                Ok(Ended::Exited(status)) => {
                    Finished { exit: child_failure(status), timed_out: false, millis, activity }
                }
                Ok(Ended::TimedOut) | Ok(Ended::Cancelled) | Err(_) => {
                    Finished { exit: None, timed_out: true, millis, activity }
                }
            };
            let _ = sender.send((idx, done));
        });
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
    ) -> Result<(), String> {
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
            reason: done.timed_out.then(|| {
                let limit = self.options.timeout.map_or(0.0, |t| t.as_secs_f64());
                match &done.activity {
                    Some(row) => format!("timed out after {limit} s; the backend was: {row}"),
                    None => format!("timed out after {limit} s"),
                }
            }),
            child_failure: child,
        });
        Ok(())
    }

    /// pg_regress's `results_differ`: tries the expected file (after resultmap), its `_0`..`_9`
    /// variants and the default file; appends the closest one's unified diff to regression.diffs.
    fn compare(&self, name: &str, outfile: &Path) -> Result<Compared, String> {
        let actual_bytes = fs::read(outfile).map_err(|e| {
            format!("diff command failed: could not read \"{}\": {e}", outfile.display())
        })?;
        let actual = String::from_utf8_lossy(&actual_bytes).into_owned();
        let default_expected = self.expected_file(name).display().to_string();
        let names = pgfarm_diff::expected_candidates(
            name,
            &default_expected,
            self.resultmap.as_ref(),
            HOST_PLATFORM,
        );
        let mut expected = Vec::new();
        for (position, candidate) in names.iter().enumerate() {
            match fs::read(candidate) {
                Ok(bytes) => expected.push(ExpectedFile {
                    path: PathBuf::from(candidate),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }),
                // The first candidate must exist: pg_regress's diff fails on it and bails.
                Err(e) if position == 0 => {
                    return Err(format!(
                        "diff command failed: could not read \"{candidate}\": {e}"
                    ));
                }
                Err(_) => {}
            }
        }
        let options = DiffOptions::default();
        let choice = pgfarm_diff::closest_expected(
            &actual,
            expected.iter().map(|e| e.text.as_str()),
            &options,
        )
        .ok_or_else(|| format!("no expected file for {name}: looked for {}", names.join(", ")))?;
        if choice.matched {
            return Ok(Compared {
                differ: false,
                actual,
                expected,
                chosen: Some(choice.index),
                diff: String::new(),
            });
        }
        let best = &expected[choice.index];
        let expected_label = format!("{}\t{}", best.path.display(), mtime_label(&best.path));
        let actual_label = format!("{}\t{}", outfile.display(), mtime_label(outfile));
        let text = self.diff_style.render(
            (&best.path, &best.text),
            (outfile, &actual),
            &Labels { expected: &expected_label, actual: &actual_label },
        );
        let mut file = fs::OpenOptions::new().append(true).open(&self.diffs_file).map_err(|e| {
            format!("could not open file \"{}\" for writing: {e}", self.diffs_file.display())
        })?;
        file.write_all(text.as_bytes()).map_err(|e| {
            format!("could not write to file \"{}\": {e}", self.diffs_file.display())
        })?;
        Ok(Compared { differ: true, actual, expected, chosen: Some(choice.index), diff: text })
    }

    /// `--jobs N` for positional tests: each test in its own clone of the prepared database.
    fn run_positional_parallel(
        &mut self,
        console: &mut Console<'_>,
        tests: &[String],
    ) -> Result<(), String> {
        let db = self.db().to_owned();
        let (sender, receiver) = mpsc::channel::<(usize, Result<(PathBuf, Finished), String>)>();
        let mut next_to_start = 0;
        let mut running = 0;
        let mut done: Vec<Option<Result<(PathBuf, Finished), String>>> = vec![None; tests.len()];
        let mut next_to_report = 0;
        let mut first_error = None;
        while next_to_report < tests.len() {
            while running < self.options.jobs
                && next_to_start < tests.len()
                && first_error.is_none()
            {
                let idx = next_to_start;
                next_to_start += 1;
                running += 1;
                let clone = format!("{db}_pgfarm_{idx}");
                let worker = ParallelWorker {
                    psql: self.psql.clone(),
                    env: self.env.clone(),
                    template: db.clone(),
                    clone: clone.clone(),
                };
                if let Err(err) = worker.create() {
                    first_error = Some(err);
                    running -= 1;
                    break;
                }
                match self.start_test(&tests[idx], &clone) {
                    Ok((child, outfile)) => {
                        let (inner_sender, inner_receiver) = mpsc::channel();
                        self.spawn_waiter(idx, tests[idx].clone(), child, inner_sender);
                        let sender = sender.clone();
                        std::thread::spawn(move || {
                            let result = match inner_receiver.recv() {
                                Ok((_, finished)) => Ok((outfile, finished)),
                                Err(_) => Err("test waiter vanished".to_owned()),
                            };
                            worker.drop_clone();
                            let _ = sender.send((idx, result));
                        });
                    }
                    Err(err) => {
                        worker.drop_clone();
                        first_error = Some(err);
                        running -= 1;
                    }
                }
            }
            if running == 0 {
                break;
            }
            let Ok((idx, result)) = receiver.recv() else { break };
            running -= 1;
            done[idx] = Some(result);
            while next_to_report < tests.len() {
                let Some(result) = done[next_to_report].take() else { break };
                let name = tests[next_to_report].clone();
                let (outfile, finished) = result?;
                console.start_single(&name);
                self.report_test(console, &name, &outfile, &finished, false)?;
                self.group += 1;
                next_to_report += 1;
            }
        }
        match first_error {
            Some(err) => Err(err),
            None if self.options.cancel.is_cancelled() => Err("interrupted".into()),
            None => Ok(()),
        }
    }

    fn finish(
        self,
        console: &mut Console<'_>,
        outcome: Result<(), String>,
        started: Instant,
    ) -> Result<RegressReport> {
        let has_diffs = fs::metadata(&self.diffs_file).map(|m| m.len() > 0).unwrap_or(false);
        let bail = outcome.err();
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
        })
    }
}

struct ParallelWorker {
    psql: PathBuf,
    env: EnvChanges,
    template: String,
    clone: String,
}

impl ParallelWorker {
    fn psql(&self, sql: &str) -> Spawn {
        Spawn::new(&self.psql)
            .args(["-X", "-q", "-c", sql, "postgres"])
            .envs(&self.env)
            .env("PGAPPNAME", "pgfarm")
    }

    fn create(&self) -> Result<(), String> {
        let _ =
            self.psql(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.clone)).output();
        self.psql(&format!("CREATE DATABASE \"{}\" TEMPLATE \"{}\"", self.clone, self.template))
            .output_ok()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn drop_clone(&self) {
        let _ =
            self.psql(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.clone)).output();
    }
}

#[derive(Debug, Clone)]
struct Finished {
    exit: Option<ChildFailure>,
    timed_out: bool,
    millis: f64,
    /// The test's backend as `pg_stat_activity` showed it when the time-out killed it.
    activity: Option<String>,
}

struct Compared {
    differ: bool,
    actual: String,
    expected: Vec<ExpectedFile>,
    chosen: Option<usize>,
    diff: String,
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

/// GNU diff's header timestamp: `2026-11-22 03:36:06.813222725 +0000` (UTC).
fn mtime_label(path: &Path) -> String {
    let modified = fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
    let since = modified.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:09} +0000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The environment pg_regress's `initialize_environment` prepares for psql.
fn environment(
    options: &RegressOptions,
    inputdir: &Path,
    outputdir: &Path,
    dlpath: &Path,
) -> EnvChanges {
    let mut env: EnvChanges = Vec::new();
    let mut set = |k: &str, v: &str| env.push((k.to_owned(), Some(v.to_owned())));
    set("PGAPPNAME", "pg_regress");
    set("PG_ABS_SRCDIR", &inputdir.display().to_string());
    set("PG_ABS_BUILDDIR", &outputdir.display().to_string());
    set("PG_LIBDIR", &dlpath.display().to_string());
    set("PG_DLSUFFIX", ".so");
    set("LC_MESSAGES", "C");
    set("PGTZ", "America/Los_Angeles");
    set("PGDATESTYLE", "Postgres, MDY");
    let old = std::env::var("PGOPTIONS").unwrap_or_default();
    set("PGOPTIONS", &format!("{old} -c intervalstyle=postgres_verbose"));
    if let Some(enc) = &options.encoding {
        set("PGCLIENTENCODING", enc);
    }
    if let Some(host) = &options.host {
        set("PGHOST", host);
    }
    if let Some(port) = options.port {
        set("PGPORT", &port.to_string());
    }
    if let Some(user) = &options.user {
        set("PGUSER", user);
    }
    let mut unset = vec!["LANGUAGE", "LC_ALL", "PGDATABASE"];
    if options.encoding.is_none() {
        unset.push("PGCLIENTENCODING");
    }
    if options.host.is_some() {
        unset.push("PGHOSTADDR");
    }
    if options.no_locale {
        unset.extend(["LC_COLLATE", "LC_CTYPE", "LC_MONETARY", "LC_NUMERIC", "LC_TIME", "LANG"]);
    }
    env.extend(unset.into_iter().map(|k| (k.to_owned(), None)));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn environment_sets_what_pg_regress_sets() {
        let options =
            RegressOptions { port: Some(5499), no_locale: true, ..RegressOptions::default() };
        let env = environment(&options, Path::new("/in"), Path::new("/out"), Path::new("/lib"));
        let get = |k: &str| env.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("PGTZ"), Some(Some("America/Los_Angeles".into())));
        assert_eq!(get("PGDATESTYLE"), Some(Some("Postgres, MDY".into())));
        assert_eq!(get("PGPORT"), Some(Some("5499".into())));
        assert_eq!(get("PG_ABS_SRCDIR"), Some(Some("/in".into())));
        assert_eq!(get("LC_ALL"), Some(None));
        assert_eq!(get("LANG"), Some(None));
        assert!(get("PGOPTIONS").unwrap().unwrap().ends_with(" -c intervalstyle=postgres_verbose"));
    }

    #[test]
    fn absolute_paths_drop_dot_components() {
        assert_eq!(absolute(Path::new("/a/./b/../c")).unwrap(), PathBuf::from("/a/c"));
    }
}
