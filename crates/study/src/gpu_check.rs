//! `crossgym gpu-check`: what a lent GPU has to show before a long run is started on it, as one
//! JSON object (a few minutes on an H100):
//!
//! - `smollm2`: the SmolLM2-135M fixture prompts (`crates/policy/tests/fixtures`) on the device
//!   against the CPU in f32: greedy token ids equal (and equal to the reference), the largest
//!   difference of the continuation log-probs;
//! - `grpo`: one GRPO update of SmolLM2 on the device in f32 and bf16 (loss, gradient norm,
//!   seconds, and the f32 loss against the CPU's);
//! - `decode`: batched greedy decode of SmolLM2 at b = 1, 16, 64 (tokens per second);
//! - `qwen2_5_3b_shape`: a Qwen2.5-3B-shaped model with random weights: one GRPO update of two
//!   512-token sequences and a decode, with times and the peak GPU memory (`nvidia-smi` samples).
//!
//! `--quick` runs the same script at toy sizes (a tiny model in place of SmolLM2 for the update
//! and decode parts, a scaled-down Qwen2.5 shape, fewer tokens) so that a CPU test covers every
//! line; the SmolLM2 parts are skipped, with the reason in the JSON, when the GGUF or the
//! fixture file is absent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use crossgym_grpo::batch::Sequence;
use crossgym_grpo::{AdamW, AdamWConfig, LossConfig, UpdateSettings, grpo_update};
use crossgym_policy::{
    CausalLm, Decoder, ModelConfig, Pretrained, Sampler, SamplingParams, Session, fetch, greedy,
    parameter_shapes, token_logprobs,
};
use serde_json::{Value, json};

use crate::device::DeviceChoice;
use crate::{Result, StudyError};

/// The GGUF file name of SmolLM2-135M-Instruct in the model cache.
pub use crossgym_policy::fetch::SMOLLM2_GGUF;

/// What to check and where.
#[derive(Clone, Debug)]
pub struct GpuCheckOptions {
    /// The device under test (compared with the CPU).
    pub device: DeviceChoice,
    /// Toy sizes, for a CPU test.
    pub quick: bool,
    /// The SmolLM2 GGUF.
    pub gguf: PathBuf,
    /// `smollm2_reference.json`.
    pub fixture: PathBuf,
}

impl GpuCheckOptions {
    /// Defaults: the GGUF in `$CROSSGYM_CACHE` (else `target/crossgym-cache`) and the fixture
    /// of `crates/policy/tests/fixtures`, both relative to the repository root (the working
    /// directory).
    pub fn new(device: DeviceChoice, quick: bool) -> Self {
        let cache = fetch::cache_dir_or_else(|| PathBuf::from("target/crossgym-cache"));
        Self {
            device,
            quick,
            gguf: cache.join(SMOLLM2_GGUF),
            fixture: PathBuf::from("crates/policy/tests/fixtures/smollm2_reference.json"),
        }
    }
}

/// Runs every check and returns the JSON object. A failing section is reported in the object
/// (`"error": ...`) and the others still run; only an unusable device is an error.
pub fn gpu_check(options: &GpuCheckOptions) -> Result<Value> {
    let start = Instant::now();
    let device = options.device.open()?;
    let mut report = serde_json::Map::new();
    report.insert("device".into(), json!(options.device.to_string()));
    report.insert("quick".into(), json!(options.quick));
    report.insert("gpus".into(), json!(nvidia_smi(&["name", "memory.total"])));
    let smollm2 = load_smollm2(options, &device);
    let section =
        |result: Result<Value>| result.unwrap_or_else(|e| json!({"error": e.to_string()}));
    match &smollm2 {
        Ok((on_device, on_cpu, fixture)) => {
            report.insert(
                "smollm2".into(),
                section(fixture_prompts(options, on_device, on_cpu, fixture)),
            );
        }
        Err(reason) => {
            report.insert("smollm2".into(), json!({"skipped": reason}));
        }
    }
    // The update and decode parts use SmolLM2 on a full check, a tiny model on a quick one.
    let subject: Option<Pretrained> = match (&smollm2, options.quick) {
        (Ok((on_device, _, _)), false) => Some(on_device.clone()),
        _ => None,
    };
    let tiny = |dtype| tiny_model(dtype, &device);
    let model_for = |dtype: DType| -> Result<CausalLm> {
        match &subject {
            Some(bundle) => Ok(bundle.model.to_dtype(dtype)?),
            None => tiny(dtype),
        }
    };
    let name = if subject.is_some() {
        "SmolLM2-135M-Instruct"
    } else {
        "tiny random Qwen2"
    };
    let mut grpo = serde_json::Map::new();
    grpo.insert("model".into(), json!(name));
    for dtype in [DType::F32, DType::BF16] {
        let value = section(model_for(dtype).and_then(|model| {
            let cpu_reference = (dtype == DType::F32 && options.device.is_cuda())
                .then(|| model_on_cpu(&model))
                .transpose()?;
            grpo_step(
                &model,
                cpu_reference.as_ref(),
                if options.quick { 24 } else { 160 },
            )
        }));
        grpo.insert(format!("{dtype:?}").to_lowercase(), value);
    }
    report.insert("grpo".into(), Value::Object(grpo));
    let new_tokens = if options.quick { 4 } else { 64 };
    let decode = section(model_for(options.device.dtype()).and_then(|model| {
        let mut rows = serde_json::Map::new();
        rows.insert("model".into(), json!(name));
        rows.insert("dtype".into(), json!(format!("{:?}", model.dtype())));
        for batch in [1, 16, 64] {
            rows.insert(
                format!("b{batch}"),
                decode_speed(&model.inference(), batch, new_tokens)?,
            );
        }
        Ok(Value::Object(rows))
    }));
    report.insert("decode".into(), decode);
    report.insert(
        "qwen2_5_3b_shape".into(),
        section(qwen_shape(options, &device)),
    );
    report.insert("seconds".into(), json!(start.elapsed().as_secs_f64()));
    Ok(Value::Object(report))
}

/// SmolLM2 on the device (f32), on the CPU (f32), and the fixture JSON; or why not.
fn load_smollm2(
    options: &GpuCheckOptions,
    device: &Device,
) -> std::result::Result<(Pretrained, Pretrained, Value), String> {
    if !options.gguf.is_file() {
        return Err(format!(
            "no SmolLM2 GGUF at {} (set CROSSGYM_CACHE or pass --gguf)",
            options.gguf.display()
        ));
    }
    let text = std::fs::read_to_string(&options.fixture)
        .map_err(|e| format!("cannot read {}: {e}", options.fixture.display()))?;
    let fixture: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", options.fixture.display()))?;
    let load = |device: &Device| {
        Pretrained::load_gguf(&options.gguf, DType::F32, device).map_err(|e| e.to_string())
    };
    Ok((load(device)?, load(&Device::Cpu)?, fixture))
}

fn ids(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

/// Greedy ids and continuation log-probs of the fixture prompts, device against CPU.
fn fixture_prompts(
    options: &GpuCheckOptions,
    on_device: &Pretrained,
    on_cpu: &Pretrained,
    fixture: &Value,
) -> Result<Value> {
    let empty = Vec::new();
    let cases = fixture["greedy_generation"]["cases"]
        .as_array()
        .unwrap_or(&empty);
    let take = if options.quick { 1 } else { cases.len() };
    let mut greedy_rows = Vec::new();
    for case in cases.iter().take(take) {
        let prompt = ids(&case["prompt_ids"]);
        let reference = ids(&case["generated_ids"]);
        let n = if options.quick { 4 } else { reference.len() };
        let start = Instant::now();
        let device_ids = greedy(&on_device.model.inference(), &prompt, n)?;
        let device_seconds = start.elapsed().as_secs_f64();
        let cpu_ids = greedy(&on_cpu.model.inference(), &prompt, n)?;
        greedy_rows.push(json!({
            "prompt_tokens": prompt.len(),
            "new_tokens": n,
            "equal_to_cpu": device_ids == cpu_ids,
            "equal_to_reference": reference.get(..n) == Some(&device_ids[..]),
            "device_seconds": device_seconds,
        }));
    }
    let mut logprob_rows = Vec::new();
    for case in fixture["logits_checks"]["cases"]
        .as_array()
        .unwrap_or(&empty)
    {
        let sequence = ids(&case["ids"]);
        let on = sequence_logprobs(&on_device.model, &sequence)?;
        let cpu = sequence_logprobs(&on_cpu.model, &sequence)?;
        let max_diff = on
            .iter()
            .zip(&cpu)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        logprob_rows.push(json!({
            "name": case["name"],
            "tokens": sequence.len(),
            "max_abs_logprob_diff_device_vs_cpu": max_diff,
        }));
    }
    Ok(json!({"greedy": greedy_rows, "logprobs": logprob_rows}))
}

/// log p(ids[i+1] | ids[..=i]) for every position, as f32.
fn sequence_logprobs(model: &CausalLm, sequence: &[u32]) -> Result<Vec<f32>> {
    let device = model.device();
    let n = sequence.len().saturating_sub(1);
    let inputs = candle(Tensor::new(&sequence[..n], device).and_then(|t| t.unsqueeze(0)))?;
    let targets = candle(Tensor::new(&sequence[1..], device).and_then(|t| t.unsqueeze(0)))?;
    let logits = candle(model.inference().forward(&inputs)?.to_dtype(DType::F32))?;
    candle(
        token_logprobs(&logits, &targets)?
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>()),
    )
}

/// A tiny random Qwen2 model (vocabulary 512) on `device`.
fn tiny_model(dtype: DType, device: &Device) -> Result<CausalLm> {
    let config = ModelConfig::tiny_llama(512, 64, 2, 4, 2).qwen2();
    Ok(CausalLm::random(&config, 7, dtype, device)?)
}

fn model_on_cpu(model: &CausalLm) -> Result<CausalLm> {
    Ok(CausalLm::from_tensors(
        model.config(),
        model.named_tensors()?,
        DType::F32,
        &Device::Cpu,
    )?)
}

/// Two seeded sequences of `len` tokens (the second half is the "response"), with the model's
/// own log-probs as π_old, advantages +1 and −1, and one GRPO update (KL to a frozen copy on).
fn grpo_step(model: &CausalLm, cpu: Option<&CausalLm>, len: usize) -> Result<Value> {
    let vocab = model.config().vocab_size as u32;
    let tokens: Vec<Vec<u32>> = (0..2u32)
        .map(|row| {
            (0..len as u32)
                .map(|i| (i * 7919 + row * 104_729 + 13) % vocab)
                .collect()
        })
        .collect();
    let mask: Vec<u8> = (0..len).map(|i| u8::from(i >= len / 2)).collect();
    let run = |model: &CausalLm| -> Result<(f64, f64, f64)> {
        let old: Vec<Vec<f32>> = tokens
            .iter()
            .map(|t| {
                let mut lp = vec![0.0f32];
                lp.extend(sequence_logprobs(model, t)?);
                Ok(lp)
            })
            .collect::<Result<_>>()?;
        let sequences: Vec<Sequence<'_>> = tokens
            .iter()
            .zip(&old)
            .map(|(t, lp)| Sequence {
                tokens: t,
                loss_mask: &mask,
                logprobs: lp,
            })
            .collect();
        let reference = model.deep_copy()?;
        let mut optimizer = AdamW::new(model.named_vars()?, AdamWConfig::default())?;
        let settings = UpdateSettings {
            micro_batch_size: 1,
            max_grad_norm: 1.0,
            temperature: 1.0,
            recompute: crossgym_policy::Recompute::Auto,
        };
        let start = Instant::now();
        let stats = grpo_update(
            model,
            Some(&reference.inference()),
            &mut optimizer,
            &sequences,
            &[1.0, -1.0],
            &LossConfig::default(),
            &settings,
        )?;
        synchronize(model.device())?;
        Ok((stats.loss, stats.grad_norm, start.elapsed().as_secs_f64()))
    };
    let (loss, grad_norm, seconds) = run(model)?;
    let mut row = json!({
        "tokens": 2 * len,
        "loss": loss,
        "grad_norm": grad_norm,
        "seconds": seconds,
        "finite": loss.is_finite() && grad_norm.is_finite(),
    });
    if let Some(cpu) = cpu {
        let (cpu_loss, cpu_norm, _) = run(cpu)?;
        row["cpu_loss"] = json!(cpu_loss);
        row["abs_loss_diff_vs_cpu"] = json!((loss - cpu_loss).abs());
        row["cpu_grad_norm"] = json!(cpu_norm);
    }
    Ok(row)
}

/// Greedy decode of `batch` rows of a seeded 32-token prompt for `new_tokens` tokens.
fn decode_speed(decoder: &Decoder, batch: usize, new_tokens: usize) -> Result<Value> {
    let vocab = decoder.config().vocab_size as u32;
    let prompts: Vec<Vec<u32>> = (0..batch as u32)
        .map(|row| {
            (0..32u32)
                .map(|i| (i * 31 + row * 977 + 5) % vocab)
                .collect()
        })
        .collect();
    let mut session = Session::new(decoder, batch)?;
    session.append(&prompts)?;
    let rows: Vec<usize> = (0..batch).collect();
    let mut samplers: Vec<Sampler> = (0..batch)
        .map(|_| Sampler::new(SamplingParams::greedy()))
        .collect();
    let start = Instant::now();
    let out = session.generate(&rows, &vec![new_tokens; batch], None, &mut samplers)?;
    synchronize(decoder.device())?;
    let seconds = start.elapsed().as_secs_f64();
    let generated: usize = out.iter().map(|g| g.tokens.len()).sum();
    Ok(json!({
        "new_tokens": generated,
        "seconds": seconds,
        "tokens_per_second": generated as f64 / seconds.max(1e-9),
    }))
}

/// A Qwen2.5-3B-shaped model (`--quick`: the same family scaled down) with random weights drawn
/// on the device: one GRPO update and a decode, with times and the peak GPU memory.
fn qwen_shape(options: &GpuCheckOptions, device: &Device) -> Result<Value> {
    let (config, len, batch) = if options.quick {
        let mut config = crate::memory::qwen2_5_3b();
        config.vocab_size = 1024;
        config.hidden_size = 64;
        config.intermediate_size = 172;
        config.num_hidden_layers = 2;
        config.num_attention_heads = 4;
        config.num_key_value_heads = Some(2);
        (config, 32, 4)
    } else {
        (crate::memory::qwen2_5_3b(), 512, 16)
    };
    let peak = PeakMemory::start(options.device.is_cuda());
    let start = Instant::now();
    let model = random_on_device(&config, options.device.dtype(), device)?;
    synchronize(device)?;
    let init_seconds = start.elapsed().as_secs_f64();
    let after_init = peak.peak_mib();
    let step = grpo_step(&model, None, len)?;
    let decode_1 = decode_speed(&model.inference(), 1, 16)?;
    let decode_b = decode_speed(&model.inference(), batch, 16)?;
    let mut row = json!({
        "parameters": model.num_parameters(),
        "dtype": format!("{:?}", model.dtype()),
        "layers": config.num_hidden_layers,
        "hidden": config.hidden_size,
        "init_seconds": init_seconds,
        "grpo_update": step,
        "decode_b1": decode_1,
        "gpu_memory_mib_after_init": after_init,
        "gpu_memory_mib_peak": peak.stop(),
    });
    row[format!("decode_b{batch}")] = decode_b;
    Ok(row)
}

/// Random weights made on a GPU itself (N(0, 0.02²) linear/embedding weights, norms 1,
/// biases 0) from its generator seeded with 0: drawing 3 B values on the host first, as
/// [`CausalLm::random`] does, would take minutes. On the CPU (which has no seedable generator
/// in candle), [`CausalLm::random`].
fn random_on_device(config: &ModelConfig, dtype: DType, device: &Device) -> Result<CausalLm> {
    if device.is_cpu() {
        return Ok(CausalLm::random(config, 0, dtype, device)?);
    }
    candle(device.set_seed(0))?;
    let mut tensors = HashMap::new();
    for (name, shape) in parameter_shapes(config) {
        let tensor = if name.ends_with("norm.weight") {
            Tensor::ones(shape, dtype, device)
        } else if name.ends_with(".bias") {
            Tensor::zeros(shape, dtype, device)
        } else {
            Tensor::randn(0f32, 0.02f32, shape, device).and_then(|t| t.to_dtype(dtype))
        };
        tensors.insert(name, candle(tensor)?);
    }
    Ok(CausalLm::from_tensors(config, tensors, dtype, device)?)
}

/// Waits for the device's queued work, so timings include it.
fn synchronize(device: &Device) -> Result<()> {
    candle(device.synchronize())
}

/// A candle result as a study result.
fn candle<T>(result: candle_core::Result<T>) -> Result<T> {
    result.map_err(|e| StudyError::invalid("gpu-check", e.to_string()))
}

/// `nvidia-smi --query-gpu=FIELDS` rows, or an empty list without a GPU.
fn nvidia_smi(fields: &[&str]) -> Vec<String> {
    std::process::Command::new("nvidia-smi")
        .arg(format!("--query-gpu={}", fields.join(",")))
        .arg("--format=csv,noheader")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The largest `memory.used` of GPU 0 that `nvidia-smi` reports, sampled every 100 ms on a
/// thread while a section runs (`null` in the JSON without a GPU).
struct PeakMemory {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakMemory {
    fn start(enabled: bool) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(mib) = used_mib() {
                        peak.fetch_max(mib, Ordering::Relaxed);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            })
        });
        Self { peak, stop, thread }
    }

    fn peak_mib(&self) -> Option<u64> {
        self.thread.as_ref()?;
        if let Some(mib) = used_mib() {
            self.peak.fetch_max(mib, Ordering::Relaxed);
        }
        Some(self.peak.load(Ordering::Relaxed))
    }

    fn stop(mut self) -> Option<u64> {
        let last = self.peak_mib();
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        last.map(|_| self.peak.load(Ordering::Relaxed))
    }
}

fn used_mib() -> Option<u64> {
    nvidia_smi(&["memory.used"])
        .first()
        .and_then(|row| row.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}
