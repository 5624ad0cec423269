//! BabyAI for crossgym: a native MiniGrid/BabyAI gridworld with AgentGym's text interface.
//!
//! - [`world`]: MiniGrid dynamics (six primitives, doors, keys, boxes), the 7×7 egocentric
//!   view with occlusion, and the success reward `1 - 0.9 * steps / max_steps`.
//! - [`instr`]: the BabyAI mission grammar, its surface text and success verifiers.
//! - [`levels`]: the 40 levels of AgentGym's table, generated with our own seeded RNG.
//! - [`text`] and [`session`]: AgentGym's text rendering, high-level actions with BFS plans,
//!   error texts, rewards and the score, byte-exact with the reference (quirks included).
//! - [`state`]: a world restored from a recorded MiniGrid state (the conformance fixtures).
//! - [`oracle`]: an expert that solves tasks through the same text actions an agent uses.
//! - [`unsolvable`]: proofs that a task cannot be solved through the text actions (KeyInBox,
//!   and "open" instructions whose doors must all be crossed first).
//! - [`BabyAiEnv`]: the [`crossgym_env_core::Env`]: task N plays level `N % 40` with seed `N / 40`.
//!
//! # Example
//!
//! ```
//! use crossgym_env_babyai::BabyAiEnv;
//! use crossgym_env_core::{Env, TaskId};
//!
//! let mut env = BabyAiEnv::new()?;
//! let first = env.reset(TaskId(1))?; // GoToRedBall, seed 0
//! assert!(first.starts_with("Your goal: go to the red ball\n"));
//! let step = env.step("Thought:\nLet me look around.\n\nAction:\nturn left")?;
//! assert!(step.observation.contains("\nAvailable actions: [\"turn left\", \"turn right\""));
//! let bad = env.step("Action: fly away")?;
//! assert!(bad.observation.starts_with("The action is not recognized. Please check valid actions."));
//! # Ok::<(), crossgym_env_core::EnvError>(())
//! ```

pub mod action;
mod env;
pub mod grid;
pub mod instr;
pub mod levels;
pub mod oracle;
pub mod session;
pub mod state;
pub mod text;
pub mod unsolvable;
pub mod world;

pub use env::{
    ACKNOWLEDGEMENT, BabyAiEnv, INSTRUCTION, NAME, NUM_TASKS, SPLIT_SEED, VERSION, info,
    task_level_seed, task_world,
};
