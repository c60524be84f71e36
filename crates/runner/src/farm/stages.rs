//! The set-up stages (build, install, cluster, load), the pg_regress and pgTAP suites and the
//! upgrade check of one installation's run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pgfarm_model::StageKind;
use pgfarm_pgnode::Cluster;

use super::{Job, StageOutcome};
use crate::build_cache;
use crate::bundle;
use crate::copy;
use crate::error::{Error, Result};
use crate::pgxs::{self, Driver, RegressArgs};
use crate::process::{Ended, Spawn};
use crate::prove::{self, ProveOptions, ProveReport, Script};
use crate::regress::{self, RegressOptions, Stream, Style};

/// How many lines of a failing command's log the stage's one-line reason carries.
const TAIL_LINES: usize = 12;

/// The last `n` non-empty lines of `log`, for a failing stage's reason.
pub(super) fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Job<'_> {
    pub(super) fn stage(&mut self, kind: StageKind, log: &mut String) -> Result<StageOutcome> {
        match kind {
            StageKind::Build => self.build(log),
            StageKind::Install => {
                if let Some(missing) = self.install_prerequisites(log)? {
                    return Ok(missing);
                }
                if self.options.sandbox.is_some() {
                    self.install_sandboxed(log)
                } else {
                    self.install(log)
                }
            }
            StageKind::Cluster => self.start_cluster(log),
            StageKind::Load => self.load(log),
            StageKind::Regress => self.regress(log),
            StageKind::Isolation => self.isolation(log),
            StageKind::Tap => self.tap(log),
            StageKind::PerlTap => self.perl_tap(log),
            StageKind::Installcheck => self.installcheck(log),
            StageKind::Upgrade => self.upgrade(log),
        }
    }

    fn build(&mut self, log: &mut String) -> Result<StageOutcome> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)
                .map_err(|e| Error::io("could not remove", &self.dir, e))?;
        }
        let skip = [self.options.workdir.clone(), self.options.out_dir.clone()];
        let stats = copy::copy_tree(&self.source.root, &self.src, &skip)?;
        log.push_str(&format!(
            "copied {} to {} ({} files, {} symlinks, {} folders)\n",
            self.source.root.display(),
            self.src.display(),
            stats.files,
            stats.symlinks,
            stats.dirs
        ));
        if let Some(sandbox) = &self.options.sandbox
            && let Some(user) = sandbox.user()
        {
            // The sandbox's user builds and tests in this folder, and writes nowhere else.
            chown_tree(&self.dir, user.uid, user.gid)?;
        }
        if pgxs::makefile(&self.src).is_none() {
            return Ok(StageOutcome::Missing(
                "no GNUmakefile, makefile or Makefile: nothing to build".into(),
            ));
        }
        // A --coverage build is never cached: gcov writes its counts beside the objects at their
        // build-time paths, which a restored copy does not have.
        if self.options.build_cache
            && !self.options.coverage
            && let Some(cache) = build_cache::dir()
        {
            let key = build_cache::key(&self.src, self.installation, &self.make.variables())?;
            let entry = build_cache::Entry::new(&cache, &key);
            if entry.is_complete() {
                std::fs::remove_dir_all(&self.src)
                    .map_err(|e| Error::io("could not remove", &self.src, e))?;
                let files = build_cache::copy_keeping_times(&entry.src(), &self.src)?;
                log.push_str(&format!(
                    "build reused from the build cache: {} ({files} files); make did not run\n",
                    entry.dir.display()
                ));
                self.cache_record = Some(pgfarm_model::BuildCache {
                    key,
                    build_reused: true,
                    install_skipped: false,
                });
                self.cache = Some(entry);
                return Ok(StageOutcome::Ok);
            }
            log.push_str(&format!("build cache: no entry {key} yet; building\n"));
            self.cache = Some(entry);
        }
        let configure = self.src.join("configure");
        if configure.is_file() {
            let spawn = Spawn::new(&configure)
                .current_dir(&self.src)
                .env("PATH", self.make.path_env())
                .env("PG_CONFIG", self.installation.pg_config.display().to_string());
            if let Some(failed) = self.run_logged(&spawn, "./configure", log)? {
                return Ok(failed);
            }
        }
        self.run_make(&[], log)
    }

    /// Runs `spawn` with the build time limit, appending its output to `log`; `Some(Failed)`
    /// with the last lines of the output when it fails.
    pub(super) fn run_logged(
        &self,
        spawn: &Spawn,
        what: &str,
        log: &mut String,
    ) -> Result<Option<StageOutcome>> {
        let deadline = self.options.build_timeout.map(|t| Instant::now() + t);
        let (ended, output) = spawn.run_logged(deadline, &self.options.cancel)?;
        log.push_str(&format!("$ {}\n{output}", spawn.display()));
        Ok(match ended {
            Ended::Exited(status) if status.success() => None,
            Ended::Exited(status) => Some(StageOutcome::Failed(format!(
                "{what} exited with {}{}; last lines:\n{}",
                crate::process::describe_status(status),
                self.sandbox_refusal(&output),
                tail(&output, TAIL_LINES)
            ))),
            Ended::TimedOut => Some(StageOutcome::Failed(format!("{what} timed out"))),
            Ended::Cancelled => Some(StageOutcome::Failed("interrupted".into())),
        })
    }

    /// `: the sandbox refused ...` when this run is sandboxed and the failed step's output shows
    /// the sandbox stopping it (network, a write outside the work folder, the process limit).
    fn sandbox_refusal(&self, output: &str) -> String {
        if self.options.sandbox.is_none() {
            return String::new();
        }
        let finding = pgfarm_causes::classify(output);
        let what = match finding.cause {
            pgfarm_causes::Cause::SandboxNetwork => {
                "the network is unreachable in the sandbox (loopback only)"
            }
            pgfarm_causes::Cause::SandboxWrite => {
                "the sandbox refused a write outside the work folder (read-only file system)"
            }
            pgfarm_causes::Cause::ForkLimit => "the sandbox's process limit was hit",
            _ => return String::new(),
        };
        let line = finding.line.map(|l| format!(" (line {}: {})", l.number, l.text.trim()));
        format!(": {what}{}", line.unwrap_or_default())
    }

    /// The install stage's own `make install` in the sandbox (see [`Job::make_install`]); outside
    /// it the install stage is [`Job::install`] (the build cache's).
    fn install_sandboxed(&mut self, log: &mut String) -> Result<StageOutcome> {
        if pgxs::makefile(&self.src).is_none() {
            return Ok(StageOutcome::Missing("no GNUmakefile, makefile or Makefile".into()));
        }
        let src = self.src.clone();
        Ok(self.make_install(&src, "make install", log)?.unwrap_or(StageOutcome::Ok))
    }

    /// `make install` in `root`: into the installation's tree, or, in the sandbox (where the
    /// tree is read-only), into `<work>/stage` (`DESTDIR`), from where pgfarm copies what landed
    /// under the tree's folders into the tree; anything written elsewhere fails. `Some` with the
    /// failure.
    pub(super) fn make_install(
        &mut self,
        root: &Path,
        what: &str,
        log: &mut String,
    ) -> Result<Option<StageOutcome>> {
        let Some(sandbox) = self.options.sandbox.clone() else {
            let spawn = self.make.command(root, &["install"]);
            return self.run_logged(&spawn, what, log);
        };
        let stage = self.dir.join("stage");
        if stage.exists() {
            std::fs::remove_dir_all(&stage)
                .map_err(|e| Error::io("could not remove", &stage, e))?;
        }
        std::fs::create_dir_all(&stage).map_err(|e| Error::io("could not create", &stage, e))?;
        if let Some(user) = sandbox.user() {
            chown_tree(&stage, user.uid, user.gid)?;
            chown_tree(root, user.uid, user.gid)?;
        }
        let destdir = format!("DESTDIR={}", stage.display());
        let spawn = self.make.command(root, &["install", &destdir]);
        if let Some(failed) = self.run_logged(&spawn, what, log)? {
            return Ok(Some(failed));
        }
        let docdir = Spawn::new(&self.installation.pg_config)
            .arg("--docdir")
            .output_ok()
            .map(|(out, _)| PathBuf::from(out.trim()))
            .ok();
        let mut folders: Vec<PathBuf> = [
            &self.installation.pkglibdir,
            &self.installation.libdir,
            &self.installation.sharedir,
            &self.installation.includedir_server,
            &self.installation.bindir,
        ]
        .into_iter()
        .cloned()
        .chain(docdir.filter(|d| d.is_absolute()))
        .collect();
        // Inner folders first (pkglibdir may lie inside libdir).
        folders.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
        folders.dedup();
        let mut installed = 0;
        for folder in &folders {
            let staged = stage.join(folder.strip_prefix("/").unwrap_or(folder));
            if staged.is_dir() {
                installed += merge_into(&staged, folder)?;
                std::fs::remove_dir_all(&staged)
                    .map_err(|e| Error::io("could not remove", &staged, e))?;
            }
        }
        let stray = stray_files(&stage, &stage);
        log.push_str(&format!(
            "pgfarm: copied {installed} staged file(s) from {} into the tree\n",
            stage.display()
        ));
        if !stray.is_empty() {
            return Ok(Some(StageOutcome::Failed(format!(
                "{what} wrote outside the PostgreSQL tree's folders (not installed): {}",
                stray
                    .iter()
                    .take(5)
                    .map(|p| format!("/{}", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))));
        }
        Ok(None)
    }

    /// `make install`; with the build cache, into a `DESTDIR` staging folder whose files are
    /// then installed (only those that differ from the tree's) and stored in the cache entry,
    /// or, for a reused build, the cached staging folder installed the same way.
    fn install(&mut self, log: &mut String) -> Result<StageOutcome> {
        let Some(entry) = self.cache.clone() else { return self.run_make(&["install"], log) };
        if self.cache_record.as_ref().is_some_and(|r| r.build_reused) {
            let installed = build_cache::install_staged(&entry.install())?;
            log.push_str(&format!(
                "install from the build cache {}: {} files written, {} already installed unchanged\n",
                entry.install().display(),
                installed.written.len(),
                installed.unchanged
            ));
            for path in &installed.written {
                log.push_str(&format!("  wrote {}\n", path.display()));
            }
            if let Some(record) = &mut self.cache_record {
                record.install_skipped = installed.written.is_empty();
            }
            return Ok(StageOutcome::Ok);
        }
        if pgxs::makefile(&self.src).is_none() {
            return Ok(StageOutcome::Missing("no GNUmakefile, makefile or Makefile".into()));
        }
        let staging = self.dir.join("install-staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .map_err(|e| Error::io("could not remove", &staging, e))?;
        }
        // The built tree as make left it, before make install and the suites touch it.
        let built = self.dir.join("built");
        build_cache::copy_keeping_times(&self.src, &built)?;
        let spawn = self
            .make
            .command(&self.src, &["install"])
            .arg(format!("DESTDIR={}", staging.display()));
        if let Some(failed) = self.run_logged(&spawn, "make install", log)? {
            return Ok(failed);
        }
        if !build_cache::stages_anything(&staging) {
            log.push_str(
                "make install staged nothing under DESTDIR (the makefile ignores it); this build is not cached\n",
            );
            self.cache = None;
            return self.run_make(&["install"], log);
        }
        let installed = build_cache::install_staged(&staging)?;
        log.push_str(&format!(
            "installed {} files from {} ({} already unchanged)\n",
            installed.written.len(),
            staging.display(),
            installed.unchanged
        ));
        match entry.store(&built, &staging) {
            Ok(()) => {
                log.push_str(&format!("build cache: stored {}\n", entry.dir.display()));
                self.cache_record = Some(pgfarm_model::BuildCache {
                    key: entry.key.clone(),
                    build_reused: false,
                    install_skipped: false,
                });
            }
            Err(err) => log.push_str(&format!("build cache: not stored: {err}\n")),
        }
        let _ = std::fs::remove_dir_all(&built);
        Ok(StageOutcome::Ok)
    }

    pub(super) fn run_make(&mut self, targets: &[&str], log: &mut String) -> Result<StageOutcome> {
        if pgxs::makefile(&self.src).is_none() {
            return Ok(StageOutcome::Missing("no GNUmakefile, makefile or Makefile".into()));
        }
        let spawn = self.make.command(&self.src, targets);
        let what = match targets.first() {
            Some(target) => format!("make {target}"),
            None => "make".to_owned(),
        };
        Ok(self.run_logged(&spawn, &what, log)?.unwrap_or(StageOutcome::Ok))
    }

    /// The locale initdb gets: `--locale`, else the environment's (as initdb's under make:
    /// the first of `LC_ALL`, `LC_COLLATE`, `LC_CTYPE`, `LANG` that is set), else `C.UTF-8`.
    fn locale(&self) -> String {
        if let Some(locale) = &self.options.locale {
            return locale.clone();
        }
        ["LC_ALL", "LC_COLLATE", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "C.UTF-8".to_owned())
    }

    /// Server settings: pgfarm.toml `[cluster] settings`, META v2 `preload: server` modules
    /// (added to `shared_preload_libraries`), then `--set`.
    fn settings(&self) -> Vec<(String, String)> {
        let mut settings: Vec<(String, String)> = self.source.cluster_settings.clone();
        if !self.source.preload.is_empty() {
            let listed = settings
                .iter()
                .find(|(n, _)| n == "shared_preload_libraries")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut libraries: Vec<String> =
                listed.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            for module in &self.source.preload {
                if !libraries.contains(module) {
                    libraries.push(module.clone());
                }
            }
            settings.retain(|(n, _)| n != "shared_preload_libraries");
            settings.push(("shared_preload_libraries".into(), libraries.join(",")));
        }
        settings.extend(self.options.settings.iter().cloned());
        settings
    }

    fn start_cluster(&mut self, log: &mut String) -> Result<StageOutcome> {
        let locale = self.locale();
        let mut builder = Cluster::builder(self.installation)
            .name(format!("test-{}", self.label))
            .log_statement("none")
            .locale(locale.clone())
            .conf("max_prepared_transactions = 2")
            .conf("synchronous_commit = off")
            .conf("full_page_writes = off");
        if let Some(encoding) = &self.options.encoding {
            builder = builder.encoding(encoding.clone());
        }
        if self.options.coverage {
            builder = builder.conf("track_functions = 'all'");
        }
        let settings = self.settings();
        for (name, value) in &settings {
            builder = builder.conf(format!("{name} = '{}'", value.replace('\'', "''")));
        }
        let mut cluster = builder.start()?;
        log.push_str(&format!(
            "cluster {} on port {} ({}), locale {locale}{}\n",
            cluster.name(),
            cluster.port(),
            cluster.data_dir().display(),
            self.options.encoding.as_ref().map(|e| format!(", encoding {e}")).unwrap_or_default()
        ));
        for (name, value) in &settings {
            log.push_str(&format!("setting {name} = '{value}'\n"));
        }
        // The recorder's folder too: in the sandbox, make (as the server's user) writes there.
        let record = self.dir.join("record");
        std::fs::create_dir_all(&record)
            .map_err(|e| Error::io("could not create directory", &record, e))?;
        self.own_copy_for_server_user(&cluster)?;

        // Whether the extension's own installcheck recipe runs more than PGXS's drivers: its
        // other commands are the installcheck stage's, against the loaded extension, not this
        // pass's (here they meet no server and their errors are ignored).
        self.custom_installcheck = pgxs::custom_installcheck_recipe(
            &self.make,
            &self.src,
            &self.dir.join("record"),
            &self.options.cancel,
        )?;
        // What make installcheck would run, with its prerequisites built.
        let env = if self.custom_installcheck.is_some() {
            vec![
                ("PGHOST".to_owned(), self.dir.join("no-server").display().to_string()),
                ("PGPORT".to_owned(), "1".to_owned()),
            ]
        } else {
            vec![
                ("PGHOST".to_owned(), cluster.host()),
                ("PGPORT".to_owned(), cluster.port().to_string()),
                ("PGUSER".to_owned(), cluster.superuser().to_owned()),
            ]
        };
        let deadline = self.options.build_timeout.map(|t| Instant::now() + t);
        let recording = pgxs::record_installcheck(
            &self.make,
            &self.src,
            &self.dir.join("record"),
            &env,
            self.custom_installcheck.is_some(),
            deadline,
            &self.options.cancel,
        )?;
        log.push_str(&recording.log);
        match recording.ended {
            Ended::Exited(status) if status.success() => {}
            Ended::Exited(status) => {
                return Ok(StageOutcome::Failed(format!(
                    "make installcheck could not prepare the tests (it exited with {}); last lines:\n{}",
                    crate::process::describe_status(status),
                    tail(&recording.log, TAIL_LINES)
                )));
            }
            Ended::TimedOut => {
                return Ok(StageOutcome::Failed("make installcheck timed out".into()));
            }
            Ended::Cancelled => return Ok(StageOutcome::Failed("interrupted".into())),
        }
        for call in &recording.calls {
            log.push_str(&format!(
                "make installcheck runs {:?} in {}: {}\n",
                call.driver,
                call.cwd.display(),
                call.args.join(" ")
            ));
        }
        self.calls = recording.calls;
        if let Some(origin) = &self.custom_installcheck {
            log.push_str(&format!(
                "the installcheck recipe ({origin}) runs more than PGXS's test drivers: it runs as its own stage\n"
            ));
        }

        // --temp-config files of the suites apply to this cluster, as to pg_regress's temporary
        // instance; --temp-instance and --port mean "a fresh server", which this cluster is.
        let pgxs_top = self
            .installation
            .pgxs
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut temp_configs: Vec<PathBuf> = Vec::new();
        for call in self.calls.iter().filter(|c| c.driver != Driver::Prove) {
            let Ok(args) = RegressArgs::parse(&call.args) else { continue };
            for value in args.values("temp-config") {
                let path = pgxs::resolve_temp_config(value, &call.cwd, &self.src, &pgxs_top);
                if !temp_configs.contains(&path) {
                    temp_configs.push(path);
                }
            }
        }
        if !temp_configs.is_empty() {
            for path in &temp_configs {
                let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
                    path: path.clone(),
                    message: format!("--temp-config file could not be read: {e}"),
                })?;
                log.push_str(&format!("--temp-config {}:\n{text}", path.display()));
                for line in text.lines() {
                    cluster.append_conf(line)?;
                }
            }
            cluster.restart()?;
            log.push_str("cluster restarted with the --temp-config settings\n");
        }
        self.cluster = Some(cluster);
        Ok(StageOutcome::Ok)
    }

    /// The suites write into the copy as the server's OS user would (Perl TAP tests start
    /// servers themselves, which refuse root): when servers run as an unprivileged user, the
    /// copy becomes theirs.
    fn own_copy_for_server_user(&self, cluster: &Cluster) -> Result<()> {
        let Some(user) = cluster.os_user() else { return Ok(()) };
        chown_tree(&self.dir, user.uid, user.gid)
    }

    /// Where pgfarm.toml's steps connect: this run's cluster, database `postgres` (a step's
    /// `database` overrides it).
    fn step_connection(&self) -> Result<crate::steps::Connection> {
        let cluster = self.cluster()?;
        Ok(crate::steps::Connection {
            psql: self.installation.bin("psql"),
            host: Some(cluster.host()),
            port: Some(cluster.port()),
            user: Some(cluster.superuser().to_owned()),
            database: "postgres".into(),
            env: Vec::new(),
        })
    }

    /// pgfarm.toml's `setup` steps, in order; `Err` names the one that failed.
    pub(super) fn run_setup_steps(&self, log: &mut String) -> std::result::Result<(), String> {
        let connection = self.step_connection().map_err(|e| e.to_string())?;
        self.steps.run_setup(&self.steps.setup, &connection, &self.options.cancel, log)
    }

    /// pgfarm.toml's `teardown` steps, every one (also after Ctrl-C).
    pub(super) fn run_teardown_steps(&self, log: &mut String) -> std::result::Result<(), String> {
        let connection = self.step_connection().map_err(|e| e.to_string())?;
        self.steps.run_teardown(&self.steps.teardown, &connection, log)
    }

    /// What a suite stage that ran no test says: none was selected, or `--fail-fast`
    /// stopped the run first.
    pub(super) fn nothing_selected(&self, what: &str, n_not_run: usize) -> StageOutcome {
        if n_not_run > 0 {
            StageOutcome::Skipped(format!(
                "not run: --fail-fast stopped the run after a failure ({n_not_run} {what} not run)"
            ))
        } else {
            StageOutcome::Skipped(format!(
                "no {what} selected ({})",
                self.options.selection.describe()
            ))
        }
    }

    pub(super) fn cluster(&self) -> Result<&Cluster> {
        self.cluster.as_ref().ok_or_else(|| Error::Cluster("no cluster".into()))
    }

    fn psql(&self, db: &str, sql: &str) -> Result<Spawn> {
        let cluster = self.cluster()?;
        Ok(Spawn::new(self.installation.bin("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(cluster.host())
            .arg("-p")
            .arg(cluster.port().to_string())
            .arg("-U")
            .arg(cluster.superuser())
            .arg("-d")
            .arg(db)
            .arg("-c")
            .arg(sql)
            .env("PGAPPNAME", "pgfarm")
            .current_dir(&self.src))
    }

    /// Runs SQL, appending the command and its output to `log`; `Err` text on failure.
    pub(super) fn sql(
        &self,
        db: &str,
        sql: &str,
        log: &mut String,
    ) -> Result<std::result::Result<String, String>> {
        let spawn = self.psql(db, sql)?;
        let (status, stdout, stderr) = spawn.output()?;
        log.push_str(&format!("{db}=# {sql}\n{stdout}{stderr}"));
        Ok(if status.success() {
            Ok(stdout)
        } else {
            Err(stderr.lines().find(|l| l.contains("ERROR")).unwrap_or(stderr.trim()).to_owned())
        })
    }

    /// The extensions this one needs (control `requires`, META.json `prereqs.runtime.requires`,
    /// `EXTRA_INSTALL = contrib/x`) that the tree does not have.
    fn missing_dependencies(&self, log: &mut String) -> Result<Vec<String>> {
        let mut needed: Vec<String> =
            self.source.control().map(|c| c.requires.clone()).unwrap_or_default();
        // META.json's runtime prerequisites name extensions too (PostgreSQL itself aside).
        if let Some(requires) = self
            .source
            .prereqs
            .as_ref()
            .and_then(|p| p.pointer("/runtime/requires"))
            .and_then(|r| r.as_object())
        {
            for name in requires.keys() {
                if !name.eq_ignore_ascii_case("postgresql") && !needed.contains(name) {
                    needed.push(name.clone());
                }
            }
        }
        for extra in &self.source.extra_install {
            let name = extra.rsplit('/').next().unwrap_or(extra).to_owned();
            if !needed.contains(&name) {
                needed.push(name);
            }
        }
        let own: Vec<&str> = self.source.controls.iter().map(|c| c.name.as_str()).collect();
        needed.retain(|n| !own.contains(&n.as_str()));
        if needed.is_empty() {
            return Ok(Vec::new());
        }
        let list =
            needed.iter().map(|n| format!("'{}'", n.replace('\'', "''"))).collect::<Vec<_>>();
        let query = format!(
            "SELECT n FROM unnest(ARRAY[{}]) AS n WHERE n NOT IN (SELECT name FROM pg_available_extensions)",
            list.join(",")
        );
        Ok(match self.sql("postgres", &query, log)? {
            Ok(out) => out.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect(),
            Err(_) => Vec::new(),
        })
    }

    /// `CREATE EXTENSION .. CASCADE` in the fresh cluster's `postgres` database (as pristine
    /// as a new database, and a `CREATE DATABASE` cheaper; later stages make their own
    /// databases from template1, which the extension does not touch).
    fn load(&mut self, log: &mut String) -> Result<StageOutcome> {
        let missing = self.missing_dependencies(log)?;
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|n| format!("dependency {n}")).collect();
            return Ok(StageOutcome::Missing(format!(
                "{} not installed in this PostgreSQL tree",
                names.join(", ")
            )));
        }
        let name = &self.source.name;
        Ok(match self.sql("postgres", &format!("CREATE EXTENSION \"{name}\" CASCADE"), log)? {
            Ok(_) => StageOutcome::Ok,
            Err(e) if e.contains("shared_preload_libraries") => StageOutcome::Failed(format!(
                "{e} (preload it: pgfarm.toml `[cluster] settings = {{ shared_preload_libraries = \"{name}\" }}`, \
                 or `pgfarm test --set shared_preload_libraries={name}`)"
            )),
            Err(e) => StageOutcome::Failed(e),
        })
    }

    /// A pg_regress command line recorded from make, as pgfarm's engine options against this
    /// run's cluster. An option pgfarm cannot honour is an error naming it.
    pub(super) fn regress_options(
        &self,
        args: &RegressArgs,
        cwd: &Path,
        default_outputdir: &Path,
    ) -> std::result::Result<RegressOptions, String> {
        let cluster = self.cluster().map_err(|e| e.to_string())?;
        let at = |value: &str| -> PathBuf {
            let path = Path::new(value);
            if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) }
        };
        let mut options = RegressOptions {
            inputdir: cwd.to_path_buf(),
            outputdir: default_outputdir.to_path_buf(),
            tests: args.tests.clone(),
            dbnames: vec!["regression".into()],
            bindir: Some(self.installation.bindir.clone()),
            host: Some(cluster.host()),
            port: Some(cluster.port()),
            user: Some(cluster.superuser().to_owned()),
            style: if self.installation.major() >= 16 { Style::Tap } else { Style::Classic },
            timeout: self.options.timeout,
            cancel: self.options.cancel.clone(),
            cwd: Some(cwd.to_path_buf()),
            selection: self.options.selection.clone(),
            fail_fast: self.options.fail_fast.clone(),
            steps: self.steps.clone(),
            ..RegressOptions::default()
        };
        for (name, value) in &args.options {
            let value: &String = value;
            match name.as_str() {
                "inputdir" => options.inputdir = at(value),
                "outputdir" => options.outputdir = at(value),
                "expecteddir" => options.expecteddir = Some(at(value)),
                "schedule" => options.schedules.push(at(value)),
                "dbname" => options.dbnames = value.split(',').map(str::to_owned).collect(),
                "load-extension" => options.load_extensions.push(value.clone()),
                // Languages are extensions since PostgreSQL 9.1 (pg_regress 13+ dropped the option).
                "load-language" => options.load_extensions.push(value.clone()),
                "create-role" => {
                    options.create_roles.extend(value.split(',').map(|r| r.trim().to_owned()))
                }
                "encoding" => options.encoding = Some(value.clone()),
                "no-locale" => options.no_locale = true,
                "use-existing" => options.use_existing = true,
                "launcher" => options.launcher = Some(value.clone()),
                "dlpath" => options.dlpath = Some(at(value)),
                "max-connections" => {
                    options.max_connections = if value.is_empty() {
                        0
                    } else {
                        value.parse().map_err(|_| {
                            format!("pg_regress option --max-connections={value}: not a number")
                        })?
                    }
                }
                "max-concurrent-tests" => {
                    options.max_concurrent_tests = value.parse().map_err(|_| {
                        format!("pg_regress option --max-concurrent-tests={value}: not a number")
                    })?
                }
                // pgfarm's cluster is the fresh server these ask for; --temp-config was applied
                // to it in the cluster stage; --bindir is this installation's.
                "temp-instance" | "temp-config" | "port" | "host" | "user" | "bindir" => {}
                // Accepted by pg_regress with no effect on a Unix installcheck run.
                "debug" | "config-auth" => {}
                other => {
                    return Err(format!("pg_regress option --{other} is not supported by pgfarm"));
                }
            }
        }
        if let Some(user) = self.options.sandbox.as_ref().and_then(|s| s.user()) {
            // In the sandbox psql runs as the sandbox's user, and tests write under results/
            // (`\o`, `\copy ... TO 'results/..'`) as they do under make: the folder is theirs.
            // The output folder too: pg_isolation_regress itself runs there as that user.
            let results = options.outputdir.join("results");
            std::fs::create_dir_all(&results)
                .map_err(|e| format!("could not create {}: {e}", results.display()))?;
            std::os::unix::fs::lchown(&options.outputdir, Some(user.uid), Some(user.gid)).map_err(
                |e| format!("could not change the owner of {}: {e}", options.outputdir.display()),
            )?;
            chown_tree(&results, user.uid, user.gid).map_err(|e| e.to_string())?;
        }
        Ok(options)
    }

    fn regress(&mut self, log: &mut String) -> Result<StageOutcome> {
        let calls: Vec<_> =
            self.calls.iter().filter(|c| c.driver == Driver::Regress).cloned().collect();
        if calls.is_empty() {
            return Ok(StageOutcome::Missing(
                "make installcheck runs no pg_regress tests (no REGRESS)".into(),
            ));
        }
        let mut failures = Vec::new();
        let mut n_tests = 0;
        let (mut n_deselected, mut n_not_run) = (0, 0);
        for call in &calls {
            let args = match RegressArgs::parse(&call.args) {
                Ok(args) => args,
                Err(e) => return Ok(StageOutcome::Failed(format!("pg_regress: {e}"))),
            };
            let options = match self.regress_options(&args, &call.cwd, &call.cwd) {
                Ok(options) => options,
                Err(e) => return Ok(StageOutcome::Failed(e)),
            };
            if options.tests.is_empty() && options.schedules.is_empty() {
                continue;
            }
            let mut console = String::new();
            let mut sink = |_: Stream, text: &str| console.push_str(text);
            let log_position = self.cluster()?.log_position();
            let report = regress::run(&options, &mut sink)?;
            log.push_str(&console);
            n_deselected += report.deselected.len();
            n_not_run += report.not_run.len();
            let test_ref = |name: &String| pgfarm_model::TestRef::new(StageKind::Regress, name);
            self.deselected.extend(report.deselected.iter().map(test_ref));
            self.not_run.extend(report.not_run.iter().map(test_ref));
            if let Some(diffs) =
                report.diffs_file.as_ref().and_then(|p| std::fs::read_to_string(p).ok())
            {
                log.push_str(&diffs);
            }
            let mut tests = bundle::regress_tests(&report);
            let lost = tests.iter().any(|t| super::suites::lost_connection(&t.actual));
            let crash = self.crash_since(log_position, lost);
            if let Some(crash) = &crash {
                super::suites::mark_crashed(&mut tests, crash);
            }
            n_tests += tests.len();
            match report.exit_code {
                0 => {}
                1 => {
                    let failed: Vec<String> = report
                        .tests
                        .iter()
                        .filter(|t| {
                            matches!(
                                t.status,
                                regress::TestStatus::Failed | regress::TestStatus::TimedOut
                            )
                        })
                        .map(|t| t.name.clone())
                        .collect();
                    failures.extend(failed);
                }
                _ => {
                    self.bundle_regress.extend(tests);
                    self.regress = Some(report.clone());
                    return Ok(StageOutcome::Failed(
                        report.bail.clone().unwrap_or_else(|| "pg_regress could not run".into()),
                    ));
                }
            }
            if let Some(crash) = crash {
                self.bundle_regress.extend(tests);
                self.regress = Some(report);
                return Ok(StageOutcome::Failed(crash.summary()));
            }
            self.bundle_regress.extend(tests);
            self.regress = Some(report);
        }
        if failures.is_empty() {
            if n_tests == 0 && n_deselected + n_not_run > 0 {
                return Ok(self.nothing_selected("pg_regress tests", n_not_run));
            }
            if n_tests == 0 {
                return Ok(StageOutcome::Missing(
                    "make installcheck runs no pg_regress tests".into(),
                ));
            }
            Ok(StageOutcome::Ok)
        } else {
            Ok(StageOutcome::Failed(format!(
                "{} of {} tests failed: {}",
                failures.len(),
                n_tests,
                failures.join(", ")
            )))
        }
    }

    fn tap(&mut self, log: &mut String) -> Result<StageOutcome> {
        if self.source.tap_files.is_empty() {
            return Ok(StageOutcome::Missing("no pgTAP tests".into()));
        }
        let scripts: Vec<Script> =
            self.source.tap_files.iter().map(|f| Script::File(f.clone())).collect();
        let probe = ProveOptions {
            cwd: Some(self.src.clone()),
            selection: self.options.selection.clone(),
            ..ProveOptions::default()
        };
        let (chosen, left_out) = prove::choose(&probe, &scripts);
        if chosen.is_empty() || self.options.fail_fast.is_tripped() {
            let test_ref = |name: &String| pgfarm_model::TestRef::new(StageKind::Tap, name);
            self.deselected.extend(left_out.iter().map(test_ref));
            let not_run: Vec<String> = chosen.iter().map(Script::name).collect();
            self.not_run.extend(not_run.iter().map(test_ref));
            return Ok(self.nothing_selected("pgTAP files", not_run.len()));
        }
        if let Err(e) = self.sql("postgres", "CREATE DATABASE pgfarm_tap", log)? {
            return Ok(StageOutcome::Failed(e));
        }
        let (outcome, report) = self.run_tap_files("pgfarm_tap", log)?;
        if let Some(report) = report {
            self.tap_files = bundle::tap_files(&report);
            self.tap = Some(report);
        }
        Ok(outcome)
    }

    /// The pgTAP files in database `db` after the TAP set-up statements (idempotent: `IF NOT
    /// EXISTS`), with the outcome and the report.
    fn run_tap_files(
        &mut self,
        db: &str,
        log: &mut String,
    ) -> Result<(StageOutcome, Option<ProveReport>)> {
        for setup in &self.source.tap_setup {
            if let Err(e) = self.sql(db, setup, log)? {
                return Ok((StageOutcome::Failed(format!("TAP set-up failed: {e}")), None));
            }
        }
        let cluster = self.cluster()?;
        let options = ProveOptions {
            dbname: Some(db.into()),
            username: Some(cluster.superuser().to_owned()),
            host: Some(cluster.host()),
            port: Some(cluster.port()),
            psql: self.installation.bin("psql"),
            timeout: self.options.timeout,
            cancel: self.options.cancel.clone(),
            cwd: Some(self.src.clone()),
            selection: self.options.selection.clone(),
            fail_fast: self.options.fail_fast.clone(),
            steps: self.steps.clone(),
            ..ProveOptions::default()
        };
        // --jobs left over by the installations runs TAP files at once, each in its own copy
        // of the prepared database (set-up included) so they cannot see or block each other.
        let spare_jobs = self.options.jobs / self.options.installations.len().max(1);
        let options = if spare_jobs > 1 && self.source.tap_files.len() > 1 {
            let copy_strategy = (self.installation.major() >= 15).then(|| "FILE_COPY".to_owned());
            ProveOptions { jobs: spare_jobs, isolate: true, copy_strategy, ..options }
        } else {
            options
        };
        let scripts: Vec<Script> =
            self.source.tap_files.iter().map(|f| Script::File(f.clone())).collect();
        let width = scripts.iter().map(|s| s.name().len()).max().unwrap_or(0);
        let mut text = String::new();
        let report = prove::run(&options, &scripts, &mut |prove::ProveEvent::Finished(result)| {
            text.push_str(&prove::FileLine { width, verbose: true, timer: true }.render(result));
        })?;
        let test_ref = |name: &String| pgfarm_model::TestRef::new(StageKind::Tap, name);
        self.deselected.extend(report.deselected.iter().map(test_ref));
        self.not_run.extend(report.not_run.iter().map(test_ref));
        if report.files.is_empty() && !report.interrupted {
            let outcome = self.nothing_selected("pgTAP files", report.not_run.len());
            return Ok((outcome, Some(report)));
        }
        text.push_str(&prove::render_summary(&report, true));
        log.push_str(&text);
        let failed: Vec<&str> =
            report.files.iter().filter(|f| !f.passed).map(|f| f.name.as_str()).collect();
        let outcome = if report.passed() {
            StageOutcome::Ok
        } else {
            StageOutcome::Failed(format!(
                "{} of {} files failed: {}",
                failed.len(),
                report.files.len(),
                failed.join(", ")
            ))
        };
        Ok((outcome, Some(report)))
    }

    /// The versions of the extension this tree can install (`pg_available_extension_versions`),
    /// older than `target`, newest first.
    fn installable_earlier_versions(&self, target: &str, log: &mut String) -> Result<Vec<String>> {
        let name = self.source.name.replace('\'', "''");
        let out = match self.sql(
            "postgres",
            &format!("SELECT version FROM pg_available_extension_versions WHERE name = '{name}'"),
            log,
        )? {
            Ok(out) => out,
            Err(_) => return Ok(Vec::new()),
        };
        let mut versions: Vec<String> = out
            .lines()
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != target && *v != "unpackaged")
            .filter(|v| crate::extension::compare_versions(v, target) == std::cmp::Ordering::Less)
            .map(str::to_owned)
            .collect();
        versions.sort_by(|a, b| crate::extension::compare_versions(b, a));
        Ok(versions)
    }

    /// In `pgfarm_upgraded`, `CREATE EXTENSION` at the version the previous release `release`
    /// installed (its control file's `default_version`), which must be earlier than `to`.
    fn create_previous(
        &mut self,
        name: &str,
        to: &str,
        release: &str,
        log: &mut String,
    ) -> Result<std::result::Result<String, StageOutcome>> {
        let Some(from) = self.tree_version(name) else {
            return Ok(Err(StageOutcome::Missing(format!(
                "the previous release {release} installs no {name}.control"
            ))));
        };
        if crate::extension::compare_versions(&from, to) != std::cmp::Ordering::Less {
            return Ok(Err(StageOutcome::Missing(format!(
                "the previous release {release} installs {name} {from}, not earlier than {to}"
            ))));
        }
        Ok(
            match self.sql(
                "pgfarm_upgraded",
                &format!("CREATE EXTENSION \"{name}\" VERSION '{from}' CASCADE"),
                log,
            )? {
                Ok(_) => {
                    log.push_str(&format!(
                    "pgfarm: {name} {from} from the previous release {release}, now updated with this release's scripts\n"
                ));
                    Ok(from)
                }
                Err(e) => Err(StageOutcome::Failed(format!(
                    "the previous release {release}: CREATE EXTENSION {name} VERSION '{from}' failed: {e}"
                ))),
            },
        )
    }

    fn upgrade(&mut self, log: &mut String) -> Result<StageOutcome> {
        if !self.source.upgrade_enabled {
            return Ok(StageOutcome::Missing(
                "turned off in pgfarm.toml ([upgrade] enabled = false)".into(),
            ));
        }
        let Some(to) = self.source.control().and_then(|c| c.default_version.clone()) else {
            return Ok(StageOutcome::Missing("the control file has no default_version".into()));
        };
        let name = self.source.name.clone();
        let candidates = self.installable_earlier_versions(&to, log)?;
        for db in ["pgfarm_upgraded", "pgfarm_fresh"] {
            if let Err(e) = self.sql("postgres", &format!("CREATE DATABASE {db}"), log)? {
                return Ok(StageOutcome::Failed(e));
            }
        }
        // The newest earlier version that installs here (older install scripts may use what
        // this major removed: that says nothing about the update scripts).
        let mut from = None;
        for candidate in &candidates {
            match self.sql(
                "pgfarm_upgraded",
                &format!("CREATE EXTENSION \"{name}\" VERSION '{candidate}' CASCADE"),
                log,
            )? {
                Ok(_) => {
                    from = Some(candidate.clone());
                    break;
                }
                Err(e) => {
                    log.push_str(&format!("version {candidate} does not install here: {e}\n"))
                }
            }
        }
        let from = match from {
            Some(from) => from,
            None => {
                // As pgTAP's updatecheck: the previous PGXN release, then this release's
                // update scripts.
                let tree = if candidates.is_empty() {
                    format!("pg_available_extension_versions lists none before {to}")
                } else {
                    format!("tried {}", candidates.join(", "))
                };
                let (release, snapshot) = match self.install_previous_release(log)? {
                    Ok(installed) => installed,
                    Err(why) => {
                        return Ok(StageOutcome::Missing(format!(
                            "no earlier version of {name} is installable in this tree ({tree}); {why}"
                        )));
                    }
                };
                let created = self.create_previous(&name, &to, &release, log);
                let reinstalled = self.reinstall(log);
                snapshot.remove_added(log);
                if let Some(failed) = reinstalled? {
                    return Ok(StageOutcome::Failed(format!(
                        "reinstalling {name} after the previous release {release}: {failed}"
                    )));
                }
                match created? {
                    Ok(from) => from,
                    Err(outcome) => return Ok(outcome),
                }
            }
        };
        if let Err(e) = self.sql(
            "pgfarm_upgraded",
            &format!("ALTER EXTENSION \"{name}\" UPDATE TO '{to}'"),
            log,
        )? {
            return Ok(StageOutcome::Failed(format!(
                "ALTER EXTENSION UPDATE {from} -> {to} failed: {e}"
            )));
        }
        if let Err(e) = self.sql(
            "pgfarm_fresh",
            &format!("CREATE EXTENSION \"{name}\" VERSION '{to}' CASCADE"),
            log,
        )? {
            return Ok(StageOutcome::Failed(format!("cannot install version {to}: {e}")));
        }
        let query = super::catalog_query(&name);
        let upgraded = match self.sql("pgfarm_upgraded", &query, &mut String::new())? {
            Ok(text) => text,
            Err(e) => return Ok(StageOutcome::Failed(e)),
        };
        let fresh = match self.sql("pgfarm_fresh", &query, &mut String::new())? {
            Ok(text) => text,
            Err(e) => return Ok(StageOutcome::Failed(e)),
        };
        let diff = pgfarm_diff::diff_lines(&fresh, &upgraded, &pgfarm_diff::Options::default());
        if diff.is_empty() {
            log.push_str(&format!(
                "catalog objects after {from} -> {to} equal a fresh {to} ({} objects)\n",
                fresh.lines().count()
            ));
            if !self.source.upgrade_rerun || self.source.tap_files.is_empty() {
                return Ok(StageOutcome::Ok);
            }
            // `[upgrade] rerun = true`: the pgTAP suites again, in the updated database.
            log.push_str(&format!("pgfarm: the pgTAP files again after {from} -> {to}\n"));
            return Ok(match self.run_tap_files("pgfarm_upgraded", log)?.0 {
                StageOutcome::Failed(why) => StageOutcome::Failed(format!(
                    "after ALTER EXTENSION UPDATE {from} -> {to}: {why}"
                )),
                other => other,
            });
        }
        let mut text = String::new();
        let labels = pgfarm_diff::Labels {
            expected: &format!("fresh {to}"),
            actual: &format!("updated {from} -> {to}"),
        };
        let _ = diff.write_unified(&mut text, &labels, 3);
        log.push_str(&text);
        Ok(StageOutcome::Failed(format!(
            "catalog after ALTER EXTENSION UPDATE {from} -> {to} differs from a fresh install ({} lines)",
            diff.n_changed_lines()
        )))
    }
}

/// Gives every file and folder under `dir` to `uid`:`gid` (symlinks themselves, not their
/// targets).
/// Copies the staged install folder `from` into `to` (files replace files, links replace
/// links, modes kept); the number of files and links copied.
fn merge_into(from: &Path, to: &Path) -> Result<usize> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("could not create directory", to, e))?;
    let mut copied = 0;
    let entries =
        std::fs::read_dir(from).map_err(|e| Error::io("could not read directory", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("could not read directory", from, e))?;
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        let file_type = entry.file_type().map_err(|e| Error::io("could not stat", &path, e))?;
        if file_type.is_dir() {
            copied += merge_into(&path, &target)?;
            continue;
        }
        if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&target)
                .map_err(|e| Error::io("could not replace", &target, e))?;
        }
        if file_type.is_symlink() {
            let link = std::fs::read_link(&path)
                .map_err(|e| Error::io("could not read link", &path, e))?;
            std::os::unix::fs::symlink(&link, &target)
                .map_err(|e| Error::io("could not create symlink", &target, e))?;
        } else if file_type.is_file() {
            std::fs::copy(&path, &target).map_err(|e| Error::io("could not copy", &path, e))?;
        } else {
            continue;
        }
        copied += 1;
    }
    Ok(copied)
}

/// Files and links left under `dir` (paths relative to `root`).
fn stray_files(dir: &Path, root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(stray_files(&path, root));
        } else {
            found.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    found
}

pub(super) fn chown_tree(dir: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(gid))
        .map_err(|e| Error::io("could not change the owner of", dir, e))?;
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io("could not read directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("could not read directory", dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io("could not stat", &path, e))?;
        if file_type.is_dir() {
            chown_tree(&path, uid, gid)?;
        } else {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
                .map_err(|e| Error::io("could not change the owner of", &path, e))?;
        }
    }
    Ok(())
}
