//! Child processes of the runner (psql, make, pg_config): spawning with a prepared
//! environment, waiting with a deadline and a cancel flag, and killing.
//!
//! Every process the runner starts goes through [`Spawn`], which hands it to pgnode's single
//! spawn point (`pgfarm_pgnode::command`), so environment handling and error messages (the
//! command line plus its stderr) are uniform. When the thread's pgnode settings carry a sandbox
//! (`pgfarm_pgnode::Config::sandbox`, set by `pgfarm test --sandbox` for a run's stages and
//! handed on to the [`crate::pool::Pool`]'s threads), every child runs inside it.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};

use pgfarm_pgnode::command::Command as PgCommand;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A shared flag that asks every running operation to stop (Ctrl-C, SIGTERM).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    /// Asks everything watching this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Sets this flag on Ctrl-C (SIGINT) and SIGTERM. A process can install one handler; a
    /// second call returns an error. A second signal while stopping exits at once (status 130).
    pub fn cancel_on_signals(&self) -> Result<()> {
        let flag = self.clone();
        ctrlc::set_handler(move || {
            if flag.is_cancelled() {
                std::process::exit(130);
            }
            flag.cancel();
        })
        .map_err(|e| Error::Usage(format!("could not install the signal handler: {e}")))
    }

    /// True once [`cancel`](CancelFlag::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Environment changes applied to a child: `Some` sets, `None` removes.
pub type EnvChanges = Vec<(String, Option<String>)>;

/// A command about to be started.
#[derive(Debug, Clone)]
pub struct Spawn {
    program: PathBuf,
    args: Vec<OsString>,
    env: EnvChanges,
    cwd: Option<PathBuf>,
    run_as: Option<pgfarm_pgnode::OsUser>,
}

/// How a waited-for child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited (or was killed by a signal it did not cause us to send).
    Exited(ExitStatus),
    /// The deadline passed and it was killed.
    TimedOut,
    /// The cancel flag was set and it was killed.
    Cancelled,
}

impl Spawn {
    /// A command running `program`.
    pub fn new(program: impl Into<PathBuf>) -> Spawn {
        Spawn {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            run_as: None,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Spawn {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Spawn {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Applies environment changes (in order).
    pub fn envs(mut self, env: &EnvChanges) -> Spawn {
        self.env.extend(env.iter().cloned());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Spawn {
        self.env.push((key.to_owned(), Some(value.into())));
        self
    }

    /// Runs the child as `user` (uid, gid, groups and `HOME`), for programs that refuse root
    /// such as the servers Perl TAP tests start.
    pub fn run_as(mut self, user: pgfarm_pgnode::OsUser) -> Spawn {
        self.run_as = Some(user);
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Spawn {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The command as a shell would show it (for messages and logs).
    pub fn display(&self) -> String {
        let mut out = shell_quote(&self.program.to_string_lossy());
        for arg in &self.args {
            out.push(' ');
            out.push_str(&shell_quote(&arg.to_string_lossy()));
        }
        out
    }

    /// The command for pgnode's single spawn point (`pgfarm_pgnode::command`), which every
    /// pgfarm crate uses to start processes.
    fn command(&self) -> PgCommand {
        let mut cmd = PgCommand::new(&self.program).args(&self.args);
        for (key, value) in &self.env {
            cmd = match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd = cmd.current_dir(dir);
        }
        if let Some(user) = &self.run_as {
            cmd = cmd.run_as(Some(user));
        }
        cmd.sandbox(pgfarm_pgnode::Config::current().sandbox.as_ref())
    }

    /// Starts the child with the given stdio.
    pub fn start(&self, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Result<Child> {
        self.command().spawn(stdin, stdout, stderr).map_err(|e| Error::Command {
            command: self.display(),
            detail: format!("could not start: {e}"),
        })
    }

    /// Runs to completion, capturing stdout and stderr; a non-zero exit is an error that
    /// shows the tail of stderr.
    pub fn output_ok(&self) -> Result<(String, String)> {
        let (status, stdout, stderr) = self.output()?;
        if !status.success() {
            return Err(Error::Command {
                command: self.display(),
                detail: failure_detail(status, &stderr),
            });
        }
        Ok((stdout, stderr))
    }

    /// Runs to completion with stdout and stderr interleaved into one log, killing the child
    /// when `cancel` is set or `deadline` passes. Returns how it ended and the log.
    pub fn run_logged(
        &self,
        deadline: Option<Instant>,
        cancel: &CancelFlag,
    ) -> Result<(Ended, String)> {
        let log_path = std::env::temp_dir().join(format!(
            "pgfarm-log-{}-{:?}-{}",
            std::process::id(),
            std::thread::current().id(),
            Instant::now().elapsed().as_nanos()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&log_path)
            .map_err(|e| Error::io("could not create", &log_path, e))?;
        let _ = std::fs::remove_file(&log_path);
        let err_file =
            file.try_clone().map_err(|e| Error::io("could not duplicate", &log_path, e))?;
        let mut read_back =
            file.try_clone().map_err(|e| Error::io("could not duplicate", &log_path, e))?;
        let mut child = self.start(Stdio::null(), Stdio::from(file), Stdio::from(err_file))?;
        let ended = wait(&mut child, deadline, Some(cancel))?;
        let mut bytes = Vec::new();
        {
            use std::io::{Read, Seek};
            let _ = read_back.seek(std::io::SeekFrom::Start(0));
            let _ = read_back.read_to_end(&mut bytes);
        }
        Ok((ended, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Runs to completion capturing stdout and stderr apart, killing the child when `cancel` is
    /// set or `deadline` passes.
    pub fn output_until(
        &self,
        deadline: Option<Instant>,
        cancel: &CancelFlag,
    ) -> Result<(Ended, String, String)> {
        use std::io::Read;
        let mut child = self.start(Stdio::null(), Stdio::piped(), Stdio::piped())?;
        let mut stdout_pipe = child.stdout.take();
        let mut stderr_pipe = child.stderr.take();
        let err_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = stderr_pipe.as_mut() {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        });
        let out_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = stdout_pipe.as_mut() {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        });
        let ended = wait(&mut child, deadline, Some(cancel))?;
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        Ok((
            ended,
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        ))
    }

    /// Runs to completion, capturing stdout and stderr, whatever the exit status.
    pub fn output(&self) -> Result<(ExitStatus, String, String)> {
        let child = self.start(Stdio::null(), Stdio::piped(), Stdio::piped())?;
        let out = child.wait_with_output().map_err(|e| Error::Command {
            command: self.display(),
            detail: format!("could not wait: {e}"),
        })?;
        Ok((
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

/// "exit status N" plus the last lines of stderr.
pub fn failure_detail(status: ExitStatus, stderr: &str) -> String {
    let mut detail = describe_status(status);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    if !tail.is_empty() {
        detail.push_str(": ");
        for (i, line) in tail.iter().rev().enumerate() {
            if i > 0 {
                detail.push_str(" | ");
            }
            detail.push_str(line);
        }
    }
    detail
}

/// "exit status 3" or "killed by signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown exit status".to_owned(),
    }
}

/// Waits for `child`, killing it when `deadline` passes or `cancel` is set.
///
/// The calling thread blocks in `waitid(WNOWAIT)` (no polling, so a test's end is seen at
/// once and idle waits cost no CPU); a watchdog thread handles the deadline and looks at the
/// cancel flag every 50 ms. The child is only reaped after the watchdog was told it exited,
/// so a kill can never hit a recycled pid.
pub fn wait(
    child: &mut Child,
    deadline: Option<Instant>,
    cancel: Option<&CancelFlag>,
) -> Result<Ended> {
    let wait_error =
        |e: std::io::Error| Error::Command { command: "wait".into(), detail: e.to_string() };
    if deadline.is_none() && cancel.is_none() {
        return Ok(Ended::Exited(child.wait().map_err(wait_error)?));
    }
    if let Some(status) = child.try_wait().map_err(wait_error)? {
        return Ok(Ended::Exited(status));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let watch = Arc::new(Watch::default());
    let watchdog = {
        let watch = Arc::clone(&watch);
        let cancel = cancel.cloned();
        std::thread::spawn(move || watch.guard(pid, deadline, cancel.as_ref()))
    };
    loop {
        use nix::sys::wait::{Id, WaitPidFlag, waitid};
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(nix::errno::Errno::EINTR) => continue,
            // ECHILD: already reaped elsewhere; child.wait() below reports what std knows.
            _ => break,
        }
    }
    let killed = watch.exited();
    let _ = watchdog.join();
    let status = child.wait().map_err(wait_error)?;
    Ok(match killed {
        Some(Killed::Cancelled) => Ended::Cancelled,
        Some(Killed::TimedOut) => Ended::TimedOut,
        None => Ended::Exited(status),
    })
}

/// Why a watchdog killed a child.
#[derive(Debug, Clone, Copy)]
enum Killed {
    TimedOut,
    Cancelled,
}

/// Shared between a waiting thread and its watchdog.
#[derive(Debug, Default)]
struct Watch {
    /// (child exited, why the watchdog killed it).
    state: std::sync::Mutex<(bool, Option<Killed>)>,
    exited: std::sync::Condvar,
}

impl Watch {
    /// Called by the waiter once the child exited (not yet reaped): stops the watchdog and
    /// says whether it killed the child.
    fn exited(&self) -> Option<Killed> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.0 = true;
        self.exited.notify_all();
        state.1
    }

    /// The watchdog: sleeps until the child exits, the deadline passes or the cancel flag is
    /// set; kills the child (SIGKILL) in the latter two cases while it is known not to be reaped.
    fn guard(&self, pid: nix::unistd::Pid, deadline: Option<Instant>, cancel: Option<&CancelFlag>) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if state.0 {
                return;
            }
            let now = Instant::now();
            let reason = if cancel.is_some_and(CancelFlag::is_cancelled) {
                Some(Killed::Cancelled)
            } else if deadline.is_some_and(|d| now >= d) {
                Some(Killed::TimedOut)
            } else {
                None
            };
            if let Some(reason) = reason {
                state.1 = Some(reason);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                return;
            }
            let mut pause = Duration::from_millis(50);
            if let Some(d) = deadline {
                pause = pause.min(d.saturating_duration_since(now));
            }
            if cancel.is_none() {
                pause = deadline.map_or(pause, |d| d.saturating_duration_since(now));
            }
            state = self
                .exited
                .wait_timeout(state, pause)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// Quotes `s` for display like a POSIX shell would need it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b)) {
        return s.to_owned();
    }
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            let _ = out.write_char(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let spawn = Spawn::new("/usr/bin/psql").args(["-X", "-c", "SELECT 'a'", "-d", "db"]);
        assert_eq!(spawn.display(), "/usr/bin/psql -X -c 'SELECT '\\''a'\\''' -d db");
    }

    #[test]
    fn a_failing_command_reports_status_and_stderr() {
        let err = Spawn::new("sh").args(["-c", "echo oops >&2; exit 3"]).output_ok().unwrap_err();
        assert_eq!(
            err.to_string(),
            "command failed: sh -c 'echo oops >&2; exit 3': exit status 3: oops"
        );
    }

    #[test]
    fn a_deadline_kills_a_hung_child() {
        let mut child = Spawn::new("sleep")
            .arg("5")
            .start(Stdio::null(), Stdio::null(), Stdio::null())
            .unwrap();
        let started = Instant::now();
        let ended =
            wait(&mut child, Some(Instant::now() + Duration::from_millis(50)), None).unwrap();
        assert_eq!(ended, Ended::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn the_cancel_flag_kills_a_waited_child() {
        let mut child = Spawn::new("sleep")
            .arg("5")
            .start(Stdio::null(), Stdio::null(), Stdio::null())
            .unwrap();
        let cancel = CancelFlag::new();
        let setter = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            setter.cancel();
        });
        let started = Instant::now();
        let ended = wait(&mut child, None, Some(&cancel)).unwrap();
        assert_eq!(ended, Ended::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_waited_child_reports_its_exit_status_before_the_deadline() {
        let mut child = Spawn::new("sh")
            .args(["-c", "sleep 0.05; exit 7"])
            .start(Stdio::null(), Stdio::null(), Stdio::null())
            .unwrap();
        let cancel = CancelFlag::new();
        let ended = wait(&mut child, Some(Instant::now() + Duration::from_secs(30)), Some(&cancel))
            .unwrap();
        match ended {
            Ended::Exited(status) => assert_eq!(status.code(), Some(7)),
            other => panic!("expected an exit, got {other:?}"),
        }
    }
}
