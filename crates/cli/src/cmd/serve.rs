//! `pgfarm serve`: the pgfarm server, the same as running `pgfarm-server`.

use std::process::ExitCode;

/// Arguments of `pgfarm serve` (the flags of `pgfarm-server`).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Starts the server on 127.0.0.1:8080 with SQLite in ./.data unless told otherwise; prints the
admin token once on the first start (set PGFARM_ADMIN_TOKEN to choose it). Stop with Ctrl-C or
SIGTERM: requests in flight finish first. Machines are approved with `pgfarm-server admin
approve NAME`. See server/README.md.

Exit status: 0 after a clean shutdown, 1 when the server cannot start (message on stderr).")]
pub(crate) struct Args {
    #[command(flatten)]
    config: pgfarm_server::config::ConfigArgs,
}

pub(crate) fn run(args: Args) -> ExitCode {
    pgfarm_server::cli::run(pgfarm_server::cli::ServerCli { config: args.config, command: None })
}
