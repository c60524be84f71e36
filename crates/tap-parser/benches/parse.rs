//! Criterion benchmark: the pull parser and the push front end, each folded into a `Summary`
//! (full semantics: escapes, ids, plan checks), over a stream shaped like
//! `corpus/tap/bench/gen_big_tap.py` (a Rust port, so the bench needs no Python).
//!
//! `cargo bench -p pgfarm-tap-parser` uses 100,000 test points (5.7 MB);
//! `PGFARM_TAP_BENCH_POINTS=1000000` gives the 57 MB stream of the README figures.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgfarm_tap_parser::{Options, Parser, PushParser, Summarizer, summarize};

/// Same output as `gen_big_tap.py N` (byte for byte; checked by sha256 in bench/compare.sh).
fn big_tap(total: u64) -> String {
    let mut w = String::with_capacity((total * 58) as usize);
    w.push_str("TAP version 14\n");
    let (mut emitted, mut top, mut i) = (0u64, 0u64, 0u64);
    while emitted < total {
        i += 1;
        let remaining = total - emitted;
        if i % 1000 == 0 && remaining >= 27 {
            let k = i / 1000;
            let _ = writeln!(w, "# Subtest: group {k}");
            for j in 1..=20 {
                if j == 7 {
                    let _ = writeln!(w, "    not ok {j} - subtest check {j} of group {k}");
                    w.push_str("      ---\n");
                    let _ = writeln!(w, "      message: 'values differ in group {k}'");
                    w.push_str("      severity: fail\n      found: 41\n      wanted: 42\n");
                    w.push_str(
                        "      at: { file: test/group.js, line: 17, column: 5 }\n      ...\n",
                    );
                } else {
                    let _ = writeln!(w, "    ok {j} - subtest check {j} of group {k}");
                }
            }
            let _ = writeln!(w, "    # Subtest: inner {k}");
            for j in 1..=5 {
                let _ = writeln!(w, "        ok {j} - inner check {j}");
            }
            w.push_str("        1..5\n");
            let _ = writeln!(w, "    ok 21 - inner {k}");
            w.push_str("    1..21\n");
            top += 1;
            let _ = writeln!(w, "not ok {top} - group {k}");
            emitted += 27;
            continue;
        }
        top += 1;
        emitted += 1;
        if i % 200 == 0 {
            let _ = writeln!(w, "# progress marker {i}: about to run test {top}");
        }
        if i % 100 == 0 {
            let _ = writeln!(w, "not ok {top} - comparison number {top} should match");
            w.push_str("  ---\n");
            let _ = writeln!(w, "  message: 'expected values to be strictly equal (case {top})'");
            w.push_str("  severity: fail\n");
            let _ = writeln!(w, "  found: {}", top * 3);
            let _ = writeln!(w, "  wanted: {}", top * 3 + 1);
            w.push_str("  at: { file: test/compare.js, line: 42, column: 7 }\n  ...\n");
        } else if i % 70 == 0 {
            let _ = writeln!(
                w,
                "not ok {top} - feature {top} not implemented # TODO implement feature {top}"
            );
        } else if i % 50 == 0 {
            let _ = writeln!(
                w,
                "ok {top} - optional check {top} # SKIP dependency missing on this platform"
            );
        } else {
            let _ = writeln!(w, "ok {top} - description of test {top} with some words");
        }
    }
    let _ = writeln!(w, "1..{top}");
    w
}

fn bench(c: &mut Criterion) {
    let points = std::env::var("PGFARM_TAP_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let input = big_tap(points);
    let mut group = c.benchmark_group("summarize");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);
    group.bench_function("pull", |b| {
        b.iter(|| black_box(summarize(Parser::with_options(black_box(&input), Options::default()))))
    });
    group.bench_function("push_64k_chunks", |b| {
        b.iter(|| {
            let mut parser = PushParser::new();
            let mut summarizer = Summarizer::new();
            for chunk in black_box(input.as_bytes()).chunks(64 * 1024) {
                parser.push(chunk, |event, _| summarizer.event(&event));
            }
            parser.finish(|event, _| summarizer.event(&event));
            black_box(summarizer.finish())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
