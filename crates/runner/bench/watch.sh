#!/usr/bin/env bash
# `pgfarm test --watch` latency: from saving one file to its verdicts on every installation
# printed (the `round N` block is printed at once, after the last verdict), measured outside
# pgfarm with the wall clock. Figures go to crates/runner/README.md ("Benchmarks").
#
#   crates/runner/bench/watch.sh [PG] [ROUNDS]     PG: default 13..18, ROUNDS: default 10
#   PGFARM=target/release/pgfarm crates/runner/bench/watch.sh
#
# Rounds alternate: a regress test file (testdata/extensions/pure_sql's test/sql/basic.sql,
# rewritten unchanged: that test re-runs on every installation), then, with C=1, a C source
# (testdata/extensions/c_func: rebuild, reinstall, restart, all suites), whose make time is
# printed beside it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PG=${1:-13..18}
ROUNDS=${2:-10}
PGFARM=${PGFARM:-${CARGO_TARGET_DIR:-target}/debug/pgfarm}
FIXTURE=${C:+c_func}
FIXTURE=${FIXTURE:-pure_sql}
tmp=$(mktemp -d)
trap 'kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cp -r "testdata/extensions/$FIXTURE" "$tmp/"
src=$tmp/$FIXTURE
if [[ $FIXTURE == pure_sql ]]; then file=$src/test/sql/basic.sql; else file=$(ls "$src"/*.c | head -1); fi
mkfifo "$tmp/out.fifo"
"$PGFARM" test --watch --plain --pg "$PG" --out "$tmp/out" --workdir "$tmp/work" "$src" >"$tmp/out.fifo" 2>"$tmp/err.log" &
pid=$!
exec 3<"$tmp/out.fifo"
wait_for() { # wait_for PREFIX: reads stdout until a line starts with PREFIX
  local line
  while IFS= read -r line <&3; do [[ $line == "$1"* ]] && return 0; done
  echo "pgfarm exited before '$1'; stderr:" >&2; cat "$tmp/err.log" >&2; exit 1
}
wait_for "round 0"
echo "watch: $FIXTURE on $PG, $(grep -c ' warm$' "$tmp/err.log") installations warm; saving $(basename "$file")"
sleep 0.5
total=0
for i in $(seq 1 "$ROUNDS"); do
  start=$(date +%s%N)
  cat "$file" >"$file.tmp" && mv "$file.tmp" "$file"   # what an editor's save does
  wait_for "round $i "
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  total=$((total + ms))
  echo "round $i: ${ms} ms"
  sleep 0.3
done
echo "mean: $((total / ROUNDS)) ms over $ROUNDS rounds"
