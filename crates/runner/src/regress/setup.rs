//! Set-up before the first test, as pg_regress does it: absolute directories, results/ and
//! the output files, `input/`/`output/` conversion, resultmap, psql's environment, then the
//! databases (dropped and created from template0 with pg_regress's settings, extensions
//! loaded) and roles. The database made here is the prepared test database that
//! `--jobs` copies per test.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use pgfarm_diff::Resultmap;

use super::RegressOptions;
use super::bail::Bail;
use super::console::{Console, Style};
use super::diff_style::DiffStyle;
use super::engine::Engine;
use super::substitute::{Substitutions, convert_source_files};
use crate::error::{Error, Result};
use crate::process::{EnvChanges, Spawn};
use crate::schedule::Dialect;

fn absolute(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("could not read the current directory", ".", e))?
            .join(path)
    };
    // Keep the spelling pg_regress uses (make_absolute_path canonicalizes "./" away).
    let mut clean = PathBuf::new();
    for part in abs.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

impl<'o> Engine<'o> {
    pub(super) fn prepare(options: &'o RegressOptions) -> Result<Engine<'o>> {
        if options.dbnames.first().is_none_or(String::is_empty) {
            return Err(Error::Usage("no database name was specified".into()));
        }
        let inputdir = absolute(&options.inputdir)?;
        let outputdir = absolute(&options.outputdir)?;
        let expecteddir = match &options.expecteddir {
            Some(dir) => absolute(dir)?,
            None => inputdir.clone(),
        };
        let dlpath = match &options.dlpath {
            Some(dir) => absolute(dir)?,
            None => outputdir.clone(),
        };
        fs::create_dir_all(&outputdir)
            .map_err(|e| Error::io("could not create directory", &outputdir, e))?;
        let diffs_file = outputdir.join("regression.diffs");
        let log_file = outputdir.join("regression.out");
        File::create(&log_file)
            .map_err(|e| Error::io("could not open file for writing", &log_file, e))?;
        File::create(&diffs_file)
            .map_err(|e| Error::io("could not open file for writing", &diffs_file, e))?;
        let results = outputdir.join("results");
        fs::create_dir_all(&results)
            .map_err(|e| Error::io("could not create directory", &results, e))?;

        let subs = Substitutions {
            abs_srcdir: inputdir.display().to_string(),
            abs_builddir: outputdir.display().to_string(),
            libdir: dlpath.display().to_string(),
            dlsuffix: ".so".into(),
        };
        convert_source_files(&inputdir, &outputdir, &subs)?;

        let env = environment(options, &inputdir, &outputdir, &dlpath);
        let resultmap_path = inputdir.join("resultmap");
        let resultmap = match fs::read_to_string(&resultmap_path) {
            Ok(text) => Some(Resultmap::parse(&text).map_err(|e| Error::Resultmap(e.to_string()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("could not open file for reading", resultmap_path, e)),
        };
        let psql = match &options.bindir {
            Some(dir) => dir.join("psql"),
            None => PathBuf::from("psql"),
        };
        let dialect = match options.style {
            Style::Classic => Dialect::Classic,
            Style::Tap => Dialect::Tap,
        };
        Ok(Engine {
            options,
            inputdir,
            outputdir,
            expecteddir,
            psql,
            env,
            resultmap,
            diffs_file,
            log_file,
            ignore: Vec::new(),
            tests: Vec::new(),
            dialect,
            group: 0,
            announce_existing: true,
            diff_style: DiffStyle::from_env(),
            deselected: Vec::new(),
            not_run: Vec::new(),
            setup_ran: false,
        })
    }

    /// Announces the server and (unless `--use-existing`) drops and creates the test
    /// databases and roles.
    pub(super) fn set_up(&self, console: &mut Console<'_>) -> Result<(), Bail> {
        if self.announce_existing {
            let (host, port) = self.effective_host_port();
            console.using_postmaster(host.as_deref(), port.as_deref());
        }
        if !self.options.use_existing {
            for db in &self.options.dbnames {
                console.header(&format!("dropping database \"{db}\""));
                self.psql_setup(
                    console,
                    "postgres",
                    &[
                        "SET client_min_messages = warning".into(),
                        format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                    ],
                )?;
            }
            for role in &self.options.create_roles {
                console.header(&format!("dropping role \"{role}\""));
                self.psql_setup(
                    console,
                    "postgres",
                    &[
                        "SET client_min_messages = warning".into(),
                        format!("DROP ROLE IF EXISTS \"{role}\""),
                    ],
                )?;
            }
            for db in &self.options.dbnames {
                self.create_database(console, db)?;
            }
            for role in &self.options.create_roles {
                console.header(&format!("creating role \"{role}\""));
                let mut commands = vec![format!("CREATE ROLE \"{role}\" WITH LOGIN")];
                for db in &self.options.dbnames {
                    commands.push(format!("GRANT ALL ON DATABASE \"{db}\" TO \"{role}\""));
                }
                self.psql_setup(console, "postgres", &commands)?;
            }
        }
        Ok(())
    }

    fn effective_host_port(&self) -> (Option<String>, Option<String>) {
        let lookup = |key: &str| -> Option<String> {
            for (k, v) in self.env.iter().rev() {
                if k == key {
                    return v.clone();
                }
            }
            std::env::var(key).ok()
        };
        (lookup("PGHOST"), lookup("PGPORT"))
    }

    fn create_database(&self, console: &mut Console<'_>, db: &str) -> Result<(), Bail> {
        console.header(&format!("creating database \"{db}\""));
        let locale = if self.options.no_locale { " LC_COLLATE='C' LC_CTYPE='C'" } else { "" };
        let create = match &self.options.encoding {
            Some(enc) => {
                format!("CREATE DATABASE \"{db}\" TEMPLATE=template0 ENCODING='{enc}'{locale}")
            }
            None => format!("CREATE DATABASE \"{db}\" TEMPLATE=template0{locale}"),
        };
        let alter = [
            "lc_messages TO 'C'",
            "lc_monetary TO 'C'",
            "lc_numeric TO 'C'",
            "lc_time TO 'C'",
            "bytea_output TO 'hex'",
            "timezone_abbreviations TO 'Default'",
        ]
        .iter()
        .map(|setting| format!("ALTER DATABASE \"{db}\" SET {setting};"))
        .collect::<String>();
        match self.options.style {
            // pg_regress 15 runs one psql per command; 16+ one psql with several -c.
            Style::Classic => {
                self.psql_setup(console, "postgres", &[create])?;
                self.psql_setup(console, "postgres", &[alter])?;
            }
            Style::Tap => self.psql_setup(console, "postgres", &[create, alter])?,
        }
        for ext in &self.options.load_extensions {
            console.header(&format!("installing {ext}"));
            self.psql_setup(console, db, &[format!("CREATE EXTENSION IF NOT EXISTS \"{ext}\"")])?;
        }
        Ok(())
    }

    /// `psql -X [-q] -c .. -c .. db`, its stdout shown in the classic style.
    fn psql_setup(
        &self,
        console: &mut Console<'_>,
        db: &str,
        commands: &[String],
    ) -> Result<(), Bail> {
        let mut spawn = Spawn::new(&self.psql).arg("-X");
        if self.options.style == Style::Tap {
            spawn = spawn.arg("-q");
        }
        for command in commands {
            spawn = spawn.arg("-c").arg(command);
        }
        let mut spawn = spawn.arg(db).envs(&self.env).env("PGAPPNAME", "pg_regress");
        if let Some(dir) = &self.options.cwd {
            spawn = spawn.current_dir(dir);
        }
        let (status, stdout, stderr) = spawn.output()?;
        console.classic_stdout(&stdout);
        if !stderr.is_empty() {
            console.diag(stderr.trim_end());
        }
        if !status.success() {
            return Err(Bail::SetupCommand { command: spawn.display() });
        }
        Ok(())
    }
}

/// The environment pg_regress's `initialize_environment` prepares for psql.
fn environment(
    options: &RegressOptions,
    inputdir: &Path,
    outputdir: &Path,
    dlpath: &Path,
) -> EnvChanges {
    let mut env: EnvChanges = Vec::new();
    let mut set = |k: &str, v: &str| env.push((k.to_owned(), Some(v.to_owned())));
    set("PGAPPNAME", "pg_regress");
    set("PG_ABS_SRCDIR", &inputdir.display().to_string());
    set("PG_ABS_BUILDDIR", &outputdir.display().to_string());
    set("PG_LIBDIR", &dlpath.display().to_string());
    set("PG_DLSUFFIX", ".so");
    set("LC_MESSAGES", "C");
    set("PGTZ", "America/Los_Angeles");
    set("PGDATESTYLE", "Postgres, MDY");
    let old = std::env::var("PGOPTIONS").unwrap_or_default();
    set("PGOPTIONS", &format!("{old} -c intervalstyle=postgres_verbose"));
    if let Some(enc) = &options.encoding {
        set("PGCLIENTENCODING", enc);
    }
    if let Some(host) = &options.host {
        set("PGHOST", host);
    }
    if let Some(port) = options.port {
        set("PGPORT", &port.to_string());
    }
    if let Some(user) = &options.user {
        set("PGUSER", user);
    }
    let mut unset = vec!["LANGUAGE", "LC_ALL", "PGDATABASE"];
    if options.encoding.is_none() {
        unset.push("PGCLIENTENCODING");
    }
    if options.host.is_some() {
        unset.push("PGHOSTADDR");
    }
    if options.no_locale {
        unset.extend(["LC_COLLATE", "LC_CTYPE", "LC_MONETARY", "LC_NUMERIC", "LC_TIME", "LANG"]);
    }
    env.extend(unset.into_iter().map(|k| (k.to_owned(), None)));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_sets_what_pg_regress_sets() {
        let options =
            RegressOptions { port: Some(5499), no_locale: true, ..RegressOptions::default() };
        let env = environment(&options, Path::new("/in"), Path::new("/out"), Path::new("/lib"));
        let get = |k: &str| env.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("PGTZ"), Some(Some("America/Los_Angeles".into())));
        assert_eq!(get("PGDATESTYLE"), Some(Some("Postgres, MDY".into())));
        assert_eq!(get("PGPORT"), Some(Some("5499".into())));
        assert_eq!(get("PG_ABS_SRCDIR"), Some(Some("/in".into())));
        assert_eq!(get("LC_ALL"), Some(None));
        assert_eq!(get("LANG"), Some(None));
        assert!(get("PGOPTIONS").unwrap().unwrap().ends_with(" -c intervalstyle=postgres_verbose"));
    }

    #[test]
    fn absolute_paths_drop_dot_components() {
        assert_eq!(absolute(Path::new("/a/./b/../c")).unwrap(), PathBuf::from("/a/c"));
    }
}
