//! Streams a TAP file through the push front end in 256 KiB chunks and prints its summary
//! (used to measure peak RSS: `/usr/bin/time -v target/release/examples/tap_summary big.tap`).

use std::io::Read;
use std::process::ExitCode;

use pgfarm_tap_parser::{Options, PushParser, Summarizer};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: tap_summary FILE [--pgtap]");
        return ExitCode::from(2);
    };
    let pgtap = args.next().is_some_and(|a| a == "--pgtap");
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(err) => {
            eprintln!("tap_summary: cannot open {}: {err}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let options = if pgtap { Options::pgtap() } else { Options::default() };
    let mut parser = PushParser::with_options(options);
    let mut summarizer = Summarizer::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => parser.push(&buf[..n], |event, _| summarizer.event(&event)),
            Err(err) => {
                eprintln!("tap_summary: cannot read {}: {err}", path.to_string_lossy());
                return ExitCode::from(2);
            }
        }
    }
    parser.finish(|event, _| summarizer.event(&event));
    let s = summarizer.finish();
    println!(
        "ok={} count={} pass={} fail={} todo={} skip={} bailout={:?} plan={:?} errors={}",
        s.ok,
        s.count,
        s.pass,
        s.fail,
        s.todo,
        s.skip,
        s.bailout,
        s.plan.as_ref().map(|p| (p.start, p.end)),
        s.errors.len()
    );
    for error in &s.errors {
        println!("error: {error}");
    }
    if s.ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
