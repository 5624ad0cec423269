//! Times training steps of SmolLM2-135M-Instruct (CPU, f32 weights) and reports the split of the
//! step time and the process's peak RSS, for one configuration per process (so the peak belongs
//! to it alone).
//!
//! ```sh
//! cargo run --release -p crossgym-policy --example train_step -- \
//!     [--rows B] [--len T] [--steps N] [--path linear|graph] [--matmul f32|bf16] \
//!     [--recompute auto|always|never]
//! ```
//!
//! Each step is forward + next-token log-probs + backward + AdamW ([`FusedAdamW`]) on random
//! token ids (seeded). `--path linear` (default) is [`CausalLm::loss_and_gradients`]: block by
//! block, the output head in row chunks, memory linear in `T`; `--path graph` is one candle
//! graph over the whole model with full logits (the path before it). `--matmul` picks the
//! matrix-product backend (`bf16` needs AMX-BF16). The last line is `VmHWM`, the peak resident
//! set of the whole process (model, gradients, optimizer state included).

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{FusedAdamW, Pretrained, Recompute, fetch, next_token_logprobs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The command line.
struct Args {
    rows: usize,
    len: usize,
    steps: usize,
    graph: bool,
    backend: MatmulBackend,
    recompute: Recompute,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        rows: 1,
        len: 512,
        steps: 3,
        graph: false,
        backend: crossgym_policy::matmul::backend(),
        recompute: Recompute::Auto,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--rows" => args.rows = number()?,
            "--len" => args.len = number()?,
            "--steps" => args.steps = number()?,
            "--path" => args.graph = value == "graph",
            "--matmul" => {
                args.backend = match value.as_str() {
                    "f32" => MatmulBackend::F32,
                    "bf16" => MatmulBackend::Bf16Amx,
                    other => return Err(format!("--matmul {other}: expected f32 or bf16")),
                }
            }
            "--recompute" => {
                args.recompute = match value.as_str() {
                    "auto" => Recompute::Auto,
                    "always" => Recompute::Always,
                    "never" => Recompute::Never,
                    other => {
                        return Err(format!(
                            "--recompute {other}: expected auto, always or never"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    crossgym_policy::memory::keep_freed_memory();
    let args = parse()?;
    let (b, t) = (args.rows, args.len);
    let cache = match std::env::var_os("CROSSGYM_CACHE").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        )),
    };
    let p = Pretrained::load_gguf(fetch::smollm2_gguf(&cache)?, DType::F32, &Device::Cpu)?;
    let mut model = p.model;
    model.set_matmul_backend(args.backend);
    let params = ParamsAdamW {
        lr: 1e-5,
        weight_decay: 0.0,
        ..Default::default()
    };
    let mut opt = FusedAdamW::new(model.varmap().all_vars(), params)?;
    let vocab = model.config().vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<u32> = (0..b * t).map(|_| rng.random_range(0..vocab)).collect();
    let ids = Tensor::from_vec(ids, (b, t), &Device::Cpu)?;
    // Next-token targets; the last position's (wrapped) target is left out of the loss.
    let targets = Tensor::cat(&[ids.narrow(1, 1, t - 1)?, ids.narrow(1, 0, 1)?], 1)?;
    println!(
        "{b}x{t}, path {}, matmul {:?}, recompute {:?}",
        if args.graph { "graph" } else { "linear" },
        model.matmul_backend(),
        args.recompute
    );
    for step in 0..args.steps {
        let start = Instant::now();
        let (loss_value, grads, backward_done) = if args.graph {
            let logits = model.forward(&ids)?;
            let loss = next_token_logprobs(&logits, &ids)?.mean_all()?.neg()?;
            let value = loss.to_scalar::<f32>()?;
            let grads = loss.backward()?;
            (value, grads, start.elapsed())
        } else {
            let out = model.loss_and_gradients(&ids, &targets, 1.0, args.recompute, |terms| {
                Ok::<_, crossgym_policy::PolicyError>(
                    terms.logp.narrow(1, 0, t - 1)?.mean_all()?.neg()?,
                )
            })?;
            (out.loss.to_scalar::<f32>()?, out.gradients, start.elapsed())
        };
        opt.step(&grads)?;
        drop(grads);
        let total = start.elapsed();
        println!(
            "step {step}: loss {loss_value:.4}  forward+backward {:.3} s, AdamW {:.3} s, total {:.3} s",
            backward_done.as_secs_f64(),
            (total - backward_done).as_secs_f64(),
            total.as_secs_f64(),
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: unknown");
    println!("peak RSS ({hwm})");
    Ok(())
}
