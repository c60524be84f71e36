# Every routine command of pgfarm. `just` itself comes from npm (package.json), installed by scripts/setup:
# run it as `node_modules/.bin/just` or put node_modules/.bin on PATH.

default:
    @just --list

# Set up the machine: Debian packages, npm tools, PostgreSQL 13-18 under .pg/, a wasm32 toolchain.
setup:
    scripts/setup

# Everything CI runs, in order (`scripts/test` is `scripts/setup` then this).
ci: fmt-check lint web test tidy wasm-both publish-check e2e doc shellcheck

# The repository's tidy checks alone (they also run under `cargo test`).
tidy:
    cargo test -q -p pgfarm-cli --test integration tidy::
    cargo test -q -p pgfarm-server --test tidy

# The wasm build with both toolchains, so the offline fallback stays tested.
wasm-both:
    PGFARM_WASM_TOOLCHAIN=debian scripts/setup-wasm.sh
    scripts/wasm-check.sh debian
    scripts/setup-wasm.sh
    scripts/wasm-check.sh

# Lint the shell scripts.
shellcheck:
    shellcheck -x -S warning scripts/dev scripts/setup scripts/test scripts/lib.sh scripts/web-build.sh scripts/wasm-check.sh scripts/setup-wasm.sh scripts/setup-web.sh web/e2e/run.sh

# Format all Rust code.
fmt:
    cargo fmt --all

# Check formatting.
fmt-check:
    cargo fmt --all --check

# Clippy over every target, warnings are errors (clippy.toml bans spawning outside pgnode).
lint:
    cargo clippy --locked --all-targets -- -D warnings

# The test suite (needs `just setup` once for PostgreSQL). A test without PostgreSQL or
# ../shared/corpus fails here (PGFARM_TEST_REQUIRE_*=1); plain `cargo test` skips it by name
# and `target/pgfarm-skipped-tests.txt` lists the skips. A fixed proptest seed keeps CI
# reproducible (override with PROPTEST_RNG_SEED=).
test:
    rm -f target/pgfarm-skipped-tests.txt
    PGFARM_TEST_REQUIRE_PG=1 PGFARM_TEST_REQUIRE_CORPUS=1 PROPTEST_RNG_SEED=${PROPTEST_RNG_SEED:-20261122} cargo test --locked

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
    cargo build --locked -q -p pgfarm-cli -p pgfarm-server
    web/e2e/run.sh {{args}}

# API docs, warnings are errors.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --quiet

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
