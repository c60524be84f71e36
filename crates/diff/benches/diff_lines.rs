//! Criterion benchmarks of `diff_lines` + unified rendering on generated psql-like outputs that
//! differ in 1% of their lines (the same shape as `bench/compare.sh`, smaller so `cargo bench`
//! stays quick). Run: `cargo bench -p pgfarm-diff`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pgfarm_diff::{Labels, Options, Whitespace, diff_lines};

/// Two outputs of `n_lines` lines; 1% of the lines differ, and every 37th line of the actual
/// output has a trailing blank (a difference only in exact mode).
fn outputs(n_lines: u64) -> (String, String) {
    let mut expected = String::new();
    let mut actual = String::new();
    for i in 0..n_lines {
        let line = format!(
            " {i:>8} | value {:>7} | {}.{:02}",
            i * 2_654_435_761 % 1_000_003,
            i % 97,
            i % 13
        );
        expected.push_str(&line);
        expected.push('\n');
        let h = (i * 2_654_435_761) % 4_294_967_296;
        if h % 100 == 0 {
            actual.push_str(&line.replace("value", "VALUE"));
        } else if h % 37 == 1 {
            actual.push_str(&line);
            actual.push(' ');
        } else {
            actual.push_str(&line);
        }
        actual.push('\n');
    }
    (expected, actual)
}

fn bench_diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff_lines+write_unified");
    group.sample_size(10);
    for n_lines in [10_000u64, 100_000] {
        let (expected, actual) = outputs(n_lines);
        group.throughput(Throughput::Elements(n_lines));
        for whitespace in [Whitespace::Exact, Whitespace::IgnoreAll] {
            let options = Options::new().whitespace(whitespace);
            group.bench_with_input(
                BenchmarkId::new(whitespace.name(), n_lines),
                &n_lines,
                |b, _| {
                    b.iter(|| {
                        let diff = diff_lines(&expected, &actual, &options);
                        let mut out = String::new();
                        diff.write_unified(
                            &mut out,
                            &Labels { expected: "expected", actual: "actual" },
                            3,
                        )
                        .unwrap();
                        out.len()
                    });
                },
            );
        }
    }
    group.finish();

    // pg_regress's common case: equal files (one comparison per passing test).
    let (expected, _) = outputs(100_000);
    c.bench_function("diff_lines equal 100000", |b| {
        b.iter(|| diff_lines(&expected, &expected, &Options::default()).is_empty());
    });
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
