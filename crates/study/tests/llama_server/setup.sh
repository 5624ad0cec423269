#!/usr/bin/env bash
# Installs llama.cpp's OpenAI-compatible server (the PyPI wheel xllamacpp, pinned) into a virtual
# environment, by default target/llama-server at the workspace root; prints the venv's python.
# Used by the study's llama_server test and by benches/remote_eval.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
venv="${CROSSGYM_LLAMA_VENV:-$root/target/llama-server}"
requirement="xllamacpp==2026.10.11549"
if ! "$venv/bin/python" -c "import xllamacpp" >/dev/null 2>&1; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
fi
echo "$venv/bin/python"
