//! `pgfarm diff` (being built).

use std::process::ExitCode;

/// Arguments of `pgfarm diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `pgfarm diff`.
pub(crate) fn run(_args: Args) -> ExitCode {
    eprintln!("pgfarm diff: not built yet");
    ExitCode::from(2)
}
