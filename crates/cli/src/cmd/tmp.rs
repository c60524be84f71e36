//! `pgfarm tmp` (being built).

use std::process::ExitCode;

/// Arguments of `pgfarm tmp`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `pgfarm tmp`.
pub(crate) fn run(_args: Args) -> ExitCode {
    eprintln!("pgfarm tmp: not built yet");
    ExitCode::from(2)
}
