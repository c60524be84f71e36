#!/usr/bin/env bash
# Times GNU `diff -w -U3` and pgfarm-diff (examples/diff_files.rs, release build) side by side
# on generated psql-like outputs of 100,000 and 1,000,000 lines that differ in 1% of the lines,
# and prints the ratios. Inputs go under target/diff-bench/. Usage: bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
root=$(cd ../.. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
data=$target/diff-bench
mkdir -p "$data"
cargo build --quiet --release -p pgfarm-diff --example diff_files
ours=$target/release/examples/diff_files

best_of() { # best wall time in seconds of "$@" over $runs runs (output discarded)
    local best="" t
    for _ in $(seq "$runs"); do
        t=$( { TIMEFORMAT=%R; time "$@" >/dev/null; } 2>&1 ) || true
        if [[ -z $best ]] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    done
    echo "$best"
}

printf '%-10s %-6s %10s %10s %10s %8s\n' lines flags gnu_s ours_s gnu/ours same_out
declare -A ours_time
for n in 100000 1000000; do
    [[ -s $data/expected-$n.out ]] || python3 bench/generate.py "$n" "$data/expected-$n.out" "$data/actual-$n.out"
    for flags in "-w" ""; do
        gnu=$(best_of diff $flags -U3 "$data/expected-$n.out" "$data/actual-$n.out")
        mine=$(best_of "$ours" $flags -U 3 "$data/expected-$n.out" "$data/actual-$n.out")
        same=no
        if cmp -s <(diff $flags -U3 "$data/expected-$n.out" "$data/actual-$n.out" | tail -n +3) \
                  <("$ours" $flags -U 3 "$data/expected-$n.out" "$data/actual-$n.out" | tail -n +3); then same=yes; fi
        ours_time[$n$flags]=$mine
        printf '%-10s %-6s %10s %10s %10.2f %8s\n' "$n" "${flags:-exact}" "$gnu" "$mine" \
            "$(awk "BEGIN{print $gnu / ($mine > 0 ? $mine : 0.001)}")" "$same"
    done
done
for flags in "-w" ""; do
    printf 'growth %-6s ours(1M)/ours(100k) = %.2f (near-linear: <= 12)\n' "${flags:-exact}" \
        "$(awk "BEGIN{print ${ours_time[1000000$flags]} / ${ours_time[100000$flags]}}")"
done
