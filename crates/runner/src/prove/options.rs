//! What a prove run executes: pg_prove's options, the scripts they name (files found in
//! directories, or one runtests() call) and the psql command line pg_prove runs for each.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::process::{CancelFlag, Spawn};
use crate::select::{Choice, FailFast, Selection};
use crate::steps::Steps;

/// pg_prove's options that matter, plus pgfarm's timeout and cancel flag.
#[derive(Debug, Clone)]
pub struct ProveOptions {
    /// Test files and directories (directories are searched for `ext` files; with
    /// `recurse`, their subdirectories too). Ignored with `runtests`.
    pub paths: Vec<PathBuf>,
    /// `-r`: search directories recursively.
    pub recurse: bool,
    /// `--ext`: file extensions searched in directories (default `.pg`).
    pub ext: Vec<String>,
    /// `-d`.
    pub dbname: Option<String>,
    /// `-U`.
    pub username: Option<String>,
    /// `-h`.
    pub host: Option<String>,
    /// `-p`.
    pub port: Option<u16>,
    /// `--psql-bin`: the psql to run (default `psql` on PATH).
    pub psql: PathBuf,
    /// `-j`: files run at once.
    pub jobs: usize,
    /// `--runtests`: run `SELECT * FROM runtests(..)` instead of files.
    pub runtests: bool,
    /// `-s`: the schema given to runtests().
    pub schema: Option<String>,
    /// `-x`: the function name pattern given to runtests().
    pub match_pattern: Option<String>,
    /// `--shuffle`: run files in random order.
    pub shuffle: bool,
    /// `-S name=value`: psql variables (`--set`).
    pub set: Vec<String>,
    /// `-P name=value`: psql print options (`--pset`), after pg_prove's own.
    pub pset: Vec<String>,
    /// pgfarm: kill a file's psql after this long; the file fails.
    pub timeout: Option<Duration>,
    /// Stops the run when set.
    pub cancel: CancelFlag,
    /// The directory psql runs in (relative file paths resolve against it).
    pub cwd: Option<PathBuf>,
    /// pgfarm: run each script in its own database, a copy of `dbname` made with
    /// `CREATE DATABASE "DBNAME_pgfarm_N" TEMPLATE "DBNAME"` (through the maintenance database
    /// `postgres`) just before the script starts and dropped when it ends, so scripts running
    /// at once (`jobs`) cannot see or lock each other's objects. Needs `dbname`; a script
    /// whose output names its database sees the copy's name.
    pub isolate: bool,
    /// pgfarm: `STRATEGY` of the [`isolate`](ProveOptions::isolate) copies (PostgreSQL 15+;
    /// `FILE_COPY` copies a small database faster than the default `WAL_LOG` where
    /// checkpoints are cheap, as on a throwaway server).
    pub copy_strategy: Option<String>,
    /// pgfarm: which files run (`--filter`, `--tag`, `--exclude-tag`; see [`choose`]).
    pub selection: Selection,
    /// pgfarm: `--fail-fast`; once tripped, no new file starts.
    pub fail_fast: FailFast,
    /// pgfarm: pgfarm.toml steps; each file's `@setup`/`@teardown` run around it.
    pub steps: Steps,
    /// pgfarm: also run the steps' run-wide `setup` before the files and `teardown` after
    /// them, always (`pgfarm prove`; `pgfarm test` runs them around all suites itself).
    pub run_wide_steps: bool,
}

impl Default for ProveOptions {
    fn default() -> ProveOptions {
        ProveOptions {
            paths: Vec::new(),
            recurse: false,
            ext: vec![".pg".into()],
            dbname: None,
            username: None,
            host: None,
            port: None,
            psql: PathBuf::from("psql"),
            jobs: 1,
            runtests: false,
            schema: None,
            match_pattern: None,
            shuffle: false,
            set: Vec::new(),
            pset: Vec::new(),
            timeout: None,
            cancel: CancelFlag::new(),
            cwd: None,
            isolate: false,
            copy_strategy: None,
            selection: Selection::default(),
            fail_fast: FailFast::default(),
            steps: Steps::default(),
            run_wide_steps: false,
        }
    }
}

/// What to run: a file, or a runtests() call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// A test file.
    File(PathBuf),
    /// `SELECT * FROM runtests(..)`, shown under this name (pg_prove's: `runtests('unit'::name);`).
    Runtests {
        /// The name prove shows.
        name: String,
        /// The SQL run.
        sql: String,
    },
}

impl Script {
    /// The name shown in output and reports.
    pub fn name(&self) -> String {
        match self {
            Script::File(path) => path.display().to_string(),
            Script::Runtests { name, .. } => name.clone(),
        }
    }
}

/// The scripts the selection keeps, and the names of those it leaves out (a `runtests()` call
/// has no file and no tags: only `--filter` applies to its name).
pub fn choose(options: &ProveOptions, scripts: &[Script]) -> (Vec<Script>, Vec<String>) {
    let cwd = options.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut chosen = Vec::new();
    let mut left_out = Vec::new();
    for script in scripts {
        let name = script.name();
        let file = match script {
            Script::File(path) => Some(cwd.join(path)),
            Script::Runtests { .. } => None,
        };
        match options.selection.choose(&name, &name, file.as_deref(), &cwd) {
            Choice::Selected => chosen.push(script.clone()),
            Choice::Deselected(_) => left_out.push(name),
        }
    }
    (chosen, left_out)
}

/// The scripts a run would execute, in order (`--dry` prints these).
pub fn plan(options: &ProveOptions) -> Result<Vec<Script>> {
    if options.runtests {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let args = match (&options.schema, &options.match_pattern) {
            (Some(schema), Some(pattern)) => format!("{}::name, {}", quote(schema), quote(pattern)),
            (Some(schema), None) => format!("{}::name", quote(schema)),
            (None, Some(pattern)) => quote(pattern),
            (None, None) => String::new(),
        };
        return Ok(vec![Script::Runtests {
            name: format!("runtests({args});"),
            sql: format!("SELECT * FROM runtests({args});"),
        }]);
    }
    let mut scripts = Vec::new();
    let paths =
        if options.paths.is_empty() { vec![PathBuf::from("test")] } else { options.paths.clone() };
    for path in &paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect(path, options, &mut found)?;
            found.sort();
            scripts.extend(found.into_iter().map(Script::File));
        } else if path.is_file() {
            scripts.push(Script::File(path.clone()));
        } else {
            return Err(Error::Usage(format!("cannot detect source of '{}'", path.display())));
        }
    }
    if options.shuffle {
        shuffle(&mut scripts);
    }
    Ok(scripts)
}

fn collect(dir: &Path, options: &ProveOptions, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io("could not read directory", dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if options.recurse {
                collect(&path, options, out)?;
            }
        } else if options.ext.iter().any(|ext| path.to_string_lossy().ends_with(ext.as_str())) {
            out.push(path);
        }
    }
    Ok(())
}

/// A Fisher-Yates shuffle seeded from the clock (no rand dependency needed for this).
fn shuffle<T>(items: &mut [T]) {
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// The psql command pg_prove (TAP::Parser::SourceHandler::pgTAP) runs for a script.
pub fn psql_command(options: &ProveOptions, script: &Script) -> Spawn {
    let mut spawn = Spawn::new(&options.psql).args([
        "--no-psqlrc",
        "--no-align",
        "--quiet",
        "--pset",
        "pager=off",
        "--pset",
        "tuples_only=true",
        "--set",
        "ON_ERROR_STOP=1",
    ]);
    for pset in &options.pset {
        spawn = spawn.arg("--pset").arg(pset);
    }
    if let Some(host) = &options.host {
        spawn = spawn.arg("--host").arg(host);
    }
    if let Some(port) = options.port {
        spawn = spawn.arg("--port").arg(port.to_string());
    }
    if let Some(user) = &options.username {
        spawn = spawn.arg("--username").arg(user);
    }
    if let Some(db) = &options.dbname {
        spawn = spawn.arg("--dbname").arg(db);
    }
    for set in &options.set {
        spawn = spawn.arg("--set").arg(set);
    }
    if let Some(dir) = &options.cwd {
        spawn = spawn.current_dir(dir);
    }
    match script {
        Script::File(path) => spawn.arg("--file").arg(path),
        Script::Runtests { sql, .. } => spawn.arg("--command").arg(sql),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtests_sql_quotes_schema_and_pattern() {
        let options =
            ProveOptions { runtests: true, schema: Some("unit".into()), ..ProveOptions::default() };
        let scripts = plan(&options).unwrap();
        assert_eq!(scripts[0].name(), "runtests('unit'::name);");
    }

    #[test]
    fn psql_flags_are_pg_proves() {
        let options = ProveOptions { dbname: Some("tapdb".into()), ..ProveOptions::default() };
        let spawn = psql_command(&options, &Script::File("t/a.pg".into()));
        assert_eq!(
            spawn.display(),
            "psql --no-psqlrc --no-align --quiet --pset pager=off --pset tuples_only=true --set ON_ERROR_STOP=1 --dbname tapdb --file t/a.pg"
        );
    }
}
