//! Safe unpacking of a release zip.

use crate::{Error, Result};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Caps on what an archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Members (files, folders and links), default 20,000.
    pub max_members: usize,
    /// Bytes written in all, default 1 GiB (counted while writing, whatever the headers claim).
    pub max_total_bytes: u64,
    /// Uncompressed to compressed size of one member, default 200 (a zip bomb is far above it;
    /// real sources stay under 20) ...
    pub max_ratio: u64,
    /// ... enforced once a member has written this many bytes, default 1 MiB (small files of
    /// one repeated byte are harmless however well they compress).
    pub ratio_floor: u64,
}

impl Default for UnpackLimits {
    fn default() -> UnpackLimits {
        UnpackLimits {
            max_members: 20_000,
            max_total_bytes: 1 << 30,
            max_ratio: 200,
            ratio_floor: 1 << 20,
        }
    }
}

/// What [`unpack`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// `{target}/{top}`.
    pub root: PathBuf,
    pub files: usize,
    pub folders: usize,
    pub symlinks: usize,
    pub bytes: u64,
}

/// Unpacks the zip `archive` into `target`, whose only new entry is the archive's one top folder
/// (`top`, or whatever single folder every member shares when `None`); it must not exist yet.
///
/// Refused, with an error naming the member: absolute paths, `..` or `.` components, backslashes,
/// members outside the top folder, a member where another one needs a folder (or the reverse),
/// duplicates, symbolic links whose target is absolute or resolves outside the top folder (links
/// are created last, then resolved on disk), and the caps of `limits`. Files get mode 0755 when the
/// zip's unix mode has an execute bit or they start with `#!`, else 0644; folders 0755. On any
/// error the top folder is removed: nothing is left behind and nothing is ever written outside it.
pub fn unpack(
    archive: &Path,
    target: &Path,
    top: Option<&str>,
    limits: &UnpackLimits,
) -> Result<Unpacked> {
    let file = File::open(archive).map_err(|e| Error::io("open", archive, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::Zip { archive: archive.to_owned(), reason: e.to_string() })?;
    if zip.len() > limits.max_members {
        return Err(Error::ArchiveLimit {
            archive: archive.to_owned(),
            reason: format!("{} members, more than the limit of {}", zip.len(), limits.max_members),
        });
    }
    let plan = plan(archive, &mut zip, top, limits)?;
    let root = target.join(&plan.top);
    std::fs::create_dir_all(target).map_err(|e| Error::io("create directory", target, e))?;
    match std::fs::symlink_metadata(&root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Ok(_) => {
            return Err(Error::Member {
                archive: archive.to_owned(),
                member: format!("{}/", plan.top),
                reason: format!("{} already exists", root.display()),
            });
        }
        Err(e) => return Err(Error::io("inspect", &root, e)),
    }
    std::fs::create_dir(&root).map_err(|e| Error::io("create directory", &root, e))?;
    let result = write(archive, &mut zip, &plan, &root, limits);
    if result.is_err() {
        // remove_dir_all never follows symbolic links
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

enum Kind {
    Folder,
    File,
    Symlink,
}

struct Entry {
    index: usize,
    name: String,
    /// Components below the top folder.
    rel: Vec<String>,
    kind: Kind,
}

struct Plan {
    top: String,
    entries: Vec<Entry>,
}

/// Reads every member's header (nothing is decompressed or written) and checks the names.
fn plan(
    archive: &Path,
    zip: &mut zip::ZipArchive<File>,
    top: Option<&str>,
    limits: &UnpackLimits,
) -> Result<Plan> {
    let mut entries = Vec::with_capacity(zip.len());
    let mut files: HashSet<Vec<String>> = HashSet::new();
    let mut folders: HashSet<Vec<String>> = HashSet::new();
    let mut top = top.map(str::to_owned);
    let mut declared = 0u64;
    for index in 0..zip.len() {
        let member = zip
            .by_index_raw(index)
            .map_err(|e| Error::Zip { archive: archive.to_owned(), reason: e.to_string() })?;
        let name = String::from_utf8_lossy(member.name_raw()).into_owned();
        let bad = |reason: String| Error::Member {
            archive: archive.to_owned(),
            member: name.clone(),
            reason,
        };
        let kind = if member.is_symlink() {
            Kind::Symlink
        } else if member.is_dir() {
            Kind::Folder
        } else {
            Kind::File
        };
        declared = declared.saturating_add(member.size());
        if declared > limits.max_total_bytes {
            return Err(bad(format!(
                "the archive declares more than {} bytes in all",
                limits.max_total_bytes
            )));
        }
        let parts = member_parts(&name).map_err(bad)?;
        let first = &parts[0];
        match &top {
            Some(t) if t != first => {
                return Err(bad(format!("is outside the archive's top folder {t}/")));
            }
            Some(_) => {}
            None => top = Some(first.clone()),
        }
        let rel: Vec<String> = parts[1..].to_vec();
        if rel.is_empty() && !matches!(kind, Kind::Folder) {
            return Err(bad("is a file where the top folder must be".into()));
        }
        for depth in 0..rel.len() {
            let prefix = &rel[..depth];
            if files.contains(prefix) {
                return Err(bad(format!(
                    "needs {}/ to be a folder, but the archive has a file there",
                    prefix.join("/")
                )));
            }
            folders.insert(prefix.to_vec());
        }
        match kind {
            Kind::Folder => {
                if files.contains(&rel) {
                    return Err(bad("is a folder where the archive has a file".into()));
                }
                folders.insert(rel.clone());
            }
            Kind::File | Kind::Symlink => {
                if folders.contains(&rel) {
                    return Err(bad(
                        "is a file where a folder must be (other members are inside it)".into(),
                    ));
                }
                if !files.insert(rel.clone()) {
                    return Err(bad("appears twice in the archive".into()));
                }
            }
        }
        entries.push(Entry { index, name, rel, kind });
    }
    let top = top.ok_or_else(|| Error::Zip {
        archive: archive.to_owned(),
        reason: "the archive is empty".into(),
    })?;
    Ok(Plan { top, entries })
}

/// A member's path split into components, or why it is refused.
fn member_parts(name: &str) -> Result<Vec<String>, String> {
    if name.is_empty() {
        return Err("has an empty name".into());
    }
    if name.contains('\0') {
        return Err("has a NUL byte in its name".into());
    }
    if name.starts_with('/') || name.starts_with('\\') || name.as_bytes().get(1) == Some(&b':') {
        return Err("is an absolute path".into());
    }
    if name.contains('\\') {
        return Err("has a backslash in its path".into());
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" => return Err("has an empty path component (`//`)".into()),
            ".." => return Err("has a `..` component: it would escape the target folder".into()),
            "." => return Err("has a `.` component".into()),
            _ => parts.push(part.to_owned()),
        }
    }
    Ok(parts)
}

fn write(
    archive: &Path,
    zip: &mut zip::ZipArchive<File>,
    plan: &Plan,
    root: &Path,
    limits: &UnpackLimits,
) -> Result<Unpacked> {
    let mut done = Unpacked { root: root.to_owned(), files: 0, folders: 0, symlinks: 0, bytes: 0 };
    let mut links = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    for entry in &plan.entries {
        let bad = |reason: String| Error::Member {
            archive: archive.to_owned(),
            member: entry.name.clone(),
            reason,
        };
        let path = entry.rel.iter().fold(root.to_owned(), |p, c| p.join(c));
        if let Some(parent) = path.parent() {
            make_folders(root, parent)?;
        }
        let mut member = zip.by_index(entry.index).map_err(|e| bad(e.to_string()))?;
        match entry.kind {
            Kind::Folder => {
                make_folders(root, &path)?;
                done.folders += 1;
            }
            Kind::Symlink => {
                let mut target = Vec::new();
                (&mut member)
                    .take(4097)
                    .read_to_end(&mut target)
                    .map_err(|e| bad(e.to_string()))?;
                let target = String::from_utf8(target)
                    .map_err(|_| bad("is a link whose target is not UTF-8".into()))?;
                check_link(&entry.rel, &target).map_err(bad)?;
                links.push((entry, path, target));
            }
            Kind::File => {
                let compressed = member.compressed_size().max(1);
                let mode_exec = member.unix_mode().is_some_and(|m| m & 0o111 != 0);
                let mut out = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| bad(format!("cannot be created: {e}")))?;
                let mut written = 0u64;
                let mut shebang = false;
                loop {
                    let n = member
                        .read(&mut buf)
                        .map_err(|e| bad(format!("cannot be decompressed: {e}")))?;
                    if n == 0 {
                        break;
                    }
                    if written == 0 {
                        shebang = buf[..n].starts_with(b"#!");
                    }
                    written += n as u64;
                    done.bytes += n as u64;
                    if done.bytes > limits.max_total_bytes {
                        return Err(bad(format!(
                            "unpacks past the limit of {} bytes in all",
                            limits.max_total_bytes
                        )));
                    }
                    if written > limits.ratio_floor && written / compressed > limits.max_ratio {
                        return Err(bad(format!(
                            "compression ratio over {}:1 ({written} bytes from {compressed}): a zip bomb?",
                            limits.max_ratio
                        )));
                    }
                    out.write_all(&buf[..n]).map_err(|e| Error::io("write", &path, e))?;
                }
                let mode = if mode_exec || shebang { 0o755 } else { 0o644 };
                out.set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(|e| Error::io("chmod", &path, e))?;
                done.files += 1;
            }
        }
    }
    // Links last, so that no file was written through one; then resolved on disk.
    let real_root = root.canonicalize().map_err(|e| Error::io("resolve", root, e))?;
    for (_, path, target) in &links {
        std::os::unix::fs::symlink(target, path).map_err(|e| Error::io("create link", path, e))?;
        done.symlinks += 1;
    }
    for (entry, path, target) in &links {
        let inside = path.canonicalize().is_ok_and(|real| real.starts_with(&real_root));
        if !inside {
            return Err(Error::Member {
                archive: archive.to_owned(),
                member: entry.name.clone(),
                reason: format!(
                    "is a link to {target:?}, which does not resolve to a file inside the top folder"
                ),
            });
        }
    }
    Ok(done)
}

/// Creates `dir` and its parents below `root`, refusing to pass through anything but a folder.
fn make_folders(root: &Path, dir: &Path) -> Result<()> {
    let rel = dir.strip_prefix(root).unwrap_or(Path::new(""));
    let mut at = root.to_owned();
    for component in rel.components() {
        let Component::Normal(part) = component else { continue };
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::io(
                    "create directory",
                    &at,
                    std::io::Error::other("not a folder"),
                ));
            }
            Err(_) => {
                std::fs::create_dir(&at).map_err(|e| Error::io("create directory", &at, e))?;
                std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| Error::io("chmod", &at, e))?;
            }
        }
    }
    Ok(())
}

/// A link target must be relative and stay inside the top folder when read lexically from the
/// link's own folder (the on-disk check after creation catches chains of links).
fn check_link(rel: &[String], target: &str) -> Result<(), String> {
    if target.is_empty() || target.contains('\0') {
        return Err("is a link with an empty or NUL target".into());
    }
    if target.starts_with('/') {
        return Err(format!("is a link to the absolute path {target:?}"));
    }
    let mut depth: Vec<&str> = rel[..rel.len() - 1].iter().map(String::as_str).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if depth.pop().is_none() {
                    return Err(format!("is a link to {target:?}, outside the top folder"));
                }
            }
            p => depth.push(p),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert_eq!(member_parts("x-1/a/b.c").unwrap(), ["x-1", "a", "b.c"]);
        assert_eq!(member_parts("x-1/").unwrap(), ["x-1"]);
        for bad in ["/etc/passwd", "x/../../y", "x/./y", "x//y", "x\\y", "C:/x", "\\x", ""] {
            assert!(member_parts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn link_targets() {
        let rel = ["sql".to_owned(), "link".to_owned()];
        assert!(check_link(&rel, "../README").is_ok());
        assert!(check_link(&rel, "x.sql").is_ok());
        assert!(check_link(&rel, "../../etc").is_err());
        assert!(check_link(&rel, "/etc/passwd").is_err());
    }
}
