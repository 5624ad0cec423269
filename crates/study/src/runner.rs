//! Running a study: every run of a [`Plan`] with a real model — the base model's evaluation and
//! difficulty split, GRPO training through each run's stages with evaluations at checkpoints,
//! and the report — all resumable from what is on disk.
//!
//! # The study folder
//!
//! ```text
//! plan.toml            the plan (written by the caller)
//! settings.toml        the training and evaluation settings used
//! manifest.json        finished runs (a rerun skips them)
//! difficulty.json      the easy/hard split made from the base model's records
//! results/<run>.jsonl  one record per evaluated episode
//! runs/<run>/          checkpoints/ (GRPO, atomic), metrics.jsonl, final/ (the trained model)
//! timings.jsonl        seconds per phase of every run
//! report/              tables, plots, report.html
//! ```
//!
//! An interrupted run continues from its last checkpoint; evaluations skip the episodes already
//! recorded. Evaluation sampling is seeded by (seed, env, task) only, so a run that starts from
//! a model already evaluated (the base model, or the run it is initialised from) takes those
//! records as its starting point instead of replaying them: the episodes would be identical.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossgym_env_core::{Env, Registry, Split};
use crossgym_grpo::{GrpoConfig, MetricsLog, TaskSchedule, TrainerBuilder, Verbosity, checkpoint};
use crossgym_policy::Pretrained;
use serde::{Deserialize, Serialize};

use crate::difficulty::DifficultyFile;
use crate::eval::{EvalOptions, evaluate};
use crate::io::{drop_torn_tail, read_toml, write_toml_atomic};
use crate::metrics::Bootstrap;
use crate::plan::{Manifest, Plan, Run, RunKind, TaskPool};
use crate::policy_source::{PolicySource, TokenLimits};
use crate::pool::{PoolEnv, pool_env_name};
use crate::records::{Checkpoint, EpisodeRecord, append_jsonl, keys, read_jsonl};
use crate::report::write_report;
use crate::results::StudyResults;
use crate::{Result, StudyError};

/// How a study trains and evaluates (the plan says *what* runs; this says *how*), as TOML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudySettings {
    /// GRPO settings of every run (`steps` is replaced by the run's stage lengths, `seed` by the
    /// run's seed).
    pub grpo: GrpoConfig,
    /// Steps of a stage whose plan entry gives none.
    pub stage_steps: usize,
    /// Token limits of evaluation episodes.
    pub eval_tokens: TokenLimits,
    /// Seed of evaluation sampling.
    pub eval_seed: u64,
    /// A system prompt before every conversation (training and evaluation).
    pub system: Option<String>,
    /// Bootstrap resamples of the report's confidence intervals.
    pub bootstrap: usize,
}

impl Default for StudySettings {
    fn default() -> Self {
        Self {
            grpo: GrpoConfig::default(),
            stage_steps: 100,
            eval_tokens: TokenLimits::default(),
            eval_seed: 0,
            system: None,
            bootstrap: 1000,
        }
    }
}

impl StudySettings {
    /// Reads a settings file.
    pub fn load(path: &Path) -> Result<Self> {
        let settings: Self = read_toml(path)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Writes the settings as TOML.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_toml_atomic(path, self)
    }

    /// Checks every field's range; an error names the field (dotted: `grpo.optimizer.lr`,
    /// `eval_tokens.max_total_tokens`), the value and the allowed range. `grpo.steps` and
    /// `grpo.seed` are not checked (each run replaces them); `eval_seed`, `system` and
    /// `bootstrap` (0 collapses the intervals to the point estimate) take any value.
    pub fn validate(&self) -> Result<()> {
        let mut grpo = self.grpo.clone();
        grpo.steps = grpo.steps.max(1);
        crossgym_grpo::config::within("grpo", grpo.validate())?;
        let at_least_one = |field: &str, value: usize| {
            if value == 0 {
                Err(StudyError::invalid(
                    "settings",
                    format!("{field}: 0 is out of range (allowed: 1 or more)"),
                ))
            } else {
                Ok(())
            }
        };
        at_least_one("stage_steps", self.stage_steps)?;
        at_least_one(
            "eval_tokens.max_tokens_per_turn",
            self.eval_tokens.max_tokens_per_turn,
        )?;
        at_least_one(
            "eval_tokens.max_total_tokens",
            self.eval_tokens.max_total_tokens,
        )
    }
}

/// An env a run trains on: its name in the schedule, and for a pool the wrapped env and the
/// pool's tasks (see [`PoolEnv`]).
type TrainingEnv = (String, Option<(String, Vec<crossgym_env_core::TaskId>)>);

/// Seconds spent on one phase of one run (a line of `timings.jsonl`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseTiming {
    /// The run.
    pub run: String,
    /// `eval`, `train` or `report`.
    pub phase: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Episodes played (eval) or training steps (train) in this call.
    pub units: usize,
}

/// Runs a [`Plan`] in a study folder; see the module docs.
#[derive(Debug)]
pub struct StudyRunner {
    plan: Plan,
    dir: PathBuf,
    base: Pretrained,
    registry: Arc<Registry>,
    settings: StudySettings,
    progress: bool,
}

fn slug(run_id: &str) -> String {
    run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Errors when `dir` holds results and its `settings.toml` differs from `settings`.
fn refuse_other_settings(dir: &Path, settings: &StudySettings) -> Result<()> {
    let path = dir.join("settings.toml");
    if !path.exists() || !dir.join("results").exists() {
        return Ok(());
    }
    let previous = StudySettings::load(&path)?;
    if previous == *settings {
        return Ok(());
    }
    Err(StudyError::invalid(
        "study",
        format!(
            "{} holds results made with other settings (see its settings.toml); resuming \
             would mix runs trained or evaluated differently. Use another output folder, or \
             delete this one to start over",
            dir.display()
        ),
    ))
}

impl StudyRunner {
    /// A runner of `plan` in `dir` starting from `base`, with envs from `registry`. Writes the
    /// plan and settings into the folder (a folder holding a different plan keeps its manifest:
    /// runs whose definition changed are rerun).
    ///
    /// A folder that already holds results made with other [`StudySettings`] is refused: its
    /// finished runs and checkpoints would be mixed with runs trained or evaluated differently.
    pub fn new(
        plan: Plan,
        dir: impl Into<PathBuf>,
        base: Pretrained,
        registry: Arc<Registry>,
        settings: StudySettings,
    ) -> Result<Self> {
        plan.validate()?;
        settings.validate()?;
        let dir = dir.into();
        refuse_other_settings(&dir, &settings)?;
        std::fs::create_dir_all(&dir).map_err(|e| StudyError::io(&dir, e))?;
        plan.save(&dir.join("plan.toml"))?;
        settings.save(&dir.join("settings.toml"))?;
        Ok(Self {
            plan,
            dir,
            base,
            registry,
            settings,
            progress: false,
        })
    }

    /// Shows progress bars on stderr.
    pub fn with_progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// The study folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record file of a run.
    pub fn results_file(&self, run_id: &str) -> PathBuf {
        self.dir
            .join("results")
            .join(format!("{}.jsonl", slug(run_id)))
    }

    /// The folder of a run's checkpoints, metrics and final model.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.dir.join("runs").join(slug(run_id))
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    fn difficulty_path(&self) -> PathBuf {
        self.dir.join("difficulty.json")
    }

    fn log_timing(&self, timing: &PhaseTiming) -> Result<()> {
        let path = self.dir.join("timings.jsonl");
        let mut line = serde_json::to_string(timing)
            .map_err(|e| StudyError::parse(path.display().to_string(), e))?;
        line.push('\n');
        drop_torn_tail(&path)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| StudyError::io(&path, e))?;
        std::io::Write::write_all(&mut file, line.as_bytes()).map_err(|e| StudyError::io(&path, e))
    }

    /// Runs every pending run of the plan in order, then writes the report; returns the files
    /// of the report.
    pub fn run_all(&self) -> Result<Vec<PathBuf>> {
        let mut manifest = Manifest::load_or_default(&self.manifest_path())?;
        let pending: Vec<Run> = self.plan.pending(&manifest).into_iter().cloned().collect();
        for (i, run) in pending.iter().enumerate() {
            if self.progress {
                eprintln!("[{}/{}] {}", i + 1, pending.len(), run.id);
            }
            self.run_one(run)?;
            manifest.mark_done(run, self.outputs(run));
            manifest.save(&self.manifest_path())?;
        }
        self.report()
    }

    fn outputs(&self, run: &Run) -> Vec<String> {
        let mut outputs = vec![format!("results/{}.jsonl", slug(&run.id))];
        if !run.stages.is_empty() {
            outputs.push(format!("runs/{}/final", slug(&run.id)));
        }
        outputs
    }

    /// Runs one run (resuming whatever of it is on disk).
    pub fn run_one(&self, run: &Run) -> Result<()> {
        if run.kind == RunKind::Base || run.stages.is_empty() {
            return self.run_base(run);
        }
        self.run_training(run)
    }

    /// The base model: every env of the eval spec, on the test tasks and (for the difficulty
    /// split) the train tasks; then the split file, unless it exists.
    fn run_base(&self, run: &Run) -> Result<()> {
        let results = self.results_file(&run.id);
        self.evaluate_logged(run, &self.base, vec![Split::Test], true, &results)?;
        let pool_envs = self.plan.train_eval_envs(run);
        if !pool_envs.is_empty() {
            let mut on_pools = run.clone();
            on_pools.eval.envs = pool_envs;
            self.evaluate_logged(&on_pools, &self.base, vec![Split::Train], true, &results)?;
        }
        if run.kind == RunKind::Base && !self.difficulty_path().exists() {
            let records: Vec<EpisodeRecord> = read_jsonl(&results)?
                .into_iter()
                .filter(|r| r.checkpoint == Checkpoint::START)
                .collect();
            let split =
                DifficultyFile::from_records(&self.plan.model, run.eval.k, run.seed, &records)?;
            split.save(&self.difficulty_path())?;
        }
        Ok(())
    }

    /// Evaluates `bundle`, a model outside the plan (e.g. a base model before its warm start),
    /// on the test tasks of `run`'s eval spec with the study's settings, records labelled with
    /// `run.id` in `results` (resuming what is there); the time is logged as the run's `eval`
    /// phase. Returns how many episodes were played.
    pub fn evaluate_outside(
        &self,
        run: &Run,
        bundle: &Pretrained,
        results: &Path,
    ) -> Result<usize> {
        self.evaluate_logged(run, bundle, vec![Split::Test], false, results)
    }

    /// Evaluates `bundle` at the start checkpoint of `run` on `splits` into `results` and logs
    /// the time as the run's `eval` phase; returns how many episodes were played.
    fn evaluate_logged(
        &self,
        run: &Run,
        bundle: &Pretrained,
        splits: Vec<Split>,
        keep_episodes: bool,
        results: &Path,
    ) -> Result<usize> {
        let start = Instant::now();
        let options = EvalOptions {
            splits,
            keep_episodes,
            progress: self.progress,
        };
        let mut source = self.source(bundle, &bundle.model)?;
        let played = evaluate(
            run,
            Checkpoint::START,
            &self.registry,
            &mut source,
            None,
            results,
            &options,
        )?;
        self.log_timing(&PhaseTiming {
            run: run.id.clone(),
            phase: "eval".into(),
            seconds: start.elapsed().as_secs_f64(),
            units: played,
        })?;
        Ok(played)
    }

    fn difficulty(&self) -> Result<Option<DifficultyFile>> {
        let path = self.difficulty_path();
        if path.exists() {
            Ok(Some(DifficultyFile::load(&path)?))
        } else {
            Ok(None)
        }
    }

    fn source(
        &self,
        bundle: &Pretrained,
        model: &crossgym_policy::CausalLm,
    ) -> Result<PolicySource> {
        PolicySource::new(
            &model.inference(),
            bundle.tokenizer.clone(),
            bundle.template.clone(),
            self.settings.system.clone(),
            self.settings.eval_tokens,
            self.settings.eval_seed,
        )
    }

    /// The model a run starts from: the base model, or the final model of its `init_from` run.
    fn starting_model(&self, run: &Run) -> Result<(Pretrained, Option<(String, Checkpoint)>)> {
        match &run.init_from {
            None => Ok((
                Pretrained {
                    model: self.base.model.deep_copy()?,
                    tokenizer: self.base.tokenizer.clone(),
                    template: self.base.template.clone(),
                },
                Some(("base".to_owned(), Checkpoint::START)),
            )),
            Some(init) => {
                let from = self
                    .plan
                    .runs
                    .iter()
                    .find(|r| &r.id == init)
                    .ok_or_else(|| {
                        StudyError::invalid(format!("run {:?}", run.id), format!("no run {init:?}"))
                    })?;
                let dir = self.run_dir(init).join("final");
                if !dir.exists() {
                    return Err(StudyError::invalid(
                        format!("run {:?}", run.id),
                        format!(
                            "starts from {init:?}, which has no final model at {}",
                            dir.display()
                        ),
                    ));
                }
                let bundle =
                    Pretrained::load_dir(&dir, self.base.model.dtype(), self.base.model.device())?;
                let last = Checkpoint {
                    stage: from.stages.len() as u32,
                    step: self.stage_lengths(from).last().copied().unwrap_or(0) as u32,
                };
                Ok((bundle, Some((init.clone(), last))))
            }
        }
    }

    fn stage_lengths(&self, run: &Run) -> Vec<usize> {
        run.stages
            .iter()
            .map(|s| s.steps.unwrap_or(self.settings.stage_steps))
            .collect()
    }

    /// Copies `from`'s records at `at` into `run`'s file as its starting point, for the envs,
    /// tasks and samples `run` evaluates that are not there yet. Returns how many were copied.
    fn reuse_start(&self, run: &Run, from: &str, at: Checkpoint) -> Result<usize> {
        let Some(source_run) = self.plan.runs.iter().find(|r| r.id == from) else {
            return Ok(0);
        };
        let (a, b) = (&source_run.eval, &run.eval);
        if a.k < b.k || a.max_turns != b.max_turns || a.temperature != b.temperature {
            return Ok(0);
        }
        let source_file = self.results_file(from);
        if !source_file.exists() {
            return Ok(0);
        }
        let target = self.results_file(&run.id);
        drop_torn_tail(&target)?;
        let done = if target.exists() {
            keys(&read_jsonl(&target)?)
        } else {
            BTreeSet::new()
        };
        let envs: BTreeSet<&String> = b.envs.iter().collect();
        let copied: Vec<EpisodeRecord> = read_jsonl(&source_file)?
            .into_iter()
            .filter(|r| {
                r.checkpoint == at
                    && r.split == Split::Test
                    && envs.contains(&r.env)
                    && (r.sample as usize) < b.k
            })
            .map(|mut r| {
                r.run = run.id.clone();
                r.checkpoint = Checkpoint::START;
                r
            })
            .filter(|r| !done.contains(&r.key()))
            .collect();
        if !copied.is_empty() {
            append_jsonl(&target, &copied)?;
        }
        Ok(copied.len())
    }

    /// The env makers and the schedule of a run's stages (pools wrapped as `env@pool`).
    fn schedule(
        &self,
        run: &Run,
        difficulty: Option<&DifficultyFile>,
    ) -> Result<(Vec<TrainingEnv>, TaskSchedule)> {
        let mut envs: Vec<TrainingEnv> = Vec::new();
        let mut stages = Vec::new();
        for (stage, steps) in run.stages.iter().zip(self.stage_lengths(run)) {
            let mut entries = Vec::new();
            for source in &stage.sources {
                let name = pool_env_name(&source.env, source.pool);
                if !envs.iter().any(|(n, _)| *n == name) {
                    let pool = match source.pool {
                        TaskPool::All => None,
                        pool => {
                            let file = difficulty.ok_or_else(|| {
                                StudyError::invalid(
                                    format!("run {:?}", run.id),
                                    "trains on an easy/hard pool but the study has no difficulty.json (run the base model first)",
                                )
                            })?;
                            Some((
                                source.env.clone(),
                                file.pool(&source.env, Split::Train, pool)?,
                            ))
                        }
                    };
                    if let Some((env, tasks)) = &pool
                        && tasks.is_empty()
                    {
                        return Err(StudyError::invalid(
                            format!("run {:?}", run.id),
                            format!("the {:?} pool of {env} is empty", source.pool),
                        ));
                    }
                    envs.push((name.clone(), pool));
                }
                entries.push((name, source.weight));
            }
            let refs: Vec<(&str, f64)> = entries.iter().map(|(n, w)| (n.as_str(), *w)).collect();
            stages.push((TaskSchedule::mixture(&refs), Some(steps)));
        }
        Ok((envs, TaskSchedule::stages(stages)?))
    }

    /// A training run: GRPO through its stages, evaluations at the start, every `every` steps
    /// of a stage and at the end of each stage, then its final model.
    fn run_training(&self, run: &Run) -> Result<()> {
        let run_dir = self.run_dir(&run.id);
        let final_dir = run_dir.join("final");
        let results = self.results_file(&run.id);
        let difficulty = self.difficulty()?;
        let (start_model, reuse) = self.starting_model(run)?;

        // The starting point of the curves: copied from the run it starts from where that one
        // evaluated it; played here where the run is evaluated at its start.
        let lengths = self.stage_lengths(run);
        let eval_start = Instant::now();
        if let Some((from, at)) = &reuse {
            self.reuse_start(run, from, *at)?;
        }
        let mut played = if !evaluated_at(run, &lengths, Checkpoint::START) {
            0
        } else {
            self.evaluate_at(
                run,
                &start_model,
                &start_model.model,
                Checkpoint::START,
                difficulty.as_ref(),
                &results,
            )?
        };
        let mut eval_seconds = eval_start.elapsed().as_secs_f64();

        let total: usize = lengths.iter().sum();
        let (envs, schedule) = self.schedule(run, difficulty.as_ref())?;
        let mut config = self.settings.grpo.clone();
        config.steps = total;
        config.seed = run.seed;
        let Pretrained {
            model,
            tokenizer,
            template,
        } = start_model;
        let mut builder = TrainerBuilder::new(model, tokenizer.clone(), config)
            .template(template.clone())
            .schedule(schedule)
            .metrics_file(run_dir.join("metrics.jsonl"))
            .checkpoint_dir(checkpoint::root_in(&run_dir))
            .verbosity(if self.progress {
                Verbosity::Progress
            } else {
                Verbosity::Quiet
            });
        if let Some(system) = &self.settings.system {
            builder = builder.system(system.clone());
        }
        for (name, pool) in envs {
            let registry = Arc::clone(&self.registry);
            builder = builder.env(move || -> crossgym_env_core::Result<Box<dyn Env>> {
                match &pool {
                    None => registry.make(&name),
                    Some((env, tasks)) => Ok(Box::new(PoolEnv::new(
                        registry.make(env)?,
                        &name,
                        tasks.clone(),
                    )?)),
                }
            });
        }
        let mut trainer = builder.build()?;
        if let Some(checkpoints) = checkpoint::resumable_in(&run_dir) {
            trainer.resume(&checkpoints)?;
        }
        // Steps a killed run logged after its last checkpoint are done again: drop their lines.
        MetricsLog::truncate_to_step(run_dir.join("metrics.jsonl"), trainer.step())?;
        let bundle = |model: crossgym_policy::CausalLm| Pretrained {
            model,
            tokenizer: tokenizer.clone(),
            template: template.clone(),
        };
        let mut evaluate = |model: &crossgym_policy::CausalLm, at| -> Result<()> {
            let t = Instant::now();
            let view = bundle(model.clone());
            played += self.evaluate_at(run, &view, model, at, difficulty.as_ref(), &results)?;
            eval_seconds += t.elapsed().as_secs_f64();
            Ok(())
        };
        // Re-evaluate the checkpoint a resumed run stopped at (evaluation skips what is done).
        if let Some(at) = eval_point(&lengths, trainer.step() as usize, run.eval.every)
            .filter(|at| evaluated_at(run, &lengths, *at))
        {
            evaluate(trainer.model(), at)?;
        }
        let first_step = trainer.step();
        let mut train_seconds = 0.0;
        while (trainer.step() as usize) < total {
            let t = Instant::now();
            trainer.train_step()?;
            train_seconds += t.elapsed().as_secs_f64();
            // Checkpoints at every evaluation point, evaluations where the spec asks for them.
            if let Some(at) = eval_point(&lengths, trainer.step() as usize, run.eval.every) {
                trainer.save_checkpoint()?;
                if evaluated_at(run, &lengths, at) {
                    evaluate(trainer.model(), at)?;
                }
            }
        }
        self.log_timing(&PhaseTiming {
            run: run.id.clone(),
            phase: "train".into(),
            seconds: train_seconds,
            units: (trainer.step() - first_step) as usize,
        })?;
        self.log_timing(&PhaseTiming {
            run: run.id.clone(),
            phase: "eval".into(),
            seconds: eval_seconds,
            units: played,
        })?;
        save_final(&bundle(trainer.model().clone()), &final_dir)
    }

    fn evaluate_at(
        &self,
        run: &Run,
        bundle: &Pretrained,
        model: &crossgym_policy::CausalLm,
        at: Checkpoint,
        difficulty: Option<&DifficultyFile>,
        results: &Path,
    ) -> Result<usize> {
        let mut source = self.source(bundle, model)?;
        evaluate(
            run,
            at,
            &self.registry,
            &mut source,
            difficulty,
            results,
            &EvalOptions {
                splits: vec![Split::Test],
                keep_episodes: true,
                progress: self.progress,
            },
        )
    }

    /// Every record of the study folder, labelled with the difficulty split when there is one.
    pub fn records(&self) -> Result<Vec<EpisodeRecord>> {
        let mut records = Vec::new();
        let dir = self.dir.join("results");
        if dir.exists() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| StudyError::io(&dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            files.sort();
            for file in files {
                records.extend(read_jsonl(&file)?);
            }
        }
        if let Some(split) = self.difficulty()? {
            split.label(&mut records);
        }
        Ok(records)
    }

    /// Builds the report (tables, plots, HTML) into `report/` from every record on disk.
    pub fn report(&self) -> Result<Vec<PathBuf>> {
        let start = Instant::now();
        let records = self.records()?;
        let results = StudyResults::build(
            &self.plan,
            &records,
            &Bootstrap {
                resamples: self.settings.bootstrap,
                ..Bootstrap::default()
            },
        )?;
        let written = write_report(&results, &self.dir.join("report"))?;
        self.log_timing(&PhaseTiming {
            run: "report".into(),
            phase: "report".into(),
            seconds: start.elapsed().as_secs_f64(),
            units: records.len(),
        })?;
        Ok(written)
    }
}

/// The checkpoint label of global step `step` (1-based count of finished steps) when the run is
/// evaluated there: every `every` steps within a stage and at each stage's end.
pub fn eval_point(lengths: &[usize], step: usize, every: Option<usize>) -> Option<Checkpoint> {
    if step == 0 {
        return None;
    }
    let mut start = 0;
    for (i, &len) in lengths.iter().enumerate() {
        if step <= start + len {
            let within = step - start;
            let due = within == len || every.is_some_and(|e| e > 0 && within.is_multiple_of(e));
            return due.then_some(Checkpoint {
                stage: i as u32 + 1,
                step: within as u32,
            });
        }
        start += len;
    }
    None
}

/// Whether `run` is evaluated at `at`, its start or one of its evaluation points
/// ([`eval_point`]): always, unless its spec is [`crate::plan::EvalSpec::final_only`] and `at`
/// is not its last step.
pub fn evaluated_at(run: &Run, lengths: &[usize], at: Checkpoint) -> bool {
    let last = Checkpoint {
        stage: lengths.len() as u32,
        step: lengths.last().copied().unwrap_or(0) as u32,
    };
    !run.eval.final_only || at == last
}

/// Writes a trained model as a loadable directory, atomically ([`Pretrained::save_atomic`]).
pub fn save_final(bundle: &Pretrained, dir: &Path) -> Result<()> {
    Ok(bundle.save_atomic(dir)?)
}

/// Loads a model onto `device` (f32 on the CPU, bf16 on CUDA): a directory (`config.json`,
/// safetensors, `tokenizer.json`) or a `.gguf` file ([`Pretrained::load`]).
pub fn load_model(path: &Path, device: crate::device::DeviceChoice) -> Result<Pretrained> {
    Ok(Pretrained::load(path, device.dtype(), &device.open()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_points_fall_every_n_steps_and_at_stage_ends() {
        let lengths = [3, 2];
        let at = |step| eval_point(&lengths, step, Some(2)).map(|c| (c.stage, c.step));
        assert_eq!(at(0), None);
        assert_eq!(at(1), None);
        assert_eq!(at(2), Some((1, 2)));
        assert_eq!(at(3), Some((1, 3)));
        assert_eq!(at(4), None);
        assert_eq!(at(5), Some((2, 2)));
        assert_eq!(at(6), None);
        assert_eq!(
            eval_point(&lengths, 3, None).map(|c| (c.stage, c.step)),
            Some((1, 3))
        );
        assert_eq!(eval_point(&lengths, 2, None), None);
    }

    #[test]
    fn a_final_only_run_is_evaluated_at_its_last_step_only() {
        let plan = crate::cpu_plan::cpu_plan("m", &["textcraft".to_owned()], 0);
        let mut run = plan.runs[4].clone();
        let lengths = [3, 2];
        let points: Vec<Checkpoint> = (1..=5)
            .filter_map(|step| eval_point(&lengths, step, Some(1)))
            .collect();
        let evaluated = |run: &Run| -> Vec<(u32, u32)> {
            points
                .iter()
                .filter(|at| evaluated_at(run, &lengths, **at))
                .map(|c| (c.stage, c.step))
                .collect()
        };
        assert!(run.eval.final_only);
        assert_eq!(evaluated(&run), [(2, 2)]);
        run.eval.final_only = false;
        assert_eq!(evaluated(&run).len(), 5);
    }

    #[test]
    fn settings_round_trip_through_toml_and_reject_zero_limits() {
        let dir = std::env::temp_dir().join(format!("crossgym-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        let settings = StudySettings {
            stage_steps: 7,
            ..StudySettings::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(StudySettings::load(&path).unwrap(), settings);
        let bad = StudySettings {
            stage_steps: 0,
            ..StudySettings::default()
        };
        assert!(bad.validate().is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
