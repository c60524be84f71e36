#!/usr/bin/env bash
# Side-by-side benchmarks of pgfarm's runner against the tools it replaces, in one run, each
# pair measured ROUNDS times interleaved (pgfarm, peer, pgfarm, peer, ...), medians reported:
#   1. pgfarm regress vs pg_regress (PostgreSQL 15) on pgTAP's suite and on the core suite,
#      --use-existing against a running server, and with a temporary instance;
#   2. pgfarm prove -j 4 vs pg_prove -j 4 on pgTAP's own test files;
#   3. pgfarm test over all installed majors vs the slowest single major.
#
# Per measurement it prints the median wall time, the client-side CPU (the tool and every
# process it waited for: psql, sh, diff, perl) and, against the shared server, the server's
# CPU (backends' user+sys, read from the postmaster's cutime/cstime). That is the profile that
# says where the time goes: when server CPU / 2 cores is most of the wall time, no client can
# be much faster than another.
#
#   usage: crates/runner/bench/compare.sh [quick|core|prove|all] [ROUNDS]
#            quick (default): pgTAP suite, prove, test;  core: the PG15 core suite only;
#            prove: prove only (also -j 1, to show how much 4 slots gain);  all: everything
#          PGFARM=target/release/pgfarm crates/runner/bench/compare.sh   (use that binary)
#   needs: Debian postgresql-15 + postgresql-server-dev-15 + postgresql-15-pgtap, pg_prove,
#          /usr/bin/time, python3, the corpus in ../shared/corpus, pgfarm's PostgreSQL trees for (3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CORPUS=${PGFARM_CORPUS:-$ROOT/../shared/corpus}
BIN=/usr/lib/postgresql/15/bin
PGR=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress
WHAT=${1:-quick}
ROUNDS=${2:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# PGFARM=/path/to/pgfarm skips the build (e.g. to measure a given binary).
if [ -z "${PGFARM:-}" ]; then
  cargo build -q --release -p pgfarm-cli
  PGFARM=$CARGO_TARGET_DIR/release/pgfarm
fi
[ -d "$CORPUS/regress" ] || { echo "corpus not found at $CORPUS (set PGFARM_CORPUS)" >&2; exit 3; }

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
PM=$(head -1 "$WORK/data/postmaster.pid")
TICK=$(getconf CLK_TCK)

# server_cpu: seconds of CPU used by the server's exited backends so far.
server_cpu() { awk -v t="$TICK" '{ print ($16 + $17) / t }' "/proc/$PM/stat"; }
# measure NAME cmd...: runs cmd once (exit status ignored: suites may fail on purpose) and
# appends "wall client_cpu server_cpu" to $WORK/NAME.
measure() {
  local name=$1; shift
  local s0 s1 out
  s0=$(server_cpu)
  /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" "$@" >"$WORK/$name.last.log" 2>&1 || true
  s1=$(server_cpu)
  # GNU time writes "Command exited with non-zero status N" first when the suite fails.
  out=$(awk -v s0="$s0" -v s1="$s1" '$1 ~ /^[0-9.]+$/ && NF == 3 { printf "%.2f %.2f %.2f\n", $1, $2 + $3, s1 - s0 }' "$WORK/time.txt")
  echo "$out" >>"$WORK/$name"
}
median() { python3 -c "
import statistics, sys
rows = [list(map(float, l.split())) for l in open('$WORK/$1') if l.strip()]
print(' '.join(f'{statistics.median(c):.2f}' for c in zip(*rows)))"; }
# report LABEL OURS PEER TARGET: medians, every round's wall time, the ratio of medians, and the
# CPU floor: pgfarm's median CPU (client + server) spread over every core of the machine, the
# shortest wall time any tool doing that work could take here, set against TARGET x the peer.
report() {
  python3 - "$1" "$WORK/$2" "$WORK/$3" "$4" "$(nproc)" <<'EOF'
import statistics, sys
label, ours, peer, target, cores = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
def load(path):
    return [list(map(float, l.split())) for l in open(path) if l.strip()]
o, p = load(ours), load(peer)
def med(rows, i): return statistics.median(r[i] for r in rows)
walls = lambda rows: "/".join(f"{r[0]:.2f}" for r in rows)
print(f"{label}")
print(f"   pgfarm wall {med(o,0):7.2f}s (rounds {walls(o)})  client cpu {med(o,1):6.2f}s  server cpu {med(o,2):6.2f}s")
print(f"   peer   wall {med(p,0):7.2f}s (rounds {walls(p)})  client cpu {med(p,1):6.2f}s  server cpu {med(p,2):6.2f}s")
print(f"   ratio of medians {med(o,0)/med(p,0):.2f} (target {target})")
floor = (med(o,1) + med(o,2)) / cores
goal = target * med(p,0)
verdict = "below the floor: out of reach on this machine" if goal < floor else "above the floor"
print(f"   CPU floor on {cores} cores {floor:.2f}s = {floor/med(p,0):.2f}x the peer; the target is {goal:.2f}s, {verdict}")
EOF
}
echo "pgfarm: $PGFARM; rounds: $ROUNDS; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

fresh_db() { psql -Xq -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" postgres; }

# --- 1a. pgTAP's pg_regress suite (parallel schedule), --use-existing and temp instance ---
cp -r "$CORPUS/regress/pgtap-1.2.0" "$WORK/pgtap"; mkdir -p "$WORK/pgtap/sql"
cp /usr/share/postgresql/15/extension/pgtap--1.2.0.sql "$WORK/pgtap/sql/pgtap.sql"
chmod -R a+rwX "$WORK/pgtap"
if [ "$WHAT" = quick ] || [ "$WHAT" = all ]; then
  cd "$WORK/pgtap"
  SCHED=(--schedule test/schedule/main.sch --schedule test/build/parallel.sch)
  for r in $(seq "$ROUNDS"); do
    fresh_db regression
    measure rx_ours "$PGFARM" regress --classic --inputdir=test --bindir=$BIN --outputdir="$WORK/o2" --max-connections=88 --use-existing "${SCHED[@]}"
    fresh_db regression
    measure rx_peer "$PGR" --inputdir=test --bindir=$BIN --outputdir="$WORK/o1" --max-connections=88 --use-existing "${SCHED[@]}"
  done
  report "regress pgTAP suite (39 tests) --use-existing" rx_ours rx_peer 0.8
  cmp -s "$WORK/o1/results/functap.out" "$WORK/o2/results/functap.out" && echo "   results/functap.out identical"
  # pg_regress's initdb refuses root: its temp instance runs as the unprivileged user.
  for r in $(seq "$ROUNDS"); do
    measure rt_ours "$PGFARM" regress --classic --inputdir=test --bindir=$BIN --outputdir="$WORK/o4" --max-connections=88 --temp-instance="$WORK/tmp2" "${SCHED[@]}"
    measure rt_peer "${RUN_AS[@]}" "$PGR" --inputdir=test --bindir=$BIN --outputdir="$WORK/o3" --max-connections=88 --temp-instance="$WORK/tmp1" "${SCHED[@]}"
    "${RUN_AS[@]}" rm -rf "$WORK/tmp1"
  done
  report "regress pgTAP suite (39 tests) --temp-instance" rt_ours rt_peer 0.5
fi

# --- 1b. PostgreSQL 15 core suite (no regress.so: the same tests fail in both) ---
if [ "$WHAT" = core ] || [ "$WHAT" = all ]; then
  cp -r "$CORPUS/regress/postgres-15-core" "$WORK/core"; chmod -R a+rwX "$WORK/core"
  cd "$WORK/core"
  CORE=(--inputdir=. --bindir=$BIN --dlpath=/usr/lib/postgresql/15/lib --max-concurrent-tests=20 --schedule=./parallel_schedule)
  for r in $(seq "$ROUNDS"); do
    fresh_db regression
    measure cx_ours "$PGFARM" regress --classic "${CORE[@]}" --outputdir="$WORK/c2" --use-existing
    fresh_db regression
    measure cx_peer "$PGR" "${CORE[@]}" --outputdir="$WORK/c1" --use-existing
  done
  report "regress postgres-15 core --use-existing" cx_ours cx_peer 0.8
  for r in $(seq "$ROUNDS"); do
    measure ct_ours "$PGFARM" regress --classic "${CORE[@]}" --outputdir="$WORK/c4" --temp-instance="$WORK/tmp4"
    measure ct_peer "${RUN_AS[@]}" "$PGR" "${CORE[@]}" --outputdir="$WORK/c3" --temp-instance="$WORK/tmp3"
    "${RUN_AS[@]}" rm -rf "$WORK/tmp3"
  done
  report "regress postgres-15 core --temp-instance" ct_ours ct_peer 0.5
fi

# --- 2. pgfarm prove -j 4 vs pg_prove -j 4 on pgTAP's test files (upstream's pg_prove set) ---
if [ "$WHAT" != core ]; then
  cd "$WORK/pgtap"
  fresh_db tapbench
  psql -Xq -c "CREATE EXTENSION pgtap" tapbench
  FILES=$(ls test/sql/*.sql | grep -v -E '/(build|create|update|runjusttests|runnotests|runtests)\.sql$')
  for r in $(seq "$ROUNDS"); do
    measure pj_ours "$PGFARM" prove -j 4 -d tapbench --pset tuples_only=1 $FILES
    measure pj_peer pg_prove -j 4 -d tapbench --pset tuples_only=1 $FILES
    measure pi_ours "$PGFARM" prove --isolate -j 4 -d tapbench --pset tuples_only=1 $FILES
    if [ "$WHAT" = prove ]; then
      measure p1_ours "$PGFARM" prove -j 1 -d tapbench --pset tuples_only=1 $FILES
    fi
  done
  if [ "$WHAT" = prove ]; then
    echo "pgfarm prove -j 1: wall, client cpu, server cpu (medians) $(median p1_ours)"
  fi
  report "prove -j 4, pgTAP test files ($(echo $FILES | wc -w) files)" pj_ours pj_peer 0.5
  report "prove --isolate -j 4 (a database copy per file) vs pg_prove -j 4" pi_ours pj_peer 0.5
  grep -h '^Files=' "$WORK/pj_ours.last.log" "$WORK/pj_peer.last.log" | sed 's/^/   /'
fi

# --- 3. pgfarm test over every major vs the slowest single major ---
TREES=$(bash -c 'source "$1/scripts/lib.sh"; pg_trees_dir' _ "$ROOT")
if { [ "$WHAT" = quick ] || [ "$WHAT" = all ]; } && ls "$TREES"/*/bin/pg_config >/dev/null 2>&1; then
  cd "$ROOT"
  majors=$(for c in "$TREES"/*/bin/pg_config; do basename "$(dirname "$(dirname "$c")")"; done | sort -n | tr '\n' ',' | sed 's/,$//')
  for ext in pure_sql; do
    for r in $(seq "$ROUNDS"); do
      measure "t_all_$ext" "$PGFARM" test --plain --pg "$majors" --out "$WORK/t-all" "testdata/extensions/$ext"
      for m in ${majors//,/ }; do
        measure "t_${m}_$ext" "$PGFARM" test --plain --pg "$m" --out "$WORK/t-$m" "testdata/extensions/$ext"
      done
    done
    slowest=""; slowest_t=0
    for m in ${majors//,/ }; do
      t=$(median "t_${m}_$ext" | cut -d' ' -f1)
      if python3 -c "import sys; sys.exit(0 if $t > $slowest_t else 1)"; then slowest=$m; slowest_t=$t; fi
    done
    report "test $ext on $majors vs the slowest single major (pg$slowest)" "t_all_$ext" "t_${slowest}_$ext" 1.5
  done
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
