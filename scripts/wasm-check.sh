#!/usr/bin/env bash
# Builds the wasm-safe shared crates (model, tap-parser, diff) for wasm32-unknown-unknown.
#
#   scripts/wasm-check.sh [rustup|debian]   default: what scripts/setup-wasm.sh chose (target/wasm-toolchain)
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"
CRATES=(-p pgfarm-model -p pgfarm-tap-parser -p pgfarm-diff -p pgfarm-verdict)
which=${1:-$(cat target/wasm-toolchain 2>/dev/null || echo rustup)}
case $which in
  rustup)
    say "wasm32 build of the shared crates (rustup toolchain)"
    cargo build --locked --target wasm32-unknown-unknown "${CRATES[@]}" ;;
  debian)
    say "wasm32 build of the shared crates (Debian rustc-web toolchain)"
    # Own target dir: the two compilers would otherwise invalidate each other's artifacts.
    env PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$PGFARM_ROOT/target/wasm-debian" \
      /usr/bin/cargo build --locked --target wasm32-unknown-unknown "${CRATES[@]}" ;;
  *) die "usage: scripts/wasm-check.sh [rustup|debian]" ;;
esac
