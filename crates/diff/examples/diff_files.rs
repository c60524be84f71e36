//! A minimal `diff -U3` on two files with pgfarm-diff, used by `bench/compare.sh` to time the
//! library against GNU diff in the same run: `diff_files [-w|--strip-trailing-cr] [-U N] A B`.
//! Exit status 0 same, 1 different, 2 trouble, like diff.

use std::io::Write;
use std::process::ExitCode;

use pgfarm_diff::{Labels, Options, Whitespace, diff_bytes};

fn main() -> ExitCode {
    let mut whitespace = Whitespace::Exact;
    let mut context = 3;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-w" => whitespace = Whitespace::IgnoreAll,
            "--strip-trailing-cr" => whitespace = Whitespace::StripTrailingCr,
            "-U" => match args.next().and_then(|value| value.parse().ok()) {
                Some(value) => context = value,
                None => {
                    eprintln!("diff_files: -U needs a number");
                    return ExitCode::from(2);
                }
            },
            _ => files.push(arg),
        }
    }
    let [expected_path, actual_path] = files.as_slice() else {
        eprintln!("usage: diff_files [-w|--strip-trailing-cr] [-U N] EXPECTED ACTUAL");
        return ExitCode::from(2);
    };
    let read =
        |path: &str| std::fs::read(path).map_err(|err| eprintln!("diff_files: {path}: {err}"));
    let (Ok(expected), Ok(actual)) = (read(expected_path), read(actual_path)) else {
        return ExitCode::from(2);
    };
    let diff = diff_bytes(&expected, &actual, &Options::new().whitespace(whitespace));
    let mut out = String::new();
    let labels = Labels { expected: expected_path, actual: actual_path };
    if diff.write_unified(&mut out, &labels, context).is_err()
        || std::io::stdout().lock().write_all(out.as_bytes()).is_err()
    {
        return ExitCode::from(2);
    }
    if diff.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
