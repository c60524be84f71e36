# Every routine command of pgfarm. `just` itself comes from npm (package.json), installed by scripts/setup:
# run it as `node_modules/.bin/just` or put node_modules/.bin on PATH.

default:
    @just --list

# Set up the machine: Debian packages, npm tools, PostgreSQL 13-18 under .pg/, a wasm32 toolchain.
setup:
    scripts/setup

# Everything CI runs (the README's test command).
ci:
    scripts/test

# Format all Rust code.
fmt:
    cargo fmt --all

# Check formatting.
fmt-check:
    cargo fmt --all --check

# Clippy over every target, warnings are errors.
lint:
    cargo clippy --all-targets -- -D warnings

# The test suite (needs `just setup` once for PostgreSQL).
test:
    cargo test

# Build the wasm-safe shared crates (model, tap-parser, diff, verdict) and the outside crate that
# embeds tap-parser (examples/embed-tap-parser) for wasm32-unknown-unknown.
wasm toolchain="":
    scripts/wasm-check.sh {{toolchain}}

# The libraries others embed are publishable as they are: tap-parser, diff, pgnode and model
# package and build from their packaged sources with every feature (a dry run: nothing is
# uploaded), and an outside crate that depends on tap-parser by version (resolved to
# crates/tap-parser by its [patch]) is formatted, lint-clean and passes its tests.
publish-check:
    cargo publish --dry-run --allow-dirty --locked --all-features -p pgfarm-tap-parser -p pgfarm-diff -p pgfarm-pgnode -p pgfarm-model
    cargo fmt --manifest-path examples/embed-tap-parser/Cargo.toml --check
    cargo clippy --locked --manifest-path examples/embed-tap-parser/Cargo.toml --target-dir target/embed-tap-parser --all-targets -- -D warnings
    cargo test --locked --manifest-path examples/embed-tap-parser/Cargo.toml --target-dir target/embed-tap-parser

# Build the web dashboard into web/dist (trunk release build; fails over the wasm size budget).
web toolchain="":
    scripts/web-build.sh {{toolchain}}

# Browser tests (seeded server, headless chromium); args go to node --test: `just e2e web/e2e/viewer.test.mjs`.
e2e *args: web
    cargo build -q -p pgfarm-cli -p pgfarm-server
    web/e2e/run.sh {{args}}

# API docs, warnings are errors.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --no-deps

# Rewrite expected-output files (JSON Schema, snapshots) from the code.
bless:
    UPDATE_EXPECT=1 cargo test

# Benchmarks side by side with the peer tools (figures go to each crate's README).
bench-tap:
    crates/tap-parser/bench/compare.sh

bench-diff:
    crates/diff/bench/compare.sh

bench-pgnode:
    crates/pgnode/bench/compare.sh

# Offline viewer render time: 20,000 TAP points + a 10,000-line diff, median of 5 (< 300 ms).
bench-web: web
    cargo build -q -p pgfarm-cli
    node web/e2e/bench.mjs

# List the PostgreSQL installations pgfarm finds.
pg-list:
    cargo run -q -p pgfarm-cli -- pg list
