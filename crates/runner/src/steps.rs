//! Named set-up and teardown steps from `pgfarm.toml`:
//!
//! ```toml
//! setup = ["roles"]                 # before a major's suites (pgfarm test) or the tests
//! teardown = ["cleanup"]            # after them, always: also after a failure or Ctrl-C/SIGTERM
//! [steps.roles]
//! sql = "CREATE ROLE app_{rnd1}"    # or sql_file = "test/seed.sql", or command = "make seed"
//! database = "postgres"             # default: the tests' database
//! [steps.cleanup]
//! command = "rm -f seed-{rnd1}.csv"
//! dir = "test"                      # where sql_file and command resolve (default: the root)
//! enabled = true
//! ```
//!
//! and per test file (`-- @setup NAME` / `-- @teardown NAME` in its header, see
//! [`crate::select`]) around that file. `{rnd1}`..`{rnd10}` are replaced by random tokens that
//! stay the same for the whole run ([`Tokens`]), in SQL, files, commands, `dir` and `database`;
//! command steps also see them as `PGFARM_RND1`..`PGFARM_RND10`, and the server as `PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`. A name that no `[steps.NAME]` defines is a configuration
//! error ([`Error::Config`]) found before anything runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::{CancelFlag, Ended, EnvChanges, Spawn};

/// How long one teardown step may take (it runs after Ctrl-C too, so it must end).
const TEARDOWN_LIMIT: Duration = Duration::from_secs(120);

/// How many random tokens a run has (`{rnd1}`..`{rnd10}`).
pub const N_TOKENS: usize = 10;

/// `[steps.NAME]` in pgfarm.toml, as written.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// SQL run with psql (`-c`).
    pub sql: Option<String>,
    /// A file of SQL run with psql (`-f`), relative to `dir`.
    pub sql_file: Option<PathBuf>,
    /// A shell command (`sh -c`), run in `dir`.
    pub command: Option<String>,
    /// Where `sql_file` and `command` resolve, relative to the extension's root.
    pub dir: Option<PathBuf>,
    /// The database SQL runs in (default: the tests' database).
    pub database: Option<String>,
    /// `false` turns the step into a no-op (it still counts as defined).
    pub enabled: Option<bool>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `sql = ".."`.
    Sql(String),
    /// `sql_file = ".."`.
    SqlFile(PathBuf),
    /// `command = ".."`.
    Command(String),
}

/// One checked step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub action: Action,
    /// `dir`.
    pub dir: Option<PathBuf>,
    /// `database`.
    pub database: Option<String>,
    /// `enabled`.
    pub enabled: bool,
}

/// Random tokens `{rnd1}`..`{rnd10}`, drawn once per run from the operating system's random
/// source (through `uuid`'s v4 generator), 12 lowercase hex digits each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens(Vec<String>);

impl Tokens {
    /// Fresh random tokens.
    pub fn random() -> Tokens {
        Tokens(
            (0..N_TOKENS)
                .map(|_| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned())
                .collect(),
        )
    }

    /// Token `n` (1-based), as `{rndN}` is replaced.
    pub fn get(&self, n: usize) -> Option<&str> {
        n.checked_sub(1).and_then(|i| self.0.get(i)).map(String::as_str)
    }

    /// `text` with every `{rndN}` replaced.
    pub fn substitute(&self, text: &str) -> String {
        // Highest first, so `{rnd10}` is not read as `{rnd1}` followed by `0}`.
        let mut out = text.to_owned();
        for n in (1..=N_TOKENS).rev() {
            out = out.replace(&format!("{{rnd{n}}}"), &self.0[n - 1]);
        }
        out
    }

    /// `PGFARM_RND1`..`PGFARM_RND10` for command steps.
    pub fn env(&self) -> EnvChanges {
        self.0
            .iter()
            .enumerate()
            .map(|(i, token)| (format!("PGFARM_RND{}", i + 1), Some(token.clone())))
            .collect()
    }
}

impl Default for Tokens {
    fn default() -> Tokens {
        Tokens::random()
    }
}

/// Where steps run: the server and database SQL steps connect to, and the folder relative
/// paths resolve against.
#[derive(Debug, Clone)]
pub struct Connection {
    /// psql.
    pub psql: PathBuf,
    /// Server host (or socket folder).
    pub host: Option<String>,
    /// Server port.
    pub port: Option<u16>,
    /// User.
    pub user: Option<String>,
    /// The tests' database (a step's `database` overrides it).
    pub database: String,
    /// Environment for psql and commands (the tests' own, e.g. `PGHOST` from pg_regress).
    pub env: EnvChanges,
}

/// The steps of a run: the definitions, the run-wide `setup`/`teardown` lists, the tokens.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    /// Defined steps by name.
    pub defs: BTreeMap<String, Step>,
    /// `setup = [..]`.
    pub setup: Vec<String>,
    /// `teardown = [..]`.
    pub teardown: Vec<String>,
    /// The run's random tokens.
    pub tokens: Tokens,
    /// The extension's root: where `dir` resolves.
    pub root: PathBuf,
    /// The pgfarm.toml they come from (for error messages).
    pub origin: PathBuf,
}

impl Steps {
    /// Checks pgfarm.toml's `[steps]`, `setup` and `teardown`: each step has exactly one of
    /// `sql`, `sql_file`, `command`; every listed name is defined.
    pub fn from_config(
        origin: &Path,
        root: &Path,
        defs: &BTreeMap<String, StepConfig>,
        setup: &[String],
        teardown: &[String],
    ) -> Result<Steps> {
        let mut steps = Steps {
            root: root.to_path_buf(),
            origin: origin.to_path_buf(),
            setup: setup.to_vec(),
            teardown: teardown.to_vec(),
            ..Steps::default()
        };
        for (name, config) in defs {
            let action = match (&config.sql, &config.sql_file, &config.command) {
                (Some(sql), None, None) => Action::Sql(sql.clone()),
                (None, Some(file), None) => Action::SqlFile(file.clone()),
                (None, None, Some(command)) => Action::Command(command.clone()),
                _ => {
                    return Err(Error::Config {
                        path: origin.to_path_buf(),
                        message: format!(
                            "[steps.{name}]: give exactly one of sql, sql_file and command"
                        ),
                    });
                }
            };
            steps.defs.insert(
                name.clone(),
                Step {
                    action,
                    dir: config.dir.clone(),
                    database: config.database.clone(),
                    enabled: config.enabled.unwrap_or(true),
                },
            );
        }
        steps.check(setup, "setup")?;
        steps.check(teardown, "teardown")?;
        Ok(steps)
    }

    /// The steps of `ROOT/pgfarm.toml` (none when there is no such file).
    pub fn from_dir(root: &Path) -> Result<Steps> {
        let config = crate::extension::read_config(root)?;
        Steps::from_config(
            &root.join("pgfarm.toml"),
            root,
            &config.steps,
            &config.setup,
            &config.teardown,
        )
    }

    /// An error naming the first of `names` that is not defined; `context` says where it was
    /// listed (`"setup"`, `"test/sql/a.sql: @setup"`).
    pub fn check(&self, names: &[String], context: &str) -> Result<()> {
        match names.iter().find(|name| !self.defs.contains_key(*name)) {
            None => Ok(()),
            Some(name) => {
                let known: Vec<&str> = self.defs.keys().map(String::as_str).collect();
                Err(Error::Config {
                    path: self.origin.clone(),
                    message: format!(
                        "{context}: unknown step `{name}` (defined: {})",
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    ),
                })
            }
        }
    }

    /// Checks the `@setup`/`@teardown` names of the test file at `file` (its header).
    pub fn check_file(&self, file: &Path, display: &str) -> Result<()> {
        let header = crate::select::read_header(file, &self.root);
        self.check(&header.setup, &format!("{display}: @setup"))?;
        self.check(&header.teardown, &format!("{display}: @teardown"))
    }

    /// True when no step is defined or listed.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty() && self.setup.is_empty() && self.teardown.is_empty()
    }

    /// Runs the set-up steps `names` in order, stopping at the first that fails; the log gets
    /// each command and its output. `Err` is the one-line reason.
    pub fn run_setup(
        &self,
        names: &[String],
        connection: &Connection,
        cancel: &CancelFlag,
        log: &mut String,
    ) -> std::result::Result<(), String> {
        for name in names {
            self.run_one(name, connection, None, cancel, log)?;
        }
        Ok(())
    }

    /// Runs the teardown steps `names`, every one of them even after a failure and after
    /// Ctrl-C (each with its own time limit); `Err` names the first that failed.
    pub fn run_teardown(
        &self,
        names: &[String],
        connection: &Connection,
        log: &mut String,
    ) -> std::result::Result<(), String> {
        let mut first_error = None;
        for name in names {
            let limit = Some(Instant::now() + TEARDOWN_LIMIT);
            if let Err(err) = self.run_one(name, connection, limit, &CancelFlag::new(), log) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn run_one(
        &self,
        name: &str,
        connection: &Connection,
        deadline: Option<Instant>,
        cancel: &CancelFlag,
        log: &mut String,
    ) -> std::result::Result<(), String> {
        let Some(step) = self.defs.get(name) else {
            return Err(format!("unknown step `{name}`"));
        };
        if !step.enabled {
            log.push_str(&format!("step {name}: disabled (enabled = false)\n"));
            return Ok(());
        }
        let tokens = &self.tokens;
        let dir = match &step.dir {
            Some(dir) => self.root.join(tokens.substitute(&dir.to_string_lossy())),
            None => self.root.clone(),
        };
        let database = step
            .database
            .as_deref()
            .map(|d| tokens.substitute(d))
            .unwrap_or_else(|| connection.database.clone());
        let psql = |sql: String| {
            let mut spawn = Spawn::new(&connection.psql)
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
                .envs(&connection.env)
                .env("PGAPPNAME", format!("pgfarm/step/{name}"))
                .current_dir(&dir);
            if let Some(host) = &connection.host {
                spawn = spawn.arg("-h").arg(host);
            }
            if let Some(port) = connection.port {
                spawn = spawn.arg("-p").arg(port.to_string());
            }
            if let Some(user) = &connection.user {
                spawn = spawn.arg("-U").arg(user);
            }
            spawn.arg("-d").arg(&database).arg("-c").arg(sql)
        };
        let spawn = match &step.action {
            Action::Command(command) => {
                let mut spawn = Spawn::new("sh")
                    .arg("-c")
                    .arg(tokens.substitute(command))
                    .current_dir(&dir)
                    .envs(&connection.env)
                    .envs(&tokens.env())
                    .env("PGDATABASE", database.clone());
                if let Some(host) = &connection.host {
                    spawn = spawn.env("PGHOST", host.clone());
                }
                if let Some(port) = connection.port {
                    spawn = spawn.env("PGPORT", port.to_string());
                }
                if let Some(user) = &connection.user {
                    spawn = spawn.env("PGUSER", user.clone());
                }
                spawn
            }
            Action::Sql(sql) => psql(tokens.substitute(sql)),
            // Sent as one `-c` string (tokens replaced), so psql meta-commands do not apply.
            Action::SqlFile(file) => {
                let path = dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("step {name}: could not read {}: {e}", path.display()))?;
                psql(tokens.substitute(&text))
            }
        };
        log.push_str(&format!("step {name}: {}\n", describe(&step.action, tokens)));
        let (ended, output) =
            spawn.run_logged(deadline, cancel).map_err(|e| format!("step {name}: {e}"))?;
        log.push_str(&output);
        match ended {
            Ended::Exited(status) if status.success() => Ok(()),
            Ended::Exited(status) => Err(format!(
                "step {name} exited with {}: {}",
                crate::process::describe_status(status),
                output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
            )),
            Ended::TimedOut => Err(format!("step {name} timed out")),
            Ended::Cancelled => Err(format!("step {name}: interrupted")),
        }
    }
}

/// The step as the log shows it, tokens replaced (they are not secrets: the tests see them).
fn describe(action: &Action, tokens: &Tokens) -> String {
    match action {
        Action::Sql(sql) => format!("sql {}", tokens.substitute(sql)),
        Action::SqlFile(file) => format!("sql_file {}", file.display()),
        Action::Command(command) => format!("command {}", tokens.substitute(command)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_random_and_ten() {
        let tokens = Tokens::random();
        let text = "a_{rnd1} b_{rnd10} c_{rnd2} again_{rnd1}";
        let once = tokens.substitute(text);
        assert_eq!(once, tokens.substitute(text), "stable within a run");
        let t1 = tokens.get(1).unwrap();
        let t10 = tokens.get(10).unwrap();
        assert_eq!(once, format!("a_{t1} b_{t10} c_{} again_{t1}", tokens.get(2).unwrap()));
        assert!(t1.len() == 12 && t1.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(tokens, Tokens::random(), "fresh per run");
        assert!(tokens.get(0).is_none() && tokens.get(11).is_none());
        assert_eq!(tokens.substitute("{rnd11} {rnd}"), "{rnd11} {rnd}");
    }

    fn config(sql: Option<&str>, command: Option<&str>) -> StepConfig {
        StepConfig {
            sql: sql.map(str::to_owned),
            command: command.map(str::to_owned),
            ..StepConfig::default()
        }
    }

    #[test]
    fn unknown_names_and_ambiguous_steps_are_configuration_errors() {
        let origin = Path::new("/x/pgfarm.toml");
        let mut defs = BTreeMap::new();
        defs.insert("seed".to_owned(), config(Some("SELECT 1"), None));
        let err = Steps::from_config(origin, Path::new("/x"), &defs, &["sed".into()], &[])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "/x/pgfarm.toml: setup: unknown step `sed` (defined: seed)");
        defs.insert("both".to_owned(), config(Some("SELECT 1"), Some("true")));
        let err = Steps::from_config(origin, Path::new("/x"), &defs, &[], &[]).unwrap_err();
        assert!(err.to_string().contains("[steps.both]: give exactly one of"), "{err}");
    }

    #[test]
    fn command_steps_see_tokens_and_teardown_runs_every_step() {
        let dir = tempfile::tempdir().unwrap();
        let mut defs = BTreeMap::new();
        defs.insert("fails".to_owned(), config(None, Some("exit 3")));
        defs.insert(
            "writes".to_owned(),
            config(None, Some("echo \"{rnd1} $PGFARM_RND1 $PGDATABASE\" > out-{rnd2}")),
        );
        let steps = Steps::from_config(
            &dir.path().join("pgfarm.toml"),
            dir.path(),
            &defs,
            &[],
            &["fails".into(), "writes".into()],
        )
        .unwrap();
        let connection = Connection {
            psql: "psql".into(),
            host: None,
            port: None,
            user: None,
            database: "db".into(),
            env: Vec::new(),
        };
        let mut log = String::new();
        let err = steps.run_teardown(&steps.teardown, &connection, &mut log).unwrap_err();
        assert!(err.starts_with("step fails exited with"), "{err}");
        let rnd1 = steps.tokens.get(1).unwrap();
        let written = std::fs::read_to_string(
            dir.path().join(format!("out-{}", steps.tokens.get(2).unwrap())),
        )
        .unwrap();
        assert_eq!(written, format!("{rnd1} {rnd1} db\n"));
        let cancelled = CancelFlag::new();
        assert!(steps.run_setup(&["writes".into()], &connection, &cancelled, &mut log).is_ok());
    }
}
