//! [`AlfWorldEnv`]: the [`Env`] AgentGym's `agentenv-alfworld` serves, on generated or loaded games.

use std::path::PathBuf;
use std::sync::Arc;

use crossgym_env_core::{
    Env, EnvInfo, ParserFamily, Result, Step, TaskId, TaskSplit, paper, parse, running_episode,
};

use crate::NAME;
use crate::engine::{Engine, NOTHING_HAPPENS};
use crate::game::Game;
use crate::generate::Generator;

/// TextWorld's `max_episode_steps` in AgentGym's config: every step call counts.
pub const MAX_STEPS: usize = 50;

/// AgentGym's first user turn for the ReAct action format (`conversation_start`).
pub const INSTRUCTION: &str = "Interact with a household to solve a task. Imagine you are an intelligent agent in a household environment and your target is to perform actions to complete the task goal. At the beginning of your interactions, you will be given the detailed description of the current environment and your goal to accomplish. For each of your turn, you will be given a list of actions which you can choose one to perform in this turn. You should choose from two actions: \"THOUGHT\" or \"ACTION\". If you choose \"THOUGHT\", you should first think about the current condition and plan for your future actions, and then output your action in this turn. Your output must strictly follow this format:\"Thought:\nyour thoughts.\n\nAction:\nyour next action\"; If you choose \"ACTION\", you should directly output the action in this turn. Your output must strictly follow this format:\"Action:\nyour next action\". After your each turn, the environment will give you immediate feedback based on which you plan your next few steps. if the envrionment output \"Nothing happened\", that means the previous action is invalid and you should try more options.\n Reminder: \n1. the action must be chosen from the given available actions. Any actions except provided available actions will be regarded as illegal. \n2. Think when necessary, try to act directly more in the process.";

/// The assistant turn that follows [`INSTRUCTION`] in AgentGym.
pub const ACKNOWLEDGEMENT: &str =
    "OK. I'll follow your instructions and try my best to solve the task.";

/// Behaviour version of this env (bump when texts, rewards or the task list change).
pub const VERSION: u32 = 0;

/// Where the tasks come from (shared read-only by every clone of the env).
#[derive(Clone, Debug)]
enum Tasks {
    /// The procedural task set (default).
    Generated(Arc<Generator>),
    /// Loaded game files, task `i` = `games[i]`.
    Games(Arc<[Arc<Game>]>),
}

/// ALFWorld as AgentGym serves it (alfworld 0.3.3, TextWorld PDDL engine), with its
/// post-processing: the banner is dropped from the first observation, which ends with
/// `\nAVAILABLE ACTIONS: ` and the sorted admissible commands joined by `,`; later observations
/// are the bare feedback with a leading `You arrive at loc N. ` removed.
///
/// Cheap to clone: the task set is shared; a clone carries the running episode.
#[derive(Clone, Debug)]
pub struct AlfWorldEnv {
    info: EnvInfo,
    split: TaskSplit,
    tasks: Tasks,
    episode: Option<Episode>,
}

#[derive(Clone, Debug)]
struct Episode {
    task: TaskId,
    engine: Engine,
    steps: usize,
    done: bool,
}

/// ALFWorld's [`EnvInfo`]: AgentGym's instruction and acknowledgement, the ReAct-last parser,
/// the paper's turn limits and Table-1 characteristics.
pub fn info() -> EnvInfo {
    paper::ALFWORLD.info(
        VERSION,
        INSTRUCTION,
        ACKNOWLEDGEMENT,
        ParserFamily::ReactLast,
    )
}

impl AlfWorldEnv {
    /// The default env: the procedural task set of [`Generator::standard`] (2,620 games, split
    /// 2,420 train / 200 test like the paper).
    pub fn new() -> Result<AlfWorldEnv> {
        AlfWorldEnv::generated(Generator::standard()?)
    }

    /// An env over a generator's task set.
    pub fn generated(generator: Generator) -> Result<AlfWorldEnv> {
        let split = generator.split()?;
        Ok(AlfWorldEnv {
            info: info(),
            split,
            tasks: Tasks::Generated(Arc::new(generator)),
            episode: None,
        })
    }

    /// An env over loaded games; `split` must index into `games`.
    pub fn from_games(games: Vec<Arc<Game>>, split: TaskSplit) -> AlfWorldEnv {
        AlfWorldEnv {
            info: info(),
            split,
            tasks: Tasks::Games(games.into()),
            episode: None,
        }
    }

    /// An env over `game.tw-pddl` files (e.g. ALFWorld's `json_2.1.1`), in the given order,
    /// with a seeded split of `n_test` test games.
    pub fn from_game_files(paths: &[PathBuf], n_test: usize, seed: u64) -> Result<AlfWorldEnv> {
        let games = paths
            .iter()
            .map(|p| Game::load(p).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let n = games.len();
        let split = TaskSplit::seeded(NAME, n, n.saturating_sub(n_test), n_test.min(n), seed)?;
        Ok(AlfWorldEnv::from_games(games, split))
    }

    /// The game of `task`.
    pub fn game(&self, task: TaskId) -> Result<Arc<Game>> {
        self.check_task(task)?;
        match &self.tasks {
            Tasks::Generated(generator) => generator.game(task).map(Arc::new),
            Tasks::Games(games) => Ok(games[task.0].clone()),
        }
    }

    /// The running episode's engine (state and admissible commands), if any.
    pub fn engine(&self) -> Option<&Engine> {
        self.episode.as_ref().map(|e| &e.engine)
    }

    /// The sorted admissible commands of the running episode (what AgentGym returns as
    /// `available_actions` after every step).
    pub fn admissible_commands(&self) -> Vec<String> {
        self.engine()
            .map(|e| e.admissible().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Starts `game` directly (outside the task list), returning the first observation.
    pub fn reset_game(&mut self, task: TaskId, game: Arc<Game>) -> String {
        let engine = Engine::new(game);
        let mut observation = engine.intro();
        observation.push_str("\nAVAILABLE ACTIONS: ");
        for (index, command) in engine.admissible().enumerate() {
            if index > 0 {
                observation.push(',');
            }
            observation.push_str(command);
        }
        self.episode = Some(Episode {
            task,
            engine,
            steps: 0,
            done: false,
        });
        observation
    }
}

/// AgentGym's `process_ob`: drop a leading `You arrive at loc N. `.
pub fn process_ob(raw: &str) -> &str {
    if raw.starts_with("You arrive at loc ") {
        match raw.find(". ") {
            Some(at) => &raw[at + 2..],
            // Python's `ob[-1 + 2:]`.
            None => raw.get(1..).unwrap_or(""),
        }
    } else {
        raw
    }
}

impl Env for AlfWorldEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        match &self.tasks {
            Tasks::Generated(generator) => generator.num_tasks(),
            Tasks::Games(games) => games.len(),
        }
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        let game = self.game(task)?;
        Ok(self.reset_game(task, game))
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let episode = running_episode(NAME, self.episode.as_mut(), |e| e.done.then_some(e.task))?;
        let action = parse::react_last_or_whole(reply);
        let feedback = episode.engine.execute(action);
        episode.steps += 1;
        let won = episode.engine.won();
        let done = won || episode.steps >= MAX_STEPS;
        episode.done = done;
        let observation = match &feedback {
            Some(raw) => process_ob(raw),
            None => NOTHING_HAPPENS,
        };
        let mut step = Step::new(observation, if won { 1.0 } else { 0.0 }, done)
            .with_action(action)
            .with_success(won);
        if feedback.is_none() {
            step = step.invalid();
        }
        if done && !won {
            step = step.truncated();
        }
        Ok(step)
    }
}
