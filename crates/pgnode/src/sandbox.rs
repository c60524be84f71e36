//! Running untrusted build and test processes in a sandbox: bubblewrap (`bwrap`, Debian package
//! `bubblewrap`) namespaces plus resource limits.
//!
//! A [`Sandbox`] given to [`crate::command::Command::sandbox`] (or set in [`crate::Config`] for
//! clusters, and by callers that read [`crate::Config::current`]) turns the command into
//! `bwrap ... -- PROGRAM ARGS` started as the unprivileged user (the sandbox's [`OsUser`] when
//! this process is root), with:
//!
//! - a network namespace of its own (`--unshare-net`): only its own loopback, so nothing on the
//!   host (not even a listener on the host's 127.0.0.1) and nothing outside can be reached;
//!   PostgreSQL clients and servers talk over unix sockets in folders both see;
//! - a pid namespace (`--unshare-pid`, except for servers whose pid the owner signals:
//!   [`Sandbox::without_pid_namespace`]) and IPC/UTS namespaces, a new session (no terminal
//!   input injection), `--die-with-parent`;
//! - the whole file system read-only (`--ro-bind / /`), a private `/tmp` and `/dev/shm`
//!   (tmpfs, size-capped), a fresh `/dev`, `HOME=/tmp`, and writable binds only for the
//!   folders named with [`Sandbox::writable`] (a run's work folder, a cluster's folder);
//! - resource limits set between fork and exec: processes of the user ([`Limits::processes`],
//!   `RLIMIT_NPROC`), address space (`RLIMIT_AS`), CPU seconds per process (`RLIMIT_CPU`) and
//!   the size of any one file written (`RLIMIT_FSIZE`).
//!
//! It does not protect against kernel exploits (the sandbox shares the host's kernel), CPU side
//! channels, or reads of world-readable files; `RLIMIT_NPROC` counts every process of the user,
//! inside sandboxes or not; the total size of a writable folder is not capped. See
//! docs/sandbox.md.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::os_user::OsUser;

/// The package that provides `bwrap`, named in errors.
pub const PACKAGE: &str = "bubblewrap";

/// Resource limits of a sandboxed process and its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_NPROC`: processes (threads included) the user may have; a fork beyond it fails
    /// with "Resource temporarily unavailable". It counts every process of the user.
    pub processes: u64,
    /// `RLIMIT_AS`: bytes of address space per process.
    pub memory_bytes: u64,
    /// `RLIMIT_CPU`: CPU seconds per process (then SIGXCPU, then SIGKILL).
    pub cpu_seconds: u64,
    /// `RLIMIT_FSIZE`: the largest file a process may write, in bytes (then SIGXFSZ / EFBIG).
    pub file_bytes: u64,
    /// Size of the private `/tmp` and `/dev/shm` (tmpfs) in bytes, each.
    pub tmp_bytes: u64,
}

impl Default for Limits {
    /// 1024 processes, 4 GiB of address space, 3600 CPU seconds, files up to 1 GiB, 1 GiB for
    /// `/tmp` and for `/dev/shm`.
    fn default() -> Limits {
        Limits {
            processes: 1024,
            memory_bytes: 4 << 30,
            cpu_seconds: 3600,
            file_bytes: 1 << 30,
            tmp_bytes: 1 << 30,
        }
    }
}

/// A bubblewrap sandbox: who runs inside, what is writable, the limits. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sandbox {
    bwrap: PathBuf,
    user: Option<OsUser>,
    writable: Vec<PathBuf>,
    readable: Vec<PathBuf>,
    limits: Limits,
    pid_namespace: bool,
}

impl Sandbox {
    /// A sandbox run as `user` (`None`: the current user; pass [`OsUser::for_servers`]'s answer
    /// when this process may be root), with `bwrap` found on `PATH`, nothing writable yet and
    /// the default [`Limits`]. It does not check that bwrap works here: see [`Sandbox::check`].
    pub fn new(user: Option<OsUser>) -> Result<Sandbox> {
        let bwrap = find_on_path("bwrap").ok_or_else(|| Error::SandboxUnavailable {
            reason: format!(
                "`bwrap` was not found on PATH: install the package {PACKAGE} (`apt-get install {PACKAGE}`)"
            ),
        })?;
        Ok(Sandbox {
            bwrap,
            user,
            writable: Vec::new(),
            readable: Vec::new(),
            limits: Limits::default(),
            pid_namespace: true,
        })
    }

    /// Runs `true` in this sandbox, so a machine where bwrap cannot create namespaces (for
    /// example unprivileged user namespaces turned off) is found before any job starts.
    pub fn check(&self) -> Result<()> {
        let out = crate::command::Command::new("true").sandbox(Some(self)).output()?;
        if out.success() {
            Ok(())
        } else {
            Err(Error::SandboxUnavailable {
                reason: format!("`{}` failed ({}): {}", out.command, out.status, out.stderr.trim()),
            })
        }
    }

    /// Makes `path` (a folder that exists) writable inside the sandbox.
    pub fn writable(mut self, path: impl Into<PathBuf>) -> Sandbox {
        let path = absolute(path.into());
        if !self.writable.contains(&path) {
            self.writable.push(path);
        }
        self
    }

    /// Shows `path` read-only again after the private `/tmp`, `/dev` and `/dev/shm` were
    /// mounted (for example a cluster's socket folder under `/dev/shm`).
    pub fn readable(mut self, path: impl Into<PathBuf>) -> Sandbox {
        let path = absolute(path.into());
        if !self.readable.contains(&path) {
            self.readable.push(path);
        }
        self
    }

    /// Uses these limits.
    pub fn limits(mut self, limits: Limits) -> Sandbox {
        self.limits = limits;
        self
    }

    /// Keeps the host's pid namespace (for a server whose pid file the owner reads and whose
    /// pid it signals).
    pub fn without_pid_namespace(mut self) -> Sandbox {
        self.pid_namespace = false;
        self
    }

    /// The limits.
    pub fn current_limits(&self) -> Limits {
        self.limits
    }

    /// The user the sandboxed processes run as (`None`: the current user).
    pub fn user(&self) -> Option<&OsUser> {
        self.user.as_ref()
    }

    /// The folders writable inside.
    pub fn writable_paths(&self) -> &[PathBuf] {
        &self.writable
    }

    /// The `bwrap` executable.
    pub fn bwrap(&self) -> &Path {
        &self.bwrap
    }

    /// bwrap's arguments up to and including `--`, for a program started in `cwd`.
    pub(crate) fn bwrap_args(&self, cwd: Option<&Path>) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |words: &[&OsStr]| args.extend(words.iter().map(|w| w.to_os_string()));
        push(&["--unshare-net".as_ref(), "--unshare-ipc".as_ref(), "--unshare-uts".as_ref()]);
        push(&["--unshare-cgroup-try".as_ref()]);
        if self.pid_namespace {
            push(&["--unshare-pid".as_ref()]);
        }
        push(&["--die-with-parent".as_ref(), "--new-session".as_ref()]);
        push(&["--ro-bind".as_ref(), "/".as_ref(), "/".as_ref()]);
        push(&["--dev".as_ref(), "/dev".as_ref()]);
        if self.pid_namespace {
            push(&["--proc".as_ref(), "/proc".as_ref()]);
        }
        let size = self.limits.tmp_bytes.to_string();
        for tmp in ["/tmp", "/dev/shm"] {
            push(&["--size".as_ref(), size.as_ref(), "--tmpfs".as_ref(), tmp.as_ref()]);
        }
        for path in &self.readable {
            push(&["--ro-bind-try".as_ref(), path.as_os_str(), path.as_os_str()]);
        }
        for path in &self.writable {
            push(&["--bind".as_ref(), path.as_os_str(), path.as_os_str()]);
        }
        push(&["--setenv".as_ref(), "HOME".as_ref(), "/tmp".as_ref()]);
        push(&["--setenv".as_ref(), "TMPDIR".as_ref(), "/tmp".as_ref()]);
        if let Some(dir) = cwd {
            push(&["--chdir".as_ref(), absolute(dir.to_path_buf()).as_os_str()]);
        }
        push(&["--".as_ref()]);
        args
    }

    /// Sets the limits on the calling process. Runs between fork and exec: only setrlimit(2),
    /// which is async-signal-safe.
    pub(crate) fn apply_limits(limits: &Limits) -> std::io::Result<()> {
        use nix::sys::resource::{Resource, setrlimit};
        for (resource, value) in [
            (Resource::RLIMIT_NPROC, limits.processes),
            (Resource::RLIMIT_AS, limits.memory_bytes),
            (Resource::RLIMIT_CPU, limits.cpu_seconds),
            (Resource::RLIMIT_FSIZE, limits.file_bytes),
        ] {
            setrlimit(resource, value, value)?;
        }
        Ok(())
    }
}

/// `path` made absolute against the current directory (bwrap's binds need absolute paths).
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// `name` found in a folder of `PATH`, as an executable file.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        std::fs::metadata(candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_isolate_network_and_file_system_and_bind_only_what_was_named() {
        let sandbox = Sandbox {
            bwrap: "/usr/bin/bwrap".into(),
            user: None,
            writable: Vec::new(),
            readable: Vec::new(),
            limits: Limits::default(),
            pid_namespace: true,
        };
        let sandbox = sandbox.writable("/work/job").readable("/dev/shm/pgfarm/clusters");
        let args: Vec<String> = sandbox
            .bwrap_args(Some(Path::new("/work/job/src")))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let text = args.join(" ");
        for needed in [
            "--unshare-net",
            "--unshare-pid",
            "--die-with-parent",
            "--ro-bind / /",
            "--tmpfs /tmp",
            "--bind /work/job /work/job",
            "--ro-bind-try /dev/shm/pgfarm/clusters /dev/shm/pgfarm/clusters",
            "--chdir /work/job/src",
        ] {
            assert!(text.contains(needed), "{needed} missing in {text}");
        }
        assert_eq!(args.last().map(String::as_str), Some("--"));
        let server = sandbox.without_pid_namespace().bwrap_args(None);
        assert!(!server.iter().any(|a| a == "--unshare-pid" || a == "--proc"));
    }
}
