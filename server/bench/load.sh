#!/usr/bin/env bash
# load.sh: ingest load tests of pgfarm-server with the loadgen example (server/examples/loadgen.rs).
#
#   server/bench/load.sh sqlite   [RUNS] [CLIENTS]   one server on SQLite
#   server/bench/load.sh postgres [RUNS] [CLIENTS]   two servers on one PostgreSQL database
#                                                    (a throwaway cluster from `pgfarm tmp`)
#   server/bench/load.sh crash    [RUNS] [CLIENTS]   kill -9 of the SQLite server during a load (after CRASH_AT=1000 201s),
#                                                    restart, check every 201 is readable
#   server/bench/load.sh scale    [RUNS]             fill a SQLite database with RUNS generated
#                                                    runs and measure read latencies (examples/scale.rs)
#
# Bundles are about 50 KB gzip each (incompressible padding in the server log). Figures go to
# server/README.md with the command that produced them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODE=${1:-sqlite}
RUNS=${2:-3000}
CLIENTS=${3:-16}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -q -p pgfarm-server --bin pgfarm-server --example loadgen --example scale
BIN=$CARGO_TARGET_DIR/release/pgfarm-server
LOADGEN=$CARGO_TARGET_DIR/release/examples/loadgen
TOKEN=load-admin-token
WORK=$(mktemp -d /tmp/pgfarm-load.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# start_server PORT [DATABASE_URL]: starts a server, waits for /healthz, echoes its pid.
start_server() {
    local port=$1 url=${2:-}
    PGFARM_ADMIN_TOKEN=$TOKEN PGFARM_LOG=warn "$BIN" --listen "127.0.0.1:$port" --data-dir "$WORK/data" \
        ${url:+--database-url "$url"} --submissions-per-minute 100000000 >>"$WORK/server-$port.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "$pid"
}

case $MODE in
sqlite)
    pid=$(start_server 18181); PIDS+=("$pid")
    "$LOADGEN" --server http://127.0.0.1:18181 --admin-token "$TOKEN" --runs "$RUNS" --concurrency "$CLIENTS" --kb 50
    ;;
postgres)
    PGFARM=${PGFARM:-$CARGO_TARGET_DIR/debug/pgfarm}
    [ -x "$PGFARM" ] || cargo build -q -p pgfarm-cli
    url=$("$PGFARM" tmp -d --idle 120s)
    echo "database: $url"
    a=$(start_server 18181 "$url"); PIDS+=("$a")
    b=$(start_server 18182 "$url"); PIDS+=("$b")
    "$LOADGEN" --server http://127.0.0.1:18181 --server http://127.0.0.1:18182 --admin-token "$TOKEN" \
        --runs "$RUNS" --concurrency "$CLIENTS" --kb 50
    grep -ci "error\|panic" "$WORK"/server-*.log | sed 's/^/server log errors: /' || true
    ;;
crash)
    pid=$(start_server 18181)
    "$LOADGEN" --server http://127.0.0.1:18181 --admin-token "$TOKEN" --runs "$RUNS" --concurrency "$CLIENTS" \
        --kb 50 --record "$WORK/created.txt" >"$WORK/loadgen.out" 2>&1 &
    loadgen=$!
    # Kill once CRASH_AT runs have been answered 201 (the load is then in full swing).
    until [ -f "$WORK/created.txt" ] && [ "$(wc -l <"$WORK/created.txt")" -ge "${CRASH_AT:-1000}" ]; do sleep 0.05; done
    kill -9 "$pid"
    echo "killed the server (kill -9) with $(wc -l <"$WORK/created.txt") runs answered 201 so far"
    wait "$loadgen" || true
    pid=$(start_server 18181); PIDS+=("$pid")
    "$LOADGEN" --server http://127.0.0.1:18181 --verify "$WORK/created.txt"
    ;;
scale)
    "$CARGO_TARGET_DIR/release/examples/scale" --data-dir "$WORK/scale" --runs "$RUNS"
    ;;
*)
    echo "usage: $0 sqlite|postgres|crash|scale [RUNS] [CLIENTS]" >&2
    exit 2
    ;;
esac
