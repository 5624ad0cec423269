//! [`PoolEnv`]: an env whose training tasks are restricted to a pool (U_easy, U_hard), under its
//! own name, so a GRPO task sampler draws only from that pool.
//!
//! The trainer's sampler keys envs by [`EnvInfo::name`] and draws from their train split; a
//! curriculum (easy→hard) trains the same env on two pools in two stages. Wrapping the env
//! once per pool, named `env@pool` (e.g. `babyai@easy`), gives each stage its own sampler entry
//! while every reset, step, text and reward stays the wrapped env's.

use crossgym_env_core::{Env, EnvInfo, Result, Step, TaskId, TaskSplit};

use crate::plan::TaskPool;

/// The name of `env` restricted to `pool` (`babyai@easy`; `babyai` for [`TaskPool::All`]).
pub fn pool_env_name(env: &str, pool: TaskPool) -> String {
    match pool {
        TaskPool::All => env.to_owned(),
        TaskPool::Easy => format!("{env}@easy"),
        TaskPool::Hard => format!("{env}@hard"),
    }
}

/// An env that trains on a pool of its train tasks; see the module docs.
pub struct PoolEnv {
    inner: Box<dyn Env>,
    info: EnvInfo,
    split: TaskSplit,
}

impl std::fmt::Debug for PoolEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolEnv")
            .field("name", &self.info.name)
            .field("train", &self.split.train().len())
            .finish_non_exhaustive()
    }
}

impl PoolEnv {
    /// Wraps `inner` as `name` with `train` as its train tasks (they must be train tasks of
    /// `inner`); the test tasks stay `inner`'s.
    pub fn new(inner: Box<dyn Env>, name: &str, train: Vec<TaskId>) -> Result<Self> {
        let inner_train = inner.tasks(crossgym_env_core::Split::Train);
        if let Some(bad) = train.iter().find(|t| !inner_train.contains(t)) {
            return Err(crossgym_env_core::EnvError::Config {
                env: name.to_owned(),
                message: format!(
                    "pool task {bad} is not a train task of {}",
                    inner.info().name
                ),
            });
        }
        let split = TaskSplit::new(
            name,
            inner.num_tasks(),
            train,
            inner.tasks(crossgym_env_core::Split::Test).to_vec(),
        )?;
        let mut info = inner.info().clone();
        info.name = name.to_owned();
        Ok(Self { inner, info, split })
    }
}

impl Env for PoolEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        self.inner.num_tasks()
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        self.inner.reset(task)
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        self.inner.step(reply)
    }
}
