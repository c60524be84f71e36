#!/usr/bin/env bash
# `pgfarm test` on PGXN distributions, two figures in one run (release builds):
#
#  1. fetch + verify + unpack of a generated 5 MB distribution (170 C-like files) from a loopback
#     mirror (python3 -m http.server), as `pgfarm test pgxn:big` does before any stage
#     (runner's examples/dist_fetch.rs: dist::Target + dist::fetch, index.json, dist document,
#     META.json validated, download into an empty cache, SHA-1 verified, safe unpack); best of
#     ROUNDS, target <= 0.3 s.
#  2. `pgfarm test pgxn:pair --pgxn-mirror URL` against `pgfarm test DIR` on the same unpacked
#     folder, one major, interleaved rounds, medians; target pgxn: <= 1.2x the folder. `pair` is
#     a small pure-SQL extension with one pg_regress test, published by pgfarm_pgxn::mirror.
#     Both sides install into the same tree, so they never run at once.
#
#   usage: crates/runner/bench/pgxn.sh [MAJOR] [ROUNDS]      (default: 16, 5 rounds)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
MAJOR=${1:-16}
ROUNDS=${2:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build -q --release -p pgfarm-cli
cargo build -q --release -p pgfarm-runner --example dist_fetch
PGFARM=$CARGO_TARGET_DIR/release/pgfarm
FETCH=$CARGO_TARGET_DIR/release/examples/dist_fetch
WORK=$(mktemp -d /tmp/pgfarm-pgxn-bench.XXXXXX)
server=
trap '[ -n "$server" ] && kill $server; rm -rf "$WORK"' EXIT

python3 - "$WORK/src" <<'PY'
import json, os, random, sys
root = sys.argv[1]; rnd = random.Random(14)
big = f"{root}/big"; os.makedirs(f"{big}/src", exist_ok=True)
json.dump({"name": "big", "version": "1.0.0", "abstract": "bench", "maintainer": "Bench <bench@example.com>",
           "license": "postgresql", "provides": {"big": {"file": "big--1.0.sql", "version": "1.0.0"}},
           "meta-spec": {"version": "1.0.0"}}, open(f"{big}/META.json", "w"))
words = [f"ident_{i}" for i in range(3000)] + ["if", "return", "{", "}", "(", ")", ";", "int", "Datum"]
for i in range(170):
    open(f"{big}/src/f{i:03}.c", "w").write("\n".join(" ".join(rnd.choice(words) for _ in range(8)) for _ in range(1600)))
pair = f"{root}/pair"; os.makedirs(f"{pair}/sql", exist_ok=True); os.makedirs(f"{pair}/expected", exist_ok=True)
open(f"{pair}/pair.control", "w").write("comment = 'a key/value pair'\ndefault_version = '1.0'\nrelocatable = true\n")
open(f"{pair}/pair--1.0.sql", "w").write(
    "CREATE TYPE pair AS (k text, v text);\n"
    "CREATE FUNCTION pair(text, text) RETURNS pair LANGUAGE sql IMMUTABLE AS $$ SELECT ROW($1, $2)::pair $$;\n")
open(f"{pair}/Makefile", "w").write(
    "EXTENSION = pair\nDATA = pair--1.0.sql\nREGRESS = base\n"
    "PG_CONFIG ?= pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n")
open(f"{pair}/sql/base.sql", "w").write("CREATE EXTENSION pair;\nSELECT (pair('a', 'b')).v AS v;\n")
open(f"{pair}/expected/base.out", "w").write(
    "CREATE EXTENSION pair;\nSELECT (pair('a', 'b')).v AS v;\n v \n---\n b\n(1 row)\n\n")
json.dump({"name": "pair", "version": "1.0.0", "abstract": "bench", "maintainer": "Bench <bench@example.com>",
           "license": "postgresql", "provides": {"pair": {"file": "pair--1.0.sql", "version": "1.0.0"}},
           "meta-spec": {"version": "1.0.0"}}, open(f"{pair}/META.json", "w"))
PY
"$FETCH" mirror "$WORK/mirror" "$WORK/src/big" "$WORK/src/pair" >/dev/null
echo "archive: $(du -m "$WORK/mirror/dist/big/1.0.0/big-1.0.0.zip" | cut -f1) MB" >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/mirror" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/index.json" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/"

now() { python3 -c 'import time; print(time.monotonic())'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# 1. fetch + verify + unpack, empty cache every time
"$FETCH" fetch "$base" pgxn:big "$WORK/cache" "$WORK/into" >/dev/null   # once untimed
best=
for _ in $(seq "$ROUNDS"); do
  rm -rf "$WORK/cache" "$WORK/into"
  t0=$(now); "$FETCH" fetch "$base" pgxn:big "$WORK/cache" "$WORK/into" >/dev/null; t1=$(now)
  s=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
  if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
done
echo "fetch+verify+unpack pgxn:big (5 MB), best of $ROUNDS: ${best}s (target <= 0.3 s)"

# 2. pgfarm test pgxn:pair vs pgfarm test DIR on the same unpacked folder
dir=$("$FETCH" fetch "$base" pgxn:pair "$WORK/cache" "$WORK/pair-dir" | cut -d' ' -f1)
"$PGFARM" test --plain --pg "$MAJOR" --out "$WORK/out" "pgxn:pair" --pgxn-mirror "$base" >/dev/null 2>&1 \
  || { echo "pgfarm test pgxn:pair failed" >&2; exit 1; }
"$PGFARM" test --plain --pg "$MAJOR" --out "$WORK/out" "$dir" >/dev/null 2>&1 \
  || { echo "pgfarm test $dir failed" >&2; exit 1; }
: >"$WORK/t-pgxn"; : >"$WORK/t-dir"
for _ in $(seq "$ROUNDS"); do
  t0=$(now); "$PGFARM" test --plain --pg "$MAJOR" --out "$WORK/out" pgxn:pair --pgxn-mirror "$base" >/dev/null 2>&1; t1=$(now)
  python3 -c "print($t1 - $t0)" >>"$WORK/t-pgxn"
  t0=$(now); "$PGFARM" test --plain --pg "$MAJOR" --out "$WORK/out" "$dir" >/dev/null 2>&1; t1=$(now)
  python3 -c "print($t1 - $t0)" >>"$WORK/t-dir"
done
p=$(median <"$WORK/t-pgxn"); d=$(median <"$WORK/t-dir")
python3 -c "print(f'pgfarm test on PostgreSQL $MAJOR, median of $ROUNDS: pgxn:pair {$p:.2f}s, the unpacked folder {$d:.2f}s, ratio {$p / $d:.2f}x (target <= 1.2x)')"
