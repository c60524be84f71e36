//! `pgfarm serve`: runs the `pgfarm-server` program found beside this `pgfarm` (or on PATH)
//! with the same arguments, so that `pgfarm` itself links no database or server code.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use pgfarm_pgnode::command::Command;

/// Arguments of `pgfarm serve`: everything is passed to `pgfarm-server`.
#[derive(Debug, clap::Args)]
#[command(
    disable_help_flag = true,
    after_help = "\
Runs pgfarm-server (found next to this pgfarm, else on PATH) with these arguments: `pgfarm serve
--help` shows the server's flags. It starts on 127.0.0.1:8080 with SQLite in ./.data unless told
otherwise and serves the web app embedded in it. Stop with Ctrl-C or SIGTERM.

Exit status: the server's (0 after a clean shutdown, 1 when it cannot start); 1 when
pgfarm-server is not found (install it with `cargo install --locked --path server`)."
)]
pub(crate) struct Args {
    /// Arguments for pgfarm-server.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<OsString>,
}

/// `pgfarm-server` beside the running executable, else the first on PATH.
fn server_program() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("pgfarm-server")))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|d| d.join("pgfarm-server")).find(|p| p.is_file())
    })
}

pub(crate) fn run(args: Args) -> ExitCode {
    let Some(program) = server_program() else {
        eprintln!(
            "pgfarm serve: pgfarm-server is not next to this pgfarm nor on PATH (install it with `cargo install --locked --path server`)"
        );
        return ExitCode::FAILURE;
    };
    // exec: the server takes this process's place (its pid, signals and exit status).
    let err = Command::new(&program).args(&args.args).exec();
    eprintln!("pgfarm serve: {err}");
    ExitCode::FAILURE
}
