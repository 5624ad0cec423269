//! Task ids and deterministic train/test splits.

use std::fmt;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{EnvError, Result};

/// An index into an environment's task list (AgentGym's `data_idx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub usize);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<usize> for TaskId {
    fn from(value: usize) -> Self {
        Self(value)
    }
}

/// Which half of a task list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Tasks the agent may train on.
    Train,
    /// Held-out tasks for evaluation.
    Test,
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
        })
    }
}

impl std::str::FromStr for Split {
    type Err = String;

    /// `train` or `test`.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.trim() {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            other => Err(format!("{other:?} is not a split (train, test)")),
        }
    }
}

/// A train/test partition of an env's task ids: disjoint, sorted, every id in range.
///
/// The paper's sizes (Table 5) are in [`crate::paper`]. Build one with
/// [`TaskSplit::seeded`] (a uniform seeded draw) or [`TaskSplit::new`] when the env must choose
/// (e.g. keep answers or products disjoint between the halves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSplit {
    train: Vec<TaskId>,
    test: Vec<TaskId>,
}

impl TaskSplit {
    /// Checks and stores an env-chosen split: ids in `0..num_tasks`, no duplicates, halves disjoint.
    pub fn new(
        env: &str,
        num_tasks: usize,
        mut train: Vec<TaskId>,
        mut test: Vec<TaskId>,
    ) -> Result<Self> {
        let split_error = |message: String| EnvError::Split {
            env: env.to_owned(),
            message,
        };
        train.sort_unstable();
        test.sort_unstable();
        for (name, ids) in [("train", &train), ("test", &test)] {
            if let Some(bad) = ids.iter().find(|id| id.0 >= num_tasks) {
                return Err(split_error(format!(
                    "{name} id {bad} is outside 0..{num_tasks}"
                )));
            }
            if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(split_error(format!("{name} lists id {} twice", pair[0])));
            }
        }
        if let Some(shared) = train.iter().find(|id| test.binary_search(id).is_ok()) {
            return Err(split_error(format!(
                "id {shared} is in both train and test"
            )));
        }
        Ok(Self { train, test })
    }

    /// Draws `n_test` test ids and then `n_train` train ids uniformly from `0..num_tasks` with a
    /// seeded ChaCha8 shuffle (portable: the same seed gives the same split on every machine).
    pub fn seeded(
        env: &str,
        num_tasks: usize,
        n_train: usize,
        n_test: usize,
        seed: u64,
    ) -> Result<Self> {
        if n_train + n_test > num_tasks {
            return Err(EnvError::Split {
                env: env.to_owned(),
                message: format!(
                    "{n_train} train + {n_test} test tasks asked for, but the env has only {num_tasks}"
                ),
            });
        }
        let mut ids: Vec<TaskId> = (0..num_tasks).map(TaskId).collect();
        ids.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let test = ids[..n_test].to_vec();
        let train = ids[n_test..n_test + n_train].to_vec();
        Self::new(env, num_tasks, train, test)
    }

    /// The ids of one half, ascending.
    pub fn tasks(&self, split: Split) -> &[TaskId] {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }

    /// The train ids, ascending.
    pub fn train(&self) -> &[TaskId] {
        &self.train
    }

    /// The test ids, ascending.
    pub fn test(&self) -> &[TaskId] {
        &self.test
    }

    /// Which half holds `task`, if any.
    pub fn split_of(&self, task: TaskId) -> Option<Split> {
        if self.train.binary_search(&task).is_ok() {
            Some(Split::Train)
        } else if self.test.binary_search(&task).is_ok() {
            Some(Split::Test)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_split_is_deterministic_disjoint_and_sized() {
        let a = TaskSplit::seeded("t", 1000, 810, 90, 7).unwrap();
        let b = TaskSplit::seeded("t", 1000, 810, 90, 7).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.train().len(), 810);
        assert_eq!(a.test().len(), 90);
        assert!(
            a.train()
                .iter()
                .all(|t| a.split_of(*t) == Some(Split::Train))
        );
        assert!(a.test().iter().all(|t| a.split_of(*t) == Some(Split::Test)));
        let c = TaskSplit::seeded("t", 1000, 810, 90, 8).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn seeded_split_rejects_oversized_request() {
        let err = TaskSplit::seeded("babyai", 10, 8, 3, 0).unwrap_err();
        assert!(err.to_string().contains("babyai"), "{err}");
    }

    #[test]
    fn new_rejects_overlap_duplicates_and_out_of_range() {
        let ids = |v: &[usize]| v.iter().copied().map(TaskId).collect::<Vec<_>>();
        assert!(TaskSplit::new("e", 5, ids(&[0, 1]), ids(&[1])).is_err());
        assert!(TaskSplit::new("e", 5, ids(&[0, 0]), ids(&[1])).is_err());
        assert!(TaskSplit::new("e", 5, ids(&[0, 5]), ids(&[1])).is_err());
        let ok = TaskSplit::new("e", 5, ids(&[3, 0]), ids(&[4])).unwrap();
        assert_eq!(ok.train(), &ids(&[0, 3])[..]);
        assert_eq!(ok.split_of(TaskId(2)), None);
    }
}
