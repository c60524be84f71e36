#!/usr/bin/env bash
# Side-by-side benchmarks of pgfarm's runner against the tools it replaces, in one run:
#   1. pgfarm regress vs pg_regress (PostgreSQL 15) on the core suite and on pgTAP's suite,
#      --use-existing against a running server, and with a temporary instance;
#   2. pgfarm prove -j 4 vs pg_prove -j 4 on pgTAP's own test files;
#   3. pgfarm test over all installed majors vs the slowest single major.
# Prints one line per measurement: "name  pgfarm_s  peer_s  ratio".
#
#   usage: crates/runner/bench/compare.sh [quick]     (quick: skip the core suite)
#          PGFARM=target/release/pgfarm crates/runner/bench/compare.sh   (use that binary)
#   needs: Debian postgresql-15 + postgresql-server-dev-15 + postgresql-15-pgtap, pg_prove,
#          the corpus in ../shared/corpus, a release build (built here), .pg/ trees for (3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CORPUS=${PGFARM_CORPUS:-$ROOT/../shared/corpus}
BIN=/usr/lib/postgresql/15/bin
PGR=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress
QUICK=${1:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# PGFARM=/path/to/pgfarm skips the build (e.g. to measure a given binary).
if [ -z "${PGFARM:-}" ]; then
  cargo build -q --release -p pgfarm-cli
  PGFARM=$CARGO_TARGET_DIR/release/pgfarm
fi

WORK=$(mktemp -d /tmp/pgfarm-bench.XXXXXX)
chmod 755 "$WORK"
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u "${PGFARM_PG_USER:-pgfarm}" --); chown "${PGFARM_PG_USER:-pgfarm}" "$WORK"; fi
PORT=54987
cleanup() { "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
"${RUN_AS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust --no-sync >/dev/null
"${RUN_AS[@]}" mkdir -p "$WORK/sock"
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-k $WORK/sock -c listen_addresses= -p $PORT -c fsync=off -c max_connections=120 -c max_prepared_transactions=2" start >/dev/null
export PGHOST=$WORK/sock PGPORT=$PORT PGUSER=postgres

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
report() { python3 -c "print(f'{\"$1\":<44} pgfarm {$2:7.2f}s  peer {$3:7.2f}s  ratio {$2/$3:5.2f}')"; }
# measure cmd...: runs cmd, prints its wall seconds (exit status ignored: suites may fail).
measure() { local t0; t0=$(now); "$@" >/dev/null 2>&1 || true; secs "$t0" "$(now)"; }

# --- 1a. pgTAP's pg_regress suite (parallel schedule), --use-existing and temp instance ---
cp -r "$CORPUS/regress/pgtap-1.2.0" "$WORK/pgtap"; mkdir -p "$WORK/pgtap/sql"
cp /usr/share/postgresql/15/extension/pgtap--1.2.0.sql "$WORK/pgtap/sql/pgtap.sql"
chmod -R a+rX "$WORK/pgtap"
cd "$WORK/pgtap"
SCHED=(--schedule test/schedule/main.sch --schedule test/build/parallel.sch)
psql -Xq -c "CREATE DATABASE regression" postgres
P=$(measure "$PGR" --inputdir=test --bindir=$BIN --outputdir="$WORK/o1" --max-connections=88 --use-existing "${SCHED[@]}")
F=$(measure "$PGFARM" regress --inputdir=test --bindir=$BIN --outputdir="$WORK/o2" --max-connections=88 --use-existing "${SCHED[@]}")
report "regress pgtap suite --use-existing" "$F" "$P"
# pg_regress's initdb refuses root: its temp instance runs as the unprivileged user.
P=$(measure "${RUN_AS[@]}" "$PGR" --inputdir=test --bindir=$BIN --outputdir="$WORK/o3" --max-connections=88 --temp-instance="$WORK/tmp1" "${SCHED[@]}")
F=$(measure "$PGFARM" regress --inputdir=test --bindir=$BIN --outputdir="$WORK/o4" --max-connections=88 --temp-instance="$WORK/tmp2" "${SCHED[@]}")
report "regress pgtap suite --temp-instance" "$F" "$P"

# --- 1b. PostgreSQL 15 core suite (no regress.so: the same ~18 tests fail in both) ---
if [ "$QUICK" != quick ]; then
  cp -r "$CORPUS/regress/postgres-15-core" "$WORK/core"; chmod -R a+rwX "$WORK/core"
  cd "$WORK/core"
  psql -Xq -c "DROP DATABASE IF EXISTS regression" -c "CREATE DATABASE regression" postgres
  P=$(measure "$PGR" --inputdir=. --bindir=$BIN --outputdir="$WORK/c1" --dlpath=/usr/lib/postgresql/15/lib --max-concurrent-tests=20 --use-existing --schedule=./parallel_schedule)
  psql -Xq -c "DROP DATABASE IF EXISTS regression" -c "CREATE DATABASE regression" postgres
  F=$(measure "$PGFARM" regress --inputdir=. --bindir=$BIN --outputdir="$WORK/c2" --dlpath=/usr/lib/postgresql/15/lib --max-concurrent-tests=20 --use-existing --schedule=./parallel_schedule)
  report "regress postgres-15 core --use-existing" "$F" "$P"
  P=$(measure "${RUN_AS[@]}" "$PGR" --inputdir=. --bindir=$BIN --outputdir="$WORK/c3" --dlpath=/usr/lib/postgresql/15/lib --max-concurrent-tests=20 --temp-instance="$WORK/tmp3" --schedule=./parallel_schedule)
  F=$(measure "$PGFARM" regress --inputdir=. --bindir=$BIN --outputdir="$WORK/c4" --dlpath=/usr/lib/postgresql/15/lib --max-concurrent-tests=20 --temp-instance="$WORK/tmp4" --schedule=./parallel_schedule)
  report "regress postgres-15 core --temp-instance" "$F" "$P"
fi

# --- 2. pgfarm prove -j 4 vs pg_prove -j 4 on pgTAP's test files (upstream's pg_prove set) ---
cd "$WORK/pgtap"
FILES=$(ls test/sql/*.sql | grep -v -E '/(build|create|update|runjusttests|runnotests|runtests)\.sql$')
P=$(measure pg_prove -j 4 -d regression --pset tuples_only=1 $FILES)
F=$(measure "$PGFARM" prove -j 4 -d regression --pset tuples_only=1 $FILES)
report "prove -j 4 pgtap test files ($(echo $FILES | wc -w) files)" "$F" "$P"

# --- 3. pgfarm test over every major vs the slowest single major ---
if ls "$ROOT"/.pg/*/bin/pg_config >/dev/null 2>&1; then
  cd "$ROOT"
  majors=$(for c in .pg/*/bin/pg_config; do basename "$(dirname "$(dirname "$c")")"; done | sort -n | tr '\n' ',' | sed 's/,$//')
  slowest=0
  for m in ${majors//,/ }; do
    T=$(measure "$PGFARM" test --plain --pg "$m" --out "$WORK/t-$m" testdata/extensions/pure_sql)
    slowest=$(python3 -c "print(max($slowest, $T))")
  done
  ALL=$(measure "$PGFARM" test --plain --pg "$majors" --out "$WORK/t-all" testdata/extensions/pure_sql)
  report "test pure_sql on $majors vs slowest single" "$ALL" "$slowest"
fi
