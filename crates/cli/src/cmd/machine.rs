//! `pgfarm machine register`: ask a pgfarm server to accept this machine as a test machine;
//! `pgfarm machine approve`: the server's admin approves it and writes its credentials file.

use std::path::PathBuf;
use std::process::ExitCode;

use pgfarm_model::api::MachineRegistration;
use pgfarm_runner::upload::{Credentials, SecretAction, UploadClient};

/// Arguments of `pgfarm machine`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: MachineCommand,
}

#[derive(Debug, clap::Subcommand)]
enum MachineCommand {
    /// Register this machine; it stays `pending` until the server's admin approves it and
    /// hands over its secret.
    #[command(after_help = "\
After approval (`pgfarm machine approve NAME`, or `pgfarm-server admin approve NAME` on the
server) the admin gives you the secret once. Keep it in PGFARM_MACHINE_SECRET or in
~/.config/pgfarm/machine.toml (mode 0600; `pgfarm machine approve` writes that file):
    machine = \"NAME\"
    secret = \"...\"
    server = \"URL\"

Exit status: 0 when registered, 1 when the server refused (name taken, rate limit, ...),
2 on a usage error.")]
    Register(RegisterArgs),
    /// As the server's admin: approve a pending machine and write its secret, which the server
    /// shows only once, into a credentials file (mode 0600) for `pgfarm submit` and `pgfarm
    /// worker`.
    #[command(after_help = "\
The file is written whole (temp file + rename, mode 0600) and holds:
    machine = \"NAME\"
    secret = \"...\"
    server = \"URL\"
--rotate-secret gives an approved machine a new secret instead (the old one stops working),
which is how a lost credentials file is replaced.

Exit status: 0 when approved and written, 1 when the server refused (unknown machine, not
pending, bad admin token) or the file could not be written, 2 on a usage error.")]
    Approve(ApproveArgs),
}

#[derive(Debug, clap::Args)]
struct ApproveArgs {
    /// Server URL [env: PGFARM_SERVER].
    #[arg(long, env = "PGFARM_SERVER", value_name = "URL")]
    server: String,
    /// The server's admin token [env: PGFARM_ADMIN_TOKEN].
    #[arg(long, env = "PGFARM_ADMIN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    admin_token: String,
    /// The machine to approve.
    name: String,
    /// Where to write its credentials (default: ~/.config/pgfarm/machine.toml).
    #[arg(long, env = "PGFARM_CREDENTIALS", value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Rotate an approved machine's secret instead of approving a pending one.
    #[arg(long)]
    rotate_secret: bool,
}

#[derive(Debug, clap::Args)]
struct RegisterArgs {
    /// Server URL [env: PGFARM_SERVER].
    #[arg(long, env = "PGFARM_SERVER", value_name = "URL")]
    server: String,
    /// Machine name: 1 to 64 of A-Z a-z 0-9 . _ -
    #[arg(long)]
    name: String,
    /// Who to contact about this machine (not shown publicly).
    #[arg(long, value_name = "EMAIL")]
    owner_email: String,
    /// Free text shown on the machine's page.
    #[arg(long, default_value = "")]
    description: String,
    /// Operating system [default: this one].
    #[arg(long)]
    os: Option<String>,
    /// CPU architecture [default: this one].
    #[arg(long)]
    arch: Option<String>,
    /// Compiler used to build extensions.
    #[arg(long, default_value = "")]
    compiler: String,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match args.command {
        MachineCommand::Register(args) => register(args),
        MachineCommand::Approve(args) => approve(args),
    }
}

fn approve(args: ApproveArgs) -> ExitCode {
    let Some(path) = args.credentials.clone().or_else(Credentials::default_path) else {
        eprintln!("pgfarm machine approve: no HOME for the credentials file: pass --credentials");
        return ExitCode::from(2);
    };
    let client = UploadClient::new(&args.server);
    let action =
        if args.rotate_secret { SecretAction::RotateSecret } else { SecretAction::Approve };
    let answer = match client.machine_secret(&args.admin_token, &args.name, action) {
        Ok(answer) => answer,
        Err(err) => {
            eprintln!("pgfarm machine approve: {err}");
            return ExitCode::FAILURE;
        }
    };
    let credentials = Credentials {
        machine: answer.name,
        secret: answer.secret,
        server: Some(client.base_url().to_owned()),
    };
    match credentials.write_file(&path) {
        Ok(()) => {
            println!(
                "machine {} {}: credentials written to {}",
                credentials.machine,
                if args.rotate_secret { "has a new secret" } else { "approved" },
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            // The secret is shown once: say how to get another rather than print it.
            eprintln!(
                "pgfarm machine approve: {err}; the secret is lost, run again with \
                 --rotate-secret to get a new one"
            );
            ExitCode::FAILURE
        }
    }
}

fn register(args: RegisterArgs) -> ExitCode {
    let registration = MachineRegistration {
        name: args.name,
        owner_email: args.owner_email,
        description: args.description,
        os: args.os.unwrap_or_else(|| std::env::consts::OS.to_owned()),
        arch: args.arch.unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
        compiler: args.compiler,
    };
    let client = UploadClient::new(&args.server);
    match client.register(&registration) {
        Ok(machine) => {
            println!(
                "machine {} registered at {} and {:?}: wait for the admin to approve it and send you its secret",
                machine.name,
                client.base_url(),
                machine.state
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("pgfarm machine register: {err}");
            ExitCode::FAILURE
        }
    }
}
