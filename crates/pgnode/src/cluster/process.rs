//! The postmaster under its watchdog, `postmaster.pid`, signals and the server's child processes.
//!
//! # Why a shell supervisor
//!
//! A test process that is killed with `kill -9` runs no destructors, so `Drop` cannot stop its
//! servers. pgnode therefore starts each postmaster under a tiny `/bin/sh` supervisor
//! ([`SUPERVISOR`]) whose stdin is a pipe whose only write end is held by the owning process
//! (Rust opens pipes with `O_CLOEXEC`, so no other child inherits it). The supervisor starts
//! postgres in the background with stdin from `/dev/null` and blocks reading the pipe; when the
//! owner exits for any reason, including `SIGKILL`, the kernel closes the write end, `read`
//! sees end-of-file and the supervisor sends the postmaster `SIGINT` (fast shutdown), then
//! `SIGQUIT` after 10 s and `SIGKILL` after 20 s. When the postmaster exits on its own, the
//! supervisor exits with its status, which the owner sees through `try_wait`.
//!
//! `PR_SET_PDEATHSIG` was rejected: it fires when the *thread* that forked the child exits,
//! so a cluster created in one test thread and used from another would be killed early, and it
//! would need `unsafe` `pre_exec` code. A helper binary was rejected because a library cannot
//! rely on a binary of its own being built and found. The supervisor runs in its own process
//! group, so a terminal's Ctrl-C reaches only the owner, which then stops servers in order.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The supervisor script run by `sh -c SUPERVISOR pgfarm-supervisor POSTGRES ARGS...`.
///
/// The owner's pipe is moved to fd 3 first because POSIX shells give background jobs
/// `/dev/null` as stdin; only the watcher keeps fd 3 (postgres and the main shell close it).
pub(crate) const SUPERVISOR: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
pm=$!
(
  while read -r _; do :; done <&3
  kill -INT "$pm" 2>/dev/null || exit 0
  i=0
  while kill -0 "$pm" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -eq 100 ] && kill -QUIT "$pm" 2>/dev/null
    [ "$i" -ge 200 ] && { kill -KILL "$pm" 2>/dev/null; break; }
    sleep 0.1
  done
) &
watcher=$!
exec 3<&-
wait "$pm"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// What `postmaster.pid` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PidFile {
    pub(crate) pid: i32,
    /// Line 8: `starting`, `ready`, `standby` or `stopping` (padded in the file).
    pub(crate) status: String,
}

pub(crate) fn read_pid_file(data_dir: &Path) -> Option<PidFile> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let mut lines = text.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let status = lines.nth(6).map(|s| s.trim().to_owned()).unwrap_or_default();
    (pid > 0).then_some(PidFile { pid, status })
}

pub(crate) fn alive(pid: i32) -> bool {
    pid > 0 && kill(Pid::from_raw(pid), None).is_ok()
}

pub(crate) fn signal(pid: i32, signal: Signal) -> bool {
    pid > 0 && kill(Pid::from_raw(pid), signal).is_ok()
}

/// Sleeps in growing steps (1 ms up to 5 ms) until `done` or the deadline; returns whether done.
pub(crate) fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut step = Duration::from_millis(1);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(step);
        step = (step * 2).min(Duration::from_millis(5));
    }
}

/// The kind of a server process, from its process title.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessKind {
    /// `checkpointer`
    Checkpointer,
    /// `background writer`
    BackgroundWriter,
    /// `walwriter`
    WalWriter,
    /// `autovacuum launcher`
    AutovacuumLauncher,
    /// `autovacuum worker`
    AutovacuumWorker,
    /// `stats collector` (up to PG14)
    StatsCollector,
    /// `archiver`
    Archiver,
    /// `logical replication launcher`
    LogicalReplicationLauncher,
    /// `logical replication worker`, apply, tablesync or parallel apply worker
    LogicalReplicationWorker,
    /// `startup` (recovery on a standby)
    Startup,
    /// `walreceiver`
    WalReceiver,
    /// `walsender`
    WalSender,
    /// `walsummarizer` (PG17+)
    WalSummarizer,
    /// `io worker` (PG18+)
    IoWorker,
    /// `logger` (logging collector)
    Logger,
    /// A parallel query worker or another background worker
    BackgroundWorker,
    /// A client backend (`user db host state`)
    Backend,
}

impl ProcessKind {
    /// Classifies a process title such as `postgres: checkpointer` or
    /// `postgres: mycluster: walsender postgres [local] streaming 0/3000148`.
    pub fn from_title(title: &str, cluster_name: Option<&str>) -> ProcessKind {
        let mut rest = title.trim().strip_prefix("postgres:").unwrap_or(title).trim_start();
        if let Some(stripped) =
            cluster_name.and_then(|name| rest.strip_prefix(name)).and_then(|r| r.strip_prefix(':'))
        {
            rest = stripped.trim_start();
        }
        const TABLE: &[(&str, ProcessKind)] = &[
            ("checkpointer", ProcessKind::Checkpointer),
            ("background writer", ProcessKind::BackgroundWriter),
            ("walwriter", ProcessKind::WalWriter),
            ("autovacuum launcher", ProcessKind::AutovacuumLauncher),
            ("autovacuum worker", ProcessKind::AutovacuumWorker),
            ("stats collector", ProcessKind::StatsCollector),
            ("archiver", ProcessKind::Archiver),
            ("logical replication launcher", ProcessKind::LogicalReplicationLauncher),
            ("logical replication", ProcessKind::LogicalReplicationWorker),
            ("startup", ProcessKind::Startup),
            ("walreceiver", ProcessKind::WalReceiver),
            ("walsender", ProcessKind::WalSender),
            ("walsummarizer", ProcessKind::WalSummarizer),
            ("io worker", ProcessKind::IoWorker),
            ("logger", ProcessKind::Logger),
            ("parallel worker", ProcessKind::BackgroundWorker),
            ("background worker", ProcessKind::BackgroundWorker),
        ];
        TABLE
            .iter()
            .find(|(prefix, _)| rest.starts_with(prefix))
            .map(|(_, kind)| kind.clone())
            .unwrap_or(ProcessKind::Backend)
    }
}

/// One child process of a postmaster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerProcess {
    /// Its pid.
    pub pid: i32,
    /// What it is.
    pub kind: ProcessKind,
    /// Its process title.
    pub title: String,
}

/// Children of `parent` read from `/proc`.
pub(crate) fn children(parent: i32, cluster_name: Option<&str>) -> Vec<ServerProcess> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // Format: pid (comm) state ppid ...; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok());
        if ppid != Some(parent) {
            continue;
        }
        let title = std::fs::read(entry.path().join("cmdline"))
            .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " ").trim().to_owned())
            .unwrap_or_default();
        let kind = ProcessKind::from_title(&title, cluster_name);
        out.push(ServerProcess { pid, kind, title });
    }
    out.sort_by_key(|p| p.pid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_classify_across_majors() {
        let k = |t| ProcessKind::from_title(t, Some("n1"));
        assert_eq!(k("postgres: checkpointer "), ProcessKind::Checkpointer);
        assert_eq!(k("postgres: n1: background writer"), ProcessKind::BackgroundWriter);
        assert_eq!(
            k("postgres: n1: walsender postgres [local] streaming 0/30001"),
            ProcessKind::WalSender
        );
        assert_eq!(
            k("postgres: logical replication apply worker for subscription 16390"),
            ProcessKind::LogicalReplicationWorker
        );
        assert_eq!(
            k("postgres: logical replication launcher"),
            ProcessKind::LogicalReplicationLauncher
        );
        assert_eq!(k("postgres: n1: postgres postgres [local] idle"), ProcessKind::Backend);
        assert_eq!(
            k("postgres: startup recovering 000000010000000000000003"),
            ProcessKind::Startup
        );
    }
}
