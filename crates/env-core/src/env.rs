//! The environment contract: [`Env`], what an env says about itself ([`EnvInfo`]), and what one
//! step returns ([`Step`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ParserFamily, Result, TaskId, TaskSplit};

/// A text environment an LLM agent acts in, in the AgentGym style.
///
/// The agent receives [`EnvInfo::instruction`] as its first user turn, then the observation from
/// [`Env::reset`], and answers every observation with a whole reply (thoughts included). Parsing
/// the reply into an action is the env's job, because the reference parses differently per env
/// ([`ParserFamily`]). [`Env::step`] never fails on reply text: unparsable or invalid replies get
/// the reference's error observation. It fails only on misuse (step before reset, after done).
///
/// The trait is object-safe and `Send`, so a study can hold `Box<dyn Env>` of any env and move it
/// to a worker thread.
///
/// # Example
///
/// A tiny env where the agent must say `Action: yes`:
///
/// ```
/// use crossgym_env_core::{
///     run_episode, ActionList, Characteristics, Env, EnvError, EnvInfo, ParserFamily, Result,
///     Step, TaskId, TaskSplit, parse,
/// };
///
/// struct SayYes { info: EnvInfo, split: TaskSplit, active: bool }
///
/// impl SayYes {
///     fn new() -> Result<Self> {
///         let info = EnvInfo {
///             name: "say-yes".into(),
///             version: 0,
///             instruction: "Reply with `Action: yes`.".into(),
///             acknowledgement: "Ok.".into(),
///             parser: ParserFamily::ReactSingleLine,
///             max_turns_train: 3,
///             max_turns_eval: 3,
///             characteristics: Characteristics {
///                 dense_reward: false,
///                 strict_validation: true,
///                 action_list: ActionList::None,
///                 world_knowledge: false,
///                 structured_observation: false,
///             },
///         };
///         let split = TaskSplit::seeded("say-yes", 10, 8, 2, 0)?;
///         Ok(Self { info, split, active: false })
///     }
/// }
///
/// impl Env for SayYes {
///     fn info(&self) -> &EnvInfo { &self.info }
///     fn num_tasks(&self) -> usize { 10 }
///     fn split(&self) -> &TaskSplit { &self.split }
///     fn reset(&mut self, task: TaskId) -> Result<String> {
///         self.check_task(task)?;
///         self.active = true;
///         Ok(format!("Task {task}: say yes."))
///     }
///     fn step(&mut self, reply: &str) -> Result<Step> {
///         if !self.active {
///             return Err(EnvError::NotReset { env: self.info.name.clone() });
///         }
///         let action = match parse::react_single_line(reply) {
///             Ok(action) => action,
///             Err(error) => return Ok(Step::new(error.to_string(), 0.0, false).invalid()),
///         };
///         if action == "yes" {
///             self.active = false;
///             Ok(Step::new("Well done.", 1.0, true).with_action(action).with_success(true))
///         } else {
///             Ok(Step::new("Try again.", 0.0, false).with_action(action).invalid())
///         }
///     }
/// }
///
/// let mut env = SayYes::new()?;
/// let episode = run_episode(&mut env, TaskId(3), |_observation| "Thought: easy.\nAction: yes".to_owned())?;
/// assert_eq!(episode.score(), 1.0);
/// assert!(episode.success());
/// # Ok::<(), EnvError>(())
/// ```
pub trait Env: Send {
    /// What the env is: name, instruction, parser, turn limits, characteristics.
    fn info(&self) -> &EnvInfo;

    /// How many tasks the env has; valid ids are `0..num_tasks()`.
    fn num_tasks(&self) -> usize;

    /// The env's deterministic train/test split (sizes of the paper's Table 5 by default).
    fn split(&self) -> &TaskSplit;

    /// Starts an episode of `task` and returns the first observation.
    ///
    /// Fails with [`crate::EnvError::UnknownTask`] for an id outside `0..num_tasks()`.
    fn reset(&mut self, task: TaskId) -> Result<String>;

    /// Applies the agent's whole reply and returns the observation, reward and done flag.
    ///
    /// Never fails because of the reply's content. Fails with [`crate::EnvError::NotReset`] before
    /// the first `reset` and [`crate::EnvError::EpisodeFinished`] after `done`.
    fn step(&mut self, reply: &str) -> Result<Step>;

    /// The ids of one half of the split.
    fn tasks(&self, split: crate::Split) -> &[TaskId] {
        self.split().tasks(split)
    }

    /// `Ok` when `task` is a valid id, else [`crate::EnvError::UnknownTask`] naming this env.
    fn check_task(&self, task: TaskId) -> Result<()> {
        if task.0 < self.num_tasks() {
            Ok(())
        } else {
            Err(crate::EnvError::UnknownTask {
                env: self.info().name.clone(),
                task,
                num_tasks: self.num_tasks(),
            })
        }
    }
}

/// The guard every [`Env::step`] starts with: the running episode's `state`, or the misuse error
/// the contract names: [`crate::EnvError::NotReset`] when there is none, and
/// [`crate::EnvError::EpisodeFinished`] when `ended` gives the task whose episode is over.
///
/// ```
/// use crossgym_env_core::{EnvError, TaskId, running_episode};
///
/// let mut episode: Option<(TaskId, bool)> = None;
/// let ended = |e: &&mut (TaskId, bool)| e.1.then_some(e.0);
/// assert!(matches!(running_episode("demo", episode.as_mut(), ended), Err(EnvError::NotReset { .. })));
/// episode = Some((TaskId(4), false));
/// assert!(running_episode("demo", episode.as_mut(), ended).is_ok());
/// episode = Some((TaskId(4), true));
/// assert!(matches!(
///     running_episode("demo", episode.as_mut(), ended),
///     Err(EnvError::EpisodeFinished { task: TaskId(4), .. })
/// ));
/// ```
pub fn running_episode<S>(
    env: &str,
    state: Option<S>,
    ended: impl FnOnce(&S) -> Option<TaskId>,
) -> Result<S> {
    let state = state.ok_or_else(|| crate::EnvError::NotReset {
        env: env.to_owned(),
    })?;
    match ended(&state) {
        Some(task) => Err(crate::EnvError::EpisodeFinished {
            env: env.to_owned(),
            task,
        }),
        None => Ok(state),
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn info(&self) -> &EnvInfo {
        (**self).info()
    }
    fn num_tasks(&self) -> usize {
        (**self).num_tasks()
    }
    fn split(&self) -> &TaskSplit {
        (**self).split()
    }
    fn reset(&mut self, task: TaskId) -> Result<String> {
        (**self).reset(task)
    }
    fn step(&mut self, reply: &str) -> Result<Step> {
        (**self).step(reply)
    }
}

/// What an env says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvInfo {
    /// Short lower-case name used in registries, plans and reports (`"babyai"`, `"webshop"`, …).
    pub name: String,
    /// Behaviour version, Gymnasium style: bumped whenever observations, rewards or task lists
    /// change, so results from different versions are never silently compared.
    pub version: u32,
    /// The instruction text the agent receives as its first user turn (AgentGym's
    /// `conversation_start` human message).
    pub instruction: String,
    /// The assistant's acknowledgement that follows the instruction in the reference's
    /// conversation start (e.g. `"Ok."`); empty if the reference has none.
    pub acknowledgement: String,
    /// How replies are parsed into actions.
    pub parser: ParserFamily,
    /// Turn limit used for training rollouts (the paper's Table 1 column).
    pub max_turns_train: usize,
    /// Turn limit used at test time (the paper's K = 20 by default).
    pub max_turns_eval: usize,
    /// The five characteristics of the paper's Table 1.
    pub characteristics: Characteristics,
}

impl EnvInfo {
    /// The versioned id, e.g. `babyai-v0`.
    pub fn id(&self) -> String {
        format!("{}-v{}", self.name, self.version)
    }
}

/// Whether and when the env lists valid actions in its observations (Table 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionList {
    /// Never.
    None,
    /// Only in the first observation (ALFWorld as served by AgentGym).
    FirstTurnOnly,
    /// After every step.
    EveryTurn,
}

/// The five environment characteristics of the paper's Table 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Characteristics {
    /// Rewards carry graded credit (not only 0/1 at the end).
    pub dense_reward: bool,
    /// Actions outside the grammar are rejected with an error observation.
    pub strict_validation: bool,
    /// Whether the env lists valid actions.
    pub action_list: ActionList,
    /// Solving needs world knowledge the observation does not give.
    pub world_knowledge: bool,
    /// Observations have a fixed machine-like structure (pages, documents).
    pub structured_observation: bool,
}

impl Characteristics {
    /// None of the traits: sparse reward, lenient validation, no action list, no world
    /// knowledge, free-form observations (toy envs in tests).
    pub const NONE: Characteristics = Characteristics {
        dense_reward: false,
        strict_validation: false,
        action_list: ActionList::None,
        world_knowledge: false,
        structured_observation: false,
    };
}

/// What one [`Env::step`] returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The text the agent sees next.
    pub observation: String,
    /// The env's reward after this step. The trajectory's score is the reward of its last step.
    pub reward: f64,
    /// Whether the episode is over (AgentGym's `done`: task ended or step limit reached).
    pub done: bool,
    /// Diagnostics for analysis (failure modes, logs); never shown to the agent.
    pub info: StepInfo,
}

impl Step {
    /// A step with empty [`StepInfo`].
    pub fn new(observation: impl Into<String>, reward: f64, done: bool) -> Self {
        Self {
            observation: observation.into(),
            reward,
            done,
            info: StepInfo::default(),
        }
    }

    /// Records the action string the env parsed from the reply.
    #[must_use]
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.info.action = Some(action.into());
        self
    }

    /// Marks the action as rejected by the env.
    #[must_use]
    pub fn invalid(mut self) -> Self {
        self.info.invalid = true;
        self
    }

    /// Marks `done` as coming from a step limit rather than the task ending.
    #[must_use]
    pub fn truncated(mut self) -> Self {
        self.info.truncated = true;
        self
    }

    /// Sets whether this step completed the task ([`StepInfo::success`]).
    #[must_use]
    pub fn with_success(mut self, success: bool) -> Self {
        self.info.success = success;
        self
    }

    /// Adds one env-specific diagnostic.
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.info.details.insert(key.into(), value.into());
        self
    }
}

/// Diagnostics of one step, for analysis only (the agent never sees them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// The action the env parsed from the reply, or `None` when the reply could not be parsed
    /// into one (e.g. two `Action:` lines).
    pub action: Option<String>,
    /// Whether the env rejected the reply or its action (unparsable, unknown, or a failed
    /// precondition), whether or not the reference shows an error text for it.
    pub invalid: bool,
    /// Whether `done` came from the env's own step limit (Gymnasium's `truncated`).
    pub truncated: bool,
    /// Whether this step completed the task: the one definition of success every consumer
    /// (episodes, trajectories, study records, training metrics) reads, so none of them has to
    /// guess it from the reward. An episode succeeded when one of its steps did
    /// ([`crate::Episode::success`]).
    ///
    /// Each env sets it as its reference counts success: TextCraft when the goal is crafted
    /// (reward 1), ALFWorld when the game is won (reward 1), SearchQA on an exact-match answer
    /// (reward 1), WebShop on a purchase worth reward 1.0, and BabyAI when the mission is
    /// achieved, whatever the step-discounted reward (`1 − 0.9·steps/max_steps`, always below 1).
    /// Records written before the field existed read as `false`.
    #[serde(default)]
    pub success: bool,
    /// Env-specific diagnostics, e.g. WebShop's reward components or SearchQA's query.
    pub details: BTreeMap<String, String>,
}
