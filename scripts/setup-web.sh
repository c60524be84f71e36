#!/usr/bin/env bash
# Installs what building and testing the web dashboard needs, idempotently (scripts/setup calls it):
#   - Debian's chromium and chromium-driver (headless browser tests; never upgraded once installed);
#   - trunk 0.21.14 and wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock,
#     built from crates.io into target/tools/bin (skipped when the installed versions match).
# wasm-opt comes from npm (binaryen in package.json, installed by scripts/setup) and the wasm32
# toolchain from scripts/setup-wasm.sh. Works the same under PGFARM_WASM_TOOLCHAIN=debian: the tools
# are host programs, built with the host's cargo. A second run takes well under a second.
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"

TRUNK_VERSION=0.21.14
TOOLS=$PGFARM_ROOT/target/tools

say "chromium (headless browser tests)"
apt_install chromium chromium-driver
# Debian's /usr/bin/chromium wrapper prints a harmless shell warning on some machines: keep only the version.
/usr/bin/chromium --version 2>/dev/null | head -n1 >&2

# The wasm-bindgen CLI must be the exact version of the wasm-bindgen crate the app links.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[[ -n $WBG_VERSION ]] || die "Cargo.lock has no wasm-bindgen package: cannot choose a wasm-bindgen-cli version"

# Tools build faster without LTO (282 s instead of 1,160 s for trunk; the binaries are as good for us).
install_tool() { # CRATE VERSION [--locked]
  say "cargo install $1 $2 into target/tools (a few minutes, once)"
  env CARGO_TARGET_DIR="$PGFARM_ROOT/target/tools-build" CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$1" --version "$2" ${3:+"$3"} --root "$TOOLS" \
    >&2 || die "cargo install $1 $2 failed (see above)"
}

have=$("$TOOLS/bin/trunk" --version 2>/dev/null || true)
if [[ $have != "trunk $TRUNK_VERSION" ]]; then
  install_tool trunk "$TRUNK_VERSION" --locked
fi
have=$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null || true)
if [[ $have != "wasm-bindgen $WBG_VERSION" ]]; then
  # Without --locked: wasm-bindgen-cli's own lock pins a crate version the registry here does not serve.
  install_tool wasm-bindgen-cli "$WBG_VERSION" --force
fi
say "web tools: $("$TOOLS/bin/trunk" --version), $("$TOOLS/bin/wasm-bindgen" --version), $(node_modules/.bin/wasm-opt --version 2>/dev/null || echo 'wasm-opt missing: run scripts/setup')"
