#!/usr/bin/env bash
# Baton's `remote-command` beside Ansible and parallel-ssh: `uname -a` on
# SESSIONS SSH sessions at once, against one throw-away sshd on 127.0.0.1,
# with the same key, in the same run. Prints the median wall time of RUNS
# runs of each as a Markdown table.
#
#   bash bench/ssh.sh            # env: SESSIONS=100 RUNS=5
#
# Every tool opens a fresh connection per session (Ansible's ControlPersist
# is off: a warm master would carry connections over from the previous run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SESSIONS=${SESSIONS:-100}
RUNS=${RUNS:-5}
VENV=${ANSIBLE_VENV:-/tmp/baton-bench-ansible}

for c in /usr/sbin/sshd ssh-keygen parallel-ssh python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "missing $c (apt-get install openssh-server openssh-client pssh python3-venv)" >&2; exit 1; }
done
if [ ! -x "$VENV/bin/ansible" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q ansible-core
fi

WORK=$(mktemp -d)
SSHD_PID=
cleanup() { [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

USER_NAME=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$WORK/id"
cp "$WORK/id.pub" "$WORK/authorized_keys"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SFTP=/usr/lib/openssh/sftp-server
[ -x "$SFTP" ] || SFTP=internal-sftp
cat > "$WORK/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_key
PidFile none
UsePAM no
StrictModes no
AuthorizedKeysFile $WORK/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
PermitRootLogin yes
MaxStartups 200
MaxSessions 200
LogLevel ERROR
Subsystem sftp $SFTP
CFG
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
SSHD_PID=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.1)" 2>/dev/null && break
  sleep 0.1
done

# Baton: the remote-command node, SESSIONS at once in one process.
(cd "$ROOT" && cargo build --release -q -p baton-nodes --example ssh_bench)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/ssh_bench"
BATON_CMD="$BIN --host 127.0.0.1 --port $PORT --user $USER_NAME --key $WORK/id --sessions $SESSIONS --quiet"

# Ansible: SESSIONS aliases of the same host, as many forks.
{
  echo "[all]"
  for i in $(seq "$SESSIONS"); do echo "h$i ansible_host=127.0.0.1"; done
  echo "[all:vars]"
  echo "ansible_port=$PORT"
  echo "ansible_user=$USER_NAME"
  echo "ansible_ssh_private_key_file=$WORK/id"
  echo "ansible_python_interpreter=/usr/bin/python3"
} > "$WORK/inventory"
cat > "$WORK/ansible.cfg" <<CFG
[defaults]
host_key_checking = False
forks = $SESSIONS
retry_files_enabled = False
interpreter_python = /usr/bin/python3
[ssh_connection]
ssh_args = -o ControlMaster=no -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
CFG
ANSIBLE_CMD="ANSIBLE_CONFIG=$WORK/ansible.cfg $VENV/bin/ansible all -i $WORK/inventory -f $SESSIONS -m command -a 'uname -a'"

# parallel-ssh: SESSIONS lines naming the same host.
for i in $(seq "$SESSIONS"); do echo "$USER_NAME@127.0.0.1:$PORT"; done > "$WORK/hosts"
PSSH_CMD="parallel-ssh -p $SESSIONS -h $WORK/hosts -o $WORK/pssh-out -x '-i $WORK/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes' 'uname -a'"

# Each must work before it is timed.
echo "checking that each tool works..." >&2
eval "$BATON_CMD" >/dev/null || { echo "baton failed" >&2; exit 1; }
eval "$ANSIBLE_CMD" >/dev/null || { echo "ansible failed" >&2; exit 1; }
eval "$PSSH_CMD" >/dev/null || { echo "parallel-ssh failed" >&2; exit 1; }

median_of() { # name command -> prints "name median"
  echo "timing $1 ($RUNS runs)..." >&2
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -w 1 -r "$RUNS" --export-json "$WORK/$1.json" "$2" >/dev/null 2>&1 \
      || { echo "$1 failed under hyperfine" >&2; exit 1; }
    python3 -c "import json,sys; print('$1', json.load(open('$WORK/$1.json'))['results'][0]['median'])"
  else
    local t=()
    for _ in $(seq "$RUNS"); do
      local s e
      s=$(date +%s.%N); eval "$2" >/dev/null 2>&1; e=$(date +%s.%N)
      t+=("$(python3 -c "print($e-$s)")")
    done
    python3 -c "import statistics,sys; print('$1', statistics.median(map(float, sys.argv[1:])))" "${t[@]}"
  fi
}

{
  median_of baton "$BATON_CMD"
  median_of ansible "$ANSIBLE_CMD"
  median_of parallel-ssh "$PSSH_CMD"
} > "$WORK/medians"

echo "# ssh: \`uname -a\` on $SESSIONS sessions, $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $( /usr/sbin/sshd -V 2>&1 | head -1 ); ansible-core $("$VENV/bin/ansible" --version | head -1 | grep -o '[0-9.]*' | head -1); median of $RUNS runs"
python3 - "$WORK/medians" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
base = float(rows[0][1])
print("| tool | median wall (s) | ratio to Baton |")
print("|---|---:|---:|")
for name, t in rows:
    print(f"| {name} | {float(t):.3f} | {float(t)/base:.2f}× |")
PY
