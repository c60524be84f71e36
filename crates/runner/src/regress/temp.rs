//! `--temp-instance`: a private server for the run, started with pgnode (cached initdb, fast
//! start) and configured as pg_regress configures its temporary instance.

use std::fs;
use std::path::PathBuf;

use pgfarm_pgnode::{Cluster, Installation};

use super::console::ConsoleSink;
use super::engine::{Server, run_on};
use super::{RegressOptions, RegressReport};
use crate::error::{Error, Result};

/// The settings pg_regress appends to a temporary instance's postgresql.conf.
pub(crate) const TEMP_INSTANCE_CONF: [&str; 6] = [
    "log_autovacuum_min_duration = 0",
    "log_checkpoints = on",
    "log_line_prefix = '%m %b[%p] %q%a '",
    "log_lock_waits = on",
    "log_temp_files = 128kB",
    "max_prepared_transactions = 2",
];

/// Settings pgfarm adds for a throwaway instance, before pg_regress's and `--temp-config`'s
/// (which override them): nothing is kept after the run, so durability work is skipped
/// (pgnode already sets `fsync = off`). They change no query result.
pub(crate) const THROWAWAY_CONF: [&str; 2] = ["synchronous_commit = off", "full_page_writes = off"];

/// The locale pg_regress's temporary instance gets without `--no-locale`: its initdb inherits
/// the environment, so the first of `LC_ALL`, `LC_COLLATE`, `LC_CTYPE`, `LANG` that is set
/// (one locale for every category; pgnode's own default would be C).
fn environment_locale() -> Option<String> {
    ["LC_ALL", "LC_COLLATE", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|key| std::env::var(key).ok().filter(|value| !value.is_empty()))
}

/// Runs the suite like [`super::run`]; with `temp_instance` set, first starts a private
/// server (the installation of `bindir`, else the newest found), runs against it, copies its
/// log to `OUTPUTDIR/log/postmaster.log` and removes it. The directory named by
/// `--temp-instance` receives nothing but that copy's sibling `log/`: the cluster lives in
/// pgnode's clusters directory so its initdb cache can be used.
pub fn run_with_instance(
    options: &RegressOptions,
    sink: &mut dyn ConsoleSink,
) -> Result<RegressReport> {
    let Some(temp_dir) = &options.temp_instance else { return super::run(options, sink) };
    let installation = match &options.bindir {
        Some(bindir) => Installation::from_bindir(bindir),
        None => Installation::newest(),
    }?;
    let mut builder = Cluster::builder(&installation).name("pg_regress").log_statement("none");
    for line in THROWAWAY_CONF.into_iter().chain(TEMP_INSTANCE_CONF) {
        builder = builder.conf(line);
    }
    for file in &options.temp_configs {
        let text = fs::read_to_string(file)
            .map_err(|e| Error::io("could not open to read extra config", file, e))?;
        for line in text.lines() {
            builder = builder.conf(line);
        }
    }
    match (options.no_locale, environment_locale()) {
        (true, _) => builder = builder.locale("C"),
        (false, Some(locale)) => builder = builder.locale(locale),
        (false, None) => {}
    }
    if let Some(port) = options.port {
        builder = builder.port(port);
    }
    fs::create_dir_all(temp_dir)
        .map_err(|e| Error::io("could not create directory", temp_dir, e))?;
    let cluster = builder.start()?;
    let pid = fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    let inner = RegressOptions {
        temp_instance: None,
        host: Some(cluster.host()),
        port: Some(cluster.port()),
        user: Some(cluster.superuser().to_owned()),
        use_existing: false,
        bindir: Some(options.bindir.clone().unwrap_or_else(|| {
            installation.bin("psql").parent().map(PathBuf::from).unwrap_or_default()
        })),
        ..options.clone()
    };
    let report = run_on(&inner, sink, Server::Temp { port: cluster.port(), pid });
    let log_dir = options.outputdir.join("log");
    if fs::create_dir_all(&log_dir).is_ok() {
        let _ = fs::copy(cluster.log_path(), log_dir.join("postmaster.log"));
    }
    drop(cluster);
    if report.as_ref().is_ok_and(|r| r.exit_code == 0) {
        let _ = fs::remove_dir_all(temp_dir);
    }
    report
}
