#!/usr/bin/env bash
# Baton's xlsx report filler beside openpyxl: the same template (one list row
# with 10 list placeholders, a header above, a SUM below) filled with the same
# ROWS × 10 table, RUNS times each. Prints the median wall times as a Markdown
# table, then one JSON line with the machine it ran on.
#
#   bash bench/report.sh            # env: ROWS=100000 RUNS=3 BENCH_DIR=/tmp/baton-bench-report
#
# BATON_FILL is the command that fills (TEMPLATE DATA OUT); by default
# `baton report fill TEMPLATE --data DATA -o OUT`, the release CLI built here.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${ROWS:-100000}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/baton-bench-report}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV="$BENCH_DIR/venv"

command -v python3 >/dev/null || { echo "missing python3 (apt-get install python3-venv)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import openpyxl' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q openpyxl
fi

(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build -q --release --bin baton && \
  CARGO_TARGET_DIR="$TARGET" cargo build -q --release -p baton-reports --example make_bench_template)
baton_fill() { "$TARGET/release/baton" report fill "$1" --data "$2" -o "$3"; }
LABEL=${BATON_FILL:-baton report fill}
BATON_FILL=${BATON_FILL:-baton_fill}
"$TARGET/release/examples/make_bench_template" "$BENCH_DIR" "$ROWS" >/dev/null
TEMPLATE="$BENCH_DIR/template.xlsx"
DATA="$BENCH_DIR/data.json"

# Runs "$@" RUNS times; prints the wall times in seconds, one per line.
times() {
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
  done
}
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

# shellcheck disable=SC2086 # BATON_FILL may be a command with arguments
BATON=$(times $BATON_FILL "$TEMPLATE" "$DATA" "$BENCH_DIR/out-baton.xlsx" | median)
OPENPYXL=$(times "$VENV/bin/python" "$ROOT/bench/report_openpyxl.py" "$TEMPLATE" "$DATA" "$BENCH_DIR/out-openpyxl.xlsx" | median)

# Both outputs must hold the same rows (header rows + ROWS + total).
count_rows() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    n = 0
    with z.open("xl/worksheets/sheet1.xml") as f:
        tail = b""
        while chunk := f.read(1 << 20):
            n += (tail + chunk).count(b"<row ") - tail.count(b"<row ")
            tail = chunk[-8:]
print(n)
PY
}
RB=$(count_rows "$BENCH_DIR/out-baton.xlsx")
RO=$(count_rows "$BENCH_DIR/out-openpyxl.xlsx")
[ "$RB" = "$RO" ] || { echo "row counts differ: baton $RB, openpyxl $RO" >&2; exit 1; }

RATIO=$(awk -v a="$OPENPYXL" -v b="$BATON" 'BEGIN { printf "%.1f", a / b }')
OPENPYXL_VERSION=$("$VENV/bin/python" -c 'import openpyxl; print(openpyxl.__version__)')
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "Report fill: 1 list row × 10 list placeholders, $ROWS rows ($((ROWS * 10)) cells), median of $RUNS runs"
echo
echo "| filler | median (s) | vs Baton |"
echo "|---|---:|---:|"
echo "| Baton (\`${LABEL##*/}\`) | $BATON | 1.0× |"
echo "| openpyxl $OPENPYXL_VERSION | $OPENPYXL | ${RATIO}× slower |"
echo
printf '{"bench":"report-fill","rows":%s,"cells":%s,"runs":%s,"baton_s":%s,"openpyxl_s":%s,"ratio":%s,"rows_out":%s,"machine":{"cpus":%s,"cpu":"%s"}}\n' \
  "$ROWS" "$((ROWS * 10))" "$RUNS" "$BATON" "$OPENPYXL" "$RATIO" "$RB" "$(nproc)" "$CPU"
