//! How much GPU memory GRPO training of a model needs on one GPU, estimated from its config
//! before anything is loaded, so the paper presets can stop at once on a GPU that is too small
//! instead of failing hours later.
//!
//! The estimate follows what `crossgym-grpo` keeps on the device during an update:
//! - the weights, their gradients, and AdamW's two moments, all in the weights' dtype
//!   (`crossgym_grpo::AdamW` allocates its moments with `zeros_like`);
//! - a frozen copy of the starting model for the KL penalty (when β > 0);
//! - the activations that candle's autograd keeps for the backward pass of one micro-batch.
//!
//! Activations are counted for the model as `crossgym-policy` computes it on a GPU: candle's
//! fused kernels have no backward, so RMSNorm, RoPE and the softmax are composed of elementary
//! ops and each op's output is kept, and attention is not fused, so every layer holds several
//! `[heads, T, T]` tensors. Per token and layer (elements): 3 per width for each RMSNorm (x²,
//! the normalised and the scaled tensor), 2 per q/k/v width (matmul, bias), 4 per q/k width for
//! RoPE, the attention output, o-projection and residual, 4 MLP widths (gate, up, SiLU, product)
//! plus the down-projection and residual; and [`ATTENTION_TENSORS`] `[T, T]` tensors per head
//! (scores, scaled, masked, max-shifted, exponentials, probabilities). The head adds logits in
//! the weights' dtype and two f32 `[T, vocab]` tensors (log-softmax and its gradient input).
//!
//! With per-layer recomputation (activation checkpointing: keep each layer's input, recompute
//! the layer during the backward pass) only the layer inputs and one layer's activations are
//! live; `crossgym-policy` does not implement it today, so the presets check the figure without
//! it and report both.

use candle_core::DType;
use crossgym_policy::{ModelConfig, parameter_shapes};

/// `[heads, T, T]` tensors per layer that the unfused attention keeps for the backward pass.
pub const ATTENTION_TENSORS: u64 = 6;

/// Response length of the paper's training runs (SearchQA; TextCraft uses 10,240, BabyAI 4,096).
pub const PAPER_RESPONSE_TOKENS: usize = 8192;

/// What one update processes at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainingShape {
    /// Trajectories per forward/backward pass.
    pub micro_batch: usize,
    /// Tokens per trajectory (prompt and response).
    pub tokens: usize,
    /// Whether a frozen reference model is kept for the KL penalty.
    pub reference_model: bool,
}

impl TrainingShape {
    /// The least the paper's settings need: one trajectory of [`PAPER_RESPONSE_TOKENS`] tokens
    /// per pass, with the KL reference model (β = 0.001).
    pub fn paper_minimum() -> Self {
        Self {
            micro_batch: 1,
            tokens: PAPER_RESPONSE_TOKENS,
            reference_model: true,
        }
    }
}

/// Bytes of each part of a training step on one GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Number of parameters.
    pub parameters: u64,
    /// The trainable weights.
    pub weights: u64,
    /// Their gradients.
    pub gradients: u64,
    /// AdamW's first and second moments.
    pub optimizer: u64,
    /// The frozen reference model (0 without a KL penalty).
    pub reference: u64,
    /// Activations kept for the backward pass, without recomputation.
    pub activations: u64,
    /// Activations with per-layer recomputation.
    pub activations_recomputed: u64,
}

impl MemoryEstimate {
    /// Everything but the activations.
    pub fn states(&self) -> u64 {
        self.weights + self.gradients + self.optimizer + self.reference
    }

    /// The total, with or without per-layer recomputation.
    pub fn total(&self, recompute: bool) -> u64 {
        self.states()
            + if recompute {
                self.activations_recomputed
            } else {
                self.activations
            }
    }
}

/// The estimate for `config` with weights in `dtype`, training at `shape`.
pub fn estimate(config: &ModelConfig, dtype: DType, shape: &TrainingShape) -> MemoryEstimate {
    let bytes = dtype.size_in_bytes() as u64;
    let parameters: u64 = parameter_shapes(config)
        .iter()
        .map(|(_, dims)| dims.iter().product::<usize>() as u64)
        .sum();
    let weights = parameters * bytes;
    let (b, t) = (shape.micro_batch as u64, shape.tokens as u64);
    let hidden = config.hidden_size as u64;
    let q_width = (config.num_attention_heads * config.head_dim()) as u64;
    let kv_width = (config.kv_heads() * config.head_dim()) as u64;
    let mlp = config.intermediate_size as u64;
    let heads = config.num_attention_heads as u64;
    let layers = config.num_hidden_layers as u64;
    let vocab = config.vocab_size as u64;
    // Per token of one layer, without the attention matrices (see the module docs).
    let per_token = 2 * 3 * hidden            // two RMSNorms
        + 2 * (q_width + 2 * kv_width)        // q/k/v projections and biases
        + 4 * (q_width + kv_width)            // RoPE on q and k
        + q_width + 2 * hidden                // attention output, o-projection, residual
        + 4 * mlp + 2 * hidden; // gate, up, SiLU, product; down-projection, residual
    let layer = b * t * (per_token + ATTENTION_TENSORS * heads * t) * bytes;
    // Embedding output and final norm, logits, and the f32 log-softmax with its gradient.
    let head = b * t * (4 * hidden * bytes + vocab * (bytes + 2 * 4));
    let layer_inputs = b * t * hidden * bytes * layers;
    MemoryEstimate {
        parameters,
        weights,
        gradients: weights,
        optimizer: 2 * weights,
        reference: if shape.reference_model { weights } else { 0 },
        activations: layers * layer + head,
        activations_recomputed: layer_inputs + layer + head,
    }
}

/// Qwen2.5-3B-Instruct's published `config.json` (tied embeddings).
pub fn qwen2_5_3b() -> ModelConfig {
    qwen2_5(151_936, 2048, 11_008, 36, 16, 2, true)
}

/// Qwen2.5-7B-Instruct's published `config.json` (untied output head).
pub fn qwen2_5_7b() -> ModelConfig {
    qwen2_5(152_064, 3584, 18_944, 28, 28, 4, false)
}

fn qwen2_5(
    vocab: usize,
    hidden: usize,
    intermediate: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    tied: bool,
) -> ModelConfig {
    let mut config = ModelConfig::tiny_llama(vocab, hidden, layers, heads, kv_heads).qwen2();
    config.intermediate_size = intermediate;
    config.tie_word_embeddings = tied;
    config.rms_norm_eps = 1e-6;
    config.rope_theta = 1_000_000.0;
    config.max_position_embeddings = 32_768;
    config
}

/// GiB (2³⁰ bytes) of a byte count.
pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Total memory of each visible NVIDIA GPU in bytes (`nvidia-smi`), or `None` when there is
/// no `nvidia-smi` or it lists no GPU.
pub fn gpu_memory() -> Option<Vec<u64>> {
    let output = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let sizes: Vec<u64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().parse::<u64>().ok())
        .map(|mib| mib << 20)
        .collect();
    (!sizes.is_empty()).then_some(sizes)
}

/// The README's table: both paper models, bf16 and f32, responses of 4,096 and 8,192 tokens
/// (GiB; one trajectory per pass, KL reference included).
pub fn paper_table() -> String {
    let mut table = String::from(
        "| model | dtype | T | parameters | weights | weights + grads + AdamW + reference \
         | activations | activations, recomputed | total | total, recomputed |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, config) in [
        ("Qwen2.5-3B-Instruct", qwen2_5_3b()),
        ("Qwen2.5-7B-Instruct", qwen2_5_7b()),
    ] {
        for tokens in [4096, PAPER_RESPONSE_TOKENS] {
            for (dtype, dtype_name) in [(DType::BF16, "bf16"), (DType::F32, "f32")] {
                let shape = TrainingShape {
                    tokens,
                    ..TrainingShape::paper_minimum()
                };
                let e = estimate(&config, dtype, &shape);
                table.push_str(&format!(
                    "| {name} | {dtype_name} | {tokens} | {:.2} B | {:.1} | {:.1} | {:.1} | {:.1} \
                     | **{:.0}** | **{:.0}** |\n",
                    e.parameters as f64 / 1e9,
                    gib(e.weights),
                    gib(e.states()),
                    gib(e.activations),
                    gib(e.activations_recomputed),
                    gib(e.total(false)),
                    gib(e.total(true)),
                ));
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwen_parameter_counts_match_the_published_sizes() {
        // Published: Qwen2.5-3B 3.09 B parameters, Qwen2.5-7B 7.62 B.
        let shape = TrainingShape::paper_minimum();
        let small = estimate(&qwen2_5_3b(), DType::BF16, &shape);
        let large = estimate(&qwen2_5_7b(), DType::BF16, &shape);
        assert!((small.parameters as f64 / 1e9 - 3.09).abs() < 0.01);
        assert!((large.parameters as f64 / 1e9 - 7.62).abs() < 0.01);
        assert_eq!(small.weights, small.parameters * 2);
        assert_eq!(small.optimizer, 4 * small.parameters);
        assert!(small.activations_recomputed < small.activations);
        assert!(large.total(true) > small.total(true));
    }

    #[test]
    fn a_tiny_config_gives_the_hand_computed_bytes() {
        // vocab 10, hidden 4, 1 layer, 2 heads of width 2, 1 KV head, MLP 10 (4 * 8 / 3),
        // tied embeddings (tiny_llama), no biases.
        let config = ModelConfig::tiny_llama(10, 4, 1, 2, 1);
        let shape = TrainingShape {
            micro_batch: 1,
            tokens: 3,
            reference_model: false,
        };
        let e = estimate(&config, DType::F32, &shape);
        // embed 40, q 16, k 8, v 8, o 16, gate/up/down 3 * 40, norms 4 + 4 + 4.
        assert_eq!(e.parameters, 40 + 16 + 8 + 8 + 16 + 120 + 12);
        assert_eq!(e.reference, 0);
        // Per token: 24 (norms) + 2 * 8 + 4 * 6 + 4 + 8 + 40 + 8 = 124, attention 6 * 2 * 3 = 36.
        let layer = 3 * (124 + 36) * 4;
        let head = 3 * (4 * 4 * 4 + 10 * (4 + 8));
        assert_eq!(e.activations, layer + head);
        assert_eq!(e.activations_recomputed, 3 * 4 * 4 + layer + head);
        assert_eq!(e.total(false), 4 * e.weights + layer + head);
    }

    #[test]
    fn the_readme_shows_the_current_table() {
        let readme = include_str!("../README.md");
        let table = paper_table();
        assert!(
            readme.contains(&table),
            "update crates/study/README.md:\n{table}"
        );
    }
}
