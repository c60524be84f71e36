//! How pgfarm drives PGXS as `make installcheck` does: which makefile make reads, the variables
//! every make call gets (`USE_PGXS=1`, `PG_CONFIG`, `pgfarm.toml`'s `[build] make_args`), what
//! `make installcheck` would run (recorded, not run: see [`record_installcheck`]), and
//! pg_regress's command line read the way its `getopt_long` reads it ([`RegressArgs::parse`]).
//!
//! Recording: `make installcheck` is run with PGXS's three test drivers
//! (`pg_regress_installcheck`, `pg_isolation_regress_installcheck`, `prove_installcheck`)
//! replaced on the command line by a small recorder script that writes its working folder and
//! argument vector to a file and exits 0. Everything else is make's own: the installcheck
//! rule's prerequisites (`REGRESS_PREP`, generated schedules and test inputs) are built, the
//! extension's own `installcheck` recipe (per-major overrides included) decides which drivers
//! run, and the shell splits `$(REGRESS_OPTS) $(REGRESS)` into words exactly as it would for
//! pg_regress. The recorded vectors are then run by pgfarm's engines against pgfarm's cluster.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::process::{CancelFlag, Ended, Spawn};

/// The makefile names GNU make looks for, in its order.
pub const MAKEFILE_NAMES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

/// The makefile make would read in `dir` (`GNUmakefile`, then `makefile`, then `Makefile`).
pub fn makefile(dir: &Path) -> Option<PathBuf> {
    MAKEFILE_NAMES.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

/// The variables and environment every make call of a run gets.
#[derive(Debug, Clone)]
pub struct Make {
    /// The installation's `pg_config`.
    pub pg_config: PathBuf,
    /// The installation's bin directory (first on `PATH`, as a user's shell would have it).
    pub bindir: PathBuf,
    /// Extra `NAME=VALUE` arguments (`pgfarm.toml` `[build] make_args`).
    pub extra_args: Vec<String>,
    /// Parallel make jobs for compiling (`make -jN`; 1 = serial). PGXS builds are
    /// parallel-safe; installing and the installcheck recording always run serially.
    pub build_jobs: usize,
}

impl Make {
    /// `make TARGETS USE_PGXS=1 PG_CONFIG=... EXTRA...` in `dir`, with the installation's
    /// bin directory first on `PATH` and `PG_CONFIG` in the environment (for `./configure`).
    pub fn command(&self, dir: &Path, targets: &[&str]) -> Spawn {
        let jobs =
            (targets.is_empty() && self.build_jobs > 1 && std::env::var_os("MAKEFLAGS").is_none())
                .then(|| format!("-j{}", self.build_jobs));
        Spawn::new("make")
            .args(jobs)
            .args(targets.iter().copied())
            .args(self.variables())
            .current_dir(dir)
            .env("PATH", self.path_env())
            .env("PG_CONFIG", self.pg_config.display().to_string())
    }

    /// The variables passed to every make call, in order.
    pub fn variables(&self) -> Vec<String> {
        let mut vars =
            vec!["USE_PGXS=1".to_owned(), format!("PG_CONFIG={}", self.pg_config.display())];
        vars.extend(self.extra_args.iter().cloned());
        vars
    }

    /// `PATH` with the installation's bin directory first.
    pub fn path_env(&self) -> String {
        let rest = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        format!("{}:{rest}", self.bindir.display())
    }
}

/// Which PGXS test driver a recorded call was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `$(pg_regress_installcheck)`: pg_regress.
    Regress,
    /// `$(pg_isolation_regress_installcheck)`: pg_isolation_regress.
    Isolation,
    /// `$(prove_installcheck)`: prove over the Perl TAP files.
    Prove,
}

/// One recorded call of a PGXS test driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The driver.
    pub driver: Driver,
    /// The folder it was called in (the extension's copy, or `$(srcdir)` for prove).
    pub cwd: PathBuf,
    /// Its arguments, exactly as the shell passed them (driver name not included). For
    /// [`Driver::Prove`], the first argument is `tap_enabled=yes|no` (the tree's
    /// `enable_tap_tests`), then prove's options and files (`t/*.pl` expanded by the shell).
    pub args: Vec<String>,
}

/// What `make installcheck` would run, recorded.
#[derive(Debug, Clone)]
pub struct Recording {
    /// How make ended.
    pub ended: Ended,
    /// make's output (prerequisites built, echo lines).
    pub log: String,
    /// The driver calls, in order.
    pub calls: Vec<Invocation>,
}

const END_OF_CALL: &str = "--pgfarm-end-of-call--";

const RECORDER: &str = "#!/bin/sh\n\
# Written by pgfarm: records one call of a PGXS test driver (pg_regress, pg_isolation_regress,\n\
# prove) instead of running it; pgfarm runs the recorded call against its own cluster.\n\
out=\"$1\"; shift\n\
printf '%s\\0' \"$(pwd)\" \"$@\" '--pgfarm-end-of-call--' >> \"$out\"\n";

/// Runs `make installcheck` in `dir` with the test drivers replaced by a recorder (see the
/// module docs); `scratch` holds the recorder and its output. `env` is applied to make (pgfarm
/// points `PGHOST`/`PGPORT` at its cluster, so prerequisites that ask the server, such as
/// pgTAP's `set_parallel_conn`, get an answer). `ignore_errors` runs `make -i`: every recipe line
/// runs whatever the previous ones did (for an extension's own installcheck recipe, whose other
/// commands are not for this pass).
pub fn record_installcheck(
    make: &Make,
    dir: &Path,
    scratch: &Path,
    env: &[(String, String)],
    ignore_errors: bool,
    deadline: Option<Instant>,
    cancel: &CancelFlag,
) -> Result<Recording> {
    std::fs::create_dir_all(scratch)
        .map_err(|e| Error::io("could not create directory", scratch, e))?;
    let recorder = scratch.join("pgfarm-record-driver");
    let out = scratch.join("driver-calls");
    std::fs::write(&recorder, RECORDER).map_err(|e| Error::io("could not write", &recorder, e))?;
    set_mode(&recorder, 0o755)?;
    let _ = std::fs::remove_file(&out);
    let rec = format!("{} {}", sh_quote(&recorder), sh_quote(&out));
    let targets: &[&str] = if ignore_errors { &["-i", "installcheck"] } else { &["installcheck"] };
    let mut spawn = make
        .command(dir, targets)
        .arg(format!(
            "pg_regress_installcheck={rec} regress --inputdir=$(srcdir) --bindir='$(bindir)' \
             $(pg_regress_locale_flags) $(EXTRA_REGRESS_OPTS)"
        ))
        .arg(format!(
            "pg_isolation_regress_installcheck={rec} isolation --inputdir=$(srcdir) \
             --outputdir=output_iso --bindir='$(bindir)' $(pg_regress_locale_flags) \
             $(EXTRA_REGRESS_OPTS)"
        ))
        .arg(format!(
            "prove_installcheck=cd $(srcdir) && {rec} prove tap_enabled=$(enable_tap_tests) \
             $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),t/*.pl)"
        ));
    for (key, value) in env {
        spawn = spawn.env(key, value.clone());
    }
    let (ended, log) = spawn.run_logged(deadline, cancel)?;
    let log = format!("$ {}\n{log}", spawn.display());
    let bytes = match std::fs::read(&out) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("could not read", &out, e)),
    };
    Ok(Recording { ended, log, calls: parse_calls(&bytes) })
}

/// Parses the recorder's output: NUL-separated fields, each call `cwd driver args...
/// --pgfarm-end-of-call--`.
pub fn parse_calls(bytes: &[u8]) -> Vec<Invocation> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields: Vec<&str> = text.split('\0').collect();
    if fields.last() == Some(&"") {
        fields.pop();
    }
    let mut calls = Vec::new();
    for call in fields.split(|f| *f == END_OF_CALL) {
        let [cwd, driver, args @ ..] = call else { continue };
        let driver = match *driver {
            "regress" => Driver::Regress,
            "isolation" => Driver::Isolation,
            "prove" => Driver::Prove,
            _ => continue,
        };
        calls.push(Invocation {
            driver,
            cwd: PathBuf::from(cwd),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        });
    }
    calls
}

/// Whether the extension's own `installcheck` recipe runs more than PGXS's test drivers (for
/// example `pg_prove` over generated files): `Some("Makefile:61")` naming where the recipe is,
/// `None` when the recipe is PGXS's or only calls the drivers (as rum's per-major override
/// does). Read from make's database (`make -p -q installcheck`), so nothing runs.
pub fn custom_installcheck_recipe(
    make: &Make,
    dir: &Path,
    _scratch: &Path,
    cancel: &CancelFlag,
) -> Result<Option<String>> {
    let spawn = make.command(dir, &["-p", "-q", "installcheck"]);
    if cancel.is_cancelled() {
        return Err(Error::Interrupted);
    }
    let (_, stdout, _) = spawn.output()?;
    Ok(custom_recipe_in_database(&stdout))
}

/// The part of [`custom_installcheck_recipe`] that reads make's `-p` output.
pub fn custom_recipe_in_database(database: &str) -> Option<String> {
    let mut lines = database.lines().skip_while(|l| !l.starts_with("installcheck:"));
    lines.next()?;
    let mut origin = None;
    let mut recipe = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let Some(rest) = line.strip_prefix("#  recipe to execute (from '") {
            let (file, rest) = rest.split_once("', line ").unwrap_or((rest, ""));
            let number = rest.trim_end_matches("):");
            origin = Some((file.to_owned(), number.to_owned()));
        } else if let Some(command) = line.strip_prefix('\t') {
            recipe.push(command.trim().to_owned());
        }
    }
    let (file, line) = origin?;
    if file.ends_with("pgxs.mk") {
        return None;
    }
    let drivers_only = recipe.iter().all(|command| {
        let command = command.trim_start_matches(['@', '-', '+']);
        command.is_empty()
            || command.starts_with("$(pg_regress_installcheck)")
            || command.starts_with("$(pg_isolation_regress_installcheck)")
            || command == "$(prove_installcheck)"
            || command.starts_with("echo ")
    });
    if drivers_only {
        return None;
    }
    let file =
        Path::new(&file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(file);
    Some(format!("{file}:{line}"))
}

fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("could not set the mode of", path, e))
}

/// A pg_regress (or pg_isolation_regress) command line, read as its `getopt_long` reads it:
/// options anywhere among the test names (GNU permutation), `--opt value` and `--opt=value`,
/// empty values (`--max-connections=`), unambiguous abbreviations (`--input=`), `--` ending
/// the options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegressArgs {
    /// `(option name without dashes, value)`, in order; flags have an empty value.
    pub options: Vec<(String, String)>,
    /// Test names (non-option arguments), in order.
    pub tests: Vec<String>,
}

/// pg_regress's long options (13-18) and whether each takes a value.
pub const REGRESS_OPTIONS: [(&str, bool); 24] = [
    ("help", false),
    ("version", false),
    ("dbname", true),
    ("debug", false),
    ("inputdir", true),
    ("expecteddir", true),
    ("load-language", true),
    ("max-connections", true),
    ("encoding", true),
    ("outputdir", true),
    ("schedule", true),
    ("temp-instance", true),
    ("no-locale", false),
    ("host", true),
    ("port", true),
    ("user", true),
    ("bindir", true),
    ("dlpath", true),
    ("create-role", true),
    ("temp-config", true),
    ("use-existing", false),
    ("launcher", true),
    ("load-extension", true),
    ("config-auth", true),
];

/// `--max-concurrent-tests` is the 25th; kept apart so the table above reads as pg_regress's.
const MAX_CONCURRENT: (&str, bool) = ("max-concurrent-tests", true);

impl RegressArgs {
    /// Reads `args`; an unknown or ambiguous option, or one missing its value, is an error
    /// naming it (as pg_regress would refuse it).
    pub fn parse(args: &[String]) -> std::result::Result<RegressArgs, String> {
        let table: Vec<(&str, bool)> =
            REGRESS_OPTIONS.iter().copied().chain([MAX_CONCURRENT]).collect();
        let mut out = RegressArgs::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                out.tests.extend(iter.by_ref().cloned());
                break;
            }
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                let exact = table.iter().find(|(o, _)| *o == name);
                let matches: Vec<&(&str, bool)> = match exact {
                    Some(found) => vec![found],
                    None => table.iter().filter(|(o, _)| o.starts_with(name)).collect(),
                };
                let &(option, takes_value) = match matches.as_slice() {
                    [one] => *one,
                    [] => return Err(format!("unrecognized option '{arg}'")),
                    many => {
                        let names: Vec<String> =
                            many.iter().map(|(o, _)| format!("--{o}")).collect();
                        return Err(format!(
                            "option '{arg}' is ambiguous; possibilities: {}",
                            names.join(" ")
                        ));
                    }
                };
                let value = match (takes_value, inline) {
                    (true, Some(v)) => v.to_owned(),
                    (true, None) => iter
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("option '--{option}' requires an argument"))?,
                    (false, Some(_)) => {
                        return Err(format!("option '--{option}' doesn't allow an argument"));
                    }
                    (false, None) => String::new(),
                };
                out.options.push((option.to_owned(), value));
            } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
                match short {
                    "h" => out.options.push(("help".into(), String::new())),
                    "V" => out.options.push(("version".into(), String::new())),
                    _ => return Err(format!("invalid option -- '{short}'")),
                }
            } else {
                out.tests.push(arg.clone());
            }
        }
        Ok(out)
    }

    /// The values of option `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.options.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The last value of option `name` (getopt keeps the last one).
    pub fn last(&self, name: &str) -> Option<&str> {
        self.options.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether flag `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }
}

/// Resolves a `--temp-config` path as it means in-tree: relative to the folder the driver ran
/// in; `$(top_srcdir)/contrib/NAME/FILE` and `$(top_srcdir)/$(subdir)/FILE` (which under PGXS
/// point into the installation's pgxs folder) to the extension's own folder.
pub fn resolve_temp_config(value: &str, cwd: &Path, src: &Path, pgxs_top: &Path) -> PathBuf {
    let path = Path::new(value);
    let direct = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    if direct.is_file() {
        return direct;
    }
    if let Ok(rest) = path.strip_prefix(pgxs_top) {
        let mut parts: Vec<_> = rest.components().collect();
        if parts.first().is_some_and(|c| c.as_os_str() == "contrib") && parts.len() > 2 {
            parts.drain(..2);
        }
        let candidate: PathBuf = src.join(parts.iter().collect::<PathBuf>());
        if candidate.is_file() {
            return candidate;
        }
    }
    // A path that names a folder pgfarm cannot map: the file of that name beside the Makefile.
    match path.file_name() {
        Some(name) if src.join(name).is_file() => src.join(name),
        _ => direct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn getopt_reads_options_anywhere_with_spaces_and_empty_values() {
        // pgtap: REGRESS holds `--schedule test/build/run.sch`, REGRESS_OPTS an empty
        // --max-connections= and `--schedule FILE` with a space.
        let args = RegressArgs::parse(&strings(&[
            "--inputdir=./",
            "--bindir=/pg/bin",
            "--inputdir=test",
            "--max-connections=",
            "--schedule",
            "test/schedule/main.sch",
            "--dbname=contrib_regression",
            "--schedule",
            "test/build/run.sch",
        ]))
        .unwrap();
        assert_eq!(args.last("inputdir"), Some("test"));
        assert_eq!(args.last("max-connections"), Some(""));
        assert_eq!(
            args.values("schedule").collect::<Vec<_>>(),
            ["test/schedule/main.sch", "test/build/run.sch"]
        );
        assert!(args.tests.is_empty());
    }

    #[test]
    fn getopt_permutes_tests_and_options_and_takes_abbreviations() {
        let args = RegressArgs::parse(&strings(&[
            "base",
            "--load-ext=x",
            "corpus",
            "--no-locale",
            "--",
            "--not-an-option",
        ]))
        .unwrap();
        assert_eq!(args.tests, ["base", "corpus", "--not-an-option"]);
        assert_eq!(args.last("load-extension"), Some("x"));
        assert!(args.has("no-locale"));
    }

    #[test]
    fn getopt_refuses_unknown_ambiguous_and_valueless_options() {
        assert_eq!(
            RegressArgs::parse(&strings(&["--frobnicate=1"])).unwrap_err(),
            "unrecognized option '--frobnicate=1'"
        );
        let err = RegressArgs::parse(&strings(&["--load"])).unwrap_err();
        assert!(err.contains("ambiguous") && err.contains("--load-extension"), "{err}");
        assert_eq!(
            RegressArgs::parse(&strings(&["--schedule"])).unwrap_err(),
            "option '--schedule' requires an argument"
        );
        assert_eq!(
            RegressArgs::parse(&strings(&["--no-locale=1"])).unwrap_err(),
            "option '--no-locale' doesn't allow an argument"
        );
    }

    #[test]
    fn recorded_calls_split_on_nul_and_the_end_marker() {
        let bytes = b"/src\0regress\0--inputdir=./\0\0a\0--pgfarm-end-of-call--\0/src\0prove\0tap_enabled=no\0t/001.pl\0--pgfarm-end-of-call--\0";
        let calls = parse_calls(bytes);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].driver, Driver::Regress);
        assert_eq!(calls[0].args, ["--inputdir=./", "", "a"]);
        assert_eq!(calls[1].driver, Driver::Prove);
        assert_eq!(calls[1].args, ["tap_enabled=no", "t/001.pl"]);
    }

    #[test]
    fn temp_config_under_pgxs_top_srcdir_resolves_to_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("conf.add"), "x = 1\n").unwrap();
        let pgxs = Path::new("/pg/lib/pgxs");
        for value in [
            "/pg/lib/pgxs//conf.add",
            "/pg/lib/pgxs/contrib/pg_wait_sampling/conf.add",
            "./conf.add",
        ] {
            assert_eq!(
                resolve_temp_config(value, &src, &src, pgxs),
                src.join("conf.add"),
                "{value}"
            );
        }
    }

    #[test]
    fn custom_installcheck_recipes_are_told_from_pgxs_and_driver_only_ones() {
        let pgxs = "installcheck: submake\n#  Phony target.\n#  recipe to execute (from '/pg/lib/pgxs/src/makefiles/pgxs.mk', line 436):\n\t$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)\n\n# Not a target:\n";
        assert_eq!(custom_recipe_in_database(pgxs), None);
        let rum13 = "installcheck: submake\n#  recipe to execute (from 'Makefile', line 61):\n\t$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)\n\t$(prove_installcheck)\n\n";
        assert_eq!(custom_recipe_in_database(rum13), None);
        let own = "installcheck: all\n#  recipe to execute (from 'Makefile', line 12):\n\tpg_prove -v test/build/*.sql\n\n";
        assert_eq!(custom_recipe_in_database(own).as_deref(), Some("Makefile:12"));
        assert_eq!(custom_recipe_in_database("no rules here\n"), None);
    }

    #[test]
    fn makefile_order_is_makes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(makefile(dir.path()), None);
        std::fs::write(dir.path().join("Makefile"), "").unwrap();
        assert_eq!(makefile(dir.path()), Some(dir.path().join("Makefile")));
        std::fs::write(dir.path().join("GNUmakefile"), "").unwrap();
        assert_eq!(makefile(dir.path()), Some(dir.path().join("GNUmakefile")));
    }
}
