//! The GRPO loop: sample tasks, roll out groups with the policy, compute group-relative
//! advantages, update in mini-batches, log, checkpoint.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crossgym_env_core::{Env, TaskId};
use crossgym_policy::{
    CausalLm, ChatTemplate, Decoder, RolloutLimits, SamplingParams, Tokenizer, Trajectory,
};
use rand::Rng;

use crate::advantage::batch_advantages;
use crate::batch::Sequence;
use crate::config::GrpoConfig;
use crate::loss::LossSums;
use crate::metrics::{StepMetrics, mean_std, success_rate};
use crate::optim::AdamW;
pub use crate::play::EnvMaker;
use crate::play::{GroupDraw, Players};
use crate::run_loop::{
    LoopSpec, Phase, RunLoop, RunSettings, run_loop_methods, run_settings_methods,
};
use crate::sampler::{SamplerState, TaskSampler, TaskSchedule};
use crate::update::{UpdateSettings, grpo_update};
use crate::{GrpoError, Result};

/// Everything a [`Trainer`] is made of; see [`TrainerBuilder`].
#[must_use]
pub struct TrainerBuilder {
    model: CausalLm,
    tokenizer: Tokenizer,
    config: GrpoConfig,
    template: ChatTemplate,
    system: Option<String>,
    makers: Vec<EnvMaker>,
    schedule: Option<TaskSchedule>,
    run: RunSettings,
}

impl std::fmt::Debug for TrainerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainerBuilder")
            .field("config", &self.config)
            .field("envs", &self.makers.len())
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl TrainerBuilder {
    /// Starts a trainer of `model` (whose current weights also become the frozen KL reference)
    /// with its tokenizer and settings; ChatML without a default system prompt.
    pub fn new(model: CausalLm, tokenizer: Tokenizer, config: GrpoConfig) -> Self {
        Self {
            model,
            tokenizer,
            config,
            template: ChatTemplate::chatml(None),
            system: None,
            makers: Vec::new(),
            schedule: None,
            run: RunSettings::default(),
        }
    }

    /// The chat template (e.g. the model's own, with its default system prompt).
    pub fn template(mut self, template: ChatTemplate) -> Self {
        self.template = template;
        self
    }

    /// A system prompt put before every conversation.
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Adds an env (by a function that builds one); its name is the one the schedule uses.
    pub fn env<F>(mut self, make: F) -> Self
    where
        F: Fn() -> crossgym_env_core::Result<Box<dyn Env>> + 'static,
    {
        self.makers.push(Box::new(make));
        self
    }

    /// Where tasks come from; without one, a single env is trained alone (more need a schedule).
    pub fn schedule(mut self, schedule: TaskSchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    run_settings_methods!();

    /// Validates everything and builds the trainer: `group_size` instances of every env, the
    /// frozen reference (when `kl_coef > 0`), a fresh optimizer and the seeded generators.
    pub fn build(self) -> Result<Trainer> {
        self.config.validate()?;
        if self.makers.is_empty() {
            return Err(GrpoError::config(
                "envs",
                "a trainer needs at least one env",
            ));
        }
        let mut groups: Vec<Vec<Box<dyn Env>>> = Vec::with_capacity(self.makers.len());
        for make in &self.makers {
            let group = (0..self.config.group_size)
                .map(|_| make())
                .collect::<crossgym_env_core::Result<Vec<_>>>()?;
            if let Some(other) = groups
                .iter()
                .find(|g: &&Vec<Box<dyn Env>>| g[0].info().name == group[0].info().name)
            {
                return Err(GrpoError::config(
                    "envs",
                    format!("two envs are named {:?}", other[0].info().name),
                ));
            }
            groups.push(group);
        }
        let schedule = match self.schedule {
            Some(s) => s,
            None if groups.len() == 1 => TaskSchedule::single(&groups[0][0].info().name),
            None => {
                return Err(GrpoError::config(
                    "schedule",
                    "several envs need a schedule (mixture or stages)",
                ));
            }
        };
        let firsts: Vec<&dyn Env> = groups.iter().map(|g| g[0].as_ref()).collect();
        let sampler = TaskSampler::new(schedule, &firsts, self.config.seed)?;
        let reference = if self.config.loss.kl_coef > 0.0 {
            Some(self.model.deep_copy()?.inference())
        } else {
            None
        };
        let spec = LoopSpec {
            phase: "grpo",
            steps: self.config.steps,
            checkpoint_every: self.config.checkpoint_every,
            optimizer: self.config.optimizer,
            seed: self.config.seed,
            stream: 0x6772_706f,
        };
        let core = RunLoop::new(&self.model, spec, self.run)?;
        Ok(Trainer {
            config: self.config,
            model: self.model,
            reference,
            tokenizer: self.tokenizer,
            template: self.template,
            system: self.system,
            infos: groups.iter().map(|g| g[0].info().clone()).collect(),
            groups,
            makers: self.makers,
            sampler,
            core,
        })
    }
}

/// A GRPO trainer over any set of envs; build one with [`TrainerBuilder`].
pub struct Trainer {
    config: GrpoConfig,
    model: CausalLm,
    reference: Option<Decoder>,
    tokenizer: Tokenizer,
    template: ChatTemplate,
    system: Option<String>,
    /// The info of each env (index as in `groups`).
    infos: Vec<crossgym_env_core::EnvInfo>,
    /// Envs kept for rollouts, per env (lent out while episodes run).
    groups: Vec<Vec<Box<dyn Env>>>,
    makers: Vec<EnvMaker>,
    sampler: TaskSampler,
    /// Step, optimizer, generator, metrics log and checkpoints.
    core: RunLoop,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("step", &self.core.step)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Mean reward and success rate of an evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EvalSummary {
    /// Mean final reward over tasks × samples.
    pub reward_mean: f64,
    /// Share of rollouts that solved their task ([`Trajectory::success`]).
    pub success_rate: f64,
    /// Rollouts played.
    pub rollouts: usize,
}

impl Trainer {
    /// The model being trained.
    pub fn model(&self) -> &CausalLm {
        &self.model
    }

    /// The settings.
    pub fn config(&self) -> &GrpoConfig {
        &self.config
    }

    /// The optimizer (e.g. to read its step count).
    pub fn optimizer(&self) -> &AdamW {
        &self.core.optimizer
    }

    fn env_index(&self, name: &str) -> Result<usize> {
        self.infos
            .iter()
            .position(|info| info.name == name)
            .ok_or_else(|| GrpoError::config("envs", format!("no env named {name:?}")))
    }

    /// The rollout limits of each env.
    fn limits(&self) -> Vec<RolloutLimits> {
        let rollout = &self.config.rollout;
        self.infos
            .iter()
            .map(|info| RolloutLimits {
                max_turns: rollout.max_turns.unwrap_or(info.max_turns_train),
                max_tokens_per_turn: rollout.max_tokens_per_turn,
                max_total_tokens: rollout.max_total_tokens,
            })
            .collect()
    }

    /// Plays `samples` episodes of each draw with the current weights (see [`Players`]).
    fn play(
        &mut self,
        draws: &[GroupDraw],
        samples: usize,
        sampling: SamplingParams,
    ) -> Result<Vec<Trajectory>> {
        let limits = self.limits();
        Players {
            decoder: self.model.inference(),
            tokenizer: &self.tokenizer,
            template: &self.template,
            system: self.system.as_deref(),
            envs: &mut self.groups,
            makers: &self.makers,
            concurrency: self.config.rollout.concurrency,
            samples,
            sampling,
            limits: &limits,
        }
        .play(draws)
    }

    /// Plays `samples` rollouts of each task of env `env_name` with the current weights and
    /// `params` (task `i` sampled from seed `params.seed + i`), and summarises their final
    /// rewards. Uses no trainer state, so it does not disturb the run's randomness.
    pub fn evaluate(
        &mut self,
        env_name: &str,
        tasks: &[TaskId],
        samples: usize,
        params: SamplingParams,
    ) -> Result<EvalSummary> {
        let env = self.env_index(env_name)?;
        let draws: Vec<GroupDraw> = tasks
            .iter()
            .enumerate()
            .map(|(i, &task)| GroupDraw {
                env,
                task,
                seed: params.seed.wrapping_add(i as u64),
            })
            .collect();
        let samples = samples.clamp(1, self.config.group_size);
        let trajectories = self.play(&draws, samples, params)?;
        let rewards: Vec<f64> = trajectories.iter().map(Trajectory::reward).collect();
        let successes = trajectories.iter().filter(|t| t.success()).count();
        let (reward_mean, _) = mean_std(&rewards);
        Ok(EvalSummary {
            reward_mean,
            success_rate: successes as f64 / rewards.len().max(1) as f64,
            rollouts: rewards.len(),
        })
    }

    /// Rolls out one batch: `tasks_per_batch` tasks from the sampler, `group_size` rollouts
    /// each, sampled with seeds from the trainer's generator. Trajectories come in groups.
    pub fn rollout_batch(&mut self) -> Result<Vec<Trajectory>> {
        let draws: Vec<GroupDraw> = self
            .sampler
            .next_batch(self.core.step as usize, self.config.tasks_per_batch)
            .into_iter()
            .map(|draw| GroupDraw {
                env: draw.env,
                task: draw.task,
                seed: self.core.rng.random::<u64>(),
            })
            .collect();
        let params = SamplingParams {
            temperature: self.config.rollout.temperature,
            top_p: self.config.rollout.top_p,
            seed: 0,
        };
        self.play(&draws, self.config.group_size, params)
    }

    /// One GRPO step: rollouts, advantages, one update pass in mini-batches, metrics (logged
    /// and returned). Checkpoints are written by [`Trainer::train`], not here.
    pub fn train_step(&mut self) -> Result<StepMetrics> {
        let start = Instant::now();
        let trajectories = self.rollout_batch()?;
        let rollout_seconds = start.elapsed().as_secs_f64();

        let n = self.config.group_size;
        let rewards: Vec<f64> = trajectories.iter().map(Trajectory::reward).collect();
        let advantages = batch_advantages(&rewards, n);
        let sequences: Vec<Sequence<'_>> = trajectories
            .iter()
            .map(|t| Sequence {
                tokens: &t.tokens,
                loss_mask: &t.loss_mask,
                logprobs: &t.logprobs,
            })
            .collect();
        let settings = UpdateSettings {
            micro_batch_size: self.config.micro_batch_size,
            max_grad_norm: self.config.optimizer.max_grad_norm,
            temperature: self.config.rollout.temperature,
            recompute: crossgym_policy::Recompute::Auto,
        };
        let update_start = Instant::now();
        let per_update = self.config.mini_batch_tasks * n;
        let mut sums = LossSums::default();
        let (mut loss_sum, mut grad_norm, mut updates, mut skipped) = (0.0, 0.0f64, 0, 0);
        for (seqs, advs) in sequences
            .chunks(per_update)
            .zip(advantages.chunks(per_update))
        {
            let stats = grpo_update(
                &self.model,
                self.reference.as_ref(),
                &mut self.core.optimizer,
                seqs,
                advs,
                &self.config.loss,
                &settings,
            )?;
            loss_sum += stats.loss * stats.sums.tokens;
            sums.add(&stats.sums);
            grad_norm = if stats.grad_norm.is_nan() || grad_norm.is_nan() {
                f64::NAN
            } else {
                grad_norm.max(stats.grad_norm)
            };
            updates += u64::from(stats.applied);
            skipped += u64::from(stats.skipped_nonfinite);
        }
        let update_seconds = update_start.elapsed().as_secs_f64();
        let step = self.core.advance();

        let (reward_mean, reward_std) = mean_std(&rewards);
        let mut by_env: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for t in &trajectories {
            by_env.entry(t.env.clone()).or_default().push(t.reward());
        }
        let turns: Vec<f64> = trajectories.iter().map(|t| t.turns() as f64).collect();
        let metrics = StepMetrics {
            phase: "grpo".into(),
            step,
            reward_mean,
            reward_std,
            success_rate: success_rate(&trajectories),
            reward_by_env: by_env
                .into_iter()
                .map(|(k, v)| (k, mean_std(&v).0))
                .collect(),
            loss: sums.mean(loss_sum),
            pg_loss: sums.mean(sums.pg),
            kl: sums.mean(sums.kl),
            entropy: sums.mean(sums.entropy),
            clip_fraction: sums.mean(sums.clipped),
            ratio_mean: sums.mean(sums.ratio),
            grad_norm,
            updates,
            skipped_updates: skipped,
            loss_tokens: sums.tokens as u64,
            total_tokens: trajectories.iter().map(|t| t.tokens.len() as u64).sum(),
            turns_mean: mean_std(&turns).0,
            rollout_seconds,
            update_seconds,
            seconds: start.elapsed().as_secs_f64(),
        };
        self.core.record(&metrics)?;
        Ok(metrics)
    }

    run_loop_methods!();

    /// Continues from the checkpoint at `path` (a checkpoint or a root with `latest`): weights,
    /// optimizer moments, generators, task sampler and step. The frozen reference stays the
    /// model the trainer was built with, so build it from the run's *starting* model.
    pub fn resume(&mut self, path: &Path) -> Result<()> {
        let sampler = &mut self.sampler;
        self.core
            .resume(path, self.model.device(), |state| match state {
                Some(state) => sampler.restore(state),
                None => Ok(()),
            })
    }
}

impl Phase for Trainer {
    fn run_loop(&self) -> &RunLoop {
        &self.core
    }

    fn one_step(&mut self) -> Result<StepMetrics> {
        self.train_step()
    }

    fn sampler_state(&self) -> Option<SamplerState> {
        Some(self.sampler.state())
    }
}
