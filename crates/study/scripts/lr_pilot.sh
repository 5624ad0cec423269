#!/usr/bin/env bash
# The `cpu` preset's GRPO learning-rate pilot, on train tasks only: from a study folder's
# warm-started base, STEPS GRPO steps on the equal mixture of the trained envs at each
# learning rate (the folder's other GRPO settings), then every model (the base too) evaluated on
# the first TASKS train tasks per env with the study's evaluation caps; `lr_pilot_table.py`
# prints avg@k per env over the train tasks that the warm start's demonstrations did not use,
# with each learning rate's paired change against the base (bootstrap 95% CI over tasks).
#
# usage: [STUDY=target/reproduce/cpu] [OUT=target/lr-pilot] [LRS=1e-4,3e-5,1e-5] [STEPS=6]
#        [TASKS=40] [K=2] crates/study/scripts/lr_pilot.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
study="${STUDY:-target/reproduce/cpu}" out="${OUT:-target/lr-pilot}" lrs="${LRS:-1e-4,3e-5,1e-5}"
steps="${STEPS:-6}" tasks="${TASKS:-40}" k="${K:-2}"
cd "$root"
base="$study/base/final"
if [ ! -f "$base/model.safetensors" ] || [ ! -f "$study/settings.toml" ]; then
  echo "no warm-started base in $study: run \`cargo xtask reproduce --preset cpu\` first" >&2
  exit 1
fi
cargo build --release -q -p crossgym-study --bin crossgym
bin=target/release/crossgym
mkdir -p "$out"
envs=searchqa,textcraft,babyai
eval_args=(--envs "$envs" --splits train --max-tasks "$tasks" --k "$k" --max-turns 8
  --max-tokens-per-turn 96 --max-total-tokens 1024 --seed 0 --quiet)
"$bin" eval --model "$base" "${eval_args[@]}" --out "$out/base.jsonl" --run base
for lr in ${lrs//,/ }; do
  # The study's [grpo] table at top level, with this pilot's steps and learning rate.
  python3 - "$study/settings.toml" "$lr" "$steps" > "$out/lr$lr.toml" <<'PY'
import re, sys
text, lr, steps = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
out, inside = [], False
for line in text.splitlines():
    if line.startswith("["):
        inside = line == "[grpo]" or line.startswith("[grpo.")
        if inside:
            line = None if line == "[grpo]" else "[" + line[len("[grpo."):]
    if inside and line is not None:
        out.append(line)
text = "\n".join(out) + "\n"
text = re.sub(r"^steps = \d+", f"steps = {steps}", text, flags=re.M)
text = re.sub(r"^lr = .*", f"lr = {float(lr)!r}", text, flags=re.M)
print(text, end="")
PY
  "$bin" train --model "$base" --envs "$envs" --config "$out/lr$lr.toml" --out "$out/lr$lr" --quiet
  "$bin" eval --model "$out/lr$lr/final" "${eval_args[@]}" --out "$out/lr$lr.jsonl" --run "lr$lr"
done
python3 "$(dirname "$0")/lr_pilot_table.py" "$study/base/demos.jsonl" "$out" ${lrs//,/ }
