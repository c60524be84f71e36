//! `pgfarm tmp`: a throwaway PostgreSQL cluster for people, like ephemeralpg's pg_tmp.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pgfarm_pgnode::command::Command;
use pgfarm_pgnode::{Cluster, Listen, Selection};

/// Arguments of `pgfarm tmp`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The installation to run: a major (`17`), a name (`15@debian`) or a path (default: the
    /// newest installed).
    #[arg(long, env = "PGFARM_TMP_PG", value_name = "INSTALLATION")]
    pg: Option<String>,
    /// The installation this pg_config belongs to.
    #[arg(long, value_name = "PATH")]
    pg_config: Option<std::path::PathBuf>,
    /// Remove the cluster after no client was connected for this long (`90s`, `5m`, `1h`,
    /// `500ms`, or seconds); `0` waits for Ctrl-C/SIGTERM only.
    #[arg(long, default_value = "60s", value_parser = parse_duration, env = "PGFARM_TMP_IDLE")]
    idle: Duration,
    /// Listen on the unix socket only (the URI then names the socket folder).
    #[arg(long)]
    socket_only: bool,
    /// Print the URI and return at once, leaving a background process that serves the
    /// cluster until it is idle (for `psql "$(pgfarm tmp -d)"`).
    #[arg(short = 'd', long)]
    detach: bool,
    /// Internal: the background half of --detach.
    #[arg(long, hide = true)]
    detached_child: bool,
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (examples: 90s, 5m, 1h, 500ms)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!("invalid duration unit {other:?} in {text:?} (use ms, s, m or h)"));
        }
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs `pgfarm tmp`.
pub(crate) fn run(args: Args) -> ExitCode {
    let result = if args.detach && !args.detached_child { detach(&args) } else { serve(&args) };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pgfarm tmp: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Starts `pgfarm tmp --detached-child ...` in the background, relays its URI line, returns.
fn detach(args: &Args) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe)
        .arg("tmp")
        .arg("--detached-child")
        .arg("--idle")
        .arg(format!("{}ms", args.idle.as_millis()));
    if let Some(pg) = &args.pg {
        cmd = cmd.arg("--pg").arg(pg);
    }
    if let Some(pg_config) = &args.pg_config {
        cmd = cmd.arg("--pg-config").arg(pg_config);
    }
    if args.socket_only {
        cmd = cmd.arg("--socket-only");
    }
    let mut child = cmd.own_process_group().spawn(Stdio::null(), Stdio::piped(), Stdio::null())?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout from the background process"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if line.trim().is_empty() {
        let status = child.wait()?;
        anyhow::bail!(
            "the background process exited ({status}) without a URI; run without --detach to see why"
        );
    }
    print!("{line}");
    std::io::stdout().flush()?;
    eprintln!(
        "pgfarm tmp: served by pid {} until idle for {:?} (kill {} to stop it now)",
        child.id(),
        args.idle,
        child.id()
    );
    Ok(())
}

fn serve(args: &Args) -> anyhow::Result<()> {
    let installation =
        Selection::from_flags(args.pg.as_deref(), args.pg_config.as_deref())?.resolve_one()?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))?;
    }
    let listen = if args.socket_only { Listen::SocketOnly } else { Listen::Localhost };
    let cluster =
        Cluster::builder(&installation).name("tmp").listen(listen).log_statement("none").start()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", cluster.uri("postgres"))?;
    stdout.flush()?;
    if !args.detached_child {
        eprintln!(
            "pgfarm tmp: PostgreSQL {} in {}; removed after {} idle or on Ctrl-C",
            installation.version,
            cluster.dir().display(),
            if args.idle.is_zero() { "never".to_owned() } else { format!("{:?}", args.idle) }
        );
    }
    serve_until_idle(&[&cluster], args.idle, &|| stop.load(Ordering::SeqCst))?;
    drop(cluster);
    Ok(())
}

/// Keeps `clusters` running until `stop` says so (Ctrl-C/SIGTERM) or, unless `idle` is zero, no
/// client was connected to any of them for `idle`: `pgfarm tmp`'s and `pgfarm test --keep`'s
/// one wait. The caller stops the clusters (dropping them).
pub(crate) fn serve_until_idle(
    clusters: &[&Cluster],
    idle: Duration,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let mut monitors = Vec::new();
    for cluster in clusters {
        monitors.push(cluster.connect()?);
    }
    let mut last_active = Instant::now();
    let mut last_check = Instant::now() - Duration::from_secs(1);
    while !stop() {
        std::thread::sleep(Duration::from_millis(50));
        if last_check.elapsed() < Duration::from_millis(250) {
            continue;
        }
        last_check = Instant::now();
        let mut clients: i64 = 0;
        for monitor in &mut monitors {
            clients += monitor
                .query_one(
                    "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
                    &[],
                )?
                .get::<_, i64>(0);
        }
        if clients > 0 {
            last_active = Instant::now();
        } else if !idle.is_zero() && last_active.elapsed() >= idle {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("5x").unwrap_err().contains("unit"));
        assert!(parse_duration("soon").is_err());
    }
}
