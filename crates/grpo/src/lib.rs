//! The GRPO trainer of crossgym: group-relative policy optimisation of an LLM agent on any set
//! of [`crossgym_env_core::Env`]s, as the paper trains with AgentGym-RL (a verl fork).
//!
//! # The main types
//!
//! - [`GrpoConfig`] (TOML, the paper's defaults) and [`SftConfig`].
//! - [`group_advantages`]: `(R − mean) / (std + 1e-6)` per group, unbiased std.
//! - [`grpo_loss`]: per token, PPO clip (ε 0.2) on π/π_old + β·KL (low-variance estimator,
//!   clamped ±10) to a frozen reference − entropy bonus; token-level mean over the mini-batch.
//! - [`AdamW`] (with state that checkpoints), [`Gradients`] (accumulation, norm clipping).
//! - [`grpo_update`]: one optimizer update over a mini-batch in micro-batches; a NaN or
//!   infinite loss or gradient skips the update and says so.
//! - [`TaskSchedule`] / [`TaskSampler`]: one env, a mixture with ratios, or stages in sequence.
//! - [`TrainerBuilder`] → [`Trainer`]: rollouts with [`crossgym_policy::rollout_group`],
//!   updates, JSON-lines [`StepMetrics`], progress bar or quiet, [`checkpoint`]s and exact
//!   resume.
//! - [`SftTrainerBuilder`] → [`SftTrainer`]: the supervised warm start on [`Demonstration`]s,
//!   built like the GRPO trainer and run by the same loop core (step counter, optimizer,
//!   generator, metrics log, checkpoints, resume).
//! - [`games::EchoGame`]: a tiny few-turn word game with a dense reward for tests and examples.
//!
//! # The key design choice
//!
//! π_old is the log-prob the *sampling* policy recorded for each token (one update pass per
//! batch, so it equals the current policy's at the first mini-batch), and every loss is a
//! token *sum* divided by the mini-batch's token count, so micro-batching changes memory, never
//! the result. Together with a checkpoint that holds weights, AdamW moments, the generators and
//! the task sampler's position, a run stopped and resumed on a CPU ends bit-identical to one
//! that never stopped (`tests/trainer.rs`).
//!
//! # Example
//!
//! One GRPO step of a tiny random model on the echo game:
//!
//! ```
//! use candle_core::{DType, Device};
//! use crossgym_env_core::Env;
//! use crossgym_grpo::games::{echo_game, echo_tokenizer};
//! use crossgym_grpo::{GrpoConfig, TrainerBuilder};
//! use crossgym_policy::{CausalLm, ModelConfig};
//!
//! let tokenizer = echo_tokenizer(300)?;
//! let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 16, 1, 2, 1);
//! let model = CausalLm::random(&config, 0, DType::F32, &Device::Cpu)?;
//! let settings = GrpoConfig::from_toml_str(
//!     "steps = 1\ngroup_size = 2\ntasks_per_batch = 2\nmini_batch_tasks = 2\n\
//!      [rollout]\nmax_tokens_per_turn = 4\n",
//! )?;
//! let mut trainer = TrainerBuilder::new(model, tokenizer, settings)
//!     .env(|| Ok(Box::new(echo_game(2, 10, 0)?) as Box<dyn Env>))
//!     .build()?;
//! let metrics = trainer.train()?;
//! assert_eq!(metrics[0].step, 1);
//! assert_eq!(metrics[0].updates + metrics[0].skipped_updates, 1);
//! # Ok::<(), crossgym_grpo::GrpoError>(())
//! ```

pub mod advantage;
pub mod batch;
pub mod checkpoint;
pub mod config;
mod error;
pub mod games;
pub mod loss;
pub mod metrics;
pub mod optim;
mod play;
pub mod rng;
mod run_loop;
pub mod sampler;
pub mod sft;
pub mod trainer;
pub mod update;

pub use advantage::{batch_advantages, group_advantages};
pub use config::{AdamWConfig, GrpoConfig, LossConfig, RolloutConfig, SftConfig};
pub use error::{GrpoError, Result};
pub use loss::{LossInputs, LossOutput, LossSums, grpo_loss, sft_loss};
pub use metrics::{MetricsLog, StepMetrics, Verbosity};
pub use optim::{AdamW, Gradients};
pub use sampler::{TaskSampler, TaskSchedule};
pub use sft::{Demonstration, SftTrainer, SftTrainerBuilder};
pub use trainer::{EvalSummary, Trainer, TrainerBuilder};
pub use update::{UpdateSettings, UpdateStats, grpo_update, sft_update};
