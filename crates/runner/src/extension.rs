//! Extension discovery: control files, PGXN `META.json`, PGXS Makefile variables, the
//! pg_regress tests and the pgTAP tests of a source tree, with overrides from `pgfarm.toml`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::process::Spawn;

/// One `.control` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// Extension name (the file stem).
    pub name: String,
    /// `default_version`.
    pub default_version: Option<String>,
    /// `requires` (comma-separated in the file).
    pub requires: Vec<String>,
    /// `module_pathname`.
    pub module_pathname: Option<String>,
}

/// An update script `name--from--to.sql` found in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateScript {
    /// Extension name.
    pub extension: String,
    /// Version updated from.
    pub from: String,
    /// Version updated to.
    pub to: String,
    /// The file.
    pub path: PathBuf,
}

/// Everything pgfarm needs to know about an extension source tree.
#[derive(Debug, Clone, Default)]
pub struct ExtensionSource {
    /// The source directory.
    pub root: PathBuf,
    /// Name (META.json `name`, else `EXTENSION`, else the first control file).
    pub name: String,
    /// Version (META.json `version`, else the control file's `default_version`).
    pub version: String,
    /// Control files, by extension name.
    pub controls: Vec<Control>,
    /// Makefile variables (`VAR = ...`, `VAR += ...`, continuation lines joined).
    pub make_vars: BTreeMap<String, String>,
    /// True when there is a Makefile.
    pub has_makefile: bool,
    /// True when `make_vars` hold make's own evaluation (see [`evaluate_makefile`]).
    pub make_evaluated: bool,
    /// The pg_regress tests (REGRESS), in order.
    pub regress_tests: Vec<String>,
    /// REGRESS_OPTS split into words.
    pub regress_opts: Vec<String>,
    /// The pg_regress input directory, relative to `root` (from `--inputdir`, default `.`).
    pub regress_inputdir: PathBuf,
    /// pgTAP test files, relative to `root`.
    pub tap_files: Vec<PathBuf>,
    /// Update scripts found anywhere in the tree.
    pub update_scripts: Vec<UpdateScript>,
    /// META.json's `prereqs.runtime.requires.PostgreSQL` (a minimum version), if any.
    pub min_postgres: Option<String>,
    /// META.json's raw `prereqs` object, if any.
    pub prereqs: Option<serde_json::Value>,
    /// SQL run in each TAP database before the files (from pgfarm.toml `tap.setup`; default
    /// `CREATE EXTENSION IF NOT EXISTS pgtap`, then the extension itself with `CASCADE`).
    pub tap_setup: Vec<String>,
    /// Extra make arguments (`pgfarm.toml` `[build] make_args`), passed to every make call.
    pub make_args: Vec<String>,
    /// Server settings (`pgfarm.toml` `[cluster] settings`), in file order.
    pub cluster_settings: Vec<(String, String)>,
    /// Modules META.json (v2) marks `preload: server`: added to `shared_preload_libraries`.
    pub preload: Vec<String>,
    /// `EXTRA_INSTALL` entries (`contrib/x`): modules that must be installed in the tree.
    pub extra_install: Vec<String>,
    /// False when `pgfarm.toml` says `[upgrade] enabled = false`.
    pub upgrade_enabled: bool,
    /// True when `pgfarm.toml` says `[upgrade] rerun = true`: the suites run again in the
    /// updated database after an upgrade from the previous PGXN release.
    pub upgrade_rerun: bool,
    /// META.json's `name` (the PGXN distribution name), if any.
    pub meta_name: Option<String>,
    /// META.json's `version` (the release version), if any.
    pub meta_version: Option<String>,
    /// META.json's prerequisites other than PostgreSQL and PL/pgSQL ([`crate::dist::meta_requires`]).
    pub meta_requires: Vec<pgfarm_pgxn::Prereq>,
    /// Where the source came from on PGXN, and the mirror the run may use (set by the caller;
    /// discovery leaves it empty).
    pub provenance: crate::dist::Provenance,
    /// Things discovery noticed that the user should know (a META version that disagrees with
    /// the control file, ...).
    pub warnings: Vec<String>,
}

/// The optional `pgfarm.toml` of an extension.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[regress]`
    #[serde(default)]
    pub regress: RegressConfig,
    /// `[tap]`
    #[serde(default)]
    pub tap: TapConfig,
    /// `[build]`
    #[serde(default)]
    pub build: BuildConfig,
    /// `[cluster]`
    #[serde(default)]
    pub cluster: ClusterConfig,
    /// `[upgrade]`
    #[serde(default)]
    pub upgrade: UpgradeConfig,
}

/// `[build]` in pgfarm.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// Extra `NAME=VALUE` arguments for every make call (recorded in the bundle).
    pub make_args: Option<Vec<String>>,
}

/// `[cluster]` in pgfarm.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Server settings written into the test cluster's configuration before it starts
    /// (`shared_preload_libraries`, `max_locks_per_transaction`, ...). Values are strings,
    /// numbers or booleans.
    pub settings: Option<toml::Table>,
}

/// `[upgrade]` in pgfarm.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeConfig {
    /// `false` turns the upgrade stage off.
    pub enabled: Option<bool>,
    /// `true` runs the regress and pgTAP suites again in the database updated from the
    /// previous PGXN release.
    pub rerun: Option<bool>,
}

/// `[regress]` in pgfarm.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressConfig {
    /// Test names (replaces REGRESS).
    pub tests: Option<Vec<String>>,
    /// pg_regress options (replaces REGRESS_OPTS).
    pub opts: Option<Vec<String>>,
    /// Input directory (replaces `--inputdir`).
    pub inputdir: Option<PathBuf>,
}

/// `[tap]` in pgfarm.toml.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TapConfig {
    /// Test files or globs relative to the root (`test/**/*.sql`; replaces discovery).
    pub files: Option<Vec<String>>,
    /// SQL run before the files in the TAP database.
    pub setup: Option<Vec<String>>,
}

/// Parses a `.control` file.
pub fn parse_control(name: &str, text: &str) -> Control {
    let mut control = Control {
        name: name.to_owned(),
        default_version: None,
        requires: Vec::new(),
        module_pathname: None,
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim().trim_matches('\'').trim().to_owned();
        match key.trim() {
            "default_version" => control.default_version = Some(value),
            "requires" => {
                control.requires = value
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "module_pathname" => control.module_pathname = Some(value),
            _ => {}
        }
    }
    control
}

/// Reads `VAR = value` / `VAR += value` / `VAR := value` assignments of a Makefile, joining
/// backslash continuations. Conditionals and make functions are not evaluated: values keep
/// their text (`$(wildcard ...)`).
pub fn parse_makefile(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let line = line.split('#').next().unwrap_or("");
        if line.starts_with('\t') {
            continue;
        }
        let (name, value, append) = if let Some((n, v)) = line.split_once("+=") {
            (n, v, true)
        } else if let Some((n, v)) =
            line.split_once(":=").or_else(|| line.split_once("?=")).or_else(|| line.split_once('='))
        {
            (n, v, false)
        } else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if append {
            let entry = vars.entry(name.to_owned()).or_insert_with(String::new);
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(&value);
        } else {
            vars.insert(name.to_owned(), value);
        }
    }
    vars
}

/// The Makefile variables pgfarm reads.
pub const MAKE_VARIABLES: [&str; 12] = [
    "EXTENSION",
    "DATA",
    "MODULES",
    "MODULE_big",
    "REGRESS",
    "REGRESS_OPTS",
    "EXTRA_REGRESS_OPTS",
    "ISOLATION",
    "ISOLATION_OPTS",
    "TAP_TESTS",
    "EXTRA_INSTALL",
    "NO_INSTALLCHECK",
];

/// True when the text of a Makefile needs make itself to give these variables their values:
/// a variable pgfarm reads holds a reference or function (`$(wildcard sql/*.sql)`), or the
/// file has conditionals (`ifeq`, `ifdef`, ...).
pub fn needs_make(text: &str, vars: &BTreeMap<String, String>) -> bool {
    let conditional = text.lines().any(|l| {
        let l = l.trim_start();
        ["ifeq", "ifneq", "ifdef", "ifndef"]
            .iter()
            .any(|k| l.strip_prefix(k).is_some_and(|rest| rest.starts_with([' ', '\t', '('])))
    });
    conditional
        || MAKE_VARIABLES
            .iter()
            .filter_map(|name| vars.get(*name))
            .any(|value| value.contains("$(") || value.contains("${"))
}

/// Asks make for the final values of [`MAKE_VARIABLES`]: runs `make -s --eval=RULE
/// pgfarm-print-variables USE_PGXS=1 [PG_CONFIG=..]` in `root`, where RULE prints them with
/// `$(info ..)` once the whole makefile (and the PGXS include) was read, so functions,
/// conditionals and PGXS's own additions (`--dbname=..` in `REGRESS_OPTS`) are evaluated
/// exactly as `make installcheck` sees them.
pub fn evaluate_makefile(
    root: &Path,
    pg_config: Option<&Path>,
) -> Result<BTreeMap<String, String>> {
    // The rule comes in through --eval, so make reads the makefile it would read itself
    // (GNUmakefile, makefile, Makefile); the recipe expands after every makefile was read.
    let mut rule = String::from(".PHONY: pgfarm-print-variables\npgfarm-print-variables:\n");
    for name in MAKE_VARIABLES {
        rule.push_str(&format!("\t$(info pgfarm-variable {name}=$({name}))\n"));
    }
    rule.push_str("\t@:\n");
    let mut spawn = Spawn::new("make")
        .args(["-s", "--no-print-directory"])
        .arg(format!("--eval={rule}"))
        .arg("pgfarm-print-variables")
        .arg("USE_PGXS=1")
        .current_dir(root);
    if let Some(pg_config) = pg_config {
        spawn = spawn.arg(format!("PG_CONFIG={}", pg_config.display()));
    }
    let (stdout, _) = spawn.output_ok()?;
    Ok(stdout
        .lines()
        .filter_map(|line| line.strip_prefix("pgfarm-variable "))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            (name.to_owned(), value.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect())
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

impl ExtensionSource {
    /// Examines the source tree at `root` (Makefile functions evaluated with the `pg_config`
    /// on `PATH`; see [`ExtensionSource::discover_with`]).
    pub fn discover(root: &Path) -> Result<ExtensionSource> {
        ExtensionSource::discover_with(root, None)
    }

    /// Examines the source tree at `root`. When the Makefile's variables need make (functions
    /// such as `$(wildcard ..)`, `$(patsubst ..)`, or conditionals), make itself is asked for
    /// them with this `pg_config` (see [`evaluate_makefile`]).
    pub fn discover_with(root: &Path, pg_config: Option<&Path>) -> Result<ExtensionSource> {
        if !root.is_dir() {
            return Err(Error::Config {
                path: root.to_path_buf(),
                message: "not a directory".into(),
            });
        }
        let mut source = ExtensionSource {
            root: root.to_path_buf(),
            regress_inputdir: PathBuf::from("."),
            ..ExtensionSource::default()
        };
        let config = read_config(root)?;

        // Control files and update scripts anywhere in the tree (skipping results and VCS dirs).
        let mut files = Vec::new();
        walk(root, root, 0, &mut files);
        files.sort();
        for rel in &files {
            let name =
                rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(stem) = name.strip_suffix(".control") {
                let text = fs::read_to_string(root.join(rel))
                    .map_err(|e| Error::io("could not read", root.join(rel), e))?;
                source.controls.push(parse_control(stem, &text));
            } else if let Some(stem) = name.strip_suffix(".sql") {
                let parts: Vec<&str> = stem.split("--").collect();
                if parts.len() == 3 && !parts.iter().any(|p| p.is_empty()) {
                    source.update_scripts.push(UpdateScript {
                        extension: parts[0].into(),
                        from: parts[1].into(),
                        to: parts[2].into(),
                        path: rel.clone(),
                    });
                }
            }
        }

        if let Some(makefile) = crate::pgxs::makefile(root) {
            source.has_makefile = true;
            let text = fs::read_to_string(&makefile)
                .map_err(|e| Error::io("could not read", &makefile, e))?;
            source.make_vars = parse_makefile(&text);
            if needs_make(&text, &source.make_vars) {
                // make knows best; without a working make + pg_config the text values stay.
                if let Ok(evaluated) = evaluate_makefile(root, pg_config) {
                    for name in MAKE_VARIABLES {
                        source.make_vars.remove(name);
                    }
                    source
                        .make_vars
                        .extend(evaluated.into_iter().filter(|(_, value)| !value.is_empty()));
                    source.make_evaluated = true;
                }
            }
        }

        let meta_path = root.join("META.json");
        let mut meta_name = None;
        let mut meta_version = None;
        if meta_path.is_file() {
            let text = fs::read_to_string(&meta_path)
                .map_err(|e| Error::io("could not read", &meta_path, e))?;
            let meta: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Error::Config { path: meta_path.clone(), message: format!("invalid JSON: {e}") }
            })?;
            meta_name = meta.get("name").and_then(|v| v.as_str()).map(str::to_owned);
            meta_version = meta.get("version").and_then(|v| v.as_str()).map(str::to_owned);
            source.meta_name = meta_name.clone();
            source.meta_version = meta_version.clone();
            source.meta_requires = crate::dist::meta_requires(&meta);
            source.preload = meta_preload(&meta);
            source.prereqs = meta.get("prereqs").cloned();
            source.min_postgres = meta
                .pointer("/prereqs/runtime/requires/PostgreSQL")
                .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
        }

        let extension_var = source.make_vars.get("EXTENSION").map(|v| words(v)).unwrap_or_default();
        source.name = extension_var
            .first()
            .cloned()
            .or_else(|| source.controls.first().map(|c| c.name.clone()))
            .or(meta_name)
            .unwrap_or_else(|| {
                root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            });
        let control_version = source.control().and_then(|c| c.default_version.clone());
        source.version = match (meta_version, control_version) {
            (Some(meta), Some(control)) if !is_placeholder(&meta) && meta != control => {
                // The control file decides what CREATE EXTENSION installs.
                source.warnings.push(format!(
                    "META.json version {meta} disagrees with the control file's default_version {control}; using {control}"
                ));
                control
            }
            (Some(meta), _) if !is_placeholder(&meta) => meta,
            (_, Some(control)) => control,
            (Some(meta), None) => meta,
            (None, None) => "unknown".into(),
        };
        source.make_args = config.build.make_args.clone().unwrap_or_default();
        source.cluster_settings = config
            .cluster
            .settings
            .as_ref()
            .map(|table| {
                table
                    .iter()
                    .map(|(name, value)| {
                        let text = match value {
                            toml::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (name.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        source.upgrade_enabled = config.upgrade.enabled.unwrap_or(true);
        source.upgrade_rerun = config.upgrade.rerun.unwrap_or(false);
        source.extra_install =
            source.make_vars.get("EXTRA_INSTALL").map(|v| words(v)).unwrap_or_default();

        // pg_regress tests: pgfarm.toml, else REGRESS/REGRESS_OPTS, else test/sql with test/expected.
        source.regress_opts = config.regress.opts.clone().unwrap_or_else(|| {
            source.make_vars.get("REGRESS_OPTS").map(|v| words(v)).unwrap_or_default()
        });
        if let Some(dir) = source.regress_opts.iter().find_map(|o| o.strip_prefix("--inputdir=")) {
            source.regress_inputdir = PathBuf::from(dir);
        }
        if let Some(dir) = &config.regress.inputdir {
            source.regress_inputdir = dir.clone();
        }
        source.regress_opts.retain(|o| !o.starts_with("--inputdir="));
        let regress_var = source.make_vars.get("REGRESS").cloned();
        source.regress_tests = match (&config.regress.tests, regress_var) {
            (Some(tests), _) => tests.clone(),
            (None, Some(value)) if !value.contains("$(") => words(&value),
            (None, Some(_)) => sql_stems(&root.join(&source.regress_inputdir).join("sql")),
            (None, None) => {
                let default_dir = root.join("test");
                if default_dir.join("sql").is_dir()
                    && default_dir.join("expected").is_dir()
                    && config.regress.inputdir.is_none()
                {
                    source.regress_inputdir = PathBuf::from("test");
                    sql_stems(&default_dir.join("sql"))
                        .into_iter()
                        .filter(|t| default_dir.join("expected").join(format!("{t}.out")).is_file())
                        .collect()
                } else {
                    Vec::new()
                }
            }
        };

        // pgTAP tests: .sql/.pg files directly in test/ or t/ that call plan(, no_plan( or
        // runtests( as a statement, minus regress inputs and files a regress test includes.
        source.tap_files = match &config.tap.files {
            Some(patterns) => expand_globs(root, &files, patterns)?,
            None => {
                let regress_inputs: Vec<PathBuf> = source
                    .regress_tests
                    .iter()
                    .map(|t| {
                        normalize(&source.regress_inputdir.join("sql").join(format!("{t}.sql")))
                    })
                    .collect();
                let included = included_files(root, &regress_inputs);
                files
                    .iter()
                    .filter(|rel| {
                        let parent = rel.parent().map(normalize).unwrap_or_default();
                        parent == Path::new("test") || parent == Path::new("t")
                    })
                    .filter(|rel| rel.extension().is_some_and(|e| e == "sql" || e == "pg"))
                    .filter(|rel| !regress_inputs.contains(&normalize(rel)))
                    .filter(|rel| !included.contains(&normalize(rel)))
                    .filter(|rel| {
                        fs::read_to_string(root.join(rel)).is_ok_and(|text| calls_plan(&text))
                    })
                    .cloned()
                    .collect()
            }
        };
        source.tap_setup = config.tap.setup.clone().unwrap_or_else(|| {
            let mut setup = vec!["CREATE EXTENSION IF NOT EXISTS pgtap".to_owned()];
            if source.name != "pgtap" && !source.controls.is_empty() {
                setup.push(format!(
                    "CREATE EXTENSION IF NOT EXISTS \"{}\" CASCADE",
                    source.name.replace('"', "\"\"")
                ));
            }
            setup
        });
        Ok(source)
    }

    /// The control file of the main extension.
    pub fn control(&self) -> Option<&Control> {
        self.controls.iter().find(|c| c.name == self.name).or(self.controls.first())
    }

    /// The version to update from for the upgrade stage: the `from` of the update script that
    /// leads to the default version (the newest such `from`), if any.
    pub fn upgrade_from(&self) -> Option<(String, String)> {
        let target = self.control()?.default_version.clone()?;
        let mut froms: Vec<&UpdateScript> = self
            .update_scripts
            .iter()
            .filter(|u| u.extension == self.name && u.to == target)
            .collect();
        froms.sort_by(|a, b| compare_versions(&a.from, &b.from));
        froms.last().map(|u| (u.from.clone(), target))
    }

    /// Whether META.json allows PostgreSQL `major` (`prereqs.runtime.requires.PostgreSQL` is a
    /// minimum version such as `"14.0.0"`).
    pub fn allows_major(&self, major: u32) -> bool {
        let Some(min) = &self.min_postgres else { return true };
        let min_major: u32 = min
            .trim_start_matches(">=")
            .trim()
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        // PostgreSQL 9.x minimums mean "any major pgfarm supports".
        major >= min_major || min_major < 10
    }

    /// True when the extension has no tests of either kind.
    pub fn has_no_tests(&self) -> bool {
        self.regress_tests.is_empty() && self.tap_files.is_empty()
    }
}

/// True for META.json versions that stand for "filled in at release time".
pub fn is_placeholder(version: &str) -> bool {
    let v = version.trim();
    v.is_empty()
        || (v.starts_with("__") && v.ends_with("__"))
        || (v.starts_with("@@") && v.ends_with("@@"))
        || (v.starts_with('@') && v.ends_with('@') && v.len() > 2)
        || v.contains("${")
}

/// Modules a META.json (v2) marks `preload: "server"` (`contents.modules.*.preload`, or the
/// v2 draft's top-level `modules`).
fn meta_preload(meta: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for pointer in ["/contents/modules", "/modules"] {
        if let Some(modules) = meta.pointer(pointer).and_then(|m| m.as_object()) {
            for (name, module) in modules {
                if module.get("preload").and_then(|p| p.as_str()) == Some("server") {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

/// True when the SQL calls pgTAP's `plan(`, `no_plan(` or `runtests(` as a statement
/// (`SELECT plan(3);`, `SELECT * FROM no_plan();`), not when it defines such functions (as
/// pgTAP's own scripts do).
pub fn calls_plan(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start().to_ascii_lowercase();
        let Some(rest) = line.strip_prefix("select") else { return false };
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("* from").map(str::trim_start).unwrap_or(rest);
        let rest =
            rest.strip_prefix("tap.").or_else(|| rest.strip_prefix("public.")).unwrap_or(rest);
        ["plan(", "plan (", "no_plan(", "no_plan (", "runtests(", "runtests ("]
            .iter()
            .any(|call| rest.starts_with(call))
    })
}

/// The files the given SQL files include with `\i` / `\ir` (relative to the root, and for
/// `\ir` to the including file), normalized.
fn included_files(root: &Path, sql_files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for rel in sql_files {
        let Ok(text) = fs::read_to_string(root.join(rel)) else { continue };
        for line in text.lines() {
            let line = line.trim_start();
            let (relative, rest) = if let Some(rest) = line.strip_prefix("\\ir ") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("\\include_relative ") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("\\i ") {
                (false, rest)
            } else if let Some(rest) = line.strip_prefix("\\include ") {
                (false, rest)
            } else {
                continue;
            };
            let target = rest.trim().trim_matches('\'');
            let path = if relative {
                rel.parent().unwrap_or(Path::new("")).join(target)
            } else {
                PathBuf::from(target)
            };
            out.push(normalize(&path));
        }
    }
    out
}

/// Files of the tree (relative paths) matching `patterns`: a plain path is taken as it is (and
/// must exist), a pattern with `*`, `?` or `[` is a glob (`**` crosses folders).
fn expand_globs(root: &Path, files: &[PathBuf], patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for pattern in patterns {
        if !pattern.contains(['*', '?', '[']) {
            let path = PathBuf::from(pattern);
            if !root.join(&path).is_file() {
                return Err(Error::Config {
                    path: root.join("pgfarm.toml"),
                    message: format!("[tap] files: {pattern} does not exist"),
                });
            }
            out.push(path);
            continue;
        }
        let mut matched: Vec<PathBuf> = files
            .iter()
            .filter(|rel| glob_match(pattern, &rel.to_string_lossy()))
            .cloned()
            .collect();
        matched.sort();
        out.extend(matched);
    }
    out.dedup();
    Ok(out)
}

/// Shell-style glob matching on `/`-separated paths: `*` and `?` stay within a folder, `**`
/// crosses folders, `[abc]` is a set.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                if p.get(2) == Some(&b'/') {
                    // `**/`: zero or more whole folders.
                    let rest = &p[3..];
                    go(rest, s) || (1..=s.len()).any(|i| s[i - 1] == b'/' && go(rest, &s[i..]))
                } else {
                    // `**` elsewhere: anything, folders included.
                    (0..=s.len()).any(|i| go(&p[2..], &s[i..]))
                }
            }
            Some(b'*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => s.first().is_some_and(|&c| c != b'/') && go(&p[1..], &s[1..]),
            Some(b'[') => {
                let Some(end) = p.iter().position(|&c| c == b']') else {
                    return s.first() == Some(&b'[') && go(&p[1..], &s[1..]);
                };
                s.first().is_some_and(|c| p[1..end].contains(c)) && go(&p[end + 1..], &s[1..])
            }
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

fn read_config(root: &Path) -> Result<Config> {
    let path = root.join("pgfarm.toml");
    match fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| Error::Config { path, message: e.to_string() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(Error::io("could not read", path, e)),
    }
}

fn normalize(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

fn sql_stems(dir: &Path) -> Vec<String> {
    let mut stems: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    e.file_name().to_str().and_then(|n| n.strip_suffix(".sql")).map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    stems.sort();
    stems
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name.starts_with('.')
                || matches!(
                    name.as_ref(),
                    "results" | "node_modules" | "target" | "log" | "tmp_check"
                )
            {
                continue;
            }
            walk(root, &path, depth + 1, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
}

/// Compares dotted versions numerically where possible (`1.10` > `1.9`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-'])
            .map(|p| {
                (
                    p.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0),
                    p.to_owned(),
                )
            })
            .collect()
    };
    parse(a).cmp(&parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_variables_join_continuations_and_appends() {
        let vars = parse_makefile(
            "EXTENSION = semver\nDATA = $(wildcard sql/*--*.sql)\nREGRESS = base \\\n  corpus\nREGRESS_OPTS = --inputdir=test\nREGRESS_OPTS += --load-extension=semver\nPG_CONFIG ?= pg_config\nall:\n\t$(MAKE) x=1\n",
        );
        assert_eq!(vars["REGRESS"], "base corpus");
        assert_eq!(vars["REGRESS_OPTS"], "--inputdir=test --load-extension=semver");
        assert_eq!(vars["PG_CONFIG"], "pg_config");
        assert!(!vars.contains_key("x"));
    }

    #[test]
    fn control_files_give_version_and_requires() {
        let control = parse_control(
            "b",
            "# c\ndefault_version = '1.1'\nrequires = 'a, plpgsql'\nmodule_pathname = '$libdir/b'\n",
        );
        assert_eq!(control.default_version.as_deref(), Some("1.1"));
        assert_eq!(control.requires, ["a", "plpgsql"]);
    }

    #[test]
    fn globs_match_within_and_across_folders() {
        assert!(glob_match("test/*.sql", "test/a.sql"));
        assert!(!glob_match("test/*.sql", "test/sub/a.sql"));
        assert!(glob_match("test/**/*.sql", "test/a.sql"));
        assert!(glob_match("test/**/*.sql", "test/sub/deeper/a.sql"));
        assert!(glob_match("t/00[12]_?.pg", "t/001_x.pg"));
        assert!(!glob_match("t/00[12]_?.pg", "t/003_x.pg"));
    }

    #[test]
    fn plan_calls_are_tests_and_plan_definitions_are_not() {
        assert!(calls_plan("BEGIN;\nSELECT plan(3);\n"));
        assert!(calls_plan("select * from no_plan();"));
        assert!(calls_plan("SELECT * FROM runtests('x');"));
        // pgTAP's core script defines plan(): a library, not a test.
        assert!(!calls_plan("CREATE OR REPLACE FUNCTION plan( integer )\nRETURNS TEXT AS $$\n"));
        assert!(!calls_plan("-- SELECT plan(1) in a comment\n"));
    }

    #[test]
    fn placeholders_are_not_versions() {
        for v in ["__VERSION__", "@@VERSION@@", "", "@EXTVERSION@"] {
            assert!(is_placeholder(v), "{v}");
        }
        assert!(!is_placeholder("1.4.0"));
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.10", "1.9"), std::cmp::Ordering::Greater);
        assert_eq!(compare_versions("0.9.0", "1.0"), std::cmp::Ordering::Less);
    }

    #[test]
    fn make_functions_and_conditionals_are_evaluated_by_make_with_pgxs() {
        let pg_config = Path::new("/usr/lib/postgresql/15/bin/pg_config");
        if !pg_config.is_file() {
            // Without a PGXS installation make cannot read the Makefile; CI installs one.
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (rel, text) in [
            (
                "Makefile",
                "EXTENSION = demo\nDATA = $(wildcard demo--*.sql)\n\
                 TESTS = $(wildcard test/sql/*.sql)\n\
                 REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))\n\
                 ifeq ($(shell echo yes),yes)\nREGRESS_OPTS = --inputdir=test --load-extension=demo\nendif\n\
                 PG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n",
            ),
            ("demo.control", "default_version = '1.0'\n"),
            ("demo--1.0.sql", ""),
            ("test/sql/beta.sql", ""),
            ("test/sql/alpha.sql", ""),
            ("test/expected/alpha.out", ""),
        ] {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let text = fs::read_to_string(root.join("Makefile")).unwrap();
        assert!(needs_make(&text, &parse_makefile(&text)));
        let source = ExtensionSource::discover_with(root, Some(pg_config)).unwrap();
        assert!(source.make_evaluated);
        assert_eq!(source.regress_tests, ["alpha", "beta"]);
        assert_eq!(source.make_vars["DATA"], "demo--1.0.sql");
        assert_eq!(source.regress_inputdir, PathBuf::from("test"));
        // PGXS appends --dbname=$(CONTRIB_TESTDB), as make installcheck passes it.
        assert_eq!(source.regress_opts, ["--load-extension=demo", "--dbname=contrib_regression"]);
        // A plain Makefile needs no make run.
        let plain = "EXTENSION = demo\nREGRESS = a b\n";
        assert!(!needs_make(plain, &parse_makefile(plain)));
    }

    #[test]
    fn discovery_finds_regress_tap_and_update_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            "Makefile",
            "EXTENSION = demo\nDATA = demo--1.0.sql demo--1.0--1.1.sql demo--1.1.sql\nREGRESS = basic\nREGRESS_OPTS = --inputdir=test\n",
        );
        write("demo.control", "default_version = '1.1'\n");
        write(
            "META.json",
            r#"{"name": "demo", "version": "1.1.0", "prereqs": {"runtime": {"requires": {"PostgreSQL": "14.0.0"}}}}"#,
        );
        write("demo--1.0--1.1.sql", "");
        write("test/sql/basic.sql", "SELECT plan(1);\n");
        write("test/expected/basic.out", "");
        write("test/one.sql", "SELECT plan(1); SELECT ok(true);\n");
        write("test/helper.sql", "-- no tests\n");
        // Subfolders are not searched (pg_partman keeps tests there that must not run
        // together): only a pgfarm.toml glob reaches them.
        write("test/tap/nested.sql", "SELECT plan(1); SELECT ok(true);\n");
        let source = ExtensionSource::discover(root).unwrap();
        // META.json says 1.1.0, the control file 1.1: CREATE EXTENSION installs the control
        // file's, and a warning names both.
        assert_eq!((source.name.as_str(), source.version.as_str()), ("demo", "1.1"));
        assert!(source.warnings[0].contains("1.1.0") && source.warnings[0].contains("1.1"));
        assert_eq!(source.regress_tests, ["basic"]);
        assert_eq!(source.regress_inputdir, PathBuf::from("test"));
        assert_eq!(source.tap_files, [PathBuf::from("test/one.sql")]);
        assert_eq!(source.upgrade_from(), Some(("1.0".into(), "1.1".into())));
        assert!(!source.allows_major(13));
        assert!(source.allows_major(14));
    }

    #[test]
    fn pgfarm_toml_overrides_and_rejects_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pgfarm.toml"),
            "[regress]\ntests = [\"a\"]\n[tap]\nfiles = [\"t/x.pg\", \"t/sub/*.sql\"]\n",
        )
        .unwrap();
        fs::create_dir_all(dir.path().join("t/sub")).unwrap();
        fs::write(dir.path().join("t/x.pg"), "SELECT plan(1);\n").unwrap();
        fs::write(dir.path().join("t/sub/b.sql"), "").unwrap();
        fs::write(dir.path().join("t/sub/a.sql"), "").unwrap();
        let source = ExtensionSource::discover(dir.path()).unwrap();
        assert_eq!(source.regress_tests, ["a"]);
        assert_eq!(
            source.tap_files,
            [PathBuf::from("t/x.pg"), PathBuf::from("t/sub/a.sql"), PathBuf::from("t/sub/b.sql")]
        );
        fs::write(dir.path().join("pgfarm.toml"), "[tap]\nfiles = [\"t/gone.pg\"]\n").unwrap();
        let err = ExtensionSource::discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("pgfarm.toml") && err.contains("t/gone.pg does not exist"), "{err}");
        fs::write(dir.path().join("pgfarm.toml"), "[regress]\ntestz = []\n").unwrap();
        let err = ExtensionSource::discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("pgfarm.toml") && err.contains("testz"), "{err}");
    }
}
