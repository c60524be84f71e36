//! `pgfarm worker`: the machine's loop (`pgfarm_runner::worker`: ask the server's work queue
//! what to test, run `pgfarm test` on that extension version's source, submit the bundles, back
//! off on errors), with its arguments and its output.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pgfarm_runner::process::CancelFlag;
use pgfarm_runner::upload::{Credentials, UploadClient};
use pgfarm_runner::worker::{PgxnSources, Sources, Worker, WorkerEnd, WorkerEvent, WorkerOptions};

const AFTER_HELP: &str = "\
Each round, for every --pg major: GET /api/v1/machines/NAME/queue?pg=N (released extension
versions this machine has not tested on that major, newest first), take the first item whose
source is found, run `pgfarm test --pg N` on it (the bundles name this machine:
PGFARM_MACHINE is set for the child), and submit every bundle it wrote, signed as
`pgfarm submit` signs (secret from PGFARM_MACHINE_SECRET or the mode-0600 credentials file).

Sources: the queue names a release (extension, version). With --pgxn the worker asks for PGXN
releases (`&status=stable`, plus testing with --testing, plus unstable with --unstable), downloads
each release's zip from the queue item's download_url (or, for an item without one, from
--pgxn-mirror's META.json) into DIR/cache (--workdir), verifies its SHA-1 and runs
`pgfarm test --sandbox --pgxn-mirror MIRROR ZIP` on it: the build and the tests run as the
unprivileged user, without network, read-only outside the work folder, with process, memory,
CPU and file-size limits (docs/sandbox.md). --no-sandbox turns that off (a warning says so). A download error or a
checksum mismatch skips the release for an hour; a build the sandbox stops is a failed build
stage, submitted like any run.

Without --pgxn the worker looks in --sources DIR for `DIR/<extension>-<version>/`, else
`DIR/<extension>/` (a checkout) when its META.json or control file states that same version. A
release without a source here is skipped (logged) and asked for again after an hour; so is one
whose `pgfarm test` exits 3 (a usage or configuration error).

Pacing: when no queue has work, wait --interval seconds. On an error (server unreachable, 5xx,
429, a submission refused), wait 5 s, then 10, 20, ... up to 10 minutes; the first success
resets the pause. Ctrl-C or SIGTERM stops: a running `pgfarm test` is interrupted (its
clusters are removed), its bundles are not submitted, and the worker exits with 130.

Scratch files: --workdir (default ./pgfarm-worker) holds one folder per job with the
bundles and `pgfarm test`'s work folder; the work folder is removed after each job, the
bundles after they were submitted.

Exit status (with --once, or when stopped): 0 every job of the round was submitted (or
there was nothing to do), 1 a job failed (no bundle, a release that could not be fetched or
verified, or a submission refused or not sent), 2 usage error, missing credentials, or a
sandbox that cannot run here (bwrap missing: install the package bubblewrap), 130 stopped by a
signal.";

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
    /// Folder of extension sources: `<extension>-<version>/` or `<extension>/` folders (local
    /// checkouts; not used with --pgxn).
    #[arg(long, value_name = "DIR", default_value = "sources")]
    sources: PathBuf,
    /// Test PGXN releases: fetch what the queue names (its download URL, SHA-1 verified) and
    /// test it in the sandbox.
    #[arg(long)]
    pgxn: bool,
    /// With --pgxn, also ask for releases with status `testing`.
    #[arg(long, requires = "pgxn")]
    testing: bool,
    /// With --pgxn, also ask for releases with status `testing` and `unstable`.
    #[arg(long, requires = "pgxn")]
    unstable: bool,
    /// With --pgxn: the PGXN mirror or API base URL for queue items that name no download URL.
    #[arg(long, value_name = "URL", requires = "pgxn")]
    pgxn_mirror: Option<String>,
    /// Run `pgfarm test` in the sandbox (the default with --pgxn).
    #[arg(long, conflicts_with = "no_sandbox")]
    sandbox: bool,
    /// With --pgxn, run the releases' builds and tests without the sandbox (unsafe: their code
    /// runs with this machine's network and the server user's files).
    #[arg(long, requires = "pgxn")]
    no_sandbox: bool,
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
    if !args.pgxn && !args.sources.is_dir() {
        return usage(format!("--sources {}: not a directory", args.sources.display()));
    }
    // Absolute, since the job's `pgfarm test` and its sandbox work in other folders.
    let workdir = std::path::absolute(&args.workdir).unwrap_or_else(|_| args.workdir.clone());
    let sandbox = (args.pgxn && !args.no_sandbox) || args.sandbox;
    if args.no_sandbox {
        eprintln!(
            "pgfarm worker: warning: --no-sandbox: PGXN releases are built and tested with this              machine's network and write access; run this only on a throwaway machine"
        );
    }
    if sandbox {
        let checked = pgfarm_pgnode::OsUser::for_servers(&pgfarm_pgnode::Config::current().pg_user)
            .and_then(pgfarm_pgnode::Sandbox::new)
            .and_then(|sandbox| sandbox.check());
        if let Err(err) = checked {
            return usage(format!("the sandbox: {err}"));
        }
    }
    let sources = if args.pgxn {
        let mut statuses = vec!["stable".to_owned()];
        if args.testing || args.unstable {
            statuses.push("testing".to_owned());
        }
        if args.unstable {
            statuses.push("unstable".to_owned());
        }
        Sources::Pgxn(PgxnSources {
            statuses,
            mirror: args.pgxn_mirror.clone(),
            cache: workdir.join("cache"),
        })
    } else {
        Sources::Folder(args.sources.clone())
    };
    let pgfarm = match std::env::current_exe() {
        Ok(path) => path,
        Err(err) => return usage(format!("cannot find the pgfarm executable: {err}")),
    };
    let cancel = CancelFlag::new();
    if let Err(err) = cancel.cancel_on_signals() {
        return usage(err.to_string());
    }
    let options = WorkerOptions {
        client: UploadClient::new(&server),
        credentials,
        majors,
        bindirs,
        sources,
        sandbox,
        workdir,
        pgfarm,
        timeout: args.timeout,
        interval: Duration::from_secs(args.interval),
        once: args.once,
        cancel,
    };
    let from = match &options.sources {
        Sources::Folder(dir) => format!("sources in {}", dir.display()),
        Sources::Pgxn(pgxn) => format!("PGXN releases ({})", pgxn.statuses.join(", ")),
    };
    eprintln!(
        "pgfarm worker: machine {} on {}, PostgreSQL {}, {from}{}",
        options.credentials.machine,
        options.client.base_url(),
        options.majors.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        if options.sandbox { ", in the sandbox" } else { "" }
    );
    match Worker::new(options).run(&mut render) {
        WorkerEnd::Done => ExitCode::SUCCESS,
        WorkerEnd::Failed => ExitCode::FAILURE,
        WorkerEnd::Stopped => {
            eprintln!("pgfarm worker: stopped");
            ExitCode::from(130)
        }
    }
}

/// Prints what the worker does: progress on stderr, stored runs on stdout.
fn render(event: WorkerEvent) {
    match event {
        WorkerEvent::QueueFailed { major, error } => {
            eprintln!("pgfarm worker: queue for PostgreSQL {major}: {error}")
        }
        WorkerEvent::NoSource { major, n_items, sources } => eprintln!(
            "pgfarm worker: PostgreSQL {major}: {n_items} queued release(s), none with a source \
             in {}",
            sources.display()
        ),
        WorkerEvent::Skipped { message } | WorkerEvent::JobFailed { message } => {
            eprintln!("pgfarm worker: {message}")
        }
        WorkerEvent::Fetched { label, url, sha1, cached } => eprintln!(
            "pgfarm worker: {label}: {} {url} (sha1 {sha1} verified)",
            if cached { "cached" } else { "downloaded" }
        ),
        WorkerEvent::Testing { label, source } => {
            eprintln!("pgfarm worker: testing {label} from {}", source.display())
        }
        WorkerEvent::Stored { label, url } => println!("{label}: stored as {url}"),
        WorkerEvent::AlreadyStored { label, path } => {
            println!("{label}: {} already on the server", path.display())
        }
        WorkerEvent::JobDone { label, n_bundles } => {
            eprintln!("pgfarm worker: {label}: {n_bundles} bundle(s) submitted")
        }
        WorkerEvent::BackingOff { pause } => {
            eprintln!("pgfarm worker: backing off for {} s", pause.as_secs())
        }
    }
}
