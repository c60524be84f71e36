#!/usr/bin/env bash
# Builds the wasm-safe shared crates (model, tap-parser, diff, verdict) for wasm32-unknown-unknown,
# and examples/embed-tap-parser, the outside crate that depends on tap-parser by version (its own
# Cargo.lock; the design card's "other tools embedding tap-parser").
#
#   scripts/wasm-check.sh [rustup|debian]   default: what scripts/setup-wasm.sh chose (target/wasm-toolchain)
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"
CRATES=(-p pgfarm-model -p pgfarm-tap-parser -p pgfarm-diff -p pgfarm-verdict -p pgfarm-causes)
EMBED=(--manifest-path examples/embed-tap-parser/Cargo.toml)
which=${1:-$(cat target/wasm-toolchain 2>/dev/null || echo rustup)}
case $which in
  rustup)
    say "wasm32 build of the shared crates (rustup toolchain)"
    cargo build --locked --target wasm32-unknown-unknown "${CRATES[@]}"
    say "wasm32 build of examples/embed-tap-parser (rustup toolchain)"
    cargo build --locked --target wasm32-unknown-unknown "${EMBED[@]}" --target-dir target/embed-tap-parser ;;
  debian)
    say "wasm32 build of the shared crates (Debian rustc-web toolchain)"
    # Own target dir: the two compilers would otherwise invalidate each other's artifacts.
    env PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$PGFARM_ROOT/target/wasm-debian" \
      /usr/bin/cargo build --locked --target wasm32-unknown-unknown "${CRATES[@]}"
    say "wasm32 build of examples/embed-tap-parser (Debian rustc-web toolchain)"
    env PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$PGFARM_ROOT/target/wasm-debian-embed" \
      /usr/bin/cargo build --locked --target wasm32-unknown-unknown "${EMBED[@]}" ;;
  *) die "usage: scripts/wasm-check.sh [rustup|debian]" ;;
esac
