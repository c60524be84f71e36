//! The single place where pgnode starts processes: command lines, captured output, errors.
//!
//! Every child process of the crate (initdb, postgres under its supervisor, psql, pg_dump, ...)
//! is built with [`Command`], which records the command line for error messages, captures
//! stdout and stderr, feeds stdin from a buffer, and switches to an unprivileged [`OsUser`] when
//! asked. A failure becomes [`Error::Command`] with the exit code and the tail of stderr.
//! A command given a [`Sandbox`] runs inside it (`bwrap ... -- PROGRAM ARGS`, as the sandbox's
//! user, with its resource limits).

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};

use crate::error::{Error, Result, last_lines};
use crate::os_user::OsUser;
use crate::sandbox::Sandbox;

/// How many lines of stderr an [`Error::Command`] keeps.
const STDERR_TAIL_LINES: usize = 20;

/// A command to run: program, arguments, environment, working directory, stdin and OS user.
#[derive(Clone, Debug)]
pub struct Command {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    run_as: Option<OsUser>,
    process_group: bool,
    sandbox: Option<Box<Sandbox>>,
}

/// What a finished command produced.
#[derive(Clone, Debug)]
pub struct Output {
    /// The command line, shell-quoted.
    pub command: String,
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output (lossy UTF-8).
    pub stdout: String,
    /// Its standard error (lossy UTF-8).
    pub stderr: String,
}

impl Output {
    /// The exit code, `None` when killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// True for exit code 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Turns a failed run into [`Error::Command`].
    pub fn check(self) -> Result<Output> {
        if self.success() {
            Ok(self)
        } else {
            let tail_source =
                if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
            Err(Error::Command {
                command: self.command.clone(),
                code: self
                    .status
                    .code()
                    .or_else(|| self.status.signal().map(|s| -s))
                    .filter(|c| *c >= 0),
                stderr_tail: last_lines(tail_source, STDERR_TAIL_LINES),
                log_tail: String::new(),
            })
        }
    }
}

impl Command {
    /// A command running `program` (a path or a name looked up in `PATH`).
    pub fn new(program: impl AsRef<Path>) -> Command {
        Command {
            program: program.as_ref().to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: None,
            run_as: None,
            process_group: false,
            sandbox: None,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Command {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Command {
        self.env.push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes an environment variable for the child.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Command {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Sets the working directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Command {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Feeds these bytes to the child's stdin (otherwise stdin is `/dev/null`).
    pub fn stdin_bytes(mut self, input: impl Into<Vec<u8>>) -> Command {
        self.stdin = Some(input.into());
        self
    }

    /// Runs the child as this user (uid, gid, supplementary groups, `HOME`, `USER`), when given.
    pub fn run_as(mut self, user: Option<&OsUser>) -> Command {
        self.run_as = user.cloned();
        self
    }

    /// Starts the child in its own process group, so a Ctrl-C aimed at the terminal's
    /// foreground group does not reach it (the owner stops it instead).
    pub fn own_process_group(mut self) -> Command {
        self.process_group = true;
        self
    }

    /// Runs the child inside this sandbox, when given (see [`crate::sandbox`]): as the
    /// sandbox's user unless [`Command::run_as`] names one, with its namespaces, read-only
    /// file system and resource limits.
    pub fn sandbox(mut self, sandbox: Option<&Sandbox>) -> Command {
        self.sandbox = sandbox.map(|s| Box::new(s.clone()));
        self
    }

    /// The program.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The command line, shell-quoted, for messages.
    pub fn display(&self) -> String {
        let mut text = quote(self.program.as_os_str());
        for arg in &self.args {
            text.push(' ');
            text.push_str(&quote(arg));
        }
        if let Some(user) = self.user() {
            text.push_str(&format!(" (as user {})", user.name));
        }
        if self.sandbox.is_some() {
            text.push_str(" (in the sandbox)");
        }
        text
    }

    /// The user the child runs as: [`Command::run_as`]'s, else the sandbox's.
    fn user(&self) -> Option<&OsUser> {
        self.run_as.as_ref().or_else(|| self.sandbox.as_ref().and_then(|s| s.user()))
    }

    fn build(&self) -> std::process::Command {
        // The one sanctioned use of Command::new (STYLE.md rule R4).
        #[allow(clippy::disallowed_methods, reason = "this module is the single spawn point")]
        let mut cmd = match &self.sandbox {
            None => {
                let mut cmd = std::process::Command::new(&self.program);
                cmd.args(&self.args);
                cmd
            }
            Some(sandbox) => {
                let mut cmd = std::process::Command::new(sandbox.bwrap());
                cmd.args(sandbox.bwrap_args(self.cwd.as_deref()));
                cmd.arg(&self.program).args(&self.args);
                let limits = sandbox.current_limits();
                #[allow(unsafe_code)]
                // SAFETY: the closure runs between fork and exec and only calls setrlimit(2),
                // which is async-signal-safe; it takes no locks and allocates nothing.
                unsafe {
                    cmd.pre_exec(move || Sandbox::apply_limits(&limits));
                }
                cmd
            }
        };
        if let Some(user) = self.user() {
            cmd.env("HOME", &user.home).env("USER", &user.name).env("LOGNAME", &user.name);
            let (uid, gid) = (nix::unistd::Uid::from_raw(user.uid), user.gid());
            // std's CommandExt::groups is unstable and its uid()/gid() run before pre_exec
            // closures (after which setgroups is no longer permitted), so switch identity here
            // in the required order: supplementary groups, group, user.
            #[allow(unsafe_code)]
            // SAFETY: the closure runs between fork and exec and only calls setgroups(2),
            // setgid(2) and setuid(2), which are async-signal-safe; it takes no locks and
            // allocates nothing.
            unsafe {
                cmd.pre_exec(move || {
                    nix::unistd::setgroups(&[gid])?;
                    nix::unistd::setgid(gid)?;
                    nix::unistd::setuid(uid)?;
                    Ok(())
                });
            }
            if self.cwd.is_none() {
                // The caller's cwd (for example a root-owned checkout) may be unreadable for that user.
                cmd.current_dir(&user.home);
            }
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        if self.process_group {
            cmd.process_group(0);
        }
        cmd
    }

    /// Runs to completion and captures stdout and stderr; a non-zero exit is not an error here
    /// (see [`Output::check`] and [`Command::run`]).
    pub fn output(&self) -> Result<Output> {
        let mut cmd = self.build();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child =
            cmd.spawn().map_err(|source| Error::Spawn { command: self.display(), source })?;
        let writer = match (self.stdin.clone(), child.stdin.take()) {
            (Some(input), Some(mut pipe)) => Some(std::thread::spawn(move || {
                // A child that exits without reading its input gives EPIPE: that is its business.
                let _ = pipe.write_all(&input);
            })),
            _ => None,
        };
        let output = child
            .wait_with_output()
            .map_err(|source| Error::Spawn { command: self.display(), source })?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(Output {
            command: self.display(),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs to completion; a non-zero exit becomes [`Error::Command`] with the stderr tail.
    pub fn run(&self) -> Result<Output> {
        self.output()?.check()
    }

    /// Replaces the current process with this command (Unix `exec`): the program gets this
    /// process's id, stdio and signals. Returns only when the program could not be started.
    pub fn exec(&self) -> Error {
        use std::os::unix::process::CommandExt as _;
        let source = self.build().exec();
        Error::Spawn { command: self.display(), source }
    }

    /// Starts the child with the given stdio and returns it (for long-running processes).
    pub fn spawn(&self, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Result<Child> {
        let mut cmd = self.build();
        cmd.stdin(stdin).stdout(stdout).stderr(stderr);
        cmd.spawn().map_err(|source| Error::Spawn { command: self.display(), source })
    }
}

/// Sends `signal` to the process `pid` (a child started with [`Command::spawn`]).
pub fn send_signal(pid: u32, signal: nix::sys::signal::Signal) -> Result<()> {
    let raw = i32::try_from(pid).map_err(|_| Error::Spawn {
        command: format!("kill -{signal} {pid}"),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"),
    })?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), signal).map_err(|errno| Error::Spawn {
        command: format!("kill -{signal} {pid}"),
        source: errno.into(),
    })
}

/// Shell-quotes one word when it needs it.
fn quote(word: &OsStr) -> String {
    let text = word.to_string_lossy();
    if !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_command_error_names_command_code_and_stderr() {
        let err = Command::new("sh").args(["-c", "echo boom >&2; exit 3"]).run().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sh -c 'echo boom >&2; exit 3'"), "{text}");
        assert!(text.contains("exit code 3"), "{text}");
        assert!(text.contains("boom"), "{text}");
    }

    #[test]
    fn stdin_bytes_reach_the_child() {
        let out = Command::new("cat").stdin_bytes("hello").run().unwrap();
        assert_eq!(out.stdout, "hello");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = Command::new("/nonexistent/pg_config").run().unwrap_err();
        assert!(matches!(err, Error::Spawn { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/pg_config"));
    }
}
