#!/usr/bin/env bash
# AgentGym's own Python clients against `crossgym serve`, one server per env.
#
# For each env: the in-process oracle episodes (examples/oracle_episodes.rs) are written to a JSON
# file, `crossgym serve --env ENV --port 0` is started, tests/agentgym_clients.py replays the
# episodes through AgentGym's client class and compares every observation and reward, and the
# server is stopped with SIGTERM (it must exit 0: graceful shutdown).
#
# AGENTGYM_REFERENCE names the AgentGym checkout (the folder with agentenv/agentenv/envs); where it
# is absent this prints a loud SKIPPED line and exits 0. EPISODES (default 20) sets the episodes
# per env. The clients need `requests`, installed with pip into a venv under the target folder.
set -euo pipefail
cd "$(dirname "$0")/../../.."

ref="${AGENTGYM_REFERENCE:-}"
if [ -z "$ref" ] || [ ! -d "$ref/agentenv/agentenv/envs" ]; then
  echo "=============================================================================="
  echo "SKIPPED: AgentGym reference clients not found (set AGENTGYM_REFERENCE)"
  echo "=============================================================================="
  exit 0
fi
export AGENTGYM_REFERENCE="$(cd "$ref" && pwd)"
episodes="${EPISODES:-20}"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"

venv="$target/agentgym-clients-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import requests" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet requests
fi

cargo build --quiet -p crossgym-study --bin crossgym
cargo build --quiet -p crossgym-env-server --example oracle_episodes
crossgym="$target/debug/crossgym"
oracle="$target/debug/examples/oracle_episodes"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

status=0
for env in babyai textcraft alfworld webshop searchqa; do
  "$oracle" "$env" "$episodes" > "$work/$env.json"
  "$crossgym" serve --env "$env" --port 0 > "$work/$env.out" 2> "$work/$env.err" &
  server_pid=$!
  addr=""
  for _ in $(seq 1 600); do
    addr="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/$env.out")"
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    echo "crossgym serve --env $env did not start:"; cat "$work/$env.err"; exit 1
  fi
  "$venv/bin/python" crates/env-server/tests/agentgym_clients.py \
    --env "$env" --server "$addr" --episodes "$work/$env.json" || status=1
  kill -TERM "$server_pid"
  if ! wait "$server_pid"; then
    echo "crossgym serve --env $env did not shut down cleanly:"; cat "$work/$env.err"; status=1
  fi
  server_pid=""
done
exit $status
