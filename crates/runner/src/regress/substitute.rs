//! `input/*.source` and `output/*.source` conversion of pg_regress up to PostgreSQL 14:
//! `@abs_srcdir@`, `@abs_builddir@`, `@testtablespace@`, `@libdir@` and `@DLSUFFIX@` are
//! replaced and the results written to `OUTPUTDIR/sql/*.sql` and `OUTPUTDIR/expected/*.out`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The values substituted into `.source` files.
#[derive(Debug, Clone)]
pub struct Substitutions {
    /// `@abs_srcdir@`: the absolute input directory.
    pub abs_srcdir: String,
    /// `@abs_builddir@`: the absolute output directory.
    pub abs_builddir: String,
    /// `@libdir@`: the `--dlpath` directory.
    pub libdir: String,
    /// `@DLSUFFIX@`: `.so` on Linux.
    pub dlsuffix: String,
}

impl Substitutions {
    /// `@testtablespace@`: `OUTPUTDIR/testtablespace`.
    pub fn testtablespace(&self) -> String {
        format!("{}/testtablespace", self.abs_builddir)
    }

    /// Replaces every placeholder in `text`.
    pub fn apply(&self, text: &str) -> String {
        text.replace("@abs_srcdir@", &self.abs_srcdir)
            .replace("@abs_builddir@", &self.abs_builddir)
            .replace("@testtablespace@", &self.testtablespace())
            .replace("@libdir@", &self.libdir)
            .replace("@DLSUFFIX@", &self.dlsuffix)
    }
}

/// Converts `INPUTDIR/input/*.source` to `OUTPUTDIR/sql/*.sql` and `INPUTDIR/output/*.source`
/// to `OUTPUTDIR/expected/*.out`. Returns the files written; nothing happens (and the
/// tablespace directory is left alone) when neither directory holds `.source` files.
pub fn convert_source_files(
    inputdir: &Path,
    outputdir: &Path,
    subs: &Substitutions,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (source_subdir, dest_subdir, suffix) in
        [("input", "sql", "sql"), ("output", "expected", "out")]
    {
        let indir = inputdir.join(source_subdir);
        let Ok(read_dir) = fs::read_dir(&indir) else { continue };
        let mut names: Vec<String> = read_dir
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".source"))
            .collect();
        names.sort();
        if names.is_empty() {
            continue;
        }
        if written.is_empty() {
            // pg_regress 14 recreates the tablespace directory whenever it converts files.
            let tablespace = PathBuf::from(subs.testtablespace());
            if tablespace.is_dir() {
                fs::remove_dir_all(&tablespace)
                    .map_err(|e| Error::io("could not remove", &tablespace, e))?;
            }
            fs::create_dir_all(&tablespace)
                .map_err(|e| Error::io("could not create directory", &tablespace, e))?;
        }
        let dest_dir = outputdir.join(dest_subdir);
        fs::create_dir_all(&dest_dir)
            .map_err(|e| Error::io("could not create directory", &dest_dir, e))?;
        for name in names {
            let src = indir.join(&name);
            let text =
                fs::read_to_string(&src).map_err(|e| Error::io("could not read", &src, e))?;
            let prefix = name.trim_end_matches(".source");
            let dest = dest_dir.join(format!("{prefix}.{suffix}"));
            fs::write(&dest, subs.apply(&text))
                .map_err(|e| Error::io("could not write", &dest, e))?;
            written.push(dest);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(out: &Path) -> Substitutions {
        Substitutions {
            abs_srcdir: "/src".into(),
            abs_builddir: out.display().to_string(),
            libdir: "/lib/pg".into(),
            dlsuffix: ".so".into(),
        }
    }

    #[test]
    fn placeholders_are_replaced_everywhere_on_a_line() {
        let s = subs(Path::new("/build"));
        assert_eq!(
            s.apply("LOAD '@libdir@/x@DLSUFFIX@'; -- @abs_srcdir@/data @abs_builddir@ @testtablespace@\n"),
            "LOAD '/lib/pg/x.so'; -- /src/data /build /build/testtablespace\n"
        );
    }

    #[test]
    fn source_files_become_sql_and_expected_files() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        let out = dir.path().join("out");
        fs::create_dir_all(input.join("input")).unwrap();
        fs::create_dir_all(input.join("output")).unwrap();
        fs::write(input.join("input/copy.source"), "COPY t FROM '@abs_srcdir@/data/t.data';\n")
            .unwrap();
        fs::write(input.join("output/copy.source"), "COPY t FROM '@abs_srcdir@/data/t.data';\n")
            .unwrap();
        fs::write(input.join("input/README"), "not a source file").unwrap();
        let written = convert_source_files(&input, &out, &subs(&out)).unwrap();
        assert_eq!(written, vec![out.join("sql/copy.sql"), out.join("expected/copy.out")]);
        assert_eq!(
            fs::read_to_string(out.join("sql/copy.sql")).unwrap(),
            "COPY t FROM '/src/data/t.data';\n"
        );
        assert!(out.join("testtablespace").is_dir());
    }

    #[test]
    fn nothing_happens_without_source_files() {
        let dir = tempfile::tempdir().unwrap();
        let written =
            convert_source_files(dir.path(), &dir.path().join("o"), &subs(&dir.path().join("o")))
                .unwrap();
        assert!(written.is_empty());
        assert!(!dir.path().join("o").exists());
    }
}
