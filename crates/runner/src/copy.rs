//! A faithful copy of an extension's source tree for a build: files with their modes, symlinks
//! as symlinks (their targets unchanged), empty folders. Left out: version-control folders,
//! what a previous `make installcheck` left behind at the top (`results/`, `output_iso/`,
//! `tmp_check/`, `log/`, `regression.diffs`, `regression.out`), and any folder that is pgfarm's
//! own output (it holds a [`OUTPUT_MARKER`] file, or is one of the `skip` paths), so a copy never
//! descends into itself. Anything that cannot be copied is an error naming the file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file pgfarm writes into its output and work folders; a folder holding it is never copied.
pub const OUTPUT_MARKER: &str = ".pgfarm-output";

/// Names left out at the top of the tree: what pg_regress, pg_isolation_regress and prove
/// write there (`make clean` removes them too).
const TOP_LEVEL_OUTPUTS: [&str; 6] =
    ["results", "output_iso", "tmp_check", "log", "regression.diffs", "regression.out"];

/// Names left out at every level.
const ALWAYS_SKIPPED: [&str; 4] = [".git", ".hg", ".svn", OUTPUT_MARKER];

/// Marks `dir` as pgfarm's output so that copies of a tree containing it leave it out.
pub fn mark_output(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("could not create directory", dir, e))?;
    let marker = dir.join(OUTPUT_MARKER);
    if !marker.exists() {
        fs::write(&marker, "pgfarm output: left out of source copies\n")
            .map_err(|e| Error::io("could not write", &marker, e))?;
    }
    Ok(())
}

/// Copies the tree at `from` to `to` (created; must not exist or be empty). `skip` lists
/// canonical paths never to enter (pgfarm's work and output folders).
pub fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<CopyStats> {
    let mut stats = CopyStats::default();
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| fs::canonicalize(p).ok()).collect();
    copy_dir(from, to, true, &skip, &mut stats)?;
    Ok(stats)
}

/// What a copy copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Regular files.
    pub files: usize,
    /// Symbolic links.
    pub symlinks: usize,
    /// Folders (the top one included).
    pub dirs: usize,
}

fn copy_dir(
    from: &Path,
    to: &Path,
    top: bool,
    skip: &[PathBuf],
    stats: &mut CopyStats,
) -> Result<()> {
    let meta = fs::metadata(from).map_err(|e| Error::io("could not stat", from, e))?;
    fs::create_dir_all(to).map_err(|e| Error::io("could not create directory", to, e))?;
    stats.dirs += 1;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(from)
        .map_err(|e| Error::io("could not read directory", from, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io("could not read directory", from, e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if ALWAYS_SKIPPED.contains(&text.as_ref())
            || (top && TOP_LEVEL_OUTPUTS.contains(&text.as_ref()))
        {
            continue;
        }
        let path = entry.path();
        let target = to.join(&name);
        let file_type = entry.file_type().map_err(|e| Error::io("could not stat", &path, e))?;
        if file_type.is_symlink() {
            let link =
                fs::read_link(&path).map_err(|e| Error::io("could not read link", &path, e))?;
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("could not create symlink", &target, e))?;
            stats.symlinks += 1;
        } else if file_type.is_dir() {
            if path.join(OUTPUT_MARKER).exists()
                || fs::canonicalize(&path).is_ok_and(|c| skip.contains(&c))
            {
                continue;
            }
            copy_dir(&path, &target, false, skip, stats)?;
        } else if file_type.is_file() {
            // fs::copy keeps the permission bits.
            fs::copy(&path, &target).map_err(|e| Error::io("could not copy", &path, e))?;
            stats.files += 1;
        } else {
            return Err(Error::io(
                "could not copy (not a file, folder or symlink)",
                &path,
                std::io::Error::from(std::io::ErrorKind::Unsupported),
            ));
        }
    }
    fs::set_permissions(to, meta.permissions())
        .map_err(|e| Error::io("could not set the mode of", to, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn copies_symlinks_modes_and_empty_folders_and_leaves_outputs_out() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("ext");
        fs::create_dir_all(src.join("sql")).unwrap();
        fs::create_dir_all(src.join("empty")).unwrap();
        fs::create_dir_all(src.join("results")).unwrap();
        fs::create_dir_all(src.join("sub/results")).unwrap();
        fs::write(src.join("README.md"), "hi").unwrap();
        std::os::unix::fs::symlink("README.md", src.join("acl.md")).unwrap();
        fs::write(src.join("configure"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("configure"), fs::Permissions::from_mode(0o755)).unwrap();
        // pgfarm's own output inside the source (the default ./pgfarm-results).
        mark_output(&src.join("pgfarm-results")).unwrap();
        fs::write(src.join("pgfarm-results/x.pgfarm.json.gz"), "").unwrap();
        let out = dir.path().join("copy");
        let stats = copy_tree(&src, &out, &[]).unwrap();
        assert_eq!(fs::read_link(out.join("acl.md")).unwrap(), Path::new("README.md"));
        assert_eq!(
            fs::metadata(out.join("configure")).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(out.join("empty").is_dir());
        assert!(!out.join("results").exists(), "top-level results/ is pg_regress output");
        assert!(out.join("sub/results").is_dir(), "results/ below the top is source");
        assert!(!out.join("pgfarm-results").exists());
        assert_eq!(stats.symlinks, 1);
    }

    #[test]
    fn a_copy_into_the_source_never_descends_into_itself() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("ext");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("a.sql"), "").unwrap();
        let work = src.join("work");
        fs::create_dir_all(&work).unwrap();
        copy_tree(&src, &work.join("pg16/src"), std::slice::from_ref(&work)).unwrap();
        assert!(work.join("pg16/src/a.sql").is_file());
        assert!(!work.join("pg16/src/work").exists());
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("ext");
        fs::create_dir_all(&src).unwrap();
        std::os::unix::net::UnixListener::bind(src.join("sock")).unwrap();
        let err = copy_tree(&src, &dir.path().join("copy"), &[]).unwrap_err().to_string();
        assert!(err.contains("sock"), "{err}");
    }
}
