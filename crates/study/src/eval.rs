//! Evaluation plumbing: play every (env, task, sample) of a run's [`EvalSpec`] that is not on disk
//! yet, and append one [`EpisodeRecord`] per episode. The model is behind [`EpisodeSource`], which
//! the policy crate's rollout loop implements; this module needs no model.
//!
//! [`EvalSpec`]: crate::plan::EvalSpec

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crossgym_env_core::{Env, Episode, Registry, Split, TaskId};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Result;
use crate::difficulty::DifficultyFile;
use crate::io::drop_torn_tail;
use crate::plan::Run;
use crate::records::{Checkpoint, EpisodeRecord, RecordKey, append_jsonl, keys, read_jsonl};

/// One episode an evaluation needs: sample `sample` of `task` of env `env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalJob {
    /// Env name (as registered).
    pub env: String,
    /// The task.
    pub task: TaskId,
    /// Sample index within the task.
    pub sample: u32,
}

/// Receives each finished episode of [`EpisodeSource::play_jobs`]: the job's index, the episode
/// and the tokens the model generated.
pub type EpisodeSink<'a> = dyn FnMut(usize, Episode, usize) -> Result<()> + 'a;

/// How an evaluation plays every episode: the turn cap and the sampling temperature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlaySettings {
    /// At most this many turns.
    pub max_turns: usize,
    /// Sampling temperature.
    pub temperature: f64,
}

/// One episode to play: sample `sample` of `task`, with `settings`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attempt {
    /// The task.
    pub task: TaskId,
    /// Sample index within the task.
    pub sample: u32,
    /// Turn cap and temperature.
    pub settings: PlaySettings,
}

/// The episodes of an evaluation: its jobs in order, the registry their envs are made from,
/// and the settings every episode is played with.
#[derive(Clone, Copy)]
pub struct Jobs<'a> {
    /// The envs by name.
    pub registry: &'a Registry,
    /// The jobs, in order.
    pub list: &'a [EvalJob],
    /// Turn cap and temperature.
    pub settings: PlaySettings,
}

/// Plays episodes with the model under evaluation.
pub trait EpisodeSource {
    /// Plays `attempt` on `env` and returns the episode and the number of tokens the model
    /// generated.
    fn play(&mut self, env: &mut dyn Env, attempt: Attempt) -> Result<(Episode, usize)>;

    /// Plays `attempts[i]` on `envs[i]` (as many envs as attempts; all attempts of one task,
    /// with the same settings, all envs of the same env). Models that batch override this; the
    /// default plays one sample after another through [`EpisodeSource::play`].
    fn play_group(
        &mut self,
        envs: &mut [Box<dyn Env>],
        attempts: &[Attempt],
    ) -> Result<Vec<(Episode, usize)>> {
        envs.iter_mut()
            .zip(attempts)
            .map(|(env, attempt)| self.play(env.as_mut(), *attempt))
            .collect()
    }

    /// Plays every job, handing each episode to `done` as it ends (in any order). Models that
    /// keep many episodes in flight override this; the default plays each run of consecutive
    /// jobs of one (env, task) as a group through [`EpisodeSource::play_group`], in order.
    fn play_jobs(&mut self, jobs: Jobs<'_>, done: &mut EpisodeSink<'_>) -> Result<()> {
        play_jobs_in_groups(self, jobs, done)
    }
}

/// [`EpisodeSource::play_jobs`]'s default: each run of consecutive jobs of one (env, task) as a
/// group through [`EpisodeSource::play_group`], in order.
pub fn play_jobs_in_groups<S: EpisodeSource + ?Sized>(
    source: &mut S,
    jobs: Jobs<'_>,
    done: &mut EpisodeSink<'_>,
) -> Result<()> {
    let (registry, jobs, settings) = (jobs.registry, jobs.list, jobs.settings);
    let mut envs: HashMap<&str, Vec<Box<dyn Env>>> = HashMap::new();
    let mut start = 0;
    while start < jobs.len() {
        let first = &jobs[start];
        let end = start
            + jobs[start..]
                .iter()
                .take_while(|j| j.env == first.env && j.task == first.task)
                .count();
        let group = envs.entry(first.env.as_str()).or_default();
        while group.len() < end - start {
            group.push(registry.make(&first.env)?);
        }
        let attempts: Vec<Attempt> = jobs[start..end]
            .iter()
            .map(|j| Attempt {
                task: j.task,
                sample: j.sample,
                settings,
            })
            .collect();
        let played = source.play_group(&mut group[..attempts.len()], &attempts)?;
        for (i, (episode, tokens)) in (start..end).zip(played) {
            done(i, episode, tokens)?;
        }
        start = end;
    }
    Ok(())
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

/// A progress bar over `total` episodes (hidden unless `show`).
fn progress_bar(show: bool, total: u64, run: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} episodes, eta {eta}")
    {
        bar.set_style(style);
    }
    bar.set_message(run.to_owned());
    bar
}

/// Evaluates `run` at `checkpoint`: every env of its eval spec, every task of `options.splits`,
/// `k` samples each, skipping records already in `results` (JSONL, appended in job order as
/// episodes finish, so an interrupted evaluation resumes where it stopped). Records are labelled with `difficulty` when
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
    // A kill mid-append leaves a torn last record: drop it, the episode is played again.
    drop_torn_tail(results)?;
    let done = if results.exists() {
        keys(&read_jsonl(results)?)
    } else {
        Default::default()
    };
    let spec = &run.eval;
    // Every (env, task, sample) of the spec in order, and which split each task is in.
    let mut all = Vec::new();
    for name in &spec.envs {
        let env = registry.make(name)?;
        for (split, task) in eval_tasks(env.as_ref(), &options.splits, spec.max_tasks) {
            for sample in 0..spec.k as u32 {
                all.push((
                    split,
                    EvalJob {
                        env: name.clone(),
                        task,
                        sample,
                    },
                ));
            }
        }
    }
    let bar = progress_bar(options.progress, all.len() as u64, &run.id);
    let (jobs, splits): (Vec<EvalJob>, Vec<Split>) = all
        .into_iter()
        .filter(|(_, job)| {
            let on_file = done.contains(&RecordKey {
                run: run.id.clone(),
                checkpoint,
                env: job.env.clone(),
                task: job.task,
                sample: job.sample,
            });
            if on_file {
                bar.inc(1);
            }
            !on_file
        })
        .map(|(split, job)| (job, split))
        .unzip();
    // Records are appended in job order (the order of an uninterrupted sequential evaluation)
    // as soon as every earlier job has finished, so the file is the same however episodes
    // interleave, and an interruption loses only episodes still in flight.
    let mut pending: BTreeMap<usize, EpisodeRecord> = BTreeMap::new();
    let mut next = 0;
    let mut played = 0;
    let settings = PlaySettings {
        max_turns: spec.max_turns,
        temperature: spec.temperature,
    };
    let all_jobs = Jobs {
        registry,
        list: &jobs,
        settings,
    };
    source.play_jobs(all_jobs, &mut |i, episode, tokens| {
        let job = &jobs[i];
        let mut record = EpisodeRecord::from_episode(
            &run.id, checkpoint, splits[i], job.sample, &episode, tokens,
        );
        record.difficulty = difficulty.and_then(|d| d.difficulty(&job.env, job.task));
        if options.keep_episodes {
            record.episode = Some(episode);
        }
        pending.insert(i, record);
        bar.inc(1);
        played += 1;
        let mut ready = Vec::new();
        while let Some(record) = pending.remove(&next) {
            ready.push(record);
            next += 1;
        }
        if !ready.is_empty() {
            append_jsonl(results, &ready)?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(played)
}
