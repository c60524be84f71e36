#!/usr/bin/env bash
# Fetch + verify + unpack of a 5 MB distribution (170 files of generated C-like source, 5 MB zipped) from a
# mirror on loopback (python3 -m http.server), side by side: pgfarm-pgxn (examples/fetch_unpack.rs,
# release build, which also reads index.json, the dist document and META.json) against
# `curl` + `sha1sum -c` + `unzip -q` of the same archive. Each figure is the best wall-clock of RUNS
# runs, with an empty cache and target every time. Usage: bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
root=$(cd ../.. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
data=$target/pgxn-bench
rm -rf "$data" && mkdir -p "$data/mirror"
cargo build --quiet --release -p pgfarm-pgxn --example fetch_unpack
ours=$target/release/examples/fetch_unpack

python3 - "$data/mirror" <<'PY'
import hashlib, json, os, random, sys, zipfile
root = sys.argv[1]; rnd = random.Random(14)
os.makedirs(f"{root}/dist/big/1.0.0", exist_ok=True)
json.dump({"dist": "/dist/{dist}.json", "meta": "/dist/{dist}/{version}/META.json",
           "download": "/dist/{dist}/{version}/{dist}-{version}.zip"}, open(f"{root}/index.json", "w"))
json.dump({"name": "big", "releases": {"stable": [{"version": "1.0.0", "date": "2026-01-01T00:00:00Z"}]}},
          open(f"{root}/dist/big.json", "w"))
meta = {"name": "big", "version": "1.0.0", "abstract": "bench", "maintainer": "Bench <bench@example.com>",
        "license": "postgresql", "provides": {"big": {"file": "sql/big.sql", "version": "1.0.0"}}}
path = f"{root}/dist/big/1.0.0/big-1.0.0.zip"
words = [f"ident_{i}" for i in range(3000)] + ["if", "return", "{", "}", "(", ")", ";", "int", "Datum"]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("big-1.0.0/META.json", json.dumps(meta))
    for i in range(170):
        lines = [" ".join(rnd.choice(words) for _ in range(8)) for _ in range(1600)]
        z.writestr(f"big-1.0.0/src/f{i:03}.c", "\n".join(lines))
data = open(path, "rb").read()
sha1 = hashlib.sha1(data).hexdigest()
json.dump(dict(meta, user="bench", date="2026-01-01T00:00:00Z", release_status="stable", sha1=sha1),
          open(f"{root}/dist/big/1.0.0/META.json", "w"))
open(f"{root}/sha1", "w").write(f"{sha1}  archive.zip\n")
print(f"archive: {len(data) / 1e6:.1f} MB compressed", file=sys.stderr)
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$data/mirror" >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/index.json" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port/"

best_of() {
    local best="" wall
    for _ in $(seq "$runs"); do
        rm -rf "$data/run" && mkdir -p "$data/run"
        wall=$( { TIMEFORMAT='%R'; time "$@" >/dev/null; } 2>&1 )
        if [[ -z $best ]] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
    done
    echo "$best"
}
peer() {
    cd "$data/run" && curl -sf "${base}dist/big/1.0.0/big-1.0.0.zip" -o archive.zip \
        && sha1sum -c --quiet "$data/mirror/sha1" && unzip -q archive.zip -d out
}
# once untimed, so that a failure stops the script instead of being timed
rm -rf "$data/run" && mkdir -p "$data/run" && "$ours" "$base" big "$data/run/cache" "$data/run/out" >/dev/null
rm -rf "$data/run" && mkdir -p "$data/run" && (peer)
ours_s=$(best_of "$ours" "$base" big "$data/run/cache" "$data/run/out")
peer_s=$(best_of peer)
echo "fetch+verify+unpack, 5 MB dist, best of $runs: pgfarm-pgxn ${ours_s}s, curl+sha1sum+unzip ${peer_s}s"
