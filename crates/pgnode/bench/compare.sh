#!/usr/bin/env bash
# compare.sh: a cluster's whole life (create + start + select 1 + stop + remove), pgnode vs
# testgres 1.17.1, in the same run on the same installation and the same file system.
#
#   usage: crates/pgnode/bench/compare.sh [RUNS=20] [PARALLEL=16] [PG_BIN=<pgfarm trees>/15/bin]
#
# testgres is installed from PyPI into a venv under target/pgnode-bench/ and runs as the
# unprivileged user (initdb refuses root), with TMPDIR on the same folder pgnode uses
# (/dev/shm when writable), so both sides create files on the same file system.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
RUNS=${1:-20}
PARALLEL=${2:-16}
source "$ROOT/scripts/lib.sh"
PG_BIN=$(cd "${3:-$(pg_trees_dir)/15/bin}" && pwd)
PG_USER=${PGFARM_PG_USER:-pgfarm}
BENCH=$ROOT/target/pgnode-bench
VENV=$BENCH/venv

[[ -x $PG_BIN/pg_config ]] || { echo "compare.sh: no pg_config in $PG_BIN (run scripts/setup-pg.sh)" >&2; exit 2; }
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import testgres' 2>/dev/null; then
  mkdir -p "$BENCH"
  # Debian's python: a pyenv interpreter under /root would not be executable by $PG_USER.
  PY=/usr/bin/python3; [[ -x $PY ]] || PY=python3
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "testgres==1.17.1"
fi
chmod -R a+rX "$BENCH"

SHM=/dev/shm; [[ -d $SHM && -w $SHM ]] || SHM=${TMPDIR:-/tmp}
if [[ $(id -u) == 0 ]]; then
  id -u "$PG_USER" >/dev/null || { echo "compare.sh: user $PG_USER missing (run scripts/setup-pg.sh)" >&2; exit 2; }
  TG_TMP=$SHM/testgres-bench-$PG_USER
  mkdir -p "$TG_TMP"; chown "$PG_USER" "$TG_TMP"
  AS_USER=(runuser -u "$PG_USER" --)
else
  TG_TMP=$SHM/testgres-bench-$(id -un); mkdir -p "$TG_TMP"
  AS_USER=()
fi

echo "== $(date -u +%FT%TZ) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $("$PG_BIN/postgres" -V)"
(cd "$ROOT" && cargo build -q --release -p pgfarm-pgnode --example lifecycle)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
"$TARGET/release/examples/lifecycle" --pg-config "$PG_BIN/pg_config" --runs "$RUNS" --parallel "$PARALLEL"
(cd "$TG_TMP" && "${AS_USER[@]}" env PG_BIN="$PG_BIN" TMPDIR="$TG_TMP" HOME="$TG_TMP" \
  "$VENV/bin/python" "$ROOT/crates/pgnode/bench/testgres_lifecycle.py" "$RUNS" "$PARALLEL" 2>"$BENCH/testgres.stderr")
# testgres prints "cannot stop node" from its finalizers after cleanup(); keep that out of the report.
grep -v "^cannot stop node" "$BENCH/testgres.stderr" >&2 || true
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
