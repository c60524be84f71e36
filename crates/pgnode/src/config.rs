//! Settings shared by all clusters (like testgres' `configure_testgres`), with scoped overrides.
//!
//! Resolution order for a new cluster: the [`Config`] given to its builder, else the innermost
//! [`ConfigScope`] of the *current thread*, else the process default read once from the
//! environment. There is no process-global mutable state: a scope set by one test thread is
//! invisible to every other thread, so parallel tests cannot leak settings into each other.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Settings for clusters: where they live, caching, cleanup, error detail, the OS user.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Folder holding cluster folders, the initdb cache and kept logs. Default
    /// `$PGFARM_BASE_DIR`, else `/dev/shm/pgfarm-<user>` (RAM; `<tmp>/pgfarm-<user>` when there
    /// is no writable /dev/shm), where `<user>` is the user PostgreSQL runs as. When this
    /// process is root it is owned by that user.
    pub base_dir: PathBuf,
    /// Run initdb once per (installation, initdb options) and copy the result (default true;
    /// env `PGFARM_CACHE_INITDB=0` turns it off).
    pub cache_initdb: bool,
    /// Give each cached copy a new unique system identifier (pg_resetwal; default false, env
    /// `PGFARM_UNIQUE_SYSTEM_ID=1`), as testgres' `cached_initdb_unique`.
    pub unique_system_id: bool,
    /// Remove a cluster's folder when it is dropped normally (default true).
    pub cleanup_on_success: bool,
    /// Remove a cluster's folder when it is dropped during a panic, i.e. a failing test
    /// (default false: kept for inspection; env `PGFARM_CLEANUP_ON_FAILURE=1`).
    pub cleanup_on_failure: bool,
    /// Copy the server log to `<base_dir>/logs/<cluster>.log` before removing a cluster
    /// (default false, env `PGFARM_KEEP_LOGS=1`).
    pub keep_logs: bool,
    /// How many server log lines errors show (default 20, env `PGFARM_ERROR_LOG_LINES`).
    pub error_log_lines: usize,
    /// The OS user that runs server programs when this process is root (default `pgfarm`, env
    /// `PGFARM_PG_USER`).
    pub pg_user: String,
    /// How long start, stop and promotion may take (default 60 s, env `PGFARM_START_TIMEOUT` in
    /// seconds).
    pub start_timeout: Duration,
    /// Run servers (and, in callers that read it, their build and test processes) in this
    /// sandbox (default none). A cluster started with one listens on its unix socket only and
    /// gets its own folder writable inside; see [`crate::sandbox`].
    pub sandbox: Option<crate::sandbox::Sandbox>,
}

impl Config {
    /// The settings read from the environment (read once per process, then immutable).
    pub fn from_env() -> Config {
        static DEFAULT: OnceLock<Config> = OnceLock::new();
        DEFAULT.get_or_init(read_env).clone()
    }

    /// The settings in force on this thread: the innermost [`ConfigScope`], else
    /// [`Config::from_env`].
    pub fn current() -> Config {
        SCOPES.with(|scopes| scopes.borrow().last().cloned()).unwrap_or_else(Config::from_env)
    }

    /// Makes these settings current for this thread until the returned guard is dropped.
    ///
    /// ```
    /// let mut config = pgfarm_pgnode::Config::current();
    /// config.keep_logs = true;
    /// let scope = config.scoped();
    /// assert!(pgfarm_pgnode::Config::current().keep_logs);
    /// drop(scope);
    /// ```
    pub fn scoped(self) -> ConfigScope {
        SCOPES.with(|scopes| scopes.borrow_mut().push(self));
        let depth = SCOPES.with(|scopes| scopes.borrow().len());
        ConfigScope { depth, _not_send: std::marker::PhantomData }
    }

    /// Where cached initdb results live.
    pub fn cache_dir(&self) -> PathBuf {
        self.base_dir.join("initdb-cache")
    }

    /// Where cluster folders are created.
    pub fn clusters_dir(&self) -> PathBuf {
        self.base_dir.join("clusters")
    }
}

thread_local! {
    static SCOPES: RefCell<Vec<Config>> = const { RefCell::new(Vec::new()) };
}

/// Guard returned by [`Config::scoped`]; restores the previous settings of this thread on drop.
/// It is neither `Send` nor `Sync`: a scope belongs to the thread that made it.
#[derive(Debug)]
#[must_use = "the settings apply only while the scope guard lives"]
pub struct ConfigScope {
    depth: usize,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for ConfigScope {
    fn drop(&mut self) {
        // Dropping out of order (an outer guard first) pops the inner ones too.
        SCOPES.with(|scopes| scopes.borrow_mut().truncate(self.depth - 1));
    }
}

fn env_flag(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(value) => matches!(value.trim(), "1" | "true" | "yes" | "on"),
        Err(_) => default,
    }
}

/// `/dev/shm` when it is a writable directory (a RAM file system on Linux), else the temp dir.
///
/// Clusters live in RAM by default because a cluster's life is dominated by creating and
/// removing ~1000 files: measured on this project's 2-core CI machine under load, a cached
/// initdb copy took 108 ms on /dev/shm against 1.7 s on ext4 /tmp. Set `PGFARM_BASE_DIR` for
/// clusters whose data would not fit in memory. A /dev/shm with less than 1 GiB free (Docker's
/// default is 64 MB) is not used.
fn default_parent() -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let writable =
        std::fs::metadata(shm).map(|m| m.is_dir() && !m.permissions().readonly()).unwrap_or(false);
    let roomy = nix::sys::statvfs::statvfs(shm)
        .map(|fs| fs.blocks_available().saturating_mul(fs.fragment_size()) >= 1 << 30)
        .unwrap_or(false);
    if writable && roomy { shm.to_path_buf() } else { std::env::temp_dir() }
}

fn read_env() -> Config {
    let pg_user = std::env::var("PGFARM_PG_USER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "pgfarm".to_owned());
    let base_dir = match std::env::var_os("PGFARM_BASE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let owner = if crate::os_user::is_root() {
                pg_user.clone()
            } else {
                crate::os_user::current_user_name()
            };
            default_parent().join(format!("pgfarm-{owner}"))
        }
    };
    Config {
        base_dir,
        cache_initdb: env_flag("PGFARM_CACHE_INITDB", true),
        unique_system_id: env_flag("PGFARM_UNIQUE_SYSTEM_ID", false),
        cleanup_on_success: !env_flag("PGFARM_KEEP", false),
        cleanup_on_failure: env_flag("PGFARM_CLEANUP_ON_FAILURE", false),
        keep_logs: env_flag("PGFARM_KEEP_LOGS", false),
        error_log_lines: std::env::var("PGFARM_ERROR_LOG_LINES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(20),
        pg_user,
        start_timeout: Duration::from_secs(
            std::env::var("PGFARM_START_TIMEOUT")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(60),
        ),
        sandbox: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        let base = Config::current();
        let mut outer = base.clone();
        outer.error_log_lines = 7;
        let outer_guard = outer.scoped();
        let mut inner = Config::current();
        inner.error_log_lines = 9;
        let inner_guard = inner.scoped();
        assert_eq!(Config::current().error_log_lines, 9);
        drop(inner_guard);
        assert_eq!(Config::current().error_log_lines, 7);
        drop(outer_guard);
        assert_eq!(Config::current(), base);
    }

    #[test]
    fn a_scope_does_not_leak_into_other_threads() {
        let mut changed = Config::current();
        changed.keep_logs = !changed.keep_logs;
        let expected_elsewhere = Config::from_env().keep_logs;
        let _guard = changed.scoped();
        let seen = std::thread::spawn(|| Config::current().keep_logs).join().unwrap();
        assert_eq!(seen, expected_elsewhere);
    }
}
