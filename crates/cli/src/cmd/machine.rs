//! `pgfarm machine register`: ask a pgfarm server to accept this machine as a test machine.

use std::process::ExitCode;

use pgfarm_model::api::MachineRegistration;
use pgfarm_runner::upload::UploadClient;

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
After approval (`pgfarm-server admin approve NAME` on the server) the admin gives you the
secret once. Keep it in PGFARM_MACHINE_SECRET or in ~/.config/pgfarm/machine.toml (mode 0600):
    machine = \"NAME\"
    secret = \"...\"
    server = \"URL\"

Exit status: 0 when registered, 1 when the server refused (name taken, rate limit, ...),
2 on a usage error.")]
    Register(RegisterArgs),
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
