//! Which tasks a batch trains on: one env, a mixture with ratios, or a schedule of stages.
//!
//! Within an env, tasks are drawn from its train split without replacement, one shuffled pass
//! (epoch) after another, like a shuffling data loader. In a mixture, each task of a batch picks
//! its env at random with probability proportional to the env's weight, so small batches are
//! unbiased too. A schedule runs its stages one after another, each for its number of steps
//! (the last one until the run ends): sequential multi-env training.

use std::collections::BTreeMap;

use crossgym_env_core::{Env, Split, TaskId};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::rng::RngState;
use crate::{GrpoError, Result};

/// One env of a mixture and its weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixtureEntry {
    /// Env name ([`crossgym_env_core::EnvInfo::name`]).
    pub env: String,
    /// Relative weight (> 0).
    pub weight: f64,
}

/// One stage of a schedule: a mixture used for a number of steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// The envs of this stage with their weights.
    pub mixture: Vec<MixtureEntry>,
    /// How many steps the stage lasts; `None` (only allowed last) lasts until the run ends.
    pub steps: Option<usize>,
}

/// Where a run's tasks come from.
///
/// ```
/// use crossgym_grpo::TaskSchedule;
///
/// let single = TaskSchedule::single("babyai");
/// let mixed = TaskSchedule::mixture(&[("babyai", 1.0), ("textcraft", 3.0)]);
/// let sequential = TaskSchedule::stages(vec![
///     (TaskSchedule::single("babyai"), Some(50)),
///     (TaskSchedule::single("textcraft"), None),
/// ])?;
/// assert_eq!(sequential.stage_at(60).unwrap().mixture[0].env, "textcraft");
/// # Ok::<(), crossgym_grpo::GrpoError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSchedule {
    /// The stages in order (a single env or a mixture is one open-ended stage).
    pub stages: Vec<Stage>,
}

impl TaskSchedule {
    /// Every task from one env.
    pub fn single(env: &str) -> Self {
        Self::mixture(&[(env, 1.0)])
    }

    /// Tasks from several envs in proportion to their weights.
    pub fn mixture(entries: &[(&str, f64)]) -> Self {
        Self {
            stages: vec![Stage {
                mixture: entries
                    .iter()
                    .map(|(env, weight)| MixtureEntry {
                        env: (*env).to_owned(),
                        weight: *weight,
                    })
                    .collect(),
                steps: None,
            }],
        }
    }

    /// Stages one after another: each `(schedule, steps)` contributes its first stage's mixture
    /// for `steps` steps (`None`: until the end, last stage only).
    pub fn stages(stages: Vec<(TaskSchedule, Option<usize>)>) -> Result<Self> {
        let mut out = Vec::with_capacity(stages.len());
        for (schedule, steps) in stages {
            let mixture = schedule
                .stages
                .into_iter()
                .next()
                .map(|s| s.mixture)
                .unwrap_or_default();
            out.push(Stage { mixture, steps });
        }
        let schedule = Self { stages: out };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Checks weights, stage lengths and that only the last stage is open-ended.
    pub fn validate(&self) -> Result<()> {
        if self.stages.is_empty() {
            return Err(GrpoError::config("schedule", "has no stage"));
        }
        for (i, stage) in self.stages.iter().enumerate() {
            let field = format!("schedule.stages[{i}]");
            if stage.mixture.is_empty() {
                return Err(GrpoError::config(field, "names no env"));
            }
            for entry in &stage.mixture {
                if !(entry.weight.is_finite() && entry.weight > 0.0) {
                    return Err(GrpoError::config(
                        &field,
                        format!("env {} has weight {}, not > 0", entry.env, entry.weight),
                    ));
                }
            }
            match stage.steps {
                Some(0) => return Err(GrpoError::config(field, "lasts 0 steps")),
                None if i + 1 != self.stages.len() => {
                    return Err(GrpoError::config(field, "is open-ended but not the last"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The stage in force at `step` (0-based); past the end of a schedule whose stages all have
    /// lengths, the last one; `None` only for a schedule without stages.
    pub fn stage_at(&self, step: usize) -> Option<&Stage> {
        let mut start = 0;
        for stage in &self.stages {
            match stage.steps {
                Some(n) if step >= start + n => start += n,
                _ => return Some(stage),
            }
        }
        self.stages.last()
    }

    /// Every env name the schedule uses, sorted, without repeats.
    pub fn env_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .stages
            .iter()
            .flat_map(|s| s.mixture.iter().map(|e| e.env.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// One env's pass over its train tasks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The current epoch's order of task ids.
    pub order: Vec<usize>,
    /// The next position in `order`.
    pub next: usize,
    /// Completed passes.
    pub epoch: u64,
}

/// A [`TaskSampler`]'s complete state, saved in checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplerState {
    /// The sampler's generator.
    pub rng: RngState,
    /// Each env's pass, by env name.
    pub cursors: BTreeMap<String, Cursor>,
}

/// One task of a batch: the env (index into the trainer's env list) and the task id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskDraw {
    /// Index of the env in the list given to the sampler.
    pub env: usize,
    /// The task.
    pub task: TaskId,
}

/// Draws the tasks of each batch following a [`TaskSchedule`].
#[derive(Clone, Debug)]
pub struct TaskSampler {
    schedule: TaskSchedule,
    names: Vec<String>,
    train: Vec<Vec<TaskId>>,
    cursors: Vec<Cursor>,
    rng: ChaCha8Rng,
}

impl TaskSampler {
    /// A sampler over `envs` (matched to the schedule by [`crossgym_env_core::EnvInfo::name`])
    /// seeded with `seed`. Every env the schedule names must be present with train tasks.
    pub fn new<E: Env + ?Sized>(schedule: TaskSchedule, envs: &[&E], seed: u64) -> Result<Self> {
        schedule.validate()?;
        let names: Vec<String> = envs.iter().map(|e| e.info().name.clone()).collect();
        for name in schedule.env_names() {
            let Some(i) = names.iter().position(|n| *n == name) else {
                return Err(GrpoError::config(
                    "schedule",
                    format!("names env {name:?}, which is not among {names:?}"),
                ));
            };
            if envs[i].tasks(Split::Train).is_empty() {
                return Err(GrpoError::config(
                    "schedule",
                    format!("env {name:?} has no train tasks"),
                ));
            }
        }
        let train = envs
            .iter()
            .map(|e| e.tasks(Split::Train).to_vec())
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0x7a5c);
        Ok(Self {
            schedule,
            cursors: vec![Cursor::default(); names.len()],
            names,
            train,
            rng,
        })
    }

    /// The schedule.
    pub fn schedule(&self) -> &TaskSchedule {
        &self.schedule
    }

    /// The `count` tasks of batch `step` (0-based).
    pub fn next_batch(&mut self, step: usize, count: usize) -> Vec<TaskDraw> {
        // `new` validated the schedule: it has a stage, and every env it names is in `names`.
        let Some(stage) = self.schedule.stage_at(step).cloned() else {
            return Vec::new();
        };
        let total: f64 = stage.mixture.iter().map(|e| e.weight).sum();
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let mut pick = self.rng.random::<f64>() * total;
            let mut chosen = &stage.mixture[stage.mixture.len() - 1];
            for entry in &stage.mixture {
                if pick < entry.weight {
                    chosen = entry;
                    break;
                }
                pick -= entry.weight;
            }
            let Some(env) = self.names.iter().position(|n| *n == chosen.env) else {
                continue;
            };
            out.push(TaskDraw {
                env,
                task: self.next_task(env),
            });
        }
        out
    }

    fn next_task(&mut self, env: usize) -> TaskId {
        let cursor = &mut self.cursors[env];
        if cursor.next >= cursor.order.len() {
            if !cursor.order.is_empty() {
                cursor.epoch += 1;
            }
            cursor.order = self.train[env].iter().map(|t| t.0).collect();
            cursor.order.shuffle(&mut self.rng);
            cursor.next = 0;
        }
        cursor.next += 1;
        TaskId(cursor.order[cursor.next - 1])
    }

    /// The state to save in a checkpoint.
    pub fn state(&self) -> SamplerState {
        SamplerState {
            rng: RngState::capture(&self.rng),
            cursors: self
                .names
                .iter()
                .cloned()
                .zip(self.cursors.iter().cloned())
                .collect(),
        }
    }

    /// Continues from a saved state (the envs must be the same as when it was saved).
    pub fn restore(&mut self, state: &SamplerState) -> Result<()> {
        self.rng = state.rng.restore()?;
        for (i, name) in self.names.iter().enumerate() {
            self.cursors[i] = state.cursors.get(name).cloned().unwrap_or_default();
            if self.cursors[i]
                .order
                .iter()
                .any(|t| self.train[i].binary_search(&TaskId(*t)).is_err())
            {
                return Err(GrpoError::Input(format!(
                    "sampler state: env {name}'s saved order names tasks outside its train split"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crossgym_env_core::{Characteristics, EnvInfo, ParserFamily, Step, TaskSplit};

    use super::*;

    struct Dummy {
        info: EnvInfo,
        split: TaskSplit,
    }

    impl Dummy {
        fn new(name: &str, n: usize) -> Self {
            Self {
                info: EnvInfo {
                    name: name.into(),
                    version: 0,
                    instruction: String::new(),
                    acknowledgement: String::new(),
                    parser: ParserFamily::ReactSingleLine,
                    max_turns_train: 1,
                    max_turns_eval: 1,
                    characteristics: Characteristics::NONE,
                },
                split: TaskSplit::seeded(name, n, n - 1, 1, 0).unwrap(),
            }
        }
    }

    impl Env for Dummy {
        fn info(&self) -> &EnvInfo {
            &self.info
        }
        fn num_tasks(&self) -> usize {
            self.split.train().len() + 1
        }
        fn split(&self) -> &TaskSplit {
            &self.split
        }
        fn reset(&mut self, _task: TaskId) -> crossgym_env_core::Result<String> {
            Ok(String::new())
        }
        fn step(&mut self, _reply: &str) -> crossgym_env_core::Result<Step> {
            Ok(Step::new("", 0.0, true))
        }
    }

    #[test]
    fn epochs_cover_the_train_split_without_replacement() {
        let a = Dummy::new("a", 6);
        let mut sampler = TaskSampler::new(TaskSchedule::single("a"), &[&a], 1).unwrap();
        let draws = sampler.next_batch(0, 5);
        let mut ids: Vec<TaskId> = draws.iter().map(|d| d.task).collect();
        ids.sort();
        assert_eq!(ids, a.split().train());
        assert!(a.split().test().iter().all(|t| !ids.contains(t)));
    }

    #[test]
    fn mixture_follows_ratios_and_stages_switch() {
        let a = Dummy::new("a", 50);
        let b = Dummy::new("b", 50);
        let schedule = TaskSchedule::mixture(&[("a", 1.0), ("b", 3.0)]);
        let mut sampler = TaskSampler::new(schedule, &[&a, &b], 5).unwrap();
        let draws = sampler.next_batch(0, 4000);
        let share_b = draws.iter().filter(|d| d.env == 1).count() as f64 / 4000.0;
        assert!((share_b - 0.75).abs() < 0.03, "{share_b}");

        let staged = TaskSchedule::stages(vec![
            (TaskSchedule::single("a"), Some(2)),
            (TaskSchedule::single("b"), None),
        ])
        .unwrap();
        let mut sampler = TaskSampler::new(staged, &[&a, &b], 5).unwrap();
        assert!(sampler.next_batch(1, 8).iter().all(|d| d.env == 0));
        assert!(sampler.next_batch(2, 8).iter().all(|d| d.env == 1));
    }

    #[test]
    fn state_restores_the_same_draws() {
        let a = Dummy::new("a", 7);
        let mut sampler = TaskSampler::new(TaskSchedule::single("a"), &[&a], 3).unwrap();
        sampler.next_batch(0, 4);
        let state = sampler.state();
        let expected = sampler.next_batch(1, 9);
        let mut fresh = TaskSampler::new(TaskSchedule::single("a"), &[&a], 99).unwrap();
        fresh.restore(&state).unwrap();
        assert_eq!(fresh.next_batch(1, 9), expected);
    }

    #[test]
    fn bad_schedules_are_rejected() {
        let a = Dummy::new("a", 4);
        let err = TaskSampler::new(TaskSchedule::single("zzz"), &[&a], 0).unwrap_err();
        assert!(err.to_string().contains("zzz"), "{err}");
        let err = TaskSchedule::stages(vec![
            (TaskSchedule::single("a"), None),
            (TaskSchedule::single("a"), Some(3)),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("stages[0]"), "{err}");
        assert!(TaskSchedule::mixture(&[("a", 0.0)]).validate().is_err());
    }
}
