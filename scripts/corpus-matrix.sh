#!/usr/bin/env bash
# The corpus check on the whole matrix, outside CI: `pgfarm test` on every extension of
# ../shared/corpus/extensions (copied first) on every installed major 13-18, then one line per
# (extension, major) with each suite's count and verdict and the run's status, to hold against
# the reference table in ../shared/corpus/extensions/README.md. (CI runs the same check on two
# majors per extension: crates/cli/tests/corpus.rs.)
#
#   usage: scripts/corpus-matrix.sh [MAJORS] [EXTENSION...]     (default: 13..18, all)
#          PGFARM=target/release/pgfarm scripts/corpus-matrix.sh   (use that binary)
source "$(dirname "$0")/lib.sh"
cd "$PGFARM_ROOT"
CORPUS=${PGFARM_CORPUS:-$PGFARM_ROOT/../shared/corpus}/extensions
MAJORS=${1:-13..18}
shift || true
[[ -d $CORPUS ]] || die "corpus not found at $CORPUS (set PGFARM_CORPUS)"
if [[ -z ${PGFARM:-} ]]; then
  cargo build -q --locked -p pgfarm-cli
  PGFARM=${CARGO_TARGET_DIR:-$PGFARM_ROOT/target}/debug/pgfarm
fi
PGFARM=$(realpath "$PGFARM")
EXTENSIONS=${*:-$(cd "$CORPUS" && ls -d */ | tr -d /)}
WORK=$(mktemp -d /tmp/pgfarm-corpus-matrix.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# pg_partman's test/README_test.md set-up, as its author would keep it in a pgfarm.toml.
partman_toml='[cluster]
settings = { max_locks_per_transaction = 128 }
[tap]
setup = ["CREATE EXTENSION IF NOT EXISTS pgtap", "CREATE SCHEMA partman", "CREATE EXTENSION pg_partman SCHEMA partman"]'

for ext in $EXTENSIONS; do
  cp -a "$CORPUS/$ext" "$WORK/$ext"
  [[ $ext == pg_partman ]] && printf '%s\n' "$partman_toml" >"$WORK/$ext/pgfarm.toml"
  (cd "$WORK/$ext" && "$PGFARM" test --plain -j 2 --pg "$MAJORS" >"$WORK/$ext.log" 2>&1) || true
  python3 - "$ext" "$WORK/$ext/pgfarm-results" <<'PY'
import gzip, json, os, sys
ext, d = sys.argv[1], sys.argv[2]
rows = []
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    if not f.endswith('.pgfarm.json.gz'):
        continue
    b = json.load(gzip.open(os.path.join(d, f)))
    stages = {s['kind']: s['status'] for s in b['stages']}
    def count(items, key='status'):
        ok = sum(1 for t in items if t[key] == 'ok')
        return f"{ok}/{len(items)}" if items else stages.get('regress', '-')
    cells = [
        f"regress {count(b['regress'])}" if b['regress'] else f"regress {stages.get('regress', '-')}",
        f"isolation {count(b.get('isolation', []))}" if b.get('isolation') else f"isolation {stages.get('isolation', '-')}",
        f"tap {count(b['tap'])}" if b['tap'] else f"tap {stages.get('tap', '-')}",
        f"perl_tap {count(b.get('perl_tap', []))}" if b.get('perl_tap') else f"perl_tap {stages.get('perl_tap', '-')}",
        f"upgrade {stages.get('upgrade', '-')}",
    ]
    first = next((s for s in b['stages'] if s['status'] == 'failed'), None)
    why = f" ({first['kind']}: {first.get('error', '').splitlines()[0][:80]})" if first else ''
    rows.append(f"{ext:<18} {b['postgres']['major']:>2}  {b['run']['status']:<7} " + '  '.join(cells) + why)
print('\n'.join(rows) if rows else f"{ext:<18} no bundle written")
PY
done
