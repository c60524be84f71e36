//! `pgfarm completions SHELL` (clap_complete) and `pgfarm man` (clap_mangen): generated from
//! the same clap definitions as the commands, so they never drift from `--help`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `pgfarm completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pgfarm completions bash > ~/.local/share/bash-completion/completions/pgfarm
  pgfarm completions zsh > ~/.zfunc/_pgfarm
  pgfarm completions fish > ~/.config/fish/completions/pgfarm.fish")]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Arguments of `pgfarm man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --out, prints pgfarm(1) on stdout (`pgfarm man | man -l -`). With --out DIR, writes
pgfarm.1 and one pgfarm-SUBCOMMAND.1 per subcommand into DIR (e.g. ~/.local/share/man/man1).")]
pub(crate) struct ManArgs {
    /// Write every page into this folder instead.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub(crate) fn completions(args: CompletionsArgs, command: &mut clap::Command) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, command, "pgfarm", &mut out);
    write_stdout("pgfarm completions", &out)
}

fn render(command: clap::Command, title: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command).title(title.to_owned()).render(&mut out)?;
    Ok(out)
}

pub(crate) fn man(args: ManArgs, command: clap::Command) -> ExitCode {
    let command = command.version(env!("CARGO_PKG_VERSION"));
    let Some(dir) = args.out else {
        return match render(command, "pgfarm") {
            Ok(page) => write_stdout("pgfarm man", &page),
            Err(err) => {
                eprintln!("pgfarm man: {err}");
                ExitCode::from(2)
            }
        };
    };
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("pgfarm man: cannot create {}: {err}", dir.display());
        return ExitCode::from(2);
    }
    let mut pages = vec![("pgfarm".to_owned(), command.clone())];
    for sub in command.get_subcommands() {
        pages.push((format!("pgfarm-{}", sub.get_name()), sub.clone()));
    }
    for (title, page) in pages {
        let path = dir.join(format!("{title}.1"));
        if let Err(err) = render(page, &title).and_then(|bytes| std::fs::write(&path, bytes)) {
            eprintln!("pgfarm man: cannot write {}: {err}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("{}", path.display());
    }
    ExitCode::SUCCESS
}

fn write_stdout(command: &str, bytes: &[u8]) -> ExitCode {
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{command}: cannot write: {err}");
            ExitCode::from(2)
        }
    }
}
