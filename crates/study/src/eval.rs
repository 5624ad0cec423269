//! Evaluation plumbing: play every (env, task, sample) of a run's [`EvalSpec`] that is not on disk
//! yet, and append one [`EpisodeRecord`] per episode. The model is behind [`EpisodeSource`], which
//! the policy crate's rollout loop implements; this module needs no model.
//!
//! [`EvalSpec`]: crate::plan::EvalSpec

use std::path::Path;

use crossgym_env_core::{Env, Episode, Registry, Split, TaskId};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Result;
use crate::difficulty::DifficultyFile;
use crate::plan::Run;
use crate::records::{Checkpoint, EpisodeRecord, RecordKey, append_jsonl, keys, read_jsonl};

/// Plays episodes with the model under evaluation.
pub trait EpisodeSource {
    /// Plays `task` of `env` (sample `sample`, at most `max_turns` turns, temperature
    /// `temperature`) and returns the episode and the number of tokens the model generated.
    fn play(
        &mut self,
        env: &mut dyn Env,
        task: TaskId,
        sample: u32,
        max_turns: usize,
        temperature: f64,
    ) -> Result<(Episode, usize)>;

    /// Plays `task` once per entry of `samples`, on `envs[i]` for `samples[i]` (as many envs as
    /// samples, all of the same env). Models that batch override this; the default plays one
    /// sample after another through [`EpisodeSource::play`].
    fn play_group(
        &mut self,
        envs: &mut [Box<dyn Env>],
        task: TaskId,
        samples: &[u32],
        max_turns: usize,
        temperature: f64,
    ) -> Result<Vec<(Episode, usize)>> {
        envs.iter_mut()
            .zip(samples)
            .map(|(env, &sample)| self.play(env.as_mut(), task, sample, max_turns, temperature))
            .collect()
    }
}

/// The tasks of `env` an evaluation covers: every task of each split in `splits`, or the first
/// `max_tasks` of each (in split order) when given.
pub fn eval_tasks(
    env: &dyn Env,
    splits: &[Split],
    max_tasks: Option<usize>,
) -> Vec<(Split, TaskId)> {
    splits
        .iter()
        .flat_map(|split| {
            let tasks = env.tasks(*split);
            let n = max_tasks.map_or(tasks.len(), |m| m.min(tasks.len()));
            tasks[..n].iter().map(move |task| (*split, *task))
        })
        .collect()
}

/// How [`evaluate`] runs.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// Which halves of each env's tasks (the test half for results; the train half too for the
    /// base model's difficulty split).
    pub splits: Vec<Split>,
    /// Keep whole trajectories in the records (for failure modes and the trajectory browser).
    pub keep_episodes: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            splits: vec![Split::Test],
            keep_episodes: true,
            progress: false,
        }
    }
}

/// Evaluates `run` at `checkpoint`: every env of its eval spec, every task of `options.splits`,
/// `k` samples each, skipping records already in `results` (JSONL, appended task by task so an
/// interrupted evaluation resumes where it stopped). Records are labelled with `difficulty` when
/// given. Returns how many episodes were played.
pub fn evaluate(
    run: &Run,
    checkpoint: Checkpoint,
    registry: &Registry,
    source: &mut dyn EpisodeSource,
    difficulty: Option<&DifficultyFile>,
    results: &Path,
    options: &EvalOptions,
) -> Result<usize> {
    let done = if results.exists() {
        keys(&read_jsonl(results)?)
    } else {
        Default::default()
    };
    let spec = &run.eval;
    let mut envs = Vec::new();
    let mut total = 0u64;
    for name in &spec.envs {
        let group = (0..spec.k.max(1))
            .map(|_| registry.make(name))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let jobs = eval_tasks(group[0].as_ref(), &options.splits, spec.max_tasks);
        total += (jobs.len() * spec.k) as u64;
        envs.push((name, group, jobs));
    }
    let bar = if options.progress {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} episodes, eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut played = 0;
    for (name, mut group, jobs) in envs {
        bar.set_message(format!("{} {name}", run.id));
        for (split, task) in jobs {
            let key = |sample: u32| RecordKey {
                run: run.id.clone(),
                checkpoint,
                env: name.clone(),
                task,
                sample,
            };
            let missing: Vec<u32> = (0..spec.k as u32)
                .filter(|&sample| !done.contains(&key(sample)))
                .collect();
            bar.inc((spec.k - missing.len()) as u64);
            if missing.is_empty() {
                continue;
            }
            let played_group = source.play_group(
                &mut group[..missing.len()],
                task,
                &missing,
                spec.max_turns,
                spec.temperature,
            )?;
            let mut batch = Vec::with_capacity(missing.len());
            for (&sample, (episode, tokens)) in missing.iter().zip(played_group) {
                let mut record = EpisodeRecord::from_episode(
                    &run.id, checkpoint, split, sample, &episode, tokens,
                );
                record.difficulty = difficulty.and_then(|d| d.difficulty(name, task));
                if options.keep_episodes {
                    record.episode = Some(episode);
                }
                batch.push(record);
            }
            bar.inc(batch.len() as u64);
            played += batch.len();
            append_jsonl(results, &batch)?;
        }
    }
    bar.finish_and_clear();
    Ok(played)
}
