//! The model configuration, in the shape of a Hugging Face `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{PolicyError, Result};

/// One token id or several (HF configs use both forms for `eos_token_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    /// A single id.
    One(u32),
    /// A list of ids.
    Many(Vec<u32>),
}

impl TokenIds {
    /// The ids as a list.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            TokenIds::One(id) => vec![*id],
            TokenIds::Many(ids) => ids.clone(),
        }
    }
}

/// A decoder configuration for the Llama and Qwen2 families.
///
/// Field names are those of the hub's `config.json`, so a checkpoint saved by this crate loads in
/// transformers or vLLM, and a hub `config.json` parses here. Fields this crate does not use are
/// kept in [`ModelConfig::extra`] and written back unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// `["LlamaForCausalLM"]` or `["Qwen2ForCausalLM"]`.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// `"llama"` or `"qwen2"`.
    pub model_type: String,
    /// Vocabulary size (rows of the embedding).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Number of decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention); equal to the query heads when absent.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Per-head width; `hidden_size / num_attention_heads` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<usize>,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base.
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    /// Longest sequence the RoPE table covers.
    pub max_position_embeddings: usize,
    /// Whether the output projection is the embedding matrix.
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Llama's switch for biases on q/k/v/o (Qwen2 always has q/k/v biases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_bias: Option<bool>,
    /// Beginning-of-sequence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bos_token_id: Option<u32>,
    /// End-of-sequence id(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eos_token_id: Option<TokenIds>,
    /// RoPE scaling; only `null` is supported (an error otherwise, rather than wrong outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<serde_json::Value>,
    /// Every other field of the file, written back unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_rope_theta() -> f64 {
    10_000.0
}

/// The most decoder layers a config may declare (the largest published models have ~130).
pub const MAX_LAYERS: usize = 1024;
/// The longest context a config may declare (RoPE tables are built for all of it at load).
pub const MAX_POSITIONS: usize = 1 << 20;

impl ModelConfig {
    /// Reads and checks a `config.json`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::io(path, e))?;
        let config: Self = serde_json::from_str(&text).map_err(|e| PolicyError::json(path, e))?;
        config
            .validate()
            .map_err(|e| PolicyError::model(path, e.to_string()))?;
        Ok(config)
    }

    /// A small Llama-family configuration (for tests and models trained from scratch).
    pub fn tiny_llama(
        vocab_size: usize,
        hidden_size: usize,
        layers: usize,
        heads: usize,
        kv_heads: usize,
    ) -> Self {
        Self {
            architectures: vec!["LlamaForCausalLM".into()],
            model_type: "llama".into(),
            vocab_size,
            hidden_size,
            intermediate_size: hidden_size * 8 / 3,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            num_key_value_heads: Some(kv_heads),
            head_dim: None,
            rms_norm_eps: 1e-5,
            rope_theta: 10_000.0,
            max_position_embeddings: 2048,
            tie_word_embeddings: true,
            attention_bias: Some(false),
            bos_token_id: None,
            eos_token_id: None,
            rope_scaling: None,
            extra: serde_json::Map::new(),
        }
    }

    /// This configuration turned into a Qwen2-family one (q/k/v biases, untied head), e.g.
    /// `ModelConfig::tiny_llama(…).qwen2()`.
    pub fn qwen2(self) -> Self {
        Self {
            architectures: vec!["Qwen2ForCausalLM".into()],
            model_type: "qwen2".into(),
            tie_word_embeddings: false,
            attention_bias: None,
            ..self
        }
    }

    /// Key/value heads.
    pub fn kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
    }

    /// Whether q/k/v projections carry biases (always for Qwen2, `attention_bias` for Llama).
    pub fn qkv_bias(&self) -> bool {
        self.model_type == "qwen2" || self.attention_bias == Some(true)
    }

    /// Whether the o projection carries a bias (Llama with `attention_bias`).
    pub fn o_bias(&self) -> bool {
        self.model_type != "qwen2" && self.attention_bias == Some(true)
    }

    /// Checks that the numbers fit together, the family is supported, and the sizes that decide
    /// allocations before any weight is read (layers, RoPE tables) are within
    /// [`MAX_LAYERS`] and [`MAX_POSITIONS`], so a corrupt header is an error, not an
    /// out-of-memory abort.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(PolicyError::Config(m));
        if self.model_type != "llama" && self.model_type != "qwen2" {
            return fail(format!(
                "model_type {:?} is not supported (llama, qwen2)",
                self.model_type
            ));
        }
        if self.num_attention_heads == 0 || self.kv_heads() == 0 {
            return fail("num_attention_heads and num_key_value_heads must be positive".into());
        }
        if !self.num_attention_heads.is_multiple_of(self.kv_heads()) {
            return fail(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                self.num_attention_heads,
                self.kv_heads()
            ));
        }
        if self.head_dim() == 0 || !self.head_dim().is_multiple_of(2) {
            return fail(format!(
                "head_dim {} must be even and positive",
                self.head_dim()
            ));
        }
        if self.vocab_size == 0 || self.hidden_size == 0 || self.intermediate_size == 0 {
            return fail("vocab_size, hidden_size and intermediate_size must be positive".into());
        }
        if self.rope_scaling.as_ref().is_some_and(|v| !v.is_null()) {
            return fail("rope_scaling is not supported".into());
        }
        if self.num_hidden_layers > MAX_LAYERS {
            return fail(format!(
                "num_hidden_layers {} exceeds {MAX_LAYERS}",
                self.num_hidden_layers
            ));
        }
        if !(1..=MAX_POSITIONS).contains(&self.max_position_embeddings) {
            return fail(format!(
                "max_position_embeddings {} is outside 1..={MAX_POSITIONS}",
                self.max_position_embeddings
            ));
        }
        Ok(())
    }

    /// The config as pretty JSON (what [`crate::CausalLm::save`] writes to `config.json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
