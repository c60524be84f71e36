#!/usr/bin/env bash
# The build cache and the coverage overhead of `pgfarm test`, both sides in one run, per corpus
# C extension (copied first: the corpus is read-only), ROUNDS times interleaved, medians:
#   first   `pgfarm test` with an empty build cache (builds, installs, fills the cache)
#   second  the same again with nothing changed (build and install reused)
#   plain   `pgfarm test --no-build-cache`             (the reference for the overhead)
#   cov     `pgfarm test --coverage` (never cached: PROFILE=--coverage build, gcov afterwards)
# Targets: second <= 0.5 x first; cov <= 1.5 x plain.
#
#   usage: crates/runner/bench/build_cache.sh [MAJOR] [ROUNDS] [EXTENSION...]
#          PGFARM=target/release/pgfarm crates/runner/bench/build_cache.sh 17 3 hypopg pg-semver
#   needs: pgfarm's PostgreSQL trees (`pgfarm pg install`), gcc/gcov, python3, the corpus in
#          ../shared/corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CORPUS=${PGFARM_CORPUS:-$ROOT/../shared/corpus}
MAJOR=${1:-17}
ROUNDS=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
EXTENSIONS=("$@")
[ ${#EXTENSIONS[@]} -gt 0 ] || EXTENSIONS=(hypopg pg-semver pg_roaringbitmap)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${PGFARM:-}" ]; then
  cargo build -q --release -p pgfarm-cli
  PGFARM=$CARGO_TARGET_DIR/release/pgfarm
fi
TREES=${PGFARM_TREES:-$HOME/.local/share/pgfarm/pg}
[ -d "$TREES/$MAJOR" ] || { echo "no PostgreSQL $MAJOR under $TREES" >&2; exit 3; }
WORK=$(mktemp -d /tmp/pgfarm-bench-cache.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

now() { python3 -c 'import time; print(time.monotonic())'; }
# run NAME HOME DIR ARGS...: appends "NAME seconds exit" to $WORK/times
run() {
  local name=$1 home=$2 dir=$3; shift 3
  local start end code=0
  start=$(now)
  PGFARM_HOME=$home "$PGFARM" test --plain --pg "$MAJOR" --out "$WORK/out" "$@" "$dir" \
    >"$WORK/last.log" 2>&1 || code=$?
  end=$(now)
  echo "$name $(python3 -c "print(f'{$end - $start:.2f}')") $code" >>"$WORK/times"
}

printf '%-18s %8s %8s %6s %8s %8s %6s\n' extension first second ratio plain cov ratio
for ext in "${EXTENSIONS[@]}"; do
  src="$WORK/src/$ext"
  mkdir -p "$WORK/src"
  cp -r "$CORPUS/extensions/$ext" "$src"
  : >"$WORK/times"
  for round in $(seq "$ROUNDS"); do
    home="$WORK/home-$ext-$round"
    mkdir -p "$home"
    ln -s "$TREES" "$home/pg"
    run first "$home" "$src"
    run second "$home" "$src"
    run plain "$home" "$src" --no-build-cache
    run cov "$home" "$src" --coverage
  done
  python3 - "$WORK/times" "$ext" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    name, seconds, code = line.split()
    times.setdefault(name, []).append((float(seconds), int(code)))
med = {k: statistics.median(s for s, _ in v) for k, v in times.items()}
codes = {k: sorted({c for _, c in v}) for k, v in times.items()}
same = codes["first"] == codes["second"] == codes["plain"] == codes["cov"]
print(f"{sys.argv[2]:<18} {med['first']:8.2f} {med['second']:8.2f} {med['second']/med['first']:6.2f} "
      f"{med['plain']:8.2f} {med['cov']:8.2f} {med['cov']/med['plain']:6.2f}"
      + ("" if same else f"   exit codes differ: {codes}"))
PY
done
