//! Training configuration: serde structs read from TOML, with the paper's defaults.
//!
//! Every field has a default, so a TOML file names only what it changes:
//!
//! ```
//! use crossgym_grpo::GrpoConfig;
//!
//! let config = GrpoConfig::from_toml_str("group_size = 4\n[optimizer]\nlr = 1e-5\n")?;
//! assert_eq!(config.group_size, 4);
//! assert_eq!(config.optimizer.lr, 1e-5);
//! assert_eq!(config.loss.clip_eps, 0.2); // the paper's default, untouched
//! # Ok::<(), crossgym_grpo::GrpoError>(())
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{GrpoError, Result};

/// Everything a GRPO run needs besides the model and the envs.
///
/// Defaults follow the paper's AgentGym-RL/verl settings for BabyAI: n = 8 rollouts per task,
/// 16 tasks per batch, one optimizer step per batch (`mini_batch_tasks` = `tasks_per_batch`),
/// clip ε 0.2, KL 0.001 (low-variance estimator, clamped to ±10), entropy 0.001, gradient-norm
/// clip 1.0, AdamW lr 1e-6 with PyTorch's betas and verl's weight decay 0.01, 200 tokens per turn
/// and 4096 response tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpoConfig {
    /// Seed of every random choice of the run (task order, sampling).
    pub seed: u64,
    /// How many batches (training steps) to run.
    pub steps: usize,
    /// Rollouts per task, the group of the group-relative advantage (n).
    pub group_size: usize,
    /// Tasks per batch (B); a batch holds `tasks_per_batch × group_size` trajectories.
    pub tasks_per_batch: usize,
    /// Tasks (whole groups) per optimizer step. The batch is split into
    /// `tasks_per_batch / mini_batch_tasks` mini-batches, each one update; the default equals
    /// `tasks_per_batch`: one update per batch.
    pub mini_batch_tasks: usize,
    /// Trajectories per forward/backward pass; gradients of the micro-batches of one mini-batch
    /// are accumulated before the update. Only memory depends on it, not the result.
    pub micro_batch_size: usize,
    /// Loss coefficients.
    pub loss: LossConfig,
    /// Optimizer settings.
    pub optimizer: AdamWConfig,
    /// Rollout limits and sampling settings.
    pub rollout: RolloutConfig,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: usize,
}

impl Default for GrpoConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            steps: 100,
            group_size: 8,
            tasks_per_batch: 16,
            mini_batch_tasks: 16,
            micro_batch_size: 4,
            loss: LossConfig::default(),
            optimizer: AdamWConfig::default(),
            rollout: RolloutConfig::default(),
            checkpoint_every: 0,
        }
    }
}

/// Coefficients of the per-token GRPO loss (see [`crate::loss`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// PPO clip range ε: the ratio π/π_old is clipped to `[1 − ε, 1 + ε]`.
    pub clip_eps: f64,
    /// β, the weight of the KL penalty to the frozen reference model (0 disables the reference).
    pub kl_coef: f64,
    /// The low-variance KL estimate of each token is clamped to `±kl_clamp`.
    pub kl_clamp: f64,
    /// Weight of the entropy bonus (subtracted from the loss).
    pub entropy_coef: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            clip_eps: 0.2,
            kl_coef: 0.001,
            kl_clamp: 10.0,
            entropy_coef: 0.001,
        }
    }
}

/// AdamW (decoupled weight decay, PyTorch's formulation) and gradient clipping.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    /// Constant learning rate (the paper: 1e-6 for 7B models; small models need larger).
    pub lr: f64,
    /// β₁, the decay of the first moment.
    pub beta1: f64,
    /// β₂, the decay of the second moment.
    pub beta2: f64,
    /// ε added to the root of the second moment.
    pub eps: f64,
    /// Decoupled weight decay λ (the parameter shrinks by `lr · λ` per step).
    pub weight_decay: f64,
    /// The global gradient norm is clipped to this value before the update (0 disables).
    pub max_grad_norm: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-6,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
        }
    }
}

/// Rollout limits and sampling.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutConfig {
    /// Turn cap of a training episode; `None` uses each env's `max_turns_train`.
    pub max_turns: Option<usize>,
    /// Cap on the tokens of one assistant turn.
    pub max_tokens_per_turn: usize,
    /// Cap on all tokens after the prompt (assistant turns and observations); the name of
    /// [`crossgym_policy::RolloutLimits::max_total_tokens`]. Written to TOML as
    /// `max_response_tokens` (the key existing configs and study settings use, so files keep
    /// their bytes); both keys are read.
    #[serde(rename = "max_response_tokens", alias = "max_total_tokens")]
    pub max_total_tokens: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Nucleus sampling threshold (1.0: off).
    pub top_p: f64,
    /// Episodes in flight at once on the CPU rollout engine (from any tasks of the batch).
    /// Changes speed and memory, never the trajectories.
    pub concurrency: usize,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        Self {
            max_turns: None,
            max_tokens_per_turn: 200,
            max_total_tokens: 4096,
            temperature: 1.0,
            top_p: 1.0,
            concurrency: 32,
        }
    }
}

impl GrpoConfig {
    /// Parses and validates a TOML document; missing fields take their defaults.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Self::parse(text, "<string>")
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| GrpoError::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, path: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|source| GrpoError::Toml {
            path: path.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as a TOML document (every field written out).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| GrpoError::config("<all>", e.to_string()))
    }

    /// Trajectories per batch: `tasks_per_batch × group_size`.
    pub fn batch_trajectories(&self) -> usize {
        self.tasks_per_batch * self.group_size
    }

    /// Checks every field's range and the divisibility the mini-batching needs; an error names
    /// the field (dotted: `optimizer.lr`), the value and the allowed range. `seed` and
    /// `checkpoint_every` take any value.
    pub fn validate(&self) -> Result<()> {
        at_least_one("steps", self.steps)?;
        at_least_one("group_size", self.group_size)?;
        at_least_one("tasks_per_batch", self.tasks_per_batch)?;
        at_least_one("micro_batch_size", self.micro_batch_size)?;
        if self.mini_batch_tasks == 0 || !self.tasks_per_batch.is_multiple_of(self.mini_batch_tasks)
        {
            let n = self.tasks_per_batch;
            let mut allowed = format!("a divisor of tasks_per_batch = {n}");
            if n <= 1000 {
                let divisors: Vec<String> = (1..=n)
                    .filter(|d| n.is_multiple_of(*d))
                    .map(|d| d.to_string())
                    .collect();
                allowed = format!("{allowed}: {}", divisors.join(", "));
            }
            return Err(out_of_range(
                "mini_batch_tasks",
                self.mini_batch_tasks,
                &allowed,
            ));
        }
        within("loss", self.loss.validate())?;
        within("optimizer", self.optimizer.validate())?;
        within("rollout", self.rollout.validate())
    }
}

/// The error of a value outside its range: names the field, the value and what is allowed.
fn out_of_range(field: &str, value: impl std::fmt::Display, allowed: &str) -> GrpoError {
    GrpoError::config(
        field,
        format!("{value} is out of range (allowed: {allowed})"),
    )
}

/// A count that must be 1 or more.
fn at_least_one(field: &str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(out_of_range(field, value, "1 or more"));
    }
    Ok(())
}

/// A finite number ≥ 0.
fn finite_non_negative(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(out_of_range(field, value, "a finite number >= 0"));
    }
    Ok(())
}

/// A finite number > 0.
fn finite_positive(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(out_of_range(field, value, "a finite number > 0"));
    }
    Ok(())
}

/// Prefixes the field of a configuration error with the section it is in (`optimizer.lr`), so
/// nested sections validate themselves and the message still names the whole path.
pub fn within(section: &str, result: Result<()>) -> Result<()> {
    result.map_err(|error| match error {
        GrpoError::Config { field, message } => {
            GrpoError::config(format!("{section}.{field}"), message)
        }
        other => other,
    })
}

impl LossConfig {
    /// Checks every coefficient is a finite number ≥ 0 (fields named as in the `[loss]` table).
    pub fn validate(&self) -> Result<()> {
        finite_non_negative("clip_eps", self.clip_eps)?;
        finite_non_negative("kl_coef", self.kl_coef)?;
        finite_non_negative("kl_clamp", self.kl_clamp)?;
        finite_non_negative("entropy_coef", self.entropy_coef)
    }
}

impl AdamWConfig {
    /// Checks the ranges (fields named as in the `[optimizer]` table): `lr`, `weight_decay` and
    /// `max_grad_norm` finite and ≥ 0, `eps` finite and > 0 (it divides), betas in [0, 1).
    pub fn validate(&self) -> Result<()> {
        finite_non_negative("lr", self.lr)?;
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(out_of_range(field, beta, "[0, 1)"));
            }
        }
        finite_positive("eps", self.eps)?;
        finite_non_negative("weight_decay", self.weight_decay)?;
        finite_non_negative("max_grad_norm", self.max_grad_norm)
    }
}

impl RolloutConfig {
    /// Checks the limits are 1 or more, the temperature finite and > 0 and `top_p` in (0, 1]
    /// (fields named as in the `[rollout]` table).
    pub fn validate(&self) -> Result<()> {
        if self.max_turns == Some(0) {
            return Err(out_of_range(
                "max_turns",
                0,
                "1 or more, or leave it out for each env's own cap",
            ));
        }
        at_least_one("max_tokens_per_turn", self.max_tokens_per_turn)?;
        at_least_one("max_response_tokens", self.max_total_tokens)?;
        finite_positive("temperature", self.temperature)?;
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(out_of_range("top_p", self.top_p, "(0, 1]"));
        }
        at_least_one("concurrency", self.concurrency)
    }
}

/// Settings of the supervised warm start ([`crate::sft`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SftConfig {
    /// Seed of the demonstration order.
    pub seed: u64,
    /// Optimizer updates to run.
    pub steps: usize,
    /// Demonstrations per update.
    pub batch_size: usize,
    /// Demonstrations per forward/backward pass (gradient accumulation).
    pub micro_batch_size: usize,
    /// Optimizer settings (a small model learning a format from scratch wants a large rate).
    pub optimizer: AdamWConfig,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: usize,
    /// Also learn to predict the observations and prompts, not only the assistant's tokens (a
    /// language-model loss on the whole conversation), as when pretraining a model from
    /// scratch on env text. Off by default. Measured on the `cpu` study preset's 1.1 M-parameter
    /// base (400 steps): it spent the model on observations, and replies got worse.
    pub observation_loss: bool,
}

impl Default for SftConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            steps: 100,
            batch_size: 16,
            micro_batch_size: 4,
            optimizer: AdamWConfig {
                lr: 1e-5,
                ..AdamWConfig::default()
            },
            checkpoint_every: 0,
            observation_loss: false,
        }
    }
}

impl SftConfig {
    /// Parses and validates a TOML document; missing fields take their defaults.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|source| GrpoError::Toml {
            path: "<string>".to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field's range; an error names the field (dotted: `optimizer.lr`), the value
    /// and the allowed range. `seed`, `checkpoint_every` and `observation_loss` take any value.
    pub fn validate(&self) -> Result<()> {
        at_least_one("steps", self.steps)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("micro_batch_size", self.micro_batch_size)?;
        within("optimizer", self.optimizer.validate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers() {
        let c = GrpoConfig::default();
        assert_eq!((c.group_size, c.tasks_per_batch), (8, 16));
        assert_eq!(c.loss.clip_eps, 0.2);
        assert_eq!(c.loss.kl_coef, 0.001);
        assert_eq!(c.loss.kl_clamp, 10.0);
        assert_eq!(c.loss.entropy_coef, 0.001);
        assert_eq!(c.optimizer.max_grad_norm, 1.0);
        assert_eq!(c.optimizer.lr, 1e-6);
        assert_eq!((c.optimizer.beta1, c.optimizer.beta2), (0.9, 0.999));
        assert_eq!(c.rollout.max_tokens_per_turn, 200);
        assert_eq!(c.rollout.max_total_tokens, 4096);
        c.validate().unwrap();
    }

    #[test]
    fn toml_round_trip_and_partial_files() {
        let c = GrpoConfig {
            seed: 7,
            group_size: 4,
            ..GrpoConfig::default()
        };
        let text = c.to_toml_string().unwrap();
        assert_eq!(GrpoConfig::from_toml_str(&text).unwrap(), c);
        let partial = GrpoConfig::from_toml_str("seed = 3\n[loss]\nkl_coef = 0.0\n").unwrap();
        assert_eq!(partial.seed, 3);
        assert_eq!(partial.loss.kl_coef, 0.0);
        assert_eq!(partial.loss.clip_eps, 0.2);
    }

    #[test]
    fn the_total_token_cap_reads_both_keys_and_writes_the_old_one() {
        let old = GrpoConfig::from_toml_str("[rollout]\nmax_response_tokens = 77\n").unwrap();
        let new = GrpoConfig::from_toml_str("[rollout]\nmax_total_tokens = 77\n").unwrap();
        assert_eq!(old.rollout.max_total_tokens, 77);
        assert_eq!(new, old);
        let text = old.to_toml_string().unwrap();
        assert!(text.contains("max_response_tokens = 77"), "{text}");
        assert!(!text.contains("max_total_tokens"), "{text}");
    }

    #[test]
    fn bad_values_name_their_field() {
        let err =
            GrpoConfig::from_toml_str("tasks_per_batch = 6\nmini_batch_tasks = 4\n").unwrap_err();
        assert!(err.to_string().contains("mini_batch_tasks"), "{err}");
        let err = GrpoConfig::from_toml_str("[optimizer]\nbeta2 = 1.0\n").unwrap_err();
        assert!(err.to_string().contains("optimizer.beta2"), "{err}");
        let err = GrpoConfig::from_toml_str("group_sise = 4\n").unwrap_err();
        assert!(err.to_string().contains("group_sise"), "{err}");
        let err = SftConfig::from_toml_str("[optimizer]\nlr = -1.0\n").unwrap_err();
        assert!(err.to_string().contains("optimizer.lr"), "{err}");
        assert_eq!(SftConfig::from_toml_str("steps = 3\n").unwrap().steps, 3);
    }
}
