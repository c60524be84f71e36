//! `pgfarm worker`: the machine's loop: ask the server's work queue what to test, run
//! `pgfarm test` on that extension version's source, submit the bundles, back off on errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pgfarm_model::api::QueueItem;
use pgfarm_runner::extension::ExtensionSource;
use pgfarm_runner::process::{CancelFlag, Spawn};
use pgfarm_runner::upload::{Credentials, UploadClient, UploadError};

const AFTER_HELP: &str = "\
Each round, for every --pg major: GET /api/v1/machines/NAME/queue?pg=N (released extension
versions this machine has not tested on that major, newest first), take the first item whose
source is found, run `pgfarm test --pg N` on it (the bundles name this machine:
PGFARM_MACHINE is set for the child), and submit every bundle it wrote, signed as
`pgfarm submit` signs (secret from PGFARM_MACHINE_SECRET or the mode-0600 credentials file).

Sources: the queue names a release (extension, version), not where its code is. The worker
looks in --sources DIR for `DIR/<extension>-<version>/`, else `DIR/<extension>/` (a checkout)
when its META.json or control file states that same version. A release without a source here
is skipped (logged) and asked for again after an hour; so is one whose `pgfarm test` exits 3
(a usage or configuration error).

Pacing: when no queue has work, wait --interval seconds. On an error (server unreachable, 5xx,
429, a submission refused), wait 5 s, then 10, 20, ... up to 10 minutes; the first success
resets the pause. Ctrl-C or SIGTERM stops: a running `pgfarm test` is interrupted (its
clusters are removed), its bundles are not submitted, and the worker exits with 130.

Scratch files: --workdir (default ./pgfarm-worker) holds one folder per job with the
bundles and `pgfarm test`'s work folder; the work folder is removed after each job, the
bundles after they were submitted.

Exit status (with --once, or when stopped): 0 every job of the round was submitted (or
there was nothing to do), 1 a job failed (no bundle, or a submission refused or not sent),
2 usage error or missing credentials, 130 stopped by a signal.";

/// Arguments of `pgfarm worker`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// Server URL, e.g. `https://farm.example.org` [env: PGFARM_SERVER; or `server` in the
    /// credentials file].
    #[arg(long, env = "PGFARM_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Machine name [env: PGFARM_MACHINE; or `machine` in the credentials file].
    #[arg(long, value_name = "NAME")]
    machine: Option<String>,
    /// Credentials file (mode 0600).
    #[arg(long, env = "PGFARM_CREDENTIALS", value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// PostgreSQL installations to ask work for: majors and ranges (`--pg 13,16..18`), names
    /// (`15@debian`) or paths, as `pgfarm pg list` shows them; each must be installed.
    #[arg(long, value_name = "INSTALLATIONS", required_unless_present = "pg_config")]
    pg: Option<String>,
    /// One more installation to ask work for, by its pg_config.
    #[arg(long, value_name = "PATH")]
    pg_config: Option<PathBuf>,
    /// Folder of extension sources: `<extension>-<version>/` or `<extension>/` folders.
    #[arg(long, value_name = "DIR", default_value = "sources")]
    sources: PathBuf,
    /// Scratch folder for jobs.
    #[arg(long, value_name = "DIR", default_value = "pgfarm-worker")]
    workdir: PathBuf,
    /// One round (each major's first queue item), then exit.
    #[arg(long)]
    once: bool,
    /// Seconds to wait when no queue has work.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    interval: u64,
    /// Cancel a regress test or TAP file running longer than SECONDS (passed to `pgfarm test`).
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    timeout: f64,
}

/// How long a release without a usable source is left alone.
const SKIP_FOR: Duration = Duration::from_secs(3600);
/// First and largest pause after an error.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Queue items asked for per major (the worker skips those it cannot test).
const QUEUE_LIMIT: u32 = 20;

/// What one round did.
#[derive(Debug, Default)]
struct Round {
    /// Jobs whose bundles were all submitted.
    submitted: usize,
    /// Jobs or calls that failed.
    failed: usize,
    /// A retryable error happened (server unreachable, 5xx, 429): back off.
    transient: bool,
}

struct Worker {
    client: UploadClient,
    credentials: Credentials,
    majors: Vec<u32>,
    /// The installation each major is tested on (its bin dir, passed to `pgfarm test --pg`).
    bindirs: HashMap<u32, PathBuf>,
    sources: PathBuf,
    workdir: PathBuf,
    timeout: f64,
    cancel: CancelFlag,
    skipped: HashMap<(String, String, i64), Instant>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let usage = |message: String| {
        eprintln!("pgfarm worker: {message}");
        ExitCode::from(2)
    };
    let credentials =
        match Credentials::resolve(args.machine.as_deref(), args.credentials.as_deref()) {
            Ok(credentials) => credentials,
            Err(err) => return usage(err.to_string()),
        };
    let Some(server) = args.server.clone().or_else(|| credentials.server.clone()) else {
        return usage("no server: pass --server URL or set PGFARM_SERVER".into());
    };
    let installations =
        match pgfarm_pgnode::Selection::from_flags(args.pg.as_deref(), args.pg_config.as_deref())
            .and_then(|selection| selection.resolve())
        {
            Ok(installations) => installations,
            Err(err) => return usage(err.to_string()),
        };
    let mut majors = Vec::new();
    let mut bindirs = HashMap::new();
    for installation in installations {
        let major = installation.major();
        if bindirs.contains_key(&major) {
            return usage(format!(
                "--pg names two installations of PostgreSQL {major}: the queue is asked per major, name one"
            ));
        }
        majors.push(major);
        bindirs.insert(major, installation.bindir);
    }
    if !args.sources.is_dir() {
        return usage(format!("--sources {}: not a directory", args.sources.display()));
    }
    let cancel = CancelFlag::new();
    if let Err(err) = cancel.cancel_on_signals() {
        return usage(err.to_string());
    }
    let mut worker = Worker {
        client: UploadClient::new(&server),
        credentials,
        majors,
        bindirs,
        sources: args.sources.clone(),
        workdir: args.workdir.clone(),
        timeout: args.timeout,
        cancel,
        skipped: HashMap::new(),
    };
    eprintln!(
        "pgfarm worker: machine {} on {}, PostgreSQL {}, sources in {}",
        worker.credentials.machine,
        worker.client.base_url(),
        worker.majors.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        worker.sources.display()
    );
    let mut backoff = FIRST_BACKOFF;
    loop {
        let round = worker.round();
        if worker.cancel.is_cancelled() {
            eprintln!("pgfarm worker: stopped");
            return ExitCode::from(130);
        }
        if args.once {
            return if round.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
        }
        let pause = if round.transient || round.failed > 0 {
            let pause = backoff;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            eprintln!("pgfarm worker: backing off for {} s", pause.as_secs());
            pause
        } else {
            backoff = FIRST_BACKOFF;
            if round.submitted > 0 {
                // There may be more work: ask again at once.
                continue;
            }
            Duration::from_secs(args.interval)
        };
        if !worker.sleep(pause) {
            eprintln!("pgfarm worker: stopped");
            return ExitCode::from(130);
        }
    }
}

impl Worker {
    /// Sleeps `pause` in short steps; false when a signal asked to stop.
    fn sleep(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        while Instant::now() < until {
            if self.cancel.is_cancelled() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100).min(until - Instant::now()));
        }
        !self.cancel.is_cancelled()
    }

    /// One pass over the majors: the first testable queue item of each.
    fn round(&mut self) -> Round {
        let mut round = Round::default();
        self.skipped.retain(|_, since| since.elapsed() < SKIP_FOR);
        for major in self.majors.clone() {
            if self.cancel.is_cancelled() {
                break;
            }
            let items = match self.client.queue(&self.credentials.machine, major, QUEUE_LIMIT) {
                Ok(items) => items,
                Err(err) => {
                    eprintln!("pgfarm worker: queue for PostgreSQL {major}: {err}");
                    round.failed += 1;
                    round.transient |= err.is_retryable();
                    continue;
                }
            };
            let Some((item, source)) = self.pick(&items) else {
                if !items.is_empty() {
                    eprintln!(
                        "pgfarm worker: PostgreSQL {major}: {} queued release(s), none with a \
                         source in {}",
                        items.len(),
                        self.sources.display()
                    );
                }
                continue;
            };
            match self.job(&item, &source) {
                Ok(n_bundles) => {
                    round.submitted += 1;
                    eprintln!(
                        "pgfarm worker: {} {} on PostgreSQL {}: {n_bundles} bundle(s) submitted",
                        item.extension, item.version, item.pg_major
                    );
                }
                Err(JobError::Cancelled) => break,
                Err(JobError::Skip(message)) => {
                    eprintln!("pgfarm worker: {message}; skipping it for an hour");
                    self.skip(&item);
                    round.failed += 1;
                }
                Err(JobError::Failed { message, transient }) => {
                    eprintln!("pgfarm worker: {message}");
                    round.failed += 1;
                    round.transient |= transient;
                }
            }
        }
        round
    }

    fn skip(&mut self, item: &QueueItem) {
        self.skipped
            .insert((item.extension.clone(), item.version.clone(), item.pg_major), Instant::now());
    }

    /// The first queue item not skipped whose source is found (skipping, with a message, the
    /// ones without).
    fn pick(&mut self, items: &[QueueItem]) -> Option<(QueueItem, PathBuf)> {
        for item in items {
            let key = (item.extension.clone(), item.version.clone(), item.pg_major);
            if self.skipped.contains_key(&key) {
                continue;
            }
            match find_source(&self.sources, &item.extension, &item.version) {
                Ok(path) => return Some((item.clone(), path)),
                Err(message) => {
                    eprintln!("pgfarm worker: {message}; skipping it for an hour");
                    self.skip(item);
                }
            }
        }
        None
    }

    /// Tests one queue item and submits its bundles; the number of bundles submitted.
    fn job(&self, item: &QueueItem, source: &Path) -> Result<usize, JobError> {
        let label = format!("{} {} on PostgreSQL {}", item.extension, item.version, item.pg_major);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        let job_dir = self
            .workdir
            .join(format!("{}-{}-pg{}-{stamp}", item.extension, item.version, item.pg_major));
        let bundles_dir = job_dir.join("bundles");
        let scratch = job_dir.join("work");
        eprintln!("pgfarm worker: testing {label} from {}", source.display());
        let exe = std::env::current_exe().map_err(|err| JobError::Failed {
            message: format!("cannot find the pgfarm executable: {err}"),
            transient: false,
        })?;
        let bindir = u32::try_from(item.pg_major).ok().and_then(|m| self.bindirs.get(&m));
        let Some(bindir) = bindir else {
            return Err(JobError::Skip(format!(
                "the queue sent PostgreSQL {}, which this worker was not started for",
                item.pg_major
            )));
        };
        let spawn = Spawn::new(exe)
            .args(["test", "--plain", "--pg"])
            .arg(bindir)
            .arg("--timeout")
            .arg(self.timeout.to_string())
            .arg("--out")
            .arg(&bundles_dir)
            .arg("--workdir")
            .arg(&scratch)
            .arg(source)
            .env("PGFARM_MACHINE", self.credentials.machine.clone());
        let status = self.wait_for(&spawn)?;
        let _ = std::fs::remove_dir_all(&scratch);
        if self.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        if status.code() == Some(3) {
            return Err(JobError::Skip(format!(
                "`{}` refused {} (exit status 3: usage or configuration error)",
                spawn.display(),
                source.display()
            )));
        }
        let bundles = bundle_files(&bundles_dir);
        if bundles.is_empty() {
            return Err(JobError::Failed {
                message: format!(
                    "{label}: `pgfarm test` wrote no bundle ({})",
                    pgfarm_runner::process::describe_status(status)
                ),
                transient: false,
            });
        }
        for path in &bundles {
            let bytes = std::fs::read(path).map_err(|err| JobError::Failed {
                message: format!("{}: {err}", path.display()),
                transient: false,
            })?;
            match self.client.submit(&self.credentials, &bytes) {
                Ok(created) => {
                    println!("{label}: stored as {}{}", self.client.base_url(), created.url);
                }
                Err(err) if err.status() == Some(409) => {
                    println!("{label}: {} already on the server", path.display());
                }
                Err(err) => {
                    return Err(JobError::Failed {
                        transient: err.is_retryable(),
                        message: submit_failure(&label, path, &err),
                    });
                }
            }
        }
        let _ = std::fs::remove_dir_all(&job_dir);
        Ok(bundles.len())
    }

    /// Runs `pgfarm test`, forwarding a stop request to it as SIGINT (so it removes its
    /// clusters and writes `interrupted` bundles) instead of killing it.
    fn wait_for(&self, spawn: &Spawn) -> Result<ExitStatus, JobError> {
        let mut child = spawn
            .start(Stdio::null(), Stdio::inherit(), Stdio::inherit())
            .map_err(|err| JobError::Failed { message: err.to_string(), transient: false })?;
        let mut forwarded = false;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(err) => {
                    return Err(JobError::Failed {
                        message: format!("waiting for `pgfarm test`: {err}"),
                        transient: false,
                    });
                }
            }
            if self.cancel.is_cancelled() && !forwarded {
                // On a terminal the child got the same Ctrl-C; a SIGTERM to the worker alone
                // reaches it only through this.
                let _ = Spawn::new("kill").args(["-INT", &child.id().to_string()]).output();
                forwarded = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Why a job did not submit.
#[derive(Debug)]
enum JobError {
    /// A signal asked to stop.
    Cancelled,
    /// This release cannot be tested here (bad source): leave it alone for a while.
    Skip(String),
    /// The job failed; `transient` when a later retry may succeed.
    Failed { message: String, transient: bool },
}

fn submit_failure(label: &str, path: &Path, err: &UploadError) -> String {
    format!("{label}: submitting {}: {err} (the bundle stays there)", path.display())
}

/// The bundle files (`*.pgfarm.json.gz`, `*.pgfarm.json`) directly in `dir`, sorted.
fn bundle_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path.file_name().and_then(|name| name.to_str()).is_some_and(|name| {
                    name.ends_with(".pgfarm.json.gz") || name.ends_with(".pgfarm.json")
                })
        })
        .collect();
    files.sort();
    files
}

/// The source folder of `extension` `version` under `sources`: `<extension>-<version>/`, else
/// `<extension>/` when it states that version. The error says what was looked for.
fn find_source(sources: &Path, extension: &str, version: &str) -> Result<PathBuf, String> {
    let safe = |part: &str| {
        !part.is_empty() && !part.starts_with('.') && !part.contains(['/', '\\', '\0'])
    };
    if !safe(extension) || !safe(version) {
        return Err(format!("queue item {extension:?} {version:?}: not a safe folder name"));
    }
    let versioned = sources.join(format!("{extension}-{version}"));
    let checkout = sources.join(extension);
    let mut looked = Vec::new();
    for dir in [versioned, checkout] {
        if !dir.is_dir() {
            looked.push(format!("{}/ (absent)", dir.display()));
            continue;
        }
        match ExtensionSource::discover(&dir) {
            Ok(found) if found.name == extension && found.version == version => return Ok(dir),
            Ok(found) => {
                looked.push(format!("{}/ (holds {} {})", dir.display(), found.name, found.version))
            }
            Err(err) => looked.push(format!("{}/ ({err})", dir.display())),
        }
    }
    Err(format!("no source for {extension} {version}: looked at {}", looked.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/extensions")).join(name)
    }

    #[test]
    fn sources_are_found_by_versioned_folder_or_by_a_checkout_of_that_version() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(fixture("pure_sql"), dir.path().join("pure_sql")).unwrap();
        assert_eq!(
            find_source(dir.path(), "pure_sql", "1.0.0").unwrap(),
            dir.path().join("pure_sql")
        );
        let err = find_source(dir.path(), "pure_sql", "2.0.0").unwrap_err();
        assert!(err.contains("holds pure_sql 1.0.0"), "{err}");
        std::os::unix::fs::symlink(fixture("pure_sql"), dir.path().join("pure_sql-1.0.0")).unwrap();
        assert_eq!(
            find_source(dir.path(), "pure_sql", "1.0.0").unwrap(),
            dir.path().join("pure_sql-1.0.0")
        );
        assert!(find_source(dir.path(), "../etc", "1").is_err());
        assert!(find_source(dir.path(), "absent", "1.0").unwrap_err().contains("absent"));
    }
}
