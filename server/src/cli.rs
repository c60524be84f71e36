//! Command-line entry points shared by `pgfarm-server` and `pgfarm serve`: serving, and the
//! admin commands that work on the database directly (approve, reject, ...).

use std::process::ExitCode;

use crate::config::{Config, ConfigArgs, redact_url};
use crate::lifecycle::{self, Action};

/// `pgfarm-server` arguments.
#[derive(Debug, clap::Parser)]
#[command(
    name = "pgfarm-server",
    version,
    about = "The pgfarm server: stores signed result bundles and serves the status API"
)]
pub struct ServerCli {
    /// Configuration (also for the admin commands, which open the same database).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// What to do; without a command the server starts.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

/// Subcommands of `pgfarm-server`.
#[derive(Debug, clap::Subcommand)]
pub enum ServerCommand {
    /// Start the server (the default).
    Serve,
    /// Administer machines and extension releases directly in the database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import releases from PGXN.
    #[command(subcommand)]
    Pgxn(PgxnCommand),
}

/// `pgfarm-server pgxn ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PgxnCommand {
    /// One sync pass: import the distributions, releases and users that changed since the last
    /// sync from a PGXN mirror or API server, then exit (0 when it succeeded).
    Sync {
        /// Base URL of the mirror or API server (`https://api.pgxn.org/`; `file://` and
        /// loopback `http://` for tests).
        #[arg(long, value_name = "URL")]
        mirror: String,
    },
}

/// `pgfarm-server admin ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// List machines with their state.
    Machines,
    /// Approve a pending machine and print its secret (shown once, never again).
    Approve {
        /// Machine name.
        name: String,
    },
    /// Reject a pending machine.
    Reject {
        /// Machine name.
        name: String,
    },
    /// Suspend an approved machine (its submissions get 403).
    Suspend {
        /// Machine name.
        name: String,
    },
    /// Retire a machine for good.
    Retire {
        /// Machine name.
        name: String,
    },
    /// Give a machine a new secret and print it (the old one stops working).
    RotateSecret {
        /// Machine name.
        name: String,
    },
    /// Announce a released extension version so machines' queues offer it.
    AddRelease {
        /// Extension name.
        extension: String,
        /// Version.
        version: String,
        /// Lowest supported PostgreSQL major.
        #[arg(long)]
        pg_min: Option<i64>,
        /// Highest supported PostgreSQL major.
        #[arg(long)]
        pg_max: Option<i64>,
    },
}

/// Starts `tracing` output on stderr (`RUST_LOG` or `PGFARM_LOG` filter, default `info`).
pub fn init_tracing() {
    let filter = std::env::var("PGFARM_LOG")
        .ok()
        .and_then(|value| tracing_subscriber::EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| {
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        });
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Runs a parsed command line; the exit code follows docs/exit-codes.md (0 ok, 1 failure).
pub fn run(cli: ServerCli) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pgfarm-server: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let config = Config::resolve(&cli.config)?;
        match cli.command {
            None | Some(ServerCommand::Serve) => serve(config).await,
            Some(ServerCommand::Admin(command)) => admin(config, command).await,
            Some(ServerCommand::Pgxn(PgxnCommand::Sync { mirror })) => {
                let store = crate::db::open(&config).await?;
                let report = crate::pgxn::sync(store.as_ref(), &mirror).await?;
                println!("{report}");
                for skipped in &report.skipped {
                    println!("  skipped {skipped}");
                }
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pgfarm-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes requests in flight.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", config.listen))?;
    let addr = listener.local_addr()?;
    let database = redact_url(&config.database_url);
    let (state, new_token) = crate::prepare(config).await?;
    if let Some(token) = new_token {
        println!("Admin token (shown once, stored hashed; set PGFARM_ADMIN_TOKEN to choose one):");
        println!("  {token}");
    }
    println!("pgfarm-server listening on http://{addr} (database {database})");
    tracing::info!(%addr, %database, "listening");
    let pgxn = crate::periodic_pgxn_sync(&state);
    crate::serve(listener, state, shutdown_signal()).await?;
    if let Some(pgxn) = pgxn {
        pgxn.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn admin(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    let (state, _new_token) = crate::prepare(config).await?;
    let store = state.store.as_ref();
    let (name, action) = match command {
        AdminCommand::Machines => {
            for row in store.machines().await? {
                let last_seen =
                    row.last_seen_at.map(crate::rfc3339).unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\t{}/{}\t{}\tlast seen {}",
                    row.name, row.state, row.os, row.arch, row.owner_email, last_seen
                );
            }
            return Ok(());
        }
        AdminCommand::AddRelease { extension, version, pg_min, pg_max } => {
            let release = crate::db::ReleaseRow { extension, version, pg_min, pg_max };
            store.add_release(&release, "admin", crate::now_ms()).await?;
            println!("release {} {} added", release.extension, release.version);
            return Ok(());
        }
        AdminCommand::Approve { name } => (name, Action::Approve),
        AdminCommand::Reject { name } => (name, Action::Reject),
        AdminCommand::Suspend { name } => (name, Action::Suspend),
        AdminCommand::Retire { name } => (name, Action::Retire),
        AdminCommand::RotateSecret { name } => (name, Action::RotateSecret),
    };
    let (row, secret) = lifecycle::apply(store, &state.key, &name, action)
        .await
        .map_err(|err| anyhow::anyhow!("{}", err.message))?;
    println!("machine {} is {}", row.name, row.state);
    if let Some(secret) = secret {
        println!("secret (shown once; give it to the machine as PGFARM_MACHINE_SECRET):");
        println!("  {secret}");
    }
    Ok(())
}
