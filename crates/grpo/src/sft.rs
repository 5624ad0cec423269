//! Supervised warm start: cross-entropy on the assistant tokens of demonstrations.
//!
//! A small model trained from scratch first has to learn the action format before any reward
//! can reach it; a few hundred supervised updates on demonstrations (e.g. a scripted expert's
//! episodes) give it that. The demonstrations are tokenized exactly as the rollout agent lays a
//! conversation out ([`crossgym_policy::LocalAgent`]), so the model learns the same token
//! sequences it will later sample. Same optimizer, metrics and checkpoints as the GRPO loop.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crossgym_env_core::{Env, Episode};
use crossgym_policy::{CausalLm, ChatTemplate, Message, Role, Tokenizer, conversation_start};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::batch::Sequence;
use crate::checkpoint::{self, CHECKPOINT_FORMAT, Checkpoint, CheckpointState, RngState};
use crate::config::SftConfig;
use crate::metrics::{MetricsLog, Progress, StepMetrics, Verbosity};
use crate::optim::AdamW;
use crate::sampler::{Cursor, SamplerState};
use crate::trainer::load_weights;
use crate::update::sft_update;
use crate::{GrpoError, Result};

/// One demonstration: a conversation start and the (observation, reply) turns after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Demonstration {
    /// System prompt, instruction and acknowledgement (never trained on).
    pub start: Vec<Message>,
    /// Each env observation and the reply the model should learn to give to it.
    pub turns: Vec<(String, String)>,
}

impl Demonstration {
    /// The demonstration of a played episode (e.g. a scripted expert's, from
    /// [`crossgym_env_core::run_episode`]) in `env`'s conversation format.
    pub fn from_episode(env: &dyn Env, system: Option<&str>, episode: &Episode) -> Self {
        let mut observation = episode.first_observation.clone();
        let mut turns = Vec::with_capacity(episode.turns.len());
        for turn in &episode.turns {
            turns.push((observation, turn.reply.clone()));
            observation = turn.step.observation.clone();
        }
        Self {
            start: conversation_start(env, system),
            turns,
        }
    }

    /// Token ids and loss mask, laid out as the rollout agent does: the rendered start, then per
    /// turn the user turn, the generation prompt, the reply and `<|im_end|>` (mask 1 on these
    /// two), and a newline.
    pub fn tokenize(
        &self,
        tokenizer: &Tokenizer,
        template: &ChatTemplate,
    ) -> Result<(Vec<u32>, Vec<u8>)> {
        let mut tokens = tokenizer.encode(&template.render(&self.start, false))?;
        let mut mask = vec![0u8; tokens.len()];
        let im_end = tokenizer.im_end_id()?;
        let prompt = tokenizer.encode(&ChatTemplate::generation_prompt())?;
        let newline = tokenizer.encode("\n")?;
        let mut push = |ids: &[u32], m: u8| {
            tokens.extend_from_slice(ids);
            mask.extend(std::iter::repeat_n(m, ids.len()));
        };
        for (observation, reply) in &self.turns {
            push(
                &tokenizer.encode(&ChatTemplate::turn(Role::User, observation))?,
                0,
            );
            push(&prompt, 0);
            push(&tokenizer.encode(reply)?, 1);
            push(&[im_end], 1);
            push(&newline, 0);
        }
        Ok((tokens, mask))
    }
}

const CURSOR: &str = "demonstrations";

/// The warm-start loop over a fixed set of demonstrations, in shuffled passes.
pub struct SftTrainer<'m> {
    model: &'m CausalLm,
    records: Vec<(Vec<u32>, Vec<u8>, Vec<f32>)>,
    config: SftConfig,
    optimizer: AdamW,
    rng: ChaCha8Rng,
    cursor: Cursor,
    step: u64,
    log: MetricsLog,
    verbosity: Verbosity,
    checkpoint_dir: Option<PathBuf>,
}

impl std::fmt::Debug for SftTrainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftTrainer")
            .field("step", &self.step)
            .field("demonstrations", &self.records.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<'m> SftTrainer<'m> {
    /// A warm start of `model` (updated in place) on `demonstrations`.
    pub fn new(
        model: &'m CausalLm,
        tokenizer: &Tokenizer,
        template: &ChatTemplate,
        demonstrations: &[Demonstration],
        config: SftConfig,
    ) -> Result<Self> {
        config.validate()?;
        let mut records = Vec::with_capacity(demonstrations.len());
        for (i, demo) in demonstrations.iter().enumerate() {
            let (tokens, mut mask) = demo.tokenize(tokenizer, template)?;
            if !mask.iter().skip(1).any(|&m| m != 0) {
                return Err(GrpoError::Input(format!(
                    "demonstration {i} has no assistant turn to learn"
                )));
            }
            if config.observation_loss {
                // Every token but the first has a predecessor to be predicted from.
                mask.iter_mut().skip(1).for_each(|m| *m = 1);
            }
            let zeros = vec![0.0; tokens.len()];
            records.push((tokens, mask, zeros));
        }
        if records.is_empty() {
            return Err(GrpoError::Input(
                "the warm start needs demonstrations".into(),
            ));
        }
        let optimizer = AdamW::new(model.named_vars()?, config.optimizer)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(0x5f7);
        Ok(Self {
            model,
            records,
            config,
            optimizer,
            rng,
            cursor: Cursor::default(),
            step: 0,
            log: MetricsLog::none(),
            verbosity: Verbosity::Quiet,
            checkpoint_dir: None,
        })
    }

    /// Appends per-step metrics as JSON lines to `path`.
    pub fn metrics_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.log = MetricsLog::append(path)?;
        Ok(())
    }

    /// Progress bar or quiet.
    pub fn set_verbosity(&mut self, verbosity: Verbosity) {
        self.verbosity = verbosity;
    }

    /// Writes checkpoints under `dir`.
    pub fn set_checkpoint_dir(&mut self, dir: impl Into<PathBuf>) {
        self.checkpoint_dir = Some(dir.into());
    }

    /// Completed steps.
    pub fn step(&self) -> u64 {
        self.step
    }

    fn next_batch(&mut self) -> Vec<usize> {
        let n = self.records.len();
        (0..self.config.batch_size)
            .map(|_| {
                if self.cursor.next >= self.cursor.order.len() {
                    if !self.cursor.order.is_empty() {
                        self.cursor.epoch += 1;
                    }
                    self.cursor.order = (0..n).collect();
                    self.cursor.order.shuffle(&mut self.rng);
                    self.cursor.next = 0;
                }
                self.cursor.next += 1;
                self.cursor.order[self.cursor.next - 1]
            })
            .collect()
    }

    /// One supervised update on the next `batch_size` demonstrations.
    pub fn train_step(&mut self) -> Result<StepMetrics> {
        let start = Instant::now();
        let batch = self.next_batch();
        let sequences: Vec<Sequence<'_>> = batch
            .iter()
            .map(|&i| {
                let (tokens, mask, zeros) = &self.records[i];
                Sequence {
                    tokens,
                    loss_mask: mask,
                    logprobs: zeros,
                }
            })
            .collect();
        let stats = sft_update(
            self.model,
            &mut self.optimizer,
            &sequences,
            self.config.micro_batch_size,
            self.config.optimizer.max_grad_norm,
            crossgym_policy::Recompute::Auto,
        )?;
        self.step += 1;
        let metrics = StepMetrics {
            phase: "sft".into(),
            step: self.step,
            loss: stats.loss,
            grad_norm: stats.grad_norm,
            updates: u64::from(stats.applied),
            skipped_updates: u64::from(stats.skipped_nonfinite),
            loss_tokens: stats.sums.tokens as u64,
            total_tokens: stats.total_tokens as u64,
            reward_by_env: BTreeMap::new(),
            update_seconds: start.elapsed().as_secs_f64(),
            seconds: start.elapsed().as_secs_f64(),
            ..StepMetrics::default()
        };
        self.log.write(&metrics)?;
        Ok(metrics)
    }

    /// Runs until `config.steps` steps are done, checkpointing when a directory is set.
    pub fn train(&mut self) -> Result<Vec<StepMetrics>> {
        let total = self.config.steps as u64;
        let progress = Progress::new(self.verbosity, "sft", self.step, total);
        let mut all = Vec::new();
        while self.step < total {
            let metrics = self.train_step()?;
            progress.step(&metrics);
            all.push(metrics);
            if self.checkpoint_dir.is_some()
                && crate::checkpoint::is_due(self.step, total, self.config.checkpoint_every)
            {
                self.save_checkpoint()?;
            }
        }
        progress.finish();
        Ok(all)
    }

    /// The checkpoint of the current state.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        Ok(Checkpoint {
            weights: self
                .optimizer
                .params()
                .iter()
                .map(|(name, var)| (name.clone(), var.as_detached_tensor()))
                .collect(),
            optimizer: self.optimizer.state_tensors()?,
            state: CheckpointState {
                format: CHECKPOINT_FORMAT,
                phase: "sft".into(),
                step: self.step,
                optimizer_step: self.optimizer.step_count(),
                rng: RngState::capture(&self.rng),
                sampler: Some(SamplerState {
                    rng: RngState::capture(&self.rng),
                    cursors: [(CURSOR.to_owned(), self.cursor.clone())].into(),
                }),
            },
        })
    }

    /// Writes a checkpoint under the checkpoint directory; returns its path.
    pub fn save_checkpoint(&self) -> Result<PathBuf> {
        let root = self
            .checkpoint_dir
            .as_deref()
            .ok_or_else(|| GrpoError::config("checkpoint_dir", "not set"))?;
        checkpoint::save(root, &self.checkpoint()?)
    }

    /// Continues from an `sft` checkpoint.
    pub fn resume(&mut self, path: &Path) -> Result<()> {
        let ckpt = checkpoint::load(path, self.model.device())?;
        if ckpt.state.phase != "sft" {
            return Err(GrpoError::checkpoint(
                path,
                format!("was written by the {} loop, not sft", ckpt.state.phase),
            ));
        }
        load_weights(&self.optimizer, &ckpt, path)?;
        self.optimizer
            .load_state(ckpt.optimizer, ckpt.state.optimizer_step)?;
        self.rng = ckpt.state.rng.restore()?;
        self.cursor = ckpt
            .state
            .sampler
            .as_ref()
            .and_then(|s| s.cursors.get(CURSOR).cloned())
            .unwrap_or_default();
        if self.cursor.order.iter().any(|&i| i >= self.records.len()) {
            return Err(GrpoError::checkpoint(
                path,
                "its demonstration order does not fit these demonstrations",
            ));
        }
        self.step = ckpt.state.step;
        Ok(())
    }
}
