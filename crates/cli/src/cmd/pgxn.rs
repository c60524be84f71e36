//! `pgfarm pgxn mirror`: writes (or adds to) a PGXN mirror folder from extension source folders,
//! with real archives and SHA-1s; the work is `pgfarm_pgxn::mirror`'s.

use std::path::PathBuf;
use std::process::ExitCode;

use pgfarm_pgxn::ReleaseStatus;
use pgfarm_pgxn::mirror::{Mirror, MirrorRelease};

const MIRROR_HELP: &str = "\
Each EXT_DIR becomes a release: a zip with one top folder {dist}-{version}/ (entries sorted, times
fixed, unix modes and symlinks kept, .git and pgfarm's own output folders left out), so the same
folder gives the same SHA-1. Its META.json (v1) names the release; without one, a META is written
from the first control file (default_version 1.0 -> version 1.0.0). The mirror's documents
(index.json, dist/, extension/, user/, stats/dist.json) are updated in place; adding a release
again replaces it. Serve the folder with any web server, or use it as file://OUT_DIR/.

Exit status:
  0  every release was added
  2  usage error, or a folder could not be read or the mirror written (the message names the
     file or the META field)";

/// Arguments of `pgfarm pgxn`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: PgxnCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PgxnCommand {
    /// Write a PGXN mirror folder from extension source folders.
    #[command(after_help = MIRROR_HELP, disable_version_flag = true)]
    Mirror(MirrorArgs),
}

#[derive(Debug, clap::Args)]
struct MirrorArgs {
    /// The mirror's folder (created when absent).
    out_dir: PathBuf,
    /// Extension source folders, one release each.
    #[arg(required = true)]
    ext_dirs: Vec<PathBuf>,
    /// Release status of every release added (default: each META's `release_status`, else stable).
    #[arg(long, value_parser = ["stable", "testing", "unstable"])]
    status: Option<String>,
    /// The PGXN user the releases belong to.
    #[arg(long, default_value = "pgfarm")]
    user: String,
    /// The version of every release added, instead of each META's (or control file's).
    #[arg(long = "version", id = "release_version", value_name = "VERSION")]
    release_version: Option<String>,
    /// Release date, UTC RFC 3339 (default: now).
    #[arg(long)]
    date: Option<String>,
    /// Licence (a PGXN v1 name) of a META written from a control file; a folder's own
    /// META.json keeps its own.
    #[arg(long, default_value = "postgresql")]
    license: String,
}

/// Runs `pgfarm pgxn`.
pub(crate) fn run(args: Args) -> ExitCode {
    match args.command {
        PgxnCommand::Mirror(args) => mirror(args),
    }
}

fn mirror(args: MirrorArgs) -> ExitCode {
    let status = match args.status.as_deref() {
        Some("stable") => Some(ReleaseStatus::Stable),
        Some("testing") => Some(ReleaseStatus::Testing),
        Some("unstable") => Some(ReleaseStatus::Unstable),
        _ => None,
    };
    let mirror = match Mirror::create(&args.out_dir) {
        Ok(mirror) => mirror,
        Err(err) => {
            eprintln!("pgfarm pgxn mirror: {err}");
            return ExitCode::from(2);
        }
    };
    for source in &args.ext_dirs {
        let release = MirrorRelease {
            source: source.clone(),
            status,
            date: args.date.clone(),
            user: args.user.clone(),
            version: args.release_version.clone(),
            license: Some(args.license.clone()),
        };
        match mirror.add(&release) {
            Ok(published) => println!(
                "{} {} ({}) sha1 {} {}",
                published.dist,
                published.version,
                published.status,
                published.sha1,
                published.zip.display()
            ),
            Err(err) => {
                eprintln!("pgfarm pgxn mirror: {}: {err}", source.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
