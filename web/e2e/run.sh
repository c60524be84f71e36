#!/usr/bin/env bash
# End-to-end browser tests of the dashboard: a real pgfarm-server with a seeded SQLite database,
# the built dashboard (web/dist), headless Debian chromium driven by playwright-core, node:test.
#
#   web/e2e/run.sh                              seed, serve, run every web/e2e/*.test.mjs
#   web/e2e/run.sh web/e2e/run.test.mjs         one file
#   web/e2e/run.sh --test-name-pattern=matrix   tests whose name matches
#   PGFARM_E2E_REUSE_SEED=1 web/e2e/run.sh ...  reuse the last seeded runs (skip `pgfarm test`)
#
# Needs: scripts/web-build.sh run before (web/dist), `cargo build -p pgfarm-cli -p pgfarm-server`
# (binaries in $PGFARM_BIN_DIR, default $CARGO_TARGET_DIR/debug or target/debug), PostgreSQL from `pgfarm pg install` (scripts/setup).
# Seeding: real `pgfarm test` of testdata/extensions/{failing,tap_only,pure_sql} on two majors,
# submitted by a registered and approved machine, plus testdata/bundles/{tap-fail,regress-fail,pass}
# .pgfarm.json as they are (their machine is registered too; a sample the server refuses is
# reported, not rewritten) and hostile.pgfarm.json under the e2e machine's name. Screenshots and failure artifacts go to target/e2e-artifacts/.
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PGFARM_ROOT"

BIN=${PGFARM_BIN_DIR:-${CARGO_TARGET_DIR:-$PGFARM_ROOT/target}/debug}
WORK=$PGFARM_ROOT/target/e2e
ARTIFACTS=$PGFARM_ROOT/target/e2e-artifacts
[[ -f web/dist/index.html ]] || die "web/dist/index.html is missing: run scripts/web-build.sh first"
for b in pgfarm pgfarm-server; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing: run cargo build -p pgfarm-cli -p pgfarm-server (or set PGFARM_BIN_DIR)"
done
[[ -d node_modules/playwright-core ]] || die "node_modules/playwright-core is missing: run scripts/setup"
mkdir -p "$WORK" "$ARTIFACTS"

MACHINE=e2e-$(hostname -s)
RESULTS=$WORK/results
if [[ -z ${PGFARM_E2E_REUSE_SEED:-} || ! -d $RESULTS ]]; then
  rm -rf "$RESULTS"
  majors=$(cd "$(pg_trees_dir)" 2>/dev/null && ls -d [0-9]* | sort -n | tail -n 2 | paste -sd, -)
  [[ -n $majors ]] || die "no PostgreSQL under $(pg_trees_dir): run scripts/setup (pgfarm pg install 13..18)"
  for ext in failing tap_only pure_sql; do
    say "seed: pgfarm test testdata/extensions/$ext --pg $majors"
    set +e
    PGFARM_MACHINE=$MACHINE "$BIN/pgfarm" test "testdata/extensions/$ext" --plain --pg "$majors" \
      --out "$RESULTS/$ext" >"$WORK/test-$ext.log" 2>&1
    code=$?
    set -e
    (( code <= 1 )) || { cat "$WORK/test-$ext.log" >&2; die "pgfarm test $ext exited with $code (log above)"; }
  done
fi

DATA=$WORK/data
rm -rf "$DATA"; mkdir -p "$DATA"; chmod 700 "$DATA"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
say "pgfarm-server on $URL (SQLite in $DATA, --static-dir web/dist)"
PGFARM_ADMIN_TOKEN=$TOKEN "$BIN/pgfarm-server" --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --static-dir web/dist >"$WORK/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 $server_pid 2>/dev/null || { cat "$WORK/server.log" >&2; die "pgfarm-server exited before it was ready"; }
  sleep 0.1
done

# register NAME -> registers and approves NAME, which writes its 0600 credentials file; prints its path
register() {
  local name=$1 creds
  creds=$WORK/creds-$(printf '%s' "$name" | sha256sum | cut -c1-12).toml
  "$BIN/pgfarm" machine register --server "$URL" --name "$name" --owner-email "e2e@localhost.localdomain" \
    --description "pgfarm web e2e" --compiler "$(gcc --version | head -n1)" >/dev/null || return 1
  "$BIN/pgfarm" machine approve "$name" --server "$URL" --admin-token "$TOKEN" --credentials "$creds" >/dev/null || return 1
  echo "$creds"
}

say "seed: submit the runs"
creds=$(register "$MACHINE") || die "could not register and approve $MACHINE"
mapfile -t bundles < <(find "$RESULTS" -name '*.pgfarm.json.gz' | sort)
(( ${#bundles[@]} > 0 )) || die "pgfarm test wrote no bundles under $RESULTS"
"$BIN/pgfarm" submit --server "$URL" --credentials "$creds" "${bundles[@]}" >"$WORK/submit.log"

# The hostile sample's machine name is refused at registration, so its bundle is submitted by
# the e2e machine with only `machine.name` changed: every other payload (extension and test
# names, logs, TAP, diffs) reaches the server and the dashboard as it is (hostile.test.mjs).
python3 - testdata/bundles/hostile.pgfarm.json "$WORK/hostile.pgfarm.json" "$MACHINE" <<'PY'
import json, sys
source, target, machine = sys.argv[1:]
bundle = json.load(open(source))
bundle["machine"]["name"] = machine
json.dump(bundle, open(target, "w"))
PY
if "$BIN/pgfarm" submit --server "$URL" --credentials "$creds" "$WORK/hostile.pgfarm.json" >>"$WORK/submit.log" 2>&1; then
  say "seed: hostile submitted as $MACHINE"
else
  cat "$WORK/submit.log" >&2; die "the server refused the hostile sample under $MACHINE"
fi

for sample in tap-fail regress-fail pass; do
  file=testdata/bundles/$sample.pgfarm.json
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["machine"]["name"])' "$file")
  if ! creds=$(register "$name" 2>>"$WORK/submit.log"); then
    # An existing machine (the samples share one) is approved already: reuse its credentials.
    creds=$WORK/creds-$(printf '%s' "$name" | sha256sum | cut -c1-12).toml
  fi
  if [[ -f $creds ]] && "$BIN/pgfarm" submit --server "$URL" --credentials "$creds" "$file" >>"$WORK/submit.log" 2>&1; then
    say "seed: $sample submitted"
  else
    say "seed: the server refused $sample (see $WORK/submit.log); its tests use the offline viewer"
  fi
done

export PGFARM_E2E_URL=$URL PGFARM_E2E_ADMIN_TOKEN=$TOKEN PGFARM_E2E_MACHINE=$MACHINE
export PGFARM_E2E_ARTIFACTS=$ARTIFACTS PGFARM_E2E_BIN_DIR=$BIN
say "node --test (artifacts in $ARTIFACTS)"
files=() opts=()
for arg in "$@"; do
  case $arg in -*) opts+=("$arg") ;; *) files+=("$arg") ;; esac
done
(( ${#files[@]} > 0 )) || files=(web/e2e/*.test.mjs)
node --test --test-concurrency=1 "${opts[@]}" "${files[@]}"
