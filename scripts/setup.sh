#!/usr/bin/env bash
# What the tests need beyond Rust and the databases, installed when missing:
# OpenSSH (the SSH node tests start a throw-away sshd), procps, Python's
# aiosmtpd (the mail node's tests) and schemathesis (the API schema test).
set -euo pipefail

declare -A NEED=([sshd]=openssh-server [ssh-keygen]=openssh-client [scp]=openssh-client [pgrep]=procps)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q schemathesis
