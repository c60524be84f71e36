//! Exclusive `flock` locks on files under `<tmp>/<folder>/`, shared by every user that runs
//! pgfarm on the machine (the folder is world-writable and sticky, like /tmp itself). flock locks
//! belong to open file descriptions, so two threads of one process conflict exactly like two
//! processes do, and the kernel drops a lock when its process dies: a killed run never leaves a
//! stale lock behind.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// `<tmp>/<folder>`, created world-writable and sticky when missing.
fn lock_dir(folder: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(folder);
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777));
    }
    Ok(dir)
}

/// Takes the exclusive lock on `<tmp>/<folder>/<name>` if nobody holds it; `None` when someone
/// does.
pub(crate) fn try_lock(folder: &str, name: &str) -> Result<Option<Flock<File>>> {
    let path = lock_dir(folder)?.join(name);
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(&path)
    {
        Ok(file) => file,
        // A lock file made by another user may be read-only for us; flock works on it anyway.
        Err(_) => File::open(&path).map_err(|e| Error::io("open", &path, e))?,
    };
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(Some(lock)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, errno)) => Err(Error::io("lock", &path, errno.into())),
    }
}
