//! The build cache of `pgfarm test`: a content-addressed store of one build's output per
//! installation, so that a second run with nothing changed skips `make` and `make install`.
//!
//! An entry lives in `<pgfarm home>/build-cache/<key>/` ([`pgfarm_pgnode::home::dir`]) and holds
//! `src/` (the built copy of the source, modification times kept so make finds it up to date)
//! and `install/` (what `make install DESTDIR=..` staged: the files the extension installs, under
//! their absolute paths). The key ([`key`]) is a SHA-256 over the source copy's contents (paths,
//! modes, bytes, link targets), the installation (pg_config path, version and a fingerprint of its
//! tree: size and modification time of `postgres`, `pg_config`, PGXS's makefile and
//! `pg_config.h`), the make variables and pgfarm's version. An entry is complete once its
//! `complete` stamp exists (written last, after a rename of the whole folder), so an interrupted
//! run leaves no half entry that a later run would use.
//!
//! Entries are never evicted by pgfarm; removing the folder is always safe.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use pgfarm_pgnode::Installation;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// The stamp file of a complete entry.
const COMPLETE: &str = "complete";

/// The cache folder: `<pgfarm home>/build-cache`, `None` without a home folder.
pub fn dir() -> Option<PathBuf> {
    pgfarm_pgnode::home::dir().map(|home| home.join("build-cache"))
}

/// The cache key of a build of the source copy `src` for `installation` with the make
/// `variables`: lowercase hex SHA-256.
pub fn key(src: &Path, installation: &Installation, variables: &[String]) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(b"pgfarm build cache 1\0");
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(b"\0pg_config\0");
    hasher.update(installation.pg_config.as_os_str().as_encoded_bytes());
    hasher.update(b"\0version\0");
    hasher.update(installation.version.full.as_bytes());
    for file in [
        installation.bin("postgres"),
        installation.pg_config.clone(),
        installation.pgxs.clone(),
        installation.includedir_server.join("pg_config.h"),
    ] {
        hasher.update(b"\0tree file\0");
        hasher.update(file.as_os_str().as_encoded_bytes());
        if let Ok(meta) = fs::metadata(&file) {
            hasher.update(meta.len().to_le_bytes());
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            hasher.update(mtime.to_le_bytes());
        }
    }
    for variable in variables {
        hasher.update(b"\0make variable\0");
        hasher.update(variable.as_bytes());
    }
    hasher.update(b"\0source\0");
    hash_tree(src, src, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

fn hash_tree(root: &Path, dir: &Path, hasher: &mut Sha256) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(|e| Error::io("could not read directory", dir, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io("could not read directory", dir, e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let meta =
            fs::symlink_metadata(&path).map_err(|e| Error::io("could not stat", &path, e))?;
        hasher.update(b"\0entry\0");
        hasher.update(rel.as_os_str().as_encoded_bytes());
        hasher.update(meta.permissions().mode().to_le_bytes());
        if meta.file_type().is_symlink() {
            let target =
                fs::read_link(&path).map_err(|e| Error::io("could not read link", &path, e))?;
            hasher.update(b"link\0");
            hasher.update(target.as_os_str().as_encoded_bytes());
        } else if meta.is_dir() {
            hasher.update(b"dir\0");
            hash_tree(root, &path, hasher)?;
        } else {
            hasher.update(b"file\0");
            hasher.update(meta.len().to_le_bytes());
            let mut file =
                fs::File::open(&path).map_err(|e| Error::io("could not read", &path, e))?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::io("could not read", &path, e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
    }
    Ok(())
}

/// One cache entry, complete or being written.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `<cache>/<key>`.
    pub dir: PathBuf,
    /// The key.
    pub key: String,
}

impl Entry {
    /// The entry of `key` in the cache folder `cache`.
    pub fn new(cache: &Path, key: &str) -> Entry {
        Entry { dir: cache.join(key), key: key.to_owned() }
    }

    /// Whether the entry is complete (built and installed).
    pub fn is_complete(&self) -> bool {
        self.dir.join(COMPLETE).is_file()
    }

    /// The built source copy.
    pub fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    /// The `make install` staging folder (files under their absolute paths).
    pub fn install(&self) -> PathBuf {
        self.dir.join("install")
    }

    /// Writes the entry from a built source copy and a `make install DESTDIR` staging folder:
    /// both are copied into a temporary folder beside the entry, which is renamed into place
    /// and then stamped complete. An existing complete entry is left as it is.
    pub fn store(&self, built: &Path, staged: &Path) -> Result<()> {
        if self.is_complete() {
            return Ok(());
        }
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .map_err(|e| Error::io("could not create directory", parent, e))?;
        let partial = parent.join(format!(".{}.partial-{}", self.key, std::process::id()));
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(|e| Error::io("could not remove", &partial, e))?;
        }
        copy_keeping_times(built, &partial.join("src"))?;
        copy_keeping_times(staged, &partial.join("install"))?;
        if self.is_complete() {
            // Another run stored the same entry meanwhile; it may be read right now.
            let _ = fs::remove_dir_all(&partial);
            return Ok(());
        }
        if self.dir.exists() {
            // An incomplete entry (a run stopped between rename and stamp).
            fs::remove_dir_all(&self.dir)
                .map_err(|e| Error::io("could not remove", &self.dir, e))?;
        }
        fs::rename(&partial, &self.dir)
            .map_err(|e| Error::io("could not rename into the build cache", &partial, e))?;
        let stamp = self.dir.join(COMPLETE);
        fs::write(&stamp, format!("{}\n", self.key))
            .map_err(|e| Error::io("could not write", &stamp, e))
    }
}

/// Copies a tree (files with modes and modification times, symlinks as symlinks, folders), so
/// that make sees a restored build as up to date.
pub fn copy_keeping_times(from: &Path, to: &Path) -> Result<usize> {
    let meta = fs::metadata(from).map_err(|e| Error::io("could not stat", from, e))?;
    fs::create_dir_all(to).map_err(|e| Error::io("could not create directory", to, e))?;
    let mut files = 0;
    for entry in fs::read_dir(from).map_err(|e| Error::io("could not read directory", from, e))? {
        let entry = entry.map_err(|e| Error::io("could not read directory", from, e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let file_type = entry.file_type().map_err(|e| Error::io("could not stat", &path, e))?;
        if file_type.is_symlink() {
            let link =
                fs::read_link(&path).map_err(|e| Error::io("could not read link", &path, e))?;
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("could not create symlink", &target, e))?;
        } else if file_type.is_dir() {
            files += copy_keeping_times(&path, &target)?;
        } else {
            copy_file_keeping_time(&path, &target)?;
            files += 1;
        }
    }
    fs::set_permissions(to, meta.permissions())
        .map_err(|e| Error::io("could not set the mode of", to, e))?;
    Ok(files)
}

fn copy_file_keeping_time(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).map_err(|e| Error::io("could not copy", from, e))?;
    let modified = fs::metadata(from)
        .and_then(|m| m.modified())
        .map_err(|e| Error::io("could not stat", from, e))?;
    let file =
        fs::File::options().write(true).open(to).map_err(|e| Error::io("could not open", to, e))?;
    file.set_modified(modified).map_err(|e| Error::io("could not set the time of", to, e))
}

/// What [`install_staged`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    /// Files (and links) written into the tree.
    pub written: Vec<PathBuf>,
    /// Files already in the tree with the same bytes and mode.
    pub unchanged: usize,
}

/// Installs the files of a staging folder (`DESTDIR`: each under its absolute path) into their
/// places, writing only those that differ from what is there.
pub fn install_staged(staged: &Path) -> Result<Installed> {
    let mut out = Installed::default();
    install_dir(staged, staged, &mut out)?;
    Ok(out)
}

fn install_dir(root: &Path, dir: &Path, out: &mut Installed) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(|e| Error::io("could not read directory", dir, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io("could not read directory", dir, e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let target = Path::new("/").join(rel);
        let file_type = entry.file_type().map_err(|e| Error::io("could not stat", &path, e))?;
        if file_type.is_dir() {
            if !target.is_dir() {
                fs::create_dir_all(&target)
                    .map_err(|e| Error::io("could not create directory", &target, e))?;
            }
            install_dir(root, &path, out)?;
        } else if file_type.is_symlink() {
            let link =
                fs::read_link(&path).map_err(|e| Error::io("could not read link", &path, e))?;
            if fs::read_link(&target).is_ok_and(|old| old == link) {
                out.unchanged += 1;
                continue;
            }
            let _ = fs::remove_file(&target);
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("could not create symlink", &target, e))?;
            out.written.push(target);
        } else {
            let new = fs::read(&path).map_err(|e| Error::io("could not read", &path, e))?;
            let mode = fs::metadata(&path)
                .map_err(|e| Error::io("could not stat", &path, e))?
                .permissions()
                .mode();
            let same = fs::symlink_metadata(&target).is_ok_and(|m| {
                m.is_file() && m.permissions().mode() == mode && m.len() == new.len() as u64
            }) && fs::read(&target).is_ok_and(|old| old == new);
            if same {
                out.unchanged += 1;
                continue;
            }
            // A fresh file renamed over the old one: a running server that mapped the old
            // library keeps its copy.
            let tmp = target.with_file_name(format!(
                ".{}.pgfarm-{}",
                target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                std::process::id()
            ));
            fs::write(&tmp, &new).map_err(|e| Error::io("could not write", &tmp, e))?;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("could not set the mode of", &tmp, e))?;
            fs::rename(&tmp, &target).map_err(|e| Error::io("could not install", &target, e))?;
            out.written.push(target);
        }
    }
    Ok(())
}

/// Whether a staging folder holds any file (a makefile that ignores `DESTDIR` installs
/// straight into the tree and stages nothing: such a build is not cached).
pub fn stages_anything(staged: &Path) -> bool {
    fn any_file(dir: &Path) -> bool {
        fs::read_dir(dir).into_iter().flatten().flatten().any(|entry| {
            entry.file_type().is_ok_and(|t| if t.is_dir() { any_file(&entry.path()) } else { true })
        })
    }
    any_file(staged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_copy_keeps_modification_times_and_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        fs::create_dir_all(from.join("sub")).unwrap();
        fs::write(from.join("sub/a.o"), "x").unwrap();
        fs::set_permissions(from.join("sub/a.o"), fs::Permissions::from_mode(0o755)).unwrap();
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(from.join("sub/a.o"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::os::unix::fs::symlink("a.o", from.join("sub/link")).unwrap();
        let to = dir.path().join("to");
        assert_eq!(copy_keeping_times(&from, &to).unwrap(), 1);
        let meta = fs::metadata(to.join("sub/a.o")).unwrap();
        assert_eq!(meta.modified().unwrap(), old);
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        assert_eq!(fs::read_link(to.join("sub/link")).unwrap(), Path::new("a.o"));
    }

    #[test]
    fn staged_files_install_once_and_then_are_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        let staged = dir.path().join("staging");
        let inner = staged.join(tree.strip_prefix("/").unwrap()).join("lib");
        fs::create_dir_all(&inner).unwrap();
        fs::write(inner.join("x.so"), "library").unwrap();
        assert!(stages_anything(&staged));
        let first = install_staged(&staged).unwrap();
        assert_eq!(first.written, vec![tree.join("lib/x.so")]);
        assert_eq!(fs::read_to_string(tree.join("lib/x.so")).unwrap(), "library");
        let second = install_staged(&staged).unwrap();
        assert_eq!((second.written.len(), second.unchanged), (0, 1));
        fs::write(tree.join("lib/x.so"), "changed").unwrap();
        assert_eq!(install_staged(&staged).unwrap().written.len(), 1);
        assert!(!stages_anything(&dir.path().join("empty-staging")));
    }
}
