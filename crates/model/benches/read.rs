//! Criterion benches of reading and writing bundles: `Bundle::from_slice` (gzip and plain JSON)
//! against serde_json decoding the same bytes with no version probe, field paths or validation
//! (the cost of the checks), and `Bundle::to_gzip_vec`.
//!
//! Input: the `regress-fail` sample's shape scaled to about 8 MB of JSON (400 regression tests
//! with 500-line outputs). Run: `cargo bench -p pgfarm-model --bench read`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgfarm_model::{Bundle, ExpectedOutput, RawText, RegressTest, TestStatus};

/// The committed regress-fail sample with `n_tests` more regression tests of `n_lines` lines.
fn big_bundle(n_tests: usize, n_lines: usize) -> Bundle {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/bundles/regress-fail.pgfarm.json");
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("cannot read {path}: {err}"));
    let mut bundle = Bundle::from_slice(&bytes).expect("the sample reads");
    let last_group = bundle.regress.last().map_or(0, |test| test.group);
    for idx in 0..n_tests {
        let mut output = String::from(
            "SELECT id, label FROM t ORDER BY id;\n  id  |  label\n------+---------\n",
        );
        for line in 0..n_lines {
            let id = idx * 7919 + line * 104_729;
            output.push_str(&format!(
                " {id:>6} | <i>{:08x}</i>\t\"{}\"\n",
                id.wrapping_mul(2_654_435_761),
                id % 997
            ));
        }
        output.push_str(&format!("({n_lines} rows)\n\n"));
        bundle.regress.push(RegressTest {
            name: format!("bench_{idx:04}"),
            group: last_group + 1 + u32::try_from(idx / 10).expect("few groups"),
            status: TestStatus::Ok,
            duration_ms: 10,
            actual: RawText::from(output.clone()),
            expected: vec![ExpectedOutput {
                file_name: format!("bench_{idx:04}.out"),
                content: RawText::from(output),
            }],
            psql_exit_code: Some(0),
            chosen_expected: Some(format!("bench_{idx:04}.out")),
            reason: None,
        });
    }
    bundle.validate().expect("the bench bundle is valid");
    bundle
}

fn read(c: &mut Criterion) {
    let bundle = big_bundle(400, 500);
    let json = bundle.to_json_vec();
    let gz = bundle.to_gzip_vec();
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("from_slice_gzip", |b| {
        b.iter(|| Bundle::from_slice(black_box(&gz)).unwrap())
    });
    group.bench_function("from_slice_json", |b| {
        b.iter(|| Bundle::from_slice(black_box(&json)).unwrap())
    });
    group.bench_function("serde_json_from_slice_unchecked", |b| {
        b.iter(|| serde_json::from_slice::<Bundle>(black_box(&json)).unwrap())
    });
    group.bench_function("to_gzip_vec", |b| b.iter(|| black_box(&bundle).to_gzip_vec()));
    group.bench_function("to_json_vec", |b| b.iter(|| black_box(&bundle).to_json_vec()));
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
