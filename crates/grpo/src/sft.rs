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
use rand::seq::SliceRandom;

use crate::batch::Sequence;
use crate::config::SftConfig;
use crate::metrics::StepMetrics;
use crate::rng::RngState;
use crate::run_loop::{
    LoopSpec, Phase, RunLoop, RunSettings, run_loop_methods, run_settings_methods,
};
use crate::sampler::{Cursor, SamplerState};
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

/// The cursor name of the demonstration order in the checkpoint's sampler state.
const CURSOR: &str = "demonstrations";

/// Everything an [`SftTrainer`] is made of, collected like [`crate::TrainerBuilder`]'s.
///
/// ```
/// use candle_core::{DType, Device};
/// use crossgym_env_core::{Env, TaskId, run_episode};
/// use crossgym_grpo::games::{echo_game, echo_tokenizer};
/// use crossgym_grpo::{Demonstration, SftConfig, SftTrainerBuilder};
/// use crossgym_policy::{CausalLm, ModelConfig};
///
/// let tokenizer = echo_tokenizer(300)?;
/// let config = ModelConfig::tiny_llama(tokenizer.vocab_size(), 16, 1, 2, 1);
/// let model = CausalLm::random(&config, 0, DType::F32, &Device::Cpu)?;
/// let mut game = echo_game(2, 10, 0)?;
/// let episode = run_episode(&mut game, TaskId(0), |_| "Action: red".to_owned())?;
/// let demos = [Demonstration::from_episode(&game, None, &episode)];
/// let settings = SftConfig::from_toml_str("steps = 1\nbatch_size = 1\n")?;
/// let mut trainer = SftTrainerBuilder::new(&model, &tokenizer, &demos, settings).build()?;
/// assert_eq!(trainer.train()?[0].step, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct SftTrainerBuilder<'m, 'd> {
    model: &'m CausalLm,
    tokenizer: &'d Tokenizer,
    demonstrations: &'d [Demonstration],
    config: SftConfig,
    template: ChatTemplate,
    run: RunSettings,
}

impl std::fmt::Debug for SftTrainerBuilder<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftTrainerBuilder")
            .field("config", &self.config)
            .field("demonstrations", &self.demonstrations.len())
            .finish_non_exhaustive()
    }
}

impl<'m, 'd> SftTrainerBuilder<'m, 'd> {
    /// Starts a warm start of `model` (updated in place) on `demonstrations`, tokenized with
    /// `tokenizer`; ChatML without a default system prompt.
    pub fn new(
        model: &'m CausalLm,
        tokenizer: &'d Tokenizer,
        demonstrations: &'d [Demonstration],
        config: SftConfig,
    ) -> Self {
        Self {
            model,
            tokenizer,
            demonstrations,
            config,
            template: ChatTemplate::chatml(None),
            run: RunSettings::default(),
        }
    }

    /// The chat template the demonstrations are laid out with (the model's own).
    pub fn template(mut self, template: ChatTemplate) -> Self {
        self.template = template;
        self
    }

    run_settings_methods!();

    /// Validates the settings, tokenizes the demonstrations and builds the trainer with a
    /// fresh optimizer and the seeded demonstration order.
    pub fn build(self) -> Result<SftTrainer<'m>> {
        let config = self.config;
        config.validate()?;
        let mut records = Vec::with_capacity(self.demonstrations.len());
        for (i, demo) in self.demonstrations.iter().enumerate() {
            let (tokens, mut mask) = demo.tokenize(self.tokenizer, &self.template)?;
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
        let spec = LoopSpec {
            phase: "sft",
            steps: config.steps,
            checkpoint_every: config.checkpoint_every,
            optimizer: config.optimizer,
            seed: config.seed,
            stream: 0x5f7,
        };
        let core = RunLoop::new(self.model, spec, self.run)?;
        Ok(SftTrainer {
            model: self.model,
            records,
            config,
            cursor: Cursor::default(),
            core,
        })
    }
}

/// The warm-start loop over a fixed set of demonstrations, in shuffled passes; build one with
/// [`SftTrainerBuilder`] (or [`SftTrainer::new`]).
pub struct SftTrainer<'m> {
    model: &'m CausalLm,
    records: Vec<(Vec<u32>, Vec<u8>, Vec<f32>)>,
    config: SftConfig,
    /// Where the current pass over the demonstrations stands.
    cursor: Cursor,
    /// Step, optimizer, generator, metrics log and checkpoints.
    core: RunLoop,
}

impl std::fmt::Debug for SftTrainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftTrainer")
            .field("step", &self.core.step)
            .field("demonstrations", &self.records.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<'m> SftTrainer<'m> {
    /// A warm start of `model` (updated in place) on `demonstrations` laid out with
    /// `template`, without metrics file or checkpoints: the same as
    /// `SftTrainerBuilder::new(model, tokenizer, demonstrations, config).template(..).build()`.
    pub fn new(
        model: &'m CausalLm,
        tokenizer: &Tokenizer,
        template: &ChatTemplate,
        demonstrations: &[Demonstration],
        config: SftConfig,
    ) -> Result<Self> {
        SftTrainerBuilder::new(model, tokenizer, demonstrations, config)
            .template(template.clone())
            .build()
    }

    /// Writes checkpoints under `dir` from now on (as [`SftTrainerBuilder::checkpoint_dir`]
    /// does from the start).
    pub fn set_checkpoint_dir(&mut self, dir: impl Into<PathBuf>) {
        self.core.set_checkpoint_dir(dir.into());
    }

    fn next_batch(&mut self) -> Vec<usize> {
        let n = self.records.len();
        let (cursor, rng) = (&mut self.cursor, &mut self.core.rng);
        (0..self.config.batch_size)
            .map(|_| {
                if cursor.next >= cursor.order.len() {
                    if !cursor.order.is_empty() {
                        cursor.epoch += 1;
                    }
                    cursor.order = (0..n).collect();
                    cursor.order.shuffle(rng);
                    cursor.next = 0;
                }
                cursor.next += 1;
                cursor.order[cursor.next - 1]
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
            &mut self.core.optimizer,
            &sequences,
            self.config.micro_batch_size,
            self.config.optimizer.max_grad_norm,
            crossgym_policy::Recompute::Auto,
        )?;
        let metrics = StepMetrics {
            phase: "sft".into(),
            step: self.core.advance(),
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
        self.core.record(&metrics)?;
        Ok(metrics)
    }

    run_loop_methods!();

    /// Continues from an `sft` checkpoint.
    pub fn resume(&mut self, path: &Path) -> Result<()> {
        let (cursor, records) = (&mut self.cursor, self.records.len());
        self.core.resume(path, self.model.device(), |state| {
            *cursor = state
                .and_then(|s| s.cursors.get(CURSOR).cloned())
                .unwrap_or_default();
            if cursor.order.iter().any(|&i| i >= records) {
                return Err(GrpoError::checkpoint(
                    path,
                    "its demonstration order does not fit these demonstrations",
                ));
            }
            Ok(())
        })
    }
}

impl Phase for SftTrainer<'_> {
    fn run_loop(&self) -> &RunLoop {
        &self.core
    }

    fn one_step(&mut self) -> Result<StepMetrics> {
        self.train_step()
    }

    /// The demonstration order, under the trainer's own generator (which draws it).
    fn sampler_state(&self) -> Option<SamplerState> {
        Some(SamplerState {
            rng: RngState::capture(&self.core.rng),
            cursors: [(CURSOR.to_owned(), self.cursor.clone())].into(),
        })
    }
}
