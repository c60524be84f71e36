//! The `pgfarm-server` binary: parses the command line and hands over to `pgfarm_server::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    pgfarm_server::cli::run(pgfarm_server::cli::ServerCli::parse())
}
