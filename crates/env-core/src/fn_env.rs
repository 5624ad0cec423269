//! [`FnEnv`]: an env made of two functions, for tests, examples and quick experiments.

use std::sync::Arc;

use crate::{Env, EnvInfo, Result, Step, TaskId, TaskSplit, running_episode};

/// How an [`FnEnv`] starts an episode of a task: its state and first observation.
pub type StartFn<S> = Arc<dyn Fn(TaskId) -> (S, String) + Send + Sync>;

/// How an [`FnEnv`] answers one whole reply, updating the episode's state.
pub type PlayFn<S> = Arc<dyn Fn(&mut S, &str) -> Step + Send + Sync>;

/// An env made of a start function and a play function over an episode state `S`. The
/// contract's bookkeeping is done once here: the info and split, unknown task ids, and refusing
/// a step before the first reset or after `done`.
///
/// ```
/// use crossgym_env_core::{Characteristics, Env, EnvInfo, FnEnv, ParserFamily, Step, TaskSplit};
/// use crossgym_env_core::{TaskId, run_episode};
///
/// let info = EnvInfo {
///     name: "echo".into(),
///     version: 0,
///     instruction: "Say the task's number.".into(),
///     acknowledgement: "Ok.".into(),
///     parser: ParserFamily::ReactSingleLine,
///     max_turns_train: 3,
///     max_turns_eval: 3,
///     characteristics: Characteristics::NONE,
/// };
/// let split = TaskSplit::seeded("echo", 10, 6, 4, 0)?;
/// let mut env = FnEnv::new(
///     info,
///     10,
///     split,
///     |task| (task.0, format!("Say {}.", task.0)),
///     |number, reply| {
///         let right = reply.trim().ends_with(&number.to_string());
///         Step::new("Heard.", f64::from(u8::from(right)), true).with_success(right)
///     },
/// );
/// let episode = run_episode(&mut env, TaskId(7), |_| "Action: 7".to_owned())?;
/// assert!(episode.success());
/// # Ok::<(), crossgym_env_core::EnvError>(())
/// ```
#[derive(Clone)]
pub struct FnEnv<S> {
    info: EnvInfo,
    num_tasks: usize,
    split: TaskSplit,
    start: StartFn<S>,
    play: PlayFn<S>,
    /// The running episode: its task, state, and whether it is done.
    episode: Option<(TaskId, S, bool)>,
}

impl<S> FnEnv<S> {
    /// An env of `num_tasks` tasks split as `split`, whose episodes `start` begins and `play`
    /// carries on.
    pub fn new(
        info: EnvInfo,
        num_tasks: usize,
        split: TaskSplit,
        start: impl Fn(TaskId) -> (S, String) + Send + Sync + 'static,
        play: impl Fn(&mut S, &str) -> Step + Send + Sync + 'static,
    ) -> Self {
        Self {
            info,
            num_tasks,
            split,
            start: Arc::new(start),
            play: Arc::new(play),
            episode: None,
        }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for FnEnv<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnEnv")
            .field("name", &self.info.name)
            .field("num_tasks", &self.num_tasks)
            .field("episode", &self.episode)
            .finish_non_exhaustive()
    }
}

impl<S: Send> Env for FnEnv<S> {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        self.num_tasks
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        self.check_task(task)?;
        let (state, observation) = (self.start)(task);
        self.episode = Some((task, state, false));
        Ok(observation)
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let ended = |episode: &&mut (TaskId, S, bool)| episode.2.then_some(episode.0);
        let (_, state, done) = running_episode(&self.info.name, self.episode.as_mut(), ended)?;
        let step = (self.play)(state, reply);
        *done = step.done;
        Ok(step)
    }
}
