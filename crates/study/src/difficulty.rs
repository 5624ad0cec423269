//! Axis 1's difficulty split: each env's train and test tasks, labelled easy or hard by the base
//! model's per-task avg@k, in balanced halves, saved to a JSON file that later runs reuse.
//!
//! Tasks are ranked by the base model's per-task mean reward, highest first; ties (frequent: many
//! tasks score 0 or 1) are broken by a seeded shuffle, so the halves are exactly balanced and
//! reproducible. The easy half is the first `n / 2` (rounded down); an odd task goes to hard.
//!
//! Note: the paper's Table 2 "all" cells imply that its halves were *not* balanced (e.g. about
//! 120 of 400 SearchQA test tasks are easy; see [`crate::audit`]). We follow the study spec
//! (balanced halves) and report the paper's implied shares in the audit.

use std::collections::BTreeMap;
use std::path::Path;

use crossgym_env_core::{Split, TaskId};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::io::{read_json, write_json_atomic};
use crate::plan::{Difficulty, TaskPool};
use crate::records::EpisodeRecord;
use crate::{Result, StudyError};

/// Reward sum and sample count per task.
type TaskSums = BTreeMap<TaskId, (f64, usize)>;

/// The easy and hard halves of one task list (each ascending).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halves {
    /// The easy half.
    pub easy: Vec<TaskId>,
    /// The hard half.
    pub hard: Vec<TaskId>,
}

/// Splits tasks into balanced halves by score (higher = easier), ties broken with `seed`.
pub fn balanced_halves(scores: &[(TaskId, f64)], seed: u64) -> Halves {
    let mut ranked: Vec<(TaskId, f64)> = scores.to_vec();
    ranked.sort_by_key(|(task, _)| *task);
    ranked.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    // Stable: equal scores keep the seeded order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let cut = ranked.len() / 2;
    let mut easy: Vec<TaskId> = ranked[..cut].iter().map(|(t, _)| *t).collect();
    let mut hard: Vec<TaskId> = ranked[cut..].iter().map(|(t, _)| *t).collect();
    easy.sort_unstable();
    hard.sort_unstable();
    Halves { easy, hard }
}

/// One env's split: halves of its train and test tasks and the base scores they came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvDifficulty {
    /// Halves of the training tasks.
    pub train: Halves,
    /// Halves of the test tasks.
    pub test: Halves,
    /// Per-task base avg@k (fraction) for every task scored.
    pub scores: BTreeMap<TaskId, f64>,
}

/// The difficulty file of a study: every env's split and how it was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifficultyFile {
    /// The base model whose avg@k ranked the tasks.
    pub base_model: String,
    /// Samples per task behind each score.
    pub k: usize,
    /// Seed of the tie-breaking.
    pub seed: u64,
    /// Splits by env name.
    pub envs: BTreeMap<String, EnvDifficulty>,
}

impl DifficultyFile {
    /// Builds the split from base-model records (of train and test tasks, any envs).
    pub fn from_records(
        base_model: &str,
        k: usize,
        seed: u64,
        records: &[EpisodeRecord],
    ) -> Result<Self> {
        if records.is_empty() {
            return Err(StudyError::invalid(
                "difficulty split",
                "no base-model records",
            ));
        }
        // (env, is test) -> task -> (sum, count)
        let mut sums: BTreeMap<(&str, bool), TaskSums> = BTreeMap::new();
        for record in records {
            let entry = sums
                .entry((record.env.as_str(), record.split == Split::Test))
                .or_default()
                .entry(record.task)
                .or_insert((0.0, 0));
            entry.0 += record.reward;
            entry.1 += 1;
        }
        let mut envs: BTreeMap<String, EnvDifficulty> = BTreeMap::new();
        for ((env, is_test), tasks) in sums {
            let scores: Vec<(TaskId, f64)> = tasks
                .into_iter()
                .map(|(task, (sum, count))| (task, sum / count as f64))
                .collect();
            let halves = balanced_halves(&scores, seed);
            let entry = envs.entry(env.to_owned()).or_default();
            entry.scores.extend(scores);
            if is_test {
                entry.test = halves;
            } else {
                entry.train = halves;
            }
        }
        Ok(Self {
            base_model: base_model.to_owned(),
            k,
            seed,
            envs,
        })
    }

    /// The difficulty of `task` of `env`, if the file labels it.
    pub fn difficulty(&self, env: &str, task: TaskId) -> Option<Difficulty> {
        let split = self.envs.get(env)?;
        [&split.train, &split.test].into_iter().find_map(|halves| {
            if halves.easy.binary_search(&task).is_ok() {
                Some(Difficulty::Easy)
            } else if halves.hard.binary_search(&task).is_ok() {
                Some(Difficulty::Hard)
            } else {
                None
            }
        })
    }

    /// Labels every record whose task the file knows.
    pub fn label(&self, records: &mut [EpisodeRecord]) {
        for record in records {
            record.difficulty = self.difficulty(&record.env, record.task);
        }
    }

    /// The tasks of `env`'s `split` in `pool`; fails if the file has no split for the env.
    pub fn pool(&self, env: &str, split: Split, pool: TaskPool) -> Result<Vec<TaskId>> {
        let entry = self.envs.get(env).ok_or_else(|| {
            StudyError::invalid(
                "difficulty split",
                format!(
                    "no split for env {env:?} (known: {})",
                    self.envs.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let halves = match split {
            Split::Train => &entry.train,
            Split::Test => &entry.test,
        };
        Ok(match pool {
            TaskPool::Easy => halves.easy.clone(),
            TaskPool::Hard => halves.hard.clone(),
            TaskPool::All => {
                let mut all: Vec<TaskId> =
                    halves.easy.iter().chain(&halves.hard).copied().collect();
                all.sort_unstable();
                all
            }
        })
    }

    /// Reads a difficulty file.
    pub fn load(path: &Path) -> Result<Self> {
        read_json(path)
    }

    /// Writes the file (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json_atomic(path, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_are_balanced_ranked_and_seeded() {
        let scores: Vec<(TaskId, f64)> = (0..11)
            .map(|i| (TaskId(i), if i < 3 { 1.0 } else { 0.0 }))
            .collect();
        let a = balanced_halves(&scores, 1);
        assert_eq!((a.easy.len(), a.hard.len()), (5, 6));
        // The three solved tasks are always easy; two of the ties join them.
        for t in 0..3 {
            assert!(a.easy.contains(&TaskId(t)));
        }
        assert_eq!(a, balanced_halves(&scores, 1));
        let differs = (2..20).any(|seed| balanced_halves(&scores, seed) != a);
        assert!(differs, "the seed must break ties");
    }

    #[test]
    fn file_from_records_labels_pools_and_round_trips() {
        let mut records = Vec::new();
        for task in 0..6 {
            for (split, offset) in [(Split::Train, 0), (Split::Test, 100)] {
                let reward = if task % 2 == 0 { 1.0 } else { 0.0 };
                let task = TaskId(task + offset);
                let record = EpisodeRecord::scored("base", "textcraft", task, split, 0, reward);
                records.push(EpisodeRecord {
                    turns: 1,
                    generated_tokens: 1,
                    ..record
                });
            }
        }
        let file = DifficultyFile::from_records("base", 1, 0, &records).unwrap();
        let easy = file
            .pool("textcraft", Split::Train, TaskPool::Easy)
            .unwrap();
        assert_eq!(easy, vec![TaskId(0), TaskId(2), TaskId(4)]);
        assert_eq!(
            file.pool("textcraft", Split::Test, TaskPool::All)
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            file.difficulty("textcraft", TaskId(101)),
            Some(Difficulty::Hard)
        );
        assert!(
            file.pool("webshop", Split::Test, TaskPool::All)
                .unwrap_err()
                .to_string()
                .contains("webshop")
        );
        file.label(&mut records);
        assert_eq!(records[1].difficulty, Some(Difficulty::Easy));
        let path =
            std::env::temp_dir().join(format!("crossgym-difficulty-{}.json", std::process::id()));
        file.save(&path).unwrap();
        assert_eq!(DifficultyFile::load(&path).unwrap(), file);
        std::fs::remove_file(&path).ok();
    }
}
