//! The machine's loop behind `pgfarm worker`: ask the server's work queue what to test, run
//! `pgfarm test` on that extension version's source (a child process, spoken to through
//! [`TestChild`]), submit the bundles it wrote, back off on errors. It never prints: it reports
//! [`WorkerEvent`]s, which the cli renders.
//!
//! Where a source comes from ([`Sources`]): a folder of local checkouts, or PGXN: the release's
//! zip is downloaded from the queue item's `download_url` (or found through a mirror's META),
//! verified against its SHA-1 (`pgfarm_pgxn::verify`) and cached by checksum; then
//! `pgfarm test ZIP --sandbox --pgxn-mirror MIRROR` unpacks, builds and tests it (its bundles name
//! the distribution's META name and version, as the queue does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pgfarm_model::api::QueueItem;

use pgfarm_pgxn::{Client as PgxnClient, Digests};

use crate::extension::ExtensionSource;
use crate::process::{CancelFlag, Spawn};
use crate::upload::{Credentials, UploadClient, UploadError};

/// How long a release without a usable source is left alone.
pub const SKIP_FOR: Duration = Duration::from_secs(3600);
/// First pause after an error.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// Largest pause after errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Queue items asked for per major (the worker skips those it cannot test).
const QUEUE_LIMIT: u32 = 20;

/// What the worker was asked to do.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The server.
    pub client: UploadClient,
    /// This machine's name and secret.
    pub credentials: Credentials,
    /// PostgreSQL majors to ask work for.
    pub majors: Vec<u32>,
    /// The installation each major is tested on (its bin dir, passed to `pgfarm test --pg`).
    pub bindirs: HashMap<u32, PathBuf>,
    /// Where the sources of queued releases come from.
    pub sources: Sources,
    /// Run `pgfarm test --sandbox` (always with PGXN sources, unless told otherwise).
    pub sandbox: bool,
    /// Scratch folder for jobs.
    pub workdir: PathBuf,
    /// The `pgfarm` executable that runs `pgfarm test`.
    pub pgfarm: PathBuf,
    /// Per-test time limit passed to `pgfarm test --timeout`, in seconds.
    pub timeout: f64,
    /// Seconds to wait when no queue has work.
    pub interval: Duration,
    /// One round, then stop.
    pub once: bool,
    /// Stops the loop (and the running `pgfarm test`).
    pub cancel: CancelFlag,
}

/// Where the worker finds a queued release's source.
#[derive(Debug, Clone)]
pub enum Sources {
    /// A folder of extension sources (`<extension>-<version>/` or `<extension>/`).
    Folder(PathBuf),
    /// PGXN releases, fetched per job.
    Pgxn(PgxnSources),
}

/// How PGXN releases are fetched.
#[derive(Debug, Clone)]
pub struct PgxnSources {
    /// Release statuses asked for (`&status=stable,testing`).
    pub statuses: Vec<String>,
    /// The mirror (base URL) for queue items that name none: their zip's URL and SHA-1 are read
    /// from its META.json.
    pub mirror: Option<String>,
    /// Where verified zips are kept, by SHA-1.
    pub cache: PathBuf,
}

/// What the worker is doing, for the cli to show.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// The queue of a major could not be read.
    QueueFailed {
        /// The major.
        major: u32,
        /// Why.
        error: String,
    },
    /// A major has queued releases, none with a source here.
    NoSource {
        /// The major.
        major: u32,
        /// Queued releases.
        n_items: usize,
        /// The sources folder.
        sources: PathBuf,
    },
    /// A release is left alone for [`SKIP_FOR`].
    Skipped {
        /// Why.
        message: String,
    },
    /// A PGXN release's zip is there and matches its SHA-1.
    Fetched {
        /// The job's label.
        label: String,
        /// Where it came from.
        url: String,
        /// Its verified SHA-1.
        sha1: String,
        /// True when the cache had it.
        cached: bool,
    },
    /// `pgfarm test` starts on a release.
    Testing {
        /// `EXT VERSION on PostgreSQL N`.
        label: String,
        /// Its source folder.
        source: PathBuf,
    },
    /// A bundle was stored by the server (its run's URL).
    Stored {
        /// The job's label.
        label: String,
        /// Absolute URL of the run.
        url: String,
    },
    /// The server had the bundle already.
    AlreadyStored {
        /// The job's label.
        label: String,
        /// The bundle file.
        path: PathBuf,
    },
    /// Every bundle of a job was submitted.
    JobDone {
        /// The job's label.
        label: String,
        /// Bundles submitted.
        n_bundles: usize,
    },
    /// A job failed.
    JobFailed {
        /// Why.
        message: String,
    },
    /// Waiting after an error.
    BackingOff {
        /// For how long.
        pause: Duration,
    },
}

/// How the loop ended (the cli maps it to the exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerEnd {
    /// `once`: every job of the round was submitted, or there was nothing to do.
    Done,
    /// `once`: a job failed.
    Failed,
    /// A signal stopped it.
    Stopped,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Jobs whose bundles were all submitted.
    pub submitted: usize,
    /// Jobs or calls that failed.
    pub failed: usize,
    /// A retryable error happened (server unreachable, 5xx, 429): back off.
    pub transient: bool,
}

/// The child `pgfarm test` of one job: the arguments it gets, and what its exit status means.
#[derive(Debug, Clone)]
pub struct TestChild {
    /// The `pgfarm` executable.
    pub pgfarm: PathBuf,
    /// `--pg`: the installation's bin dir.
    pub installation: PathBuf,
    /// `--timeout` seconds.
    pub timeout: f64,
    /// `--out`: where its bundles go.
    pub out: PathBuf,
    /// `--workdir`.
    pub workdir: PathBuf,
    /// The extension's source folder.
    pub source: PathBuf,
    /// `PGFARM_MACHINE`: the machine its bundles name.
    pub machine: String,
    /// `--sandbox`.
    pub sandbox: bool,
    /// `--pgxn-mirror`: the mirror a PGXN release came from (its prerequisites and previous
    /// release are read there).
    pub pgxn_mirror: Option<String>,
}

/// How a `pgfarm test` child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// It ran (its bundles say how: pass, fail, error); the exit status.
    Ran(ExitStatus),
    /// Exit status 3: a usage or configuration error in this source.
    Refused,
}

impl TestChild {
    /// The command line.
    pub fn spawn(&self) -> Spawn {
        Spawn::new(&self.pgfarm)
            .args(["test", "--plain"])
            .args(self.sandbox.then_some("--sandbox"))
            .arg("--pg")
            .arg(&self.installation)
            .arg("--timeout")
            .arg(self.timeout.to_string())
            .arg("--out")
            .arg(&self.out)
            .arg("--workdir")
            .arg(&self.workdir)
            .args(self.pgxn_mirror.iter().flat_map(|m| ["--pgxn-mirror", m.as_str()]))
            .arg(&self.source)
            .env("PGFARM_MACHINE", self.machine.clone())
    }

    /// What an exit status means (docs/exit-codes.md, `pgfarm test`).
    pub fn end(status: ExitStatus) -> ChildEnd {
        if status.code() == Some(3) { ChildEnd::Refused } else { ChildEnd::Ran(status) }
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

/// The worker's state between rounds.
#[derive(Debug)]
pub struct Worker {
    options: WorkerOptions,
    skipped: HashMap<(String, String, i64), Instant>,
}

impl Worker {
    /// A worker; nothing runs until [`Worker::run`].
    pub fn new(options: WorkerOptions) -> Worker {
        Worker { options, skipped: HashMap::new() }
    }

    /// Rounds until stopped (or one round with `once`), pausing `interval` when there is no
    /// work and backing off from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`] after errors.
    pub fn run(&mut self, on_event: &mut dyn FnMut(WorkerEvent)) -> WorkerEnd {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let round = self.round(on_event);
            if self.options.cancel.is_cancelled() {
                return WorkerEnd::Stopped;
            }
            if self.options.once {
                return if round.failed == 0 { WorkerEnd::Done } else { WorkerEnd::Failed };
            }
            let pause = if round.transient || round.failed > 0 {
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                on_event(WorkerEvent::BackingOff { pause });
                pause
            } else {
                backoff = FIRST_BACKOFF;
                if round.submitted > 0 {
                    // There may be more work: ask again at once.
                    continue;
                }
                self.options.interval
            };
            if !self.sleep(pause) {
                return WorkerEnd::Stopped;
            }
        }
    }

    /// Sleeps `pause` in short steps; false when a signal asked to stop.
    fn sleep(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        while Instant::now() < until {
            if self.options.cancel.is_cancelled() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100).min(until - Instant::now()));
        }
        !self.options.cancel.is_cancelled()
    }

    /// One pass over the majors: the first testable queue item of each.
    pub fn round(&mut self, on_event: &mut dyn FnMut(WorkerEvent)) -> Round {
        let mut round = Round::default();
        self.skipped.retain(|_, since| since.elapsed() < SKIP_FOR);
        for major in self.options.majors.clone() {
            if self.options.cancel.is_cancelled() {
                break;
            }
            let machine = &self.options.credentials.machine;
            let statuses: Vec<&str> = match &self.options.sources {
                Sources::Pgxn(pgxn) => pgxn.statuses.iter().map(String::as_str).collect(),
                Sources::Folder(_) => Vec::new(),
            };
            let items =
                match self.options.client.queue_statuses(machine, major, QUEUE_LIMIT, &statuses) {
                    Ok(items) => items,
                    Err(err) => {
                        on_event(WorkerEvent::QueueFailed { major, error: err.to_string() });
                        round.failed += 1;
                        round.transient |= err.is_retryable();
                        continue;
                    }
                };
            // The first testable item; one that cannot be fetched is skipped and the next
            // one tried, so a broken release never holds up the others.
            loop {
                if self.options.cancel.is_cancelled() {
                    break;
                }
                let Some((item, source)) = self.pick(&items, on_event) else {
                    if let (false, Sources::Folder(sources)) =
                        (items.is_empty(), &self.options.sources)
                    {
                        on_event(WorkerEvent::NoSource {
                            major,
                            n_items: items.len(),
                            sources: sources.clone(),
                        });
                    }
                    break;
                };
                match self.job(&item, &source, on_event) {
                    Ok(n_bundles) => {
                        round.submitted += 1;
                        let label = label(&item);
                        on_event(WorkerEvent::JobDone { label, n_bundles });
                    }
                    Err(JobError::Cancelled) => break,
                    Err(JobError::Skip(message)) => {
                        on_event(WorkerEvent::Skipped { message });
                        self.skip(&item);
                        round.failed += 1;
                        continue;
                    }
                    Err(JobError::Failed { message, transient }) => {
                        on_event(WorkerEvent::JobFailed { message });
                        round.failed += 1;
                        round.transient |= transient;
                    }
                }
                break;
            }
        }
        round
    }

    fn skip(&mut self, item: &QueueItem) {
        self.skipped
            .insert((item.extension.clone(), item.version.clone(), item.pg_major), Instant::now());
    }

    /// The first queue item not skipped whose source is found (skipping, with an event, the
    /// ones without); with PGXN sources the first not skipped (it is fetched by the job).
    fn pick(
        &mut self,
        items: &[QueueItem],
        on_event: &mut dyn FnMut(WorkerEvent),
    ) -> Option<(QueueItem, Option<PathBuf>)> {
        for item in items {
            let key = (item.extension.clone(), item.version.clone(), item.pg_major);
            if self.skipped.contains_key(&key) {
                continue;
            }
            let sources = match &self.options.sources {
                Sources::Folder(sources) => sources,
                Sources::Pgxn(_) => return Some((item.clone(), None)),
            };
            match find_source(sources, &item.extension, &item.version) {
                Ok(path) => return Some((item.clone(), Some(path))),
                Err(message) => {
                    on_event(WorkerEvent::Skipped { message });
                    self.skip(item);
                }
            }
        }
        None
    }

    /// Tests one queue item and submits its bundles; the number of bundles submitted.
    fn job(
        &self,
        item: &QueueItem,
        source: &Option<PathBuf>,
        on_event: &mut dyn FnMut(WorkerEvent),
    ) -> Result<usize, JobError> {
        let label = label(item);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        let job_dir = self
            .options
            .workdir
            .join(format!("{}-{}-pg{}-{stamp}", item.extension, item.version, item.pg_major));
        let bindir = u32::try_from(item.pg_major).ok().and_then(|m| self.options.bindirs.get(&m));
        let Some(bindir) = bindir else {
            return Err(JobError::Skip(format!(
                "the queue sent PostgreSQL {}, which this worker was not started for; skipping \
                 it for an hour",
                item.pg_major
            )));
        };
        let (source, pgxn_mirror) = match (source, &self.options.sources) {
            (Some(source), _) => (source.clone(), None),
            (None, Sources::Pgxn(pgxn)) => self.fetch(item, pgxn, on_event)?,
            (None, Sources::Folder(sources)) => {
                return Err(JobError::Skip(format!(
                    "no source for {label} in {}; skipping it for an hour",
                    sources.display()
                )));
            }
        };
        let source = source.as_path();
        let child = TestChild {
            pgfarm: self.options.pgfarm.clone(),
            installation: bindir.clone(),
            timeout: self.options.timeout,
            out: job_dir.join("bundles"),
            workdir: job_dir.join("work"),
            source: source.to_path_buf(),
            machine: self.options.credentials.machine.clone(),
            sandbox: self.options.sandbox,
            pgxn_mirror,
        };
        on_event(WorkerEvent::Testing { label: label.clone(), source: source.to_path_buf() });
        let spawn = child.spawn();
        let status = self.wait_for(&spawn)?;
        let _ = std::fs::remove_dir_all(&child.workdir);
        if self.options.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        if TestChild::end(status) == ChildEnd::Refused {
            return Err(JobError::Skip(format!(
                "`{}` refused {} (exit status 3: usage or configuration error); skipping it for \
                 an hour",
                spawn.display(),
                source.display()
            )));
        }
        let bundles = bundle_files(&child.out);
        if bundles.is_empty() {
            return Err(JobError::Failed {
                message: format!(
                    "{label}: `pgfarm test` wrote no bundle ({})",
                    crate::process::describe_status(status)
                ),
                transient: false,
            });
        }
        for path in &bundles {
            let bytes = std::fs::read(path).map_err(|err| JobError::Failed {
                message: format!("{}: {err}", path.display()),
                transient: false,
            })?;
            match self.options.client.submit(&self.options.credentials, &bytes) {
                Ok(created) => on_event(WorkerEvent::Stored {
                    label: label.clone(),
                    url: format!("{}{}", self.options.client.base_url(), created.url),
                }),
                Err(err) if err.status() == Some(409) => on_event(WorkerEvent::AlreadyStored {
                    label: label.clone(),
                    path: path.clone(),
                }),
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

    /// A PGXN release's zip, downloaded into the cache (unless the cache has it) and verified
    /// against the SHA-1 the queue (or the mirror's META) gives, with the mirror it came from.
    /// Any failure skips the release for [`SKIP_FOR`].
    fn fetch(
        &self,
        item: &QueueItem,
        pgxn: &PgxnSources,
        on_event: &mut dyn FnMut(WorkerEvent),
    ) -> Result<(PathBuf, Option<String>), JobError> {
        let label = label(item);
        let skip =
            |what: String| JobError::Skip(format!("{label}: {what}; skipping it for an hour"));
        let dist = item.dist.clone().unwrap_or_else(|| item.extension.clone());
        let Some(mirror) = item.mirror.clone().or_else(|| pgxn.mirror.clone()) else {
            return Err(skip(
                "the queue item names no PGXN mirror and the worker has no --pgxn-mirror".into(),
            ));
        };
        let client =
            PgxnClient::new(&mirror).map_err(|e| skip(format!("PGXN mirror {mirror}: {e}")))?;
        let (url, sha1) = match (&item.download_url, &item.sha1) {
            (Some(url), Some(sha1)) => (url.clone(), sha1.to_ascii_lowercase()),
            _ => {
                let meta = client.meta(&dist, &item.version).map_err(|e| skip(e.to_string()))?;
                let url =
                    client.download_url(&dist, &item.version).map_err(|e| skip(e.to_string()))?;
                let Some(sha1) = meta.digests.sha1.clone() else {
                    return Err(skip(format!(
                        "the META.json of {dist} {} has no sha1",
                        item.version
                    )));
                };
                (url, sha1)
            }
        };
        let safe = |part: &str| {
            !part.is_empty() && !part.starts_with('.') && !part.contains(['/', '\\', '\0'])
        };
        if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(skip(format!("{sha1:?} is not a SHA-1")));
        }
        if !safe(&dist) || !safe(&item.version) {
            return Err(skip(format!("{dist:?} {:?}: not a safe file name", item.version)));
        }
        let top = format!("{dist}-{}", item.version).to_lowercase();
        let folder = pgxn.cache.join(&sha1);
        let zip = folder.join(format!("{top}.zip"));
        let digests = Digests { sha1: Some(sha1.clone()), sha256: None, sha512: None };
        let cached = zip.is_file() && pgfarm_pgxn::verify(&zip, &digests, &url).is_ok();
        if !cached {
            std::fs::create_dir_all(&folder)
                .map_err(|e| skip(format!("could not create {}: {e}", folder.display())))?;
            let bytes = client
                .get(&url, pgfarm_pgxn::Limits::default().archive_bytes)
                .map_err(|e| skip(format!("download failed: {e}")))?;
            let partial = folder.join(format!("{top}.zip.{}.partial", std::process::id()));
            std::fs::write(&partial, &bytes)
                .map_err(|e| skip(format!("could not write {}: {e}", partial.display())))?;
            // verify deletes a file whose digest differs and names both digests.
            pgfarm_pgxn::verify(&partial, &digests, &url).map_err(|e| skip(e.to_string()))?;
            std::fs::rename(&partial, &zip)
                .map_err(|e| skip(format!("could not rename {}: {e}", partial.display())))?;
        }
        on_event(WorkerEvent::Fetched { label: label.clone(), url, sha1, cached });
        Ok((zip, Some(mirror)))
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
            if self.options.cancel.is_cancelled() && !forwarded {
                // On a terminal the child got the same Ctrl-C; a SIGTERM to the worker alone
                // reaches it only through this.
                let _ = Spawn::new("kill").args(["-INT", &child.id().to_string()]).output();
                forwarded = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn label(item: &QueueItem) -> String {
    format!("{} {} on PostgreSQL {}", item.extension, item.version, item.pg_major)
}

fn submit_failure(label: &str, path: &Path, err: &UploadError) -> String {
    format!("{label}: submitting {}: {err} (the bundle stays there)", path.display())
}

/// The bundle files (`*.pgfarm.json.gz`, `*.pgfarm.json`) directly in `dir`, sorted.
pub fn bundle_files(dir: &Path) -> Vec<PathBuf> {
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
pub fn find_source(sources: &Path, extension: &str, version: &str) -> Result<PathBuf, String> {
    let safe = |part: &str| {
        !part.is_empty() && !part.starts_with('.') && !part.contains(['/', '\\', '\0'])
    };
    if !safe(extension) || !safe(version) {
        return Err(format!(
            "queue item {extension:?} {version:?}: not a safe folder name; skipping it for an hour"
        ));
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
    Err(format!(
        "no source for {extension} {version}: looked at {}; skipping it for an hour",
        looked.join(", ")
    ))
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
            find_source(dir.path(), "pure_sql", "1.0").unwrap(),
            dir.path().join("pure_sql")
        );
        let err = find_source(dir.path(), "pure_sql", "2.0").unwrap_err();
        assert!(err.contains("holds pure_sql 1.0"), "{err}");
        std::os::unix::fs::symlink(fixture("pure_sql"), dir.path().join("pure_sql-1.0")).unwrap();
        assert_eq!(
            find_source(dir.path(), "pure_sql", "1.0").unwrap(),
            dir.path().join("pure_sql-1.0")
        );
        assert!(find_source(dir.path(), "../etc", "1").is_err());
        assert!(find_source(dir.path(), "absent", "1.0").unwrap_err().contains("absent"));
    }

    #[test]
    fn the_test_child_gets_its_job_and_exit_3_means_refused() {
        use std::os::unix::process::ExitStatusExt;
        let child = TestChild {
            pgfarm: "/bin/pgfarm".into(),
            installation: "/pg/17/bin".into(),
            timeout: 30.0,
            out: "/j/bundles".into(),
            workdir: "/j/work".into(),
            source: "/src/ext".into(),
            machine: "m1".into(),
            sandbox: false,
            pgxn_mirror: None,
        };
        assert_eq!(
            child.spawn().display(),
            "/bin/pgfarm test --plain --pg /pg/17/bin --timeout 30 --out /j/bundles --workdir /j/work /src/ext"
        );
        let sandboxed = TestChild {
            sandbox: true,
            pgxn_mirror: Some("http://127.0.0.1:1/".into()),
            source: "/cache/x-1.0.0.zip".into(),
            ..child.clone()
        };
        assert_eq!(
            sandboxed.spawn().display(),
            "/bin/pgfarm test --plain --sandbox --pg /pg/17/bin --timeout 30 --out /j/bundles --workdir /j/work --pgxn-mirror http://127.0.0.1:1/ /cache/x-1.0.0.zip"
        );
        assert_eq!(TestChild::end(ExitStatus::from_raw(3 << 8)), ChildEnd::Refused);
        let failed = ExitStatus::from_raw(1 << 8);
        assert_eq!(TestChild::end(failed), ChildEnd::Ran(failed));
    }
}
