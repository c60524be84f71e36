#!/usr/bin/env bash
# Installs a wasm32-unknown-unknown toolchain, idempotently.
#
#   scripts/setup-wasm.sh            try rustup's target, fall back to Debian's rustc-web (offline, apt only)
#   PGFARM_WASM_TOOLCHAIN=debian     skip rustup and set up Debian's toolchain (CI runs this path too)
#
# Writes the choice to target/wasm-toolchain (one word: rustup or debian) for scripts/wasm-check.sh.
# Why two ways: rustup's download server is not a registry these machines are promised to reach;
# Debian's rustc-web comes from apt, and we build its wasm32 std once into its sysroot
# (see ../shared/TOOLCHAIN.md section 1).
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"
mkdir -p target

# Debian's rust-web packages, pinned to one upstream release (security rebuilds of it are accepted).
DEBIAN_RUST=1.96.0
DEBIAN_PKGS=(rustc-web="$DEBIAN_RUST*" cargo-web="$DEBIAN_RUST*" rust-web-src="$DEBIAN_RUST*"
             rust-web-llvm="$DEBIAN_RUST*" rust-web-clippy="$DEBIAN_RUST*" lld-22)

want=${PGFARM_WASM_TOOLCHAIN:-auto}
case $want in auto|rustup|debian) ;; *) die "PGFARM_WASM_TOOLCHAIN must be auto, rustup or debian (got '$want')";; esac

rustup_ok() {
  command -v rustup >/dev/null || return 1
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  say "rustup target add wasm32-unknown-unknown"
  timeout 180 rustup target add wasm32-unknown-unknown >&2
}

debian_setup() {
  apt_install "${DEBIAN_PKGS[@]}"
  [[ -x /usr/bin/rustc ]] || die "Debian rustc-web did not install /usr/bin/rustc"
  local sysroot=/usr/lib/rustlib/wasm32-unknown-unknown/lib
  local stamp=$sysroot/.pgfarm-std-stamp
  local hash
  hash=$(/usr/bin/rustc -vV | sha256sum | cut -c1-16)
  if [[ -f $stamp && $(cat "$stamp") == "$hash" ]]; then
    return 0
  fi
  say "building a wasm32 std for Debian's rustc $(/usr/bin/rustc -V | awk '{print $2}') (about a minute, once)"
  local dir=$PGFARM_ROOT/target/wasm-std-build
  rm -rf "$dir"; mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<'TOML'
[package]
name = "pgfarm_wasm_std_seed"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[workspace]
TOML
  echo '#![no_std]' >"$dir/src/lib.rs"
  (cd "$dir" && env PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$dir/target" \
     RUSTFLAGS="-Cembed-bitcode=yes -Zforce-unstable-if-unmarked" \
     /usr/bin/cargo build -q --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort,test) \
     || die "building the wasm32 std with Debian's cargo failed (see above)"
  mkdir -p "$sysroot"
  find "$dir/target/wasm32-unknown-unknown/release/deps" -maxdepth 1 \( -name 'lib*.rlib' -o -name 'lib*.rmeta' \) \
    ! -name 'libpgfarm_wasm_std_seed*' -exec cp {} "$sysroot/" \;
  echo "$hash" >"$stamp"
  rm -rf "$dir"
}

chosen=
if [[ $want != debian ]] && rustup_ok; then
  chosen=rustup
else
  [[ $want == rustup ]] && die "rustup could not add the wasm32-unknown-unknown target (unset PGFARM_WASM_TOOLCHAIN to fall back to Debian's)"
  [[ $want == auto ]] && say "rustup's wasm32 target is not available: falling back to Debian's rustc-web"
  debian_setup
  chosen=debian
fi
echo "$chosen" >target/wasm-toolchain
say "wasm32 toolchain: $chosen"
