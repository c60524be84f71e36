//! `pgfarm pg` (being built).

use std::process::ExitCode;

/// Arguments of `pgfarm pg`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `pgfarm pg`.
pub(crate) fn run(_args: Args) -> ExitCode {
    eprintln!("pgfarm pg: not built yet");
    ExitCode::from(2)
}
