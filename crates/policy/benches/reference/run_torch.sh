#!/usr/bin/env bash
# Runs the PyTorch CPU reference of the policy benches (torch_bench.py beside this file).
#
# Creates the virtual environment target/torch-ref (repository root) with the pinned versions
# the fixtures' anchor numbers were recorded with, when it is absent or incomplete. The FIRST RUN
# DOWNLOADS ABOUT 6 GB from PyPI: the plain torch wheel pulls ~5.6 GB of nvidia-* CUDA packages,
# although everything here runs on the CPU. Nothing else is fetched: the model is the SmolLM2
# GGUF in $CROSSGYM_CACHE (default target/crossgym-cache; `cargo bench -p crossgym-policy` or
# the crossgym CLI put it there).
#
# Usage: crates/policy/benches/reference/run_torch.sh [torch_bench.py options]
#   e.g. --reps 3 | --quick | --only train_1x512_f32,decode_b8_bf16 | --with-8192
# Writes target/torch-ref/results.json (and prints the same JSON).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
venv="$root/target/torch-ref"
cache="${CROSSGYM_CACHE:-$root/target/crossgym-cache}"
gguf="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
python="${PYTHON:-python3}"

if [[ ! -f "$gguf" ]]; then
    echo "error: $gguf not found; set CROSSGYM_CACHE to the folder holding it" >&2
    exit 1
fi

if [[ ! -f "$venv/.installed" ]]; then
    echo "creating $venv: downloads about 6 GB (torch + nvidia-* wheels) on the first run" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --no-cache-dir \
        torch==2.15.0 transformers==5.23.0 tokenizers==0.23.3 gguf==0.19.0 \
        accelerate==1.15.0 numpy==2.4.6
    "$venv/bin/pip" freeze > "$venv/pip-freeze.txt"
    touch "$venv/.installed"
fi

exec "$venv/bin/python" "$root/crates/policy/benches/reference/torch_bench.py" \
    --gguf "$gguf" --out "$venv/results.json" "$@"
