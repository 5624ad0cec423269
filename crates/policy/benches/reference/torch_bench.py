"""PyTorch CPU reference for the policy benches: SmolLM2-135M-Instruct on 2 threads.

What is measured (each configuration in its own fresh Python process, so that its peak RSS,
`ru_maxrss` / `VmHWM` read at its end, belongs to that configuration alone):

* `train_BxT_{f32,bf16}`: one training step on B sequences of T random token ids (seed 0):
  forward, `loss = mean cross-entropy of ids[:, 1:] given ids[:, :-1]` over all B*(T-1)
  positions (what `benches/policy.rs` computes with `next_token_logprobs(..).mean().neg()`),
  backward, and `torch.optim.AdamW(lr=1e-5, weight_decay=0)` (the hyper-parameters of
  `policy.rs`'s `FusedAdamW`). Shapes 1x512, 4x256 (as in `policy.rs`), 1x2048, 1x4096, and
  1x8192 with `--with-8192`. The AdamW implementation is `--adamw` (default: PyTorch's default,
  the one the anchor numbers in the fixtures were recorded with); `fused=True` is also timed on
  the last gradients (`adamw_fused_s`).
* `grpo_4x256_{f32,bf16}`: the work of `crates/grpo/benches/update.rs`'s
  `grpo_update_4x256_no_ref`: 4 random sequences of 256 tokens (seed 0), tokens 0..64 the
  prompt (mask 0); π_old from a no-grad f32 forward first (not timed); then timed: the policy's
  log-probs and entropies with grad on `tokens[:, :-1] -> tokens[:, 1:]`, the PPO-clip loss
  (ε 0.2, advantages 1, -0.5, 0.25, -0.75, entropy coefficient 0.001, no KL, token mean over the
  masked tokens), backward, global grad-norm clip at 1.0 and AdamW(lr 1e-6, betas 0.9/0.999,
  eps 1e-8, weight decay 0.01).
* `decode_bN_{f32,bf16}`: KV-cached greedy decode as in `policy.rs`'s decode bench: the same
  ~100-token ChatML WebShop prompt (system + user message, generation prompt) in every row of
  a batch of N; the prefill is not timed; timed are 32 greedy choices (log-softmax + argmax on
  the logits, as the crate's greedy `Sampler` does) and the 31 single-token forward passes
  between them. tokens/s = N * 32 / time, criterion's throughput for that bench. (The warm-up
  is a prefill and 4 decode steps.)
* `prefill_1x2048_{f32,bf16}`: one no-grad forward of 2048 random ids (seed 0) that fills the
  KV cache and computes the logits of the last position only (as `Session::append` does).

`f32` runs the model as loaded (the GGUF dequantized to f32 `nn.Linear`s by transformers, with
no `kernels` package installed); `bf16` wraps the same f32 model's forward (and loss) in
`torch.autocast("cpu", dtype=torch.bfloat16)`. Every time is the median of `--reps`
repetitions after one warm-up. Random ids come from `torch.Generator().manual_seed(0)`, not
from the Rust benches' ChaCha8 stream: the values differ, the shapes and the work do not.

The machine may be shared: each configuration records /proc/loadavg before and after, and each
repetition the CPU time other processes used while it ran (`other_cores_busy`, in cores, from
/proc/stat minus this process's own CPU time), and each phase its own CPU seconds (`cpu_s`,
both threads together; OpenMP spin-waiting counts too). Timings with other_cores_busy well
above 0 are slowed by contention.

Setup and run (Python 3.11; the first setup downloads about 6 GB: the plain PyPI torch wheel
pulls the nvidia-* CUDA packages although it runs on the CPU here):

    crates/policy/benches/reference/run_torch.sh [--reps 3] [--only NAME,...] [--with-8192]

which creates `target/torch-ref` when absent and runs, with the GGUF from `$CROSSGYM_CACHE`
(default `target/crossgym-cache`):

    target/torch-ref/bin/python crates/policy/benches/reference/torch_bench.py \
        --out target/torch-ref/results.json

`--list` prints the configuration names. `--quick`: one repetition of a small subset.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO_ROOT = Path(__file__).resolve().parents[4]
THREADS = 2
DECODE_STEPS = 32
DECODE_WARMUP_STEPS = 4
PREFILL_TOKENS = 2048
SYSTEM = "You are an agent that shops on a website. Think, then act."
USER = (
    "WebShop [SEP] Instruction: [SEP] i need a long clip-in hair extension which is natural "
    "looking, and price lower than 40.00 dollars [SEP] Search. Available actions: "
    "search[...], click[...]. Reply with Thought: and Action: lines, one action per turn, "
    "and keep the thought short and specific to the page you see."
)
GRPO_ROWS, GRPO_LEN, GRPO_PROMPT = 4, 256, 64
GRPO_ADVANTAGES = [1.0, -0.5, 0.25, -0.75]


def config_names(with_8192):
    """Every configuration, in the order they run (cheapest first, so a stopped run has most)."""
    names = []
    for b, t in [(1, 512), (4, 256)]:
        names += [f"train_{b}x{t}_f32", f"train_{b}x{t}_bf16"]
    names += ["grpo_4x256_f32", "grpo_4x256_bf16"]
    for b in (1, 8, 16, 32):
        names += [f"decode_b{b}_f32", f"decode_b{b}_bf16"]
    names += [f"prefill_1x{PREFILL_TOKENS}_f32", f"prefill_1x{PREFILL_TOKENS}_bf16"]
    for b, t in [(1, 2048), (1, 4096)] + ([(1, 8192)] if with_8192 else []):
        names += [f"train_{b}x{t}_f32", f"train_{b}x{t}_bf16"]
    return names


QUICK = [
    "train_1x512_f32",
    "train_1x512_bf16",
    "grpo_4x256_f32",
    "decode_b1_f32",
    "decode_b8_f32",
    "prefill_1x2048_f32",
]


# ---------------------------------------------------------------- machine state


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def busy_jiffies():
    """Non-idle jiffies of all CPUs together (USER_HZ units)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle


class OtherLoad:
    """CPU cores used by other processes between `start()` and `stop()`."""

    def start(self):
        self.j = busy_jiffies()
        t = os.times()
        self.own = t.user + t.system
        self.wall = time.perf_counter()

    def stop(self):
        wall = time.perf_counter() - self.wall
        t = os.times()
        own = t.user + t.system - self.own
        busy = (busy_jiffies() - self.j) / os.sysconf("SC_CLK_TCK")
        return round(max(0.0, busy - own) / max(wall, 1e-9), 3)


def cpu_s():
    """User + system CPU seconds of this process (all its threads)."""
    t = os.times()
    return t.user + t.system


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def cpu_info():
    model, flags = None, set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model is None:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    wanted = ["avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile"]
    with open("/proc/meminfo") as f:
        mem = {l.split(":")[0]: int(l.split()[1]) for l in f}
    return {
        "cpu": model,
        "cpus_online": os.cpu_count(),
        "flags": {w: w in flags for w in wanted},
        "mem_total_gib": round(mem["MemTotal"] / 2**20, 1),
        "platform": platform.platform(),
    }


def wait_quiet(max_s, threshold=0.5, window=2.0):
    """Waits (at most `max_s` seconds) until the other processes use under `threshold` cores
    over a `window`-second sample; returns (seconds waited, last sample)."""
    t0 = time.perf_counter()
    busy = None
    while True:
        j = busy_jiffies()
        time.sleep(window)
        busy = round((busy_jiffies() - j) / os.sysconf("SC_CLK_TCK") / window, 3)
        waited = time.perf_counter() - t0
        if busy < threshold or waited >= max_s:
            return round(waited, 1), busy


def mem_available_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return None


def stats(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "all": values,
    }


# ---------------------------------------------------------------- child: one configuration


def child(args):
    """Runs one configuration and prints its result as JSON on the last stdout line."""
    if args.mem_limit_gb > 0:
        # Fail with an allocation error instead of waking the OOM killer on a shared machine.
        limit = int(args.mem_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    name = args.child
    m = re.fullmatch(r"(train|grpo|prefill)_(\d+)x(\d+)_(f32|bf16)", name)
    d = re.fullmatch(r"decode_b(\d+)_(f32|bf16)", name)
    if name not in config_names(True) or not (m or d):
        raise SystemExit(f"unknown configuration {name!r}; see --list")
    kind, mode = (m.group(1), m.group(4)) if m else ("decode", d.group(2))

    gguf = Path(args.gguf)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    load_s = time.perf_counter() - t0
    linear = model.model.layers[0].self_attn.q_proj
    out = {
        "config": name,
        "kind": kind,
        "mode": "f32" if mode == "f32" else "f32 weights, torch.autocast('cpu', bfloat16)",
        "model_load_s": round(load_s, 3),
        "q_proj": f"{type(linear).__name__}/{linear.weight.dtype}",
        "params": sum(p.numel() for p in model.parameters()),
        "attn_implementation": model.config._attn_implementation,
        "rss_after_load_mb": status_mb("VmRSS"),
        "reps": args.reps,
    }

    def ctx():
        if mode == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return nullcontext()

    vocab = model.config.vocab_size
    load = OtherLoad()
    if kind == "train":
        b, t = int(m.group(2)), int(m.group(3))
        out.update(train(model, b, t, ctx, args, load, torch, F))
    elif kind == "grpo":
        out.update(grpo(model, ctx, args, load, torch, vocab))
    elif kind == "decode":
        out.update(decode(model, int(d.group(1)), ctx, args, load, torch, gguf))
    else:
        out.update(prefill(model, int(m.group(3)), ctx, args, load, torch, vocab))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["vmhwm_mb"] = status_mb("VmHWM")
    print(json.dumps(out), flush=True)


def adamw(torch, params, impl, **kw):
    extra = {"fused": {"fused": True}, "foreach": {"foreach": True}}.get(impl, {})
    return torch.optim.AdamW(params, **kw, **extra)


def timed_step(opt, load, forward, clip=None):
    """One optimizer step, timed by phase: `forward()` returns the loss; `clip()` (if given) runs
    between backward and the optimizer and returns the gradient norm."""
    opt.zero_grad(set_to_none=True)
    load.start()
    t0, c0 = time.perf_counter(), cpu_s()
    loss = forward()
    t1, c1 = time.perf_counter(), cpu_s()
    loss.backward()
    t2, c2 = time.perf_counter(), cpu_s()
    grad_norm = None if clip is None else clip().item()
    opt.step()
    t3, c3 = time.perf_counter(), cpu_s()
    out = {
        "fwd_s": t1 - t0,
        "bwd_s": t2 - t1,
        "opt_s": t3 - t2,
        "step_s": t3 - t0,
        "cpu_s": {"fwd": c1 - c0, "bwd": c2 - c1, "opt": c3 - c2, "step": c3 - c0},
        "loss": loss.item(),
    }
    if grad_norm is not None:
        out["grad_norm"] = grad_norm
    out["other_cores_busy"] = load.stop()
    return out


def train(model, b, t, ctx, args, load, torch, F):
    model.train()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (b, t), generator=gen)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = adamw(torch, params, args.adamw, lr=1e-5, weight_decay=0.0)

    def forward():
        with ctx():
            logits = model(input_ids=ids, use_cache=False).logits
            return F.cross_entropy(
                logits[:, :-1].reshape(-1, vocab).float(), ids[:, 1:].reshape(-1)
            )

    def step():
        return timed_step(opt, load, forward)

    warm = step()
    runs = [step() for _ in range(args.reps)]
    out = {
        "batch": b,
        "seq_len": t,
        "tokens_per_step": b * t,
        "loss": "F.cross_entropy(logits[:, :-1], ids[:, 1:]): mean over B*(T-1) positions",
        "optimizer": f"torch.optim.AdamW(lr=1e-5, weight_decay=0), implementation {args.adamw}",
        "warmup": warm,
        "runs": runs,
    }
    for k in ("fwd_s", "bwd_s", "opt_s", "step_s"):
        out[k] = stats([r[k] for r in runs])
    out["tokens_per_s"] = b * t / out["step_s"]["median"]
    # The fused AdamW kernel on the last gradients (the parameters move, nothing else changes).
    fused = adamw(torch, params, "fused", lr=1e-5, weight_decay=0.0)
    times = []
    for _ in range(args.reps + 1):
        t0 = time.perf_counter()
        fused.step()
        times.append(time.perf_counter() - t0)
    out["adamw_fused_s"] = stats(times[1:])
    return out


def grpo(model, ctx, args, load, torch, vocab):
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (GRPO_ROWS, GRPO_LEN), generator=gen)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    # loss_mask[i] = i >= PROMPT over the tokens; aligned with the targets it starts at PROMPT - 1.
    mask = torch.zeros(GRPO_ROWS, GRPO_LEN - 1)
    mask[:, GRPO_PROMPT - 1 :] = 1.0
    n_tokens = mask.sum()
    adv = torch.tensor(GRPO_ADVANTAGES).unsqueeze(1)
    model.eval()
    with torch.no_grad():
        logp_all = torch.log_softmax(model(input_ids=inputs, use_cache=False).logits, -1)
        old = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        del logp_all
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = adamw(
        torch, params, args.adamw, lr=1e-6, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
    )

    def forward():
        with ctx():
            logits = model(input_ids=inputs, use_cache=False).logits
        logp_all = torch.log_softmax(logits.float(), -1)
        logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        ratio = torch.exp(logp - old)
        surr1 = ratio * adv
        surr2 = ratio.clamp(0.8, 1.2) * adv
        per_token = -torch.minimum(surr1, surr2) - 0.001 * entropy
        return (per_token * mask).sum() / n_tokens

    def step():
        return timed_step(
            opt, load, forward, clip=lambda: torch.nn.utils.clip_grad_norm_(params, 1.0)
        )

    warm = step()
    runs = [step() for _ in range(args.reps)]
    out = {
        "batch": GRPO_ROWS,
        "seq_len": GRPO_LEN,
        "forward_tokens": GRPO_ROWS * (GRPO_LEN - 1),
        "loss_tokens": int(n_tokens.item()),
        "loss": "PPO-clip (eps 0.2) - 0.001 * entropy, token mean over masked tokens, no KL",
        "optimizer": "clip_grad_norm_(1.0) + torch.optim.AdamW(lr=1e-6, weight_decay=0.01), "
        f"implementation {args.adamw}",
        "warmup": warm,
        "runs": runs,
    }
    for k in ("fwd_s", "bwd_s", "opt_s", "step_s"):
        out[k] = stats([r[k] for r in runs])
    return out


def prompt_ids(gguf):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return tok(text, add_special_tokens=False).input_ids, tok


def decode(model, batch, ctx, args, load, torch, gguf):
    model.eval()
    prompt, tok = prompt_ids(gguf)
    ids = torch.tensor([prompt] * batch)

    def run(steps=DECODE_STEPS):
        with torch.inference_mode():
            t0 = time.perf_counter()
            with ctx():
                out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            prefill_s = time.perf_counter() - t0
            cache, logits = out.past_key_values, out.logits[:, -1]
            generated = []
            load.start()
            t0, c0 = time.perf_counter(), cpu_s()
            for step in range(steps):
                logp = torch.log_softmax(logits.float(), -1)
                nxt = logp.argmax(-1)
                logp.gather(-1, nxt.unsqueeze(-1))
                generated.append(nxt)
                if step + 1 == steps:
                    break
                with ctx():
                    out = model(input_ids=nxt.unsqueeze(-1), past_key_values=cache, use_cache=True)
                cache, logits = out.past_key_values, out.logits[:, -1]
            decode_s, decode_cpu_s = time.perf_counter() - t0, cpu_s() - c0
            busy = load.stop()
        gen_ids = torch.stack(generated, 1)
        return {
            "prefill_s": prefill_s,
            "decode_s": decode_s,
            "decode_cpu_s": decode_cpu_s,
            "tokens_per_s": batch * steps / decode_s,
            "ms_per_step": 1000 * decode_s / (steps - 1),
            "other_cores_busy": busy,
        }, gen_ids

    warm, _ = run(DECODE_WARMUP_STEPS)
    runs, gen_ids = [], None
    for _ in range(args.reps):
        r, gen_ids = run()
        runs.append(r)
    out = {
        "batch": batch,
        "prompt_tokens": len(prompt),
        "new_tokens": DECODE_STEPS,
        "forward_steps_timed": DECODE_STEPS - 1,
        "rows_identical": bool((gen_ids == gen_ids[0]).all().item()),
        "first_row_ids": gen_ids[0].tolist(),
        "first_row_text": tok.decode(gen_ids[0].tolist()),
        "warmup": warm,
        "runs": runs,
    }
    for k in ("decode_s", "tokens_per_s", "ms_per_step", "prefill_s"):
        out[k] = stats([r[k] for r in runs])
    return out


def prefill(model, t, ctx, args, load, torch, vocab):
    model.eval()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (1, t), generator=gen)

    def run():
        with torch.inference_mode():
            load.start()
            t0, c0 = time.perf_counter(), cpu_s()
            with ctx():
                model(input_ids=ids, use_cache=True, logits_to_keep=1)
            s, c = time.perf_counter() - t0, cpu_s() - c0
        busy = load.stop()
        return {"prefill_s": s, "cpu_s": c, "tokens_per_s": t / s, "other_cores_busy": busy}

    warm = run()
    runs = [run() for _ in range(args.reps)]
    out = {"batch": 1, "tokens": t, "warmup": warm, "runs": runs}
    for k in ("prefill_s", "tokens_per_s"):
        out[k] = stats([r[k] for r in runs])
    return out


# ---------------------------------------------------------------- parent: all configurations


def versions():
    out = {"python": platform.python_version()}
    import importlib.metadata
    import importlib.util

    for mod in ("torch", "transformers", "tokenizers", "gguf", "accelerate", "numpy"):
        try:
            out[mod] = importlib.metadata.version(mod)
        except importlib.metadata.PackageNotFoundError:
            out[mod] = None
    out["kernels_installed"] = importlib.util.find_spec("kernels") is not None
    try:
        import torch

        torch.set_num_threads(THREADS)
        torch.set_num_interop_threads(1)
        out["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        out["mkldnn_available"] = torch.backends.mkldnn.is_available()
        out["mkl_available"] = torch.backends.mkl.is_available()
        out["torch_parallel_info"] = torch.__config__.parallel_info().splitlines()[:6]
    except Exception as e:  # noqa: BLE001
        out["torch_backends"] = f"unavailable: {e}"
    return out


def summary_row(name, r):
    if "error" in r:
        return {"config": name, "error": r["error"]}
    row = {"config": name, "peak_rss_mb": round(r["peak_rss_mb"])}
    for k in ("step_s", "fwd_s", "bwd_s", "opt_s", "tokens_per_s", "ms_per_step", "prefill_s"):
        v = r.get(k)
        if isinstance(v, dict):
            row[k] = round(v["median"], 4)
        elif isinstance(v, float):
            row[k] = round(v, 2)
    busy = [x["other_cores_busy"] for x in r.get("runs", [])]
    row["other_cores_busy_max"] = max(busy) if busy else None
    row["loadavg"] = [r["loadavg_before"][0], r["loadavg_after"][0]]
    return row


def parent(args):
    names = config_names(args.with_8192)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in config_names(True)]
        if unknown:
            raise SystemExit(f"unknown configuration(s) {unknown}; see --list")
        names = wanted
    elif args.quick:
        names = QUICK
    gguf = Path(args.gguf)
    if not gguf.is_file():
        raise SystemExit(f"{gguf}: no such GGUF (set CROSSGYM_CACHE or --gguf)")
    with open(gguf, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    report = {
        "benchmark": "crossgym policy reference: SmolLM2-135M-Instruct, PyTorch CPU",
        "versions": versions(),
        "machine": cpu_info(),
        "settings": {
            "threads": THREADS,
            "interop_threads": 1,
            "reps": args.reps,
            "warmup": 1,
            "adamw": args.adamw,
            "gguf": gguf.name,
            "gguf_sha256": sha,
            "gguf_bytes": gguf.stat().st_size,
            "argv": sys.argv[1:],
        },
        "configs": {},
    }
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for name in names:
        avail = mem_available_gib()
        limit = args.mem_limit_gb
        if limit is None:
            limit = max(2.0, avail - 1.5) if avail else 0
        cmd = [sys.executable, __file__, "--child", name, "--gguf", str(gguf)]
        cmd += ["--reps", str(args.reps), "--adamw", args.adamw, "--mem-limit-gb", str(limit)]
        waited, busy = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else (0.0, None)
        before = loadavg()
        print(f"[{name}] loadavg {' '.join(before)}, MemAvailable {avail:.1f} GiB", file=sys.stderr)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        lines = proc.stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = proc.stderr.strip().splitlines()[-8:]
            result = {"error": f"exit code {proc.returncode}", "stderr_tail": tail}
        result.update(
            loadavg_before=before,
            loadavg_after=loadavg(),
            wall_s=round(wall, 1),
            returncode=proc.returncode,
            mem_available_gib_before=round(avail, 1) if avail else None,
            mem_limit_gib=round(limit, 1),
            waited_for_quiet_s=waited,
            cores_busy_before=busy,
        )
        report["configs"][name] = result
        row = summary_row(name, result)
        print(f"[{name}] {json.dumps(row)}", file=sys.stderr, flush=True)
        if args.out:  # written after every configuration, so a stopped run keeps what it has
            report["summary"] = [summary_row(n, r) for n, r in report["configs"].items()]
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    report["summary"] = [summary_row(n, r) for n, r in report["configs"].items()]
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


def default_gguf():
    cache = os.environ.get("CROSSGYM_CACHE") or str(REPO_ROOT / "target" / "crossgym-cache")
    return str(Path(cache) / GGUF_NAME)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gguf", default=default_gguf(), help="default: $CROSSGYM_CACHE/" + GGUF_NAME)
    p.add_argument("--out", help="also write the JSON report here")
    p.add_argument("--only", help="comma-separated configuration names (see --list)")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions after one warm-up")
    p.add_argument("--quick", action="store_true", help="1 repetition of a small subset")
    p.add_argument("--with-8192", action="store_true", help="add train_1x8192_* (needs ~30 GB)")
    p.add_argument("--adamw", choices=["default", "foreach", "fused"], default="default")
    p.add_argument(
        "--mem-limit-gb",
        type=float,
        default=None,
        help="RLIMIT_DATA of each configuration's process (default: MemAvailable - 1.5 GiB; 0: none)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each configuration, wait up to this many seconds for the other processes "
        "to use under 0.5 cores (default 0: no wait)",
    )
    p.add_argument("--list", action="store_true", help="print the configuration names")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.list:
        print("\n".join(config_names(True)))
        return
    if args.quick and args.reps == 3 and "--reps" not in sys.argv:
        args.reps = 1
    if args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
