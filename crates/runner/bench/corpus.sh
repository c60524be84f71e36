#!/usr/bin/env bash
# Side by side, in one run: `pgfarm test` on one major against the reference flow an author
# runs by hand, per corpus extension (../shared/corpus/extensions, copied first):
#
#   reference: cp -a the source; make USE_PGXS=1 PG_CONFIG=..; make install; initdb -A trust
#              (environment locale); pg_ctl start; make installcheck PGHOST/PGPORT/PGUSER; pg_ctl stop
#   pgfarm:    cp -a the source; pgfarm test --plain --pg MAJOR (every stage, upgrade included)
#
# Rounds are interleaved (reference, pgfarm, reference, ...) and the medians compared; the
# target is pgfarm <= 0.7x the reference per (extension, major), while running at least the
# same tests. Both sides install into the same tree, so they never run at once.
#
#   usage: crates/runner/bench/corpus.sh [MAJOR] [ROUNDS] [EXTENSION...]
#          (default: 16, 3 rounds, every corpus extension with a pg_regress suite)
#          PGFARM=target/release/pgfarm crates/runner/bench/corpus.sh   (use that binary)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CORPUS=${PGFARM_CORPUS:-$ROOT/../shared/corpus}/extensions
MAJOR=${1:-16}
ROUNDS=${2:-3}
shift 2 2>/dev/null || shift $#
EXTENSIONS=${*:-kv-pair pg-semver hypopg temporal_tables acl pg_cron pg_wait_sampling pg_ivm rum pgtap pg_roaringbitmap pgvector}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${PGFARM:-}" ]; then
  cargo build -q --release -p pgfarm-cli
  PGFARM=$CARGO_TARGET_DIR/release/pgfarm
fi
[ -d "$CORPUS" ] || { echo "corpus not found at $CORPUS (set PGFARM_CORPUS)" >&2; exit 3; }
PGFARM=$(realpath "$PGFARM")
PG_CONFIG=$("$PGFARM" pg list --json | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin) if r['major'] == $MAJOR and r['has_pgxs']]
print(rows[0]['pg_config'] if rows else '')")
[ -n "$PG_CONFIG" ] || { echo "no PostgreSQL $MAJOR with PGXS (pgfarm pg list)" >&2; exit 3; }
BIN=$("$PG_CONFIG" --bindir)
PG_USER=${PGFARM_PG_USER:-pgfarm}
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(runuser -u "$PG_USER" --)
WORK=$(mktemp -d /tmp/pgfarm-corpus-bench.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown "$PG_USER" "$WORK"
trap 'rm -rf "$WORK"' EXIT
PORT=55321

now() { python3 -c 'import time; print(time.monotonic())'; }

reference() { # EXT -> seconds on stdout, tests on fd 3
  local ext=$1 dir=$WORK/ref/$1 data=$WORK/ref-data sock=$WORK/sock
  rm -rf "$WORK/ref" "$data" "$sock"; mkdir -p "$WORK/ref" "$sock"
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$WORK/ref" "$sock"
  local t0; t0=$(now)
  cp -a "$CORPUS/$ext" "$dir"
  chmod -R u+w "$dir"   # the corpus is read-only; make installcheck writes results/ there
  (cd "$dir" && make -s USE_PGXS=1 PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 && make -s USE_PGXS=1 PG_CONFIG="$PG_CONFIG" install >/dev/null 2>&1)
  [ "$(id -u)" = 0 ] && chown -R "$PG_USER" "$WORK/ref" "$sock"
  "${RUN_AS[@]}" "$BIN/initdb" -U postgres -A trust -D "$data" >/dev/null 2>&1 \
    || { echo "initdb failed for $data" >&2; exit 1; }
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$data" -w -l "$WORK/ref.log" -o "-k $sock -p $PORT -c listen_addresses=''" start >/dev/null
  local out
  # As the server's user: a suite with --temp-instance (pg_cron) runs initdb itself.
  out=$(cd "$dir" && "${RUN_AS[@]}" make USE_PGXS=1 PG_CONFIG="$PG_CONFIG" PGHOST="$sock" PGPORT=$PORT PGUSER=postgres installcheck 2>&1 || true)
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$data" -m fast stop >/dev/null
  local t1; t1=$(now)
  local n; n=$(grep -cE '^(ok|not ok) [0-9]+|^test .* \.\.\. |^ +[a-z_0-9-]+ +\.\.\. ' <<<"$out" || true)
  echo "$n" >&3
  python3 -c "print($t1 - $t0)"
}

pgfarm_run() { # EXT -> seconds on stdout, tests on fd 3
  local ext=$1 dir=$WORK/farm/$1
  rm -rf "$WORK/farm"; mkdir -p "$WORK/farm"
  local t0; t0=$(now)
  cp -a "$CORPUS/$ext" "$dir"
  chmod -R u+w "$dir"
  (cd "$dir" && "$PGFARM" test --plain --pg "$MAJOR" >/dev/null 2>&1 || true)
  local t1; t1=$(now)
  python3 - "$dir/pgfarm-results" >&3 <<'PY'
import gzip, json, os, sys
d = sys.argv[1]
n = 0
for f in os.listdir(d) if os.path.isdir(d) else []:
    if f.endswith('.pgfarm.json.gz'):
        b = json.load(gzip.open(os.path.join(d, f)))
        n += len(b['regress']) + len(b.get('isolation', []))
print(n)
PY
  python3 -c "print($t1 - $t0)"
}

median() { python3 -c "import statistics, sys; print('%.2f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

printf '%-18s %9s %9s %7s %9s %9s\n' extension reference pgfarm ratio ref-tests farm-tests
for ext in $EXTENSIONS; do
  [ -d "$CORPUS/$ext" ] || continue
  ref=(); farm=()
  for _ in $(seq "$ROUNDS"); do
    ref+=("$(reference "$ext" 3>"$WORK/ref-n")")
    farm+=("$(pgfarm_run "$ext" 3>"$WORK/farm-n")")
  done
  r=$(median "${ref[@]}"); f=$(median "${farm[@]}")
  printf '%-18s %8ss %8ss %7s %9s %9s\n' "$ext" "$r" "$f" "$(python3 -c "print('%.2f' % ($f / $r))")" \
    "$(cat "$WORK/ref-n")" "$(cat "$WORK/farm-n")"
done
