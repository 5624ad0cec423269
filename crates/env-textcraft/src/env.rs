//! [`TextCraftEnv`]: the [`Env`] implementation (AgentGym's client parsing + server session).

use std::sync::Arc;

use crossgym_env_core::{
    Env, EnvError, EnvInfo, ParserFamily, Result, Step, TaskId, TaskSplit, paper, running_episode,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::NAME;
use crate::book::{NameId, RecipeBook};
use crate::commands::{self, CommandList};
use crate::game::{Crafting, Inventory, Outcome};

/// The reference's first user turn (AgentGym `TextCraftEnvClient.conversation_start`).
pub const INSTRUCTION: &str = "You are given few useful crafting recipes to craft items in Minecraft. Crafting commands are of the format \"craft [target object] using [input ingredients]\".\nEvery round I will give you an observation, you have to respond an action based on the state and instruction. You can \"get\" an object (ingredients) from the inventory or the environment, look-up the game inventory by \"inventory\", or \"craft\" (target) using any of the crafting commands.\nYour output must strictly follow this format:\"Thought:\nyour thoughts.\n\nAction:\nyour next action\"\n\nReminder: \n1. Always specify the quantity when using \"get\" and \"craft\" commands. - Example of get: get 1 lapis lazuli - Example1 of craft: craft 1 blue dye using 1 lapis lazuli - Example2 of craft: craft 1 golden carrot using 8 gold nugget, 1 carrot\n2. When using \"get\" command, do not specify whether the item comes from the inventory or the environment.\n3. You can use ONLY crafting commands provided, do not use your own crafting commands. However, if the crafting command uses a generic ingredient like \"planks\", you can use special types of the same ingredient e.g. \"dark oak planks\" in the command instead.\n\n";

/// The reference's assistant acknowledgement that follows [`INSTRUCTION`].
pub const ACKNOWLEDGEMENT: &str =
    "OK. I'll follow your instructions and try my best to solve the task.";

/// The default seed of the displayed command lists and of the train/test split.
pub const DEFAULT_SEED: u64 = 42;

/// The behaviour version of [`TextCraftEnv`] (see [`EnvInfo::version`]).
pub const VERSION: u32 = 0;

/// TextCraft: craft a Minecraft item from base items using the crafting commands shown.
///
/// Task `i` has goal [`RecipeBook::goals`]`[i]` (544 tasks). Replies are parsed with the
/// ReAct-single-line family; the action is then interpreted exactly as the reference's
/// `TextCraftEnv.step`. Reward 1 and done when the goal is crafted, else 0; the env sets no step
/// limit of its own (the trainer's turn cap applies).
#[derive(Clone, Debug)]
pub struct TextCraftEnv {
    book: Arc<RecipeBook>,
    info: EnvInfo,
    split: TaskSplit,
    seed: u64,
    session: Option<Session>,
}

#[derive(Clone, Debug)]
struct Session {
    task: TaskId,
    crafting: Crafting,
    commands: CommandList,
    done: bool,
}

impl TextCraftEnv {
    /// The env on the embedded recipe data, with [`DEFAULT_SEED`].
    pub fn new() -> Result<Self> {
        Self::with_book(RecipeBook::embedded()?, DEFAULT_SEED)
    }

    /// The env on any recipe book; `seed` picks the displayed distractors and their order, and
    /// the train/test split.
    pub fn with_book(book: Arc<RecipeBook>, seed: u64) -> Result<Self> {
        let num_tasks = book.goals().len();
        let (train, test) = (paper::TEXTCRAFT.train_tasks, paper::TEXTCRAFT.test_tasks);
        // The paper's 444/100 when there are enough goals; the same proportion for a smaller
        // custom recipe book.
        let (n_train, n_test) = if num_tasks >= train + test {
            (train, test)
        } else {
            let n_test = (num_tasks * test).div_ceil(train + test).min(num_tasks);
            (num_tasks - n_test, n_test)
        };
        let split = depth_stratified_split(&book, n_train, n_test, seed)?;
        Ok(Self {
            book,
            info: info(),
            split,
            seed,
            session: None,
        })
    }

    /// The recipe book.
    pub fn book(&self) -> &Arc<RecipeBook> {
        &self.book
    }

    /// The goal of `task`.
    pub fn goal(&self, task: TaskId) -> Result<NameId> {
        self.check_task(task)?;
        self.book
            .goal_for(task.0)
            .ok_or_else(|| EnvError::task(NAME, task, "the recipe book has no goals"))
    }

    /// The task id the reference's `data_idx` maps to (the reference wraps around: `data_idx %
    /// 544`).
    pub fn task_for_data_idx(&self, data_idx: usize) -> TaskId {
        TaskId(data_idx % self.num_tasks().max(1))
    }

    /// The commands `reset(task)` shows.
    pub fn commands(&self, task: TaskId) -> Result<CommandList> {
        let goal = self.goal(task)?;
        Ok(commands::command_list(
            &self.book,
            goal,
            self.seed,
            task.0 as u64,
        ))
    }

    /// The current session's inventory (`None` before the first reset).
    pub fn inventory(&self) -> Option<&Inventory> {
        self.session.as_ref().map(|s| s.crafting.inventory())
    }

    /// The current crafting session (`None` before the first reset). Its
    /// [`Crafting::act`] keeps answering after the goal is crafted, as the reference does.
    pub fn crafting(&self) -> Option<&Crafting> {
        self.session.as_ref().map(|s| &s.crafting)
    }

    /// The commands shown at the last reset.
    pub fn shown_commands(&self) -> Option<&CommandList> {
        self.session.as_ref().map(|s| &s.commands)
    }

    /// The step for an outcome; failed actions are marked invalid with their kind under the
    /// `outcome` detail.
    fn step_outcome(outcome: Outcome, action: String) -> Step {
        let kind = outcome.kind;
        // The goal crafted is the only step worth reward 1: the reference's success.
        let step = Step::new(outcome.observation, f64::from(outcome.reward), outcome.done)
            .with_action(action)
            .with_success(outcome.reward == 1);
        if kind.is_failure() {
            step.invalid().with_detail("outcome", kind.label())
        } else {
            step
        }
    }
}

impl Env for TextCraftEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        self.book.goals().len()
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        let goal = self.goal(task)?;
        let commands = commands::command_list(&self.book, goal, self.seed, task.0 as u64);
        let observation = commands::observation(&self.book, goal, &commands);
        match &mut self.session {
            Some(session) => {
                session.crafting.restart(goal);
                session.task = task;
                session.commands = commands;
                session.done = false;
            }
            None => {
                self.session = Some(Session {
                    task,
                    crafting: Crafting::new(Arc::clone(&self.book), goal),
                    commands,
                    done: false,
                });
            }
        }
        Ok(observation)
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let session = running_episode(NAME, self.session.as_mut(), |s| s.done.then_some(s.task))?;
        let action = match crate::reply::single_line_action(reply) {
            Ok(action) => action,
            Err(error) => {
                return Ok(Step::new(error.to_string(), 0.0, false)
                    .invalid()
                    .with_detail("outcome", "multiple_actions"));
            }
        };
        let outcome = session.crafting.act(&action);
        session.done = outcome.done;
        Ok(Self::step_outcome(outcome, action))
    }
}

/// TextCraft's [`EnvInfo`].
pub fn info() -> EnvInfo {
    paper::TEXTCRAFT.info(
        VERSION,
        INSTRUCTION,
        ACKNOWLEDGEMENT,
        ParserFamily::ReactSingleLine,
    )
}

/// A train/test split with every min-depth band represented in proportion: within each depth,
/// tasks are shuffled with a seeded ChaCha8 RNG; each band gives the test half its share
/// (largest remainders first), and the train half is drawn from the rest the same way.
pub fn depth_stratified_split(
    book: &RecipeBook,
    n_train: usize,
    n_test: usize,
    seed: u64,
) -> Result<TaskSplit> {
    let num_tasks = book.goals().len();
    let mut bands: Vec<Vec<TaskId>> = Vec::new();
    let mut last_depth = None;
    for (index, goal) in book.goals().iter().enumerate() {
        let depth = book.min_depth(*goal);
        if last_depth != Some(depth) {
            bands.push(Vec::new());
            last_depth = Some(depth);
        }
        if let Some(band) = bands.last_mut() {
            band.push(TaskId(index));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for band in &mut bands {
        band.shuffle(&mut rng);
    }
    let sizes: Vec<usize> = bands.iter().map(Vec::len).collect();
    let test_counts = apportion(&sizes, n_test);
    let rest: Vec<usize> = sizes.iter().zip(&test_counts).map(|(s, t)| s - t).collect();
    let train_counts = apportion(&rest, n_train);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for ((band, n_test), n_train) in bands.iter().zip(&test_counts).zip(&train_counts) {
        test.extend_from_slice(&band[..*n_test]);
        train.extend_from_slice(&band[*n_test..*n_test + *n_train]);
    }
    TaskSplit::new(NAME, num_tasks, train, test)
}

/// Splits `total` over bands in proportion to `sizes` (largest remainder, ties to the first
/// band), never giving a band more than it has.
fn apportion(sizes: &[usize], total: usize) -> Vec<usize> {
    let sum: usize = sizes.iter().sum();
    let total = total.min(sum);
    if sum == 0 {
        return vec![0; sizes.len()];
    }
    let mut counts: Vec<usize> = sizes.iter().map(|s| s * total / sum).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((sizes[i] * total) % sum));
    let mut left = total - counts.iter().sum::<usize>();
    for &i in order.iter().cycle().take(sizes.len() * 2) {
        if left == 0 {
            break;
        }
        if counts[i] < sizes[i] {
            counts[i] += 1;
            left -= 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_proportional_and_exact() {
        assert_eq!(
            apportion(&[125, 291, 117, 11], 100).iter().sum::<usize>(),
            100
        );
        assert_eq!(apportion(&[125, 291, 117, 11], 100), [23, 53, 22, 2]);
        assert_eq!(apportion(&[1, 1], 5), [1, 1]);
        assert_eq!(apportion(&[], 5), Vec::<usize>::new());
    }
}
