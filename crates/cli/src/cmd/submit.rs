//! `pgfarm submit`: upload result bundles to a pgfarm server, signed with the machine secret.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pgfarm_runner::upload::{Credentials, UploadClient, UploadError};

/// Arguments of `pgfarm submit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Sends each bundle file exactly as written (`.pgfarm.json.gz`) to POST /api/v1/runs, signed
with HMAC-SHA256 over the timestamp and the body. The secret comes from PGFARM_MACHINE_SECRET,
or else from the credentials file (default ~/.config/pgfarm/machine.toml, TOML with `machine`,
`secret` and optionally `server`), which must have mode 0600. Transient failures (connection
errors, 429, 5xx) are retried three times with growing pauses. A bundle the server already has
(409) counts as submitted.

Exit status: 0 when every bundle is stored, 1 when one was refused or could not be sent,
2 on a usage error or missing credentials.")]
pub(crate) struct Args {
    /// Bundle files to submit.
    #[arg(required = true, value_name = "BUNDLE")]
    bundles: Vec<PathBuf>,
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
}

const ATTEMPTS: u32 = 4;

pub(crate) fn run(args: Args) -> ExitCode {
    let credentials =
        match Credentials::resolve(args.machine.as_deref(), args.credentials.as_deref()) {
            Ok(credentials) => credentials,
            Err(err) => {
                eprintln!("pgfarm submit: {err}");
                return ExitCode::from(2);
            }
        };
    let Some(server) = args.server.clone().or_else(|| credentials.server.clone()) else {
        eprintln!("pgfarm submit: no server: pass --server URL or set PGFARM_SERVER");
        return ExitCode::from(2);
    };
    let client = UploadClient::new(&server);
    let mut failed = 0usize;
    for path in &args.bundles {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("pgfarm submit: {}: {err}", path.display());
                failed += 1;
                continue;
            }
        };
        match submit_with_retries(&client, &credentials, &bytes) {
            Ok(created) => {
                println!("{}: stored as {}{}", path.display(), client.base_url(), created.url)
            }
            Err(err) if err.status() == Some(409) => {
                println!("{}: already on the server ({err})", path.display());
            }
            Err(err) => {
                eprintln!("pgfarm submit: {}: {err}", path.display());
                failed += 1;
            }
        }
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn submit_with_retries(
    client: &UploadClient,
    credentials: &Credentials,
    bytes: &[u8],
) -> Result<pgfarm_model::api::RunCreated, UploadError> {
    let mut attempt = 1;
    loop {
        match client.submit(credentials, bytes) {
            Err(err) if err.is_retryable() && attempt < ATTEMPTS => {
                let pause = Duration::from_secs(1 << attempt);
                eprintln!("pgfarm submit: {err}; retrying in {} s", pause.as_secs());
                std::thread::sleep(pause);
                attempt += 1;
            }
            result => return result,
        }
    }
}
