//! A small base model built here, offline and deterministically, for studies on a CPU:
//! oracle demonstrations of every env → a byte-level BPE tokenizer trained on env text → a
//! fresh Qwen2-architecture model → a supervised warm start on the demonstrations' replies,
//! stopped early on purpose so the base is weak (it has learned the action formats, not the
//! tasks).
//!
//! The build is cached in its folder: `base.json` records the [`SmallBaseSpec`] it was made
//! with, and a later call with the same spec loads `final/` instead of rebuilding. An
//! interrupted warm start resumes from its last checkpoint (`sft/`).
//!
//! ```text
//! demos.jsonl     the demonstrations (env-core episodes), in env order
//! tokenizer.json  the trained tokenizer
//! sft/            warm-start checkpoints and metrics.jsonl
//! final/          the base model (config.json, model.safetensors, tokenizer files)
//! base.json       the spec and what the build measured
//! ```

use std::path::Path;

use candle_core::{DType, Device};
use crossgym_env_core::Registry;
use crossgym_grpo::{Demonstration, SftConfig};
use crossgym_policy::{CausalLm, ChatTemplate, ModelConfig, Pretrained, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::warm_start::{BaseRecipe, BaseRecord, Phases, build_base};
use crate::{Result, StudyError};

/// What the small base model is made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallBaseSpec {
    /// The envs whose demonstrations it learns from.
    pub envs: Vec<String>,
    /// Demonstrations per env (the first train tasks the oracle solves).
    pub demos_per_env: usize,
    /// Tokenizer vocabulary size (the special tokens included).
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Decoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Longest sequence the model handles (prompt and episode).
    pub max_positions: usize,
    /// The warm start (its `steps` decide how weak the base stays).
    pub sft: SftConfig,
    /// Seed of the initial weights.
    pub seed: u64,
    /// A system prompt used in the demonstrations (use the same in the study).
    pub system: Option<String>,
}

impl SmallBaseSpec {
    /// A spec over `envs` with the given size and warm-start length; other fields at the
    /// defaults the `cpu` preset uses.
    pub fn new(envs: &[String], demos_per_env: usize, sft_steps: usize) -> Self {
        Self {
            envs: envs.to_vec(),
            demos_per_env,
            vocab_size: 2048,
            hidden_size: 128,
            layers: 4,
            heads: 4,
            kv_heads: 2,
            max_positions: 8192,
            sft: SftConfig {
                steps: sft_steps,
                batch_size: 8,
                micro_batch_size: 4,
                optimizer: crossgym_grpo::AdamWConfig {
                    lr: 3e-3,
                    ..crossgym_grpo::AdamWConfig::default()
                },
                ..SftConfig::default()
            },
            seed: 0,
            system: None,
        }
    }

    /// [`SmallBaseSpec::new`] shrunk to one layer of width `hidden_size` (two query heads, one
    /// key/value head) over a `vocab_size`-token vocabulary: a base that builds in seconds, for
    /// the `smoke` preset and tests.
    pub fn one_layer(
        envs: &[String],
        demos_per_env: usize,
        sft_steps: usize,
        (vocab_size, hidden_size): (usize, usize),
    ) -> Self {
        Self {
            vocab_size,
            hidden_size,
            layers: 1,
            heads: 2,
            kv_heads: 1,
            ..Self::new(envs, demos_per_env, sft_steps)
        }
    }

    /// The model configuration.
    pub fn model_config(&self, vocab_size: usize) -> ModelConfig {
        let mut config = ModelConfig::tiny_llama(
            vocab_size,
            self.hidden_size,
            self.layers,
            self.heads,
            self.kv_heads,
        )
        .qwen2();
        config.max_position_embeddings = self.max_positions;
        config
    }
}

/// What a build measured (saved in `base.json` beside the spec).
pub type BuildRecord = BaseRecord<SmallBaseSpec>;

/// Builds (or loads the cached) small base model in `dir`; see the module docs.
pub fn build_small_base(
    spec: &SmallBaseSpec,
    registry: &Registry,
    dir: &Path,
    progress: bool,
) -> Result<(Pretrained, BuildRecord)> {
    let recipe = BaseRecipe::new(&spec.envs, spec.demos_per_env, &spec.system, &spec.sft);
    build_base(
        dir,
        spec,
        recipe,
        registry,
        progress,
        |conversations, phases| fresh_model(spec, conversations, dir, phases),
    )
}

/// The spec's untrained model with a tokenizer trained on `conversations` (or the one saved in
/// `dir` by an earlier build), timing the tokenizer as its own phase.
fn fresh_model(
    spec: &SmallBaseSpec,
    conversations: &[Demonstration],
    dir: &Path,
    phases: &mut Phases,
) -> Result<Pretrained> {
    let template = ChatTemplate::chatml(None);
    let tokenizer_path = dir.join("tokenizer.json");
    let tokenizer = if tokenizer_path.exists() {
        Tokenizer::from_file(&tokenizer_path)?
    } else {
        let texts = tokenizer_texts(conversations, &template);
        let tokenizer = Tokenizer::train_bpe(
            texts.iter(),
            spec.vocab_size,
            &[crossgym_policy::IM_START, crossgym_policy::IM_END],
        )?;
        // Saved under a temporary name and renamed, so a kill mid-save never leaves a torn
        // tokenizer that a rerun would load.
        let tmp = dir.join("tokenizer.json.tmp");
        tokenizer.save(&tmp)?;
        std::fs::rename(&tmp, &tokenizer_path).map_err(|e| StudyError::io(&tokenizer_path, e))?;
        tokenizer
    };
    phases.lap("tokenizer");
    let config = spec.model_config(tokenizer.vocab_size());
    Ok(Pretrained {
        model: CausalLm::random(&config, spec.seed, DType::F32, &Device::Cpu)?,
        tokenizer,
        template,
    })
}

/// The text a tokenizer is trained on: every demonstration rendered exactly as the model will
/// see it (template markers, instructions, observations and replies).
fn tokenizer_texts(conversations: &[Demonstration], template: &ChatTemplate) -> Vec<String> {
    let mut texts = Vec::new();
    for demo in conversations {
        texts.push(template.render(&demo.start, false));
        for (observation, reply) in &demo.turns {
            texts.push(ChatTemplate::turn(crossgym_policy::Role::User, observation));
            texts.push(ChatTemplate::generation_prompt());
            texts.push(reply.clone());
        }
    }
    texts
}
