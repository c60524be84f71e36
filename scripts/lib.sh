# shellcheck shell=bash
# Shared helpers for the pgfarm setup and test scripts. Source it; do not run it.
set -euo pipefail

PGFARM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PGFARM_ROOT

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG...: installs the packages that are missing (never upgrades an installed one).
# Runs `apt-get update` at most once per setup run, and only when something must be installed.
apt_install() {
  local missing=() pkg name
  for pkg in "$@"; do
    name=${pkg%%=*}
    if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  (( ${#missing[@]} == 0 )) && return 0
  [[ $(id -u) == 0 ]] || die "missing Debian packages: ${missing[*]} (run this setup as root, or install them with apt-get)"
  if [[ -z ${PGFARM_APT_UPDATED:-} ]]; then
    say "apt-get update"
    apt-get update -q >/dev/null
    export PGFARM_APT_UPDATED=1
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null
}

# cargo_target_dir: where cargo puts this workspace's builds ($CARGO_TARGET_DIR or target/).
cargo_target_dir() { printf '%s\n' "${CARGO_TARGET_DIR:-$PGFARM_ROOT/target}"; }

# pg_trees_dir: the folder of the PostgreSQL trees `pgfarm pg install` makes (one per major):
# $PGFARM_PG_DIR when set, an older checkout's .pg/ when it has trees, else $PGFARM_HOME/pg.
pg_trees_dir() {
  if [[ -n ${PGFARM_PG_DIR:-} ]]; then printf '%s\n' "$PGFARM_PG_DIR"
  elif compgen -G "$PGFARM_ROOT/.pg/*/bin/pg_config" >/dev/null; then printf '%s\n' "$PGFARM_ROOT/.pg"
  else printf '%s\n' "${PGFARM_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/pgfarm}/pg"
  fi
}
