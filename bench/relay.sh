#!/usr/bin/env bash
# `noop` jobs through one relay link, end to end through the server: the
# engine, the relay hub and its TLS listener in `baton`, a real release
# `sub-manager` child (journal on disk, fsynced) on loopback. RUNS runs of
# `baton bench relay`; one JSON line each (latency p50/p99/max, jobs/s).
# Targets (issue 4): p99 ≤ 5 ms, ≥ 20,000 jobs/s.
#
#   bash bench/relay.sh            # env: RUNS=3 SINGLE=2000 INSTANCES=50000 STORE=sqlite
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
SINGLE=${SINGLE:-2000}
INSTANCES=${INSTANCES:-50000}
STORE=${STORE:-sqlite}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build -q --release -p baton -p sub-manager --bin baton --bin sub-manager)
echo "# $(date -u +%FT%TZ) on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for _ in $(seq "$RUNS"); do
  "$TARGET/release/baton" bench relay --single "$SINGLE" --instances "$INSTANCES" --store "$STORE" \
    --sub-manager "$TARGET/release/sub-manager"
done
