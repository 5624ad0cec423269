//! Oracles: experts that show how an env's tasks are solved, as replies an agent could write.
//!
//! Every env crate implements [`Oracle`] for its env with its own expert (a planner, a search
//! strategy, a closed-loop controller), so a caller that wants demonstrations — a supervised warm
//! start, a solvability check — needs one loop over envs, not one per env.

use crate::{Env, Episode, Result, TaskId, run_episode_capped};

/// An env whose tasks an expert can solve.
///
/// # Example
///
/// ```
/// use crossgym_env_core::{
///     ActionList, Characteristics, Env, EnvError, EnvInfo, Oracle, ParserFamily, Result, Step,
///     TaskId, TaskSplit, parse,
/// };
///
/// /// Say the task number, then `done`.
/// struct Echo { info: EnvInfo, split: TaskSplit, task: Option<TaskId>, said: bool }
///
/// impl Env for Echo {
///     fn info(&self) -> &EnvInfo { &self.info }
///     fn num_tasks(&self) -> usize { 10 }
///     fn split(&self) -> &TaskSplit { &self.split }
///     fn reset(&mut self, task: TaskId) -> Result<String> {
///         self.check_task(task)?;
///         (self.task, self.said) = (Some(task), false);
///         Ok(format!("Say {task}, then done."))
///     }
///     fn step(&mut self, reply: &str) -> Result<Step> {
///         let task = self.task.ok_or(EnvError::NotReset { env: "echo".into() })?;
///         let action = parse::react_single_line(reply).unwrap_or_default();
///         if !self.said && action == task.0.to_string() {
///             self.said = true;
///             Ok(Step::new("Now say done.", 0.5, false).with_action(action))
///         } else if self.said && action == "done" {
///             self.task = None;
///             Ok(Step::new("Well done.", 1.0, true).with_action(action).with_success(true))
///         } else {
///             Ok(Step::new("No.", 0.0, false).with_action(action).invalid())
///         }
///     }
/// }
///
/// impl Oracle for Echo {
///     fn demonstrate(&mut self, task: TaskId, _max_turns: usize) -> Result<Option<Vec<String>>> {
///         self.check_task(task)?;
///         Ok(Some(vec![
///             parse::react_reply("The task asks for its number.", &task.0.to_string()),
///             parse::react_reply("Now I finish.", "done"),
///         ]))
///     }
/// }
///
/// let mut env = Echo {
///     info: EnvInfo {
///         name: "echo".into(),
///         version: 0,
///         instruction: "Say the number, then done.".into(),
///         acknowledgement: String::new(),
///         parser: ParserFamily::ReactSingleLine,
///         max_turns_train: 5,
///         max_turns_eval: 5,
///         characteristics: Characteristics {
///             dense_reward: true,
///             strict_validation: true,
///             action_list: ActionList::None,
///             world_knowledge: false,
///             structured_observation: false,
///         },
///     },
///     split: TaskSplit::seeded("echo", 10, 8, 2, 0)?,
///     task: None,
///     said: false,
/// };
/// let episode = env.demonstration(TaskId(7), 5)?.expect("the oracle solves every task");
/// assert_eq!(episode.turns[0].reply, "Thought:\nThe task asks for its number.\n\nAction:\n7");
/// assert!(episode.success());
/// // Too tight a turn cap: no demonstration rather than a failed one.
/// assert!(env.demonstration(TaskId(7), 1)?.is_none());
/// # Ok::<(), EnvError>(())
/// ```
pub trait Oracle: Env {
    /// The replies an expert writes to solve `task`, in the env's reply format (a short thought
    /// that says what it does and why, then the action), to be played in order from
    /// `reset(task)`; `None` when the expert cannot solve the task in at most `max_turns`
    /// replies.
    ///
    /// The oracle may play the task to find its replies (a closed-loop expert does), so the
    /// env's running episode is unspecified afterwards. Fails on an unknown task or an env error.
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>>;

    /// Plays [`Oracle::demonstrate`]'s replies from `reset(task)` and returns the episode, or
    /// `None` when there are no replies, more than `max_turns`, or they do not end the episode
    /// with a success ([`Episode::success`] and [`Episode::done`]): never a failed
    /// demonstration.
    fn demonstration(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Episode>> {
        let Some(replies) = self.demonstrate(task, max_turns)? else {
            return Ok(None);
        };
        let turns = replies.len();
        if turns > max_turns {
            return Ok(None);
        }
        let mut replies = replies.into_iter();
        let episode =
            run_episode_capped(self, task, turns, |_| replies.next().unwrap_or_default())?;
        Ok(Some(episode).filter(|e| e.success() && e.done()))
    }
}

impl<E: Oracle + ?Sized> Oracle for Box<E> {
    fn demonstrate(&mut self, task: TaskId, max_turns: usize) -> Result<Option<Vec<String>>> {
        (**self).demonstrate(task, max_turns)
    }
}
