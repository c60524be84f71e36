#!/usr/bin/env bash
# Times GNU `diff -w -U3` and pgfarm-diff (examples/diff_files.rs, release build) side by side
# on generated psql-like outputs of 100,000 and 1,000,000 lines that differ in 1% of the lines,
# and prints the ratios (gnu/ours: above 1 means pgfarm-diff is faster) of wall-clock and of
# user+sys CPU time, each the best of RUNS runs. Inputs go under target/diff-bench/. Usage: bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
root=$(cd ../.. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
data=$target/diff-bench
mkdir -p "$data"
cargo build --quiet --release -p pgfarm-diff --example diff_files
ours=$target/release/examples/diff_files

# Prints "WALL CPU": the smallest wall-clock and the smallest user+sys CPU seconds of "$@"
# over $runs runs (output discarded). CPU time is the steadier figure on a shared machine.
best_of() {
    local best_wall="" best_cpu="" wall user sys cpu
    for _ in $(seq "$runs"); do
        read -r wall user sys < <( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null; } 2>&1 ) || true
        cpu=$(awk "BEGIN{print $user + $sys}")
        if [[ -z $best_wall ]] || awk "BEGIN{exit !($wall < $best_wall)}"; then best_wall=$wall; fi
        if [[ -z $best_cpu ]] || awk "BEGIN{exit !($cpu < $best_cpu)}"; then best_cpu=$cpu; fi
    done
    echo "$best_wall $best_cpu"
}

ratio() { awk "BEGIN{printf \"%.2f\", $1 / ($2 > 0 ? $2 : 0.001)}"; }

printf '%-8s %-6s %8s %8s %7s %8s %8s %7s %5s\n' lines flags gnu_wall our_wall ratio gnu_cpu our_cpu ratio same
declare -A ours_cpu
for n in 100000 1000000; do
    [[ -s $data/expected-$n.out ]] || python3 bench/generate.py "$n" "$data/expected-$n.out" "$data/actual-$n.out"
    for flags in "-w" ""; do
        read -r gnu_wall gnu_cpu < <(best_of diff $flags -U3 "$data/expected-$n.out" "$data/actual-$n.out")
        read -r our_wall our_cpu < <(best_of "$ours" $flags -U 3 "$data/expected-$n.out" "$data/actual-$n.out")
        same=no
        if cmp -s <(diff $flags -U3 "$data/expected-$n.out" "$data/actual-$n.out" | tail -n +3) \
                  <("$ours" $flags -U 3 "$data/expected-$n.out" "$data/actual-$n.out" | tail -n +3); then same=yes; fi
        ours_cpu[$n$flags]=$our_cpu
        printf '%-8s %-6s %8s %8s %7s %8s %8s %7s %5s\n' "$n" "${flags:-exact}" "$gnu_wall" "$our_wall" \
            "$(ratio "$gnu_wall" "$our_wall")" "$gnu_cpu" "$our_cpu" "$(ratio "$gnu_cpu" "$our_cpu")" "$same"
    done
done
for flags in "-w" ""; do
    printf 'growth %-6s our_cpu(1M)/our_cpu(100k) = %s (near-linear: <= 12)\n' "${flags:-exact}" \
        "$(ratio "${ours_cpu[1000000$flags]}" "${ours_cpu[100000$flags]}")"
done
