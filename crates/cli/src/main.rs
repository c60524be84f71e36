//! The `pgfarm` binary.
fn main() {}
