#!/usr/bin/env bash
# `crossgym eval --url` against llama.cpp's server (PyPI wheel xllamacpp, serving the SmolLM2 GGUF
# with N parallel slots on 127.0.0.1): the same tasks at --concurrency 1 and --concurrency N, in
# one sitting, with the wall time of each and their ratio.
#
# usage: crates/study/benches/remote_eval.sh [--envs babyai] [--tasks 4] [--k 4] [--turns 5]
#                                           [--tokens 48] [--parallel 8]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
envs=babyai tasks=4 k=4 turns=5 tokens=48 parallel=8
while [ $# -gt 0 ]; do
  case "$1" in
    --envs) envs="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --k) k="$2"; shift 2 ;;
    --turns) turns="$2"; shift 2 ;;
    --tokens) tokens="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cd "$root"
python="$(bash crates/study/tests/llama_server/setup.sh)"
cache="${CROSSGYM_CACHE:-$root/target/crossgym-cache}"
gguf="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$gguf" ]; then
  echo "no $gguf: run the policy tests once (they fetch it) or set CROSSGYM_CACHE" >&2
  exit 1
fi
cargo build --release -q -p crossgym-study --bin crossgym
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$python" crates/study/tests/llama_server/serve.py --model "$gguf" --port "$port" \
  --parallel "$parallel" --ctx-per-slot 4096 --until-signal >"$work/server.out" 2>"$work/server.log" </dev/null &
server=$!
for _ in $(seq 600); do
  grep -q listening "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q listening "$work/server.out" || { cat "$work/server.log" >&2; exit 1; }
echo "llama.cpp server: $parallel slots on port $port; $envs, $tasks tasks x k=$k, $turns turns, <=$tokens tokens a reply"
declare -A seconds
for c in 1 "$parallel"; do
  start=$(date +%s.%N)
  target/release/crossgym eval --url "http://127.0.0.1:$port/v1" --model smollm2 --envs "$envs" \
    --k "$k" --max-tasks "$tasks" --max-turns "$turns" --max-tokens-per-turn "$tokens" \
    --concurrency "$c" --seed 1 --quiet --out "$work/c$c.jsonl" >"$work/c$c.txt"
  end=$(date +%s.%N)
  seconds[$c]=$(python3 -c "print(f'{$end-$start:.1f}')")
  echo "concurrency $c: ${seconds[$c]} s, $(wc -l <"$work/c$c.jsonl") episodes, $(python3 -c "
import json
print(sum(json.loads(l)['generated_tokens'] for l in open('$work/c$c.jsonl')))") generated tokens"
done
python3 -c "print(f'speed-up at concurrency $parallel: {${seconds[1]}/${seconds[$parallel]}:.2f}x')"
