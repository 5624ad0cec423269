//! The loop GRPO ([`crate::Trainer`]) and the supervised warm start ([`crate::SftTrainer`])
//! share: the step counter, the optimizer, the loop's generator, the metrics log, the progress
//! bar, the checkpoint directory, writing checkpoints and resuming from them.
//!
//! Each trainer owns a [`RunLoop`] and says, through [`Phase`], how one of its steps goes and
//! what its task sampler's state is; everything else happens here once, so the two loops cannot
//! drift apart (their checkpoints differ only in `phase` and the sampler state).

use std::path::{Path, PathBuf};

use candle_core::Device;
use crossgym_policy::CausalLm;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::{self, CHECKPOINT_FORMAT, Checkpoint, CheckpointState, RngState};
use crate::config::AdamWConfig;
use crate::metrics::{MetricsLog, Progress, StepMetrics, Verbosity};
use crate::optim::AdamW;
use crate::sampler::SamplerState;
use crate::{GrpoError, Result};

/// What both trainer builders collect besides the model and the settings: the metrics file,
/// the verbosity and the checkpoint directory.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunSettings {
    pub(crate) metrics: Option<PathBuf>,
    pub(crate) verbosity: Verbosity,
    pub(crate) checkpoint_dir: Option<PathBuf>,
}

/// The builder methods that fill a builder's `run: RunSettings` field, written once for
/// [`crate::TrainerBuilder`] and [`crate::SftTrainerBuilder`].
macro_rules! run_settings_methods {
    () => {
        /// Appends per-step metrics as JSON lines to `path` (created if missing; a resumed run
        /// continues its file).
        pub fn metrics_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
            self.run.metrics = Some(path.into());
            self
        }

        /// Progress bar or quiet (the default, for CI).
        pub fn verbosity(mut self, verbosity: $crate::Verbosity) -> Self {
            self.run.verbosity = verbosity;
            self
        }

        /// Writes checkpoints under `dir` (every `checkpoint_every` steps and at the end of
        /// `train`).
        pub fn checkpoint_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
            self.run.checkpoint_dir = Some(dir.into());
            self
        }
    };
}
pub(crate) use run_settings_methods;

/// The public methods a trainer with a `core: RunLoop` field gets from its loop, written once
/// for [`crate::Trainer`] and [`crate::SftTrainer`] (the trainer implements [`Phase`]).
macro_rules! run_loop_methods {
    () => {
        /// Completed steps.
        pub fn step(&self) -> u64 {
            self.core.step
        }

        /// Trains until the settings' `steps` are done (continuing a resumed run), writing
        /// checkpoints when a directory is set; returns this call's metrics.
        pub fn train(&mut self) -> $crate::Result<Vec<$crate::StepMetrics>> {
            $crate::run_loop::train(self)
        }

        /// The checkpoint of the current state.
        pub fn checkpoint(&self) -> $crate::Result<$crate::checkpoint::Checkpoint> {
            $crate::run_loop::checkpoint(self)
        }

        /// Writes a checkpoint under the checkpoint directory; returns its path.
        pub fn save_checkpoint(&self) -> $crate::Result<std::path::PathBuf> {
            $crate::run_loop::save_checkpoint(self)
        }
    };
}
pub(crate) use run_loop_methods;

/// Where a training loop stands, and what it writes.
#[derive(Debug)]
pub(crate) struct RunLoop {
    /// Which loop this is (`"grpo"` or `"sft"`): checkpoints and metrics carry it.
    phase: &'static str,
    /// Steps of the whole run (`steps` of the settings).
    total: u64,
    /// Checkpoint every this many steps (0: only at the end).
    checkpoint_every: usize,
    /// The optimizer over the model's trainable variables.
    pub(crate) optimizer: AdamW,
    /// The loop's own generator (the GRPO sampling seeds, the SFT demonstration order).
    pub(crate) rng: ChaCha8Rng,
    /// Completed steps.
    pub(crate) step: u64,
    log: MetricsLog,
    verbosity: Verbosity,
    checkpoint_dir: Option<PathBuf>,
}

/// The loop configuration a [`RunLoop`] is made from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoopSpec {
    /// `"grpo"` or `"sft"`.
    pub(crate) phase: &'static str,
    /// Steps of the whole run.
    pub(crate) steps: usize,
    /// Checkpoint every this many steps (0: only at the end).
    pub(crate) checkpoint_every: usize,
    /// The optimizer's settings.
    pub(crate) optimizer: AdamWConfig,
    /// Seed of the loop's generator.
    pub(crate) seed: u64,
    /// ChaCha8 stream of the loop's generator (each loop has its own).
    pub(crate) stream: u64,
}

impl RunLoop {
    /// A fresh loop at step 0 over `model`'s trainable variables; opens the metrics file.
    pub(crate) fn new(model: &CausalLm, spec: LoopSpec, run: RunSettings) -> Result<Self> {
        let optimizer = AdamW::new(model.named_vars()?, spec.optimizer)?;
        let log = match &run.metrics {
            Some(path) => MetricsLog::append(path)?,
            None => MetricsLog::none(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        rng.set_stream(spec.stream);
        Ok(Self {
            phase: spec.phase,
            total: spec.steps as u64,
            checkpoint_every: spec.checkpoint_every,
            optimizer,
            rng,
            step: 0,
            log,
            verbosity: run.verbosity,
            checkpoint_dir: run.checkpoint_dir,
        })
    }

    /// Counts a step as done; returns its 1-based number.
    pub(crate) fn advance(&mut self) -> u64 {
        self.step += 1;
        self.step
    }

    /// Appends a step's metrics to the log.
    pub(crate) fn record(&mut self, metrics: &StepMetrics) -> Result<()> {
        self.log.write(metrics)
    }

    /// Writes checkpoints under `dir` from now on.
    pub(crate) fn set_checkpoint_dir(&mut self, dir: PathBuf) {
        self.checkpoint_dir = Some(dir);
    }

    /// The checkpoint of the current state with the loop's task-sampler state.
    pub(crate) fn checkpoint(&self, sampler: Option<SamplerState>) -> Result<Checkpoint> {
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
                phase: self.phase.into(),
                step: self.step,
                optimizer_step: self.optimizer.step_count(),
                rng: RngState::capture(&self.rng),
                sampler,
            },
        })
    }

    /// The checkpoint directory, or an error naming the missing setting.
    pub(crate) fn checkpoint_root(&self) -> Result<&Path> {
        self.checkpoint_dir
            .as_deref()
            .ok_or_else(|| GrpoError::config("checkpoint_dir", "not set"))
    }

    /// Continues from the checkpoint at `path` (a checkpoint or a root with `latest`), which
    /// this loop must have written: weights, optimizer moments and the generator, then
    /// `restore_sampler` with the saved sampler state, then the step.
    pub(crate) fn resume(
        &mut self,
        path: &Path,
        device: &Device,
        restore_sampler: impl FnOnce(Option<&SamplerState>) -> Result<()>,
    ) -> Result<()> {
        let ckpt = checkpoint::load(path, device)?;
        if ckpt.state.phase != self.phase {
            return Err(GrpoError::checkpoint(
                path,
                format!(
                    "was written by the {} loop, not {}",
                    ckpt.state.phase, self.phase
                ),
            ));
        }
        load_weights(&self.optimizer, &ckpt, path)?;
        self.optimizer
            .load_state(ckpt.optimizer, ckpt.state.optimizer_step)?;
        self.rng = ckpt.state.rng.restore()?;
        restore_sampler(ckpt.state.sampler.as_ref())?;
        self.step = ckpt.state.step;
        Ok(())
    }
}

/// What a trainer adds to its [`RunLoop`]: how one step goes, and its task sampler's state.
pub(crate) trait Phase {
    /// The shared loop state.
    fn run_loop(&self) -> &RunLoop;

    /// One training step (which counts itself with [`RunLoop::advance`] and logs its metrics
    /// with [`RunLoop::record`]).
    fn one_step(&mut self) -> Result<StepMetrics>;

    /// The task sampler's state to store in a checkpoint.
    fn sampler_state(&self) -> Option<SamplerState>;
}

/// Trains until the run's `steps` are done (continuing a resumed run), writing checkpoints when
/// a directory is set; returns this call's metrics.
pub(crate) fn train<P: Phase>(trainer: &mut P) -> Result<Vec<StepMetrics>> {
    let core = trainer.run_loop();
    let (total, every) = (core.total, core.checkpoint_every);
    let progress = Progress::new(core.verbosity, core.phase, core.step, total);
    let mut all = Vec::new();
    while trainer.run_loop().step < total {
        let metrics = trainer.one_step()?;
        progress.step(&metrics);
        all.push(metrics);
        let core = trainer.run_loop();
        if core.checkpoint_dir.is_some() && checkpoint::is_due(core.step, total, every) {
            save_checkpoint(trainer)?;
        }
    }
    progress.finish();
    Ok(all)
}

/// The checkpoint of a trainer's current state.
pub(crate) fn checkpoint<P: Phase>(trainer: &P) -> Result<Checkpoint> {
    trainer.run_loop().checkpoint(trainer.sampler_state())
}

/// Writes a trainer's checkpoint under its checkpoint directory; returns its path.
pub(crate) fn save_checkpoint<P: Phase>(trainer: &P) -> Result<PathBuf> {
    let root = trainer.run_loop().checkpoint_root()?;
    checkpoint::save(root, &checkpoint(trainer)?)
}

/// Copies a checkpoint's weights into the optimizer's variables (every one must be there, with
/// its shape).
fn load_weights(optimizer: &AdamW, ckpt: &Checkpoint, path: &Path) -> Result<()> {
    for (name, var) in optimizer.params() {
        let tensor = ckpt
            .weights
            .get(name)
            .ok_or_else(|| GrpoError::checkpoint(path, format!("weight {name} is missing")))?;
        if tensor.dims() != var.dims() {
            return Err(GrpoError::checkpoint(
                path,
                format!(
                    "weight {name} has shape {:?}, the model {:?}",
                    tensor.dims(),
                    var.dims()
                ),
            ));
        }
        var.set(&tensor.to_dtype(var.dtype())?)?;
    }
    Ok(())
}
