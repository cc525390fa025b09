#!/usr/bin/env bash
# What the build and the tests need beyond Rust and the databases, installed
# when missing: Node.js and npm (web/build.rs builds the browser UI), OpenSSH
# (the SSH node tests start a throw-away sshd), procps, Chromium and a CJK
# font (the UI's end-to-end test), Python's aiosmtpd (the mail node's tests)
# and schemathesis (the API schema test).
set -euo pipefail

declare -A NEED=([sshd]=openssh-server [ssh-keygen]=openssh-client [scp]=openssh-client [pgrep]=procps
  [node]=nodejs [npm]=npm [chromium]=chromium)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q schemathesis
