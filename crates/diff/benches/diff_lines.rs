//! Criterion benchmarks of `diff_lines` on generated regression-like outputs.
fn main() {}
