//! `pgfarm pg`: the PostgreSQL installations pgfarm finds on this machine.

use std::io::Write as _;
use std::process::ExitCode;

use pgfarm_pgnode::Installation;

/// Arguments of `pgfarm pg`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: PgCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PgCommand {
    /// List installations found in $PGFARM_PG_DIR, .pg/ (here or in a parent folder), PATH and
    /// /usr/lib/postgresql/*, each tree once.
    List {
        /// Print a JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// One row of `pgfarm pg list --json`.
#[derive(Debug, serde::Serialize)]
struct Row<'a> {
    major: u32,
    version: &'a str,
    pg_config_version: &'a str,
    bindir: &'a std::path::Path,
    pg_config: &'a std::path::Path,
    sharedir: &'a std::path::Path,
    pkglibdir: &'a std::path::Path,
    includedir_server: &'a std::path::Path,
    pgxs: &'a std::path::Path,
    pg_regress: std::path::PathBuf,
    headers: bool,
    has_pgxs: bool,
    pgtap: bool,
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn render_table(installations: &[Installation]) -> String {
    let header = ["MAJOR", "VERSION", "BINDIR", "HEADERS", "PGXS", "PGTAP"];
    let rows: Vec<[String; 6]> = installations
        .iter()
        .map(|i| {
            [
                i.major().to_string(),
                i.version.full.clone(),
                i.bindir.display().to_string(),
                yes_no(i.has_headers()).to_owned(),
                yes_no(i.has_pgxs()).to_owned(),
                yes_no(i.has_pgtap()).to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (idx, cell) in cells.iter().enumerate() {
            if idx + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[idx]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// Runs `pgfarm pg`.
pub(crate) fn run(args: Args) -> ExitCode {
    match args.command {
        PgCommand::List { json } => {
            let installations = Installation::discover();
            let text = if json {
                let rows: Vec<Row<'_>> = installations
                    .iter()
                    .map(|i| Row {
                        major: i.major(),
                        version: &i.version.full,
                        pg_config_version: &i.pg_config_version.full,
                        bindir: &i.bindir,
                        pg_config: &i.pg_config,
                        sharedir: &i.sharedir,
                        pkglibdir: &i.pkglibdir,
                        includedir_server: &i.includedir_server,
                        pgxs: &i.pgxs,
                        pg_regress: i.pg_regress(),
                        headers: i.has_headers(),
                        has_pgxs: i.has_pgxs(),
                        pgtap: i.has_pgtap(),
                    })
                    .collect();
                match serde_json::to_string_pretty(&rows) {
                    Ok(text) => text + "\n",
                    Err(err) => {
                        eprintln!("pgfarm pg list: error: {err}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                if installations.is_empty() {
                    eprintln!(
                        "pgfarm pg list: no PostgreSQL installation found (looked in $PGFARM_PG_DIR, .pg/, PATH, /usr/lib/postgresql); run scripts/setup-pg.sh"
                    );
                }
                render_table(&installations)
            };
            match std::io::stdout().write_all(text.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("pgfarm pg list: error: cannot write: {err}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
