#!/usr/bin/env bash
# Regenerates the sandbox fixtures of testdata/causes: builds that the bubblewrap sandbox of
# `pgfarm test --sandbox` stops (pgfarm_pgnode::sandbox), run in bwrap with the same options, as
# the unprivileged user `pgfarm`.
#
#   testdata/causes/regen-sandbox.sh          needs root and bwrap (package bubblewrap)
set -u
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /var/tmp/causes-sandbox.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# sandboxed DIR CMD...: CMD in DIR inside the sandbox (DIR writable), as pgfarm, 64 processes
sandboxed() {
  local dir=$1; shift
  chown -R pgfarm:pgfarm "$dir"
  setpriv --reuid=pgfarm --regid=pgfarm --init-groups bash -c 'ulimit -u 64; exec "$@"' sh \
    bwrap --unshare-net --unshare-ipc --unshare-uts --unshare-pid --die-with-parent --new-session \
    --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --tmpfs /dev/shm \
    --bind "$dir" "$dir" --setenv HOME /tmp --chdir "$dir" -- "$@"
}
mk() { mkdir -p "$WORK/$1"; printf '%s\n' "$2" | sed 's/^  /\t/' > "$WORK/$1/Makefile"; }

# the network: a build that downloads, and one that talks to a service on the host's loopback
python3 -m http.server --bind 127.0.0.1 8765 >/dev/null 2>&1 &
SERVER=$!
sleep 1
mk sandbox_network 'all:
  curl -fsS -o vendor.tar.gz https://example.org/vendor.tar.gz'
sandboxed "$WORK/sandbox_network" make > "$OUT/sandbox_network.log" 2>&1
mk sandbox_network_loopback 'all:
  curl -fsS -o schema.sql http://127.0.0.1:8765/schema.sql'
sandboxed "$WORK/sandbox_network_loopback" make > "$OUT/sandbox_network_loopback.log" 2>&1
kill "$SERVER"

# a write outside the work folder: make install into a tree the sandbox shows read-only
mk sandbox_write "all:
  echo built > built.txt
install:
  /bin/mkdir -p '$WORK/tree/share/extension'
  /usr/bin/install -c -m 644 built.txt '$WORK/tree/share/extension/'"
mkdir -p "$WORK/tree/share/extension"
chmod -R 777 "$WORK/tree"
sandboxed "$WORK/sandbox_write" make all install > "$OUT/sandbox_write.log" 2>&1

# a fork bomb under the process limit
mk fork_limit 'all:
  while :; do sleep 60 & done'
sandboxed "$WORK/fork_limit" make > "$OUT/fork_limit.log" 2>&1

sed -i "s#$WORK#/var/tmp/causes-sandbox#g" "$OUT"/sandbox_*.log "$OUT"/fork_limit.log
