//! PostgreSQL installations: found from `pg_config`, a bin dir, pgfarm's per-user trees
//! (`$PGFARM_HOME/pg/*`), `PGFARM_PG_DIR`, `.pg/*`, `PATH` or `/usr/lib/postgresql/*`, described
//! by `pg_config` and `postgres -V`, and named `<major>@<origin>` (`15@debian`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::command::Command;
use crate::error::{Error, Result};

/// A PostgreSQL version: major, minor and the full text (`15.19`, `18beta1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    /// Major version (13, 14, ...).
    pub major: u32,
    /// Minor version (0 for betas).
    pub minor: u32,
    /// The version as PostgreSQL prints it.
    pub full: String,
}

impl Version {
    /// Parses `postgres (PostgreSQL) 15.19`, `PostgreSQL 15.19 (Debian ...)` or `15.19`.
    pub fn parse(text: &str) -> Option<Version> {
        let word = text
            .split_whitespace()
            .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
        let digits: String = word.chars().take_while(|c| c.is_ascii_digit()).collect();
        let major = digits.parse().ok()?;
        let rest = &word[digits.len()..];
        let minor = rest
            .strip_prefix('.')
            .map(|r| r.chars().take_while(|c| c.is_ascii_digit()).collect::<String>())
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        Some(Version { major, minor, full: word.to_owned() })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full)
    }
}

/// One PostgreSQL installation (a bin dir with its pg_config).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Installation {
    /// The server's version (`postgres -V`).
    pub version: Version,
    /// The version `pg_config` reports (differs from the server's in merged trees such as
    /// pgfarm's PG13, whose headers are 13.4 and server 13.23).
    pub pg_config_version: Version,
    /// The `pg_config` program.
    pub pg_config: PathBuf,
    /// `BINDIR`.
    pub bindir: PathBuf,
    /// `SHAREDIR`.
    pub sharedir: PathBuf,
    /// `PKGLIBDIR` (extension libraries).
    pub pkglibdir: PathBuf,
    /// `LIBDIR`.
    pub libdir: PathBuf,
    /// `INCLUDEDIR-SERVER` (server headers).
    pub includedir_server: PathBuf,
    /// `PGXS` (the pgxs.mk makefile).
    pub pgxs: PathBuf,
}

/// Exclusive use of an installation's tree (see [`Installation::lock_tree`]); released on drop.
#[derive(Debug)]
pub struct TreeLock {
    tree: PathBuf,
    _lock: nix::fcntl::Flock<std::fs::File>,
}

impl TreeLock {
    /// The locked tree's canonical SHAREDIR.
    pub fn tree(&self) -> &Path {
        &self.tree
    }
}

/// 64-bit FNV-1a: a lock file name that every pgfarm build derives alike from a path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Installation {
    /// Describes the installation `pg_config` belongs to.
    pub fn from_pg_config(pg_config: impl AsRef<Path>) -> Result<Installation> {
        let pg_config = pg_config.as_ref();
        if !pg_config.is_file() {
            return Err(Error::BadInstallation {
                pg_config: pg_config.to_path_buf(),
                reason: "no such file".to_owned(),
            });
        }
        let out = Command::new(pg_config).run()?;
        let mut fields = BTreeMap::new();
        for line in out.stdout.lines() {
            if let Some((key, value)) = line.split_once(" = ") {
                fields.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
        let bad =
            |reason: String| Error::BadInstallation { pg_config: pg_config.to_path_buf(), reason };
        let field = |key: &str| -> Result<PathBuf> {
            fields
                .get(key)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .ok_or_else(|| bad(format!("pg_config printed no {key}")))
        };
        let pg_config_version = fields
            .get("VERSION")
            .and_then(|v| Version::parse(v))
            .ok_or_else(|| bad("pg_config printed no parsable VERSION".to_owned()))?;
        let bindir = field("BINDIR")?;
        let postgres = bindir.join("postgres");
        if !postgres.is_file() {
            return Err(bad(format!("no server program at {}", postgres.display())));
        }
        let server = Command::new(&postgres).arg("-V").run()?;
        let version = Version::parse(&server.stdout).ok_or_else(|| {
            bad(format!("cannot parse `{} -V` output {:?}", postgres.display(), server.stdout))
        })?;
        Ok(Installation {
            version,
            pg_config_version,
            pg_config: pg_config.to_path_buf(),
            bindir,
            sharedir: field("SHAREDIR")?,
            pkglibdir: field("PKGLIBDIR")?,
            libdir: field("LIBDIR")?,
            includedir_server: field("INCLUDEDIR-SERVER")?,
            pgxs: field("PGXS")?,
        })
    }

    /// Describes the installation whose programs are in `bindir`.
    pub fn from_bindir(bindir: impl AsRef<Path>) -> Result<Installation> {
        Installation::from_pg_config(bindir.as_ref().join("pg_config"))
    }

    /// Major version.
    pub fn major(&self) -> u32 {
        self.version.major
    }

    /// Where this installation comes from, judged by its bin dir (Debian's `/usr/bin/pg_config`
    /// wrapper belongs to `/usr/lib/postgresql/<major>/bin`).
    pub fn origin(&self) -> Origin {
        Origin::of(&self.bindir)
    }

    /// The installation's name, `<major>@<origin>` (`17@pgfarm`, `15@debian`), as `pgfarm pg
    /// list` shows it and `--pg` accepts it.
    pub fn name(&self) -> String {
        format!("{}@{}", self.major(), self.origin())
    }

    /// Path of a program in the bin dir (`initdb`, `psql`, ...).
    pub fn bin(&self, program: &str) -> PathBuf {
        self.bindir.join(program)
    }

    /// Where pg_regress is (`<pkglibdir>/pgxs/src/test/regress/pg_regress`).
    pub fn pg_regress(&self) -> PathBuf {
        // PGXS is <pkglibdir>/pgxs/src/makefiles/pgxs.mk.
        let src_dir = self.pgxs.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
        src_dir.join("test/regress/pg_regress")
    }

    /// True when the server headers are installed (`postgres.h`).
    pub fn has_headers(&self) -> bool {
        self.includedir_server.join("postgres.h").is_file()
    }

    /// True when PGXS is installed (pgxs.mk and pg_regress).
    pub fn has_pgxs(&self) -> bool {
        self.pgxs.is_file() && self.pg_regress().is_file()
    }

    /// True when pgTAP can be created (`share/extension/pgtap.control`).
    pub fn has_pgtap(&self) -> bool {
        self.sharedir.join("extension/pgtap.control").is_file()
    }

    /// Waits until no other pgfarm process or thread holds this installation's tree, then holds
    /// it until the [`TreeLock`] is dropped: for installing an extension into the tree and
    /// testing what was installed without another run overwriting it meanwhile. `on_wait` is
    /// called once when the tree is busy; `cancelled` is polled every 50 ms while waiting, and
    /// `Ok(None)` is returned when it says so.
    ///
    /// The lock is an exclusive `flock` on `<tmp>/pgfarm-installs/<hash of SHAREDIR>.lock`
    /// (SHAREDIR made canonical, so two symbolic links to one tree share a lock), dropped by
    /// the kernel if the process dies.
    pub fn lock_tree(
        &self,
        cancelled: &dyn Fn() -> bool,
        on_wait: &mut dyn FnMut(),
    ) -> Result<Option<TreeLock>> {
        let tree = std::fs::canonicalize(&self.sharedir).unwrap_or_else(|_| self.sharedir.clone());
        let name = format!("{:016x}.lock", fnv1a(tree.as_os_str().as_encoded_bytes()));
        let mut waited = false;
        loop {
            if let Some(lock) = crate::lockfile::try_lock("pgfarm-installs", &name)? {
                return Ok(Some(TreeLock { tree, _lock: lock }));
            }
            if !waited {
                waited = true;
                on_wait();
            }
            if cancelled() {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Finds every installation on this machine (see [`Installation::search_paths`]), with
    /// the same tree found twice listed once, sorted by major then discovery order.
    ///
    /// Candidates are probed concurrently (each costs a `pg_config` and a `postgres -V`, tens
    /// of milliseconds on a busy machine; Debian's `/usr/bin/pg_config` is a wrapper script),
    /// and a file reached twice through symbolic links (`/bin` and `/usr/bin`) is probed once.
    pub fn discover() -> Vec<Installation> {
        let mut candidates: Vec<(PathBuf, PathBuf)> = Vec::new();
        for candidate in Installation::search_paths() {
            if !candidate.is_file() {
                continue;
            }
            let real = std::fs::canonicalize(&candidate).unwrap_or_else(|_| candidate.clone());
            if !candidates.iter().any(|(r, _)| *r == real) {
                candidates.push((real, candidate));
            }
        }
        let probed: Vec<Option<Installation>> = std::thread::scope(|scope| {
            let handles: Vec<_> = candidates
                .iter()
                .map(|(_, candidate)| {
                    scope.spawn(move || Installation::from_pg_config(candidate).ok())
                })
                .collect();
            handles.into_iter().map(|h| h.join().ok().flatten()).collect()
        });
        let mut found: Vec<(PathBuf, Installation)> = Vec::new();
        for installation in probed.into_iter().flatten() {
            let key =
                std::fs::canonicalize(&installation.bindir).unwrap_or(installation.bindir.clone());
            if found.iter().any(|(k, _)| *k == key) {
                continue;
            }
            found.push((key, installation));
        }
        let mut list: Vec<Installation> = found.into_iter().map(|(_, i)| i).collect();
        list.sort_by_key(|i| i.major());
        list
    }

    /// The installation of this major version that [`Installation::discover`] finds first
    /// (pgfarm's own trees before `PATH` before the distribution's).
    pub fn find(major: u32) -> Result<Installation> {
        Installation::discover().into_iter().find(|i| i.major() == major).ok_or_else(|| {
            Error::InstallationNotFound {
                wanted: format!("major {major}"),
                searched: searched_text(),
            }
        })
    }

    /// The newest installation found.
    pub fn newest() -> Result<Installation> {
        Installation::discover().into_iter().max_by_key(|i| i.major()).ok_or_else(|| {
            Error::InstallationNotFound {
                wanted: "any major".to_owned(),
                searched: searched_text(),
            }
        })
    }

    /// The `pg_config` candidates, in priority order: pgfarm's own trees
    /// (`$PGFARM_HOME/pg/*/bin`, see [`crate::home`]), `$PGFARM_PG_DIR/*/bin` (or
    /// `$PGFARM_PG_DIR/bin`), `.pg/*/bin` in the current directory and its ancestors, each
    /// `PATH` entry, `/usr/lib/postgresql/*/bin`.
    pub fn search_paths() -> Vec<PathBuf> {
        let mut paths = Vec::new();
        let add_tree_dir = |dir: &Path, paths: &mut Vec<PathBuf>| {
            if dir.join("bin/pg_config").is_file() {
                paths.push(dir.join("bin/pg_config"));
            }
            let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("bin/pg_config").is_file())
                .collect();
            // Newest major first within one folder.
            children.sort_by_key(|p| {
                std::cmp::Reverse(
                    p.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()),
                )
            });
            paths.extend(children.into_iter().map(|p| p.join("bin/pg_config")));
        };
        if let Some(dir) = crate::home::trees_dir() {
            add_tree_dir(&dir, &mut paths);
        }
        if let Some(dir) = pg_dir_var() {
            add_tree_dir(&dir, &mut paths);
        }
        if let Some(pg) = checkout_dir() {
            add_tree_dir(&pg, &mut paths);
        }
        if let Some(path) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&path).map(|d| d.join("pg_config")));
        }
        add_tree_dir(Path::new("/usr/lib/postgresql"), &mut paths);
        paths
    }
}

/// `$PGFARM_PG_DIR` when set and not empty.
fn pg_dir_var() -> Option<PathBuf> {
    std::env::var_os("PGFARM_PG_DIR").filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// The first `.pg/` folder in the current directory or one of its ancestors (old checkouts).
fn checkout_dir() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|dir| dir.join(".pg")).find(|pg| pg.is_dir())
}

/// Where an installation comes from: the second half of its name (`15@debian`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A tree `pgfarm pg install` made under `$PGFARM_HOME/pg/` (`pgfarm`).
    Pgfarm,
    /// A tree under `$PGFARM_PG_DIR` (`dir`).
    Dir,
    /// A tree under a `.pg/` folder of the current directory or a parent (`checkout`).
    Checkout,
    /// The distribution's packages under `/usr/lib/postgresql/` (`debian`).
    Debian,
    /// Anywhere else: a `pg_config` on `PATH` or given by path (`path`).
    Path,
}

impl Origin {
    /// Every origin, in discovery order.
    pub const ALL: [Origin; 5] =
        [Origin::Pgfarm, Origin::Dir, Origin::Checkout, Origin::Debian, Origin::Path];

    /// The origin of an installation by the path of its bin dir or `pg_config` (symbolic
    /// links resolved on both sides).
    pub fn of(path: &Path) -> Origin {
        let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let file = real(path);
        let under = |dir: Option<PathBuf>| {
            dir.is_some_and(|d| file.starts_with(real(&d)) || path.starts_with(&d))
        };
        if under(crate::home::trees_dir()) {
            Origin::Pgfarm
        } else if under(pg_dir_var()) {
            Origin::Dir
        } else if under(checkout_dir()) {
            Origin::Checkout
        } else if under(Some(PathBuf::from("/usr/lib/postgresql"))) {
            Origin::Debian
        } else {
            Origin::Path
        }
    }

    /// The origin's name (`pgfarm`, `dir`, `checkout`, `debian`, `path`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Pgfarm => "pgfarm",
            Origin::Dir => "dir",
            Origin::Checkout => "checkout",
            Origin::Debian => "debian",
            Origin::Path => "path",
        }
    }

    /// The origin named `name`, if any.
    pub fn from_name(name: &str) -> Option<Origin> {
        Origin::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) fn searched_text() -> String {
    let mut places = Vec::new();
    match crate::home::trees_dir() {
        Some(dir) => places.push(dir.display().to_string()),
        None => places.push("$PGFARM_HOME/pg (no home folder)".to_owned()),
    }
    if let Some(dir) = pg_dir_var() {
        places.push(format!("PGFARM_PG_DIR={}", dir.display()));
    }
    places.push(".pg/ in the current directory and its parents".to_owned());
    places.push("PATH".to_owned());
    places.push("/usr/lib/postgresql/*".to_owned());
    places.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_each_programs_output() {
        let v = Version::parse("postgres (PostgreSQL) 15.19").unwrap();
        assert_eq!((v.major, v.minor, v.full.as_str()), (15, 19, "15.19"));
        let v = Version::parse("PostgreSQL 13.4 (Debian 13.4-1)").unwrap();
        assert_eq!((v.major, v.minor), (13, 4));
        let v = Version::parse("postgres (PostgreSQL) 18beta1").unwrap();
        assert_eq!((v.major, v.minor, v.full.as_str()), (18, 0, "18beta1"));
        assert!(Version::parse("no digits here").is_none());
    }

    fn fake(sharedir: &Path) -> Installation {
        let version = Version::parse("PostgreSQL 17.0").unwrap();
        Installation {
            version: version.clone(),
            pg_config_version: version,
            pg_config: sharedir.join("bin/pg_config"),
            bindir: sharedir.join("bin"),
            sharedir: sharedir.to_owned(),
            pkglibdir: sharedir.join("lib"),
            libdir: sharedir.join("lib"),
            includedir_server: sharedir.join("include/server"),
            pgxs: sharedir.join("lib/pgxs/src/makefiles/pgxs.mk"),
        }
    }

    #[test]
    fn a_tree_lock_excludes_other_holders_until_dropped_and_a_wait_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("share")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("share"), dir.path().join("link")).unwrap();
        let one = fake(&dir.path().join("share"));
        let same_tree = fake(&dir.path().join("link"));
        let held = one.lock_tree(&|| false, &mut || panic!("free tree")).unwrap().unwrap();
        assert_eq!(held.tree(), std::fs::canonicalize(dir.path().join("share")).unwrap());

        // Through a symbolic link it is the same tree: busy; a cancelled wait gives up.
        let mut waits = 0;
        let gave_up = same_tree.lock_tree(&|| true, &mut || waits += 1).unwrap();
        assert!(gave_up.is_none());
        assert_eq!(waits, 1);

        // A waiter gets the tree once the holder drops it.
        let (sender, receiver) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut waited = false;
            let lock = same_tree.lock_tree(&|| false, &mut || waited = true).unwrap();
            sender.send(()).unwrap();
            (lock.is_some(), waited)
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(receiver.try_recv().is_err(), "the waiter must not get a held tree");
        drop(held);
        assert_eq!(waiter.join().unwrap(), (true, true));

        // Another tree is independent.
        let other = tempfile::tempdir().unwrap();
        let _a = one.lock_tree(&|| false, &mut || panic!("free")).unwrap().unwrap();
        let _b = fake(other.path()).lock_tree(&|| false, &mut || panic!("free")).unwrap().unwrap();
    }

    #[test]
    fn missing_pg_config_is_a_clear_error() {
        let err = Installation::from_pg_config("/nonexistent/bin/pg_config").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/bin/pg_config: no such file"), "{err}");
    }
}
