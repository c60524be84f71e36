//! `pgfarm tap` (being built).

use std::process::ExitCode;

/// Arguments of `pgfarm tap`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `pgfarm tap`.
pub(crate) fn run(_args: Args) -> ExitCode {
    eprintln!("pgfarm tap: not built yet");
    ExitCode::from(2)
}
