//! The initdb cache: one initdb per (installation, initdb options), copied per cluster.
//!
//! `<base_dir>/initdb-cache/<major>-<hash>/data` holds a pristine data directory; `key.txt`
//! next to it records the exact inputs and `complete` marks a finished initdb. Creation is
//! serialised across threads and processes with an exclusive `flock` on `<entry>.lock`, and a
//! half-made entry (the process died during initdb) is redone.
//!
//! To take the copy off the critical path, each entry keeps one ready-made spare copy
//! (`spare-<random>`), prepared by a background thread after a cluster takes the previous one.
//! A cluster claims a spare with an atomic `rename` (so two processes can never get the same
//! one) and falls back to copying when there is none. A spare costs one data directory of disk
//! (~25 MB with sparse WAL) per cache entry; half-made spares of killed processes
//! (`spare-tmp-*`) are removed after a minute.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::command::Command;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::installation::Installation;
use crate::os_user::OsUser;

/// Runs initdb into `data_dir` (which must not exist) as `user`.
pub(crate) fn initdb(
    installation: &Installation,
    args: &[String],
    data_dir: &Path,
    user: Option<&OsUser>,
) -> Result<()> {
    Command::new(installation.bin("initdb"))
        .arg("-D")
        .arg(data_dir)
        .arg("--no-sync")
        .args(args)
        .env("LC_ALL", "C")
        .env_remove("PGDATA")
        .run_as(user)
        .run()?;
    Ok(())
}

/// The path of a cached pristine data directory for these inputs, made if missing.
pub(crate) fn cached_data_dir(
    installation: &Installation,
    args: &[String],
    config: &Config,
    user: Option<&OsUser>,
) -> Result<PathBuf> {
    let cache = config.cache_dir();
    fsutil::create_dir(&config.base_dir, 0o755, user)?;
    fsutil::create_dir(&cache, 0o755, user)?;
    let key = format!(
        "bindir={}\nversion={}\nuser={}\nargs={}\n",
        installation.bindir.display(),
        installation.version,
        user.map(|u| u.name.as_str()).unwrap_or(""),
        args.join("\u{1f}")
    );
    let entry =
        cache.join(format!("{}-{:08x}", installation.major(), crc32c::crc32c(key.as_bytes())));
    let data = entry.join("data");
    let complete = entry.join("complete");
    if complete.is_file() {
        return Ok(data);
    }
    let lock_path = entry.with_extension("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io("open", &lock_path, e))?;
    let _lock: Flock<File> = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| Error::io("lock", &lock_path, errno.into()))?;
    if complete.is_file() {
        return Ok(data);
    }
    fsutil::remove_tree(&entry)?;
    fsutil::create_dir(&entry, 0o755, user)?;
    initdb(installation, args, &data, user)?;
    std::fs::write(entry.join("key.txt"), &key)
        .map_err(|e| Error::io("write", entry.join("key.txt"), e))?;
    std::fs::write(&complete, b"").map_err(|e| Error::io("write", &complete, e))?;
    Ok(data)
}

/// Puts a pristine data directory for these inputs at `dest` (which must not exist): a claimed
/// spare, else a copy of the cached one; then prepares the next spare in the background.
pub(crate) fn materialize(
    installation: &Installation,
    args: &[String],
    config: &Config,
    user: Option<&OsUser>,
    dest: &Path,
) -> Result<()> {
    let source = cached_data_dir(installation, args, config, user)?;
    let entry = source.parent().unwrap_or(Path::new("/")).to_path_buf();
    if !claim_spare(&entry, dest) {
        fsutil::copy_tree(&source, dest, user)?;
    }
    let user = user.cloned();
    std::thread::spawn(move || prepare_spare(&entry, &source, user.as_ref()));
    Ok(())
}

fn spares(entry: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(entry)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("spare-"))
        .map(|e| e.path())
        .collect()
}

fn claim_spare(entry: &Path, dest: &Path) -> bool {
    spares(entry)
        .into_iter()
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("spare-tmp-")))
        .any(|spare| std::fs::rename(&spare, dest).is_ok())
}

fn prepare_spare(entry: &Path, source: &Path, user: Option<&OsUser>) {
    let lock_path = entry.join("spare.lock");
    let Ok(file) = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)
    else {
        return;
    };
    // One preparer per entry at a time, across processes; the others just leave.
    let Ok(_lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else { return };
    let mut ready = false;
    for path in spares(entry) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("spare-tmp-") {
            // Holding the lock means nobody is filling it now: it was left by a dead process.
            let _ = fsutil::remove_tree(&path);
        } else {
            ready = true;
        }
    }
    if ready {
        return;
    }
    let suffix = format!("{:08x}", fastrand::u32(..));
    let tmp = entry.join(format!("spare-tmp-{suffix}"));
    if fsutil::copy_tree(source, &tmp, user).is_ok() {
        let _ = std::fs::rename(&tmp, entry.join(format!("spare-{suffix}")));
    } else {
        let _ = fsutil::remove_tree(&tmp);
    }
}

/// Gives a data directory a new random system identifier, as testgres' unique cached initdb
/// does: the identifier is rewritten in `global/pg_control` with a fixed CRC, then
/// `pg_resetwal -f` writes a WAL segment carrying it.
pub(crate) fn new_system_identifier(
    installation: &Installation,
    data_dir: &Path,
    user: Option<&OsUser>,
) -> Result<u64> {
    let path = data_dir.join("global/pg_control");
    let mut bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    // ControlFileData starts with the u64 system identifier and ends with a CRC-32C over all
    // bytes before it. Its size differs between majors, so find the CRC where it matches.
    let crc_offset = (16..bytes.len().min(1024) - 4)
        .step_by(4)
        .find(|&off| {
            let stored = u32::from_ne_bytes(bytes[off..off + 4].try_into().expect("4-byte slice"));
            crc32c::crc32c(&bytes[..off]) == stored
        })
        .ok_or_else(|| Error::Invalid {
            what: "pg_control",
            reason: format!("{}: no valid CRC found; is this a data directory?", path.display()),
        })?;
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    // Same shape as initdb's identifier: seconds in the high bits, then randomness.
    let sysid = (now.as_secs() << 32) | u64::from(fastrand::u32(..));
    bytes[..8].copy_from_slice(&sysid.to_ne_bytes());
    let crc = crc32c::crc32c(&bytes[..crc_offset]);
    bytes[crc_offset..crc_offset + 4].copy_from_slice(&crc.to_ne_bytes());
    std::fs::write(&path, &bytes).map_err(|e| Error::io("write", &path, e))?;
    Command::new(installation.bin("pg_resetwal"))
        .arg("-f")
        .arg("-D")
        .arg(data_dir)
        .run_as(user)
        .run()?;
    Ok(sysid)
}
