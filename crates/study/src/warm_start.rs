//! Supervised warm starts on oracle demonstrations of *train* tasks, the same number per env:
//! the steps every base model of a CPU study shares (the small model built here, SmolLM2 in the
//! `cpu` preset, `crossgym sft` on any model).
//!
//! - [`demonstrations`]: the first `n` train tasks of each env that its oracle solves, played
//!   once and cached as JSONL;
//! - [`conversations`]: those episodes in each env's chat format;
//! - [`supervised`]: a resumable SFT run with its checkpoints and metrics in one folder.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device};
use crossgym_env_core::{Episode, Registry, Split};
use crossgym_grpo::{
    Demonstration, MetricsLog, SftConfig, SftTrainerBuilder, StepMetrics, Verbosity, checkpoint,
};
use crossgym_policy::Pretrained;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::demos::Demonstrator;
use crate::io::{read_json, read_jsonl_of, write_atomic, write_json_atomic};
use crate::runner::save_final;
use crate::{Result, StudyError};

/// The demonstrations of the first `per_env` train tasks of each of `envs` that the env's
/// oracle solves (oracles fail on a few tasks: twice as many are offered), in env order.
/// With `cache`, a file written by an earlier call is read instead of replaying, and a fresh
/// set is written there atomically.
pub fn demonstrations(
    envs: &[String],
    per_env: usize,
    registry: &Registry,
    cache: Option<&Path>,
    progress: bool,
) -> Result<Vec<Episode>> {
    if let Some(path) = cache.filter(|p| p.exists()) {
        return read_jsonl_of(path);
    }
    let mut demonstrator = Demonstrator::new(envs)?;
    let mut episodes = Vec::new();
    for env_name in envs {
        let env = registry.make(env_name)?;
        let train = env.tasks(Split::Train).to_vec();
        let offered = &train[..(per_env * 2).min(train.len())];
        let solved = demonstrator.episodes(env_name, offered, progress)?;
        episodes.extend(solved.into_iter().take(per_env));
    }
    if let Some(path) = cache {
        let mut text = String::new();
        for episode in &episodes {
            let line = serde_json::to_string(episode)
                .map_err(|e| StudyError::parse(path.display().to_string(), e))?;
            text.push_str(&line);
            text.push('\n');
        }
        write_atomic(path, text.as_bytes())?;
    }
    Ok(episodes)
}

/// The model in `dir/final` with the record in `dir/base.json`, when both exist and the record
/// is of `spec` (a base folder's cache); `None` means build it. Creates `dir`.
pub fn cached_base<S: PartialEq + DeserializeOwned>(
    dir: &Path,
    spec: &S,
) -> Result<Option<(Pretrained, BaseRecord<S>)>> {
    std::fs::create_dir_all(dir).map_err(|e| StudyError::io(dir, e))?;
    let record_path = dir.join("base.json");
    let final_dir = dir.join("final");
    if !(record_path.exists() && final_dir.exists()) {
        return Ok(None);
    }
    let record: BaseRecord<S> = read_json(&record_path)?;
    if record.spec != *spec {
        return Ok(None);
    }
    let model = Pretrained::load_dir(&final_dir, DType::F32, &Device::Cpu)?;
    Ok(Some((model, record)))
}

/// What every warm-started base folder is built from, whatever model it starts with.
#[derive(Clone, Copy, Debug)]
pub struct BaseRecipe<'a> {
    /// The envs whose demonstrations the model learns from.
    pub envs: &'a [String],
    /// Demonstrations per env.
    pub demos_per_env: usize,
    /// The system prompt of the demonstrations.
    pub system: Option<&'a str>,
    /// The warm start.
    pub sft: &'a SftConfig,
}

impl<'a> BaseRecipe<'a> {
    /// The recipe of a spec's fields.
    pub fn new(
        envs: &'a [String],
        demos_per_env: usize,
        system: &'a Option<String>,
        sft: &'a SftConfig,
    ) -> Self {
        Self {
            envs,
            demos_per_env,
            system: system.as_deref(),
            sft,
        }
    }
}

/// What a base build measured, saved in `base.json` beside the spec it was built with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseRecord<S> {
    /// The spec it was built with.
    pub spec: S,
    /// Demonstrations per env.
    pub demos: Vec<(String, usize)>,
    /// Tokenizer vocabulary size (0 in records written before it was recorded).
    #[serde(default)]
    pub vocab_size: usize,
    /// Model parameters.
    pub parameters: usize,
    /// Mean loss of the first and last warm-start steps.
    pub sft_loss: (f64, f64),
    /// Seconds per phase, in order.
    pub seconds: Vec<(String, f64)>,
}

/// Seconds per named phase of a build, each timed from the end of the one before.
#[derive(Debug)]
pub struct Phases {
    seconds: Vec<(String, f64)>,
    since: Instant,
}

impl Phases {
    fn start() -> Self {
        Self {
            seconds: Vec::new(),
            since: Instant::now(),
        }
    }

    /// Ends the running phase as `name` and starts the next.
    pub fn lap(&mut self, name: &str) {
        self.seconds
            .push((name.to_owned(), self.since.elapsed().as_secs_f64()));
        self.since = Instant::now();
    }
}

/// Builds the base folder of `spec` in `dir` (or loads its cache, when the record in
/// `base.json` is of the same spec): the recipe's demonstrations (cached in `demos.jsonl`), the
/// model `model` makes from their conversations (it may time phases of its own), a resumable
/// warm start in `sft/`, the model saved in `final/` and the record of what was measured, saved
/// in `base.json` last, so a folder with a record is complete.
pub fn build_base<S: Clone + PartialEq + Serialize + DeserializeOwned>(
    dir: &Path,
    spec: &S,
    recipe: BaseRecipe<'_>,
    registry: &Registry,
    progress: bool,
    model: impl FnOnce(&[Demonstration], &mut Phases) -> Result<Pretrained>,
) -> Result<(Pretrained, BaseRecord<S>)> {
    if let Some(cached) = cached_base(dir, spec)? {
        return Ok(cached);
    }
    let mut phases = Phases::start();
    let demos = demonstrations(
        recipe.envs,
        recipe.demos_per_env,
        registry,
        Some(&dir.join("demos.jsonl")),
        progress,
    )?;
    phases.lap("demonstrations");
    let conversations = conversations(&demos, registry, recipe.system)?;
    let bundle = model(&conversations, &mut phases)?;
    let sft_loss = supervised(
        &bundle,
        &conversations,
        recipe.sft,
        &dir.join("sft"),
        progress,
    )?;
    phases.lap("warm start");
    save_final(&bundle, &dir.join("final"))?;
    let record = BaseRecord {
        spec: spec.clone(),
        demos: count_per_env(recipe.envs, &demos),
        vocab_size: bundle.tokenizer.vocab_size(),
        parameters: bundle.model.num_parameters(),
        sft_loss,
        seconds: phases.seconds,
    };
    write_json_atomic(&dir.join("base.json"), &record)?;
    Ok((bundle, record))
}

/// Demonstrations per env, in the order of `envs`.
pub fn count_per_env(envs: &[String], episodes: &[Episode]) -> Vec<(String, usize)> {
    envs.iter()
        .map(|env| {
            (
                env.clone(),
                episodes.iter().filter(|e| e.env == *env).count(),
            )
        })
        .collect()
}

/// `episodes` as conversations in their env's format, with `system` as the system prompt.
pub fn conversations(
    episodes: &[Episode],
    registry: &Registry,
    system: Option<&str>,
) -> Result<Vec<Demonstration>> {
    let mut out = Vec::with_capacity(episodes.len());
    for episode in episodes {
        let env = registry.make(&episode.env)?;
        out.push(Demonstration::from_episode(env.as_ref(), system, episode));
    }
    Ok(out)
}

/// Trains `bundle`'s model on `conversations` with `config`, checkpoints and `metrics.jsonl` in `dir`,
/// resuming from the last checkpoint there (the metrics file is cut back to it, so a resumed
/// run logs every step once). Returns the loss of the first and last step on file (NaN when
/// there is none).
pub fn supervised(
    bundle: &Pretrained,
    conversations: &[Demonstration],
    config: &SftConfig,
    dir: &Path,
    progress: bool,
) -> Result<(f64, f64)> {
    let metrics_path = dir.join("metrics.jsonl");
    let mut trainer = SftTrainerBuilder::new(
        &bundle.model,
        &bundle.tokenizer,
        conversations,
        config.clone(),
    )
    .template(bundle.template.clone())
    .metrics_file(&metrics_path)
    .checkpoint_dir(checkpoint::root_in(dir))
    .verbosity(if progress {
        Verbosity::Progress
    } else {
        Verbosity::Quiet
    })
    .build()?;
    if let Some(checkpoints) = checkpoint::resumable_in(dir) {
        trainer.resume(&checkpoints)?;
    }
    MetricsLog::truncate_to_step(&metrics_path, trainer.step())?;
    trainer.train()?;
    drop(trainer);
    // From the file, not this call's steps: a resumed warm start did only the last ones.
    first_and_last_loss(&metrics_path)
}

/// The loss of the first and the last step of a warm start's metrics file (NaN when empty).
fn first_and_last_loss(path: &Path) -> Result<(f64, f64)> {
    if !path.exists() {
        return Ok((f64::NAN, f64::NAN));
    }
    let losses: Vec<f64> = read_jsonl_of::<StepMetrics>(path)?
        .iter()
        .map(|m| m.loss)
        .collect();
    Ok((
        losses.first().copied().unwrap_or(f64::NAN),
        losses.last().copied().unwrap_or(f64::NAN),
    ))
}
