//! ALFWorld for crossgym: the text household of alfworld 0.3.3 (TextWorld's PDDL engine) as
//! AgentGym's `agentenv-alfworld` serves it, as a native engine.
//!
//! - [`AlfWorldEnv`]: the [`crossgym_env_core::Env`]; ReAct-last replies, AgentGym's
//!   post-processing, the 50-step limit, reward 1 on the winning step.
//! - [`Game`]: a game loaded from a real `game.tw-pddl` file or generated; [`Engine`]: its
//!   state, admissible commands and feedback texts.
//! - [`Generator`]: the default task set, 2,620 procedurally generated ALFRED-like games split
//!   2,420 / 200 with the task-type mix of AgentGym's data; [`expert`] solves any of them.
//!
//! The engine reproduces the reference's quirks (see the crate README): `examine` works only on
//! the held object, `use` always answers `You turn on the X.`, receptacle objects always examine
//! as `This is a normal X. In it, you see nothing.`, `Next to it` lists depend on negated facts
//! left by earlier actions, lists use the article `a` everywhere, commands are matched exactly
//! after stripping, and the admissible list is sorted in code-point order.
//!
//! # Example
//!
//! ```
//! use crossgym_env_alfworld::{AlfWorldEnv, expert};
//! use crossgym_env_core::{Env, Split};
//!
//! let mut env = AlfWorldEnv::new()?;
//! let task = env.tasks(Split::Test)[0];
//! let first = env.reset(task)?;
//! assert!(first.contains("Your task is to: "));
//! assert!(first.contains("\nAVAILABLE ACTIONS: "));
//! let plan = expert::solve(&env.game(task)?).expect("generated games are solvable");
//! let mut last = None;
//! for command in &plan {
//!     last = Some(env.step(&format!("Thought: next.\nAction: {command}"))?);
//! }
//! assert_eq!(last.unwrap().reward, 1.0);
//! # Ok::<(), crossgym_env_core::EnvError>(())
//! ```

mod engine;
mod env;
pub mod expert;
mod game;
pub mod generate;
mod goal;
mod names;
pub mod sexpr;
mod text;
pub mod world;

pub use engine::{Action, Engine, NOTHING_HAPPENS};
pub use env::{ACKNOWLEDGEMENT, AlfWorldEnv, INSTRUCTION, MAX_STEPS, VERSION, info, process_ob};
pub use game::Game;
pub use generate::{Generator, TaskType};
pub use goal::{Formula, Term};
pub use names::demangle;
pub use text::{join_indefinite, join_list};

/// The env's registry name.
pub const NAME: &str = crossgym_env_core::paper::ALFWORLD.name;
