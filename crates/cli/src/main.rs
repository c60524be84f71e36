//! The `pgfarm` binary: thin argument parsing over the pgfarm libraries.
//!
//! Each subcommand lives in its own module under `cmd/` with its clap `Args` and a `run`
//! function returning the process exit code; `main` only parses and dispatches.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// pgfarm: run PostgreSQL extension test suites, parse TAP, compare regression outputs.
#[derive(Debug, Parser)]
#[command(name = "pgfarm", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a TAP stream (TAP 12/13/14, pgTAP output) and report its verdict.
    Tap(cmd::tap::Args),
    /// Compare an expected and an actual output with pg_regress's rules.
    Diff(cmd::diff::Args),
    /// PostgreSQL installations found on this machine.
    Pg(cmd::pg::Args),
    /// PGXN tools: `pgfarm pgxn mirror OUT_DIR EXT_DIR...` writes a PGXN mirror folder.
    Pgxn(cmd::pgxn::Args),
    /// Start a throwaway PostgreSQL cluster and print its connection URI.
    Tmp(cmd::tmp::Args),
    /// Run pg_regress tests (pg_regress's options; TAP or --classic output; --jobs, --timeout).
    Regress(cmd::regress::Args),
    /// Run pgTAP test files through psql as pg_prove does, with a prove-style summary.
    Prove(cmd::prove::Args),
    /// Run an extension's suites on every PostgreSQL installation (the farm job).
    Test(cmd::test::Args),
    /// Start the pgfarm server (the same as `pgfarm-server`).
    Serve(cmd::serve::Args),
    /// Upload result bundles to a pgfarm server, signed with this machine's secret.
    Submit(cmd::submit::Args),
    /// Register this machine with a pgfarm server.
    Machine(cmd::machine::Args),
    /// Open a bundle file in the offline viewer (serves the built dashboard on 127.0.0.1).
    View(cmd::view::Args),
    /// Loop: ask the server's work queue, run `pgfarm test`, submit; back off on errors.
    Worker(cmd::worker::Args),
    /// Print a shell completion script: `pgfarm completions bash > /etc/bash_completion.d/pgfarm`.
    Completions(cmd::docs::CompletionsArgs),
    /// Print pgfarm's man page (roff), or write one page per subcommand with --out DIR.
    Man(cmd::docs::ManArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr;
            // usage errors exit with 2, as documented in docs/exit-codes.md.
            let _ = err.print();
            // `pgfarm test` documents 3 for usage errors (2 means a build/cluster error there).
            let usage_code = if std::env::args().nth(1).as_deref() == Some("test") { 3 } else { 2 };
            return if err.use_stderr() { ExitCode::from(usage_code) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Tap(args) => cmd::tap::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Pg(args) => cmd::pg::run(args),
        Command::Pgxn(args) => cmd::pgxn::run(args),
        Command::Tmp(args) => cmd::tmp::run(args),
        Command::Regress(args) => cmd::regress::run(args),
        Command::Prove(args) => cmd::prove::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Submit(args) => cmd::submit::run(args),
        Command::Machine(args) => cmd::machine::run(args),
        Command::View(args) => cmd::view::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Completions(args) => {
            cmd::docs::completions(args, &mut <Cli as clap::CommandFactory>::command())
        }
        Command::Man(args) => cmd::docs::man(args, <Cli as clap::CommandFactory>::command()),
    }
}
