//! Measures parse throughput in CPU time (Linux): reads FILE into memory, then parses it
//! REPEAT times with the pull parser and with the push front end (64 KiB chunks), each
//! folded into a `Summary`, and prints MB/s of on-CPU time of this thread
//! (`/proc/thread-self/schedstat`, so other load on the machine does not count).

use std::process::ExitCode;

use pgfarm_tap_parser::{Parser, PushParser, Summarizer, summarize};

/// Nanoseconds this thread has spent on a CPU.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn measure(name: &str, bytes: usize, repeat: u32, mut run: impl FnMut() -> u64) {
    let mut best = u64::MAX;
    let mut check = 0;
    for _ in 0..repeat {
        let (Some(start), c, Some(end)) = (cpu_ns(), run(), cpu_ns()) else {
            println!("{name}: /proc/thread-self/schedstat unavailable");
            return;
        };
        check = c;
        best = best.min(end - start);
    }
    let mb_s = bytes as f64 / (best as f64 / 1e9) / 1e6;
    println!(
        "{name}: best of {repeat}: {:.1} ms CPU, {mb_s:.0} MB/s (count={check})",
        best as f64 / 1e6
    );
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: tap_throughput FILE [REPEAT]");
        return ExitCode::from(2);
    };
    let repeat: u32 = args.next().and_then(|r| r.to_str()?.parse().ok()).unwrap_or(10);
    let input = match std::fs::read(&path) {
        Ok(input) => input,
        Err(err) => {
            eprintln!("tap_throughput: cannot read {}: {err}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    measure("pull events only", input.len(), repeat, || Parser::from_bytes(&input).count() as u64);
    measure("pull+summary", input.len(), repeat, || summarize(Parser::from_bytes(&input)).count);
    measure("push+summary", input.len(), repeat, || {
        let mut parser = PushParser::new();
        let mut summarizer = Summarizer::new();
        for chunk in input.chunks(64 * 1024) {
            parser.push(chunk, |event, _| summarizer.event(&event));
        }
        parser.finish(|event, _| summarizer.event(&event));
        summarizer.finish().count
    });
    ExitCode::SUCCESS
}
