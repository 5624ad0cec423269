//! TextCraft: Minecraft crafting from a list of crafting commands, as AgentGym serves it.
//!
//! The agent sees the crafting commands of a goal's recipe tree (plus distractors) and must reach
//! the goal by `get N item` (base items, any amount), `craft N output using c1 input1, …` and
//! `inventory`. This crate reproduces AgentGym's TextCraft text interface byte for byte: the same
//! 613 recipes from the same 860 Minecraft 1.16 recipe files, the same 544 goals in the same
//! order, and the same observation for every action.
//!
//! - [`TextCraftEnv`]: the [`crossgym_env_core::Env`] (reply parsing, reset, step, the 444/100 split).
//! - [`RecipeBook`]: the reference's loader rules over the recipe files (embedded in the crate;
//!   [`RecipeBook::from_json_dir`] reads a directory of recipe JSON instead), goals by depth,
//!   recipe trees.
//! - [`Crafting`]: one session's inventory and the action interpreter, usable without an agent
//!   reply around it (it also keeps answering after the goal is crafted, as the reference does).
//! - [`oracle::plan`]: the actions that craft any goal from scratch.
//!
//! The one key design choice: the **displayed command list is ours**. The reference picks and
//! orders distractor commands through CPython's per-process string hashing, so its reset text is
//! an accident of one hash seed; here the distractors and order come from a seeded ChaCha8 RNG
//! ([`commands`]), while the goal, its depth, the set of tree recipes and every step's text are
//! exactly the reference's. See the crate README for the quirks reproduced.
//!
//! # Example
//!
//! ```
//! use crossgym_env_textcraft::{TextCraftEnv, oracle};
//! use crossgym_env_core::{Env, TaskId};
//!
//! let mut env = TextCraftEnv::new()?;
//! let first = env.reset(TaskId(0))?;
//! assert!(first.ends_with("Goal: craft acacia planks."));
//!
//! let step = env.step("Thought: I need logs.\nAction: get 1 acacia logs")?;
//! assert_eq!(step.observation, "Got 1 acacia logs");
//! let step = env.step("Action: craft 4 acacia planks using 1 acacia logs")?;
//! assert_eq!(step.observation, "Crafted 4 minecraft:acacia_planks");
//! assert_eq!((step.reward, step.done), (1.0, true));
//!
//! // The oracle solves any goal from an empty inventory.
//! let goal = env.goal(TaskId(543))?;
//! let actions = oracle::plan(env.book(), goal)?;
//! env.reset(TaskId(543))?;
//! let last = actions.iter().map(|a| env.step(&oracle::reply(a))).last().unwrap()?;
//! assert!(last.done);
//! # Ok::<(), crossgym_env_core::EnvError>(())
//! ```

pub mod amount;
mod book;
pub mod commands;
mod env;
mod game;
pub mod oracle;
pub mod raw;
mod reply;

pub use amount::Amount;
pub use book::{Ingredient, NameId, Recipe, RecipeBook, RecipeId, SkipReason, display_name};
pub use env::{
    ACKNOWLEDGEMENT, DEFAULT_SEED, INSTRUCTION, TextCraftEnv, VERSION, depth_stratified_split, info,
};
pub use game::{ActionKind, Crafting, Inventory, Outcome};

/// The env's registry name.
pub const NAME: &str = crossgym_env_core::paper::TEXTCRAFT.name;
