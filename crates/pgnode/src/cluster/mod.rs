//! [`Cluster`]: a throwaway PostgreSQL cluster (data directory + postmaster) and its builder.

mod client;
pub(crate) mod process;
mod replication;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

pub use client::{DumpFormat, Psql};
pub use process::{ProcessKind, ServerProcess};
pub use replication::{Backup, Publication, Subscription, WalMethod};

use crate::cache;
use crate::command::Command;
use crate::config::Config;
use crate::error::{Error, Result, last_lines};
use crate::fsutil;
use crate::installation::Installation;
use crate::os_user::OsUser;
use crate::port::{self, PortLease};

/// Which addresses the server listens on (the unix socket in the cluster's folder always works).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Listen {
    /// TCP on 127.0.0.1 plus the unix socket (default, like testgres).
    #[default]
    Localhost,
    /// Only the unix socket (`listen_addresses = ''`); the port then only names the socket file.
    SocketOnly,
    /// These addresses (the value of `listen_addresses`).
    Addresses(String),
}

impl Listen {
    fn value(&self) -> &str {
        match self {
            Listen::Localhost => "127.0.0.1",
            Listen::SocketOnly => "",
            Listen::Addresses(list) => list,
        }
    }
}

/// Client authentication written by initdb for local and host connections.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Auth {
    /// `trust` (default).
    #[default]
    Trust,
    /// `scram-sha-256`; needs [`ClusterBuilder::password`].
    ScramSha256,
    /// `md5`; needs [`ClusterBuilder::password`].
    Md5,
}

/// How to stop a server (the `pg_ctl stop -m` modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StopMode {
    /// Wait for clients to disconnect (`SIGTERM`).
    Smart,
    /// Disconnect clients, shut down cleanly (`SIGINT`, default).
    #[default]
    Fast,
    /// Quit without a shutdown checkpoint, like a crash (`SIGQUIT`).
    Immediate,
}

impl StopMode {
    fn signal(self) -> Signal {
        match self {
            StopMode::Smart => Signal::SIGTERM,
            StopMode::Fast => Signal::SIGINT,
            StopMode::Immediate => Signal::SIGQUIT,
        }
    }
}

/// What a cluster is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A postmaster runs on the data directory.
    Running,
    /// The data directory exists and no postmaster runs.
    Stopped,
    /// There is no data directory (yet, or any more).
    Uninitialized,
}

/// How to reach a server: its socket folder, port and role. Replicas, publications and
/// subscriptions keep one to talk to the other side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// The cluster's name.
    pub cluster: String,
    /// Unix socket folder.
    pub socket_dir: PathBuf,
    /// Port.
    pub port: u16,
    /// Role to connect as.
    pub user: String,
    /// Password, when the cluster uses password authentication.
    pub password: Option<String>,
}

impl ServerAddress {
    /// A libpq key/value connection string for `dbname`.
    pub fn conninfo(&self, dbname: &str) -> String {
        let mut text = format!(
            "host={} port={} user={} dbname={}",
            conninfo_quote(&self.socket_dir.to_string_lossy()),
            self.port,
            conninfo_quote(&self.user),
            conninfo_quote(dbname)
        );
        if let Some(password) = &self.password {
            text.push_str(&format!(" password={}", conninfo_quote(password)));
        }
        text
    }

    /// Opens a client connection to `dbname`.
    pub fn connect(&self, dbname: &str) -> Result<postgres::Client> {
        let mut config = postgres::Config::new();
        config.host_path(&self.socket_dir).port(self.port).user(&self.user).dbname(dbname);
        config.application_name("pgfarm-pgnode");
        if let Some(password) = &self.password {
            config.password(password);
        }
        config.connect(postgres::NoTls).map_err(|source| Error::Sql {
            cluster: self.cluster.clone(),
            query: format!("(connect to {})", self.conninfo(dbname)),
            source,
            log_tail: String::new(),
        })
    }
}

fn conninfo_quote(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '\'', '\\']) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
    }
}

/// Quotes a value for postgresql.conf.
fn conf_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Settings that decide how a data directory is made and configured; kept by the cluster so
/// that backups and upgrades can make matching clusters.
#[derive(Clone, Debug)]
struct InitSettings {
    superuser: String,
    password: Option<String>,
    auth: Auth,
    locale: Option<String>,
    encoding: Option<String>,
    data_checksums: Option<bool>,
    initdb_args: Vec<String>,
    listen: Listen,
    streaming: bool,
    logical: bool,
    log_statement: String,
    conf: Vec<String>,
}

/// Builds a [`Cluster`]: initdb options, configuration, port, user. Get one from
/// [`Cluster::builder`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until init() or start()"]
pub struct ClusterBuilder {
    installation: Installation,
    config: Option<Config>,
    name: Option<String>,
    port: Option<u16>,
    pg_user: Option<String>,
    settings: InitSettings,
}

impl ClusterBuilder {
    /// Uses these settings instead of [`Config::current`].
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Names the cluster (folder prefix, `cluster_name`, application name of replicas).
    /// Default `pg<major>`; a random suffix keeps folders unique.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Uses this port (default: a free one, see [`crate::port`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Which addresses to listen on (default 127.0.0.1).
    pub fn listen(mut self, listen: Listen) -> Self {
        self.settings.listen = listen;
        self
    }

    /// The bootstrap superuser role (`initdb -U`; default `postgres`).
    pub fn superuser(mut self, role: impl Into<String>) -> Self {
        self.settings.superuser = role.into();
        self
    }

    /// Client authentication (`initdb --auth`; default trust).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.settings.auth = auth;
        self
    }

    /// The superuser's password (`initdb --pwfile`); with [`Auth::Trust`] it switches to
    /// scram-sha-256. Clusters with a password are not taken from the initdb cache.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.settings.password = Some(password.into());
        if self.settings.auth == Auth::Trust {
            self.settings.auth = Auth::ScramSha256;
        }
        self
    }

    /// `initdb --locale` (default: initdb's own, with `LC_ALL=C` in its environment).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.settings.locale = Some(locale.into());
        self
    }

    /// `initdb --encoding`.
    pub fn encoding(mut self, encoding: impl Into<String>) -> Self {
        self.settings.encoding = Some(encoding.into());
        self
    }

    /// Data checksums on (`--data-checksums`) or off (`--no-data-checksums` on PG18, where
    /// they are on by default). Default: the installation's default.
    pub fn data_checksums(mut self, on: bool) -> Self {
        self.settings.data_checksums = Some(on);
        self
    }

    /// Another initdb argument (part of the initdb cache key).
    pub fn initdb_arg(mut self, arg: impl Into<String>) -> Self {
        self.settings.initdb_args.push(arg.into());
        self
    }

    /// Settings for streaming replication: `wal_level = replica`, WAL senders, slots,
    /// `wal_keep_size`, `hot_standby` (PostgreSQL's own defaults already allow a base backup).
    pub fn streaming(mut self, on: bool) -> Self {
        self.settings.streaming = on;
        self
    }

    /// Settings for logical replication: `wal_level = logical` and enough senders, slots and
    /// workers.
    pub fn logical(mut self, on: bool) -> Self {
        self.settings.logical = on;
        self
    }

    /// `log_statement` (default `all`, as testgres; use `none` for quiet benchmarks).
    pub fn log_statement(mut self, value: impl Into<String>) -> Self {
        self.settings.log_statement = value.into();
        self
    }

    /// A line appended to postgresql.conf after pgnode's defaults (`"work_mem = '8MB'"`).
    pub fn conf(mut self, line: impl Into<String>) -> Self {
        self.settings.conf.push(line.into());
        self
    }

    /// The OS user for server programs when this process is root (overrides
    /// [`Config::pg_user`]).
    pub fn pg_user(mut self, name: impl Into<String>) -> Self {
        self.pg_user = Some(name.into());
        self
    }

    /// Creates the data directory (cached initdb + copy, or initdb) and writes the
    /// configuration; the server is not started.
    pub fn init(mut self) -> Result<Cluster> {
        let config = self.config.clone().unwrap_or_else(Config::current);
        if config.sandbox.is_some() && matches!(self.settings.listen, Listen::Localhost) {
            // A sandboxed server has a network namespace of its own: its 127.0.0.1 is not the
            // clients'. Both see the socket folder.
            self.settings.listen = Listen::SocketOnly;
        }
        let os_user = OsUser::for_servers(self.pg_user.as_deref().unwrap_or(&config.pg_user))?;
        let name = self.name.clone().unwrap_or_else(|| format!("pg{}", self.installation.major()));
        let cluster = Cluster::new_folder(
            &self.installation,
            name,
            config,
            os_user,
            self.settings,
            self.port,
        )?;
        let args = cluster.initdb_args()?;
        let cacheable = cluster.config.cache_initdb && cluster.settings.password.is_none();
        let result = if cacheable {
            cache::materialize(
                &cluster.installation,
                &args,
                &cluster.config,
                cluster.os_user.as_ref(),
                &cluster.data_dir,
            )
            .and_then(|()| {
                if cluster.config.unique_system_id {
                    cache::new_system_identifier(
                        &cluster.installation,
                        &cluster.data_dir,
                        cluster.os_user.as_ref(),
                    )
                    .map(|_| ())
                } else {
                    Ok(())
                }
            })
        } else {
            cache::initdb(&cluster.installation, &args, &cluster.data_dir, cluster.os_user.as_ref())
        };
        result?;
        cluster.write_default_conf()?;
        Ok(cluster)
    }

    /// [`ClusterBuilder::init`], then [`Cluster::start`].
    pub fn start(self) -> Result<Cluster> {
        let mut cluster = self.init()?;
        cluster.start()?;
        Ok(cluster)
    }
}

/// The running postmaster: the supervisor process and the pipe that keeps it alive.
#[derive(Debug)]
struct Postmaster {
    supervisor: Child,
    /// Closing this (drop, or the owner's death) makes the supervisor stop the server.
    _lifeline: ChildStdin,
}

/// A PostgreSQL cluster in its own folder: `data/`, `sock/` (unix socket) and `postgres.log`.
///
/// Dropping it stops the server and removes the folder, unless
/// [`Config::cleanup_on_success`]/[`Config::cleanup_on_failure`] say to keep it (a cluster
/// dropped while the thread panics counts as a failure and is kept by default).
///
/// # Watchdog
///
/// A process that dies without running `Drop` (a `kill -9`, an abort) still takes its servers
/// down: each postmaster runs under a tiny `/bin/sh` supervisor whose stdin is a pipe that only
/// the owning process holds (Rust opens pipes close-on-exec, so no other child inherits it).
/// When the owner dies the kernel closes the pipe, the supervisor reads end-of-file and sends
/// the postmaster SIGINT (fast shutdown), then SIGQUIT after 10 s and SIGKILL after 20 s.
/// `PR_SET_PDEATHSIG` was not used because it fires when the *thread* that spawned the child
/// exits, which would kill a cluster made in one test thread and used in another; a helper
/// binary was not used because a library cannot count on finding it. The supervisor runs in
/// its own process group, so a terminal's Ctrl-C reaches only the owner, which stops servers
/// in order.
///
/// ```no_run
/// use pgfarm_pgnode::{Cluster, Installation};
/// let installation = Installation::find(15)?;
/// let cluster = Cluster::builder(&installation).start()?;
/// assert_eq!(cluster.safe_psql("select 1")?.trim(), "1");
/// # Ok::<(), pgfarm_pgnode::Error>(())
/// ```
#[derive(Debug)]
pub struct Cluster {
    name: String,
    dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_path: PathBuf,
    installation: Installation,
    config: Config,
    os_user: Option<OsUser>,
    settings: InitSettings,
    port: u16,
    port_lease: Option<PortLease>,
    port_fixed: bool,
    postmaster: Option<Postmaster>,
    primary: Option<ServerAddress>,
    /// False for adopted data directories ([`Cluster::open`]): their data is never removed.
    owns_data: bool,
    keep: bool,
}

impl Cluster {
    /// A builder for a cluster of this installation.
    pub fn builder(installation: &Installation) -> ClusterBuilder {
        ClusterBuilder {
            installation: installation.clone(),
            config: None,
            name: None,
            port: None,
            pg_user: None,
            settings: InitSettings {
                superuser: "postgres".to_owned(),
                password: None,
                auth: Auth::Trust,
                locale: None,
                encoding: None,
                data_checksums: None,
                initdb_args: Vec::new(),
                listen: Listen::Localhost,
                streaming: false,
                logical: false,
                log_statement: "all".to_owned(),
                conf: Vec::new(),
            },
        }
    }

    /// Adopts an existing data directory (made elsewhere) so it can be started, queried and
    /// stopped; its data is never removed on drop. `superuser` names a role that exists in it.
    pub fn open(
        installation: &Installation,
        data_dir: impl AsRef<Path>,
        superuser: &str,
    ) -> Result<Cluster> {
        let data_dir = data_dir.as_ref();
        if !data_dir.join("PG_VERSION").is_file() {
            return Err(Error::NotACluster { path: data_dir.to_path_buf() });
        }
        let config = Config::current();
        let os_user = OsUser::for_servers(&config.pg_user)?;
        let mut settings = Cluster::builder(installation).settings;
        settings.superuser = superuser.to_owned();
        let name = data_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "adopted".into());
        let mut cluster = Cluster::new_folder(installation, name, config, os_user, settings, None)?;
        cluster.data_dir = data_dir.to_path_buf();
        cluster.owns_data = false;
        Ok(cluster)
    }

    fn new_folder(
        installation: &Installation,
        name: String,
        config: Config,
        os_user: Option<OsUser>,
        settings: InitSettings,
        port: Option<u16>,
    ) -> Result<Cluster> {
        let owner = os_user.as_ref();
        fsutil::create_dir(&config.base_dir, 0o755, owner)?;
        let clusters = config.clusters_dir();
        fsutil::create_dir(&clusters, 0o755, owner)?;
        let dir = loop {
            let candidate = clusters.join(format!("{name}-{:06x}", fastrand::u32(..0x100_0000)));
            match std::fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create directory", &candidate, e)),
            }
        };
        fsutil::create_dir(&dir, 0o755, owner)?;
        let socket_dir = dir.join("sock");
        // The kernel limits a socket path to 107 bytes: <dir>/sock/.s.PGSQL.NNNNN.
        if socket_dir.as_os_str().len() + 18 > 107 {
            let _ = fsutil::remove_tree(&dir);
            return Err(Error::Invalid {
                what: "base_dir",
                reason: format!(
                    "socket path {}/.s.PGSQL.NNNNN would exceed 107 bytes; use a shorter PGFARM_BASE_DIR",
                    socket_dir.display()
                ),
            });
        }
        fsutil::create_dir(&socket_dir, 0o755, owner)?;
        let log_path = dir.join("postgres.log");
        fsutil::write_file(&log_path, b"", owner)?;
        let (lease, fixed) = match port {
            Some(port) => match port::reserve(port) {
                Ok(lease) => (lease, true),
                Err(e) => {
                    let _ = fsutil::remove_tree(&dir);
                    return Err(e);
                }
            },
            None => (port::reserve_any()?, false),
        };
        Ok(Cluster {
            name,
            data_dir: dir.join("data"),
            socket_dir,
            log_path,
            dir,
            installation: installation.clone(),
            config,
            os_user,
            settings,
            port: lease.port(),
            port_lease: Some(lease),
            port_fixed: fixed,
            postmaster: None,
            primary: None,
            owns_data: true,
            keep: false,
        })
    }

    fn initdb_args(&self) -> Result<Vec<String>> {
        let s = &self.settings;
        let mut args = vec![format!("--username={}", s.superuser)];
        match (&s.auth, &s.password) {
            (Auth::Trust, _) => args.push("--auth=trust".to_owned()),
            (auth, Some(password)) => {
                let method = if *auth == Auth::Md5 { "md5" } else { "scram-sha-256" };
                args.push(format!("--auth={method}"));
                let pwfile = self.dir.join("pwfile");
                fsutil::write_file(&pwfile, password.as_bytes(), self.os_user.as_ref())?;
                args.push(format!("--pwfile={}", pwfile.display()));
            }
            (_, None) => {
                return Err(Error::Invalid {
                    what: "auth",
                    reason: "password authentication needs ClusterBuilder::password".to_owned(),
                });
            }
        }
        if let Some(locale) = &s.locale {
            args.push(format!("--locale={locale}"));
        }
        if let Some(encoding) = &s.encoding {
            args.push(format!("--encoding={encoding}"));
        }
        match s.data_checksums {
            Some(true) => args.push("--data-checksums".to_owned()),
            Some(false) if self.installation.major() >= 18 => {
                args.push("--no-data-checksums".to_owned())
            }
            _ => {}
        }
        args.extend(s.initdb_args.iter().cloned());
        Ok(args)
    }

    fn write_default_conf(&self) -> Result<()> {
        let s = &self.settings;
        let mut conf = String::from("\n# --- pgfarm-pgnode test defaults ---\n");
        conf.push_str("fsync = off\n");
        conf.push_str(&format!("log_statement = {}\n", conf_quote(&s.log_statement)));
        conf.push_str("log_line_prefix = '%m [%p] %q%u@%d '\n");
        conf.push_str("logging_collector = off\n");
        conf.push_str("log_destination = 'stderr'\n");
        if s.streaming || s.logical {
            conf.push_str(&format!(
                "wal_level = {}\n",
                if s.logical { "logical" } else { "replica" }
            ));
            conf.push_str("max_wal_senders = 10\nmax_replication_slots = 10\nhot_standby = on\nwal_keep_size = '128MB'\n");
        }
        if s.logical {
            conf.push_str("max_logical_replication_workers = 8\nmax_worker_processes = 16\n");
        }
        for line in &s.conf {
            conf.push_str(line);
            conf.push('\n');
        }
        fsutil::append_file(&self.data_dir.join("postgresql.conf"), &conf, self.os_user.as_ref())
    }

    // ----- accessors -------------------------------------------------------------------

    /// The cluster's name (also its `cluster_name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster's folder (holds `data/`, `sock/` and `postgres.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The unix socket folder (use it as `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP host when listening on TCP (`127.0.0.1`), else the socket folder.
    pub fn host(&self) -> String {
        match &self.settings.listen {
            Listen::SocketOnly => self.socket_dir.to_string_lossy().into_owned(),
            Listen::Localhost => "127.0.0.1".to_owned(),
            Listen::Addresses(list) => {
                list.split(',').next().unwrap_or("127.0.0.1").trim().to_owned()
            }
        }
    }

    /// The bootstrap superuser role.
    pub fn superuser(&self) -> &str {
        &self.settings.superuser
    }

    /// The installation the cluster runs.
    pub fn installation(&self) -> &Installation {
        &self.installation
    }

    /// The settings the cluster was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The OS user server programs run as (`None`: the current user).
    pub fn os_user(&self) -> Option<&OsUser> {
        self.os_user.as_ref()
    }

    /// How to reach this server over its unix socket.
    pub fn address(&self) -> ServerAddress {
        ServerAddress {
            cluster: self.name.clone(),
            socket_dir: self.socket_dir.clone(),
            port: self.port,
            user: self.settings.superuser.clone(),
            password: self.settings.password.clone(),
        }
    }

    /// A libpq key/value connection string over the unix socket.
    pub fn conninfo(&self, dbname: &str) -> String {
        self.address().conninfo(dbname)
    }

    /// A `postgresql://` URI: TCP on the listen address, or the socket folder as `host` query
    /// parameter when listening on the socket only.
    pub fn uri(&self, dbname: &str) -> String {
        let user = percent_encode(&self.settings.superuser);
        let auth = match &self.settings.password {
            Some(password) => format!("{user}:{}@", percent_encode(password)),
            None => format!("{user}@"),
        };
        match &self.settings.listen {
            Listen::SocketOnly => format!(
                "postgresql://{auth}/{}?host={}&port={}",
                percent_encode(dbname),
                percent_encode(&self.socket_dir.to_string_lossy()),
                self.port
            ),
            _ => format!(
                "postgresql://{auth}{}:{}/{}",
                self.host(),
                self.port,
                percent_encode(dbname)
            ),
        }
    }

    /// Keeps the folder on drop whatever the configuration says (the server is still stopped).
    pub fn keep_on_drop(&mut self) {
        self.keep = true;
    }

    // ----- configuration ---------------------------------------------------------------

    /// Appends a line to postgresql.conf (takes effect on reload or restart).
    pub fn append_conf(&self, line: &str) -> Result<()> {
        self.append_conf_to("postgresql.conf", line)
    }

    /// Appends a line to a file in the data directory (`pg_hba.conf`, an included file, ...).
    pub fn append_conf_to(&self, file: &str, line: &str) -> Result<()> {
        let mut text = line.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        fsutil::append_file(&self.data_dir.join(file), &text, self.os_user.as_ref())
    }

    /// Sets `name = value` in postgresql.auto.conf (replacing an earlier setting), like
    /// `ALTER SYSTEM` but without a running server.
    pub fn set_auto_conf(&self, name: &str, value: &str) -> Result<()> {
        let path = self.data_dir.join("postgresql.auto.conf");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut out = String::new();
        for line in old.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            if !key.eq_ignore_ascii_case(name) {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!("{name} = {}\n", conf_quote(value)));
        fsutil::write_file(&path, out.as_bytes(), self.os_user.as_ref())
    }

    // ----- server log -------------------------------------------------------------------

    /// The current end of the server log, to read what comes after with [`Cluster::log_since`].
    pub fn log_position(&self) -> u64 {
        std::fs::metadata(&self.log_path).map(|m| m.len()).unwrap_or(0)
    }

    /// What the server logged since `position`.
    pub fn log_since(&self, position: u64) -> Result<String> {
        use std::io::{Read as _, Seek as _};
        let mut file = std::fs::File::open(&self.log_path)
            .map_err(|e| Error::io("open", &self.log_path, e))?;
        file.seek(std::io::SeekFrom::Start(position))
            .map_err(|e| Error::io("seek", &self.log_path, e))?;
        let mut raw = Vec::new();
        file.read_to_end(&mut raw).map_err(|e| Error::io("read", &self.log_path, e))?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }

    /// The last `n` lines of the server log.
    pub fn log_tail(&self, n: usize) -> String {
        let len = self.log_position();
        let text = self.log_since(len.saturating_sub(64 * 1024)).unwrap_or_default();
        last_lines(&text, n)
    }

    /// Waits until the log, after `position`, contains `needle`.
    pub fn wait_for_log(&self, position: u64, needle: &str, timeout: Duration) -> Result<String> {
        let mut found = String::new();
        let ok = process::wait_until(timeout, || match self.log_since(position) {
            Ok(text) if text.contains(needle) => {
                found = text;
                true
            }
            _ => false,
        });
        if ok {
            Ok(found)
        } else {
            Err(Error::Timeout {
                what: format!("{needle:?} in the server log"),
                after: timeout,
                log_tail: self.error_log_tail(),
            })
        }
    }

    pub(crate) fn error_log_tail(&self) -> String {
        self.log_tail(self.config.error_log_lines)
    }

    // ----- life cycle ---------------------------------------------------------------------

    /// Starts the server and waits until it accepts connections (`postmaster.pid` says ready;
    /// polled every 1-5 ms, no pg_ctl). An automatically chosen port that turns out to be
    /// taken ("address already in use") is replaced and the start retried.
    pub fn start(&mut self) -> Result<()> {
        self.start_with_args(&[])
    }

    /// [`Cluster::start`] with extra `postgres` arguments (`["-c", "work_mem=1MB"]`).
    pub fn start_with_args(&mut self, extra: &[&str]) -> Result<()> {
        if self.status() == Status::Running {
            return Err(Error::State {
                cluster: self.name.clone(),
                reason: "is already running".to_owned(),
            });
        }
        if !self.data_dir.join("PG_VERSION").is_file() {
            return Err(Error::NotACluster { path: self.data_dir.clone() });
        }
        // Two retryable failures: the port was taken between reservation and bind (take another
        // port), and backends of a killed postmaster still holding its shared memory (they exit
        // within moments of noticing the postmaster's death; wait for them, up to ~5 s).
        let mut port_retries = 0;
        let mut shmem_retries = 0;
        loop {
            let position = self.log_position();
            match self.spawn_postmaster(extra) {
                Ok(()) => return Ok(()),
                Err(err @ Error::StartFailed { .. }) => {
                    let log = self.log_since(position).unwrap_or_default();
                    let port_taken =
                        log.contains("Address already in use") || log.contains("could not bind");
                    if port_taken && !self.port_fixed && port_retries < 4 {
                        port_retries += 1;
                        self.port_lease = None;
                        let lease = port::reserve_any()?;
                        self.port = lease.port();
                        self.port_lease = Some(lease);
                        continue;
                    }
                    if log.contains("pre-existing shared memory block") && shmem_retries < 25 {
                        shmem_retries += 1;
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                    return Err(err);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The configured sandbox for this cluster's server: its folder writable, the host's pid
    /// namespace (the owner reads postmaster.pid and signals that pid).
    fn server_sandbox(&self) -> Option<crate::sandbox::Sandbox> {
        let sandbox = self.config.sandbox.clone()?;
        let mut sandbox = sandbox.without_pid_namespace().writable(&self.dir);
        if !self.data_dir.starts_with(&self.dir) {
            sandbox = sandbox.writable(&self.data_dir);
        }
        Some(sandbox)
    }

    fn spawn_postmaster(&mut self, extra: &[&str]) -> Result<()> {
        // A pid file left by a killed server: postgres would check it too, but we must not
        // mistake its old "ready" for the new server's.
        if let Some(stale) = process::read_pid_file(&self.data_dir) {
            if process::alive(stale.pid) {
                return Err(Error::State {
                    cluster: self.name.clone(),
                    reason: format!(
                        "a postmaster (pid {}) already runs on {}",
                        stale.pid,
                        self.data_dir.display()
                    ),
                });
            }
            let _ = std::fs::remove_file(self.data_dir.join("postmaster.pid"));
        }
        let log = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.log_path)
            .map_err(|e| Error::io("open", &self.log_path, e))?;
        let log2 = log.try_clone().map_err(|e| Error::io("open", &self.log_path, e))?;
        let command = Command::new("/bin/sh")
            .arg("-c")
            .arg(process::SUPERVISOR)
            .arg("pgfarm-supervisor")
            .arg(self.installation.bin("postgres"))
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.socket_dir.display()))
            .arg("-c")
            .arg(format!("listen_addresses={}", self.settings.listen.value()))
            .arg("-c")
            .arg(format!("cluster_name={}", self.name))
            .args(extra)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .current_dir(&self.dir)
            .own_process_group()
            .run_as(self.os_user.as_ref())
            .sandbox(self.server_sandbox().as_ref());
        let mut child = command.spawn(Stdio::piped(), Stdio::from(log), Stdio::from(log2))?;
        let lifeline = child.stdin.take().expect("stdin was configured as a pipe");
        self.postmaster = Some(Postmaster { supervisor: child, _lifeline: lifeline });
        let timeout = self.config.start_timeout;
        let mut exit: Option<Option<i32>> = None;
        let ready = process::wait_until(timeout, || {
            if let Some(pm) = self.postmaster.as_mut()
                && let Ok(Some(status)) = pm.supervisor.try_wait()
            {
                exit = Some(status.code());
                return true;
            }
            matches!(process::read_pid_file(&self.data_dir), Some(p) if p.status == "ready" || p.status == "standby")
        });
        if let Some(code) = exit {
            self.postmaster = None;
            return Err(Error::StartFailed {
                cluster: self.name.clone(),
                code,
                log_tail: self.error_log_tail(),
            });
        }
        if !ready {
            let _ = self.stop_with(StopMode::Immediate);
            return Err(Error::Timeout {
                what: format!("cluster {} to accept connections", self.name),
                after: timeout,
                log_tail: self.error_log_tail(),
            });
        }
        Ok(())
    }

    /// Stops the server (fast mode); stopping a stopped server is fine.
    pub fn stop(&mut self) -> Result<()> {
        self.stop_with(StopMode::Fast)
    }

    /// Stops the server in the given mode and waits for the postmaster to exit.
    pub fn stop_with(&mut self, mode: StopMode) -> Result<()> {
        let pid = self.pid();
        let Some(pid) = pid else {
            if let Some(mut pm) = self.postmaster.take() {
                let _ = pm.supervisor.wait();
            }
            return Ok(());
        };
        process::signal(pid, mode.signal());
        let timeout = self.config.start_timeout;
        if self.wait_exit(pid, timeout) {
            return Ok(());
        }
        // Escalate so that nothing is left running, then report.
        process::signal(pid, Signal::SIGQUIT);
        if !self.wait_exit(pid, Duration::from_secs(5)) {
            process::signal(pid, Signal::SIGKILL);
            self.wait_exit(pid, Duration::from_secs(5));
        }
        Err(Error::Timeout {
            what: format!("cluster {} to stop ({mode:?})", self.name),
            after: timeout,
            log_tail: self.error_log_tail(),
        })
    }

    fn wait_exit(&mut self, pid: i32, timeout: Duration) -> bool {
        let done = match self.postmaster.as_mut() {
            Some(pm) => {
                process::wait_until(timeout, || matches!(pm.supervisor.try_wait(), Ok(Some(_))))
            }
            None => process::wait_until(timeout, || !process::alive(pid)),
        };
        if done {
            self.postmaster = None;
        }
        done
    }

    /// Stops and starts the server.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.start()
    }

    /// Makes the server re-read its configuration files (`SIGHUP`).
    pub fn reload(&self) -> Result<()> {
        let pid = self.running_pid()?;
        process::signal(pid, Signal::SIGHUP);
        Ok(())
    }

    /// Sends a signal to the postmaster (default use: `SIGKILL` to simulate a crash).
    pub fn kill(&mut self, signal: Signal) -> Result<()> {
        let pid = self.running_pid()?;
        process::signal(pid, signal);
        if matches!(signal, Signal::SIGKILL | Signal::SIGQUIT | Signal::SIGTERM | Signal::SIGINT) {
            self.wait_exit(pid, self.config.start_timeout);
        }
        Ok(())
    }

    /// Promotes a standby (`pg_ctl promote -w`) and forgets its primary.
    pub fn promote(&mut self) -> Result<()> {
        self.running_pid()?;
        Command::new(self.installation.bin("pg_ctl"))
            .arg("promote")
            .arg("-w")
            .arg("-t")
            .arg(self.config.start_timeout.as_secs().max(1).to_string())
            .arg("-D")
            .arg(&self.data_dir)
            .env("LC_ALL", "C")
            .run_as(self.os_user.as_ref())
            .run()
            .map_err(|e| e.with_log_tail(|| self.error_log_tail()))?;
        self.primary = None;
        Ok(())
    }

    /// Running, stopped or uninitialized.
    pub fn status(&self) -> Status {
        if !self.data_dir.join("PG_VERSION").is_file() {
            return Status::Uninitialized;
        }
        match process::read_pid_file(&self.data_dir) {
            Some(pid) if process::alive(pid.pid) => Status::Running,
            _ => Status::Stopped,
        }
    }

    /// The postmaster's pid while it runs.
    pub fn pid(&self) -> Option<i32> {
        process::read_pid_file(&self.data_dir).map(|p| p.pid).filter(|pid| process::alive(*pid))
    }

    fn running_pid(&self) -> Result<i32> {
        self.pid().ok_or_else(|| Error::State {
            cluster: self.name.clone(),
            reason: "is not running".to_owned(),
        })
    }

    /// The postmaster's child processes (auxiliary processes and backends).
    pub fn child_processes(&self) -> Result<Vec<ServerProcess>> {
        Ok(process::children(self.running_pid()?, Some(&self.name)))
    }

    /// The auxiliary processes (everything but client backends), e.g. to find the checkpointer
    /// or a WAL sender.
    pub fn auxiliary_processes(&self) -> Result<Vec<ServerProcess>> {
        Ok(self.child_processes()?.into_iter().filter(|p| p.kind != ProcessKind::Backend).collect())
    }

    /// The child processes of one kind.
    pub fn processes_of(&self, kind: ProcessKind) -> Result<Vec<ServerProcess>> {
        Ok(self.child_processes()?.into_iter().filter(|p| p.kind == kind).collect())
    }

    /// `pg_controldata` as a map (`"Database cluster state"` → `"in production"`).
    pub fn control_data(&self) -> Result<BTreeMap<String, String>> {
        let out = Command::new(self.installation.bin("pg_controldata"))
            .arg("-D")
            .arg(&self.data_dir)
            .env("LC_ALL", "C")
            .run_as(self.os_user.as_ref())
            .run()?;
        Ok(out
            .stdout
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect())
    }

    /// Gives the (stopped) cluster a new unique system identifier (pg_resetwal).
    pub fn new_system_identifier(&self) -> Result<u64> {
        if self.status() == Status::Running {
            return Err(Error::State {
                cluster: self.name.clone(),
                reason: "must be stopped to change its system identifier".to_owned(),
            });
        }
        cache::new_system_identifier(&self.installation, &self.data_dir, self.os_user.as_ref())
    }

    fn remove_folder(&mut self) {
        if self.config.keep_logs {
            let logs = self.config.base_dir.join("logs");
            if fsutil::create_dir(&logs, 0o755, None).is_ok() {
                let _ =
                    std::fs::copy(&self.log_path, logs.join(format!("{}.log", self.dir_name())));
            }
        }
        if self.owns_data {
            if let Err(err) = fsutil::remove_tree(&self.dir) {
                tracing::warn!(cluster = %self.name, error = %err, "cannot remove cluster folder");
            }
        } else {
            let _ = fsutil::remove_tree(&self.dir);
        }
    }

    fn dir_name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.name.clone())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        let remove = !self.keep
            && if panicking {
                self.config.cleanup_on_failure
            } else {
                self.config.cleanup_on_success
            };
        // A folder about to be removed needs no shutdown checkpoint: stop immediately.
        let mode = if remove && self.owns_data { StopMode::Immediate } else { StopMode::Fast };
        if let Err(err) = self.stop_with(mode) {
            tracing::warn!(cluster = %self.name, error = %err, "cannot stop cluster on drop");
            let _ = self.stop_with(StopMode::Immediate);
        }
        if remove {
            self.remove_folder();
        } else {
            tracing::info!(cluster = %self.name, dir = %self.dir.display(), "kept cluster folder");
        }
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
