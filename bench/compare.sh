#!/usr/bin/env bash
# Baton beside SpiffWorkflow and bpmn-engine: same BPMN models, same machine,
# same run. Prints each case's median of RUNS runs (instances per second).
#
#   bash bench/compare.sh            # env: RUNS=3 N_MEM=200000 N_PAR_MEM=50000 N_SQL=50000 N_PAR_SQL=10000
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
RUNS=${RUNS:-3}
N_MEM=${N_MEM:-200000}; N_PAR_MEM=${N_PAR_MEM:-50000}
N_SQL=${N_SQL:-50000}; N_PAR_SQL=${N_PAR_SQL:-10000}

# The peers' directory is read-only: work on a copy (run_all.sh writes its models).
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r "$PEERS"/. "$WORK"/
chmod -R u+w "$WORK"

(cd "$ROOT" && cargo build --release --bin baton -q)
BATON="${CARGO_TARGET_DIR:-$ROOT/target}/release/baton"

echo "# $(date -u +%FT%TZ) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "## peers (bench/peers/run_all.sh)"
bash "$WORK/run_all.sh"

echo "## baton"
summary() { python3 "$ROOT/bench/summary.py"; }
case_() { # file instances store
  for _ in $(seq "$RUNS"); do "$BATON" bench run "$WORK/$1" --instances "$2" --store "$3" 2>/dev/null; done | summary
}
case_ simple-noop.bpmn "$N_MEM" memory
case_ parallel10-noop.bpmn "$N_PAR_MEM" memory
case_ simple-noop.bpmn "$N_SQL" sqlite
case_ parallel10-noop.bpmn "$N_PAR_SQL" sqlite
