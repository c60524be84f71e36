#!/usr/bin/env bash
# Builds the web dashboard (web/, Leptos CSR) with Trunk into web/dist, release mode, offline:
# trunk, wasm-bindgen (target/tools/bin, from scripts/setup-web.sh) and wasm-opt
# (node_modules/.bin, npm binaryen) come from the project's setup; nothing is downloaded.
#
#   scripts/web-build.sh [rustup|debian]   default: what scripts/setup-wasm.sh chose (target/wasm-toolchain)
#
# rustup: rustup's stable with its wasm32-unknown-unknown target (target dir target/).
# debian: Debian's rustc-web (/usr/bin/cargo and /usr/bin/rustc first on PATH) with its own target dir
#         target/web-debian, so the two compilers never invalidate each other's artifacts.
#
# Prints the size of the wasm file raw and gzip -9 and fails when the gzip size exceeds
# 660 KB (660,000 bytes). Issue 6's budget was 600 KB (546 KB then); the failure-cause
# classifier the browser runs on offline bundles, the authors and release pages and the
# coverage tables brought it to 641 KB: the budget is raised to hold that size, not more, until
# the app is split or slimmed back under 600 KB. Environment: PGFARM_WEB_MAX_GZIP=BYTES
# overrides the budget.
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"

which=${1:-$(cat target/wasm-toolchain 2>/dev/null || echo rustup)}
max_gzip=${PGFARM_WEB_MAX_GZIP:-660000}

tools=$PGFARM_ROOT/target/tools/bin
npm_bin=$PGFARM_ROOT/node_modules/.bin
[[ -x $tools/trunk ]] || die "trunk is not installed at $tools/trunk: run scripts/setup-web.sh (or scripts/setup)"
[[ -x $tools/wasm-bindgen ]] || die "wasm-bindgen is not installed at $tools/wasm-bindgen: run scripts/setup-web.sh"
[[ -x $npm_bin/wasm-opt ]] || die "wasm-opt is not installed at $npm_bin/wasm-opt: run scripts/setup (npm install)"

case $which in
  rustup)
    say "trunk build --release (rustup toolchain) into web/dist"
    env PATH="$tools:$npm_bin:$PATH" "$tools/trunk" build --release ;;
  debian)
    [[ -x /usr/bin/cargo && -x /usr/bin/rustc ]] ||
      die "Debian's rustc-web is not installed: run PGFARM_WASM_TOOLCHAIN=debian scripts/setup-wasm.sh"
    say "trunk build --release (Debian rustc-web toolchain) into web/dist"
    # /usr/bin before rustup's ~/.cargo/bin: trunk's `cargo build` is Debian's cargo, which runs
    # Debian's rustc (RUSTC makes sure no rustup proxy sneaks in).
    env PATH="$tools:$npm_bin:/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTUP_TOOLCHAIN= \
      CARGO_TARGET_DIR="$PGFARM_ROOT/target/web-debian" "$tools/trunk" build --release ;;
  *) die "usage: scripts/web-build.sh [rustup|debian]" ;;
esac

shopt -s nullglob
wasm=(web/dist/*.wasm)
(( ${#wasm[@]} == 1 )) || die "expected one .wasm file in web/dist after the build, found ${#wasm[@]}"
raw=$(stat -c %s "${wasm[0]}")
gz=$(gzip -9 -c "${wasm[0]}" | wc -c)
printf 'web/dist: %s  %d bytes raw, %d bytes gzip -9 (budget %d)\n' "${wasm[0]}" "$raw" "$gz" "$max_gzip"
(( gz <= max_gzip )) || die "the wasm download is $gz bytes gzip -9, over the budget of $max_gzip bytes"
