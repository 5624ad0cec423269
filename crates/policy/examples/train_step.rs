//! Times training steps of SmolLM2-135M-Instruct (f32, CPU) and reports the process's peak RSS.
//!
//! ```sh
//! cargo run --release -p crossgym-policy --example train_step -- [BATCH] [TOKENS] [STEPS] [candle]
//! ```
//!
//! Each step is forward + next-token log-probs + backward + AdamW on random token ids (seeded),
//! the same work as the `train_step/fwd_bwd_adamw` bench: [`crossgym_policy::FusedAdamW`], or
//! candle-nn's `AdamW` when the fourth argument is `candle`. The default is 1×512, 3 steps. The last
//! line is `VmHWM`, the peak resident set of the whole process (model, gradients, optimizer
//! state included).

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use crossgym_policy::{FusedAdamW, Pretrained, fetch, next_token_logprobs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// User + system CPU time of this process so far (`/proc/self/stat`, in clock ticks of 10 ms;
/// 0 where /proc is absent). With `RAYON_NUM_THREADS=1` it measures the work itself, unlike
/// wall time on a loaded machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// The optimizer under test.
enum Opt {
    Candle(AdamW),
    Fused(FusedAdamW),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let candle_adamw = args.last().is_some_and(|a| a == "candle");
    if candle_adamw {
        args.pop();
    }
    let args: Vec<usize> = args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let b = args.first().copied().unwrap_or(1);
    let t = args.get(1).copied().unwrap_or(512);
    let steps = args.get(2).copied().unwrap_or(3);
    let cache = match std::env::var_os("CROSSGYM_CACHE").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        )),
    };
    let p = Pretrained::load_gguf(fetch::smollm2_gguf(&cache)?, DType::F32, &Device::Cpu)?;
    let model = p.model;
    let params = ParamsAdamW {
        lr: 1e-5,
        weight_decay: 0.0,
        ..Default::default()
    };
    let mut opt = if candle_adamw {
        Opt::Candle(AdamW::new(model.varmap().all_vars(), params)?)
    } else {
        Opt::Fused(FusedAdamW::new(model.varmap().all_vars(), params)?)
    };
    let vocab = model.config().vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<u32> = (0..b * t).map(|_| rng.random_range(0..vocab)).collect();
    let ids = Tensor::from_vec(ids, (b, t), &Device::Cpu)?;
    for step in 0..steps {
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        let logits = model.forward(&ids)?;
        let forward = start.elapsed();
        let loss = next_token_logprobs(&logits, &ids)?.mean_all()?.neg()?;
        let loss_value = loss.to_scalar::<f32>()?;
        let with_loss = start.elapsed();
        let grads = loss.backward()?;
        let backward = start.elapsed();
        match &mut opt {
            Opt::Candle(o) => o.step(&grads)?,
            Opt::Fused(o) => o.step(&grads)?,
        }
        drop(grads);
        let total = start.elapsed();
        println!(
            "step {step}: {b}x{t} loss {loss_value:.4}  forward {:.3} s, log-probs {:.3} s, backward {:.3} s, AdamW {:.3} s, total {:.3} s (CPU time {:.2} s)",
            forward.as_secs_f64(),
            (with_loss - forward).as_secs_f64(),
            (backward - with_loss).as_secs_f64(),
            (total - backward).as_secs_f64(),
            total.as_secs_f64(),
            cpu_seconds() - cpu_start
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
