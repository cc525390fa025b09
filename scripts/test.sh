#!/usr/bin/env bash
# Every check and test, as CI runs them (installing what they need first).
# Usage: bash scripts/test.sh
# Needs PostgreSQL on 127.0.0.1:5432 (trust) for the store tests; under
# CI=true a missing service fails the run instead of skipping.
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "set-up (Debian and PyPI packages the tests need, when missing)"
bash scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "the pure crates build for wasm32 (no I/O, no clock, no threads in model/expr/core)"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build -p baton-expr -p baton-model -p baton-core --target wasm32-unknown-unknown

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets 2>&1 | tee "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"
step "schemathesis against the served OpenAPI document (no 5xx, no schema violation)"
MAX_EXAMPLES=${MAX_EXAMPLES:-50} bash scripts/schemathesis.sh | tail -8

step "the web UI end to end (Chromium, a real baton serve)"
cargo build -p baton
e2e_log=$(mktemp)
trap 'rm -f "$log" "$e2e_log"' EXIT
(cd web/ui && node --test --test-concurrency=1 --test-reporter=tap e2e/) 2>&1 | tee "$e2e_log" | grep -E '^(not )?ok |^# (pass|fail|skipped)' || true
awk '/^# pass / { p = $3 } /^# fail / { f = $3 } END { printf "e2e: %d passed, %d failed\n", p, f }' "$e2e_log"
e2e_failed=$(awk '/^# fail / { print $3 }' "$e2e_log")
if [ "${e2e_failed:-1}" != 0 ]; then cat "$e2e_log"; fi

# One closing line with the totals of every test binary above.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f; exit (f > 0) }' "$log"
[ "${e2e_failed:-1}" = 0 ]
