//! [`BabyAiEnv`]: the crossgym [`Env`] over the 40 levels and AgentGym's text interface.

use crossgym_env_core::{
    Env, EnvError, EnvInfo, ParserFamily, Result, Step, TaskId, TaskSplit, paper, parse,
    running_episode,
};

use crate::levels::LEVELS;
use crate::session::TextSession;
use crate::world::World;

/// The env's registry name.
pub const NAME: &str = paper::BABYAI.name;

/// The behaviour version of [`BabyAiEnv`] (see [`EnvInfo::version`]).
pub const VERSION: u32 = 0;

/// How many tasks the env has: the paper's 810 train + 90 test.
pub const NUM_TASKS: usize = 900;

/// The seed of the train/test split.
pub const SPLIT_SEED: u64 = 0x00BA_B1A1;

/// AgentGym's `conversation_start` human message for BabyAI.
pub const INSTRUCTION: &str = "You are an exploration master that wants to finish every goal you are given. Every round I will give you an observation, and you have to respond an action and your thought based on the observation to finish the given task. You are placed in a room and you need to accomplish the given goal with actions.\n\nYou can use the following actions: \n\n- turn right \n\n- turn left \n\n- move forward \n\n- go to <obj> <id> \n\n- pick up <obj> <id> \n\n- go through <door> <id>: <door> must be an open door. \n\n- toggle and go through <door> <id>: <door> can be a closed door or a locked door. If you want to open a locked door, you need to carry a key that is of the same color as the locked door. \n\n- toggle: there is a closed or locked door right in front of you and you can toggle it.\nYour response should use the following format:\nThought:\n<Your Thought>\n\nAction:\n<Your Action>";

/// AgentGym's assistant acknowledgement that follows [`INSTRUCTION`].
pub const ACKNOWLEDGEMENT: &str =
    "OK. I'll follow your instructions and try my best to solve the task.";

/// The level and seed of a task: level `N % 40`, seed `N / 40`.
pub fn task_level_seed(task: TaskId) -> (usize, u64) {
    (task.0 % LEVELS.len(), (task.0 / LEVELS.len()) as u64)
}

/// Generates the reset world of a task.
pub fn task_world(task: TaskId) -> Result<World> {
    let (level, seed) = task_level_seed(task);
    LEVELS[level]
        .generate(seed)
        .map_err(|reject| EnvError::task(NAME, task, reject.0))
}

/// BabyAI's [`EnvInfo`]: AgentGym's instruction and acknowledgement, the ReAct-single-line
/// parser, the paper's turn limits and Table-1 characteristics.
pub fn info() -> EnvInfo {
    paper::BABYAI.info(
        VERSION,
        INSTRUCTION,
        ACKNOWLEDGEMENT,
        ParserFamily::ReactSingleLine,
    )
}

/// BabyAI as served by AgentGym: a MiniGrid world described in text, high-level actions.
///
/// Cheap to clone (levels are generated at `reset`); a clone carries the running episode.
#[derive(Clone, Debug)]
pub struct BabyAiEnv {
    info: EnvInfo,
    split: TaskSplit,
    session: Option<TextSession>,
    task: TaskId,
    finished: bool,
}

impl BabyAiEnv {
    /// The env with its 900 tasks and seeded 810/90 split.
    pub fn new() -> Result<BabyAiEnv> {
        let row = paper::BABYAI;
        let split =
            TaskSplit::seeded(NAME, NUM_TASKS, row.train_tasks, row.test_tasks, SPLIT_SEED)?;
        Ok(BabyAiEnv {
            info: info(),
            split,
            session: None,
            task: TaskId(0),
            finished: false,
        })
    }

    /// Starts an episode on a given world (e.g. one restored from a recorded MiniGrid state)
    /// and returns the reset observation. `task` only labels errors.
    pub fn reset_world(&mut self, task: TaskId, world: World) -> String {
        let session = TextSession::new(world);
        let observation = session.reset_observation();
        self.session = Some(session);
        self.task = task;
        self.finished = false;
        observation
    }

    /// The running episode, if any.
    pub fn session(&self) -> Option<&TextSession> {
        self.session.as_ref()
    }
}

impl Env for BabyAiEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        NUM_TASKS
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        self.check_task(task)?;
        let world = task_world(task)?;
        Ok(self.reset_world(task, world))
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let session = running_episode(NAME, self.session.as_mut(), |_| {
            self.finished.then_some(self.task)
        })?;
        let action = match parse::react_single_line(reply) {
            Ok(action) => action,
            Err(error) => return Ok(Step::new(error.to_string(), 0.0, false).invalid()),
        };
        let out = session.step(&action);
        self.finished = out.done;
        let mut step = Step::new(out.observation, out.score, out.done)
            .with_action(action)
            .with_success(out.success)
            .with_detail("env_reward", format!("{:?}", out.reward))
            .with_detail("primitives", out.primitives.to_string());
        if out.invalid {
            step = step.invalid();
        }
        Ok(step)
    }
}
